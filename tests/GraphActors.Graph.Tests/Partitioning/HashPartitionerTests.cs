using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Graph.Tests.Partitioning;

public class HashPartitionerTests
{
    [Theory]
    [InlineData(0L, 4, 0)]
    [InlineData(7L, 4, 3)]
    [InlineData(-1L, 4, 3)]
    [InlineData(-4L, 4, 0)]
    [InlineData(-5L, 3, 1)]
    [InlineData(long.MinValue, 3, 1)]
    [InlineData(long.MaxValue, 5, 2)]
    public void A_node_goes_to_its_business_id_modulo_n_never_negative(long id, int parts, int expected) =>
        Assert.Equal(expected, HashPartitioner.PartitionOf(id, parts));

    [Fact]
    public void The_store_assignment_puts_every_node_on_its_id_modulo_n()
    {
        var g = TestGraphs.UserItem();
        var a = HashPartitioner.Assign(new HeteroGraphSource(g, chunkSize: 37), 3);
        foreach (var nodes in g.NodeTypes)
            for (var v = 0; v < nodes.Count; v++)
            {
                var id = nodes.Ids.ToBusiness(v);
                Assert.Equal((int)(((id % 3) + 3) % 3), a[nodes.Type, v]);
            }
    }

    [Fact]
    public void Split_owns_every_node_once_and_keeps_each_edge_at_its_sources_partition()
    {
        var g = TestGraphs.UserItem();
        const int n = 4;
        var parts = HashPartitioner.Split(g, n);
        Assert.Equal(n, parts.Count);

        foreach (var nodes in g.NodeTypes)
        {
            var owned = parts.Sum(p => p.OwnedCount(nodes.Type));
            Assert.Equal(nodes.Count, owned);
            foreach (var p in parts)
            {
                var local = p.Graph.Nodes(nodes.Type);
                for (var d = 0; d < local.Count; d++)
                {
                    var id = local.Ids.ToBusiness(d);
                    var original = nodes.Ids.GetDense(id);
                    if (p.IsOwned(nodes.Type, d))
                    {
                        Assert.Equal(p.Partition, HashPartitioner.PartitionOf(id, n));
                        Assert.Equal(nodes.Data.FloatsOf(original).ToArray(), local.Data.FloatsOf(d).ToArray());
                        Assert.Equal(nodes.Data.Label(original), local.Data.Label(d));
                    }
                    else
                    {
                        // A halo node: owned elsewhere, addressable by its business id, carrying no data.
                        Assert.NotEqual(p.Partition, HashPartitioner.PartitionOf(id, n));
                        Assert.All(local.Data.FloatsOf(d).ToArray(), x => Assert.Equal(0f, x));
                    }
                }
            }
        }

        foreach (var edges in g.EdgeTypes)
        {
            var expected = AllEdges(g, edges.Type);
            var actual = new List<(long, long, float)>();
            foreach (var p in parts)
            {
                var pe = p.Graph.Edges(edges.Type);
                var src = p.Graph.Nodes(edges.Type.Src);
                for (var u = 0; u < pe.Out.RowCount; u++)
                {
                    if (pe.Out.Degree(u) == 0) continue;
                    Assert.True(p.IsOwned(edges.Type.Src, u), "only owned sources have out-edges");
                    Assert.Equal(p.Partition, HashPartitioner.PartitionOf(src.Ids.ToBusiness(u), n));
                }
                actual.AddRange(AllEdges(p.Graph, edges.Type));
            }
            Assert.Equal(expected.Order(), actual.Order());
        }
    }

    internal static List<(long Src, long Dst, float W)> AllEdges(HeteroGraph g, CanonicalEdgeType type)
    {
        var e = g.Edges(type);
        var s = g.Nodes(type.Src).Ids;
        var d = g.Nodes(type.Dst).Ids;
        var list = new List<(long, long, float)>();
        for (var u = 0; u < e.Out.RowCount; u++)
        {
            var start = (int)e.Out.Offsets[u];
            var row = e.Out.Row(u);
            for (var k = 0; k < row.Length; k++) list.Add((s.ToBusiness(u), d.ToBusiness(row[k]), e.Data.Weight(start + k)));
        }
        return list;
    }
}
