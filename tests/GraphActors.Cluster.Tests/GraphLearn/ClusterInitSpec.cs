using System.Globalization;
using System.Text;
using GraphActors.Cluster.GraphLearn;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph.GraphLearn;
using Xunit.Abstractions;
using GlGraph = GraphActors.Graph.GraphLearn.Graph;
using Decoder = GraphActors.Graph.GraphLearn.Decoder;

namespace GraphActors.Cluster.Tests.GraphLearn;

/// <summary>
/// GraphLearn's g.init in worker and server mode, each task a node of one cluster (in this process, on 127.0.0.1):
/// task 0 loads the GraphLearn files and partitions them, the others wait for its store; then the cluster trains.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class ClusterInitSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    // 600 users in 3 classes, each class's features near its own centre; follows mostly within a class.
    internal static (string Nodes, string Edges) WriteSources(string dir)
    {
        Directory.CreateDirectory(dir);
        var rng = new Random(5);
        var nodes = new StringBuilder("id:int64\tlabel:int32\tattributes:string\n");
        for (var i = 0; i < 600; i++)
        {
            var c = i % 3;
            var f = Enumerable.Range(0, 4).Select(j => ((j == c ? 1.0 : 0.0) + rng.NextDouble() * 0.8).ToString("F3", CultureInfo.InvariantCulture));
            nodes.Append(CultureInfo.InvariantCulture, $"{1000 + i}\t{c}\t{string.Join(':', f)}\n");
        }
        var edges = new StringBuilder("src_id:int64\tdst_id:int64\n");
        for (var i = 0; i < 600; i++)
            for (var k = 0; k < 4; k++)
            {
                var j = rng.NextDouble() < 0.8 ? (rng.Next(200) * 3 + i % 3) : rng.Next(600);
                if (j != i) edges.Append(CultureInfo.InvariantCulture, $"{1000 + i}\t{1000 + j}\n");
            }
        var nodeFile = Path.Combine(dir, "users.txt");
        var edgeFile = Path.Combine(dir, "follows.txt");
        File.WriteAllText(nodeFile, nodes.ToString());
        File.WriteAllText(edgeFile, edges.ToString());
        return (nodeFile, edgeFile);
    }

    private static GlGraph Declare(string nodes, string edges) => new GlGraph()
        .Node(nodes, "user", new Decoder(labeled: true, attrTypes: ["float", "float", "float", "float"]))
        .Edge(edges, ("user", "user", "follow"), new Decoder(), directed: false);

    private const string Job = """
        training {
          model_type = sage, hidden_channels = 16, num_layers = 2, fanouts = [5, 5], batch_size = 64
          learning_rate = 0.02, dropout = 0.0, task = node_classification, target = user
          epochs = 4, eval_every = 4, seed = 1, threads = 1, averaging_period = 1
        }
        """;

    private const string Fast = """
        akka.loglevel = WARNING
        graphactors.training-coordinator { plan-delay = 1s, min-trainers = 2 }
        graphactors.trainer.register-interval = 500ms
        """;

    [Fact]
    public async Task Worker_mode_tasks_load_partition_and_train_the_declared_graph()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-init-worker", Guid.NewGuid().ToString("N"));
        var (nodes, edges) = WriteSources(dir);
        var hosts = new[] { $"127.0.0.1:{TestNodes.FreePort()}", $"127.0.0.1:{TestNodes.FreePort()}" };
        var store = Path.Combine(dir, "store");
        var log = new StringWriter();
        // Task 1 starts first and waits for task 0's partitions, as tasks started together on two machines would.
        var t1 = Declare(nodes, edges).InitAsync(new WorkerMode(1, 2, hosts, store) { Hocon = Fast, Timeout = Wait });
        var t0 = Declare(nodes, edges).InitAsync(new WorkerMode(0, 2, hosts, store) { Hocon = Fast, Timeout = Wait }, log);
        await using var w0 = await t0;
        await using var w1 = await t1;
        try
        {
            Assert.Equal("worker", w0.Role);
            Assert.Equal(2, w0.Store.Book.Parts);
            // The undirected follow edges were loaded both ways, and the cluster answers for the whole graph.
            var ids = new int[1];
            await w1.Store.LookupIdsAsync(new NodeType("user"), new long[] { 1000 }, ids);
            Assert.True(ids[0] >= 0);

            var job = TrainingHocon.ToJob(TrainingHocon.Parse(Job, "test"), store, Path.Combine(dir, "checkpoints"));
            var started = await w0.StartJobAsync("init-worker", job, Wait);
            Assert.True(started.Accepted, started.Message);
            var status = await AwaitFinished(w1);
            output.WriteLine(string.Join(", ", status.MetricNames.Zip(status.MetricValues, (n, v) => $"{n} {v:F3}")) + $"; trainers {status.Trainers.Length}");
            Assert.Equal(2, status.Trainers.Length);
            Assert.True(status.MetricValues[Array.IndexOf(status.MetricNames, "test_accuracy")] > 0.6, "3 classes: chance is 0.33");
        }
        finally
        {
            output.WriteLine(log.ToString());
        }
    }

    [Fact]
    public async Task Server_mode_clients_load_nothing_and_train_through_the_servers()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-init-server", Guid.NewGuid().ToString("N"));
        var (nodes, edges) = WriteSources(dir);
        var servers = new[] { $"127.0.0.1:{TestNodes.FreePort()}" };
        var clients = new[] { $"127.0.0.1:{TestNodes.FreePort()}", $"127.0.0.1:{TestNodes.FreePort()}" };
        var store = Path.Combine(dir, "store");
        await using var server = await Declare(nodes, edges).InitAsync(new ServerMode(servers, clients, "server", 0, store) { Hocon = Fast, Timeout = Wait });
        // Clients declare nothing: the graph lives on the servers.
        await using var c0 = await new GlGraph().InitAsync(new ServerMode(servers, clients, "client", 0, store) { Hocon = Fast, Timeout = Wait });
        await using var c1 = await new GlGraph().InitAsync(new ServerMode(servers, clients, "client", 1, store) { Hocon = Fast, Timeout = Wait });
        Assert.Equal(["partition"], Akka.Cluster.Cluster.Get(server.System).SelfRoles);
        Assert.Equal(["trainer"], Akka.Cluster.Cluster.Get(c0.System).SelfRoles);

        var job = TrainingHocon.ToJob(TrainingHocon.Parse(Job, "test"), store, Path.Combine(dir, "checkpoints"));
        Assert.True((await c0.StartJobAsync("init-server", job, Wait)).Accepted);
        var status = await AwaitFinished(c1);
        Assert.Equal(2, status.Trainers.Length);
        Assert.True(status.MetricValues[Array.IndexOf(status.MetricNames, "test_accuracy")] > 0.6, "3 classes: chance is 0.33");
    }

    [Fact]
    public async Task Worker_mode_with_a_file_system_tracker_needs_no_host_list()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-init-tracker", Guid.NewGuid().ToString("N"));
        var (nodes, edges) = WriteSources(dir);
        var tracker = Path.Combine(dir, "tracker");
        var store = Path.Combine(dir, "store");
        // GraphLearn's g.init(task_index, task_count, tracker=dir): task 1 starts first and finds task 0 through the directory.
        var t1 = Declare(nodes, edges).InitAsync(WorkerMode.WithTracker(1, 2, tracker, store) with { Hocon = Fast, Timeout = Wait });
        var t0 = Declare(nodes, edges).InitAsync(WorkerMode.WithTracker(0, 2, tracker, store) with { Hocon = Fast, Timeout = Wait });
        await using var w0 = await t0;
        await using var w1 = await t1;
        Assert.Equal($"{w0.Address.Host}:{w0.Address.Port}", File.ReadAllText(Path.Combine(tracker, "task-0")).Trim());
        Assert.Equal($"{w1.Address.Host}:{w1.Address.Port}", File.ReadAllText(Path.Combine(tracker, "task-1")).Trim());
        Assert.NotEqual(w0.Address.Port, w1.Address.Port);
        var cluster = Akka.Cluster.Cluster.Get(w1.System);
        await AwaitCondition(() => cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) == 2);
        var ids = new int[1];
        await w1.Store.LookupIdsAsync(new NodeType("user"), new long[] { 1599 }, ids);
        Assert.True(ids[0] >= 0);
        Assert.Throws<InvalidOperationException>(() => { _ = w0.WaitForCloseAsync(); }); // refused at the call, as GraphLearn refuses it

        // A tracker that still holds task 0's address from this run is refused to the next job's task 0.
        var again = await Assert.ThrowsAsync<ArgumentException>(() => Declare(nodes, edges).InitAsync(WorkerMode.WithTracker(0, 2, tracker, store)));
        Assert.Contains("fresh tracker directory", again.Message);
    }

    [Fact]
    public async Task Server_mode_with_a_client_count_waits_for_every_client_to_close()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-init-count", Guid.NewGuid().ToString("N"));
        var (nodes, edges) = WriteSources(dir);
        var servers = new[] { $"127.0.0.1:{TestNodes.FreePort()}" };
        var store = Path.Combine(dir, "store");
        ServerMode Mode(string job, int task) => ServerMode.WithClientCount(servers, 2, job, task, store) with { Hocon = Fast, Timeout = Wait };
        await using var server = await Declare(nodes, edges).InitAsync(Mode("server", 0));
        var closed = server.WaitForCloseAsync();
        var c0 = await new GlGraph().InitAsync(Mode("client", 0));
        var c1 = await new GlGraph().InitAsync(Mode("client", 1));
        Assert.Equal(["trainer"], Akka.Cluster.Cluster.Get(c1.System).SelfRoles);
        Assert.Throws<InvalidOperationException>(() => { _ = c0.WaitForCloseAsync(); });

        await c0.CloseAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(closed.IsCompleted, "one of the two clients is still open");
        await c1.CloseAsync();
        await closed.WaitAsync(Wait);
    }

    private static async Task AwaitCondition(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within the wait");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Bad_init_arguments_name_what_is_wrong()
    {
        var g = new GlGraph();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(new WorkerMode(2, 2, ["127.0.0.1:1", "127.0.0.1:2"], "/tmp/x")));
        Assert.Contains("task_index = 2", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(new WorkerMode(0, 2, ["127.0.0.1:1"], "/tmp/x")));
        Assert.Contains("one per task", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(new WorkerMode(0, 1, ["localhost"], "/tmp/x")));
        Assert.Contains("hosts[0] = 'localhost' is not host:port", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(new ServerMode(["a:1", "b:2"], ["c:3"], "server", 0, "/tmp/x")));
        Assert.Contains("servers ≤ clients", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(new ServerMode(["a:1"], ["c:3"], "ps", 0, "/tmp/x")));
        Assert.Contains("job_name = 'ps'", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(new WorkerMode(0, 2, ["127.0.0.1:1", "127.0.0.1:2"], "/tmp/x") { Tracker = "/tmp/t" }));
        Assert.Contains("one or the other", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(new ServerMode(["a:1"], ["c:3"], "client", 0, "/tmp/x") { ClientCount = 2 }));
        Assert.Contains("client_count = 2", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(ServerMode.WithClientCount(["a:1"], 0, "server", 0, "/tmp/x")));
        Assert.Contains("no client", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => g.InitAsync(ServerMode.WithClientCount(["a:1"], 2, "client", 2, "/tmp/x")));
        Assert.Contains("task_index = 2 is outside 0..1", e.Message);
    }

    private static async Task<TrainingProtocol.JobStatus> AwaitFinished(ClusterGraph node)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        TrainingProtocol.JobStatus status;
        do
        {
            status = await node.JobStatusAsync(Wait);
            if (status.State == JobState.Finished) return status;
            if (status.State is JobState.Failed or JobState.Stopped) throw new Xunit.Sdk.XunitException($"job {status.State}: {status.Reason}");
            await Task.Delay(250);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"job {status.JobId} still {status.State} at epoch {status.Epoch} after 3 minutes");
    }
}
