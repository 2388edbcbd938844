// partition --update: a later day's graph into a new store version that keeps every existing node's id and owner.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Graph.Tables;

namespace GraphActors.Sampling.Tests;

public sealed class StoreUpdateTests : IDisposable
{
    private static readonly NodeType User = new("user");
    private static readonly NodeType Item = new("item");
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-update-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A day's graph: generated tables of <paramref name="users"/> and <paramref name="items"/> (business ids 0.. of each), through the ETL.</summary>
    private string Day(string dt, int users, int items, int seed)
    {
        var tables = Path.Combine(_dir, "tables-" + dt);
        SyntheticGenerator.Run(new GenerateOptions(tables) { Users = users, Items = items, Clicks = users * 6, Swings = items * 5, FeatureDim = 6, Classes = 4, Seed = seed, Dt = dt });
        var cgdf = Path.Combine(_dir, "cgdf", dt);
        HiveToCgdf.Run(new EtlOptions(tables, dt, cgdf));
        return cgdf;
    }

    [Fact]
    public void Two_daily_updates_keep_every_id_and_owner_and_serve_what_a_full_partitioning_of_the_day_serves()
    {
        var day1 = Day("2024-01-01", users: 600, items: 300, seed: 1);
        var first = Path.Combine(_dir, "store-1");
        GraphPartitioner.Run(new CgdfPartitionSource(day1), new PartitionOptions(first, 3));
        // Day 2: 30 new users, 10 items gone (retired); day 3: 25 more users and the 10 items back, 5 more.
        var days = new[] { ("2024-01-02", 630, 290), ("2024-01-03", 655, 305) };
        var previous = first;
        var firstStore = PartitionStore.Open(first);
        using var firstGraph = new PartitionedGraphStore(firstStore);
        var v = 2;
        foreach (var (dt, users, items) in days)
        {
            var cgdf = Day(dt, users, items, seed: v);
            var updated = Path.Combine(_dir, $"store-{v}");
            var (_, counts) = GraphPartitioner.Update(new CgdfPartitionSource(cgdf), previous, new PartitionOptions(updated, 1));
            var full = Path.Combine(_dir, $"full-{v}");
            GraphPartitioner.Run(new CgdfPartitionSource(cgdf), new PartitionOptions(full, 3));

            var store = PartitionStore.Open(updated);
            Assert.Equal(StoreManifest.GenerationsVersion, store.Manifest.FormatVersion);
            Assert.Equal(v - 1, store.Manifest.UpdatedFrom.Count);
            Assert.Equal(v, store.Book.For(User).GenerationCount);
            using var graph = new PartitionedGraphStore(store);
            using var reference = new PartitionedGraphStore(PartitionStore.Open(full));
            var before = PartitionStore.Open(previous);
            using var beforeGraph = new PartitionedGraphStore(before);

            foreach (var (type, count, make) in new[] { (User, users, (Func<int, long>)SyntheticGenerator.UserId), (Item, items, SyntheticGenerator.ItemId) })
            {
                var oldCount = before.Book.NodeCount(type);
                var business = Enumerable.Range(0, count).Select(make).ToArray();
                // Every node the first store held keeps its id and owner, whichever day it was last seen.
                var firstIds = Lookup(firstGraph, type, Enumerable.Range(0, firstStore.Book.NodeCount(type)).Select(make).ToArray());
                Assert.DoesNotContain(-1, firstIds);
                var idsNow = Lookup(graph, type, Enumerable.Range(0, firstStore.Book.NodeCount(type)).Select(make).ToArray());
                Assert.Equal(firstIds, idsNow);
                Assert.All(firstIds, id => Assert.Equal(firstStore.Book.Owner(type, id), store.Book.Owner(type, id)));

                var ids = Lookup(graph, type, business);
                Assert.DoesNotContain(-1, ids);
                var expectedNew = business.Count(b => Lookup(beforeGraph, type, [b])[0] < 0);
                var c = counts.Single(x => x.Type == type.Name);
                Assert.Equal(expectedNew, c.Added);
                Assert.Equal(oldCount - (count - expectedNew), c.Retired);
                Assert.All(ids.Where((id, i) => Lookup(beforeGraph, type, [business[i]])[0] < 0), id => Assert.True(id >= oldCount));

                // Features, labels, degrees and neighbours (as business ids) are the day's, as a full partitioning gives them.
                var refIds = Lookup(reference, type, business);
                Assert.Equal(Features(reference, type, refIds), Features(graph, type, ids));
                Assert.Equal(Labels(reference, type, refIds), Labels(graph, type, ids));
                foreach (var split in new[] { SplitKind.Train, SplitKind.Val, SplitKind.Test })
                    Assert.Equal(BusinessOf(reference, type, Await(reference.GetSplitAsync(type, split))).Order(),
                        BusinessOf(graph, type, Await(graph.GetSplitAsync(type, split))).Order());
            }
            foreach (var e in store.Manifest.EdgeTypes.Select(x => x.Type))
            {
                Assert.Equal(Edges(reference, e), Edges(graph, e));
                foreach (var incoming in new[] { false, true })
                {
                    var rowType = incoming ? e.Dst : e.Src;
                    var all = Enumerable.Range(0, store.Book.NodeCount(rowType)).ToArray();
                    var refAll = Lookup(reference, rowType, BusinessOf(graph, rowType, all));
                    var present = all.Where(id => refAll[id] >= 0).ToArray(); // retired nodes are checked below
                    Assert.Equal(Neighbours(reference, e, incoming, present.Select(id => refAll[id]).ToArray()), Neighbours(graph, e, incoming, present));
                }
            }

            // Retired nodes: still looked up, with yesterday's features; no edges, in no split.
            var retired = Enumerable.Range(0, before.Book.NodeCount(Item)).Select(SyntheticGenerator.ItemId).Where(b => b >= SyntheticGenerator.ItemId(items)).ToArray();
            Assert.Equal(dt == "2024-01-02" ? 10 : 0, retired.Length);
            if (retired.Length > 0)
            {
                var retiredIds = Lookup(graph, Item, retired);
                Assert.Equal(Lookup(beforeGraph, Item, retired), retiredIds);
                Assert.Equal(Features(beforeGraph, Item, retiredIds), Features(graph, Item, retiredIds));
                Assert.Equal(Labels(beforeGraph, Item, retiredIds), Labels(graph, Item, retiredIds));
                Assert.Equal(retired, BusinessOf(graph, Item, retiredIds));
                var degrees = new int[retiredIds.Length];
                Await(graph.GetDegreesAsync(store.Manifest.EdgeTypes.Select(x => x.Type).First(t => t.Dst == Item), true, retiredIds, degrees));
                Assert.All(degrees, d => Assert.Equal(0, d));
                var train = Await(graph.GetSplitAsync(Item, SplitKind.Train)).ToHashSet();
                Assert.DoesNotContain(retiredIds, train.Contains);
            }
            previous = updated;
            v++;
        }
    }

    [Theory]
    [InlineData("hash", true)]    // asked for
    [InlineData("metis", false)]  // a METIS store's default
    public void New_nodes_placed_by_neighbours_go_where_most_of_their_existing_neighbours_are(string method, bool ask)
    {
        var day1 = Day("2024-01-01", users: 400, items: 200, seed: 1);
        var first = Path.Combine(_dir, "store-1");
        GraphPartitioner.Run(new CgdfPartitionSource(day1), new PartitionOptions(first, 4, method));
        var day2 = Day("2024-01-02", users: 440, items: 200, seed: 2);
        var updated = Path.Combine(_dir, "store-2");
        GraphPartitioner.Update(new CgdfPartitionSource(day2), first, new PartitionOptions(updated, 1), ask ? NewNodePlacement.Neighbours : null);

        var store = PartitionStore.Open(updated);
        using var graph = new PartitionedGraphStore(store);
        var click = store.Manifest.EdgeTypes.Select(x => x.Type).Single(t => t.Src == User);
        var newUsers = Lookup(graph, User, Enumerable.Range(400, 40).Select(SyntheticGenerator.UserId).ToArray());
        var placedByVotes = 0;
        foreach (var u in newUsers)
        {
            var sample = Await(graph.SampleNeighborsAsync(click, false, new[] { u }, 0, SamplingStrategy.Full, 1));
            var votes = new int[4];
            foreach (var item in sample.Neighbors) votes[store.Book.Owner(Item, item)]++;
            if (votes.Max() == 0) continue; // no clicks: the hash partition
            var best = Array.IndexOf(votes, votes.Max());
            Assert.Equal(best, store.Book.Owner(User, u));
            placedByVotes++;
            sample.Dispose();
        }
        Assert.True(placedByVotes >= 30, $"only {placedByVotes} of 40 new users had clicks");
    }

    [Fact]
    public void An_update_that_changes_a_feature_width_is_refused_naming_the_type_and_writes_nothing()
    {
        var day1 = Day("2024-01-01", users: 100, items: 50, seed: 1);
        var first = Path.Combine(_dir, "store-1");
        GraphPartitioner.Run(new CgdfPartitionSource(day1), new PartitionOptions(first, 2));
        var tables = Path.Combine(_dir, "tables-wide");
        SyntheticGenerator.Run(new GenerateOptions(tables) { Users = 100, Items = 50, Clicks = 600, Swings = 250, FeatureDim = 7, Classes = 4, Seed = 2, Dt = "2024-01-02" });
        var cgdf = Path.Combine(_dir, "cgdf-wide");
        HiveToCgdf.Run(new EtlOptions(tables, "2024-01-02", cgdf));
        var target = Path.Combine(_dir, "store-2");
        var e = Assert.Throws<BadInputException>(() => GraphPartitioner.Update(new CgdfPartitionSource(cgdf), first, new PartitionOptions(target, 1)));
        Assert.Matches("node type '(user|item)' has 7 features per node, the previous store 6", e.Message);
        Assert.False(Directory.Exists(target));
    }

    private static T Await<T>(ValueTask<T> task) => task.AsTask().GetAwaiter().GetResult();
    private static void Await(ValueTask task) => task.AsTask().GetAwaiter().GetResult();

    private static int[] Lookup(IGraphStore g, NodeType type, long[] business)
    {
        var ids = new int[business.Length];
        Await(g.LookupIdsAsync(type, business, ids));
        return ids;
    }

    private static long[] BusinessOf(IGraphStore g, NodeType type, int[] ids)
    {
        var b = new long[ids.Length];
        Await(g.GetBusinessIdsAsync(type, ids, b));
        return b;
    }

    private static float[] Features(IGraphStore g, NodeType type, int[] ids)
    {
        var f = new float[ids.Length * g.Schema.Node(type).FeatureDim];
        Await(g.GatherFeaturesAsync(type, ids, f));
        return f;
    }

    private static int[] Labels(IGraphStore g, NodeType type, int[] ids)
    {
        var l = new int[ids.Length];
        Await(g.GatherLabelsAsync(type, ids, l));
        return l;
    }

    private static List<(long, long)> Edges(IGraphStore g, CanonicalEdgeType type)
    {
        var e = Await(g.GetEdgesAsync(type));
        var src = BusinessOf(g, type.Src, e.Src);
        var dst = BusinessOf(g, type.Dst, e.Dst);
        return src.Zip(dst).Order().ToList();
    }

    /// <summary>Each row's full neighbour list as sorted business ids.</summary>
    private static List<string> Neighbours(IGraphStore g, CanonicalEdgeType type, bool incoming, int[] rows)
    {
        using var s = Await(g.SampleNeighborsAsync(type, incoming, rows, 0, SamplingStrategy.Full, 1));
        var nbrType = incoming ? type.Src : type.Dst;
        var result = new List<string>();
        for (var i = 0; i < rows.Length; i++)
        {
            var ids = s.Neighbors.Slice(s.Offsets[i], s.Offsets[i + 1] - s.Offsets[i]).ToArray();
            result.Add(string.Join(",", BusinessOf(g, nbrType, ids).Order()));
        }
        return result;
    }
}
