using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Tests.Partitioning;

public class MetisPartitionerTests
{
    private static PartitionReport Partition(HeteroGraph g, string method, int parts, out string dir, MetisOptions? metis = null)
    {
        dir = Path.Combine(TestGraphs.TempDir(), "store");
        return GraphPartitioner.Run(new HeteroGraphSource(g), new PartitionOptions(dir, parts, method) { Metis = metis ?? new MetisOptions() });
    }

    [Fact]
    public void Two_cliques_joined_by_one_edge_are_cut_at_that_edge()
    {
        var g = TestGraphs.Homogeneous(20, TestGraphs.TwoCliques(10));
        var report = Partition(g, "metis", 2, out _, new MetisOptions(BalanceTrain: false));
        Assert.Equal(1, report.CutEdges);
        Assert.All(report.Rows, r => Assert.Equal(10, r.Nodes["v"]));
    }

    [Fact]
    public void A_ring_of_communities_is_cut_far_less_by_metis_than_by_hash()
    {
        var g = TestGraphs.Homogeneous(8 * 100, TestGraphs.RingOfCommunities(8, 100, 8, 5));
        var hash = Partition(g, "hash", 4, out _);
        var metis = Partition(g, "metis", 4, out _);
        Assert.True(metis.CutEdges * 10 < hash.CutEdges, $"metis cut {metis.CutEdges}, hash cut {hash.CutEdges}");
        Assert.True(metis.CutFraction < 0.05, $"metis cut fraction {metis.CutFraction:P1}");
    }

    [Fact]
    public void Metis_balances_each_node_type_and_the_training_nodes()
    {
        // Users are few and linked to items in clumps: without per-type balance one partition would take most users.
        var g = TestGraphs.UserItem(users: 600, items: 3000, clicks: 12000, follows: 3000);
        var report = Partition(g, "metis", 4, out var dir);
        Assert.All(report.NodeBalance.Values, b => Assert.True(b <= 1.06, $"node type balance {b:F3}"));

        using var p0 = PartitionStore.Open(dir).LoadPartition(0);
        var store = PartitionStore.Open(dir);
        var trainPerPart = Enumerable.Range(0, 4).Select(i =>
        {
            using var p = store.LoadPartition(i);
            return (double)p.Nodes("user").TrainMask.ToArray().Count(x => x != 0);
        }).ToArray();
        Assert.True(PartitionReport.Balance(trainPerPart) <= 1.06, $"train balance {PartitionReport.Balance(trainPerPart):F3}");
    }

    [Fact]
    public void The_same_seed_gives_the_same_partitions()
    {
        var g = TestGraphs.Homogeneous(400, TestGraphs.RingOfCommunities(4, 100, 6, 3));
        var a = Partition(g, "metis", 3, out var d1);
        var b = Partition(g, "metis", 3, out var d2);
        Assert.Equal(PartitionStore.Open(d1).Manifest.Book["v"], PartitionStore.Open(d2).Manifest.Book["v"]);
        Assert.Equal(a.CutEdges, b.CutEdges);
    }

    [Fact]
    public void The_metis_graph_is_symmetric_without_self_loops_or_duplicates()
    {
        var g = TestGraphs.Homogeneous(4, [(0, 1), (1, 0), (0, 1), (2, 2), (2, 3)]);
        var src = new HeteroGraphSource(g);
        var nodes = src.NodeTypes.Select(n => NodeTable.Read(src, n, new MaskSplit())).ToArray();
        var edges = src.EdgeTypes.Select(e => EdgeList.Read(src, e, 4, 4)).ToArray();
        var (xadj, adjncy, _) = MetisPartitioner.BuildGraph(nodes, edges);
        Assert.Equal([0, 1, 2, 3, 4], xadj);
        Assert.Equal([1, 0, 3, 2], adjncy);
    }
}
