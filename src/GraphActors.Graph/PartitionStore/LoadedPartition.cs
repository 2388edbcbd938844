// One partition as a PartitionActor holds it: CSR per edge type and direction, slabs, labels, masks, id maps.
using GraphActors.Contracts;

namespace GraphActors.Graph.Storage;

/// <summary>
/// The nodes of one type that this partition owns: the ids of <see cref="Rows"/> (one range <c>[First, First + Count)</c>
/// unless the store was brought up to date by <c>partition --update</c>). Arrays are indexed by the local row
/// (<see cref="LocalRow"/>). Masks hold 1 for members.
/// </summary>
public sealed class PartitionNodes
{
    internal PartitionNodes(NodeType type, PartRows rows, FeatureSlab features, ReadOnlyMemory<int> labels,
        ReadOnlyMemory<byte> train, ReadOnlyMemory<byte> val, ReadOnlyMemory<byte> test,
        ReadOnlyMemory<long> businessIds, ReadOnlyMemory<long> sortedBusinessIds, ReadOnlyMemory<int> sortedIds)
    {
        Type = type; Rows = rows; Features = features; Labels = labels;
        TrainMask = train; ValMask = val; TestMask = test;
        BusinessIds = businessIds; SortedBusinessIds = sortedBusinessIds; SortedIds = sortedIds;
    }

    public NodeType Type { get; }
    /// <summary>Which ids the rows hold.</summary>
    public PartRows Rows { get; }
    public int Count => Rows.Count;
    /// <summary>Count × FeatureDim, row-major; an empty slab when the type has no features.</summary>
    public FeatureSlab Features { get; }
    /// <summary>Empty when the type is unlabelled.</summary>
    public ReadOnlyMemory<int> Labels { get; }
    public ReadOnlyMemory<byte> TrainMask { get; }
    public ReadOnlyMemory<byte> ValMask { get; }
    public ReadOnlyMemory<byte> TestMask { get; }
    /// <summary>Business id of each local row.</summary>
    public ReadOnlyMemory<long> BusinessIds { get; }
    /// <summary>The business ids sorted, with <see cref="SortedIds"/> the new id of each (the business → id lookup).</summary>
    public ReadOnlyMemory<long> SortedBusinessIds { get; }
    public ReadOnlyMemory<int> SortedIds { get; }

    public bool Owns(int id) => Rows.RowOf(id) >= 0;
    public int LocalRow(int id)
    {
        var row = Rows.RowOf(id);
        return row >= 0 ? row : throw new ArgumentOutOfRangeException(nameof(id), $"Node {id} of '{Type}' is not in {Rows}.");
    }
    /// <summary>The id local row <paramref name="row"/> holds.</summary>
    public int IdOf(int row) => Rows.IdOf(row);
    public long ToBusiness(int id) => BusinessIds.Span[LocalRow(id)];

    /// <summary>The new id of a business id this partition owns.</summary>
    public bool TryGetId(long businessId, out int id)
    {
        var i = SortedBusinessIds.Span.BinarySearch(businessId);
        id = i >= 0 ? SortedIds.Span[i] : -1;
        return i >= 0;
    }
}

/// <summary>
/// The edges of one canonical type touching this partition. <see cref="Out"/>: rows are the local rows of the source
/// nodes it owns, entries the new ids (of the destination type) of their out-neighbours. <see cref="In"/>: rows are
/// the local rows of the destination nodes it owns, entries the new ids (of the source type) of their in-neighbours.
/// Rows are sorted ascending; weights run parallel to the entries (CSR edge ids are positions).
/// </summary>
public sealed class PartitionEdges
{
    internal PartitionEdges(CanonicalEdgeType type, Csr @out, ReadOnlyMemory<float> outWeights, Csr @in, ReadOnlyMemory<float> inWeights)
    {
        Type = type; Out = @out; OutWeights = outWeights; In = @in; InWeights = inWeights;
    }

    public CanonicalEdgeType Type { get; }
    public Csr Out { get; }
    public ReadOnlyMemory<float> OutWeights { get; }
    public Csr In { get; }
    public ReadOnlyMemory<float> InWeights { get; }
    public Csr Direction(bool incoming) => incoming ? In : Out;
    public ReadOnlyMemory<float> Weights(bool incoming) => incoming ? InWeights : OutWeights;
}

/// <summary>A loaded partition. Its memory points into mapped files (or arrays); disposing unmaps them.</summary>
public sealed class LoadedPartition : IDisposable
{
    private readonly Dictionary<NodeType, PartitionNodes> _nodes;
    private readonly Dictionary<CanonicalEdgeType, PartitionEdges> _edges;
    private readonly List<IDisposable> _mappings;

    internal LoadedPartition(int id, PartitionBook book, StoreManifest manifest, Dictionary<NodeType, PartitionNodes> nodes,
        Dictionary<CanonicalEdgeType, PartitionEdges> edges, List<IDisposable> mappings)
    {
        Id = new PartitionId(id);
        Book = book;
        Manifest = manifest;
        _nodes = nodes;
        _edges = edges;
        _mappings = mappings;
    }

    public PartitionId Id { get; }
    public PartitionBook Book { get; }
    public StoreManifest Manifest { get; }
    public IReadOnlyCollection<PartitionNodes> NodeTypes => _nodes.Values;
    public IReadOnlyCollection<PartitionEdges> EdgeTypes => _edges.Values;

    public PartitionNodes Nodes(NodeType type) =>
        _nodes.TryGetValue(type, out var n) ? n : throw new KeyNotFoundException($"Partition {Id} has no node type '{type}'.");

    public PartitionEdges Edges(CanonicalEdgeType type) =>
        _edges.TryGetValue(type, out var e) ? e : throw new KeyNotFoundException($"Partition {Id} has no edge type {type}.");

    public void Dispose()
    {
        foreach (var m in _mappings) m.Dispose();
        _mappings.Clear();
    }
}
