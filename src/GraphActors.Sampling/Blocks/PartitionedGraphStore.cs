// IGraphStore over every partition of a partition store loaded in this process (local mode).
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;

namespace GraphActors.Sampling;

/// <summary>
/// Serves all partitions of a store from one process, the way the cluster serves them from many: each call groups its
/// ids by owner (<see cref="OwnerGrouping"/>), makes one kernel call per partition on that partition's own CSR with
/// local rows, and scatters the answers back into the caller's order. Every partition draws with the call's seed and
/// each row from its node's own stream (<see cref="KernelRandom.PerNode"/> keyed by the global id), so a node's sample
/// depends on the seed, its id and its CSR row only: the same over 1 or N partitions of a store, in a call of any
/// other seeds, and the same as the cluster's PartitionServer draws.
/// Negatives are drawn centrally (they need only node counts, or the in-degree table built once from every
/// partition), per source from the stream of (seed, source id, its occurrence in the call), as a PartitionServer draws
/// them; the true-neighbour check reads the source owner's out-CSR.
/// </summary>
public sealed class PartitionedGraphStore : IGraphStore, IDisposable
{
    private readonly PartitionBook _book;
    private readonly LoadedPartition[] _parts;
    private readonly bool _ownsPartitions;
    private readonly DegreeTables _degrees;
    private Scratch? _spare;

    private sealed class Scratch
    {
        public readonly OwnerGrouping Grouping = new();
        public SampleBuffer[] Buffers = [];
        public float[] Weights = [];
    }

    public PartitionedGraphStore(PartitionStore store, PartitionLoadMode mode = PartitionLoadMode.Map)
        : this(store.Book, Enumerable.Range(0, store.Parts).Select(p => store.LoadPartition(p, mode)).ToArray(), ownsPartitions: true) { }

    public PartitionedGraphStore(PartitionBook book, IReadOnlyList<LoadedPartition> partitions, bool ownsPartitions = false)
    {
        if (partitions.Count != book.Parts) throw new ArgumentException($"The book has {book.Parts} partitions; got {partitions.Count}.", nameof(partitions));
        _book = book;
        _parts = partitions.OrderBy(p => p.Id.Value).ToArray();
        _degrees = new DegreeTables(() => _parts, owned: false);
        for (var p = 0; p < _parts.Length; p++)
            if (_parts[p].Id.Value != p) throw new ArgumentException($"Partition {p} is missing.", nameof(partitions));
        _ownsPartitions = ownsPartitions;
        Schema = SchemaOf(_parts[0].Manifest);
    }

    /// <summary>The schema a store's manifest (partitions.json) describes; the cluster's remote store uses it too.</summary>
    public static GraphStoreSchema SchemaOf(StoreManifest manifest)
    {
        var relations = manifest.EdgeTypes.ToDictionary(e => e.Relation, e => e.Type);
        return new GraphStoreSchema(
            manifest.NodeTypes.Select(n => new StoreNodeType(n.Name, n.Count, n.FeatureDim, n.LabelCount)
            {
                Columns = n.Columns ?? NodeColumns.None,
                MasksFromSource = n.MasksFromSource,
            }).ToArray(),
            manifest.EdgeTypes.Select(e => new StoreEdgeType(e.Type, e.Count,
                // An undirected same-type type (as its GraphLearn source declared it) holds both directions: it is its own reverse.
                ReverseOf(e.Relation, relations) ?? (e.Columns?.Directed == false && e.Type.Src == e.Type.Dst ? e.Type : null)) { Columns = e.Columns ?? EdgeColumns.None })
                .ToArray());
    }

    // Between two node types, the _reverse naming convention reveals a reverse type (whatever wrote the store).
    private static CanonicalEdgeType? ReverseOf(string relation, Dictionary<string, CanonicalEdgeType> relations)
    {
        if (relations.TryGetValue(relation + CanonicalEdgeType.ReverseSuffix, out var r)) return r;
        if (relation.EndsWith(CanonicalEdgeType.ReverseSuffix, StringComparison.Ordinal)
            && relations.TryGetValue(relation[..^CanonicalEdgeType.ReverseSuffix.Length], out var f)) return f;
        return null;
    }

    public GraphStoreSchema Schema { get; }
    public PartitionBook Book => _book;
    public IReadOnlyList<LoadedPartition> Partitions => _parts;

    public ValueTask<NeighborSample> SampleNeighborsAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, bool withWeights = false, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Sample(type, incoming, seeds.Span, fanout, strategy, rngSeed, withWeights, ColumnSet.None));

    public ValueTask<NeighborSample> SampleNeighborEdgesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, ColumnSet columns, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Sample(type, incoming, seeds.Span, fanout, strategy, rngSeed, withWeights: true, columns & ~ColumnSet.Weights));

    private NeighborSample Sample(CanonicalEdgeType type, bool incoming, ReadOnlySpan<int> ids, int fanout, SamplingStrategy strategy, ulong rngSeed,
        bool withWeights, ColumnSet columns)
    {
        var edgeType = Schema.Edge(type);
        var present = columns == ColumnSet.None || edgeType.Columns == EdgeColumns.None ? ColumnSet.None : edgeType.Answered(columns);
        var scratch = Interlocked.Exchange(ref _spare, null) ?? new Scratch();
        try
        {
            var grouping = scratch.Grouping;
            grouping.Group(_book, incoming ? type.Dst : type.Src, ids);
            if (scratch.Buffers.Length < _parts.Length)
                scratch.Buffers = Enumerable.Range(0, _parts.Length).Select(_ => new SampleBuffer()).ToArray();
            var total = 0;
            for (var p = 0; p < _parts.Length; p++)
            {
                if (grouping.CountOf(p) == 0) continue;
                var edges = _parts[p].Edges(type);
                var random = KernelRandom.PerNode(rngSeed, _parts[p].Nodes(incoming ? type.Dst : type.Src).Rows);
                NeighborSampler.Sample(edges.Direction(incoming), grouping.LocalRows(p), fanout, strategy, ref random, scratch.Buffers[p], edges.Weights(incoming).Span,
                    neighborDegrees: strategy == SamplingStrategy.InDegree ? _degrees.NeighborDegrees(type, incoming) : default);
                total += scratch.Buffers[p].Count;
            }
            var result = NeighborSample.Rent(ids.Length, total, withWeights);
            var offsets = result.OffsetArray.AsSpan(0, ids.Length + 1);
            for (var p = 0; p < _parts.Length; p++)
                if (grouping.CountOf(p) > 0) grouping.CountRows(p, scratch.Buffers[p].Offsets, offsets);
            OwnerGrouping.ToOffsets(offsets);
            for (var p = 0; p < _parts.Length; p++)
            {
                if (grouping.CountOf(p) == 0) continue;
                var buffer = scratch.Buffers[p];
                grouping.ScatterRows(p, buffer.Offsets, buffer.Neighbors, offsets, result.NeighborArray.AsSpan(0, total));
                if (withWeights)
                {
                    // CSR edge ids in a partition are positions, and weights run parallel to them.
                    var weights = _parts[p].Edges(type).Weights(incoming).Span;
                    var eids = buffer.EdgeIds;
                    if (scratch.Weights.Length < eids.Length) scratch.Weights = new float[Math.Max(eids.Length, scratch.Weights.Length * 3 / 2)];
                    var partWeights = scratch.Weights.AsSpan(0, eids.Length);
                    for (var i = 0; i < eids.Length; i++) partWeights[i] = weights.IsEmpty ? 1f : weights[eids[i]];
                    grouping.ScatterRows<float>(p, buffer.Offsets, partWeights, offsets, result.WeightArray.AsSpan(0, total));
                }
            }
            if (present != ColumnSet.None)
            {
                // Sampled positions index the partition's CSR, and its column files run parallel to it.
                var builder = ElementColumnsBuilder.For(edgeType, total, present);
                for (var p = 0; p < _parts.Length; p++)
                {
                    if (grouping.CountOf(p) == 0) continue;
                    var buffer = scratch.Buffers[p];
                    var edges = _parts[p].Edges(type);
                    builder.Add(ElementColumnsBuilder.EntryPositions(grouping.BatchPositions(p), buffer.Offsets, offsets),
                        ColumnGather.Edges(edges.Columns(incoming), edges.Weights(incoming).Span, buffer.EdgeIds, present));
                }
                result.Edges = builder.Build();
            }
            return result;
        }
        finally
        {
            Interlocked.Exchange(ref _spare, scratch);
        }
    }

    public ValueTask GatherFeaturesAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<float> destination, CancellationToken cancellationToken = default)
    {
        var dim = Schema.Node(type).FeatureDim;
        if (destination.Length < (long)ids.Length * dim)
            throw new ArgumentException($"Destination holds {destination.Length} floats; {ids.Length} rows of {dim} need {(long)ids.Length * dim}.", nameof(destination));
        if (dim == 0) return ValueTask.CompletedTask;
        WithGrouping(type, ids.Span, grouping =>
        {
            var dst = destination.Span;
            for (var p = 0; p < _parts.Length; p++)
            {
                var slab = _parts[p].Nodes(type).Features;
                var rows = grouping.LocalRows(p);
                var positions = grouping.BatchPositions(p);
                for (var j = 0; j < rows.Length; j++) slab.Row(rows[j]).CopyTo(dst.Slice(positions[j] * dim, dim));
            }
        });
        return ValueTask.CompletedTask;
    }

    public ValueTask<ElementColumns> GatherNodeColumnsAsync(NodeType type, ReadOnlyMemory<int> ids, ColumnSet columns, CancellationToken cancellationToken = default)
    {
        var builder = ElementColumnsBuilder.For(Schema.Node(type), ids.Length, columns);
        WithGrouping(type, ids.Span, grouping =>
        {
            for (var p = 0; p < _parts.Length; p++)
                if (grouping.CountOf(p) > 0)
                    builder.Add(grouping.BatchPositions(p), ColumnGather.Nodes(_parts[p].Nodes(type), grouping.LocalRows(p), builder.Present));
        });
        return ValueTask.FromResult(builder.Build());
    }

    public ValueTask GatherLabelsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        WithGrouping(type, ids.Span, grouping =>
        {
            var dst = destination.Span;
            for (var p = 0; p < _parts.Length; p++)
            {
                var labels = _parts[p].Nodes(type).Labels.Span;
                var rows = grouping.LocalRows(p);
                var positions = grouping.BatchPositions(p);
                for (var j = 0; j < rows.Length; j++) dst[positions[j]] = labels.IsEmpty ? -1 : labels[rows[j]];
            }
        });
        return ValueTask.CompletedTask;
    }

    public ValueTask<int[]> GetSplitAsync(NodeType type, SplitKind split, CancellationToken cancellationToken = default)
    {
        var ids = new List<int>();
        foreach (var part in _parts)
        {
            var nodes = part.Nodes(type);
            var mask = (split switch { SplitKind.Train => nodes.TrainMask, SplitKind.Val => nodes.ValMask, _ => nodes.TestMask }).Span;
            for (var r = 0; r < mask.Length; r++) if (mask[r] != 0) ids.Add(nodes.IdOf(r));
        }
        var result = ids.ToArray();
        // Partitions of one range each list their ids in ascending order already; an updated store's do so per range.
        foreach (var part in _parts)
            if (!part.Nodes(type).Rows.Contiguous) { Array.Sort(result); break; }
        return ValueTask.FromResult(result);
    }

    public ValueTask GetDegreesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        WithGrouping(incoming ? type.Dst : type.Src, ids.Span, grouping =>
        {
            var dst = destination.Span;
            for (var p = 0; p < _parts.Length; p++)
            {
                var csr = _parts[p].Edges(type).Direction(incoming);
                var rows = grouping.LocalRows(p);
                var positions = grouping.BatchPositions(p);
                for (var j = 0; j < rows.Length; j++) dst[positions[j]] = csr.Degree(rows[j]);
            }
        });
        return ValueTask.CompletedTask;
    }

    public ValueTask<NegativeSampleStats> SampleNegativesAsync(CanonicalEdgeType type, ReadOnlyMemory<int> sources, int k, NegativeStrategy strategy,
        bool excludeNeighbors, ulong rngSeed, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "The number of negatives must be positive.");
        var src = sources.Span;
        var output = destination.Span;
        if (output.Length < (long)src.Length * k) throw new ArgumentException($"Destination holds {output.Length} ids; {src.Length} × {k} needed.", nameof(destination));
        var n = Schema.Node(type.Dst).Count;
        if (n == 0) throw new InvalidOperationException($"{type}: no candidate nodes to draw negatives from.");
        var table = strategy switch
        {
            NegativeStrategy.Random => null,
            NegativeStrategy.SmoothedInDegree => _degrees.Smoothed(type),
            NegativeStrategy.InDegree => _degrees.Raw(type),
            NegativeStrategy.RandomReached => _degrees.Reached(type),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown negative strategy."),
        };
        var seen = src.Length > 1 ? new Dictionary<int, int>(src.Length) : null;
        int redrawn = 0, unresolved = 0, w = 0;
        foreach (var s in src)
        {
            Csr? adjacency = null;
            var row = 0;
            if (excludeNeighbors && s >= 0)
            {
                var p = _book.For(type.Src).Locate(s, out row);
                adjacency = _parts[p].Edges(type).Out;
                if (adjacency.Degree(row) == 0) adjacency = null;
            }
            var rng = Xoshiro256.ForNode(rngSeed, s, NegativeSampler.Occurrence(seen, s));
            NegativeSampler.DrawRow(adjacency, row, n, table, ref rng, output.Slice(w, k), NegativeSampler.DefaultMaxRetries, ref redrawn, ref unresolved);
            w += k;
        }
        return ValueTask.FromResult(new NegativeSampleStats(src.Length * k, redrawn, unresolved));
    }

    public ValueTask<EdgeList> GetEdgesAsync(CanonicalEdgeType type, CancellationToken cancellationToken = default)
    {
        var total = _parts.Sum(p => (long)p.Edges(type).Out.EdgeCount);
        var src = new int[total];
        var dst = new int[total];
        var handles = new long[total];
        var w = 0;
        foreach (var part in _parts)
        {
            var csr = part.Edges(type).Out;
            var nodes = part.Nodes(type.Src);
            var offsets = csr.Offsets;
            for (var r = 0; r < csr.RowCount; r++) src.AsSpan(w + (int)offsets[r], (int)(offsets[r + 1] - offsets[r])).Fill(nodes.IdOf(r));
            csr.Neighbors.CopyTo(dst.AsSpan(w));
            for (var e = 0; e < csr.EdgeCount; e++) handles[w + e] = Handle(part.Id.Value, e);
            w += csr.EdgeCount;
        }
        return ValueTask.FromResult(new EdgeList(type, src, dst) { Handles = handles });
    }

    // An edge of a partitioned store is named by its partition and its position in that partition's out-CSR.
    private static long Handle(int partition, int position) => ((long)partition << 32) | (uint)position;

    /// <summary>The columns (weights included) of edges named by <see cref="EdgeList.Handles"/>, each read from its partition's out-CSR columns.</summary>
    public ValueTask<ElementColumns> GatherEdgeColumnsAsync(CanonicalEdgeType type, ReadOnlyMemory<long> handles, ColumnSet columns,
        CancellationToken cancellationToken = default)
    {
        var h = handles.Span;
        var builder = ElementColumnsBuilder.For(Schema.Edge(type), h.Length, columns);
        var counts = new int[_parts.Length];
        foreach (var x in h)
        {
            var p = (int)(x >> 32);
            if ((uint)p >= (uint)_parts.Length) throw new ArgumentOutOfRangeException(nameof(handles), x, $"Edge handle {x} names partition {p}; the store has {_parts.Length}.");
            counts[p]++;
        }
        for (var p = 0; p < _parts.Length; p++)
        {
            if (counts[p] == 0) continue;
            var positions = new int[counts[p]];
            var at = new int[counts[p]];
            for (int i = 0, j = 0; i < h.Length; i++)
                if ((int)(h[i] >> 32) == p)
                {
                    positions[j] = i;
                    at[j++] = (int)(uint)h[i];
                }
            var edges = _parts[p].Edges(type);
            builder.Add(positions, ColumnGather.Edges(edges.OutColumns, edges.OutWeights.Span, at, builder.Present));
        }
        return ValueTask.FromResult(builder.Build());
    }

    public ValueTask GetBusinessIdsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<long> destination, CancellationToken cancellationToken = default)
    {
        WithGrouping(type, ids.Span, grouping =>
        {
            var dst = destination.Span;
            for (var p = 0; p < _parts.Length; p++)
            {
                var business = _parts[p].Nodes(type).BusinessIds.Span;
                var rows = grouping.LocalRows(p);
                var positions = grouping.BatchPositions(p);
                for (var j = 0; j < rows.Length; j++) dst[positions[j]] = business[rows[j]];
            }
        });
        return ValueTask.CompletedTask;
    }

    public ValueTask LookupIdsAsync(NodeType type, ReadOnlyMemory<long> businessIds, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        // Business ids carry no owner (METIS places them anywhere), so every partition's sorted lookup is asked.
        var src = businessIds.Span;
        var dst = destination.Span;
        for (var i = 0; i < src.Length; i++)
        {
            dst[i] = -1;
            foreach (var part in _parts)
                if (part.Nodes(type).TryGetId(src[i], out var id)) { dst[i] = id; break; }
        }
        return ValueTask.CompletedTask;
    }

    private void WithGrouping(NodeType type, ReadOnlySpan<int> ids, Action<OwnerGrouping> body)
    {
        var scratch = Interlocked.Exchange(ref _spare, null) ?? new Scratch();
        try
        {
            scratch.Grouping.Group(_book, type, ids);
            body(scratch.Grouping);
        }
        finally
        {
            Interlocked.Exchange(ref _spare, scratch);
        }
    }

    public void Dispose()
    {
        if (!_ownsPartitions) return;
        foreach (var p in _parts) p.Dispose();
    }
}
