// Three real `graphactors node` processes on 127.0.0.1 (a seed, two workers) and an in-process client member that asks them.
using System.Diagnostics;
using System.Text;
using Akka.Actor;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts.Protocols;
using Microsoft.Data.Sqlite;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Faults;

/// <summary>
/// GraphLearn's worker mode as separate processes, for killing them: the seed has NO role, so each worker (roles
/// partition + trainer) is the home of exactly one of the store's two partitions and a killed worker always leaves a
/// partition to re-host; and the seed, never killed, keeps the cluster joinable. Both workers journal the coordinator
/// to one SQLite file. The client is an ActorSystem of the test joined with no role (it hosts neither a partition nor
/// the coordinator): it asks the coordinator proxy for the job and its CommandHandler for the partition table, and
/// reads the journal at the end. With it the cluster has 4 members; a kill leaves 3 of 4, a majority.
/// <para>
/// Failure handling as deployed except one key: the failure detector keeps Akka's defaults (heartbeat every 1 s,
/// 3 s acceptable pause) and the split-brain resolver keeps keep-majority, with stable-after lowered from 15 s to 5 s
/// (still several heartbeat pauses: a node that stalls for a GC pause is not downed, a dead one is within ~10 s).
/// The SBR's down-removal margin follows stable-after, so a dead node's singletons move about 5 s after it is downed.
/// </para>
/// </summary>
internal sealed class FaultCluster : IAsyncDisposable
{
    public static readonly TimeSpan Ask = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan Boot = TimeSpan.FromSeconds(90);

    /// <summary>Everything a node of this test says beyond <see cref="CliProcess.NodeHocon"/>; the client member gets it too.</summary>
    private static string FaultHocon(string journal) => $$"""
        akka.cluster.split-brain-resolver.stable-after = 5s
        graphactors.persistence.sqlite-path = {{NodeConfig.Quote(journal)}}
        graphactors.training-coordinator { plan-delay = 1s, min-trainers = 1 }
        graphactors.trainer.register-interval = 1s
        """;

    private readonly List<(string Name, CliProcess Process)> _nodes = [];
    private readonly StringWriter _clientLog = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly StringBuilder _events = new();

    private FaultCluster(string store, string run)
    {
        Store = store;
        Run = run;
        Journal = Path.Combine(run, "coordinator.db");
        SeedPort = TestNodes.FreePort();
    }

    public string Store { get; }
    public string Run { get; }
    public string Journal { get; }
    public int SeedPort { get; }
    public ActorSystem Client { get; private set; } = null!;
    public IActorRef Coordinator { get; private set; } = null!;
    /// <summary>The worker whose node hosts the coordinator singleton (the oldest trainer member) and the other one.</summary>
    public Worker Oldest { get; private set; } = null!;
    public Worker Youngest { get; private set; } = null!;

    public sealed record Worker(string Name, int Port, CliProcess Process)
    {
        public string Address => TestNodes.Address(Port);
    }

    /// <summary>Starts seed and workers together, joins the client, and waits until both trainers are registered and each worker serves its home partition.</summary>
    public static async Task<FaultCluster> StartAsync(string store, string name)
    {
        var run = Path.Combine(Path.GetTempPath(), "ga-faults", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(run);
        var c = new FaultCluster(store, run);
        try
        {
            await c.BootAsync();
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    private async Task BootAsync()
    {
        var hocon = FaultHocon(Journal);
        var seed = CliProcess.Node(CliProcess.NodeHocon(SeedPort, SeedPort, "") + "\n" + hocon);
        _nodes.Add(("seed", seed));
        var ports = new[] { TestNodes.FreePort(), TestNodes.FreePort() };
        var workers = ports.Select((p, i) => new Worker($"worker-{(char)('a' + i)}",
            p, CliProcess.Node(CliProcess.NodeHocon(p, SeedPort, "partition, trainer") + "\n" + hocon, Store))).ToArray();
        foreach (var w in workers) _nodes.Add((w.Name, w.Process));
        await Within(Task.WhenAll(_nodes.Select(n => n.Process.WaitForLine("is up: joined the cluster", Boot))), Boot, "the three nodes up");

        var clientPort = TestNodes.FreePort();
        Client = NodeHost.Start(NodeConfig.WithPersistence(TestNodes.Node(clientPort, [SeedPort], "", Store, """
            akka.actor.serialize-messages = off
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            """ + "\n" + hocon)), _clientLog);
        await Within(TestNodes.AwaitUp(Client, 4, Boot), Boot, "the client member up with the three nodes");
        Coordinator = await Client.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").ResolveOne(Ask);

        // The coordinator singleton lives on the oldest member with role trainer.
        var cluster = Akka.Cluster.Cluster.Get(Client);
        var oldest = cluster.State.Members.Where(m => m.HasRole(ClusterRoles.Trainer)).Aggregate((a, b) => a.IsOlderThan(b) ? a : b).Address;
        Oldest = workers.Single(w => w.Address == oldest.ToString());
        Youngest = workers.Single(w => w != Oldest);
        Note($"nodes up; coordinator on {Oldest.Name} ({Oldest.Address}), {Youngest.Name} at {Youngest.Address}, seed pid {seed.Pid}");

        await Eventually("both trainers registered with the coordinator", Boot, async () =>
            (await Status()).Trainers.Length == 2);
        await Eventually("each worker serving its home partition", Boot, async () =>
        {
            var p = await Partitions();
            return p.Partitions.Length == 2 && p.Partitions.All(s => s.State == PartitionState.Serving)
                && p.Partitions.Select(s => s.Node).Distinct().Count() == 2;
        });
        Note("both trainers registered, one partition per worker");
    }

    public void Note(string line)
    {
        lock (_events) _events.AppendLine($"[{_clock.Elapsed.TotalSeconds,7:F1} s, {DateTime.UtcNow:HH:mm:ss.fff} UTC] {line}");
    }

    public string Events { get { lock (_events) return _events.ToString(); } }

    public TimeSpan Elapsed => _clock.Elapsed;

    // ---- asking ----

    /// <summary>The coordinator's status; while the singleton moves the proxy buffers and the ask may time out (callers retry).</summary>
    public Task<JobStatus> Status(string jobId = "") => Coordinator.Ask<JobStatus>(new GetJobStatus(jobId), Ask);

    public async Task<JobCommandResult> StartJob(string jobId, string training)
    {
        var file = TrainingHocon.Parse(training, jobId);
        var job = TrainingHocon.ToJob(file, Store, Path.Combine(Run, "checkpoints"));
        var started = await Coordinator.Ask<JobCommandResult>(new StartJob(jobId, job), Ask);
        Note($"job '{jobId}' started: {started.Message}");
        return started;
    }

    /// <summary>The partition table as the client's CommandHandler gathers it (the data of `graphactors ctl partitions show`).</summary>
    public Task<PartitionsResult> Partitions() =>
        Client.ActorSelection($"/user/{Names.CommandHandler}").Ask<PartitionsResult>(new GetPartitions(3000), Ask);

    public string CheckpointDir(string jobId, int epoch) => Path.Combine(Run, "checkpoints", jobId, $"epoch-{epoch:D4}");

    /// <summary>
    /// Polls until <paramref name="done"/> holds, every <paramref name="every"/> (250 ms unless given); a failed poll (ask
    /// timeout while the singleton moves) is retried.
    /// </summary>
    public async Task Eventually(string what, TimeSpan timeout, Func<Task<bool>> done, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await done()) return;
                last = null;
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException or Xunit.Sdk.XunitException)
            {
                last = e;
            }
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(250));
        }
        throw new TimeoutException($"not {what} after {timeout}{(last is null ? "" : $" (last poll: {last.Message})")}.\n{Tails()}");
    }

    /// <summary>Polls the job until it reaches <paramref name="state"/>; a job that fails or stops instead fails at once with its reason.</summary>
    public async Task<JobStatus> AwaitJob(string jobId, JobState state, TimeSpan timeout)
    {
        JobStatus? status = null;
        await Eventually($"job '{jobId}' {state} (last status: {Describe(status)})", timeout, async () =>
        {
            status = await Status(jobId);
            if (status.JobId == jobId && status.State is JobState.Failed or JobState.Stopped && status.State != state)
                throw new InvalidOperationException($"job '{jobId}' is {status.State}: {status.Reason}\n{Tails()}");
            return status.JobId == jobId && status.State == state;
        });
        return status!;
    }

    public static string Describe(JobStatus? s) => s is null ? "none" :
        $"'{s.JobId}' {s.State}, epoch {s.Epoch} round {s.Round} step {s.Step}, last completed {s.LastCompletedEpoch}, " +
        $"trainers {s.Trainers.Length}, {string.Join(", ", s.MetricNames.Zip(s.MetricValues, (n, v) => $"{n} {v:F4}"))}" +
        (s.Reason.Length > 0 ? $", reason: {s.Reason}" : "");

    public static float Metric(JobStatus s, string name)
    {
        var i = Array.IndexOf(s.MetricNames, name);
        Assert.True(i >= 0, $"job '{s.JobId}' reported no {name}: [{string.Join(", ", s.MetricNames)}]");
        return s.MetricValues[i];
    }

    /// <summary>Waits for <paramref name="task"/>; on timeout the message says what for and shows every node's output.</summary>
    public async Task Within(Task task, TimeSpan timeout, string what)
    {
        if (await Task.WhenAny(task, Task.Delay(timeout)) != task)
            throw new TimeoutException($"not {what} after {timeout}.\n{Tails()}");
        try
        {
            await task;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"not {what}: {e.Message.Split('\n')[0]}\n{Tails()}", e);
        }
    }

    // ---- the journal ----

    /// <summary>
    /// The coordinator's events as journalled (Akka.Persistence.Sql's journal table in the shared SQLite file),
    /// deserialized by the client's GraphActorsSerializer: what any incarnation of the coordinator recovers from.
    /// </summary>
    public List<ITrainingEvent> JournalEvents()
    {
        var events = new List<ITrainingEvent>();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Journal, Mode = SqliteOpenMode.ReadOnly }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message, identifier, manifest FROM journal WHERE persistence_id = $id AND deleted = 0 ORDER BY sequence_number";
        command.Parameters.AddWithValue("$id", Names.TrainingCoordinatorPersistenceId);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var payload = (byte[])reader.GetValue(0);
            var e = Client.Serialization.Deserialize(payload, reader.GetInt32(1), reader.GetString(2));
            events.Add(e as ITrainingEvent ?? throw new InvalidDataException($"{Journal}: a {e.GetType().Name} in the coordinator's journal"));
        }
        return events;
    }

    // ---- output ----

    public string Stdout(Worker w) => w.Process.Stdout;

    /// <summary>The last lines of every node's output and the client's log, for failure messages.</summary>
    public string Tails(int lines = 60)
    {
        var b = new StringBuilder();
        b.AppendLine("=== events ===").Append(Events);
        foreach (var (name, p) in _nodes)
        {
            b.AppendLine($"=== {name} (exited: {p.HasExited}) ===");
            b.AppendLine(Tail(p.Stdout, lines));
            if (p.Stderr.Length > 0) b.AppendLine("--- stderr ---").AppendLine(Tail(p.Stderr, lines));
        }
        b.AppendLine("=== client ===").AppendLine(Tail(_clientLog.ToString(), lines));
        return b.ToString();
    }

    private static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    public async ValueTask DisposeAsync()
    {
        if (Client is not null)
        {
            // Leave first so the nodes do not spend their last seconds on an unreachable client; bounded either way.
            await Task.WhenAny(Client.Terminate(), Task.Delay(TimeSpan.FromSeconds(15)));
        }
        foreach (var (name, p) in _nodes)
        {
            p.Dispose();
            // The whole output stays next to the journal and checkpoints of the run, for reading after a failure.
            File.WriteAllText(Path.Combine(Run, $"{name}.log"), p.Output);
        }
        File.WriteAllText(Path.Combine(Run, "client.log"), _clientLog.ToString());
    }
}
