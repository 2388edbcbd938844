using GraphActors.Contracts;
using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class NegativeSamplerTests
{
    /// <summary>Users 0..2, items 0..9; user 0 links to items 0..7, user 1 to every item, user 2 to none.</summary>
    private static EdgeTypeData Edges()
    {
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Empty);
        for (var u = 0; u < 3; u++) users.TryAdd(u, 1f, -1, [], [], [], out _);
        var items = b.AddNodeType("item", AttributeSchema.Empty);
        for (var i = 0; i < 10; i++) items.TryAdd(i, 1f, -1, [], [], [], out _);
        var e = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty);
        for (var i = 0; i < 8; i++) e.Add(0, i);
        for (var i = 0; i < 10; i++) e.Add(1, i);
        return b.Build().Edges("u2i");
    }

    [Theory]
    [InlineData(NegativeStrategy.Random)]
    [InlineData(NegativeStrategy.InDegree)]
    [InlineData(NegativeStrategy.SmoothedInDegree)]
    public void Excluded_negatives_are_never_true_neighbours(NegativeStrategy strategy)
    {
        var edges = Edges();
        var output = new int[2000];
        var rng = KernelRandom.Sequential(new Xoshiro256(1));
        // 8 of 10 items are neighbours (more than 8/10 of the in_degree mass): enough retries make every draw resolvable.
        var stats = NegativeSampler.Sample(edges, false, [0], 2000, strategy, excludeNeighbors: true, ref rng, output, maxRetries: 1000);
        Assert.All(output, i => Assert.InRange(i, 8, 9));
        Assert.Equal(0, stats.Unresolved);
        Assert.True(stats.Redrawn > 0);
    }

    [Fact]
    public void Negatives_left_as_true_neighbours_after_the_retries_are_exactly_the_unresolved_ones()
    {
        var output = new int[2000];
        var rng = KernelRandom.Sequential(new Xoshiro256(1));
        var stats = NegativeSampler.Sample(Edges(), false, [0], 2000, NegativeStrategy.SmoothedInDegree, excludeNeighbors: true, ref rng, output, maxRetries: 8);
        Assert.True(stats.Unresolved > 0);
        Assert.Equal(stats.Unresolved, output.Count(i => i < 8));
    }

    [Fact]
    public void Negatives_without_exclusion_may_hit_true_neighbours()
    {
        var output = new int[1000];
        var rng = KernelRandom.Sequential(new Xoshiro256(1));
        NegativeSampler.Sample(Edges(), false, [0], 1000, NegativeStrategy.Random, excludeNeighbors: false, ref rng, output);
        Assert.Contains(output, i => i < 8);
    }

    [Fact]
    public void A_source_linked_to_every_candidate_is_reported_as_unresolved()
    {
        var output = new int[6];
        var rng = KernelRandom.Sequential(new Xoshiro256(1));
        var stats = NegativeSampler.Sample(Edges(), false, [1, 2], 3, NegativeStrategy.Random, excludeNeighbors: true, ref rng, output, maxRetries: 4);
        Assert.Equal(6, stats.Requested);
        Assert.Equal(3, stats.Unresolved);
        Assert.Equal(12, stats.Redrawn);
    }

    [Fact]
    public void In_negatives_draw_source_type_nodes_that_are_not_in_neighbours()
    {
        var output = new int[300];
        var rng = KernelRandom.Sequential(new Xoshiro256(2));
        // Item 9 has in-neighbour user 1 only; users 0 and 2 remain (user 2 has no edge, so in_degree never draws it).
        NegativeSampler.Sample(Edges(), true, [9], 300, NegativeStrategy.Random, excludeNeighbors: true, ref rng, output);
        Assert.All(output, u => Assert.Contains(u, new[] { 0, 2 }));
    }

    [Theory]
    [InlineData(NegativeStrategy.InDegree, 1.0)]
    [InlineData(NegativeStrategy.SmoothedInDegree, 0.75)]
    public void Degree_negatives_follow_in_degree_raw_or_to_the_power_three_quarters(NegativeStrategy strategy, double power)
    {
        // Items 0..2 with in-degrees 1, 4 and 16 (from distinct users).
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Empty);
        for (var u = 0; u < 17; u++) users.TryAdd(u, 1f, -1, [], [], [], out _);
        var items = b.AddNodeType("item", AttributeSchema.Empty);
        for (var i = 0; i < 3; i++) items.TryAdd(i, 1f, -1, [], [], [], out _);
        var e = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty);
        e.Add(0, 0);
        for (var u = 0; u < 4; u++) e.Add(u, 1);
        for (var u = 0; u < 16; u++) e.Add(u, 2);
        var edges = b.Build().Edges("u2i");

        var output = new int[100_000];
        var rng = KernelRandom.Sequential(new Xoshiro256(3));
        NegativeSampler.Sample(edges, false, [16], output.Length, strategy, excludeNeighbors: false, ref rng, output);
        var counts = new double[3];
        foreach (var i in output) counts[i]++;
        double[] weights = [1, Math.Pow(4, power), Math.Pow(16, power)]; // raw 1, 4, 16; smoothed 1, 2.83, 8
        var total = weights.Sum();
        for (var i = 0; i < 3; i++)
            Assert.InRange(counts[i] / output.Length, weights[i] / total * 0.95, weights[i] / total * 1.05);
    }

    [Fact]
    public void The_same_seed_gives_the_same_negatives()
    {
        var a = new int[50];
        var b = new int[50];
        var r1 = KernelRandom.Sequential(new Xoshiro256(5));
        var r2 = KernelRandom.Sequential(new Xoshiro256(5));
        NegativeSampler.Sample(Edges(), false, [0, 2], 25, NegativeStrategy.SmoothedInDegree, true, ref r1, a);
        NegativeSampler.Sample(Edges(), false, [0, 2], 25, NegativeStrategy.SmoothedInDegree, true, ref r2, b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void An_alias_table_never_draws_a_zero_weight_entry()
    {
        var table = new AliasTable([0, 3, 0, 1, 0]);
        var rng = new Xoshiro256(6);
        var counts = new int[5];
        for (var i = 0; i < 40_000; i++) counts[table.Next(ref rng)]++;
        Assert.Equal(0, counts[0] + counts[2] + counts[4]);
        Assert.InRange(counts[1], 29_000, 31_000);
    }
}

public class PerSourceNegativeTests
{
    /// <summary>Users 0..39 and items 0..59; user u links to items u .. u + 9.</summary>
    private static EdgeTypeData Edges()
    {
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Empty);
        for (var u = 0; u < 40; u++) users.TryAdd(u, 1f, -1, [], [], [], out _);
        var items = b.AddNodeType("item", AttributeSchema.Empty);
        for (var i = 0; i < 60; i++) items.TryAdd(i, 1f, -1, [], [], [], out _);
        var e = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty);
        for (var u = 0; u < 40; u++) for (var i = u; i < u + 10; i++) e.Add(u, i);
        return b.Build().Edges("u2i");
    }

    private static int[] Draw(int[] sources, NegativeStrategy strategy, int firstId = 0, Csr? adjacency = null)
    {
        var edges = Edges();
        var output = new int[sources.Length * 4];
        var random = KernelRandom.PerNode(21, firstId);
        if (adjacency is null) NegativeSampler.Sample(edges, false, sources, 4, strategy, true, ref random, output);
        else NegativeSampler.Sample(adjacency, sources, 60, strategy == NegativeStrategy.SmoothedInDegree ? NegativeSampler.DegreeTable(edges.In, edges) : null,
            4, true, ref random, output);
        return output;
    }

    [Theory]
    [InlineData(NegativeStrategy.Random)]
    [InlineData(NegativeStrategy.SmoothedInDegree)]
    public void A_sources_negatives_do_not_depend_on_the_other_sources_and_a_repeated_source_draws_afresh(NegativeStrategy strategy)
    {
        var all = Draw([5, 9, 5, 30, 5], strategy);
        Assert.Equal(all.AsSpan(4, 4).ToArray(), Draw([9], strategy));
        Assert.Equal(all.AsSpan(12, 4).ToArray(), Draw([30, 9], strategy).AsSpan(0, 4).ToArray());
        // The n-th listing of a source draws what the n-th listing draws in any other call.
        Assert.Equal(all.AsSpan(0, 4).ToArray(), Draw([5], strategy));
        Assert.Equal(all.AsSpan(8, 4).ToArray(), Draw([30, 5, 9, 5], strategy).AsSpan(12, 4).ToArray());
        Assert.NotEqual(all.AsSpan(0, 4).ToArray(), all.AsSpan(8, 4).ToArray());
        Assert.All(all.Chunk(4).Zip(new[] { 5, 9, 5, 30, 5 }), x => Assert.All(x.First, n => Assert.False(n >= x.Second && n < x.Second + 10)));
    }

    [Fact]
    public void Local_rows_with_the_partitions_first_id_draw_the_global_rows_negatives()
    {
        var edges = Edges();
        var out20 = edges.Out;
        // Rows 20..39 as a partition holds them: local rows 0..19, neighbours still global item ids.
        var first = out20.Offsets[20];
        var offsets = new long[21];
        for (var r = 0; r <= 20; r++) offsets[r] = out20.Offsets[20 + r] - first;
        var part = new Csr(20, offsets, out20.Neighbors[(int)first..].ToArray(), ReadOnlyMemory<int>.Empty);
        foreach (var strategy in new[] { NegativeStrategy.Random, NegativeStrategy.SmoothedInDegree })
            Assert.Equal(Draw([25, 20, 39, 25], strategy), Draw([5, 0, 19, 5], strategy, firstId: 20, adjacency: part));
    }
}
