// What a PartitionActor answers about GraphLearn's columns: node columns by id, and sampled edges with theirs.
namespace GraphActors.Contracts.Protocols;

/// <summary>
/// Requests for the columns a partition store keeps for GraphLearn sources (node weights, labels, int/float/string
/// attributes; edge ids, labels and attributes). Same addressing, request ids and deadlines as
/// <see cref="PartitionProtocol"/>; manifests start with "A". Answers can be wide (strings of any length), so a
/// partition sends them to another node in chunks like every large answer.
/// </summary>
public static class ColumnProtocol
{
    /// <summary>The <paramref name="Columns"/> of <paramref name="Ids"/> (owned nodes of <paramref name="NodeType"/>), in order; ids may repeat.</summary>
    public sealed record GetNodeColumns(long RequestId, int Partition, NodeType NodeType, int[] Ids, ColumnSet Columns, long DeadlineUnixMs)
        : PartitionProtocol.IPartitionRequest;

    /// <summary>One value per asked id; <c>Columns.Present</c> is what was asked and the type holds.</summary>
    public sealed record NodeColumnsResult(long RequestId, int Partition, ElementColumns Columns) : PartitionProtocol.IPartitionResponse;

    /// <summary>
    /// <see cref="PartitionProtocol.GetNeighbors"/> that also answers each sampled edge's <paramref name="Columns"/>: one
    /// request per partition per hop gives neighbours, weights and the edges' ids, labels and attributes.
    /// </summary>
    public sealed record GetNeighborEdges(
        long RequestId,
        int Partition,
        CanonicalEdgeType EdgeType,
        EdgeDirection Direction,
        int[] Seeds,
        int Fanout,
        NeighborStrategy Strategy,
        ulong RngSeed,
        ColumnSet Columns,
        long DeadlineUnixMs) : PartitionProtocol.IPartitionRequest;

    /// <summary>Ragged rows as <see cref="PartitionProtocol.NeighborsResult"/>, and one value of <paramref name="Edges"/> per sampled edge.</summary>
    public sealed record NeighborEdgesResult(long RequestId, int Partition, int[] Offsets, int[] Neighbors, float[] Weights, ElementColumns Edges)
        : PartitionProtocol.IPartitionResponse;
}
