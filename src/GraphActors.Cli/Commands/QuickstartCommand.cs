// graphactors quickstart: the whole path on an embedded default, everything under one output folder.
using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Akka.Actor;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Inference;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Serving;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Graph.Tables;
using GraphActors.Sampling;
using GraphActors.Training;
using Spectre.Console;

namespace GraphActors.Cli.Commands;

public static class QuickstartCommand
{
    public const string Dt = "2024-01-01";

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for everything the run makes (replaced on a second run)", DefaultValueFactory = _ => "quickstart-out" };
        var users = new Option<int>("--users") { Description = "Users in the generated graph", DefaultValueFactory = _ => 20_000 }.AtLeast(10);
        var items = new Option<int>("--items") { Description = "Items in the generated graph", DefaultValueFactory = _ => 10_000 }.AtLeast(10);
        var parts = new Option<int>("--parts") { Description = "Partitions", DefaultValueFactory = _ => 4 }.AtLeast(1);
        var method = new Option<string>("--method") { Description = "Partitioning method: hash or metis", DefaultValueFactory = _ => "metis" };
        method.AcceptOnlyFromAmong("hash", "metis");
        var seed = new Option<int>("--seed") { Description = "Seed for generation, partitioning and training", DefaultValueFactory = _ => 42 };
        var keepServing = new Option<bool>("--keep-serving") { Description = "After the sample prediction, keep the HTTP API up until Ctrl-C" };
        var cmd = new Command("quickstart", "Generate a heterogeneous graph, ETL it to CGDF, partition it, and run the rest of the path on it");
        foreach (var o in new Option[] { output, users, items, parts, method, seed, keepServing }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() => Run(new QuickstartOptions(
            Path.GetFullPath(pr.GetValue(output)!), pr.GetValue(users), pr.GetValue(items), pr.GetValue(parts), pr.GetValue(method)!, pr.GetValue(seed)) { KeepServing = pr.GetValue(keepServing) })));
        return cmd;
    }

    public sealed record QuickstartOptions(string Output, int Users, int Items, int Parts, string Method, int Seed)
    {
        public bool KeepServing { get; init; }
        public string Tables => Path.Combine(Output, "tables");
        public string Cgdf => Path.Combine(Output, "cgdf");
        public string Store => Path.Combine(Output, "partitions");
        public string Run => Path.Combine(Output, "run");
        public string Cluster => Path.Combine(Output, "cluster");
    }

    public static void Run(QuickstartOptions o)
    {
        Directory.CreateDirectory(o.Output);
        var total = Stopwatch.StartNew();

        Stage("1/7 generate", () =>
        {
            // Tables go to a fresh folder, renamed into place, so a second run replaces the first cleanly.
            var temp = o.Tables + ".tmp";
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            var s = SyntheticGenerator.Run(new GenerateOptions(temp)
            {
                Users = o.Users, Items = o.Items, Clicks = 10L * o.Users, Swings = 10L * o.Items, Seed = o.Seed, Dt = Dt,
            });
            if (Directory.Exists(o.Tables)) Directory.Delete(o.Tables, recursive: true);
            Directory.Move(temp, o.Tables);
            return $"{s.Users:N0} users, {s.Items:N0} items, {s.Clicks:N0} clicks, {s.Swings:N0} swings → {o.Tables}";
        });

        Stage("2/7 etl", () =>
        {
            var s = HiveToCgdf.Run(new EtlOptions(o.Tables, Dt, o.Cgdf) { GraphName = "quickstart" });
            return $"{s.TotalRowsRead:N0} rows, {s.TotalRejects:N0} rejected → {o.Cgdf}";
        });

        PartitionReport? report = null;
        Stage($"3/7 partition ({o.Method}, {o.Parts} parts)", () =>
        {
            report = GraphPartitioner.Run(new CgdfPartitionSource(o.Cgdf), new PartitionOptions(o.Store, o.Parts, o.Method)
            {
                Metis = new MetisOptions(o.Seed),
                Split = new MaskSplit(0.6, 0.2, 0.2, (ulong)o.Seed),
                Overwrite = true,
            });
            return $"edge cut {report.CutFraction:P1} → {o.Store}";
        });
        PartitionReportView.Render(report!);

        // Stages 4–7 run on a local cluster: one ActorSystem with every role (partition, trainer, inference) and the
        // training coordinator journaling to SQLite under the output folder.
        if (Directory.Exists(o.Run)) Directory.Delete(o.Run, recursive: true);
        if (Directory.Exists(o.Cluster)) Directory.Delete(o.Cluster, recursive: true);
        Directory.CreateDirectory(o.Cluster);
        ActorSystem? system = null;
        Stage("4/7 start a local cluster (partition, trainer and inference roles, SQLite journal)", () =>
        {
            system = NodeHost.Start(NodeConfig.WithPersistence(LocalClusterConfig(o)), new IndentedWriter(Console.Out));
            AwaitPartitions(system, o).GetAwaiter().GetResult();
            return $"node {Akka.Cluster.Cluster.Get(system).SelfAddress} up; {o.Parts} PartitionActors serving memory-mapped partitions; journal {Path.Combine(o.Cluster, "coordinator.db")}";
        });
        try
        {
            var status = TrainOnCluster(system!, o);
            var best = Path.Combine(o.Run, JobId, $"epoch-{status.BestEpoch:D4}");
            Stage("6/7 evaluate the best checkpoint on the test split", () =>
            {
                var r = EvalCommand.Evaluate(best, o.Store, SplitKind.Test);
                return $"test {r} (chance 0.125) — best epoch {status.BestEpoch}; checkpoints under {Path.Combine(o.Run, JobId)}";
            });
            ServeAsync(system!, o, best).GetAwaiter().GetResult();
        }
        finally
        {
            // Leaves through CoordinatedShutdown: the HTTP API, the trainer and the partitions stop in order.
            CoordinatedShutdown.Get(system!).Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(60));
        }

        AnsiConsole.MarkupLineInterpolated($"[green]quickstart finished in {total.Elapsed.TotalSeconds:F1} s[/]; everything is under {o.Output}");
    }

    private const string JobId = "quickstart";

    // Small on purpose (hidden 32, 2 layers, fanouts [10, 10], 3 epochs): a minute or less on 2 cores.
    private static string TrainingBlock(QuickstartOptions o) => $$"""
        training {
          model_type = sage, task = node_classification, target = user
          hidden_channels = 32, num_layers = 2, fanouts = [10, 10], eval_fanouts = [10, 10]
          batch_size = 1024, learning_rate = 0.01, dropout = 0.2, reverse_edges = add_reverse
          epochs = 3, eval_every = 1, seed = {{o.Seed}}, averaging_period = 1
        }
        """;

    private static Akka.Configuration.Config LocalClusterConfig(QuickstartOptions o) => Akka.Configuration.ConfigurationFactory.ParseString($$"""
        # The stages print what happens; Akka's own log only for errors (its start-up chatter would bury the table).
        akka.loglevel = ERROR
        akka.stdout-loglevel = ERROR
        akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
        akka.remote.dot-netty.tcp.port = 0
        akka.cluster.seed-nodes = []
        akka.cluster.roles = [partition, trainer, inference]
        akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
        graphactors.partitions.store-path = {{NodeConfig.Quote(o.Store)}}
        graphactors.persistence.sqlite-path = {{NodeConfig.Quote(Path.Combine(o.Cluster, "coordinator.db"))}}
        graphactors.node.data-dir = {{NodeConfig.Quote(o.Cluster)}}
        graphactors.training-coordinator.plan-delay = 1s
        graphactors.trainer.register-interval = 500ms
        graphactors.inference { inference-port = 0, management-port = 0, metrics-port = 0, model-store = {{NodeConfig.Quote(o.Run)}} }
        """).WithFallback(NodeConfig.Defaults);

    // Every partition answers before training starts (they load when the node is up).
    private static async Task AwaitPartitions(ActorSystem system, QuickstartOptions o)
    {
        var store = GraphActors.Cluster.Sampling.RemoteGraphStore.FromStore(system, o.Store);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var user = new NodeType("user");
        var clicks = store.Schema.EdgeTypes.First(e => e.Type.Src == user).Type;
        var ids = Enumerable.Range(0, store.Book.NodeCount(user)).ToArray();
        var degrees = new int[ids.Length];
        while (true)
        {
            try
            {
                // One request per partition: it answers once every partition is loaded.
                await store.GetDegreesAsync(clicks, false, ids, degrees).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (DateTime.UtcNow < deadline && e is TimeoutException or InvalidOperationException)
            {
                await Task.Delay(250).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stage 5: the job on the cluster's coordinator, a row per epoch as the journal records it.</summary>
    private static TrainingProtocol.JobStatus TrainOnCluster(ActorSystem system, QuickstartOptions o)
    {
        AnsiConsole.MarkupLine("[bold]5/7 train on the local cluster[/] (sage, hidden 32, users of the generated graph; chance 1/8) …");
        var file = TrainingHocon.Parse(TrainingBlock(o), "quickstart");
        var job = TrainingHocon.ToJob(file, o.Store, o.Run);
        var coordinator = system.ActorSelection($"/user/{GraphActors.Cluster.Names.TrainingCoordinatorProxy}");
        var timeout = TimeSpan.FromSeconds(30);
        var started = coordinator.Ask<TrainingProtocol.JobCommandResult>(new TrainingProtocol.StartJob(JobId, job), timeout).GetAwaiter().GetResult();
        if (!started.Accepted) throw new InvalidOperationException($"The coordinator refused the quickstart job: {started.Message}");
        Console.WriteLine($"  {started.Message}");
        Console.WriteLine($"  {"epoch",5} {"loss",9} {"val accuracy",13} {"test accuracy",14} {"seconds",8}");
        var clock = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(15);
        var shown = -1;
        var last = TimeSpan.Zero;
        while (true)
        {
            var status = coordinator.Ask<TrainingProtocol.JobStatus>(new TrainingProtocol.GetJobStatus(JobId), timeout).GetAwaiter().GetResult();
            if (status.LastCompletedEpoch > shown)
            {
                shown = status.LastCompletedEpoch;
                string Metric(string name)
                {
                    var i = Array.IndexOf(status.MetricNames, name);
                    return i < 0 ? "-" : status.MetricValues[i].ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
                }
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"  {shown,5} {status.LastLoss,9:F4} {Metric("val_accuracy"),13} {Metric("test_accuracy"),14} {(clock.Elapsed - last).TotalSeconds,8:F2}"));
                last = clock.Elapsed;
            }
            switch (status.State)
            {
                case JobState.Finished:
                    Console.WriteLine($"  job {JobId} finished: best epoch {status.BestEpoch} (val accuracy {status.BestMetric:F4}), trainers {status.Trainers.Length}, " +
                        $"last checkpoint {status.LastCheckpointPath}");
                    return status;
                case JobState.Failed or JobState.Stopped:
                    throw new InvalidOperationException($"The quickstart job {status.State.ToString().ToLowerInvariant()}: {status.Reason}");
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The quickstart job is still {status.State} at epoch {status.Epoch} after 15 minutes.");
            Thread.Sleep(250);
        }
    }

    /// <summary>
    /// Stage 7: the best checkpoint loaded into the inference role through TorchServe's management API
    /// (POST /models?url=…), one POST /predictions/quickstart for a few test users through the InferenceActor, then a
    /// clean stop (or, with --keep-serving, a stop on Ctrl-C or SIGTERM).
    /// </summary>
    private static async Task ServeAsync(ActorSystem system, QuickstartOptions o, string checkpoint)
    {
        AnsiConsole.MarkupLine("[bold]7/7 serve the best checkpoint over HTTP[/] …");
        var clock = Stopwatch.StartNew();
        var inference = await system.ActorSelection($"/user/{InferenceExtensions.ActorName}").ResolveOne(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        var answer = await inference.Ask<object>(InferenceActor.GetAddresses.Instance, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        if (answer is InferenceActor.StartFailed failed) throw new InvalidOperationException($"The inference role did not start: {failed.Reason}");
        var host = (InferenceActor.Started)answer;
        // The node generated its management token into its data folder at start (no token is configured): read it
        // there, as a script on the node would.
        var tokenFile = InferenceSettings.Create(system).ManagementTokenFile!;
        var token = (await File.ReadAllTextAsync(tokenFile).ConfigureAwait(false)).Trim();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        // The url is relative to the model store (graphactors.inference.model-store = the run folder).
        var register = new Uri(host.Management, $"models?url={Uri.EscapeDataString(Path.GetRelativePath(o.Run, checkpoint))}&model_name=quickstart");
        using (var request = new HttpRequestMessage(HttpMethod.Post, register) { Headers = { Authorization = new("Bearer", token) } })
        using (var loaded = await http.SendAsync(request).ConfigureAwait(false))
        {
            var text = await loaded.Content.ReadAsStringAsync().ConfigureAwait(false);
            Console.WriteLine($"  POST {register} → {(int)loaded.StatusCode} {text}");
            if (!loaded.IsSuccessStatusCode) throw new InvalidOperationException($"Loading the checkpoint failed with {(int)loaded.StatusCode}: {text}");
        }
        using var store = new PartitionedGraphStore(PartitionStore.Open(o.Store));
        var user = new NodeType("user");
        var test = await store.GetSplitAsync(user, SplitKind.Test).ConfigureAwait(false);
        var local = test.Take(3).ToArray();
        var business = new long[local.Length];
        await store.GetBusinessIdsAsync(user, local, business).ConfigureAwait(false);
        var body = $"{{\"node_type\":\"user\",\"ids\":[{string.Join(',', business)}]}}";
        var url = new Uri(host.Inference, "predictions/quickstart");
        using var response = await http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json")).ConfigureAwait(false);
        var json = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        Console.WriteLine($"  POST {url} {body}");
        Console.WriteLine($"  → {(int)response.StatusCode} {json}");
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The sample prediction failed with {(int)response.StatusCode}: {json}");
        Console.WriteLine($"  live status: {new Uri(host.Management, "status")} (management token in {tokenFile})");
        if (o.KeepServing)
        {
            Console.WriteLine($"  curl -X POST {url} -H 'Content-Type: application/json' -d '{body}'");
            Console.WriteLine($"  curl -H \"Authorization: Bearer $(cat {tokenFile})\" {new Uri(host.Management, "models")}");
            Console.WriteLine($"  open {new Uri(host.Management, "status")}#token={token}");
            Console.WriteLine("  serving; press Ctrl-C (or send SIGTERM) to stop");
            var signal = await WaitForStopSignalAsync().ConfigureAwait(false);
            Console.Write($"  {signal}: stopping the HTTP API (inference {host.Inference}, management {host.Management}, metrics {host.Metrics}) … ");
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
            Console.WriteLine("stopped");
        }
        else await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance).ConfigureAwait(false);
        AnsiConsole.MarkupLineInterpolated($"  stopped cleanly: left the cluster, released the model and the partitions [grey]({clock.Elapsed.TotalSeconds:F1} s)[/]");
    }

    /// <summary>Node progress lines, indented under the stage that started the node.</summary>
    private sealed class IndentedWriter(TextWriter inner) : TextWriter
    {
        public override Encoding Encoding => inner.Encoding;
        public override void WriteLine(string? value) => inner.WriteLine("  " + value);
        public override void Write(char value) => inner.Write(value);
    }

    /// <summary>
    /// Waits for Ctrl-C (SIGINT) or SIGTERM and returns its name. Both are cancelled (the runtime would otherwise end
    /// the process at once), so the caller stops the API and releases the model itself and the exit code stays 0.
    /// </summary>
    private static async Task<string> WaitForStopSignalAsync()
    {
        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult("SIGINT (Ctrl-C)"); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult("SIGTERM"); });
        return await stop.Task.ConfigureAwait(false);
    }

    private static void Stage(string name, Func<string> body)
    {
        AnsiConsole.MarkupLineInterpolated($"[bold]{name}[/] …");
        var clock = Stopwatch.StartNew();
        var result = body();
        AnsiConsole.MarkupLineInterpolated($"  {result} [grey]({clock.Elapsed.TotalSeconds:F1} s)[/]");
    }
}
