// Dropout whose mask is drawn in .NET: libtorch's CPU bernoulli_ draws one 64-bit number per element on one thread.
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// Inverted dropout (kept values scaled by 1 / (1 − p), as <c>nn.functional.dropout</c>). libtorch 2.10's CPU
/// <c>bernoulli_(p)</c> runs a serial kernel that draws a 64-bit random number per element: on Cora's 1,433-d input
/// rows it was a quarter of a training step. Here the mask comes from xoshiro256** in .NET, 32 bits per element, in
/// chunks of 64K elements drawn in parallel on torch's intra-op thread count; each chunk's generator is seeded from
/// one draw of torch's generator and the chunk's number, so a run seeded with <c>manual_seed</c> gives the same masks
/// every time, whatever the machine's load or thread count.
/// <para>A tensor that needs no gradient (input features) is dropped in one pass into a new tensor. One that needs a
/// gradient is multiplied by a mask tensor, so autograd carries the mask into the backward pass.</para>
/// </summary>
public static unsafe class FastDropout
{
    /// <summary>The dropped-out tensor, or <paramref name="x"/> itself when not training or <paramref name="p"/> is 0.</summary>
    public static Tensor Apply(Tensor x, double p, bool training)
    {
        if (!training || p <= 0) return x;
        if (p >= 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout must lie in [0, 1).");
        if (x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU)
            return nn.functional.dropout(x, p, training);
        var n = x.numel();
        var threshold = (uint)Math.Min(uint.MaxValue, Math.Round(p * 4294967296.0));
        var scale = (float)(1.0 / (1.0 - p));
        var seed = NextSeed();
        if (!x.requires_grad && x.is_contiguous())
        {
            var y = empty_like(x);
            if (n > 0) Chunked(n, seed, (nint)NativeTensors.Data(x), (nint)NativeTensors.Data(y), threshold, scale);
            return y;
        }
        using var mask = empty(NativeTensors.Shape(x), ScalarType.Float32);
        if (n > 0) Chunked(n, seed, 0, (nint)NativeTensors.Data(mask), threshold, scale);
        return x * mask;
    }

    // Fixed chunks, each with its own generator seeded from (seed, chunk number): the mask does not depend on how many
    // threads draw it. With no source the chunk is the mask itself (scale or 0).
    private const int Chunk = 1 << 16;

    private static void Chunked(long n, ulong seed, nint src, nint dst, uint threshold, float scale)
    {
        var chunks = (int)((n + Chunk - 1) / Chunk);
        void Run(int c)
        {
            var start = (long)c * Chunk;
            var len = (int)Math.Min(Chunk, n - start);
            var rng = new Xoshiro(seed ^ (0x9E3779B97F4A7C15UL * (ulong)(c + 1)));
            var output = new Span<float>((float*)dst + start, len);
            if (src == 0) Mask(output, ref rng, threshold, scale);
            else Fill(new ReadOnlySpan<float>((float*)src + start, len), output, ref rng, threshold, scale);
        }
        var threads = Math.Min(get_num_threads(), chunks);
        if (threads <= 1)
            for (var c = 0; c < chunks; c++) Run(c);
        else
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, Run);
    }

    private static void Fill(ReadOnlySpan<float> src, Span<float> dst, ref Xoshiro rng, uint threshold, float scale)
    {
        var i = 0;
        for (; i + 1 < src.Length; i += 2)
        {
            var r = rng.Next();
            dst[i] = (uint)r >= threshold ? src[i] * scale : 0f;
            dst[i + 1] = (uint)(r >> 32) >= threshold ? src[i + 1] * scale : 0f;
        }
        if (i < src.Length) dst[i] = (uint)rng.Next() >= threshold ? src[i] * scale : 0f;
    }

    private static void Mask(Span<float> mask, ref Xoshiro rng, uint threshold, float scale)
    {
        var i = 0;
        for (; i + 1 < mask.Length; i += 2)
        {
            var r = rng.Next();
            mask[i] = (uint)r >= threshold ? scale : 0f;
            mask[i + 1] = (uint)(r >> 32) >= threshold ? scale : 0f;
        }
        if (i < mask.Length) mask[i] = (uint)rng.Next() >= threshold ? scale : 0f;
    }

    // One draw from torch's default generator, so that manual_seed governs the masks as it governs torch's own ops.
    private static ulong NextSeed()
    {
        using var draw = randint(long.MaxValue, [1], dtype: ScalarType.Int64);
        return (ulong)draw.item<long>();
    }

    private struct Xoshiro
    {
        private ulong _s0, _s1, _s2, _s3;

        public Xoshiro(ulong seed)
        {
            // SplitMix64 spreads one seed over the four words (xoshiro's authors' recommendation).
            _s0 = SplitMix(ref seed);
            _s1 = SplitMix(ref seed);
            _s2 = SplitMix(ref seed);
            _s3 = SplitMix(ref seed);
        }

        private static ulong SplitMix(ref ulong x)
        {
            var z = x += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public ulong Next()
        {
            var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }
    }
}
