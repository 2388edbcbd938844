// GraphLearn's distributed g.init(...): worker mode and server mode, backed by the cluster's roles.
using Akka.Actor;
using Akka.Configuration;
using Akka.Cluster;
using GraphActors.Cluster.Hosting;
using GraphActors.Graph;
using GraphActors.Cluster.Sampling;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph.GraphLearn;
using GraphActors.Sampling;
using GlGraph = GraphActors.Graph.GraphLearn.Graph;

namespace GraphActors.Cluster.GraphLearn;

/// <summary>
/// GraphLearn's worker mode, <c>g.init(task_index=i, task_count=n, hosts=…)</c>: every task is a node with roles
/// partition and trainer. Task 0 loads the declared sources and writes them as <see cref="TaskCount"/> hash partitions to
/// <see cref="StorePath"/> (a path every task sees: one machine, or a shared file system); the other tasks wait for that
/// store, then every task hosts its partition (partition i on task i) and trains on it.
/// <para>
/// GraphLearn's file-system sync, <c>g.init(task_index=i, task_count=n, tracker=dir)</c>, is
/// <see cref="WithTracker"/>: no host list; each task listens on any free port of <see cref="Host"/> and writes its
/// address to <c>dir/task-i</c> once it is up; the others join task 0's address read from there. Give every job a
/// fresh tracker directory, as GraphLearn asks: task 0 refuses one that already holds a <c>task-0</c>.
/// </para>
/// </summary>
/// <param name="Hosts">"host:port" of every task, in task order; task 0 is the seed. Empty with a tracker.</param>
public sealed record WorkerMode(int TaskIndex, int TaskCount, IReadOnlyList<string> Hosts, string StorePath)
{
    /// <summary>The coordinator's journal: a PostgreSQL connection string, or empty for a SQLite file beside the store.</summary>
    public string Journal { get; init; } = "";
    /// <summary>How long a task waits for task 0's partitions and for the cluster to form.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Extra HOCON for the node (overrides the built-in defaults).</summary>
    public string Hocon { get; init; } = "";
    /// <summary>GraphLearn's <c>tracker</c>: a directory every task sees, where tasks publish their addresses; empty with a host list.</summary>
    public string Tracker { get; init; } = "";
    /// <summary>With a tracker: the address this task listens on and publishes (its port is any free one).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>GraphLearn's <c>g.init(task_index, task_count, tracker=dir)</c>.</summary>
    public static WorkerMode WithTracker(int taskIndex, int taskCount, string tracker, string storePath) =>
        new(taskIndex, taskCount, [], storePath) { Tracker = tracker };
}

/// <summary>
/// GraphLearn's server mode, <c>g.init(cluster={"server": …, "client": …}, job_name="server"|"client", task_index=i)</c>:
/// servers are nodes with role partition (they hold the graph and answer sampling and feature requests), clients are
/// nodes with role trainer (they sample through the servers and compute; they load nothing). Server 0 loads the
/// sources and writes one hash partition per server to <see cref="StorePath"/>; server 0 is the seed.
/// GraphLearn's <c>cluster={"server": …, "client_count": n}</c> is <see cref="WithClientCount"/>: clients then listen
/// on any free port of <see cref="Host"/>. A server's <see cref="ClusterGraph.WaitForCloseAsync"/> is GraphLearn's
/// <c>g.wait_for_close()</c>.
/// </summary>
public sealed record ServerMode(IReadOnlyList<string> Servers, IReadOnlyList<string> Clients, string JobName, int TaskIndex, string StorePath)
{
    public string Journal { get; init; } = "";
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    public string Hocon { get; init; } = "";
    /// <summary>GraphLearn's <c>client_count</c>, when <see cref="Clients"/> lists no addresses.</summary>
    public int ClientCount { get; init; }
    /// <summary>With <c>client_count</c>: the address a client listens on (its port is any free one).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>How many clients the job has: the listed addresses, or <see cref="ClientCount"/>.</summary>
    public int ClientTotal => Clients.Count > 0 ? Clients.Count : ClientCount;

    /// <summary>GraphLearn's <c>g.init(cluster={"server": servers, "client_count": n}, job_name=…, task_index=…)</c>.</summary>
    public static ServerMode WithClientCount(IReadOnlyList<string> servers, int clientCount, string jobName, int taskIndex, string storePath) =>
        new(servers, [], jobName, taskIndex, storePath) { ClientCount = clientCount };
}

/// <summary>A graph initialised in worker or server mode: this process's cluster node and the graph as the cluster serves it.</summary>
public sealed class ClusterGraph : IAsyncDisposable
{
    private readonly Task? _closed;
    private int _disposed;

    internal ClusterGraph(ActorSystem system, string role, string storePath, int clients, GlGraph declared, int taskIndex, int taskCount)
    {
        System = system;
        Role = role;
        StorePath = storePath;
        Store = RemoteGraphStore.FromStore(system, storePath);
        // The edges this task declared (if any) say how each is directed; the store written from the sources records it too.
        var names = declared.EdgeTypes;
        Gsl = new GslStore(Store, taskIndex, taskCount, relation => names.Contains(relation) ? declared.IsDirected(relation) : null);
        if (role == "server")
        {
            // Watching from the start: a client that comes and goes before wait_for_close() is called still counts.
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            system.ActorOf(Props.Create(() => new ClientCloseWatcher(clients, done)), "graphlearn-wait-for-close");
            _closed = done.Task;
        }
    }

    /// <summary>This task's node.</summary>
    public ActorSystem System { get; }
    /// <summary>worker, server or client.</summary>
    public string Role { get; }
    public string StorePath { get; }
    /// <summary>The whole graph through the partitions, wherever they run: sampling, features, labels, ids.</summary>
    public RemoteGraphStore Store { get; }

    /// <summary>
    /// GSL over <see cref="Store"/>, with this task's share: a worker is task i of task_count, a server-mode client is
    /// client i of the client count, a server walks every node. See <see cref="GslStore"/>.
    /// </summary>
    public GslStore Gsl { get; }

    /// <summary>GraphLearn's <c>g.V(type)</c>: this task's share of the type's nodes (see <see cref="GslStore"/>).</summary>
    public GslQuery V(string nodeType) => Gsl.V(nodeType);

    /// <summary>GraphLearn's <c>g.V(type, feed=ids)</c>: the given business ids, not split among tasks.</summary>
    public GslQuery V(string nodeType, long[] feed) => Gsl.V(nodeType, feed);

    /// <summary>GraphLearn's <c>g.V(type, mask=gl.Mask.TRAIN|TEST|VAL)</c>: this task's share of the mask's set (see <see cref="GslStore.V(string, Mask)"/>).</summary>
    public GslQuery V(string nodeType, Mask mask) => Gsl.V(nodeType, mask);

    /// <summary>GraphLearn's <c>g.V(edge_type, node_from=gl.EDGE_SRC|gl.EDGE_DST)</c>: this task's share of the nodes at that end of the type's edges.</summary>
    public GslQuery V(string edgeType, NodeFrom nodeFrom) => Gsl.V(edgeType, nodeFrom);

    /// <summary>GraphLearn's <c>g.E(type, reverse)</c>: this task's share of the type's edges.</summary>
    public GslQuery E(string edgeType, bool reverse = false) => Gsl.E(edgeType, reverse);
    public Akka.Actor.Address Address => Akka.Cluster.Cluster.Get(System).SelfAddress;

    /// <summary>Starts a training job on the cluster (the coordinator splits its seeds among the trainer-role tasks).</summary>
    public Task<TrainingProtocol.JobCommandResult> StartJobAsync(string jobId, TrainingProtocol.TrainingConfig job, TimeSpan timeout) =>
        System.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").Ask<TrainingProtocol.JobCommandResult>(new TrainingProtocol.StartJob(jobId, job), timeout);

    public Task<TrainingProtocol.JobStatus> JobStatusAsync(TimeSpan timeout, string jobId = "") =>
        System.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").Ask<TrainingProtocol.JobStatus>(new TrainingProtocol.GetJobStatus(jobId), timeout);

    /// <summary>
    /// GraphLearn's <c>g.wait_for_close()</c> on a server: completes once every client of the job (server mode's
    /// client list or <c>client_count</c>) has been up in the cluster and has closed since (left it, or been removed
    /// from it). Only servers wait for their clients; a worker or client calling it is an error, as in GraphLearn.
    /// </summary>
    public Task WaitForCloseAsync(CancellationToken cancellationToken = default)
    {
        if (_closed is null)
            throw new InvalidOperationException($"wait_for_close() is a server's call (GraphLearn's server mode); this task is a {Role}.");
        return _closed.WaitAsync(cancellationToken);
    }

    /// <summary>GraphLearn's <c>g.close()</c>: the same as disposing.</summary>
    public ValueTask CloseAsync() => DisposeAsync();

    /// <summary>Leaves the cluster gracefully (its partitions move to the other partition nodes first).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Store.Dispose();
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
    }

    /// <summary>Counts trainer-role members (server mode's clients) that were up and then left or were removed.</summary>
    private sealed class ClientCloseWatcher : ReceiveActor
    {
        private readonly HashSet<Akka.Actor.Address> _up = [];
        private readonly HashSet<Akka.Actor.Address> _closed = [];

        public ClientCloseWatcher(int clients, TaskCompletionSource done)
        {
            void Check()
            {
                if (_up.Count >= clients && _closed.IsSupersetOf(_up))
                {
                    done.TrySetResult();
                    Context.Stop(Self);
                }
            }
            Receive<ClusterEvent.MemberUp>(e =>
            {
                if (e.Member.HasRole("trainer")) _up.Add(e.Member.Address);
                Check();
            });
            Receive<ClusterEvent.MemberExited>(e => { if (e.Member.HasRole("trainer")) { _up.Add(e.Member.Address); _closed.Add(e.Member.Address); } Check(); });
            Receive<ClusterEvent.MemberRemoved>(e => { if (e.Member.HasRole("trainer")) { _up.Add(e.Member.Address); _closed.Add(e.Member.Address); } Check(); });
            ReceiveAny(_ => { });
        }

        protected override void PreStart() =>
            Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.InitialStateAsEvents, typeof(ClusterEvent.IMemberEvent));

        protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
    }
}

public static class ClusterInit
{
    /// <summary>Worker mode: see <see cref="WorkerMode"/>. Returns once every worker is up in the cluster.</summary>
    public static async Task<ClusterGraph> InitAsync(this GlGraph graph, WorkerMode mode, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (mode.TaskCount < 1) throw new ArgumentException($"task_count = {mode.TaskCount}: needs at least 1.", nameof(mode));
        if (mode.TaskIndex < 0 || mode.TaskIndex >= mode.TaskCount)
            throw new ArgumentException($"task_index = {mode.TaskIndex} is outside 0..{mode.TaskCount - 1}.", nameof(mode));
        var load = mode.TaskIndex == 0;
        if (mode.Tracker.Length > 0)
        {
            if (mode.Hosts.Count > 0)
                throw new ArgumentException($"hosts and tracker = '{mode.Tracker}' are both given: GraphLearn's worker mode takes one or the other.", nameof(mode));
            var tracker = new Tracker(mode.Tracker, mode.TaskIndex);
            tracker.Prepare();
            return await Start(graph, load, parts: mode.TaskCount, mode.StorePath, (mode.Host, 0), load ? null : () => tracker.SeedAsync(mode.Timeout, log),
                "partition, trainer", "worker", 0, mode.Journal, mode.Hocon, mode.Timeout, log, tracker.Publish, mode.TaskCount,
                (mode.TaskIndex, mode.TaskCount)).ConfigureAwait(false);
        }
        if (mode.Hosts.Count != mode.TaskCount)
            throw new ArgumentException($"hosts lists {mode.Hosts.Count} address(es) for task_count = {mode.TaskCount}: one per task (or give a tracker directory).", nameof(mode));
        var hosts = mode.Hosts.Select((h, i) => ParseHost(h, $"hosts[{i}]")).ToArray();
        return await Start(graph, load, parts: mode.TaskCount, mode.StorePath, hosts[mode.TaskIndex], () => Task.FromResult(hosts[0]),
            "partition, trainer", "worker", 0, mode.Journal, mode.Hocon, mode.Timeout, log, null, mode.TaskCount,
            (mode.TaskIndex, mode.TaskCount)).ConfigureAwait(false);
    }

    /// <summary>Server mode: see <see cref="ServerMode"/>. Returns once this task's node and every server are up in the cluster.</summary>
    public static async Task<ClusterGraph> InitAsync(this GlGraph graph, ServerMode mode, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (mode.Servers.Count < 1) throw new ArgumentException("cluster has no server: server mode needs at least one.", nameof(mode));
        if (mode.Clients.Count > 0 && mode.ClientCount != 0 && mode.ClientCount != mode.Clients.Count)
            throw new ArgumentException($"cluster lists {mode.Clients.Count} client address(es) but client_count = {mode.ClientCount}.", nameof(mode));
        if (mode.ClientTotal < 1)
            throw new ArgumentException("cluster has no client: give the clients' addresses or client_count ≥ 1.", nameof(mode));
        if (mode.Servers.Count > mode.ClientTotal)
            throw new ArgumentException($"cluster has {mode.Servers.Count} servers and {mode.ClientTotal} clients: server mode wants servers ≤ clients.", nameof(mode));
        var count = mode.JobName switch
        {
            "server" => mode.Servers.Count,
            "client" => mode.ClientTotal,
            _ => throw new ArgumentException($"job_name = '{mode.JobName}' is not one of server, client.", nameof(mode)),
        };
        if (mode.TaskIndex < 0 || mode.TaskIndex >= count)
            throw new ArgumentException($"task_index = {mode.TaskIndex} is outside 0..{count - 1} for job_name '{mode.JobName}'.", nameof(mode));
        var isServer = mode.JobName == "server";
        var self = isServer ? ParseHost(mode.Servers[mode.TaskIndex], $"server[{mode.TaskIndex}]")
            : mode.Clients.Count > 0 ? ParseHost(mode.Clients[mode.TaskIndex], $"client[{mode.TaskIndex}]")
            : (mode.Host, 0);
        var seed = ParseHost(mode.Servers[0], "server[0]");
        return await Start(graph, load: isServer && mode.TaskIndex == 0, parts: mode.Servers.Count, mode.StorePath, self, () => Task.FromResult(seed),
            isServer ? "partition" : "trainer", mode.JobName, mode.ClientTotal, mode.Journal, mode.Hocon, mode.Timeout, log, null, mode.Servers.Count,
            isServer ? (0, 1) : (mode.TaskIndex, mode.ClientTotal)).ConfigureAwait(false);
    }

    /// <param name="seed">Where the seed listens, asked once the store is there; null: this node is the seed and joins itself.</param>
    /// <param name="announce">Called with this node's address once it is up (the tracker's file).</param>
    /// <param name="share">This task's GSL share: (index, count) of the tasks that split the sources.</param>
    private static async Task<ClusterGraph> Start(GlGraph graph, bool load, int parts, string storePath, (string Host, int Port) self,
        Func<Task<(string Host, int Port)>>? seed, string roles, string role, int clients, string journal, string hocon, TimeSpan timeout,
        TextWriter? log, Action<Akka.Actor.Address>? announce, int partitionNodes, (int Index, int Count) share)
    {
        storePath = Path.GetFullPath(storePath);
        if (load)
        {
            if (!graph.IsInitialized) graph.Init();
            log?.WriteLine($"{role} 0: writing {parts} hash partition(s) of the declared sources to {storePath}");
            var source = GraphLearnPartitionSource.Of(graph, out var notCarried);
            // Said where it cannot be missed (the log, else stderr): what the cluster's store does not hold.
            foreach (var line in notCarried) (log ?? Console.Error).WriteLine($"{role} 0: not in the partition store: {line}");
            GraphPartitioner.Run(source, new PartitionOptions(storePath, parts, HashPartitioner.MethodName) { Overwrite = true });
        }
        else await AwaitStore(storePath, parts, timeout, log).ConfigureAwait(false);

        (string Host, int Port)? seedAddress = seed is null ? null : await seed().ConfigureAwait(false);
        var seeds = seedAddress is { } s ? NodeConfig.Quote($"akka.tcp://{Names.ActorSystem}@{s.Host}:{s.Port}") : "";
        var journalHocon = string.IsNullOrWhiteSpace(journal)
            ? $"graphactors.persistence.sqlite-path = {NodeConfig.Quote(storePath + ".coordinator.db")}"
            : $"graphactors.persistence.journal-connection-string = {NodeConfig.Quote(journal)}";
        var config = ConfigurationFactory.ParseString($$"""
            {{hocon}}
            akka.remote.dot-netty.tcp.hostname = {{NodeConfig.Quote(self.Host)}}
            akka.remote.dot-netty.tcp.port = {{self.Port}}
            akka.cluster.seed-nodes = [{{seeds}}]
            akka.cluster.roles = [{{roles}}]
            graphactors.partitions.store-path = {{NodeConfig.Quote(storePath)}}
            {{journalHocon}}
            """).WithFallback(NodeConfig.Defaults);
        var system = NodeHost.Start(NodeConfig.WithPersistence(config), log ?? TextWriter.Null);
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Akka.Cluster.Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        if (await Task.WhenAny(up.Task, Task.Delay(timeout)).ConfigureAwait(false) != up.Task)
        {
            await system.Terminate().ConfigureAwait(false);
            var from = seedAddress is { } a ? $"the seed {a.Host}:{a.Port}" : "itself";
            throw new TimeoutException($"{role} at {self.Host}:{self.Port} did not join {from} within {timeout.TotalSeconds:0}s.");
        }
        var cluster = Akka.Cluster.Cluster.Get(system);
        announce?.Invoke(cluster.SelfAddress);
        // As GraphLearn's init, return once the graph is served: every worker (or server) is up in the cluster.
        var deadline = DateTime.UtcNow + timeout;
        while (cluster.State.Members.Count(m => m.Status == MemberStatus.Up && m.HasRole("partition")) < partitionNodes)
        {
            if (DateTime.UtcNow > deadline)
            {
                var seen = cluster.State.Members.Count(m => m.Status == MemberStatus.Up && m.HasRole("partition"));
                await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
                throw new TimeoutException($"{role} at {cluster.SelfAddress}: {seen} of {partitionNodes} {(role is "worker" ? "workers" : "servers")} up after {timeout.TotalSeconds:0}s.");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return new ClusterGraph(system, role, storePath, clients, graph, share.Index, share.Count);
    }

    /// <summary>
    /// GraphLearn's file-system sync: task i publishes its address in <c>dir/task-i</c> (written whole, then renamed),
    /// and every task but 0 joins the address task 0 published.
    /// </summary>
    private sealed class Tracker(string dir, int task)
    {
        private string FileOf(int t) => Path.Combine(dir, $"task-{t}");

        public void Prepare()
        {
            Directory.CreateDirectory(dir);
            if (task == 0 && File.Exists(FileOf(0)))
                throw new ArgumentException(
                    $"tracker = '{dir}' already holds task-0 ({File.ReadAllText(FileOf(0)).Trim()}), left by an earlier run: give each job a fresh tracker directory.");
        }

        public void Publish(Akka.Actor.Address self) =>
            AtomicFile.WriteAllText(FileOf(task), $"{self.Host}:{self.Port}\n");

        public async Task<(string Host, int Port)> SeedAsync(TimeSpan timeout, TextWriter? log)
        {
            await WaitForTask0Async(() => File.Exists(FileOf(0)) ? null : "not there yet", timeout, log,
                $"task 0's address in {FileOf(0)}", _ => $"No task-0 in tracker '{dir}' after {timeout.TotalSeconds:0}s: task 0 writes it once its node is up.").ConfigureAwait(false);
            return ParseHost(File.ReadAllText(FileOf(0)).Trim(), FileOf(0));
        }
    }

    private static Task AwaitStore(string storePath, int parts, TimeSpan timeout, TextWriter? log) =>
        WaitForTask0Async(() =>
        {
            try
            {
                var store = PartitionStore.Open(storePath);
                if (store.Parts != parts)
                    throw new InvalidDataException($"{storePath} holds {store.Parts} partition(s); this cluster has {parts} partition task(s).");
                return null;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or PartitionStoreException)
            {
                return e.Message;
            }
        }, timeout, log, $"task 0 to write the partitions to {storePath}",
        why => $"No readable partition store at {storePath} after {timeout.TotalSeconds:0}s ({why}): task 0 writes it once it has loaded the sources.");

    /// <summary>
    /// Waits for what task 0 writes for the others (the store, the tracker's address): asks <paramref name="missing"/>
    /// every 200 ms until it answers null (else why not yet), says once what it waits for, and after
    /// <paramref name="timeout"/> throws with <paramref name="late"/> of the last answer.
    /// </summary>
    private static async Task WaitForTask0Async(Func<string?> missing, TimeSpan timeout, TextWriter? log, string what, Func<string, string> late)
    {
        var deadline = DateTime.UtcNow + timeout;
        var said = false;
        while (missing() is { } why)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(late(why));
            if (!said) log?.WriteLine($"waiting for {what} …");
            said = true;
            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    private static (string Host, int Port) ParseHost(string text, string what)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 1 or > 65535)
            throw new ArgumentException($"{what} = '{text}' is not host:port.");
        return (text[..colon], port);
    }
}
