// One partition as a PartitionActor holds it: CSR per edge type and direction, slabs, labels, masks, id maps.
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

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

    /// <summary>Node weights, int and string attributes by local row (<see cref="NodeColumnData.None"/> when the store has none).</summary>
    public NodeColumnData Columns { get; internal init; } = NodeColumnData.None;

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

    /// <summary>Edge ids, labels and attributes parallel to the out-CSR's entries (<see cref="EdgeColumnData.None"/> when the store has none).</summary>
    public EdgeColumnData OutColumns { get; internal init; } = EdgeColumnData.None;
    /// <summary>The same columns parallel to the in-CSR's entries.</summary>
    public EdgeColumnData InColumns { get; internal init; } = EdgeColumnData.None;
    public EdgeColumnData Columns(bool incoming) => incoming ? InColumns : OutColumns;
}

/// <summary>
/// String values as a partition stores them: row r's value c is <c>Bytes[Offsets[r × Width + c] .. Offsets[r × Width + c + 1])</c>,
/// UTF-8 (offsets int64, one more than the values).
/// </summary>
public readonly struct StoredStrings(int width, ReadOnlyMemory<long> offsets, ReadOnlyMemory<byte> bytes)
{
    public static readonly StoredStrings None = new(0, new long[] { 0 }, ReadOnlyMemory<byte>.Empty);

    public int Width { get; } = width;
    public ReadOnlyMemory<long> Offsets { get; } = offsets;
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;

    public ReadOnlySpan<byte> Value(int row, int column)
    {
        var o = Offsets.Span;
        var v = row * Width + column;
        return Bytes.Span[(int)o[v]..(int)o[v + 1]];
    }

    /// <summary>The bytes of row <paramref name="row"/>'s values, all columns, and where they start.</summary>
    public ReadOnlySpan<byte> RowBytes(int row, out long start)
    {
        var o = Offsets.Span;
        start = o[row * Width];
        return Bytes.Span[(int)start..(int)o[(row + 1) * Width]];
    }
}

/// <summary>A node type's columns beyond features and labels, by local row: weights (empty when unweighted), ints (rows × IntCount), strings.</summary>
public sealed class NodeColumnData(NodeColumns columns, ReadOnlyMemory<float> weights, ReadOnlyMemory<long> ints, StoredStrings strings)
{
    public static readonly NodeColumnData None = new(NodeColumns.None, default, default, StoredStrings.None);

    public NodeColumns Columns { get; } = columns;
    public ReadOnlyMemory<float> Weights { get; } = weights;
    public ReadOnlyMemory<long> Ints { get; } = ints;
    public StoredStrings Strings { get; } = strings;
    public long ByteSize => Weights.Length * 4L + Ints.Length * 8L + Strings.Offsets.Length * 8L + Strings.Bytes.Length;
}

/// <summary>
/// One direction's per-edge columns, parallel to that direction's entries: GraphLearn edge ids (empty unless kept),
/// labels (empty when unlabelled), ints and floats (entries × count), strings.
/// </summary>
public sealed class EdgeColumnData(EdgeColumns columns, ReadOnlyMemory<long> ids, ReadOnlyMemory<int> labels, ReadOnlyMemory<long> ints,
    ReadOnlyMemory<float> floats, StoredStrings strings)
{
    public static readonly EdgeColumnData None = new(EdgeColumns.None, default, default, default, default, StoredStrings.None);

    public EdgeColumns Columns { get; } = columns;
    public ReadOnlyMemory<long> Ids { get; } = ids;
    public ReadOnlyMemory<int> Labels { get; } = labels;
    public ReadOnlyMemory<long> Ints { get; } = ints;
    public ReadOnlyMemory<float> Floats { get; } = floats;
    public StoredStrings Strings { get; } = strings;
    public long ByteSize => Ids.Length * 8L + Labels.Length * 4L + Ints.Length * 8L + Floats.Length * 4L + Strings.Offsets.Length * 8L + Strings.Bytes.Length;
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
