using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class GslTests
{
    private static readonly HeteroGraph Store = TestGraphs.UserItem();

    [Fact]
    public void Enumerating_a_dataset_runs_one_epoch_with_a_short_last_batch()
    {
        var ds = Store.V("user").Batch(4).Alias("u").Values();
        var sizes = ds.Select(b => b.Nodes("u").Count).ToArray();
        Assert.Equal([4, 4, 2], sizes);
        Assert.Equal(3, ds.BatchesPerEpoch);
    }

    [Fact]
    public void Next_throws_out_of_range_at_the_end_of_an_epoch_and_then_starts_the_next()
    {
        var ds = Store.V("user").Batch(4).Alias("u").Values();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++) ids.AddRange(ds.Next().Nodes("u").Ids);
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (long)i), ids);
        var error = Assert.Throws<OutOfRangeException>(() => ds.Next());
        Assert.Contains("End of epoch", error.Message);
        var next = ds.Next();
        Assert.Equal(1, next.Epoch);
        Assert.Equal(0, next.Index);
    }

    [Fact]
    public void TryNext_reports_the_end_of_an_epoch_with_false()
    {
        var ds = Store.V("item").Batch(5).Alias("i").Values();
        Assert.True(ds.TryNext(out _));
        Assert.False(ds.TryNext(out _));
        Assert.True(ds.TryNext(out var again));
        Assert.Equal(1, again.Epoch);
    }

    [Fact]
    public void Shuffle_with_traverse_visits_every_source_once_per_epoch_in_a_new_order_each_epoch()
    {
        var ds = Store.V("user").Batch(3).Shuffle(traverse: true).Alias("u").Values(new GslOptions { Seed = 11 });
        var first = ds.SelectMany(b => b.Nodes("u").Ids).ToArray();
        var second = ds.SelectMany(b => b.Nodes("u").Ids).ToArray();
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (long)i), first.Order());
        Assert.Equal(Enumerable.Range(100, 10).Select(i => (long)i), second.Order());
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void The_same_seed_gives_the_same_batches()
    {
        long[] Run(ulong seed)
        {
            // Two branches from the same step, as GraphLearn writes with a variable.
            var u = Store.V("user").Batch(4).Shuffle(traverse: true).Alias("u");
            u.OutV("u2i").Sample(3).By("random").Alias("i");
            u.OutNeg("u2i").Sample(2).By("in_degree").Alias("neg");
            return u.Values(new GslOptions { Seed = seed })
                .SelectMany(b => b.Nodes("u").Ids.Concat(b.Nodes("i").Ids).Concat(b.Nodes("neg").Ids)).ToArray();
        }
        Assert.Equal(Run(3), Run(3));
        Assert.NotEqual(Run(3), Run(4));
    }

    [Fact]
    public void Fixed_size_hops_have_shape_batch_by_k_then_batch_times_k_by_k()
    {
        var batch = Store.V("user").Batch(4).Alias("u")
            .OutV("u2i").Sample(3).By("random").Alias("i")
            .OutV("i2i").Sample(2).By("topk").Alias("ii")
            .Values().Next();
        Assert.Equal([4], batch["u"].Shape);
        Assert.Equal([4, 3], batch["i"].Shape);
        Assert.Equal([12, 2], batch["ii"].Shape);
        var u = batch.Nodes("u");
        var i = batch.Nodes("i");
        for (var row = 0; row < 4; row++)
        {
            var d = u.DenseIds[row];
            var expected = new[] { d % 5, (d + 1) % 5 };
            for (var j = 0; j < 3; j++) Assert.Contains(i.DenseIds[row * 3 + j], expected);
        }
        // i2i has one out-edge per item: topk 2 pads the second slot with the default id.
        var ii = batch.Nodes("ii");
        for (var row = 0; row < 12; row++)
        {
            Assert.Equal((i.DenseIds[row] + 1) % 5, ii.DenseIds[row * 2]);
            Assert.Equal(-1, ii.DenseIds[row * 2 + 1]);
            Assert.Equal(0, ii.Ids[row * 2 + 1]);
        }
    }

    [Fact]
    public void Replicate_padding_uses_the_configured_default_neighbour_id()
    {
        var batch = Store.V("user").Batch(2).Alias("u")
            .OutV("u2i").Sample(4).By("random_without_replacement").Alias("i")
            .Values(new GslOptions { DefaultNeighborId = -7 }).Next();
        var i = batch.Nodes("i");
        // Users 0 and 1 have two items each: two real, two padded per row.
        // Without replacement and degree ≤ k, the row comes back whole and in row order, then the padding.
        Assert.Equal([200, 201, -7, -7, 201, 202, -7, -7], i.Ids);
        Assert.Equal(-1, i.DenseIds[3]);
        Assert.Equal(0f, i.FloatAttrs[3 * 2]);
    }

    [Fact]
    public void Circular_padding_repeats_the_real_neighbours()
    {
        var batch = Store.V("user").Batch(1).Alias("u")
            .OutV("u2i").Sample(5).By("topk").Alias("i")
            .Values(new GslOptions { Padding = PaddingMode.Circular }).Next();
        // User 0 buys items 0 and 1 with equal weight: topk keeps row order, then repeats it.
        Assert.Equal([200, 201, 200, 201, 200], batch.Nodes("i").Ids);
    }

    [Fact]
    public void Full_sampling_returns_ragged_rows_with_offsets()
    {
        var batch = Store.V("user").Batch(10).Alias("u")
            .OutV("u2i").By("full").Alias("i")
            .Values().Next();
        var i = batch.Nodes("i");
        Assert.True(i.IsRagged);
        Assert.Equal([10, -1], i.Shape);
        Assert.Equal(9 * 2 + 5, i.Count);
        Assert.Equal(11, i.Offsets!.Length);
        Assert.Equal(5, i.Offsets[10] - i.Offsets[9]);
        Assert.Equal([200, 201, 202, 203, 204], i.Ids[i.Offsets[9]..]);
    }

    [Fact]
    public void Each_alias_carries_its_weights_labels_and_attributes()
    {
        var batch = Store.V("user").Batch(3).Alias("u")
            .OutE("u2i").Sample(2).By("topk").Alias("e")
            .InV().Alias("i")
            .Values().Next();
        var u = batch.Nodes("u");
        Assert.Equal([100, 101, 102], u.Ids);
        Assert.Equal([0, 1, 0], u.Labels!);
        Assert.Equal([0f, 0.5f, 1f], u.Weights!);
        Assert.Equal([0L, 10, 20], u.IntAttrs);
        Assert.Equal([0.25f, 1.25f, 2.25f], u.FloatAttrs);
        Assert.Equal(["u0", "u1", "u2"], u.StringAttrs);

        var e = batch.Edges("e");
        Assert.Equal([3, 2], e.Shape);
        Assert.Equal([100, 100, 101, 101, 102, 102], e.SrcIds);
        Assert.Equal([1f, 1f, 2f, 2f, 3f, 3f], e.Weights!);
        Assert.Null(e.Labels);

        var i = batch.Nodes("i");
        Assert.Equal(e.DstIds, i.Ids);
        Assert.Equal(2, i.Columns.FloatAttrCount);
        Assert.Equal(i.FloatAttrs[0], i.DenseIds[0]);
        Assert.Null(i.Weights);
    }

    [Fact]
    public void Edge_traversal_gives_both_ends_and_negatives_of_the_source()
    {
        var batch = Store.E("u2i").Batch(4).Alias("edge")
            .OutV().Alias("src")
            .OutNeg("u2i").Sample(3).By("random").ExcludeTrueNeighbors().Alias("neg")
            .Values(new GslOptions { Seed = 2 }).Next();
        var edge = batch.Edges("edge");
        var src = batch.Nodes("src");
        Assert.Equal(edge.SrcIds, src.Ids);
        var neg = batch.Nodes("neg");
        Assert.Equal([4, 3], neg.Shape);
        var adjacency = Store.Edges("u2i").Out;
        for (var row = 0; row < 4; row++)
            for (var j = 0; j < 3; j++)
                Assert.False(adjacency.Contains(src.DenseIds[row], neg.DenseIds[row * 3 + j]));
        Assert.Equal(0, neg.Negatives!.Value.Unresolved);
    }

    [Fact]
    public void Reverse_edges_are_walked_by_name_or_with_inV()
    {
        var byName = Store.V("item").Batch(5).Alias("i").OutV("u2i_reverse").By("full").Alias("u").Values().Next().Nodes("u");
        var byInV = Store.V("item").Batch(5).Alias("i").InV("u2i").By("full").Alias("u").Values().Next().Nodes("u");
        Assert.Equal(byName.Ids, byInV.Ids);
        Assert.Equal(byName.Offsets, byInV.Offsets);
        // Item 0 is bought by users 0, 4, 5 and 9.
        Assert.Equal([100, 104, 105, 109], byName.Ids[..byName.Offsets![1]]);
    }

    [Fact]
    public void A_reverse_source_traverses_the_reverse_edges()
    {
        var edge = Store.E("u2i", reverse: true).Batch(100).Alias("e").Values().Next().Edges("e");
        Assert.Equal("u2i_reverse", edge.Type.Relation);
        Assert.All(edge.SrcIds, id => Assert.InRange(id, 200, 204));
        Assert.All(edge.DstIds, id => Assert.InRange(id, 100, 109));
    }

    [Fact]
    public void A_query_without_aliases_or_strategies_is_refused_with_a_reason()
    {
        var missingAlias = Assert.Throws<InvalidOperationException>(() => Store.V("user").Batch(2).OutV("u2i").Sample(2).By("random").Values());
        Assert.Contains("alias", missingAlias.Message);
        var missingBy = Assert.Throws<InvalidOperationException>(() => Store.V("user").Alias("u").OutV("u2i").Sample(2).Alias("i").Values());
        Assert.Contains("By(strategy)", missingBy.Message);
        Assert.Throws<InvalidOperationException>(() => Store.V("user").Alias("u").OutV("i2i"));
        Assert.Throws<ArgumentException>(() => Store.V("user").Alias("u").OutV("u2i").Sample(2).By("uniform"));
    }
}
