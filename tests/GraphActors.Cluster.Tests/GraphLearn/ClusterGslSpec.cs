using System.Globalization;
using System.Text;
using GraphActors.Cluster.GraphLearn;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Sampling;
using GraphActors.TestSupport;
using GlGraph = GraphActors.Graph.GraphLearn.Graph;
using Decoder = GraphActors.Graph.GraphLearn.Decoder;

namespace GraphActors.Cluster.Tests.GraphLearn;

/// <summary>
/// GSL on a ClusterGraph: tasks of one cluster (in this process, on 127.0.0.1) each walk their share of the nodes
/// through the partitions, and the shares make up the whole type once per epoch.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class ClusterGslSpec
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private const int Users = 90;
    private const int Items = 20;

    private const string Fast = """
        akka.loglevel = WARNING
        graphactors.training-coordinator { plan-delay = 1s, min-trainers = 2 }
        graphactors.trainer.register-interval = 500ms
        """;

    private sealed record Sources(string Users, string Items, string Clicks, HashSet<(long, long)> Bought, Dictionary<long, float[]> Features);

    // Users 1000 + u (label u % 3, four features), items 1 + i (two features); every user clicks 1 to 4 items, weighted.
    private static Sources Write(string dir)
    {
        Directory.CreateDirectory(dir);
        var inv = CultureInfo.InvariantCulture;
        var rnd = new Random(11);
        var features = new Dictionary<long, float[]>();
        var users = new StringBuilder("id:int64\tlabel:int32\tattributes:string\n");
        for (var u = 0; u < Users; u++)
        {
            float[] f = [u, u % 3, 0.5f, -u];
            features[1000 + u] = f;
            users.Append(inv, $"{1000 + u}\t{u % 3}\t{string.Join(':', f.Select(x => x.ToString(inv)))}\n");
        }
        var items = new StringBuilder("id:int64\tattributes:string\n");
        for (var i = 0; i < Items; i++)
        {
            float[] f = [i, 2];
            features[-(1 + i)] = f; // item features kept under a negative key: the two types' business ids are separate spaces
            items.Append(inv, $"{1 + i}\t{string.Join(':', f.Select(x => x.ToString(inv)))}\n");
        }
        var bought = new HashSet<(long, long)>();
        var clicks = new StringBuilder("src_id:int64\tdst_id:int64\tweight:float\n");
        for (var u = 0; u < Users; u++)
            for (var k = 1 + rnd.Next(4); k > 0; k--)
            {
                var i = rnd.Next(Items);
                if (bought.Add((1000 + u, 1 + i))) clicks.Append(inv, $"{1000 + u}\t{1 + i}\t{1 + rnd.Next(5)}\n");
            }
        var paths = (Path.Combine(dir, "users.txt"), Path.Combine(dir, "items.txt"), Path.Combine(dir, "clicks.txt"));
        File.WriteAllText(paths.Item1, users.ToString());
        File.WriteAllText(paths.Item2, items.ToString());
        File.WriteAllText(paths.Item3, clicks.ToString());
        return new Sources(paths.Item1, paths.Item2, paths.Item3, bought, features);
    }

    private static GlGraph Declare(Sources s) => new GlGraph()
        .Node(s.Users, "user", new Decoder(labeled: true, attrTypes: ["float", "float", "float", "float"]))
        .Node(s.Items, "item", new Decoder(attrTypes: ["float", "float"]))
        .Edge(s.Clicks, ("user", "item", "u2i"), new Decoder(weighted: true), directed: false);

    /// <summary>One epoch of GraphLearn's loop: Next() until OutOfRange; every user and item checked against the files.</summary>
    private static List<long> WalkEpoch(ClusterGraph g, Sources s, int batch, int k)
    {
        using var ds = g.V("user").Batch(batch).Shuffle(traverse: true).Alias("u").OutV("u2i").Sample(k).By("random").Alias("i").Values();
        var walked = new List<long>();
        while (true)
        {
            GslBatch b;
            try { b = ds.Next(); }
            catch (OutOfRangeException) { return walked; }
            var u = b.Nodes("u");
            var i = b.Nodes("i");
            Assert.Equal([u.Rows, k], i.Shape);
            for (var j = 0; j < u.Count; j++)
            {
                Assert.Equal(s.Features[u.Ids[j]], u.FloatAttrs[(j * 4)..((j + 1) * 4)]);
                Assert.Equal((int)((u.Ids[j] - 1000) % 3), u.Labels![j]);
            }
            for (var j = 0; j < i.Count; j++)
            {
                Assert.Contains((u.Ids[j / k], i.Ids[j]), s.Bought);
                Assert.Equal(s.Features[-i.Ids[j]], i.FloatAttrs[(j * 2)..((j + 1) * 2)]);
            }
            walked.AddRange(u.Ids);
        }
    }

    [Fact]
    public async Task Worker_mode_tasks_walk_their_shares_of_the_users_and_the_shares_are_every_user_once_per_epoch()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-gsl-worker", Guid.NewGuid().ToString("N"));
        var sources = Write(dir);
        var hosts = new[] { $"127.0.0.1:{TestNodes.FreePort()}", $"127.0.0.1:{TestNodes.FreePort()}" };
        var store = Path.Combine(dir, "store");
        var t1 = Declare(sources).InitAsync(new WorkerMode(1, 2, hosts, store) { Hocon = Fast, Timeout = Wait });
        var t0 = Declare(sources).InitAsync(new WorkerMode(0, 2, hosts, store) { Hocon = Fast, Timeout = Wait });
        await using var w0 = await t0;
        await using var w1 = await t1;
        Assert.Equal((0, 2), (w0.Gsl.TaskIndex, w0.Gsl.TaskCount));
        Assert.Equal((1, 2), (w1.Gsl.TaskIndex, w1.Gsl.TaskCount));

        for (var epoch = 0; epoch < 2; epoch++)
        {
            // Both workers at once, as two training loops would run; batch 8 does not divide a share of 45.
            var walks = await Task.WhenAll(Task.Run(() => WalkEpoch(w0, sources, 8, 3)), Task.Run(() => WalkEpoch(w1, sources, 8, 3)));
            Assert.Equal(Users / 2, walks[0].Count);
            Assert.Equal(Users / 2, walks[1].Count);
            Assert.Empty(walks[0].Intersect(walks[1]));
            Assert.Equal(Enumerable.Range(1000, Users).Select(x => (long)x), walks[0].Concat(walks[1]).Order());
        }

        // Edge sources split the same way; negatives come from the partitions and are never a user's own item.
        static (long, long)[] EdgesOf(ClusterGraph w)
        {
            var e = w.E("u2i").Batch(1000).Alias("e").Values().Single().Edges("e");
            return e.SrcIds.Zip(e.DstIds).ToArray();
        }
        var edges = await Task.WhenAll(Task.Run(() => EdgesOf(w0)), Task.Run(() => EdgesOf(w1)));
        Assert.Equal(sources.Bought.Order(), edges[0].Concat(edges[1]).Order());
        Assert.Empty(edges[0].Intersect(edges[1]));
        var negatives = await Task.Run(() => w1.V("user").Batch(Users).Alias("u").OutNeg("u2i").Sample(2).By("in_degree_pow0.75").Alias("n")
            .Values().Single());
        var (users, negs) = (negatives.Nodes("u"), negatives.Nodes("n"));
        Assert.Equal([Users / 2, 2], negs.Shape);
        for (var j = 0; j < negs.Count; j++) Assert.DoesNotContain((users.Ids[j / 2], negs.Ids[j]), sources.Bought);

        // The undirected type is walked backwards through its reverse, and a declared direction is enforced as in local mode.
        var back = w1.V("item", [1, 2]).Alias("i").InV("u2i").By("full").Alias("buyers").Values().Single();
        var buyers = back.Nodes("buyers");
        Assert.Equal(sources.Bought.Count(b => b.Item2 == 1), buyers.Lens![0]);
        Assert.All(buyers.Ids[..buyers.Lens[0]], u => Assert.Contains((u, 1L), sources.Bought));
        Assert.Throws<InvalidOperationException>(() => w0.V("user").InV("u2i_reverse"));
        // These items were loaded unweighted: node_weight has nothing to draw by.
        Assert.Throws<NotSupportedException>(() => w0.V("user").Neg("item"));
    }

    private static GlGraph DeclareAttributed(AttributedSources s) => new GlGraph()
        .Node(s.Users, "user", new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.UserAttrTypes))
        .Node(s.Items, "item", new Decoder(weighted: true, attrTypes: AttributedSources.ItemAttrTypes))
        .Edge(s.Clicks, ("user", "item", "u2i"), new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.ClickAttrTypes), directed: false)
        .Edge(s.Similar, ("item", "item", "i2i"), new Decoder(labeled: true, attrTypes: AttributedSources.SimilarAttrTypes), directed: false);

    /// <summary>
    /// A worker's share of the users with their edges, against local mode fed the same ids: every column of the users,
    /// and each walked edge (found in local mode's row by its edge id) with its ends, weight, label and attributes.
    /// </summary>
    private static int CompareWithLocalMode(ClusterGraph worker, GlGraph local)
    {
        var got = worker.V("user").Batch(1000).Alias("u").OutE("u2i").By("full").Alias("e").InV().Alias("i").Values().Single();
        var u = got.Nodes("u");
        var want = local.V("user", u.Ids).Alias("u").OutE("u2i").By("full").Alias("e").Values().Single();
        var wu = want.Nodes("u");
        Assert.Equal(wu.Weights, u.Weights);
        Assert.Equal(wu.Labels, u.Labels);
        Assert.Equal(wu.IntAttrs, u.IntAttrs);
        Assert.Equal(wu.FloatAttrs, u.FloatAttrs);
        Assert.Equal(wu.StringAttrs, u.StringAttrs);
        var (e, we) = (got.Edges("e"), want.Edges("e"));
        Assert.Equal(we.Lens, e.Lens);
        var (ki, kf, ks) = (e.Columns.IntAttrCount, e.Columns.FloatAttrCount, e.Columns.StringAttrCount);
        Assert.Equal((1, 1, 1), (ki, kf, ks));
        for (var r = 0; r < e.Rows; r++)
            for (var j = e.Offsets![r]; j < e.Offsets[r + 1]; j++)
            {
                var w = Array.IndexOf(we.EdgeIds, e.EdgeIds[j], we.Offsets![r], we.Lens![r]);
                Assert.True(w >= 0, $"edge {e.EdgeIds[j]} is not in local mode's row {r}");
                Assert.Equal((we.SrcIds[w], we.DstIds[w], we.Weights![w], we.Labels![w]), (e.SrcIds[j], e.DstIds[j], e.Weights![j], e.Labels![j]));
                Assert.Equal((we.IntAttrs[w], we.FloatAttrs[w], we.StringAttrs[w]), (e.IntAttrs[j], e.FloatAttrs[j], e.StringAttrs[j]));
            }
        Assert.Equal(got.Nodes("i").Ids, e.DstIds);
        return u.Count;
    }

    [Fact]
    public async Task Worker_mode_gives_every_attribute_kind_and_edge_ids_as_local_mode_and_draws_neg_and_where_over_the_cluster()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-gsl-columns", Guid.NewGuid().ToString("N"));
        var sources = AttributedSources.Write(dir);
        var hosts = new[] { $"127.0.0.1:{TestNodes.FreePort()}", $"127.0.0.1:{TestNodes.FreePort()}" };
        var store = Path.Combine(dir, "store");
        var log = new StringWriter();
        var t1 = DeclareAttributed(sources).InitAsync(new WorkerMode(1, 2, hosts, store) { Hocon = Fast, Timeout = Wait });
        var t0 = DeclareAttributed(sources).InitAsync(new WorkerMode(0, 2, hosts, store) { Hocon = Fast, Timeout = Wait }, log);
        await using var w0 = await t0;
        await using var w1 = await t1;
        Assert.DoesNotContain("not in the partition store", log.ToString());
        var local = DeclareAttributed(sources).Init();

        var walked = await Task.WhenAll(Task.Run(() => CompareWithLocalMode(w0, local)), Task.Run(() => CompareWithLocalMode(w1, local)));
        Assert.Equal(local.NodeCount("user"), walked.Sum());

        // node_from over the cluster: the workers' shares are local mode's set of items some user clicked.
        static long[] Ends(ClusterGraph w) => w.V("u2i", NodeFrom.EdgeDst).Batch(7).Alias("i").Values().SelectMany(b => b.Nodes("i").Ids).ToArray();
        var ends = await Task.WhenAll(Task.Run(() => Ends(w0)), Task.Run(() => Ends(w1)));
        Assert.Equal(local.V("u2i", NodeFrom.EdgeDst).Batch(100).Alias("i").Values().Single().Nodes("i").Ids.Order(), ends[0].Concat(ends[1]).Order());
        Assert.Empty(ends[0].Intersect(ends[1]));

        await Task.Run(() =>
        {
            // Neg(nodeType): items by node weight, never one of the batch's sources.
            var neg = w1.V("item").Batch(5).Alias("i").Neg("item").Sample(4).By("node_weight").Alias("n").Values().First();
            Assert.Equal([5, 4], neg.Nodes("n").Shape);
            Assert.All(neg.Nodes("n").Ids, id => Assert.DoesNotContain(id, neg.Nodes("i").Ids));
            Assert.All(neg.Nodes("n").Weights!, weight => Assert.True(weight > 0));

            // Where(): the int column's share holds the positive's value; no negative is the positive or a neighbour of its source.
            var bought = local.Store.Edges("u2i");
            var batch = w0.E("u2i").Batch(20).Alias("e").Each(
                    e => e.InV().Alias("dst"),
                    e => e.OutV().Alias("src").OutNeg("u2i").Sample(5).By("random")
                        .Where("dst", new NegativeCondition { IntCols = [0], IntProps = [0.2f] }).Alias("neg"))
                .Values().First();
            var (src, dst, negs) = (batch.Nodes("src"), batch.Nodes("dst"), batch.Nodes("neg"));
            Assert.Equal([20, 5], negs.Shape);
            var items = local.Store.Nodes("item");
            for (var row = 0; row < 20; row++)
            {
                Assert.Equal(dst.IntAttrs[row], negs.IntAttrs[row * 5]);
                Assert.True(local.Store.Nodes("user").Ids.TryGetDense(src.Ids[row], out var s));
                for (var j = row * 5; j < row * 5 + 5; j++)
                {
                    Assert.NotEqual(dst.Ids[row], negs.Ids[j]);
                    Assert.True(items.Ids.TryGetDense(negs.Ids[j], out var n));
                    Assert.False(bought.Out.Contains(s, n), $"negative {negs.Ids[j]} is an item user {src.Ids[row]} bought");
                }
            }
        });
    }

    [Fact]
    public async Task Server_mode_clients_each_walk_half_of_the_users_through_the_server()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-gsl-server", Guid.NewGuid().ToString("N"));
        var sources = Write(dir);
        var servers = new[] { $"127.0.0.1:{TestNodes.FreePort()}" };
        var store = Path.Combine(dir, "store");
        ServerMode Mode(string job, int task) => ServerMode.WithClientCount(servers, 2, job, task, store) with { Hocon = Fast, Timeout = Wait };
        await using var server = await Declare(sources).InitAsync(Mode("server", 0));
        // Clients declare nothing: the store's _reverse twin tells them u2i is undirected.
        await using var c0 = await new GlGraph().InitAsync(Mode("client", 0));
        await using var c1 = await new GlGraph().InitAsync(Mode("client", 1));
        var walks = await Task.WhenAll(Task.Run(() => WalkEpoch(c0, sources, 16, 2)), Task.Run(() => WalkEpoch(c1, sources, 16, 2)));
        Assert.Equal(Enumerable.Range(1000, Users).Select(x => (long)x), walks[0].Concat(walks[1]).Order());
        Assert.Equal(Users / 2, walks[0].Count);
        Assert.Equal([3, 1], c0.V("item", [1, 2, 3]).Alias("i").InV("u2i").Sample(1).By("random").Alias("u").Values().Single().Nodes("u").Shape);
    }
}
