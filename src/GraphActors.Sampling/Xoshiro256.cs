// The random source of every sampling kernel: small, fast, seedable and reproducible across runs and platforms.
using System.Numerics;
using System.Runtime.CompilerServices;

namespace GraphActors.Sampling;

/// <summary>
/// xoshiro256** (Blackman and Vigna) seeded through SplitMix64. A mutable struct on purpose: kernels copy it
/// into a local, draw from it in their loop (the JIT keeps the four words in registers) and write it back.
/// Bounded integers use Lemire's multiply-shift with rejection, so they are unbiased for every bound.
/// </summary>
public struct Xoshiro256
{
    private ulong _s0, _s1, _s2, _s3;

    public Xoshiro256(ulong seed)
    {
        var sm = seed;
        _s0 = SplitMix64.Next(ref sm);
        _s1 = SplitMix64.Next(ref sm);
        _s2 = SplitMix64.Next(ref sm);
        _s3 = SplitMix64.Next(ref sm);
        // SplitMix64 cannot give four zero words in a row, but the all-zero state is the one xoshiro never leaves.
        if ((_s0 | _s1 | _s2 | _s3) == 0) _s0 = 1;
    }

    /// <summary>
    /// An independent stream for (seed, a, b), e.g. (job seed, epoch, batch): a batch's draws then do not depend on
    /// which batches were drawn before it or in which order.
    /// </summary>
    public static Xoshiro256 ForStream(ulong seed, ulong a, ulong b = 0) =>
        new(SplitMix64.Mix(SplitMix64.Mix(SplitMix64.Mix(seed) ^ a) ^ (b + 0x632BE59BD9B4E019UL)));

    /// <summary>
    /// The stream of node <paramref name="id"/> under a call's <paramref name="seed"/>: what a node draws then depends
    /// on (seed, id) only, not on which nodes share the call, in which order, or which partition serves it. The id is
    /// spread by the golden-ratio multiplier and mixed before seeding, so neighbouring ids get unrelated streams.
    /// Costs about as much as five SplitMix64 steps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Xoshiro256 ForNode(ulong seed, int id) =>
        new(SplitMix64.Mix(seed ^ ((ulong)(uint)id * 0x9E3779B97F4A7C15UL)));

    /// <summary>
    /// The stream of the <paramref name="occurrence"/>-th appearance (0, 1, …) of node <paramref name="id"/> in a call,
    /// for calls that list a node more than once and want independent draws for each listing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Xoshiro256 ForNode(ulong seed, int id, int occurrence) =>
        ForNode(occurrence == 0 ? seed : SplitMix64.Mix(seed ^ ((ulong)(uint)occurrence * 0xD1B54A32D192ED03UL)), id);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var s1 = _s1;
        var result = BitOperations.RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        _s2 ^= _s0;
        _s3 ^= s1;
        _s1 = s1 ^ _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32() => (uint)(NextUInt64() >> 32);

    /// <summary>Uniform in [0, <paramref name="bound"/>); <paramref name="bound"/> must be positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextInt(int bound)
    {
        var m = (ulong)NextUInt32() * (uint)bound;
        var low = (uint)m;
        if (low < (uint)bound)
        {
            // Rejection happens with probability < bound / 2^32; the threshold's modulo is paid only then.
            var threshold = (uint)-bound % (uint)bound;
            while (low < threshold)
            {
                m = (ulong)NextUInt32() * (uint)bound;
                low = (uint)m;
            }
        }
        return (int)(m >> 32);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>); <paramref name="bound"/> must be positive.</summary>
    public long NextLong(long bound)
    {
        var hi = Math.BigMul(NextUInt64(), (ulong)bound, out var low);
        if (low < (ulong)bound)
        {
            var threshold = (0UL - (ulong)bound) % (ulong)bound;
            while (low < threshold) hi = Math.BigMul(NextUInt64(), (ulong)bound, out low);
        }
        return (long)hi;
    }

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
}

/// <summary>SplitMix64: the seeder for xoshiro and a good 64-bit mixer for deriving stream seeds.</summary>
public static class SplitMix64
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Next(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
