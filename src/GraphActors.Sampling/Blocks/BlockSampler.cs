// Multi-layer neighbour sampling into blocks: DGL's NeighborSampler + to_block over an IGraphStore.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GraphActors.Contracts;

namespace GraphActors.Sampling;

/// <summary>
/// Fanouts per layer, DGL's list: index 0 is the input layer, so the LAST entry applies to the seeds. A fanout of -1
/// takes every neighbour (the full strategy), 0 skips the edge type in that layer. <see cref="EdgeTypeFanouts"/>
/// overrides the list for the edge types it names.
/// </summary>
public sealed record BlockSamplerOptions(IReadOnlyList<int> Fanouts)
{
    /// <summary>
    /// Virtual reverse relations (directed citation or click edges leave nodes with no in-neighbours). Sampled from
    /// the stored type's out-CSR, so no data is duplicated. See <see cref="ReverseEdges"/>.
    /// </summary>
    public ReverseEdges ReverseEdges { get; init; } = ReverseEdges.None;
    public SamplingStrategy Strategy { get; init; } = SamplingStrategy.RandomWithoutReplacement;
    public IReadOnlyDictionary<CanonicalEdgeType, IReadOnlyList<int>>? EdgeTypeFanouts { get; init; }
    public bool WithWeights { get; init; }
    public bool GatherFeatures { get; init; } = true;
    /// <summary>
    /// When set, feature arrays are rented from this pool instead of allocated per batch (a Cora batch is ~15 MB, on the
    /// large-object heap, which only a gen-2 collection frees: RSS climbed to 1.7 GB without it). Rented arrays can be
    /// longer than rows × dim; the consumer hands them back with <see cref="MiniBatch.ReturnFeatures"/>.
    /// </summary>
    public System.Buffers.ArrayPool<float>? FeaturePool { get; init; }
    public bool GatherLabels { get; init; } = true;
    public int Layers => Fanouts.Count;
}

/// <summary>How the block sampler treats edge types whose reverse the store does not hold.</summary>
public enum ReverseEdges
{
    /// <summary>Only the stored edge types, as stored.</summary>
    None,
    /// <summary>For each stored (S, r, T) with no stored reverse, a virtual relation (T, r_reverse, S) read from r's out-CSR.</summary>
    AddReverse,
    /// <summary>
    /// As <see cref="AddReverse"/>, but a same-type relation (S, r, S) is merged with its reverse into one relation
    /// under r's name (DGL's <c>to_bidirected</c>): a node's neighbours are its in- and out-neighbours, deduplicated.
    /// </summary>
    Bidirected,
}

/// <summary>
/// Samples L layers of in-neighbours from seeds per node type and builds the blocks as it goes: per hop, for every
/// canonical edge type whose destination type has frontier nodes, one batched store call; then each sampled source is
/// relabelled to a local index through a per-node-type stamp array (a generation counter per hop, so nothing is
/// cleared and no dictionary is touched), destination nodes first, new sources appended in order of first sight.
/// Deterministic in the batch's rng seed for a given store, and per node: the neighbours a node gets at a hop along a
/// relation depend on (batch seed, hop, relation, node id) only (the store's contract, and the merge below keys its
/// cut by node too). So every seed's computation tree is the same whether the seed is sampled alone, in any order, or
/// with other seeds, over one partition or many: trainers that sample parts of one global batch with the batch's seed
/// compute, between them, exactly that batch. Holds per-type scratch sized by the node counts, so one instance serves
/// one thread (the prefetcher's background task, say); it is not thread-safe.
/// </summary>
public sealed class BlockSampler
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Slot { public int Gen; public int Local; }

    private readonly IGraphStore _store;
    private readonly GraphStoreSchema _schema;
    private readonly NodeType[] _nodeTypes;
    private readonly CanonicalEdgeType[] _edgeTypes; // the relations blocks carry: stored types, then virtual reverses
    private readonly CanonicalEdgeType[] _stored;    // the store's type each relation is read from
    private readonly Direction[] _direction;
    private readonly int[] _edgeSrc, _edgeDst; // node type index of each relation's endpoints
    private int[]?[] _dedup = [];              // per node type: stamp per node for merging in- and out-neighbours
    private int _dedupGen;

    private enum Direction { In, Out, Both }
    private readonly int[][] _fanouts;        // [layer][edge type]
    private readonly Slot[]?[] _slots;
    private readonly int[][] _srcLists;
    private readonly int[] _srcCounts;
    private int _gen;

    public BlockSampler(IGraphStore store, BlockSamplerOptions options)
    {
        if (options.Fanouts.Count == 0) throw new ArgumentException("Need at least one layer of fanouts.", nameof(options));
        _store = store;
        _schema = store.Schema;
        Options = options;
        _nodeTypes = _schema.NodeTypes.Select(n => n.Type).ToArray();
        var relations = new List<(CanonicalEdgeType Type, CanonicalEdgeType Stored, Direction Dir)>();
        var stored = _schema.EdgeTypes.Select(e => e.Type).ToHashSet();
        foreach (var info in _schema.EdgeTypes)
        {
            var t = info.Type;
            var hasReverse = info.Reverse is not null || stored.Contains(t.Reverse())
                || (t.Relation.EndsWith(CanonicalEdgeType.ReverseSuffix, StringComparison.Ordinal));
            var merge = options.ReverseEdges == ReverseEdges.Bidirected && t.Src == t.Dst && !hasReverse;
            relations.Add((t, t, merge ? Direction.Both : Direction.In));
        }
        if (options.ReverseEdges != ReverseEdges.None)
            foreach (var info in _schema.EdgeTypes)
            {
                var t = info.Type;
                if (relations.Any(r => r.Stored == t && r.Dir == Direction.Both)) continue;
                if (info.Reverse is not null || stored.Contains(t.Reverse()) || t.Relation.EndsWith(CanonicalEdgeType.ReverseSuffix, StringComparison.Ordinal)) continue;
                relations.Add((t.Reverse(), t, Direction.Out));
            }
        _edgeTypes = relations.Select(r => r.Type).ToArray();
        _stored = relations.Select(r => r.Stored).ToArray();
        _direction = relations.Select(r => r.Dir).ToArray();
        _edgeSrc = _edgeTypes.Select(e => _schema.IndexOf(e.Src)).ToArray();
        _edgeDst = _edgeTypes.Select(e => _schema.IndexOf(e.Dst)).ToArray();
        _fanouts = new int[options.Layers][];
        for (var l = 0; l < options.Layers; l++)
        {
            _fanouts[l] = new int[_edgeTypes.Length];
            for (var e = 0; e < _edgeTypes.Length; e++)
            {
                var f = options.EdgeTypeFanouts is not null && (options.EdgeTypeFanouts.TryGetValue(_edgeTypes[e], out var per)
                    || options.EdgeTypeFanouts.TryGetValue(_stored[e], out per)) ? per[l] : options.Fanouts[l];
                if (f < -1) throw new ArgumentOutOfRangeException(nameof(options), f, "A fanout is -1 (all), 0 (skip) or positive.");
                _fanouts[l][e] = f;
            }
        }
        _slots = new Slot[]?[_nodeTypes.Length];
        _srcLists = _nodeTypes.Select(_ => new int[16]).ToArray();
        _srcCounts = new int[_nodeTypes.Length];
    }

    public BlockSamplerOptions Options { get; }
    public IGraphStore Store => _store;

    /// <summary>The relations every block carries, in block order: the stored edge types, then the virtual reverses.</summary>
    public IReadOnlyList<CanonicalEdgeType> Relations => _edgeTypes;

    /// <summary>
    /// The relation that carries <paramref name="type"/>'s edges reversed in this sampler's blocks: the type itself
    /// when merged (<see cref="ReverseEdges.Bidirected"/>), its virtual reverse, or null when neither exists.
    /// Exclusion of a stored edge already covers its virtual twins (see <see cref="SampleAsync"/>).
    /// </summary>
    public CanonicalEdgeType? VirtualReverseOf(CanonicalEdgeType type)
    {
        for (var e = 0; e < _edgeTypes.Length; e++)
        {
            if (_stored[e] != type) continue;
            if (_direction[e] == Direction.Both) return type;
            if (_direction[e] == Direction.Out) return _edgeTypes[e];
        }
        return null;
    }

    /// <summary>
    /// Samples the blocks for <paramref name="seeds"/> (distinct ids per node type) with the batch's <paramref name="rngSeed"/>.
    /// An excluded stored edge (s, r, t) carries no message in either direction: neither s → t along r nor t → s along
    /// r's virtual reverse or merged relation. Exclusions named by a virtual relation's own type apply to it too.
    /// </summary>
    public async ValueTask<MiniBatch> SampleAsync(IReadOnlyDictionary<NodeType, int[]> seeds, ulong rngSeed,
        EdgeExclusion? exclude = null, CancellationToken cancellationToken = default)
    {
        var frontier = new int[_nodeTypes.Length][];
        for (var t = 0; t < _nodeTypes.Length; t++) frontier[t] = seeds.TryGetValue(_nodeTypes[t], out var s) ? s : [];
        foreach (var type in seeds.Keys) _schema.IndexOf(type); // unknown seed types fail here, not silently
        var layers = Options.Layers;
        var blocks = new Block[layers];
        for (var hop = 0; hop < layers; hop++)
        {
            var layer = layers - 1 - hop;
            BeginHop(frontier, validateUnique: hop == 0);
            var edges = new BlockEdges[_edgeTypes.Length];
            for (var e = 0; e < _edgeTypes.Length; e++)
            {
                var dst = frontier[_edgeDst[e]];
                var fanout = _fanouts[layer][e];
                if (dst.Length == 0 || fanout == 0) { edges[e] = new BlockEdges(_edgeTypes[e], [], [], Options.WithWeights ? [] : null); continue; }
                var strategy = fanout < 0 ? SamplingStrategy.Full : Options.Strategy;
                var streamSeed = StreamSeed(rngSeed, (ulong)hop, (ulong)e);
                if (_direction[e] == Direction.In)
                {
                    using var sample = await _store.SampleNeighborsAsync(_edgeTypes[e], incoming: true, dst, Math.Max(fanout, 1), strategy,
                        streamSeed, Options.WithWeights, cancellationToken).ConfigureAwait(false);
                    var sets = exclude?.SetsFor(_edgeTypes[e]) ?? [];
                    edges[e] = Relabel(e, dst, sample.Offsets, sample.Neighbors, sample.HasWeights ? sample.Weights : default, sets);
                }
                else
                {
                    using var inSample = _direction[e] == Direction.Both
                        ? await _store.SampleNeighborsAsync(_stored[e], incoming: true, dst, Math.Max(fanout, 1), strategy,
                            streamSeed, Options.WithWeights, cancellationToken).ConfigureAwait(false)
                        : null;
                    using var outSample = await _store.SampleNeighborsAsync(_stored[e], incoming: false, dst, Math.Max(fanout, 1), strategy,
                        StreamSeed(streamSeed, 1, 1), Options.WithWeights, cancellationToken).ConfigureAwait(false);
                    var (offsets, nbrs, weights) = Merge(e, dst, inSample, outSample, exclude, fanout, streamSeed);
                    edges[e] = Relabel(e, dst, offsets, nbrs, weights, []);
                }
            }
            var srcNodes = new int[_nodeTypes.Length][];
            var numDst = new int[_nodeTypes.Length];
            for (var t = 0; t < _nodeTypes.Length; t++)
            {
                srcNodes[t] = _srcLists[t].AsSpan(0, _srcCounts[t]).ToArray();
                numDst[t] = frontier[t].Length;
            }
            blocks[layer] = new Block(_nodeTypes, srcNodes, numDst, edges);
            frontier = srcNodes;
        }

        var features = new float[]?[_nodeTypes.Length];
        var dims = new int[_nodeTypes.Length];
        var labels = new int[]?[_nodeTypes.Length];
        for (var t = 0; t < _nodeTypes.Length; t++)
        {
            var info = _schema.NodeTypes[t];
            dims[t] = info.FeatureDim;
            var input = blocks[0].SrcNodes[t];
            if (Options.GatherFeatures && info.FeatureDim > 0 && input.Length > 0)
            {
                var n = input.Length * info.FeatureDim;
                var f = Options.FeaturePool?.Rent(n) ?? GC.AllocateUninitializedArray<float>(n);
                await _store.GatherFeaturesAsync(info.Type, input, f.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                features[t] = f;
            }
            var seedCount = blocks[^1].NumDst[t];
            if (Options.GatherLabels && info.LabelCount > 0 && seedCount > 0)
            {
                var l = new int[seedCount];
                await _store.GatherLabelsAsync(info.Type, blocks[^1].SrcNodes[t].AsMemory(0, seedCount), l, cancellationToken).ConfigureAwait(false);
                labels[t] = l;
            }
        }
        return new MiniBatch(blocks, features, dims, labels);
    }

    /// <summary>
    /// Distinct ids of <paramref name="ids"/> in order of first sight, and each id's index among them (the link
    /// sampler's seed dedup). Uses the same stamp arrays, so it must not run while <see cref="SampleAsync"/> does.
    /// </summary>
    public (int[] Unique, int[] Local) Unique(NodeType type, ReadOnlySpan<int> ids)
    {
        var slots = SlotsOf(_schema.IndexOf(type));
        var gen = NextGen();
        var unique = new List<int>(ids.Length);
        var local = new int[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            ref var s = ref slots[ids[i]];
            if (s.Gen != gen) { s.Gen = gen; s.Local = unique.Count; unique.Add(ids[i]); }
            local[i] = s.Local;
        }
        return (unique.ToArray(), local);
    }

    private void BeginHop(int[][] frontier, bool validateUnique)
    {
        var gen = NextGen();
        for (var t = 0; t < _nodeTypes.Length; t++)
        {
            var dst = frontier[t];
            _srcCounts[t] = 0;
            if (dst.Length == 0) continue;
            var slots = SlotsOf(t);
            EnsureSrc(t, dst.Length);
            _srcCounts[t] = dst.Length;
            dst.CopyTo(_srcLists[t], 0);
            var count = (uint)slots.Length;
            for (var i = 0; i < dst.Length; i++)
            {
                var id = dst[i];
                if ((uint)id >= count) throw new ArgumentOutOfRangeException(nameof(frontier), id, $"Node {id} of '{_nodeTypes[t]}' is outside 0..{count - 1}.");
                ref var s = ref slots[id];
                if (validateUnique && s.Gen == gen) throw new ArgumentException($"Seed {id} of '{_nodeTypes[t]}' appears twice; seeds must be distinct.");
                s.Gen = gen;
                s.Local = i;
            }
        }
    }

    // The hot loop: one stamp-array probe per sampled edge. Sampled ids come from the store's CSRs, which hold only
    // ids below the type's node count, so the probe skips the bounds check.
    private BlockEdges Relabel(int e, int[] dst, ReadOnlySpan<int> offsets, ReadOnlySpan<int> nbrs, ReadOnlySpan<float> sampleWeights, HashSet<long>[] exclude)
    {
        var s = _edgeSrc[e];
        var slots = SlotsOf(s);
        var gen = _gen;
        var total = offsets[dst.Length];
        EnsureSrc(s, _srcCounts[s] + total);
        var srcLocal = GC.AllocateUninitializedArray<int>(total);
        var dstLocal = GC.AllocateUninitializedArray<int>(total);
        var weights = Options.WithWeights ? GC.AllocateUninitializedArray<float>(total) : null;
        ref var slot0 = ref MemoryMarshal.GetArrayDataReference(slots);
        ref var list = ref MemoryMarshal.GetArrayDataReference(_srcLists[s]);
        var srcCount = _srcCounts[s];
        var slotCount = (uint)slots.Length;
        var w = 0;
        for (var i = 0; i < dst.Length; i++)
        {
            var end = offsets[i + 1];
            for (var j = offsets[i]; j < end; j++)
            {
                var n = nbrs[j];
                if ((uint)n >= slotCount) ThrowId(n, e);
                if (exclude.Length != 0 && Excluded(exclude, n, dst[i])) continue;
                if (j + 16 < nbrs.Length) Prefetch(ref slot0, nbrs[j + 16], slotCount);
                ref var slot = ref Unsafe.Add(ref slot0, n);
                if (slot.Gen != gen)
                {
                    slot.Gen = gen;
                    slot.Local = srcCount;
                    Unsafe.Add(ref list, srcCount) = n;
                    srcCount++;
                }
                srcLocal[w] = slot.Local;
                dstLocal[w] = i;
                if (weights is not null) weights[w] = sampleWeights.IsEmpty ? 1f : sampleWeights[j];
                w++;
            }
        }
        _srcCounts[s] = srcCount;
        if (w < total)
        {
            srcLocal = srcLocal.AsSpan(0, w).ToArray();
            dstLocal = dstLocal.AsSpan(0, w).ToArray();
            weights = weights?.AsSpan(0, w).ToArray();
        }
        return new BlockEdges(_edgeTypes[e], srcLocal, dstLocal, weights);
    }

    // Virtual reverse and merged relations: the out-neighbours of a destination d along stored type r are the sources
    // of messages into d (the stored edge is d → n). Exclusion is checked on the stored edge (d, n) and on the
    // relation's own name (n, d); merged rows drop duplicates (an edge stored both ways) and are cut back to the fanout
    // by a seeded partial shuffle, so a node's sample is uniform over its sampled in- and out-neighbours. The shuffle of
    // row d draws from d's own stream, so the cut, like the samples it cuts, does not depend on the other rows.
    private (int[] Offsets, int[] Neighbors, float[]? Weights) Merge(int e, int[] dst, NeighborSample? inSample, NeighborSample outSample,
        EdgeExclusion? exclude, int fanout, ulong seed)
    {
        var storedSets = exclude?.SetsFor(_stored[e]) ?? [];
        var ownSets = _edgeTypes[e] == _stored[e] ? [] : exclude?.SetsFor(_edgeTypes[e]) ?? [];
        var s = _edgeSrc[e];
        if (_dedup.Length != _nodeTypes.Length) _dedup = new int[]?[_nodeTypes.Length];
        var stamp = _dedup[s] ??= new int[_schema.NodeTypes[s].Count];
        var capacity = outSample.Count + (inSample?.Count ?? 0);
        var offsets = new int[dst.Length + 1];
        var nbrs = GC.AllocateUninitializedArray<int>(capacity);
        var weights = Options.WithWeights ? GC.AllocateUninitializedArray<float>(capacity) : null;
        var cutSeed = StreamSeed(seed, 2, 2);
        var merged = inSample is not null;
        var w = 0;
        for (var i = 0; i < dst.Length; i++)
        {
            if (_dedupGen == int.MaxValue) { foreach (var a in _dedup) if (a is not null) Array.Clear(a); _dedupGen = 0; }
            var gen = ++_dedupGen;
            var d = dst[i];
            var rowStart = w;
            if (inSample is not null)
            {
                var inW = inSample.Weights;
                for (var j = inSample.Offsets[i]; j < inSample.Offsets[i + 1]; j++)
                {
                    var n = inSample.Neighbors[j];
                    if (stamp[n] == gen) continue;
                    if (storedSets.Length != 0 && Excluded(storedSets, n, d)) continue;
                    stamp[n] = gen;
                    nbrs[w] = n;
                    if (weights is not null) weights[w] = inW.IsEmpty ? 1f : inW[j];
                    w++;
                }
            }
            var outW = outSample.Weights;
            for (var j = outSample.Offsets[i]; j < outSample.Offsets[i + 1]; j++)
            {
                var n = outSample.Neighbors[j];
                if (merged && stamp[n] == gen) continue; // a virtual reverse keeps parallel edges, as the in-CSR does
                if (storedSets.Length != 0 && Excluded(storedSets, d, n)) continue;
                if (ownSets.Length != 0 && Excluded(ownSets, n, d)) continue;
                stamp[n] = gen;
                nbrs[w] = n;
                if (weights is not null) weights[w] = outW.IsEmpty ? 1f : outW[j];
                w++;
            }
            var count = w - rowStart;
            if (inSample is not null && fanout > 0 && count > fanout)
            {
                var rng = Xoshiro256.ForNode(cutSeed, d);
                for (var k = 0; k < fanout; k++)
                {
                    var pick = rowStart + k + rng.NextInt(count - k);
                    (nbrs[rowStart + k], nbrs[pick]) = (nbrs[pick], nbrs[rowStart + k]);
                    if (weights is not null) (weights[rowStart + k], weights[pick]) = (weights[pick], weights[rowStart + k]);
                }
                w = rowStart + fanout;
            }
            offsets[i + 1] = w;
        }
        return (offsets, nbrs, weights);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(ref Slot slot0, int id, uint count)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported && (uint)id < count)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.Add(ref slot0, id)));
    }

    private static bool Excluded(HashSet<long>[] sets, int src, int dst)
    {
        var key = EdgeExclusion.Key(src, dst);
        foreach (var set in sets) if (set.Contains(key)) return true;
        return false;
    }

    private Slot[] SlotsOf(int t) => _slots[t] ??= new Slot[_schema.NodeTypes[t].Count];

    private void EnsureSrc(int t, int size)
    {
        if (_srcLists[t].Length >= size) return;
        var grown = new int[Math.Max(size, _srcLists[t].Length * 3 / 2)];
        _srcLists[t].AsSpan(0, _srcCounts[t]).CopyTo(grown);
        _srcLists[t] = grown;
    }

    private int NextGen()
    {
        if (_gen == int.MaxValue)
        {
            foreach (var s in _slots) if (s is not null) Array.Clear(s);
            _gen = 0;
        }
        return ++_gen;
    }

    /// <summary>The rng seed of one store call: independent per (batch seed, hop, edge type).</summary>
    public static ulong StreamSeed(ulong seed, ulong a, ulong b) =>
        SplitMix64.Mix(SplitMix64.Mix(SplitMix64.Mix(seed) ^ a) ^ (b + 0x632BE59BD9B4E019UL));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowId(int id, int e) =>
        throw new InvalidOperationException($"The store returned node {id} for {_edgeTypes[e]}, outside its source type's {_schema.NodeTypes[_edgeSrc[e]].Count} nodes.");
}
