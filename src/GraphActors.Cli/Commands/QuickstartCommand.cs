// graphactors quickstart: the whole path on an embedded default, everything under one output folder.
using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using GraphActors.Contracts;
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
        var users = new Option<int>("--users") { Description = "Users in the generated graph", DefaultValueFactory = _ => 20_000 };
        var items = new Option<int>("--items") { Description = "Items in the generated graph", DefaultValueFactory = _ => 10_000 };
        var parts = new Option<int>("--parts") { Description = "Partitions", DefaultValueFactory = _ => 4 };
        var method = new Option<string>("--method") { Description = "Partitioning method: hash or metis", DefaultValueFactory = _ => "metis" };
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

        Stage("4/7 load partitions (memory-mapped)", () =>
        {
            var store = PartitionStore.Open(o.Store);
            var clock = Stopwatch.StartNew();
            long edges = 0;
            for (var p = 0; p < store.Parts; p++)
            {
                using var part = store.LoadPartition(p);
                foreach (var e in part.EdgeTypes) edges += e.Out.EdgeCount;
            }
            return $"{store.Parts} partitions, {edges:N0} out-edges opened in {clock.Elapsed.TotalMilliseconds:F0} ms";
        });

        // Small on purpose (hidden 32, 2 layers, fanouts [10, 10], 3 epochs): a minute or less on 2 cores.
        var training = new TrainingConfig
        {
            ModelType = "sage", Task = "node_classification", Target = "user", HiddenChannels = 32, NumLayers = 2,
            Fanouts = [10, 10], EvalFanouts = [10, 10], BatchSize = 1024, LearningRate = 0.01, Dropout = 0.2,
            ReverseEdges = "add_reverse", Epochs = 3, Seed = o.Seed, CheckpointDir = o.Run,
        };
        if (Directory.Exists(o.Run)) Directory.Delete(o.Run, recursive: true);
        AnsiConsole.MarkupLineInterpolated($"[bold]5/7 train[/] (sage, hidden 32, users of the generated graph; chance 1/8) …");
        var trained = TrainCommand.Train(training, o.Store, resume: null, Console.Out);

        Stage("6/7 evaluate the best checkpoint on the test split", () =>
        {
            var r = EvalCommand.Evaluate(Path.Combine(o.Run, "best"), o.Store, SplitKind.Test);
            return $"test {r} (chance 0.125) — checkpoint, metrics.csv and curve.svg under {o.Run}";
        });

        Serve(o);

        AnsiConsole.MarkupLineInterpolated($"[green]quickstart finished in {total.Elapsed.TotalSeconds:F1} s[/]; everything is under {o.Output}");
    }

    /// <summary>
    /// Stage 7: the best checkpoint behind the TorchServe-compatible HTTP API (TrainingCheckpointLoader over the
    /// partition store), one POST /predictions/quickstart for a few test users, then a clean stop (or Ctrl-C with
    /// --keep-serving).
    /// </summary>
    private static void Serve(QuickstartOptions o) => ServeAsync(o).GetAwaiter().GetResult();

    private static async Task ServeAsync(QuickstartOptions o)
    {
        AnsiConsole.MarkupLine("[bold]7/7 serve the best checkpoint over HTTP[/] …");
        var clock = Stopwatch.StartNew();
        using var store = new PartitionedGraphStore(PartitionStore.Open(o.Store));
        using var engine = new InferenceEngine(store, new TrainingCheckpointLoader(store), features: null);
        var checkpoint = Path.Combine(o.Run, "best");
        var entry = await engine.Models.RegisterAsync("quickstart", checkpoint).ConfigureAwait(false);
        var host = await ServingHost.StartAsync(engine, new ServingOptions { Host = "127.0.0.1", InferencePort = 0, ManagementPort = 0, MetricsPort = 0 })
            .ConfigureAwait(false);
        string? signal = null;
        await using (host.ConfigureAwait(false))
        {
            AnsiConsole.MarkupLineInterpolated($"  model quickstart (version {entry.Version}, {checkpoint}) on {host.InferenceAddress} (management {host.ManagementAddress}, metrics {host.MetricsAddress})");
            var user = new NodeType("user");
            var test = await store.GetSplitAsync(user, SplitKind.Test).ConfigureAwait(false);
            var local = test.Take(3).ToArray();
            var business = new long[local.Length];
            await store.GetBusinessIdsAsync(user, local, business).ConfigureAwait(false);
            var body = $"{{\"node_type\":\"user\",\"ids\":[{string.Join(',', business)}]}}";
            var url = new Uri(host.InferenceAddress, "predictions/quickstart");
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            using var response = await http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json")).ConfigureAwait(false);
            var json = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            Console.WriteLine($"  POST {url} {body}");
            Console.WriteLine($"  → {(int)response.StatusCode} {json}");
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"The sample prediction failed with {(int)response.StatusCode}: {json}");
            if (o.KeepServing)
            {
                Console.WriteLine($"  curl -X POST {url} -H 'Content-Type: application/json' -d '{body}'");
                Console.WriteLine("  serving; press Ctrl-C (or send SIGTERM) to stop");
                signal = await WaitForStopSignalAsync().ConfigureAwait(false);
                Console.Write($"  {signal}: stopping the HTTP API (inference {host.InferenceAddress}, management {host.ManagementAddress}, metrics {host.MetricsAddress}) … ");
            }
        }
        // The model, the torch workers and the partition store are released when this method returns.
        if (signal is not null) Console.WriteLine("stopped");
        AnsiConsole.MarkupLineInterpolated($"  stopped cleanly [grey]({clock.Elapsed.TotalSeconds:F1} s)[/]");
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
