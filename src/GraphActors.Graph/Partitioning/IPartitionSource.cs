// What the partitioner reads: a graph as counts plus streamed node and edge chunks (CGDF, an in-memory graph, a generator).
using GraphActors.Contracts;

namespace GraphActors.Graph.Partitioning;

/// <summary>
/// A graph to partition, read in chunks so that features never need to be resident all at once.
/// Node ids in chunks are per-type dense ids <c>0..Count-1</c> (CGDF's per-type node ids); edge endpoints use the
/// same dense ids. Each Read… call starts a fresh pass over the data; the partitioner reads nodes twice
/// (ids, labels and masks first; features in a second pass) and each edge type once (once per group of 256
/// partitions with more than 256 partitions).
/// </summary>
public interface IPartitionSource
{
    IReadOnlyList<SourceNodeType> NodeTypes { get; }
    IReadOnlyList<SourceEdgeType> EdgeTypes { get; }

    /// <summary>Every edge of <paramref name="type"/>, once, in any order.</summary>
    IEnumerable<EdgeChunk> ReadEdges(CanonicalEdgeType type);

    /// <summary>Every node of <paramref name="type"/>, once, in any order.</summary>
    IEnumerable<NodeChunk> ReadNodes(NodeType type);
}

/// <summary>A node type: node count, feature vector length (0 = none), label count (0 = unlabelled), whether chunks carry masks.</summary>
public sealed record SourceNodeType(NodeType Type, int Count, int FeatureDim, int LabelCount, bool HasMasks)
{
    /// <summary>The columns besides features, labels and masks that chunks carry (GraphLearn sources); none by default.</summary>
    public NodeColumns Columns { get; init; } = NodeColumns.None;
}

/// <summary>A canonical edge type and its edge count.</summary>
public sealed record SourceEdgeType(CanonicalEdgeType Type, long Count)
{
    /// <summary>The per-edge columns besides structure and weights that the store keeps (GraphLearn sources); none by default.</summary>
    public EdgeColumns Columns { get; init; } = EdgeColumns.None;
}

/// <summary>
/// A node type's columns beyond features (its float attributes), labels and masks: GraphLearn's node weights, int64
/// attributes (<paramref name="IntCount"/> per node) and string attributes (<paramref name="StringCount"/> per node).
/// </summary>
/// <param name="Masks">
/// The GraphLearn mask sources the type was declared with (<c>TRAIN</c>, <c>VAL</c>, <c>TEST</c>, comma-separated, in
/// that order); null where it has none, so a store can refuse <c>V(type, mask)</c> for a mask without a source as local mode does.
/// </param>
public sealed record NodeColumns(bool Weighted, int IntCount, int StringCount, string? Masks = null)
{
    public static readonly NodeColumns None = new(false, 0, 0);
    [System.Text.Json.Serialization.JsonIgnore] public bool Any => Weighted || IntCount > 0 || StringCount > 0;
}

/// <summary>
/// An edge type's columns beyond structure: <paramref name="EdgeIds"/> keeps each edge's id (its position in the
/// source's edge order, GraphLearn's edge id), <paramref name="Weighted"/> records that the weights came from the source
/// (they are stored either way, 1 when absent), then labels and int64, float32 and string attributes per edge.
/// </summary>
/// <param name="Directed">How a GraphLearn source declared the type (<c>g.Edge(…, directed)</c>); null where nobody said (CGDF).</param>
public sealed record EdgeColumns(bool EdgeIds, bool Weighted, bool Labeled, int IntCount, int FloatCount, int StringCount, bool? Directed = null)
{
    public static readonly EdgeColumns None = new(false, false, false, 0, 0, 0);
    /// <summary>Whether any column follows the edges into the store (the weight flag alone moves no data).</summary>
    [System.Text.Json.Serialization.JsonIgnore] public bool Any => EdgeIds || Labeled || IntCount > 0 || FloatCount > 0 || StringCount > 0;
}

/// <summary>
/// String values as UTF-8: value i is <c>Bytes[Offsets[i] .. Offsets[i + 1])</c>; values of a row-major n × k column
/// come row by row. Empty (default) when there are none.
/// </summary>
public readonly record struct Utf8Column(ReadOnlyMemory<int> Offsets, ReadOnlyMemory<byte> Bytes)
{
    public int Count => Offsets.IsEmpty ? 0 : Offsets.Length - 1;
    public ReadOnlySpan<byte> Value(int i)
    {
        var o = Offsets.Span;
        return Bytes.Span[o[i]..o[i + 1]];
    }

    /// <summary>Encodes <paramref name="values"/> (no per-value allocation beyond the two arrays).</summary>
    public static Utf8Column Encode(ReadOnlySpan<string> values)
    {
        var offsets = new int[values.Length + 1];
        long total = 0;
        for (var i = 0; i < values.Length; i++)
        {
            total += System.Text.Encoding.UTF8.GetByteCount(values[i]);
            if (total > Array.MaxLength) throw new ArgumentException($"{values.Length} strings take more than {Array.MaxLength:N0} UTF-8 bytes; encode fewer at once.", nameof(values));
            offsets[i + 1] = (int)total;
        }
        var bytes = new byte[total];
        for (var i = 0; i < values.Length; i++) System.Text.Encoding.UTF8.GetBytes(values[i], bytes.AsSpan(offsets[i]));
        return new Utf8Column(offsets, bytes);
    }
}

/// <summary>
/// Edges: per-type dense source and destination ids and weights (1 when the source has none), all the same length;
/// with the type's <see cref="EdgeColumns"/>, one label per edge, <c>Length × IntCount</c> ints, <c>Length ×
/// FloatCount</c> floats and <c>Length × StringCount</c> strings (row-major). An edge's id is its position in the pass
/// (the first chunk's first edge is 0), so a source with edge ids yields its edges in the same order on every pass.
/// </summary>
public readonly record struct EdgeChunk(ReadOnlyMemory<int> Src, ReadOnlyMemory<int> Dst, ReadOnlyMemory<float> Weights)
{
    public int Length => Src.Length;
    public ReadOnlyMemory<int> Labels { get; init; }
    public ReadOnlyMemory<long> Ints { get; init; }
    public ReadOnlyMemory<float> Floats { get; init; }
    public Utf8Column Strings { get; init; }
}

/// <summary>
/// Nodes: dense ids, business ids, features row-major (Length × FeatureDim), labels (empty or one per node; -1 = none),
/// and optional train/val/test masks (all three empty, or one byte per node each; non-zero = in the set). With the
/// type's <see cref="NodeColumns"/>: one weight per node, <c>Length × IntCount</c> ints and <c>Length × StringCount</c>
/// strings, row-major.
/// </summary>
public readonly record struct NodeChunk(
    ReadOnlyMemory<int> DenseIds,
    ReadOnlyMemory<long> BusinessIds,
    ReadOnlyMemory<float> Features,
    ReadOnlyMemory<int> Labels,
    ReadOnlyMemory<byte> TrainMask = default,
    ReadOnlyMemory<byte> ValMask = default,
    ReadOnlyMemory<byte> TestMask = default)
{
    public int Length => DenseIds.Length;
    public bool HasMasks => !TrainMask.IsEmpty;
    public ReadOnlyMemory<float> Weights { get; init; }
    public ReadOnlyMemory<long> Ints { get; init; }
    public Utf8Column Strings { get; init; }
}
