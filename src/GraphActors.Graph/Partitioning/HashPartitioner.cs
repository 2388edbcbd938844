// GraphLearn's hash partitioning: a node lives on business id mod N, an edge on its source's partition.
using GraphActors.Contracts;

namespace GraphActors.Graph.Partitioning;

/// <summary>
/// GraphLearn's rule: node → <c>id mod N</c> on the business id (non-negative, so -1 goes to N-1), edge → the
/// partition of its source. No structure is read, so the assignment is a single pass over node ids.
/// </summary>
public static class HashPartitioner
{
    public const string MethodName = "hash";

    /// <summary>The partition of business id <paramref name="id"/> among <paramref name="parts"/>.</summary>
    public static int PartitionOf(long id, int parts)
    {
        var r = (int)(id % parts);
        return r < 0 ? r + parts : r;
    }

    /// <summary>The assignment for the partition store: every node of the source by its business id.</summary>
    public static PartitionAssignment Assign(IPartitionSource source, int parts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        var partOf = new Dictionary<NodeType, int[]>();
        foreach (var nt in source.NodeTypes)
        {
            var p = new int[nt.Count];
            foreach (var chunk in source.ReadNodes(nt.Type))
            {
                var ids = chunk.DenseIds.Span;
                var business = chunk.BusinessIds.Span;
                for (var i = 0; i < ids.Length; i++) p[ids[i]] = PartitionOf(business[i], parts);
            }
            partOf[nt.Type] = p;
        }
        return new PartitionAssignment(MethodName, parts, partOf);
    }

    /// <summary>
    /// Splits an in-memory graph into <paramref name="parts"/> graphs. Partition p holds, per node type, its own nodes
    /// first (dense ids <c>0..OwnedCount-1</c>, in the original dense order, with all attributes and labels), then
    /// <em>halo</em> nodes: destinations of its edges that another partition owns, kept as id-only entries
    /// (business id, zero attributes, label -1) so that every edge has both endpoints and the owner of a halo node is
    /// found again by <see cref="PartitionOf"/> on its business id. Edge types are kept as materialised (the
    /// <c>_reverse</c> types and both directions of undirected same-type edges are already there), with weights,
    /// labels and attributes; each edge goes to its source's partition.
    /// </summary>
    public static IReadOnlyList<HashPartitionGraph> Split(HeteroGraph graph, int parts)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        var builders = new HeteroGraphBuilder[parts];
        var owned = new Dictionary<NodeType, int>[parts];
        // local[p][type][dense] = dense id in partition p, or -1.
        var local = new Dictionary<NodeType, int[]>[parts];
        for (var p = 0; p < parts; p++)
        {
            builders[p] = new HeteroGraphBuilder();
            owned[p] = [];
            local[p] = [];
        }

        var tables = new NodeTableBuilder[parts];
        foreach (var nodes in graph.NodeTypes)
        {
            var s = nodes.Schema;
            for (var p = 0; p < parts; p++)
            {
                tables[p] = builders[p].AddNodeType(s.Type, s.Attributes, s.Weighted, s.Labeled);
                var map = new int[nodes.Count];
                Array.Fill(map, -1);
                local[p][s.Type] = map;
            }
            var data = nodes.Data;
            for (var v = 0; v < nodes.Count; v++)
            {
                var id = nodes.Ids.ToBusiness(v);
                var p = PartitionOf(id, parts);
                tables[p].TryAdd(id, data.Weight(v), data.Label(v), data.IntsOf(v), data.FloatsOf(v), data.StringsOf(v), out var dense);
                local[p][s.Type][v] = dense;
            }
            for (var p = 0; p < parts; p++) owned[p][s.Type] = tables[p].Count;
        }

        // Halo nodes, in order of first appearance as a destination.
        foreach (var edges in graph.EdgeTypes)
        {
            var dstNodes = graph.Nodes(edges.Type.Dst);
            var srcIds = graph.Nodes(edges.Type.Src).Ids;
            var s = dstNodes.Schema;
            var zeroInts = new long[s.Attributes.IntCount];
            var zeroFloats = new float[s.Attributes.FloatCount];
            var emptyStrings = Enumerable.Repeat(string.Empty, s.Attributes.StringCount).ToArray();
            var csr = edges.Out;
            for (var u = 0; u < csr.RowCount; u++)
            {
                var p = PartitionOf(srcIds.ToBusiness(u), parts);
                var map = local[p][s.Type];
                foreach (var v in csr.Row(u))
                {
                    if (map[v] >= 0) continue;
                    builders[p].Nodes(s.Type).TryAdd(dstNodes.Ids.ToBusiness(v), 1f, -1, zeroInts, zeroFloats, emptyStrings, out var dense);
                    map[v] = dense;
                }
            }
        }

        foreach (var edges in graph.EdgeTypes)
        {
            var s = edges.Schema;
            var srcIds = graph.Nodes(s.Type.Src).Ids;
            var tablesE = new EdgeTableBuilder[parts];
            for (var p = 0; p < parts; p++)
                tablesE[p] = builders[p].AddEdgeType(s.Type, s.Attributes, s.Weighted, s.Labeled, directed: true);
            var csr = edges.Out;
            var data = edges.Data;
            for (var u = 0; u < csr.RowCount; u++)
            {
                var p = PartitionOf(srcIds.ToBusiness(u), parts);
                var srcMap = local[p][s.Type.Src];
                var dstMap = local[p][s.Type.Dst];
                var start = (int)csr.Offsets[u];
                var row = csr.Row(u);
                for (var k = 0; k < row.Length; k++)
                {
                    var e = start + k; // out position = edge id
                    tablesE[p].Add(srcMap[u], dstMap[row[k]], data.Weight(e), data.Label(e), data.IntsOf(e), data.FloatsOf(e), data.StringsOf(e));
                }
            }
        }

        var result = new HashPartitionGraph[parts];
        for (var p = 0; p < parts; p++) result[p] = new HashPartitionGraph(p, builders[p].Build(), owned[p]);
        return result;
    }
}

/// <summary>One partition of <see cref="HashPartitioner.Split"/>: per node type, dense ids below <see cref="OwnedCount"/> are owned, the rest are halo.</summary>
public sealed class HashPartitionGraph(int partition, HeteroGraph graph, IReadOnlyDictionary<NodeType, int> ownedCounts)
{
    public int Partition { get; } = partition;
    public HeteroGraph Graph { get; } = graph;
    public IReadOnlyDictionary<NodeType, int> OwnedCounts { get; } = ownedCounts;
    public int OwnedCount(NodeType type) => OwnedCounts[type];
    public bool IsOwned(NodeType type, int dense) => dense < OwnedCounts[type];
}
