// GraphLearn's columns from one loaded partition: node columns by id, and sampled edges with theirs (ColumnProtocol).
using GraphActors.Contracts;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.ColumnProtocol;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Partitions;

public sealed partial class PartitionServer
{
    private GraphStoreSchema? _schema;

    // What the store holds per type: a partition answers the same columns as every other partition of its store.
    private GraphStoreSchema Schema => _schema ??= PartitionedGraphStore.SchemaOf(_partition.Manifest);

    private IPartitionResponse NodeColumns(GetNodeColumns m)
    {
        if (!TryLocalRows(m.NodeType, m.Ids, out var rows, out var problem)) return Error(m, problem);
        var present = Schema.Node(m.NodeType).Answered(m.Columns);
        RowsServed += rows.Length;
        return new NodeColumnsResult(m.RequestId, Partition, ColumnGather.Nodes(_partition.Nodes(m.NodeType), rows, present));
    }

    /// <summary>
    /// A neighbour sample as <see cref="GetNeighbors"/> answers it (the same draws), with the sampled edges' columns read
    /// at the CSR positions the sample buffer still holds.
    /// </summary>
    private IPartitionResponse NeighborEdges(GetNeighborEdges m)
    {
        var sampled = Sample(new GetNeighbors(m.RequestId, m.Partition, m.EdgeType, m.Direction, m.Seeds, m.Fanout, m.Strategy, m.RngSeed, m.DeadlineUnixMs));
        if (sampled is not NeighborsResult n) return sampled;
        var type = Schema.Edge(m.EdgeType);
        var present = type.Columns == Graph.Partitioning.EdgeColumns.None ? ColumnSet.None : type.Answered(m.Columns & ~ColumnSet.Weights);
        var incoming = m.Direction == Contracts.Protocols.EdgeDirection.In;
        var edges = _partition.Edges(m.EdgeType);
        var columns = present == ColumnSet.None
            ? ElementColumns.None(n.Neighbors.Length)
            : ColumnGather.Edges(edges.Columns(incoming), edges.Weights(incoming).Span, _buffer.EdgeIds, present);
        return new NeighborEdgesResult(n.RequestId, n.Partition, n.Offsets, n.Neighbors, n.Weights, columns);
    }
}
