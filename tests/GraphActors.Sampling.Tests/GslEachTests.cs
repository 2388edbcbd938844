// GraphLearn's each(lambda v: (…)): one step fanned out into several sub-queries, every branch in the batch.
using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class GslEachTests
{
    private static readonly HeteroGraph Store = TestGraphs.UserItem();

    [Fact]
    public void Each_puts_every_branch_in_the_batch_under_its_alias_with_graphlearns_shapes()
    {
        var batch = Store.V("user").Batch(4).Alias("src").Each(
                v => v.OutV("u2i").Sample(5).By("random").Alias("nbr"),
                v => v.OutNeg("u2i").Sample(3).By("random").Alias("neg"))
            .Values(new GslOptions { Seed = 1 }).Next();

        Assert.Equal(["nbr", "neg", "src"], batch.Aliases.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal([4], batch["src"].Shape);
        Assert.Equal([4, 5], batch["nbr"].Shape);
        Assert.Equal([4, 3], batch["neg"].Shape);
        // Each neighbour row belongs to its source: user u buys items u % 5 and (u + 1) % 5.
        var src = batch.Nodes("src").DenseIds;
        var nbr = batch.Nodes("nbr").DenseIds;
        for (var row = 0; row < 4; row++)
            for (var j = 0; j < 5; j++)
                Assert.Contains(nbr[row * 5 + j], new[] { src[row] % 5, (src[row] + 1) % 5 });
    }

    [Fact]
    public void Each_samples_exactly_what_the_same_branches_written_from_a_variable_sample()
    {
        long[] Flatten(GslBatch b) => b.Nodes("src").Ids.Concat(b.Nodes("nbr").Ids).Concat(b.Nodes("neg").Ids).ToArray();

        var viaEach = Store.V("user").Batch(3).Shuffle(traverse: true).Alias("src").Each(
                v => v.OutV("u2i").Sample(4).By("edge_weight").Alias("nbr"),
                v => v.OutNeg("u2i").Sample(2).By("in_degree").Alias("neg"))
            .Values(new GslOptions { Seed = 7 }).SelectMany(Flatten).ToArray();

        var src = Store.V("user").Batch(3).Shuffle(traverse: true).Alias("src");
        src.OutV("u2i").Sample(4).By("edge_weight").Alias("nbr");
        src.OutNeg("u2i").Sample(2).By("in_degree").Alias("neg");
        var viaVariable = src.Values(new GslOptions { Seed = 7 }).SelectMany(Flatten).ToArray();

        Assert.Equal(viaVariable, viaEach);
    }

    /// <summary>The bipartite GraphSAGE query of GraphLearn's GSL document: nested each over an edge source.</summary>
    [Fact]
    public void Nested_each_over_edges_gives_both_ends_their_own_hops_as_graphlearns_document_writes_it()
    {
        var batch = Store.E("u2i").Batch(8).Shuffle().Alias("edge").Each(
                edge => edge.OutV().Alias("src").Each(
                    src => src.OutV("u2i").Sample(10).By("edge_weight").Alias("src_1hop"),
                    src => src.OutNeg("u2i").Sample(5).By("in_degree").Alias("src_neg")
                        .OutV("i2i").Sample(10).By("random").Alias("src_neg_1hop")),
                edge => edge.InV().Alias("dst").OutV("i2i").Sample(10).By("random").Alias("dst_1hop"))
            .Values(new GslOptions { Seed = 3 }).Next();

        Assert.Equal(7, batch.Aliases.Count);
        Assert.Equal([8], batch["edge"].Shape);
        Assert.Equal([8], batch["src"].Shape);
        Assert.Equal([8, 10], batch["src_1hop"].Shape);
        Assert.Equal([8, 5], batch["src_neg"].Shape);
        Assert.Equal([40, 10], batch["src_neg_1hop"].Shape);
        Assert.Equal([8], batch["dst"].Shape);
        Assert.Equal([8, 10], batch["dst_1hop"].Shape);
        var edge = batch.Edges("edge");
        Assert.Equal(edge.SrcIds, batch.Nodes("src").Ids);
        Assert.Equal(edge.DstIds, batch.Nodes("dst").Ids);
        // i2i: item i → item (i + 1) % 5 only, so every hop of dst is its successor.
        var dst = batch.Nodes("dst").DenseIds;
        var hop = batch.Nodes("dst_1hop").DenseIds;
        for (var row = 0; row < 8; row++) Assert.All(hop[(row * 10)..(row * 10 + 10)], d => Assert.Equal((dst[row] + 1) % 5, d));
    }

    [Fact]
    public void A_branch_that_does_not_continue_its_step_or_returns_nothing_is_refused()
    {
        var other = Store.V("item").Alias("other");
        var stray = Assert.Throws<InvalidOperationException>(() =>
            Store.V("user").Alias("u").Each(_ => other.OutV("i2i").Sample(1).By("random").Alias("x")));
        Assert.Contains("Branch 0", stray.Message);
        Assert.Contains("V(user)", stray.Message);

        var none = Assert.Throws<InvalidOperationException>(() =>
            Store.V("user").Alias("u").Each(v => v.OutV("u2i").Sample(1).By("random").Alias("i"), _ => null!));
        Assert.Contains("Branch 1", none.Message);
        Assert.Throws<ArgumentException>(() => Store.V("user").Alias("u").Each());
    }
}
