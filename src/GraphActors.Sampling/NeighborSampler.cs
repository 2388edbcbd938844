// Batched neighbour sampling kernels over one CSR: no allocation in steady state, no per-node calls.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using GraphActors.Graph;

namespace GraphActors.Sampling;

/// <summary>
/// Samples the neighbours of a span of seed rows into a <see cref="SampleBuffer"/>. Rows are ragged: a kernel never
/// pads (with-replacement strategies give k per row unless the row is empty; the others give at most k); the GSL
/// layer pads to GraphLearn's fixed shapes. Edge weights are read by edge id (<see cref="Csr.EdgeIdAt"/>), so the
/// same code serves out- and in-CSRs. Every kernel is deterministic for a given <see cref="KernelRandom"/>: with
/// <see cref="KernelRandom.PerNode"/> a row's draws come from its node's own stream (seeded when the row first needs a
/// draw, so rows without a choice to make cost nothing), and a node's sample depends on nothing else of the call.
/// </summary>
public static class NeighborSampler
{
    // Up to this fanout, Floyd's chosen-set is a linear scan of at most k ints, which beats hashing.
    private const int LinearSetLimit = 64;

    /// <summary>
    /// Dispatches by strategy. <paramref name="weights"/> are per edge id; empty means every edge weighs 1.
    /// <paramref name="inDegrees"/> is the CSR of the other direction (its row degrees are the neighbours' in-degrees
    /// along <paramref name="csr"/>), or, where only part of the graph is at hand (a partition),
    /// <paramref name="neighborDegrees"/> holds the same degrees by neighbour id (<see cref="DegreeTables.NeighborDegrees"/>);
    /// only <see cref="SamplingStrategy.InDegree"/> reads them.
    /// </summary>
    public static void Sample(Csr csr, ReadOnlySpan<int> seeds, int k, SamplingStrategy strategy, ref KernelRandom random,
        SampleBuffer output, ReadOnlySpan<float> weights = default, Csr? inDegrees = null, ReadOnlySpan<int> neighborDegrees = default)
    {
        switch (strategy)
        {
            case SamplingStrategy.Random: SampleUniform(csr, seeds, k, ref random, output); break;
            case SamplingStrategy.RandomWithoutReplacement: SampleWithoutReplacement(csr, seeds, k, ref random, output); break;
            case SamplingStrategy.EdgeWeight:
                if (weights.IsEmpty) SampleUniform(csr, seeds, k, ref random, output);
                else SampleByWeight(csr, weights, seeds, k, ref random, output);
                break;
            case SamplingStrategy.TopK: SampleTopK(csr, weights, seeds, k, output); break;
            case SamplingStrategy.Full: SampleFull(csr, seeds, output); break;
            case SamplingStrategy.InDegree when inDegrees is not null:
                SampleByInDegree(csr, inDegrees, seeds, k, ref random, output);
                break;
            case SamplingStrategy.InDegree when !neighborDegrees.IsEmpty:
                CheckFanout(k);
                SampleProportional(csr, new NeighborDegrees(csr.Neighbors, neighborDegrees), seeds, k, ref random, output);
                break;
            case SamplingStrategy.InDegree:
                throw new ArgumentException(
                    "in_degree sampling needs the neighbours' in-degrees: the CSR of the other direction, or a degree table by neighbour id.", nameof(inDegrees));
            default: throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown strategy.");
        }
    }

    /// <summary>k uniform draws with replacement per seed; an empty row yields nothing.</summary>
    public static void SampleUniform(Csr csr, ReadOnlySpan<int> seeds, int k, ref KernelRandom random, SampleBuffer output)
    {
        CheckFanout(k);
        output.Begin(seeds.Length, (long)seeds.Length * k);
        ref var offsets = ref MemoryMarshal.GetReference(csr.Offsets);
        ref var neighbors = ref MemoryMarshal.GetReference(csr.Neighbors);
        var edgeIds = csr.EdgeIds;
        var hasEdgeIds = !edgeIds.IsEmpty;
        ref var eids = ref MemoryMarshal.GetReference(edgeIds);
        ref var outOffsets = ref MemoryMarshal.GetArrayDataReference(output.OffsetArray);
        ref var outNeighbors = ref MemoryMarshal.GetArrayDataReference(output.NeighborArray);
        ref var outEdges = ref MemoryMarshal.GetArrayDataReference(output.EdgeIdArray);
        var rows = (uint)csr.RowCount;
        var r = random.State;
        var perNode = random.IsPerNode;
        var nodeSeed = random.NodeSeed;
        var firstId = random.FirstId;
        var rowIds = random.Rows;
        var w = 0;
        for (var i = 0; i < seeds.Length; i++)
        {
            var row = seeds[i];
            if ((uint)row >= rows) ThrowRow(row, csr.RowCount);
            Prefetch(seeds, i, rows, ref offsets, ref neighbors, ref eids, hasEdgeIds);
            var start = Unsafe.Add(ref offsets, row);
            var degree = (int)(Unsafe.Add(ref offsets, row + 1) - start);
            if (degree > 0)
            {
                if (perNode) r = Xoshiro256.ForNode(nodeSeed, rowIds is null ? firstId + row : rowIds.IdOf(row));
                for (var j = 0; j < k; j++)
                {
                    var p = (int)start + r.NextInt(degree);
                    Unsafe.Add(ref outNeighbors, w) = Unsafe.Add(ref neighbors, p);
                    Unsafe.Add(ref outEdges, w) = hasEdgeIds ? Unsafe.Add(ref eids, p) : p;
                    w++;
                }
            }
            Unsafe.Add(ref outOffsets, i + 1) = w;
        }
        random.State = r;
    }

    /// <summary>
    /// k distinct neighbours per seed (DGL's <c>replace=False</c>): a row of degree ≤ k is returned whole, in row
    /// order; otherwise Floyd's algorithm picks a uniform k-subset with k draws, in the order drawn.
    /// </summary>
    public static void SampleWithoutReplacement(Csr csr, ReadOnlySpan<int> seeds, int k, ref KernelRandom random, SampleBuffer output)
    {
        CheckFanout(k);
        output.Begin(seeds.Length, (long)seeds.Length * k);
        var chosenArray = output.Ints(k <= LinearSetLimit ? k : HashSize(k));
        ref var chosen = ref MemoryMarshal.GetArrayDataReference(chosenArray);
        ref var offsets = ref MemoryMarshal.GetReference(csr.Offsets);
        ref var neighbors = ref MemoryMarshal.GetReference(csr.Neighbors);
        var edgeIds = csr.EdgeIds;
        var hasEdgeIds = !edgeIds.IsEmpty;
        ref var eids = ref MemoryMarshal.GetReference(edgeIds);
        ref var outOffsets = ref MemoryMarshal.GetArrayDataReference(output.OffsetArray);
        ref var outNeighbors = ref MemoryMarshal.GetArrayDataReference(output.NeighborArray);
        ref var outEdges = ref MemoryMarshal.GetArrayDataReference(output.EdgeIdArray);
        var rows = (uint)csr.RowCount;
        var r = random.State;
        var perNode = random.IsPerNode;
        var nodeSeed = random.NodeSeed;
        var firstId = random.FirstId;
        var rowIds = random.Rows;
        var w = 0;
        for (var i = 0; i < seeds.Length; i++)
        {
            var row = seeds[i];
            if ((uint)row >= rows) ThrowRow(row, csr.RowCount);
            Prefetch(seeds, i, rows, ref offsets, ref neighbors, ref eids, hasEdgeIds);
            var start = (int)Unsafe.Add(ref offsets, row);
            var degree = (int)(Unsafe.Add(ref offsets, row + 1) - start);
            if (degree <= k)
            {
                Unsafe.CopyBlockUnaligned(
                    ref Unsafe.As<int, byte>(ref Unsafe.Add(ref outNeighbors, w)),
                    ref Unsafe.As<int, byte>(ref Unsafe.Add(ref neighbors, start)), (uint)degree * sizeof(int));
                if (hasEdgeIds)
                    Unsafe.CopyBlockUnaligned(
                        ref Unsafe.As<int, byte>(ref Unsafe.Add(ref outEdges, w)),
                        ref Unsafe.As<int, byte>(ref Unsafe.Add(ref eids, start)), (uint)degree * sizeof(int));
                else
                    for (var j = 0; j < degree; j++) Unsafe.Add(ref outEdges, w + j) = start + j;
                w += degree;
            }
            else if (k <= LinearSetLimit)
            {
                if (perNode) r = Xoshiro256.ForNode(nodeSeed, rowIds is null ? firstId + row : rowIds.IdOf(row));
                // Floyd: for j = n-k .. n-1 draw t in [0, j]; take t unless already taken, else take j (never taken before).
                var taken = 0;
                for (var j = degree - k; j < degree; j++)
                {
                    var t = r.NextInt(j + 1);
                    for (var s = 0; s < taken; s++)
                    {
                        if (Unsafe.Add(ref chosen, s) == t) { t = j; break; }
                    }
                    Unsafe.Add(ref chosen, taken++) = t;
                    var p = start + t;
                    Unsafe.Add(ref outNeighbors, w) = Unsafe.Add(ref neighbors, p);
                    Unsafe.Add(ref outEdges, w) = hasEdgeIds ? Unsafe.Add(ref eids, p) : p;
                    w++;
                }
            }
            else
            {
                if (perNode) r = Xoshiro256.ForNode(nodeSeed, rowIds is null ? firstId + row : rowIds.IdOf(row));
                w = FloydHashed(ref r, chosenArray, start, degree, k, csr.Neighbors, edgeIds, output, w);
            }
            Unsafe.Add(ref outOffsets, i + 1) = w;
        }
        random.State = r;
    }

    /// <summary>k draws with replacement per seed, each neighbour with probability ∝ its edge weight (≤ 0 counts as 0); a row with no positive weight yields nothing.</summary>
    public static void SampleByWeight(Csr csr, ReadOnlySpan<float> weights, ReadOnlySpan<int> seeds, int k, ref KernelRandom random, SampleBuffer output)
    {
        CheckFanout(k);
        CheckWeights(csr, weights);
        SampleProportional(csr, new EdgeWeights(weights, csr.EdgeIds), seeds, k, ref random, output);
    }

    /// <summary>
    /// k draws with replacement per seed, each neighbour with probability ∝ its in-degree along <paramref name="csr"/>,
    /// read as its row degree in <paramref name="inDegrees"/> (the other direction's CSR). A neighbour's in-degree is at
    /// least 1 (this edge reaches it), so every non-empty row draws k.
    /// </summary>
    public static void SampleByInDegree(Csr csr, Csr inDegrees, ReadOnlySpan<int> seeds, int k, ref KernelRandom random, SampleBuffer output)
    {
        CheckFanout(k);
        if (inDegrees.EdgeCount != csr.EdgeCount)
            throw new ArgumentException($"The in-degree CSR holds {inDegrees.EdgeCount} edges, the walked one {csr.EdgeCount}; they must be the two directions of one edge type.", nameof(inDegrees));
        SampleProportional(csr, new NeighborInDegrees(csr.Neighbors, inDegrees.Offsets), seeds, k, ref random, output);
    }

    /// <summary>The weight of the edge at a CSR position, as a proportional draw reads it.</summary>
    private interface IPositionWeights
    {
        double At(int position);
    }

    /// <summary>The edge's own weight (by edge id), ≤ 0 counting as 0.</summary>
    private readonly ref struct EdgeWeights(ReadOnlySpan<float> weights, ReadOnlySpan<int> edgeIds) : IPositionWeights
    {
        private readonly ReadOnlySpan<float> _weights = weights;
        private readonly ReadOnlySpan<int> _edgeIds = edgeIds;

        public double At(int position)
        {
            var wt = _weights[_edgeIds.IsEmpty ? position : _edgeIds[position]];
            return wt > 0 ? wt : 0;
        }
    }

    /// <summary>The in-degree of the edge's neighbour: its row degree in the other direction's CSR.</summary>
    private readonly ref struct NeighborInDegrees(ReadOnlySpan<int> neighbors, ReadOnlySpan<long> reverseOffsets) : IPositionWeights
    {
        private readonly ReadOnlySpan<int> _neighbors = neighbors;
        private readonly ReadOnlySpan<long> _offsets = reverseOffsets;

        public double At(int position)
        {
            var v = _neighbors[position];
            return _offsets[v + 1] - _offsets[v];
        }
    }

    /// <summary>The in-degree of the edge's neighbour, read from a table by neighbour id (the whole graph's, at a partition).</summary>
    private readonly ref struct NeighborDegrees(ReadOnlySpan<int> neighbors, ReadOnlySpan<int> degrees) : IPositionWeights
    {
        private readonly ReadOnlySpan<int> _neighbors = neighbors;
        private readonly ReadOnlySpan<int> _degrees = degrees;

        public double At(int position) => _degrees[_neighbors[position]];
    }

    /// <summary>
    /// k draws with replacement per seed, each neighbour with probability ∝ <paramref name="weights"/> at its position:
    /// prefix sums of the row in the reused scratch (no allocation per row), then a binary search per draw. A row whose
    /// weights sum to 0 yields nothing. Generic over a struct so that the weight read inlines in the inner loop.
    /// </summary>
    private static void SampleProportional<TWeights>(Csr csr, TWeights weights, ReadOnlySpan<int> seeds, int k, ref KernelRandom random, SampleBuffer output)
        where TWeights : IPositionWeights, allows ref struct
    {
        output.Begin(seeds.Length, (long)seeds.Length * k);
        var offsets = csr.Offsets;
        var neighbors = csr.Neighbors;
        var edgeIds = csr.EdgeIds;
        var hasEdgeIds = !edgeIds.IsEmpty;
        var outOffsets = output.OffsetArray;
        var outNeighbors = output.NeighborArray;
        var outEdges = output.EdgeIdArray;
        var r = random.State;
        var perNode = random.IsPerNode;
        var nodeSeed = random.NodeSeed;
        var firstId = random.FirstId;
        var rowIds = random.Rows;
        var w = 0;
        for (var i = 0; i < seeds.Length; i++)
        {
            var row = seeds[i];
            if ((uint)row >= (uint)csr.RowCount) ThrowRow(row, csr.RowCount);
            var start = (int)offsets[row];
            var degree = (int)(offsets[row + 1] - start);
            // Prefix sums in double keep the sum exact enough for rows of millions of float weights.
            var prefix = output.Doubles(degree);
            double total = 0;
            for (var j = 0; j < degree; j++)
            {
                total += weights.At(start + j);
                prefix[j] = total;
            }
            if (total > 0)
            {
                if (perNode) r = Xoshiro256.ForNode(nodeSeed, rowIds is null ? firstId + row : rowIds.IdOf(row));
                for (var s = 0; s < k; s++)
                {
                    var u = r.NextDouble() * total;
                    // First position whose prefix exceeds u: a zero-weight entry never has a larger prefix than its predecessor.
                    int lo = 0, hi = degree - 1;
                    while (lo < hi)
                    {
                        var mid = (lo + hi) >>> 1;
                        if (prefix[mid] > u) hi = mid; else lo = mid + 1;
                    }
                    var p = start + lo;
                    outNeighbors[w] = neighbors[p];
                    outEdges[w] = hasEdgeIds ? edgeIds[p] : p;
                    w++;
                }
            }
            outOffsets[i + 1] = w;
        }
        random.State = r;
    }

    /// <summary>
    /// The k heaviest edges per seed, heaviest first; equal weights keep row order (lower position first).
    /// Without weights every edge weighs 1, so this is the first k neighbours of the row.
    /// </summary>
    public static void SampleTopK(Csr csr, ReadOnlySpan<float> weights, ReadOnlySpan<int> seeds, int k, SampleBuffer output)
    {
        CheckFanout(k);
        if (!weights.IsEmpty) CheckWeights(csr, weights);
        output.Begin(seeds.Length, (long)seeds.Length * k);
        var offsets = csr.Offsets;
        var neighbors = csr.Neighbors;
        var edgeIds = csr.EdgeIds;
        var hasEdgeIds = !edgeIds.IsEmpty;
        var outOffsets = output.OffsetArray;
        var outNeighbors = output.NeighborArray;
        var outEdges = output.EdgeIdArray;
        var topPositions = output.Ints(k);
        var topWeights = output.Floats(k);
        var w = 0;
        for (var i = 0; i < seeds.Length; i++)
        {
            var row = seeds[i];
            if ((uint)row >= (uint)csr.RowCount) ThrowRow(row, csr.RowCount);
            var start = (int)offsets[row];
            var degree = (int)(offsets[row + 1] - start);
            var count = 0;
            for (var j = 0; j < degree; j++)
            {
                var p = start + j;
                var e = hasEdgeIds ? edgeIds[p] : p;
                var wt = weights.IsEmpty ? 1f : weights[e];
                // Positions arrive in increasing order, so a tie never displaces an earlier entry: strict > keeps row order.
                if (count == k && !(wt > topWeights[k - 1])) continue;
                var at = count < k ? count++ : k - 1;
                while (at > 0 && wt > topWeights[at - 1])
                {
                    topWeights[at] = topWeights[at - 1];
                    topPositions[at] = topPositions[at - 1];
                    at--;
                }
                topWeights[at] = wt;
                topPositions[at] = p;
            }
            for (var j = 0; j < count; j++)
            {
                var p = topPositions[j];
                outNeighbors[w] = neighbors[p];
                outEdges[w] = hasEdgeIds ? edgeIds[p] : p;
                w++;
            }
            outOffsets[i + 1] = w;
        }
    }

    /// <summary>Every neighbour of every seed, in row order.</summary>
    public static void SampleFull(Csr csr, ReadOnlySpan<int> seeds, SampleBuffer output)
    {
        var offsets = csr.Offsets;
        long total = 0;
        foreach (var row in seeds)
        {
            if ((uint)row >= (uint)csr.RowCount) ThrowRow(row, csr.RowCount);
            total += offsets[row + 1] - offsets[row];
        }
        output.Begin(seeds.Length, total);
        var neighbors = csr.Neighbors;
        var edgeIds = csr.EdgeIds;
        var w = 0;
        for (var i = 0; i < seeds.Length; i++)
        {
            var start = (int)offsets[seeds[i]];
            var degree = (int)(offsets[seeds[i] + 1] - start);
            neighbors.Slice(start, degree).CopyTo(output.NeighborArray.AsSpan(w));
            var dst = output.EdgeIdArray.AsSpan(w, degree);
            if (edgeIds.IsEmpty) for (var j = 0; j < degree; j++) dst[j] = start + j;
            else edgeIds.Slice(start, degree).CopyTo(dst);
            w += degree;
            output.OffsetArray[i + 1] = w;
        }
    }

    // Floyd's algorithm with an open-addressing set of row positions for large k; the table is cleared per row
    // (O(k), the size of the row's output anyway). Slots hold position + 1 so that 0 means empty.
    private static int FloydHashed(ref Xoshiro256 r, int[] table, int start, int degree, int k,
        ReadOnlySpan<int> neighbors, ReadOnlySpan<int> edgeIds, SampleBuffer output, int w)
    {
        var size = HashSize(k);
        var mask = size - 1;
        var set = table.AsSpan(0, size);
        set.Clear();
        for (var j = degree - k; j < degree; j++)
        {
            var t = r.NextInt(j + 1);
            if (!Insert(set, mask, t)) { t = j; Insert(set, mask, t); }
            var p = start + t;
            output.NeighborArray[w] = neighbors[p];
            output.EdgeIdArray[w] = edgeIds.IsEmpty ? p : edgeIds[p];
            w++;
        }
        return w;

        static bool Insert(Span<int> set, int mask, int value)
        {
            var slot = (int)((uint)(value * -1640531535) >> 8) & mask; // Fibonacci hashing spreads nearby positions
            while (set[slot] != 0)
            {
                if (set[slot] == value + 1) return false;
                slot = (slot + 1) & mask;
            }
            set[slot] = value + 1;
            return true;
        }
    }

    // Seeds are random rows of arrays far larger than the caches, so each seed costs misses on its offsets, its row
    // and its edge ids. Out-of-order execution alone overlaps only a seed or two; prefetching the offsets of the seed
    // 2D ahead and the row of the seed D ahead (whose offsets arrived meanwhile) keeps several misses in flight.
    private const int PrefetchDistance = 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ReadOnlySpan<int> seeds, int i, uint rows, ref long offsets, ref int neighbors, ref int eids, bool hasEdgeIds)
    {
        if (!Sse.IsSupported) return;
        if (i + 2 * PrefetchDistance < seeds.Length)
        {
            var far = seeds[i + 2 * PrefetchDistance];
            if ((uint)far < rows) Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref offsets, far)));
        }
        if (i + PrefetchDistance < seeds.Length)
        {
            var next = seeds[i + PrefetchDistance];
            if ((uint)next >= rows) return;
            var start = (nint)Unsafe.Add(ref offsets, next);
            // A prefetch never faults, and a stale address after a GC move costs only a wasted hint.
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref neighbors, start)));
            Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref neighbors, start + 16)));
            if (hasEdgeIds)
            {
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref eids, start)));
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref eids, start + 16)));
            }
        }
    }

    private static int HashSize(int k)
    {
        var size = 16;
        while (size < 2 * k) size <<= 1;
        return size;
    }

    private static void CheckFanout(int k)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "The fanout must be positive; use the full strategy for all neighbours.");
    }

    private static void CheckWeights(Csr csr, ReadOnlySpan<float> weights)
    {
        if (weights.Length != csr.EdgeCount)
            throw new ArgumentException($"Expected one weight per edge ({csr.EdgeCount}), got {weights.Length}.", nameof(weights));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowRow(int row, int rows) =>
        throw new ArgumentOutOfRangeException("seeds", row, $"Seed row {row} is outside 0..{rows - 1}.");
}
