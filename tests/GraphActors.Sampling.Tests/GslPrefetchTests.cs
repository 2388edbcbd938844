// GraphLearn's gl.Dataset(query, window=N): batches built ahead by a background task, the same as built on demand.
using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class GslPrefetchTests
{
    private static readonly HeteroGraph Store = TestGraphs.UserItem();

    /// <summary>Random sources per epoch, fixed and full hops, edges with their far end, negatives: every kind of draw.</summary>
    private static GslDataset Query(int window, bool endless = false)
    {
        var u = Store.V("user").Batch(3);
        u = endless ? u.Shuffle() : u.Shuffle(traverse: true);
        return u.Alias("u").Each(
                v => v.OutV("u2i").Sample(4).By("edge_weight").Alias("i").OutV("i2i").Sample(2).By("random").Alias("ii"),
                v => v.OutE("u2i").By("full").Alias("e").InV().Alias("e_dst"),
                v => v.OutNeg("u2i").Sample(3).By("in_degree").Alias("neg"))
            .Values(new GslOptions { Seed = 17, Window = window });
    }

    private static string Describe(GslBatch b) =>
        $"{b.Epoch}/{b.Index}: " + string.Join(" | ", new[] { "u", "i", "ii", "e_dst", "neg" }.Select(a => string.Join(",", b.Nodes(a).Ids)))
        + " | " + string.Join(",", b.Edges("e").EdgeIds);

    /// <summary>Three epochs through the cursor, with the end of each epoch where TryNext reports it.</summary>
    private static List<string> ThreeEpochs(GslDataset ds)
    {
        var seen = new List<string>();
        for (var epoch = 0; epoch < 3; epoch++)
        {
            while (ds.TryNext(out var b)) seen.Add(Describe(b));
            seen.Add("end of epoch");
        }
        return seen;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(10)]
    public void A_window_gives_the_same_batches_in_the_same_order_as_building_on_demand(int window)
    {
        var onDemand = ThreeEpochs(Query(window: 0));
        using var prefetched = Query(window);
        Assert.Equal(window, prefetched.Window);
        var ahead = ThreeEpochs(prefetched);
        Assert.Equal(3 * (4 + 1), ahead.Count); // ten users in batches of three: four batches, then the end, per epoch
        Assert.Equal(onDemand, ahead);
        Assert.Equal(3, prefetched.EpochsStarted);
        for (var b = 0; b < 4; b++) prefetched.Next();
        Assert.Throws<OutOfRangeException>(() => prefetched.Next());
    }

    [Fact]
    public void Foreach_over_a_windowed_dataset_runs_whole_epochs_as_without_a_window()
    {
        var onDemand = Query(window: 0);
        using var prefetched = Query(window: 3);
        for (var epoch = 0; epoch < 2; epoch++)
            Assert.Equal(onDemand.Select(Describe).ToArray(), prefetched.Select(Describe).ToArray());
    }

    [Fact]
    public void An_endless_windowed_dataset_matches_the_endless_one_built_on_demand()
    {
        var onDemand = Query(window: 0, endless: true);
        using var prefetched = Query(window: 4, endless: true);
        Assert.True(prefetched.Endless);
        for (var b = 0; b < 25; b++) Assert.Equal(Describe(onDemand.Next()), Describe(prefetched.Next()));
    }

    [Fact]
    public void A_failure_while_building_surfaces_at_Next_with_its_own_type_and_again_after()
    {
        // The positives are ragged (every item of a user), so whether they pair one per source shows only per batch.
        GslDataset Mispaired(int window)
        {
            var u = Store.V("user").Batch(4).Alias("u");
            u.OutV("u2i").By("full").Alias("items");
            u.OutNeg("u2i").Sample(2).By("random").Where("items").Alias("neg");
            return u.Values(new GslOptions { Window = window });
        }

        var expected = Assert.Throws<InvalidOperationException>(() => Mispaired(0).Next());
        using var ds = Mispaired(window: 3); // the task fails in the background; nothing shows until a read
        var first = Assert.Throws<InvalidOperationException>(() => ds.Next());
        Assert.Equal(expected.Message, first.Message);
        Assert.Contains("row i pairs source i with positive i", first.Message);
        var again = Assert.Throws<InvalidOperationException>(() => ds.TryNext(out _));
        Assert.Equal(expected.Message, again.Message);
        // The task stops after queueing its failure (it may still be finishing when the reader meets it).
        Assert.True(SpinWait.SpinUntil(() => !ds.Prefetching, TimeSpan.FromSeconds(10)), "the prefetch task kept running after its failure");
    }

    [Fact]
    public void Dispose_stops_the_prefetch_task_and_later_reads_are_refused()
    {
        var ds = Query(window: 2, endless: true);
        ds.Next();
        Assert.True(ds.Prefetching); // waiting for room: an endless query never runs out of batches to build
        ds.Dispose();
        Assert.False(ds.Prefetching);
        Assert.Throws<ObjectDisposedException>(() => ds.Next());
        Assert.Throws<ObjectDisposedException>(() => ds.First());
        ds.Dispose();

        var negative = Assert.Throws<ArgumentOutOfRangeException>(() => Store.V("user").Alias("u").Values(new GslOptions { Window = -1 }));
        Assert.Contains("Window", negative.Message);
    }
}
