// GraphLearn's distributed g.init(...): worker mode and server mode, backed by the cluster's roles.
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Sampling;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Contracts.Protocols;
using GlGraph = GraphActors.Graph.GraphLearn.Graph;

namespace GraphActors.Cluster.GraphLearn;

/// <summary>
/// GraphLearn's worker mode, <c>g.init(task_index=i, task_count=n, hosts=…)</c>: every task is a node with roles
/// partition and trainer. Task 0 loads the declared sources and writes them as <see cref="TaskCount"/> hash partitions to
/// <see cref="StorePath"/> (a path every task sees: one machine, or a shared file system); the other tasks wait for that
/// store, then every task hosts its partition (partition i on task i) and trains on it.
/// </summary>
/// <param name="Hosts">"host:port" of every task, in task order; task 0 is the seed.</param>
public sealed record WorkerMode(int TaskIndex, int TaskCount, IReadOnlyList<string> Hosts, string StorePath)
{
    /// <summary>The coordinator's journal: a PostgreSQL connection string, or empty for a SQLite file beside the store.</summary>
    public string Journal { get; init; } = "";
    /// <summary>How long a task waits for task 0's partitions and for the cluster to form.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Extra HOCON for the node (overrides the built-in defaults).</summary>
    public string Hocon { get; init; } = "";
}

/// <summary>
/// GraphLearn's server mode, <c>g.init(cluster={"server": …, "client": …}, job_name="server"|"client", task_index=i)</c>:
/// servers are nodes with role partition (they hold the graph and answer sampling and feature requests), clients are
/// nodes with role trainer (they sample through the servers and compute; they load nothing). Server 0 loads the
/// sources and writes one hash partition per server to <see cref="StorePath"/>; server 0 is the seed.
/// </summary>
public sealed record ServerMode(IReadOnlyList<string> Servers, IReadOnlyList<string> Clients, string JobName, int TaskIndex, string StorePath)
{
    public string Journal { get; init; } = "";
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    public string Hocon { get; init; } = "";
}

/// <summary>A graph initialised in worker or server mode: this process's cluster node and the graph as the cluster serves it.</summary>
public sealed class ClusterGraph : IAsyncDisposable
{
    internal ClusterGraph(ActorSystem system, string role, string storePath)
    {
        System = system;
        Role = role;
        StorePath = storePath;
        Store = RemoteGraphStore.FromStore(system, storePath);
    }

    /// <summary>This task's node.</summary>
    public ActorSystem System { get; }
    /// <summary>worker, server or client.</summary>
    public string Role { get; }
    public string StorePath { get; }
    /// <summary>The whole graph through the partitions, wherever they run: sampling, features, labels, ids.</summary>
    public RemoteGraphStore Store { get; }
    public Akka.Actor.Address Address => Akka.Cluster.Cluster.Get(System).SelfAddress;

    /// <summary>Starts a training job on the cluster (the coordinator splits its seeds among the trainer-role tasks).</summary>
    public Task<TrainingProtocol.JobCommandResult> StartJobAsync(string jobId, TrainingProtocol.TrainingConfig job, TimeSpan timeout) =>
        System.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").Ask<TrainingProtocol.JobCommandResult>(new TrainingProtocol.StartJob(jobId, job), timeout);

    public Task<TrainingProtocol.JobStatus> JobStatusAsync(TimeSpan timeout, string jobId = "") =>
        System.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").Ask<TrainingProtocol.JobStatus>(new TrainingProtocol.GetJobStatus(jobId), timeout);

    /// <summary>Leaves the cluster gracefully (its partitions move to the other partition nodes first).</summary>
    public async ValueTask DisposeAsync()
    {
        Store.Dispose();
        await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
    }
}

public static class ClusterInit
{
    /// <summary>Worker mode: see <see cref="WorkerMode"/>. Returns once this task's node is up in the cluster.</summary>
    public static async Task<ClusterGraph> InitAsync(this GlGraph graph, WorkerMode mode, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (mode.TaskCount < 1) throw new ArgumentException($"task_count = {mode.TaskCount}: needs at least 1.", nameof(mode));
        if (mode.TaskIndex < 0 || mode.TaskIndex >= mode.TaskCount)
            throw new ArgumentException($"task_index = {mode.TaskIndex} is outside 0..{mode.TaskCount - 1}.", nameof(mode));
        if (mode.Hosts.Count != mode.TaskCount)
            throw new ArgumentException($"hosts lists {mode.Hosts.Count} address(es) for task_count = {mode.TaskCount}: one per task.", nameof(mode));
        var hosts = mode.Hosts.Select((h, i) => ParseHost(h, $"hosts[{i}]")).ToArray();
        return await Start(graph, load: mode.TaskIndex == 0, parts: mode.TaskCount, mode.StorePath, hosts[mode.TaskIndex], hosts[0],
            "partition, trainer", "worker", mode.Journal, mode.Hocon, mode.Timeout, log).ConfigureAwait(false);
    }

    /// <summary>Server mode: see <see cref="ServerMode"/>. Returns once this task's node is up in the cluster.</summary>
    public static async Task<ClusterGraph> InitAsync(this GlGraph graph, ServerMode mode, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (mode.Servers.Count < 1) throw new ArgumentException("cluster has no server: server mode needs at least one.", nameof(mode));
        if (mode.Servers.Count > Math.Max(1, mode.Clients.Count))
            throw new ArgumentException($"cluster has {mode.Servers.Count} servers and {mode.Clients.Count} clients: server mode wants servers ≤ clients.", nameof(mode));
        var tasks = mode.JobName switch
        {
            "server" => mode.Servers,
            "client" => mode.Clients,
            _ => throw new ArgumentException($"job_name = '{mode.JobName}' is not one of server, client.", nameof(mode)),
        };
        if (mode.TaskIndex < 0 || mode.TaskIndex >= tasks.Count)
            throw new ArgumentException($"task_index = {mode.TaskIndex} is outside 0..{tasks.Count - 1} for job_name '{mode.JobName}'.", nameof(mode));
        var self = ParseHost(tasks[mode.TaskIndex], $"{mode.JobName}[{mode.TaskIndex}]");
        var seed = ParseHost(mode.Servers[0], "server[0]");
        var isServer = mode.JobName == "server";
        return await Start(graph, load: isServer && mode.TaskIndex == 0, parts: mode.Servers.Count, mode.StorePath, self, seed,
            isServer ? "partition" : "trainer", mode.JobName, mode.Journal, mode.Hocon, mode.Timeout, log).ConfigureAwait(false);
    }

    private static async Task<ClusterGraph> Start(GlGraph graph, bool load, int parts, string storePath, (string Host, int Port) self,
        (string Host, int Port) seed, string roles, string role, string journal, string hocon, TimeSpan timeout, TextWriter? log)
    {
        storePath = Path.GetFullPath(storePath);
        if (load)
        {
            if (!graph.IsInitialized) graph.Init();
            log?.WriteLine($"{role} 0: writing {parts} hash partition(s) of the declared sources to {storePath}");
            GraphPartitioner.Run(new HeteroGraphSource(graph.Store), new PartitionOptions(storePath, parts, HashPartitioner.MethodName) { Overwrite = true });
        }
        else await AwaitStore(storePath, parts, timeout, log).ConfigureAwait(false);

        var journalHocon = string.IsNullOrWhiteSpace(journal)
            ? $"graphactors.persistence.sqlite-path = {NodeConfig.Quote(storePath + ".coordinator.db")}"
            : $"graphactors.persistence.journal-connection-string = {NodeConfig.Quote(journal)}";
        var config = ConfigurationFactory.ParseString($$"""
            {{hocon}}
            akka.remote.dot-netty.tcp.hostname = {{NodeConfig.Quote(self.Host)}}
            akka.remote.dot-netty.tcp.port = {{self.Port}}
            akka.cluster.seed-nodes = [{{NodeConfig.Quote($"akka.tcp://{Names.ActorSystem}@{seed.Host}:{seed.Port}")}}]
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
            throw new TimeoutException($"{role} at {self.Host}:{self.Port} did not join the seed {seed.Host}:{seed.Port} within {timeout.TotalSeconds:0}s.");
        }
        return new ClusterGraph(system, role, storePath);
    }

    private static async Task AwaitStore(string storePath, int parts, TimeSpan timeout, TextWriter? log)
    {
        var deadline = DateTime.UtcNow + timeout;
        var said = false;
        while (true)
        {
            try
            {
                var store = PartitionStore.Open(storePath);
                if (store.Parts != parts)
                    throw new InvalidDataException($"{storePath} holds {store.Parts} partition(s); this cluster has {parts} partition task(s).");
                return;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or PartitionStoreException)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException(
                        $"No readable partition store at {storePath} after {timeout.TotalSeconds:0}s ({e.Message}): task 0 writes it once it has loaded the sources.");
                if (!said) log?.WriteLine($"waiting for task 0 to write the partitions to {storePath} …");
                said = true;
                await Task.Delay(200).ConfigureAwait(false);
            }
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
