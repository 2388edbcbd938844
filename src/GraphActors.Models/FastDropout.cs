// Dropout whose mask is drawn in .NET: libtorch's CPU bernoulli_ draws one 64-bit number per element on one thread.
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// Inverted dropout (kept values scaled by 1 / (1 − p), as <c>nn.functional.dropout</c>). libtorch 2.10's CPU
/// <c>bernoulli_(p)</c> runs a serial kernel that draws a 64-bit random number per element: on Cora's 1,433-d input
/// rows it was a quarter of a training step. Here the mask comes from xoshiro256** in .NET, 32 bits per element,
/// seeded by one draw from torch's generator, so a run seeded with <c>manual_seed</c> gives the same masks every time,
/// whatever the machine's load or thread count.
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
        var rng = new Xoshiro(NextSeed());
        if (!x.requires_grad && x.is_contiguous())
        {
            var y = empty_like(x);
            if (n > 0) Fill(new ReadOnlySpan<float>(NativeTensors.Data(x), checked((int)n)), new Span<float>(NativeTensors.Data(y), (int)n), ref rng, threshold, scale);
            return y;
        }
        using var mask = empty(x.shape, ScalarType.Float32);
        if (n > 0) Mask(new Span<float>(NativeTensors.Data(mask), checked((int)n)), ref rng, threshold, scale);
        return x * mask;
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
