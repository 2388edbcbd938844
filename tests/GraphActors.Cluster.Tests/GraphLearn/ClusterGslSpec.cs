using System.Globalization;
using System.Text;
using GraphActors.Cluster.GraphLearn;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Sampling;
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
        Assert.Throws<NotSupportedException>(() => w0.V("user").Neg("item"));
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
