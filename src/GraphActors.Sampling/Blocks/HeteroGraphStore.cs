// IGraphStore over one in-memory HeteroGraph: every call is a direct kernel call, completed synchronously.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Sampling;

/// <summary>
/// Serves an in-memory <see cref="HeteroGraph"/> (ids are its dense ids). A HeteroGraph has no masks: pass them per
/// node type, or labelled types get the split the partitioner would give them (<see cref="MaskSplit"/> on the business
/// id), so a graph and its partition store agree on the split.
/// </summary>
public sealed class HeteroGraphStore : IGraphStore
{
    private readonly HeteroGraph _graph;
    private readonly Dictionary<NodeType, byte[]> _splits = new(); // SplitFlags per node
    private readonly Dictionary<(CanonicalEdgeType, bool), Csr> _plain = new();
    private SampleBuffer? _spare;

    public HeteroGraphStore(HeteroGraph graph, IReadOnlyDictionary<NodeType, (byte[] Train, byte[] Val, byte[] Test)>? masks = null,
        MaskSplit? defaultSplit = null)
    {
        _graph = graph;
        var split = defaultSplit ?? new MaskSplit();
        foreach (var n in graph.NodeTypes)
        {
            var flags = new byte[n.Count];
            if (masks is not null && masks.TryGetValue(n.Type, out var m))
            {
                for (var i = 0; i < flags.Length; i++)
                    flags[i] = (byte)((m.Train[i] != 0 ? SplitFlags.Train : 0) | (m.Val[i] != 0 ? SplitFlags.Val : 0) | (m.Test[i] != 0 ? SplitFlags.Test : 0));
            }
            else if (n.Schema.Labeled && n.Schema.LabelCount > 0)
            {
                var business = n.Ids.BusinessIds;
                for (var i = 0; i < flags.Length; i++) flags[i] = (byte)split.Of(business[i]);
            }
            _splits[n.Type] = flags;
        }
        // The graph holds every column, so the schema says so: GSL over this store returns what local mode returns.
        Schema = new GraphStoreSchema(
            graph.NodeTypes.Select(n => new StoreNodeType(n.Type, n.Count, n.Schema.FeatureDim, n.Schema.Labeled ? Math.Max(n.Schema.LabelCount, 0) : 0)
            {
                Columns = new NodeColumns(n.Schema.Weighted, n.Schema.Attributes.IntCount, n.Schema.Attributes.StringCount),
            }).ToArray(),
            graph.EdgeTypes.Select(e => new StoreEdgeType(e.Type, e.Count, ReverseOf(graph, e))
            {
                Columns = new EdgeColumns(true, e.Schema.Weighted, e.Schema.Labeled, e.Schema.Attributes.IntCount, e.Schema.Attributes.FloatCount,
                    e.Schema.Attributes.StringCount),
            }).ToArray());
    }

    public GraphStoreSchema Schema { get; }
    public HeteroGraph Graph => _graph;

    private static CanonicalEdgeType? ReverseOf(HeteroGraph graph, EdgeTypeData e)
    {
        if (e.Schema.ReverseOf is { } forward) return forward;
        if (!e.Schema.Directed && e.Type.Src == e.Type.Dst) return e.Type;
        return graph.TryGetEdges(e.Type.Relation + CanonicalEdgeType.ReverseSuffix, out var r) ? r.Type : null;
    }

    public ValueTask<NeighborSample> SampleNeighborsAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, bool withWeights = false, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Sample(type, incoming, seeds.Span, fanout, strategy, rngSeed, withWeights, ColumnSet.None));

    private NeighborSample Sample(CanonicalEdgeType type, bool incoming, ReadOnlySpan<int> seeds, int fanout, SamplingStrategy strategy, ulong rngSeed,
        bool withWeights, ColumnSet columns)
    {
        var edges = _graph.Edges(type);
        var weights = edges.Data.Weights.Span; // by edge id
        // Edge ids are needed only to read weights and columns; without them the kernel skips a random read per sampled row.
        var needsEdgeIds = withWeights || columns != ColumnSet.None || strategy is SamplingStrategy.EdgeWeight or SamplingStrategy.TopK;
        var csr = needsEdgeIds ? edges.Direction(incoming) : WithoutEdgeIds(edges, incoming);
        var buffer = Interlocked.Exchange(ref _spare, null) ?? new SampleBuffer();
        try
        {
            var random = KernelRandom.PerNode(rngSeed);
            NeighborSampler.Sample(csr, seeds, fanout, strategy, ref random, buffer, weights, edges.Direction(!incoming));
            var n = seeds.Length;
            var count = buffer.Count;
            var result = NeighborSample.Rent(n, count, withWeights);
            buffer.Offsets.CopyTo(result.OffsetArray);
            buffer.Neighbors.CopyTo(result.NeighborArray);
            if (withWeights)
            {
                var w = result.WeightArray!;
                if (weights.IsEmpty) Array.Fill(w, 1f, 0, count);
                else
                {
                    var eids = buffer.EdgeIds;
                    for (var i = 0; i < count; i++) w[i] = weights[eids[i]];
                }
            }
            if (columns != ColumnSet.None) result.Edges = ColumnGather.Elements(edges.Data, buffer.EdgeIds, columns);
            return result;
        }
        finally
        {
            Interlocked.Exchange(ref _spare, buffer);
        }
    }

    public ValueTask<NeighborSample> SampleNeighborEdgesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, ColumnSet columns, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Sample(type, incoming, seeds.Span, fanout, strategy, rngSeed, withWeights: true,
            Schema.Edge(type).Answered(columns & ~ColumnSet.Weights)));

    public ValueTask<ElementColumns> GatherNodeColumnsAsync(NodeType type, ReadOnlyMemory<int> ids, ColumnSet columns, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ColumnGather.Elements(_graph.Nodes(type).Data, ids.Span, Schema.Node(type).Answered(columns)));

    public ValueTask<ElementColumns> GatherEdgeColumnsAsync(CanonicalEdgeType type, ReadOnlyMemory<long> handles, ColumnSet columns,
        CancellationToken cancellationToken = default)
    {
        var h = handles.Span;
        var ids = new int[h.Length];
        for (var i = 0; i < ids.Length; i++) ids[i] = checked((int)h[i]);
        return ValueTask.FromResult(ColumnGather.Elements(_graph.Edges(type).Data, ids, Schema.Edge(type).Answered(columns)));
    }

    private Csr WithoutEdgeIds(EdgeTypeData edges, bool incoming)
    {
        var csr = edges.Direction(incoming);
        if (!csr.HasEdgeIds) return csr;
        lock (_plain)
        {
            if (!_plain.TryGetValue((edges.Type, incoming), out var plain))
                _plain[(edges.Type, incoming)] = plain = new Csr(csr.RowCount, csr.OffsetsMemory, csr.NeighborsMemory, ReadOnlyMemory<int>.Empty);
            return plain;
        }
    }

    public ValueTask GatherFeaturesAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<float> destination, CancellationToken cancellationToken = default)
    {
        _graph.Nodes(type).Features.Gather(ids.Span, destination.Span);
        return ValueTask.CompletedTask;
    }

    public ValueTask GatherLabelsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        var data = _graph.Nodes(type).Data;
        var src = ids.Span;
        var dst = destination.Span;
        for (var i = 0; i < src.Length; i++) dst[i] = data.Label(src[i]);
        return ValueTask.CompletedTask;
    }

    public ValueTask<int[]> GetSplitAsync(NodeType type, SplitKind split, CancellationToken cancellationToken = default)
    {
        if (!_splits.TryGetValue(type, out var flags)) throw new KeyNotFoundException($"No node type '{type}'.");
        var bit = (byte)FlagOf(split);
        var ids = new List<int>();
        for (var i = 0; i < flags.Length; i++) if ((flags[i] & bit) != 0) ids.Add(i);
        return ValueTask.FromResult(ids.ToArray());
    }

    internal static SplitFlags FlagOf(SplitKind split) => split switch
    {
        SplitKind.Train => SplitFlags.Train,
        SplitKind.Val => SplitFlags.Val,
        SplitKind.Test => SplitFlags.Test,
        _ => throw new ArgumentOutOfRangeException(nameof(split)),
    };

    public ValueTask GetDegreesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        var csr = _graph.Edges(type).Direction(incoming);
        var src = ids.Span;
        var dst = destination.Span;
        for (var i = 0; i < src.Length; i++) dst[i] = csr.Degree(src[i]);
        return ValueTask.CompletedTask;
    }

    public ValueTask<NegativeSampleStats> SampleNegativesAsync(CanonicalEdgeType type, ReadOnlyMemory<int> sources, int k, NegativeStrategy strategy,
        bool excludeNeighbors, ulong rngSeed, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        var random = KernelRandom.PerNode(rngSeed);
        return ValueTask.FromResult(NegativeSampler.Sample(_graph.Edges(type), false, sources.Span, k, strategy, excludeNeighbors, ref random, destination.Span));
    }

    public ValueTask<EdgeList> GetEdgesAsync(CanonicalEdgeType type, CancellationToken cancellationToken = default)
    {
        var csr = _graph.Edges(type).Out;
        var src = new int[csr.EdgeCount];
        var offsets = csr.Offsets;
        for (var r = 0; r < csr.RowCount; r++) src.AsSpan((int)offsets[r], (int)(offsets[r + 1] - offsets[r])).Fill(r);
        var handles = new long[csr.EdgeCount];
        for (var e = 0; e < handles.Length; e++) handles[e] = e; // out-CSR positions are the edge ids
        return ValueTask.FromResult(new EdgeList(type, src, csr.Neighbors.ToArray()) { Handles = handles });
    }

    public ValueTask GetBusinessIdsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<long> destination, CancellationToken cancellationToken = default)
    {
        var map = _graph.Nodes(type).Ids;
        var src = ids.Span;
        var dst = destination.Span;
        for (var i = 0; i < src.Length; i++) dst[i] = map.ToBusiness(src[i]);
        return ValueTask.CompletedTask;
    }

    public ValueTask LookupIdsAsync(NodeType type, ReadOnlyMemory<long> businessIds, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        var map = _graph.Nodes(type).Ids;
        var src = businessIds.Span;
        var dst = destination.Span;
        for (var i = 0; i < src.Length; i++) dst[i] = map.TryGetDense(src[i], out var d) ? d : -1;
        return ValueTask.CompletedTask;
    }
}
