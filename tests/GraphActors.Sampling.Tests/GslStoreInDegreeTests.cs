// GraphLearn's in_degree strategies over a partitioned store: hops and negatives weigh by the whole graph's degrees.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;

namespace GraphActors.Sampling.Tests;

/// <summary>
/// A partition holds only its own nodes' CSR rows, but <c>in_degree</c> weighs a neighbour (or a negative) by its
/// degree in the whole graph: the store reads the degree tables once (<see cref="DegreeTables"/>) and draws as local
/// mode does, in proportion, whichever partition owns the neighbour. Same graphs and proportions as
/// GslGraphLearnRulesTests' local ones, over 2 and 3 hash partitions.
/// </summary>
public sealed class GslStoreInDegreeTests : IDisposable
{
    private readonly List<string> _dirs = [];

    private GslStore Partitioned(HeteroGraph graph, int parts)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ga-gsl-indegree-{Guid.NewGuid():N}");
        _dirs.Add(dir);
        GraphPartitioner.Run(new HeteroGraphSource(graph), new PartitionOptions(dir, parts, HashPartitioner.MethodName));
        return new GslStore(new PartitionedGraphStore(PartitionStore.Open(dir)));
    }

    public void Dispose()
    {
        foreach (var d in _dirs)
            try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }

    /// <summary>Node 0 → 1, 2, 3, whose in-degrees are 1, 3 and 6 (nodes 4..8 also reach 2 and 3).</summary>
    private static void AssertProportional(long[] ids, long[] of, params double[] weights)
    {
        var total = weights.Sum();
        for (var i = 0; i < of.Length; i++)
        {
            var share = ids.Count(x => x == of[i]) / (double)ids.Length;
            Assert.InRange(share, weights[i] / total - 0.015, weights[i] / total + 0.015);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Out_hops_by_in_degree_draw_each_neighbour_in_proportion_to_its_in_degree_wherever_it_lives(int parts)
    {
        var nbr = Partitioned(TestGraphs.InDegreeGraph(), parts).V("n", [0L]).Alias("n")
            .OutV("e").Sample(30_000).By("in_degree").Alias("nbr")
            .Values(new GslOptions { Seed = 1 }).Next().Nodes("nbr");
        Assert.Equal([1, 30_000], nbr.Shape);
        AssertProportional(nbr.Ids, [1, 2, 3], 1, 3, 6);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void In_hops_by_in_degree_weigh_each_source_by_its_degree_in_the_reverse_direction(int parts)
    {
        // Item 200 is bought by users 100, 104, 105 (two items each) and 109 (five): their in-degrees along u2i_reverse.
        var users = Partitioned(TestGraphs.UserItem(), parts).V("item", [200L]).Alias("i")
            .InV("u2i").Sample(40_000).By("in_degree").Alias("u")
            .Values(new GslOptions { Seed = 2 }).Next().Nodes("u");
        AssertProportional(users.Ids, [100, 104, 105, 109], 2, 2, 2, 5);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Negatives_by_in_degree_draw_destinations_in_proportion_to_their_in_degree(int parts)
    {
        // Node 9 has no edge, so nothing is excluded: the candidates with an in-degree are 1, 2 and 3 (1, 3 and 6).
        var neg = Partitioned(TestGraphs.InDegreeGraph(), parts).V("n", [9L]).Alias("n")
            .OutNeg("e").Sample(30_000).By("in_degree").Alias("neg")
            .Values(new GslOptions { Seed = 3 }).Next().Nodes("neg");
        AssertProportional(neg.Ids, [1, 2, 3], 1, 3, 6);
        Assert.All(neg.Ids, id => Assert.Contains(id, new long[] { 1, 2, 3 }));
    }
}
