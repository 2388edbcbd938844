// The graph-store interface the mini-batch samplers talk to: batched, async-capable, ids and structure only.
using System.Buffers;
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Sampling;

/// <summary>A node type as a graph store serves it: ids are 0 .. Count - 1 (global per type).</summary>
public sealed record StoreNodeType(NodeType Type, int Count, int FeatureDim, int LabelCount)
{
    /// <summary>Node weights, int and string attributes the store holds beside features and labels (GraphLearn sources).</summary>
    public NodeColumns Columns { get; init; } = NodeColumns.None;

    /// <summary>Whether the type's train/val/test sets are its GraphLearn mask sources (rather than a default split).</summary>
    public bool MasksFromSource { get; init; }

    /// <summary>
    /// Of <paramref name="asked"/>, the columns a gather answers: weights and labels where the type has them, attribute
    /// kinds always (0 wide when the type has none: features are the float attributes).
    /// </summary>
    public ColumnSet Answered(ColumnSet asked) => asked & (ColumnSet.Ints | ColumnSet.Floats | ColumnSet.Strings
        | (Columns.Weighted ? ColumnSet.Weights : 0) | (LabelCount > 0 ? ColumnSet.Labels : 0));
}

/// <summary>
/// A canonical edge type. <see cref="Reverse"/> is the type holding each edge reversed, when the store knows it: the
/// <c>_reverse</c> twin of an undirected heterogeneous edge, or the type itself for an undirected same-type edge
/// (whose CSRs hold both directions: known where the store recorded the GraphLearn declaration). Null when unknown.
/// </summary>
public sealed record StoreEdgeType(CanonicalEdgeType Type, long Count, CanonicalEdgeType? Reverse)
{
    /// <summary>Edge ids, labels and attributes the store holds (GraphLearn sources); <see cref="EdgeColumns.None"/> for a CGDF store.</summary>
    public EdgeColumns Columns { get; init; } = EdgeColumns.None;

    /// <summary>
    /// Whether sampled edges' weights are the source's: a store that records its columns knows (an unweighted GraphLearn
    /// type has none), one that does not (CGDF, older stores) hands out its stored weights, 1 where the source had none.
    /// </summary>
    public bool HasWeights => Columns == EdgeColumns.None || Columns.Weighted;

    /// <summary>Of <paramref name="asked"/>, the per-edge columns an answer holds: ids and labels where kept, attribute kinds always, weights where <see cref="HasWeights"/>.</summary>
    public ColumnSet Answered(ColumnSet asked) => asked & (ColumnSet.Ints | ColumnSet.Floats | ColumnSet.Strings
        | (Columns.EdgeIds ? ColumnSet.EdgeIds : 0) | (Columns.Labeled ? ColumnSet.Labels : 0) | (HasWeights ? ColumnSet.Weights : 0));
}

public sealed class GraphStoreSchema
{
    private readonly Dictionary<NodeType, StoreNodeType> _nodes;
    private readonly Dictionary<CanonicalEdgeType, StoreEdgeType> _edges;

    public GraphStoreSchema(IReadOnlyList<StoreNodeType> nodeTypes, IReadOnlyList<StoreEdgeType> edgeTypes)
    {
        NodeTypes = nodeTypes;
        EdgeTypes = edgeTypes;
        _nodes = nodeTypes.ToDictionary(n => n.Type);
        _edges = edgeTypes.ToDictionary(e => e.Type);
    }

    public IReadOnlyList<StoreNodeType> NodeTypes { get; }
    public IReadOnlyList<StoreEdgeType> EdgeTypes { get; }

    public StoreNodeType Node(NodeType type) =>
        _nodes.TryGetValue(type, out var n) ? n : throw new KeyNotFoundException($"The store has no node type '{type}'.");

    public StoreEdgeType Edge(CanonicalEdgeType type) =>
        _edges.TryGetValue(type, out var e) ? e : throw new KeyNotFoundException($"The store has no edge type {type}.");

    public int IndexOf(NodeType type)
    {
        for (var i = 0; i < NodeTypes.Count; i++) if (NodeTypes[i].Type == type) return i;
        throw new KeyNotFoundException($"The store has no node type '{type}'.");
    }

    public int IndexOf(CanonicalEdgeType type)
    {
        for (var i = 0; i < EdgeTypes.Count; i++) if (EdgeTypes[i].Type == type) return i;
        throw new KeyNotFoundException($"The store has no edge type {type}.");
    }
}

public enum SplitKind { Train, Val, Test }

/// <summary>
/// One neighbour sampling call's result, ragged and in seed order: row i is <c>Neighbors[Offsets[i] .. Offsets[i+1])</c>.
/// The arrays are rented from <see cref="ArrayPool{T}.Shared"/> and may be longer than the data; dispose to return them.
/// </summary>
public sealed class NeighborSample : IDisposable
{
    private int[]? _offsets;
    private int[]? _neighbors;
    private float[]? _weights;

    internal NeighborSample(int seeds, int[] offsets, int[] neighbors, float[]? weights)
    {
        SeedCount = seeds;
        _offsets = offsets;
        _neighbors = neighbors;
        _weights = weights;
    }

    public int SeedCount { get; }
    public int Count => Offsets[SeedCount];
    public ReadOnlySpan<int> Offsets => (_offsets ?? throw Disposed()).AsSpan(0, SeedCount + 1);
    public ReadOnlySpan<int> Neighbors => (_neighbors ?? throw Disposed()).AsSpan(0, Offsets[SeedCount]);
    /// <summary>Empty unless weights were asked for.</summary>
    public ReadOnlySpan<float> Weights => _weights is null ? default : _weights.AsSpan(0, Offsets[SeedCount]);
    public bool HasWeights => _weights is not null;

    /// <summary>
    /// The sampled edges' columns (ids, labels, attributes), one value per neighbour in the same order; null unless
    /// asked for with <see cref="IGraphStore.SampleNeighborEdgesAsync"/> from a store that holds them.
    /// </summary>
    public ElementColumns? Edges { get; internal set; }

    internal static NeighborSample Rent(int seeds, int edges, bool weights) =>
        new(seeds, ArrayPool<int>.Shared.Rent(seeds + 1), ArrayPool<int>.Shared.Rent(Math.Max(edges, 1)),
            weights ? ArrayPool<float>.Shared.Rent(Math.Max(edges, 1)) : null);

    internal int[] OffsetArray => _offsets!;
    internal int[] NeighborArray => _neighbors!;
    internal float[]? WeightArray => _weights;

    public void Dispose()
    {
        if (_offsets is not null) ArrayPool<int>.Shared.Return(_offsets);
        if (_neighbors is not null) ArrayPool<int>.Shared.Return(_neighbors);
        if (_weights is not null) ArrayPool<float>.Shared.Return(_weights);
        _offsets = null; _neighbors = null; _weights = null;
    }

    private static ObjectDisposedException Disposed() => new(nameof(NeighborSample));
}

/// <summary>All edges of one type as parallel (src, dst) id arrays.</summary>
public sealed record EdgeList(CanonicalEdgeType Type, int[] Src, int[] Dst)
{
    public int Count => Src.Length;

    /// <summary>
    /// Where each edge's columns live, for <see cref="IGraphStore.GatherEdgeColumnsAsync"/> (a store's own handle: an
    /// edge id, or a partition and an out-CSR position); null when the store hands out no edge columns.
    /// </summary>
    public long[]? Handles { get; init; }
}

/// <summary>
/// What a mini-batch sampler needs from a graph, whatever holds it: one in-memory graph, every partition of a store in
/// this process, or (later) partition actors across a cluster. Every call is batched (a span of ids in, arrays out in
/// the same order) so that a remote implementation sends one request per partition per call, never one per node, and
/// returns a <see cref="ValueTask"/> so that local implementations complete synchronously without allocating a task.
/// Node ids are global per node type (the partition store's relabelled ids; dense ids for an in-memory graph).
/// Implementations are safe to call from several threads at once.
/// </summary>
public interface IGraphStore
{
    GraphStoreSchema Schema { get; }

    /// <summary>
    /// Samples neighbours of <paramref name="seeds"/> along <paramref name="type"/>: in-neighbours (sources, the
    /// direction messages flow in) when <paramref name="incoming"/>, else out-neighbours. Per node: seed i's
    /// neighbours depend on <paramref name="rngSeed"/>, its id and its row of the store's CSR only, never on the other
    /// seeds, their order, or how the store is partitioned and served (each row draws from
    /// <see cref="Xoshiro256.ForNode(ulong, int)"/>(rngSeed, id), <see cref="KernelRandom.PerNode"/>). Weights are the
    /// sampled edges' weights (1 when unweighted).
    /// </summary>
    ValueTask<NeighborSample> SampleNeighborsAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, bool withWeights = false, CancellationToken cancellationToken = default);

    /// <summary>Feature rows of <paramref name="ids"/> into <paramref name="destination"/> (ids × FeatureDim, row-major).</summary>
    ValueTask GatherFeaturesAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<float> destination, CancellationToken cancellationToken = default);

    /// <summary>Labels of <paramref name="ids"/>; -1 where unlabelled.</summary>
    ValueTask GatherLabelsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default);

    /// <summary>Ids of the nodes of <paramref name="type"/> in a split, ascending.</summary>
    ValueTask<int[]> GetSplitAsync(NodeType type, SplitKind split, CancellationToken cancellationToken = default);

    /// <summary>In-degrees (incoming) or out-degrees along <paramref name="type"/>.</summary>
    ValueTask GetDegreesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default);

    /// <summary>
    /// k negatives per source: destination-type nodes drawn uniformly or ∝ in-degree^0.75 (every store), or ∝ raw
    /// in-degree (only a store holding the whole graph; the partitioned ones refuse it); with
    /// <paramref name="excludeNeighbors"/>, a draw that is a true out-neighbour of its source is redrawn (up to a retry cap).
    /// A source's k draws come from the stream of (<paramref name="rngSeed"/>, source id, how many times the source
    /// appeared earlier in the call), so they do not depend on the other sources' ids or on the partitioning.
    /// </summary>
    ValueTask<NegativeSampleStats> SampleNegativesAsync(CanonicalEdgeType type, ReadOnlyMemory<int> sources, int k, NegativeStrategy strategy,
        bool excludeNeighbors, ulong rngSeed, Memory<int> destination, CancellationToken cancellationToken = default);

    /// <summary>Every edge of <paramref name="type"/> (for edge splits and link-prediction epochs).</summary>
    ValueTask<EdgeList> GetEdgesAsync(CanonicalEdgeType type, CancellationToken cancellationToken = default);

    ValueTask GetBusinessIdsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<long> destination, CancellationToken cancellationToken = default);

    /// <summary>Ids of business ids; -1 for an unknown one.</summary>
    ValueTask LookupIdsAsync(NodeType type, ReadOnlyMemory<long> businessIds, Memory<int> destination, CancellationToken cancellationToken = default);

    // ---- GraphLearn's columns. The defaults serve a store that keeps features and labels only. ----

    /// <summary>
    /// The <paramref name="columns"/> of <paramref name="ids"/> in one call (one request per partition): weights, labels,
    /// int attributes, float attributes (the features) and string attributes, as far as the type has them
    /// (<see cref="StoreNodeType.Answered"/>).
    /// </summary>
    ValueTask<ElementColumns> GatherNodeColumnsAsync(NodeType type, ReadOnlyMemory<int> ids, ColumnSet columns, CancellationToken cancellationToken = default) =>
        StoreColumnDefaults.GatherNodeColumnsAsync(this, type, ids, columns, cancellationToken);

    /// <summary>
    /// <see cref="SampleNeighborsAsync"/> with weights, plus the sampled edges' <paramref name="columns"/> in
    /// <see cref="NeighborSample.Edges"/> (ids, labels, attributes: <see cref="StoreEdgeType.Answered"/>), in the same one
    /// request per partition; a store without edge columns leaves <see cref="NeighborSample.Edges"/> null. Draws equal
    /// those of <see cref="SampleNeighborsAsync"/> with the same arguments.
    /// </summary>
    ValueTask<NeighborSample> SampleNeighborEdgesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, ColumnSet columns, CancellationToken cancellationToken = default) =>
        SampleNeighborsAsync(type, incoming, seeds, fanout, strategy, rngSeed, withWeights: true, cancellationToken);

    /// <summary>The <paramref name="columns"/> (weights included) of edges named by <see cref="EdgeList.Handles"/> of <see cref="GetEdgesAsync"/>.</summary>
    ValueTask<ElementColumns> GatherEdgeColumnsAsync(CanonicalEdgeType type, ReadOnlyMemory<long> handles, ColumnSet columns,
        CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().Name} hands out no edge handles, so it gathers no columns of {type}'s edges.");
}

/// <summary>What a store without GraphLearn's extra columns answers: features as the float attributes, and labels.</summary>
internal static class StoreColumnDefaults
{
    public static async ValueTask<ElementColumns> GatherNodeColumnsAsync(IGraphStore store, NodeType type, ReadOnlyMemory<int> ids, ColumnSet columns,
        CancellationToken cancellationToken)
    {
        var schema = store.Schema.Node(type);
        var present = schema.Answered(columns) & (ColumnSet.Labels | ColumnSet.Floats | ColumnSet.Ints | ColumnSet.Strings);
        var n = ids.Length;
        var dim = (present & ColumnSet.Floats) != 0 ? schema.FeatureDim : 0;
        var floats = new float[(long)n * dim];
        var labels = (present & ColumnSet.Labels) != 0 ? new int[n] : [];
        if (dim > 0 && n > 0) await store.GatherFeaturesAsync(type, ids, floats, cancellationToken).ConfigureAwait(false);
        if (labels.Length > 0) await store.GatherLabelsAsync(type, ids, labels, cancellationToken).ConfigureAwait(false);
        return new ElementColumns(n, present, [], [], labels, [], 0, floats, dim, [0], [], 0);
    }
}

/// <summary>
/// A store whose contents may switch to a newer version while it serves (a cluster's rolling reload of a refreshed
/// store). Each call reads one version; an answer built from several calls (a prediction: ids, hops, features) pins
/// one with <see cref="Pin"/>, so it never mixes two versions.
/// </summary>
public interface IVersionedGraphStore : IGraphStore
{
    /// <summary>This store at the version it reads now, for good. Disposing the pinned store does nothing.</summary>
    IGraphStore Pin();
}
