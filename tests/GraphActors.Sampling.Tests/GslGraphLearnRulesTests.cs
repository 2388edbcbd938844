// GSL operators held to GraphLearn's documented behaviour: in_degree and full sampling, shuffle without traverse,
// negatives by in_degree, random and node_weight, and the walks GraphLearn refuses.
using GraphActors.Contracts;
using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class GslGraphLearnRulesTests
{
    private static readonly HeteroGraph Store = TestGraphs.UserItem();

    /// <summary>
    /// Nodes 0..9 of type "n", directed "e": 0 → 1, 2, 3, and 1 is reached by 0 only, 2 by 0, 4, 5 and 3 by 0, 4..8,
    /// so node 0's neighbours have in-degrees 1, 3 and 6.
    /// </summary>
    /// <summary>Users 0..2 and items 0..5; undirected u2i: user u buys item u only, so items 3..5 are never reached.</summary>
    private static HeteroGraph SparseUserItem()
    {
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Empty);
        for (var u = 0; u < 3; u++) users.TryAdd(u, 1f, -1, [], [], [], out _);
        var items = b.AddNodeType("item", AttributeSchema.Empty);
        for (var i = 0; i < 6; i++) items.TryAdd(10 + i, 1f, -1, [], [], [], out _);
        var u2i = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty, directed: false);
        for (var u = 0; u < 3; u++) u2i.Add(u, u);
        return b.Build();
    }

    private static double[] Frequencies(IEnumerable<long> ids, params long[] of)
    {
        var all = ids.ToArray();
        return of.Select(id => all.Count(x => x == id) / (double)all.Length).ToArray();
    }

    private static void AssertProportional(double[] frequencies, params double[] weights)
    {
        var total = weights.Sum();
        for (var i = 0; i < weights.Length; i++)
            Assert.InRange(frequencies[i], weights[i] / total - 0.015, weights[i] / total + 0.015);
    }

    [Fact]
    public void In_degree_sampling_draws_each_neighbour_in_proportion_to_its_in_degree()
    {
        var batch = TestGraphs.InDegreeGraph().V("n").Batch(1).Alias("n")
            .OutV("e").Sample(30_000).By("in_degree").Alias("nbr")
            .Values(new GslOptions { Seed = 1 }).Next();
        var nbr = batch.Nodes("nbr");
        Assert.Equal([1, 30_000], nbr.Shape);
        AssertProportional(Frequencies(nbr.Ids, 1, 2, 3), 1, 3, 6);
    }

    [Fact]
    public void In_degree_sampling_along_inV_weighs_by_in_degree_in_the_reverse_edges()
    {
        // Item 200 is bought by users 100, 104, 105 (two items each) and 109 (five): their in-degrees along u2i_reverse.
        var batch = Store.V("item").Batch(1).Alias("i")
            .InV("u2i").Sample(40_000).By("in_degree").Alias("u")
            .Values(new GslOptions { Seed = 2 }).Next();
        AssertProportional(Frequencies(batch.Nodes("u").Ids, 100, 104, 105, 109), 2, 2, 2, 5);
    }

    [Fact]
    public void Full_sampling_with_a_count_keeps_at_most_that_many_neighbours_per_row_in_row_order()
    {
        var i = Store.V("user").Batch(10).Alias("u")
            .OutV("u2i").Sample(3).By("full").Alias("i")
            .Values().Next().Nodes("i");
        Assert.Equal([10, -1], i.Shape);
        // Users 100..108 have two items (fewer than 3, kept, not padded); user 109 has five, cut to its first three.
        Assert.Equal(9 * 2 + 3, i.Count);
        Assert.Equal([200, 201], i.Ids[..2]);
        Assert.Equal([200, 201, 202], i.Ids[i.Offsets![9]..]);
        Assert.Equal(i.Count, i.Offsets[10]);
    }

    [Fact]
    public void Full_results_carry_graphlearns_per_row_counts_dense_shape_and_indices()
    {
        var batch = Store.V("user").Batch(10).Alias("u")
            .OutE("u2i").By("full").Alias("e")
            .InV().Alias("i")
            .Values().Next();
        var i = batch.Nodes("i");
        // Users 100..108 buy two items each, user 109 five: the lens are the degrees and sum to the flattened length.
        Assert.Equal([2, 2, 2, 2, 2, 2, 2, 2, 2, 5], i.Lens!);
        Assert.Equal(i.Count, i.Lens!.Sum());
        Assert.Equal(i.Ids.Length, i.Lens!.Sum());
        // Without Sample(k) the dense shape is as wide as the longest row, as GraphLearn's max(offsets).
        Assert.Equal([10, 5], i.DenseShape);
        // indices: [row, column] of each value; user 109's five items are columns 0..4 of row 9.
        var indices = i.Indices!;
        Assert.Equal(2 * i.Count, indices.Length);
        Assert.Equal([0, 0, 0, 1, 1, 0], indices[..6]);
        Assert.Equal([9, 4], indices[^2..]);
        // The edges and their endpoint share the ragged layout.
        var e = batch.Edges("e");
        Assert.Equal(i.Lens, e.Lens);
        Assert.Equal(i.DenseShape, e.DenseShape);

        var capped = Store.V("user").Batch(10).Alias("u").OutV("u2i").Sample(3).By("full").Alias("i").Values().Next().Nodes("i");
        Assert.Equal([2, 2, 2, 2, 2, 2, 2, 2, 2, 3], capped.Lens!);
        Assert.Equal(capped.Count, capped.Lens!.Sum());
        // With Sample(k) the dense shape is [rows, k] even where no row reaches k.
        Assert.Equal([10, 3], capped.DenseShape);
        var short1 = Store.V("user").Batch(2).Alias("u").OutV("u2i").Sample(4).By("full").Alias("i").Values().Next().Nodes("i");
        Assert.Equal([2, 4], short1.DenseShape);

        var fixedHop = Store.V("user").Batch(4).Alias("u").OutV("u2i").Sample(3).By("random").Alias("i").Values().Next().Nodes("i");
        Assert.Null(fixedHop.Lens);
        Assert.Null(fixedHop.Indices);
        Assert.Equal(fixedHop.Shape, fixedHop.DenseShape);
    }

    [Fact]
    public void Shuffle_without_traverse_draws_full_batches_with_replacement_and_never_runs_out()
    {
        var ds = Store.V("user").Batch(4).Shuffle().Alias("u").Values(new GslOptions { Seed = 5 });
        Assert.True(ds.Endless);
        var batches = new List<long[]>();
        for (var b = 0; b < 3 * 10; b++) batches.Add(ds.Next().Nodes("u").Ids); // ten epochs' worth of sources, no OutOfRange
        Assert.True(ds.TryNext(out var more));
        Assert.Equal(4, more.Nodes("u").Count);
        Assert.All(batches, ids => Assert.Equal(4, ids.Length));
        Assert.All(batches.SelectMany(x => x), id => Assert.InRange(id, 100, 109));
        Assert.Equal(10, batches.SelectMany(x => x).Distinct().Count());
        // With replacement: some batch holds a user twice (a traversal never does).
        Assert.Contains(batches, ids => ids.Distinct().Count() < ids.Length);
        Assert.Equal(25, ds.Take(25).Count());
    }

    [Fact]
    public void Shuffle_defaults_to_graphlearns_traverse_false_and_edges_shuffle_the_same_way()
    {
        long[] Run(bool? traverse) =>
            (traverse is null ? Store.V("user").Batch(3).Shuffle() : Store.V("user").Batch(3).Shuffle(traverse.Value))
            .Alias("u").Values(new GslOptions { Seed = 9 }).Take(5).SelectMany(b => b.Nodes("u").Ids).ToArray();
        Assert.Equal(Run(false), Run(null));
        Assert.NotEqual(Run(true), Run(null));

        var edges = Store.E("u2i").Batch(7).Shuffle().Alias("e").Values(new GslOptions { Seed = 3 });
        Assert.Equal(-1, edges.BatchesPerEpoch);
        // 23 u2i edges: an epoch-bounded walk would end after 4 batches, the last of 2 edges.
        Assert.All(edges.Take(10), b => Assert.Equal(7, b.Edges("e").Count));
    }

    [Fact]
    public void In_degree_negatives_follow_raw_in_degree_and_avoid_true_neighbours()
    {
        var neg = TestGraphs.InDegreeGraph().V("n").Batch(10).Alias("n")
            .OutNeg("e").Sample(30_000).By("in_degree").Alias("neg")
            .Values(new GslOptions { Seed = 4, MaxNegativeRetries = 400 }).Next().Nodes("neg");
        Assert.Equal([10, 30_000], neg.Shape);
        // Node 9 links to nothing: the reached nodes 1, 2, 3 in proportion to their in-degrees 1, 3, 6.
        AssertProportional(Frequencies(neg.Ids.AsSpan(9 * 30_000, 30_000).ToArray(), 1, 2, 3), 1, 3, 6);
        // Node 4 links to 2 and 3 (nine tenths of the mass), so its only true negative is 1; enough retries always reach it.
        Assert.All(neg.Ids.AsSpan(4 * 30_000, 30_000).ToArray(), id => Assert.Equal(1, id));
        // Node 0 links to every reached node: its draws stay true neighbours after the retries and are counted.
        Assert.Equal(30_000, neg.Negatives!.Value.Unresolved);
    }

    [Fact]
    public void Smoothed_in_degree_negatives_keep_the_power_three_quarters_under_their_own_name()
    {
        var neg = TestGraphs.InDegreeGraph().V("n").Batch(10).Alias("n")
            .OutNeg("e").Sample(30_000).By("in_degree_pow0.75").Alias("neg")
            .Values(new GslOptions { Seed = 4 }).Next().Nodes("neg");
        AssertProportional(Frequencies(neg.Ids.AsSpan(9 * 30_000, 30_000).ToArray(), 1, 2, 3), 1, Math.Pow(3, 0.75), Math.Pow(6, 0.75));
    }

    [Fact]
    public void Random_negatives_are_drawn_from_the_ids_the_edge_type_reaches()
    {
        var g = SparseUserItem();
        var batch = g.V("user").Batch(3).Alias("u")
            .OutNeg("u2i").Sample(500).By("random").Alias("neg")
            .Values(new GslOptions { Seed = 6 }).Next();
        var neg = batch.Nodes("neg");
        // Items 13..15 have no u2i edge: GraphLearn's candidates are u2i's destination ids only. Random does not exclude
        // true neighbours by default, so each user's own item shows up too.
        Assert.All(neg.Ids, id => Assert.InRange(id, 10, 12));
        Assert.Contains(neg.Ids[..500], id => id == 10);

        var back = g.V("item").Batch(6).Alias("i").InNeg("u2i").Sample(50).By("random").Alias("neg").Values(new GslOptions { Seed = 6 }).Next();
        Assert.All(back.Nodes("neg").Ids, id => Assert.InRange(id, 0, 2));
    }

    [Fact]
    public void Node_weight_negatives_come_from_the_node_table_by_weight_and_avoid_the_batchs_sources()
    {
        // Users 100..109 weigh 0, 0.5, ..., 4.5: user 100 is never drawn, and 101, 102 are this batch's sources.
        var batch = Store.V("user").Batch(3).Alias("u")
            .Neg("user").Sample(20_000).By("node_weight").Alias("neg")
            .Values(new GslOptions { Seed = 8 }).Next();
        var neg = batch.Nodes("neg");
        Assert.Equal([3, 20_000], neg.Shape);
        Assert.Equal(0, neg.Negatives!.Value.Unresolved);
        Assert.DoesNotContain(neg.Ids, id => id is 100 or 101 or 102);
        var users = Enumerable.Range(103, 7).Select(u => (long)u).ToArray();
        AssertProportional(Frequencies(neg.Ids, users), users.Select(u => (u - 100) * 0.5).ToArray());
    }

    [Fact]
    public void Node_weight_is_refused_along_an_edge_type_and_on_unweighted_nodes_and_Neg_takes_no_other_strategy()
    {
        var alongEdge = Assert.Throws<ArgumentException>(() => Store.V("user").Alias("u").OutNeg("u2i").Sample(2).By("node_weight"));
        Assert.Contains("Neg(nodeType)", alongEdge.Message);
        var unweighted = Assert.Throws<InvalidOperationException>(() => Store.V("user").Alias("u").Neg("item"));
        Assert.Contains("item", unweighted.Message);
        Assert.Contains("weighted decoder", unweighted.Message);
        var other = Assert.Throws<ArgumentException>(() => Store.V("user").Alias("u").Neg("user").Sample(2).By("random"));
        Assert.Contains("outNeg", other.Message);
    }

    [Theory]
    [InlineData("inV")]
    [InlineData("inE")]
    [InlineData("inNeg")]
    public void Walking_a_directed_edge_type_backwards_is_refused_naming_the_type_and_the_out_step(string verb)
    {
        var items = Store.V("item").Alias("i");
        var error = Assert.Throws<InvalidOperationException>(() => verb switch
        {
            "inV" => items.InV("i2i"),
            "inE" => items.InE("i2i"),
            _ => items.InNeg("i2i"),
        });
        Assert.Contains("i2i", error.Message);
        Assert.Contains("directed", error.Message);
        Assert.Contains("out" + verb[2..] + "(\"i2i\")", error.Message);
    }

    [Fact]
    public void Walking_a_reverse_type_backwards_is_refused_pointing_at_the_forward_type()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Store.V("user").Alias("u").InV("u2i_reverse"));
        Assert.Contains("outV(\"u2i\")", error.Message);
    }

    [Fact]
    public void Reverse_traversal_is_refused_for_directed_and_same_type_undirected_edge_types()
    {
        var directed = Assert.Throws<InvalidOperationException>(() => Store.E("i2i", reverse: true));
        Assert.Contains("i2i", directed.Message);
        Assert.Contains("directed", directed.Message);

        var b = new HeteroGraphBuilder();
        var nodes = b.AddNodeType("item", AttributeSchema.Empty);
        for (var i = 0; i < 3; i++) nodes.TryAdd(i, 1f, -1, [], [], [], out _);
        var i2i = b.AddEdgeType(new CanonicalEdgeType("item", "sim", "item"), AttributeSchema.Empty, directed: false);
        i2i.Add(0, 1); i2i.Add(1, 2);
        var g = b.Build();
        var same = Assert.Throws<InvalidOperationException>(() => g.E("sim", reverse: true));
        Assert.Contains("sim", same.Message);
        Assert.Contains("E(\"sim\")", same.Message);
        // Its edges already run both ways: inV is allowed and equals outV.
        var back = g.V("item").Batch(3).Alias("i").InV("sim").By("full").Alias("n").Values().Next().Nodes("n");
        Assert.Equal([1, 0, 2, 1], back.Ids);
    }
    /// <summary>
    /// GraphLearn's <c>g.V("user", feed=ids)</c>: the fed ids are the sources, in their order, one batch without
    /// batch(); an id the graph lacks stays as fed, with default attributes and only padding as neighbours.
    /// </summary>
    [Fact]
    public void V_with_feed_walks_from_the_fed_ids_in_their_order_and_keeps_an_absent_id_with_defaults()
    {
        var g = SparseUserItem();
        var ds = g.V("user", feed: [2, 0, 99, 2]).Alias("u").OutV("u2i").Sample(2).By("random").Alias("i").Values(new GslOptions { Seed = 3, DefaultNeighborId = -7 });
        Assert.Equal(1, ds.BatchesPerEpoch);
        var batch = ds.Next();
        var u = batch.Nodes("u");
        Assert.Equal([2L, 0, 99, 2], u.Ids);
        Assert.Equal(-1, u.DenseIds[2]);
        var items = batch.Nodes("i").Ids;
        Assert.Equal(8, items.Length);
        Assert.Equal([12L, 12], items[0..2]);   // user 2 buys item 12 only
        Assert.Equal([10L, 10], items[2..4]);   // user 0 buys item 10 only
        Assert.Equal([-7L, -7], items[4..6]);   // 99 is not in the graph: padding
        Assert.Throws<OutOfRangeException>(() => ds.Next());

        // With batch(n): batches of n in the fed order.
        var batched = g.V("user", feed: [1, 2, 0]).Batch(2).Alias("u").Values();
        Assert.Equal(2, batched.BatchesPerEpoch);
        Assert.Equal([1L, 2], batched.Next().Nodes("u").Ids);
        Assert.Equal([0L], batched.Next().Nodes("u").Ids);
    }

    /// <summary>GraphLearn's <c>g.V("u2i", node_from=gl.EDGE_SRC|EDGE_DST)</c>: the distinct ends of the edge type, in id order.</summary>
    [Fact]
    public void V_with_node_from_traverses_the_distinct_sources_or_destinations_of_an_edge_type()
    {
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Empty);
        for (var u = 0; u < 5; u++) users.TryAdd(u, 1f, -1, [], [], [], out _);
        var items = b.AddNodeType("item", AttributeSchema.Empty);
        for (var i = 0; i < 4; i++) items.TryAdd(10 + i, 1f, -1, [], [], [], out _);
        var u2i = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty);
        u2i.Add(3, 1); u2i.Add(1, 1); u2i.Add(3, 2); u2i.Add(1, 2);
        var g = b.Build();

        var src = g.V("u2i", NodeFrom.EdgeSrc).Batch(10).Alias("u").Values().Next().Nodes("u");
        Assert.Equal("user", src.Type.Name);
        Assert.Equal([1L, 3], src.Ids);
        var dst = g.V("u2i", NodeFrom.EdgeDst).Batch(10).Alias("i").Values().Next().Nodes("i");
        Assert.Equal("item", dst.Type.Name);
        Assert.Equal([11L, 12], dst.Ids);
        // Shuffled with traverse: each source once per epoch.
        var shuffled = g.V("u2i", NodeFrom.EdgeSrc).Batch(1).Shuffle(traverse: true).Alias("u").Values(new GslOptions { Seed = 9 });
        Assert.Equal([1L, 3], new[] { shuffled.Next().Nodes("u").Ids[0], shuffled.Next().Nodes("u").Ids[0] }.Order());
    }
}
