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
public sealed record SourceNodeType(NodeType Type, int Count, int FeatureDim, int LabelCount, bool HasMasks);

/// <summary>A canonical edge type and its edge count.</summary>
public sealed record SourceEdgeType(CanonicalEdgeType Type, long Count);

/// <summary>Edges: per-type dense source and destination ids and weights (1 when the source has none), all the same length.</summary>
public readonly record struct EdgeChunk(ReadOnlyMemory<int> Src, ReadOnlyMemory<int> Dst, ReadOnlyMemory<float> Weights)
{
    public int Length => Src.Length;
}

/// <summary>
/// Nodes: dense ids, business ids, features row-major (Length × FeatureDim), labels (empty or one per node; -1 = none),
/// and optional train/val/test masks (all three empty, or one byte per node each; non-zero = in the set).
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
}
