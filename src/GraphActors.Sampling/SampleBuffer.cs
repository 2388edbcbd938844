// The reusable output of a batched sampling kernel: ragged rows of neighbours and edge ids, one row per seed.
namespace GraphActors.Sampling;

/// <summary>
/// Holds one kernel call's result as CSR-like arrays: <see cref="Offsets"/> (seeds + 1), <see cref="Neighbors"/>
/// (dense ids of the far end) and <see cref="EdgeIds"/> (where the edge's weight and attributes live). The arrays
/// only grow, so a buffer reused across batches stops allocating once it has seen the largest batch. A buffer's
/// contents are valid until the next kernel call that writes into it.
/// </summary>
public sealed class SampleBuffer
{
    internal int[] OffsetArray = [0];
    internal int[] NeighborArray = [];
    internal int[] EdgeIdArray = [];

    // Per-row scratch of the kernels that need it (chosen positions, prefix sums, top-k candidates).
    internal int[] ScratchInts = new int[64];
    internal double[] ScratchDoubles = new double[64];
    internal float[] ScratchFloats = new float[64];

    public int SeedCount { get; private set; }
    public int Count => OffsetArray[SeedCount];

    public ReadOnlySpan<int> Offsets => OffsetArray.AsSpan(0, SeedCount + 1);
    public ReadOnlySpan<int> Neighbors => NeighborArray.AsSpan(0, Count);
    public ReadOnlySpan<int> EdgeIds => EdgeIdArray.AsSpan(0, Count);

    public int CountOf(int seed) => OffsetArray[seed + 1] - OffsetArray[seed];
    public ReadOnlySpan<int> NeighborsOf(int seed) => NeighborArray.AsSpan(OffsetArray[seed], CountOf(seed));
    public ReadOnlySpan<int> EdgeIdsOf(int seed) => EdgeIdArray.AsSpan(OffsetArray[seed], CountOf(seed));

    /// <summary>Prepares for <paramref name="seeds"/> rows and at most <paramref name="capacity"/> entries; old contents are dropped.</summary>
    internal void Begin(int seeds, long capacity)
    {
        if (capacity > Array.MaxLength)
            throw new InvalidOperationException(
                $"A batch of {seeds} seeds may yield {capacity} samples, more than one buffer holds; use smaller batches.");
        if (OffsetArray.Length < seeds + 1) OffsetArray = new int[Grown(OffsetArray.Length, seeds + 1)];
        if (NeighborArray.Length < capacity)
        {
            var size = Grown(NeighborArray.Length, (int)capacity);
            NeighborArray = new int[size];
            EdgeIdArray = new int[size];
        }
        SeedCount = seeds;
        OffsetArray[0] = 0;
    }

    internal int[] Ints(int size) => ScratchInts.Length >= size ? ScratchInts : ScratchInts = new int[Grown(ScratchInts.Length, size)];
    internal double[] Doubles(int size) => ScratchDoubles.Length >= size ? ScratchDoubles : ScratchDoubles = new double[Grown(ScratchDoubles.Length, size)];
    internal float[] Floats(int size) => ScratchFloats.Length >= size ? ScratchFloats : ScratchFloats = new float[Grown(ScratchFloats.Length, size)];

    // Contents are never kept across a resize, so growth is a fresh array with headroom, not a copy.
    private static int Grown(int current, int needed) =>
        (int)Math.Min(Array.MaxLength, Math.Max(needed, current + (long)(current >> 1)));
}
