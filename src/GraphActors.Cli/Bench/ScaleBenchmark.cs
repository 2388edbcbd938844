// graphactors bench scale: the seed's layout (8 partition servers, 8 samplers, 16 trainers) as real processes on this
// machine, a generated heterogeneous graph with wide features through the whole path, and where the time, memory and
// bytes of a training step go, by role.
using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using GraphActors.Cli.Commands;
using GraphActors.Cluster.Hosting;
using Spectre.Console;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Runs the whole path as a user would, each step a child `graphactors` process: <c>generate</c> (users with features
/// and labels, items with features, clicks and swings; <c>--dim</c> floats per node), <c>etl</c>, <c>partition</c>
/// (hash, one part per partition node), <c>deploy --local</c> with <c>--layout</c> on 127.0.0.1 (the time until every
/// member is up is this step's time), <c>ctl train start --follow</c> (node classification of users, GraphSAGE), then
/// <c>deploy stop</c>. While the job runs it samples every node's RSS every two seconds; before and after the job it
/// reads every node's GET /metrics. It reports the store's bytes per node, edge and feature value; RSS by role (idle
/// and peak); the step's time split (sampling structure, feature fetch, the trainer's wait and compute, averaging);
/// and the payload bytes each role sent and received per global step. The generated tables are reused when a stamp
/// says they were written with the same sizes; everything else is rebuilt.
/// </summary>
public static class ScaleBenchmark
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var work = new Option<string>("--work") { Description = "Working folder: tables/, cgdf/, store/, deploy/, job.hocon, scale.json", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "ga-bench-scale") };
        var users = new Option<int>("--users") { Description = "User nodes (features, labels: the training target)", DefaultValueFactory = _ => 600_000 };
        var items = new Option<int>("--items") { Description = "Item nodes (features)", DefaultValueFactory = _ => 400_000 };
        var clicks = new Option<int>("--clicks") { Description = "user→item click edges", DefaultValueFactory = _ => 5_000_000 };
        var swings = new Option<int>("--swings") { Description = "item→item swing edges", DefaultValueFactory = _ => 2_000_000 };
        var dim = new Option<int>("--dim") { Description = "Feature floats per node", DefaultValueFactory = _ => 500 };
        var layout = new Option<string>("--layout") { Description = "deploy's layout (the first group holds the seed)", DefaultValueFactory = _ => "none:1,partition:8,sampler:8,trainer:16" };
        var split = new Option<string>("--split") { Description = "train/val/test fractions of the users (an epoch is the training users)", DefaultValueFactory = _ => "0.1/0.02/0.02" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { Description = "Seeds per mini-batch", DefaultValueFactory = _ => 512 };
        var fanouts = new Option<string>("--fanouts") { Description = "Neighbours sampled per layer", DefaultValueFactory = _ => "10,5" };
        var hidden = new Option<int>("--hidden") { Description = "Hidden channels", DefaultValueFactory = _ => 128 };
        var basePort = new Option<int>("--base-port") { Description = "Port of the first node (the others count up)", DefaultValueFactory = _ => 5600 };
        var upTimeout = new Option<int>("--up-timeout") { Description = "Seconds to wait for every member to be up", DefaultValueFactory = _ => 600 };
        var jobTimeout = new Option<int>("--job-timeout") { Description = "Seconds the job may take", DefaultValueFactory = _ => 3600 };
        var keep = new Option<bool>("--keep") { Description = "Leave the cluster running at the end (`graphactors deploy stop --out WORK/deploy`)" };
        var cmd = new Command("scale", "The seed's layout as real processes on this machine: generate → etl → partition → deploy → train one job; time until up, RSS by role, step time split, bytes per step by role");
        foreach (var o in new Option[] { work, users, items, clicks, swings, dim, layout, split, epochs, batch, fanouts, hidden, basePort, upTimeout, jobTimeout, keep })
            cmd.Options.Add(o);
        cmd.SetAction(async (pr, ct) => await Run(new Settings(
            Path.GetFullPath(pr.GetValue(work)!), pr.GetValue(users), pr.GetValue(items), pr.GetValue(clicks), pr.GetValue(swings), pr.GetValue(dim),
            pr.GetValue(layout)!, pr.GetValue(split)!, pr.GetValue(epochs), pr.GetValue(batch), pr.GetValue(fanouts)!, pr.GetValue(hidden),
            pr.GetValue(basePort), pr.GetValue(upTimeout), pr.GetValue(jobTimeout), pr.GetValue(keep)), ct));
        return cmd;
    }

    private sealed record Settings(
        string Work, int Users, int Items, int Clicks, int Swings, int Dim, string Layout, string Split, int Epochs, int Batch,
        string Fanouts, int Hidden, int BasePort, int UpTimeout, int JobTimeout, bool Keep);

    private static async Task<int> Run(Settings s, CancellationToken ct)
    {
        var groups = DeployLayout.Parse(s.Layout);
        var hosts = groups.Sum(g => g.Count);
        var parts = groups.Where(g => g.Roles.Contains("partition")).Sum(g => g.Count);
        if (parts == 0) throw new DeployException($"--layout '{s.Layout}' has no partition node: the store needs at least one.");
        _ = ParseFanouts(s.Fanouts);
        Directory.CreateDirectory(s.Work);
        var (tables, cgdf, store, deployOut) = (Path.Combine(s.Work, "tables"), Path.Combine(s.Work, "cgdf"), Path.Combine(s.Work, "store"), Path.Combine(s.Work, "deploy"));
        var loadStart = BenchLoad.Read();
        AnsiConsole.MarkupLineInterpolated(Inv, $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GB; load average at start {loadStart}");
        AnsiConsole.MarkupLineInterpolated(Inv, $"graph: {s.Users:N0} users + {s.Items:N0} items ({s.Dim}-d), {s.Clicks:N0} clicks + {s.Swings:N0} swings; layout {s.Layout}; {parts} part(s)");
        var times = new List<(string Step, double Seconds)>();

        var stampFile = Path.Combine(tables, ".graphactors-bench-scale");
        var stamp = $"{s.Users} {s.Items} {s.Clicks} {s.Swings} {s.Dim}";
        if (File.Exists(stampFile) && File.ReadAllText(stampFile).Trim() == stamp)
            AnsiConsole.MarkupLineInterpolated(Inv, $"reusing the tables in {tables} (same sizes)");
        else
        {
            if (Directory.Exists(tables)) Directory.Delete(tables, recursive: true);
            times.Add(("generate", await Step("generate", ct, "generate", "--out", tables, "--users", I(s.Users), "--items", I(s.Items),
                "--clicks", I(s.Clicks), "--swings", I(s.Swings), "--feature-dim", I(s.Dim))));
            File.WriteAllText(stampFile, stamp);
        }
        times.Add(("etl", await Step("etl", ct, "etl", "--tables", tables, "--out", cgdf, "--dt", "2024-01-01")));
        times.Add(("partition", await Step("partition", ct, "partition", "--cgdf", cgdf, "--parts", I(parts), "--method", "hash",
            "--out", store, "--split", s.Split, "--overwrite")));
        var storeBytes = StoreBytes(store);

        var ipConfig = Path.Combine(s.Work, "ip_config.txt");
        File.WriteAllLines(ipConfig, Enumerable.Repeat("127.0.0.1", hosts));
        if (Directory.Exists(deployOut)) await Step("deploy stop (an earlier run's)", ct, "deploy", "stop", "--out", deployOut);
        if (Directory.Exists(deployOut)) Directory.Delete(deployOut, recursive: true);
        var up = await Step("deploy", ct, "deploy", "--ip-config", ipConfig, "--layout", s.Layout, "--store", store, "--out", deployOut,
            "--local", "--base-port", I(s.BasePort), "--up-timeout", $"{s.UpTimeout}s");
        times.Add(("deploy --local: every member up", up));
        var exit = 1;
        try
        {
            var plan = DeployPlan.Read(deployOut);
            var nodes = IdleBenchmark.DeployedNodes(deployOut).Join(plan.Nodes, n => n.Name, d => d.Name, (n, d) => new Member(n.Name, n.Roles, n.Pid, DeployPlan.MetricsPort(d.Port))).ToList();
            if (nodes.Count != plan.Nodes.Count)
                throw new InvalidOperationException($"{plan.Nodes.Count - nodes.Count} node(s) of the plan have no running process (`graphactors deploy status --out {deployOut}`).");
            var idleRss = nodes.ToDictionary(n => n.Name, n => IdleBenchmark.RssMb(n.Pid));
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var before = await Scrape(http, nodes, ct);

            var job = Path.Combine(s.Work, "job.hocon");
            File.WriteAllText(job, JobHocon(s, store));
            var peakRss = nodes.ToDictionary(n => n.Name, _ => 0.0);
            using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var rssLoop = Task.Run(async () =>
            {
                while (!sampling.IsCancellationRequested)
                {
                    foreach (var n in nodes)
                        if (IdleBenchmark.RssMb(n.Pid) is var mb && mb > peakRss[n.Name]) peakRss[n.Name] = mb;
                    try { await Task.Delay(2000, sampling.Token); } catch (OperationCanceledException) { }
                }
            });
            var jobId = $"scale-{DateTime.UtcNow:yyyyMMdd-HHmmss}";
            double trainSeconds;
            try
            {
                using var jobCt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                jobCt.CancelAfter(TimeSpan.FromSeconds(s.JobTimeout));
                trainSeconds = await Step("train", jobCt.Token, "ctl", "train", "start", "--config", job, "--store", store, "--job", jobId,
                    "--checkpoint-dir", Path.Combine(s.Work, "runs"), "--contact", $"127.0.0.1:{s.BasePort}",
                    "--token-file", Path.Combine(deployOut, DeployPlan.CtlTokenFileName), "--timeout", "120s", "--follow", "--every", "30s");
            }
            finally
            {
                sampling.Cancel();
                await rssLoop;
            }
            times.Add(("ctl train start --follow: the job", trainSeconds));
            var after = await Scrape(http, nodes, ct);
            var loadEnd = BenchLoad.Read();
            Report(s, times, storeBytes, nodes, idleRss, peakRss, before, after, loadStart, loadEnd);
            exit = 0;
        }
        finally
        {
            if (!s.Keep) await Step("deploy stop", CancellationToken.None, "deploy", "stop", "--out", deployOut);
        }
        return exit;
    }

    private sealed record Member(string Name, string Roles, int Pid, int MetricsPort);

    private static string I(int v) => v.ToString(Inv);

    private static int[] ParseFanouts(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(f => int.TryParse(f, NumberStyles.Integer, Inv, out var v) && (v > 0 || v == -1) ? v
                : throw CliErrors.BadOption("--fanouts", $"'{text}': '{f}' is not a positive count (or -1 for all neighbours).")).ToArray();

    private static string JobHocon(Settings s, string store) => $$"""
        # Written by `graphactors bench scale`: node classification of the generated users, synchronous data-parallel.
        training {
          model_type = sage
          task = node_classification
          target = user
          hidden_channels = {{s.Hidden}}
          num_layers = {{ParseFanouts(s.Fanouts).Length}}
          fanouts = [{{s.Fanouts}}]
          eval_fanouts = [{{s.Fanouts}}]
          batch_size = {{s.Batch}}
          learning_rate = 0.01
          dropout = 0.2
          reverse_edges = add_reverse
          epochs = {{s.Epochs}}
          eval_every = {{s.Epochs}}
          seed = 0
          threads = 1
          averaging_period = 1
          store_path = {{JsonSerializer.Serialize(store)}}
        }
        """;

    private static Task<double> Step(string label, CancellationToken ct, params string[] args) => ChildCli.RunAsync(label, args, ct);

    /// <summary>Bytes of the store by kind: features, structure (edges/), per-node arrays (ids, labels, masks), the rest.</summary>
    private static Dictionary<string, long> StoreBytes(string store)
    {
        var d = new Dictionary<string, long> { ["features"] = 0, ["structure"] = 0, ["node arrays"] = 0, ["other"] = 0 };
        foreach (var f in Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(store, f).Replace('\\', '/');
            var kind = Path.GetFileName(f) == "features.f32" ? "features" : rel.Contains("/edges/") ? "structure" : rel.Contains("/nodes/") ? "node arrays" : "other";
            d[kind] += new FileInfo(f).Length;
        }
        return d;
    }

    /// <summary>Every node's metrics, parsed: series (name + labels as written) → value.</summary>
    private static async Task<Dictionary<string, Dictionary<string, double>>> Scrape(HttpClient http, IReadOnlyList<Member> nodes, CancellationToken ct)
    {
        var all = new Dictionary<string, Dictionary<string, double>>();
        foreach (var n in nodes)
        {
            if (n.MetricsPort == 0) throw new InvalidOperationException($"node {n.Name} has no metrics port.");
            var text = await http.GetStringAsync($"http://127.0.0.1:{n.MetricsPort}/metrics", ct);
            var series = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var line in text.Split('\n'))
            {
                if (line.Length == 0 || line[0] == '#') continue;
                var space = line.LastIndexOf(' ');
                if (space > 0 && double.TryParse(line.AsSpan(space + 1), NumberStyles.Float, Inv, out var v)) series[line[..space]] = v;
            }
            all[n.Name] = series;
        }
        return all;
    }

    private static double Get(Dictionary<string, double> m, string series) => m.GetValueOrDefault(series);

    private static void Report(Settings s, List<(string Step, double Seconds)> times, Dictionary<string, long> storeBytes, List<Member> nodes,
        Dictionary<string, double> idleRss, Dictionary<string, double> peakRss,
        Dictionary<string, Dictionary<string, double>> before, Dictionary<string, Dictionary<string, double>> after, string loadStart, string loadEnd)
    {
        double Delta(Member n, string series) => Get(after[n.Name], series) - Get(before[n.Name], series);
        double Sum(IEnumerable<Member> ns, string series) => ns.Sum(n => Delta(n, series));
        (double Count, double MeanMs) Hist(IEnumerable<Member> ns, string name, string labels)
        {
            var list = ns.ToList();
            var count = Sum(list, $"{name}_count{labels}");
            return (count, count == 0 ? double.NaN : 1000 * Sum(list, $"{name}_sum{labels}") / count);
        }

        var timeTable = new Table().AddColumns("step", "seconds");
        foreach (var (step, sec) in times) timeTable.AddRow(step, sec.ToString("F1", Inv));
        AnsiConsole.Write(timeTable);

        var nodeCount = (long)s.Users + s.Items;
        var storeTable = new Table().AddColumns("store", "bytes", "per");
        storeTable.AddRow("features", storeBytes["features"].ToString("N0", Inv), $"{(double)storeBytes["features"] / (nodeCount * (long)s.Dim):F3} B per feature value");
        storeTable.AddRow("structure (out- and in-CSR, weights)", storeBytes["structure"].ToString("N0", Inv), $"{(double)storeBytes["structure"] / (s.Clicks + (long)s.Swings):F1} B per edge");
        storeTable.AddRow("node arrays (ids, labels, masks)", storeBytes["node arrays"].ToString("N0", Inv), $"{(double)storeBytes["node arrays"] / nodeCount:F1} B per node");
        storeTable.AddRow("other (partitions.json, charts)", storeBytes["other"].ToString("N0", Inv), "");
        AnsiConsole.Write(storeTable);

        var roles = nodes.GroupBy(n => n.Roles).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var trainers = nodes.Where(n => n.Roles.Contains("trainer", StringComparison.Ordinal)).ToList();
        var steps = Sum(trainers, "graphactors_trainer_steps_total");
        var rssTable = new Table().AddColumns("role", "nodes", "RSS idle MB (mean / max)", "RSS peak in the job MB (mean / max)", "sent per mini-batch step", "received per mini-batch step", "sent per node per step");
        var roleRows = new List<object>();
        foreach (var g in roles)
        {
            var sent = Sum(g, "graphactors_wire_bytes_total{direction=\"sent\"}");
            var received = Sum(g, "graphactors_wire_bytes_total{direction=\"received\"}");
            var (idleMean, idleMax) = (g.Average(n => idleRss[n.Name]), g.Max(n => idleRss[n.Name]));
            var (peakMean, peakMax) = (g.Average(n => peakRss[n.Name]), g.Max(n => peakRss[n.Name]));
            rssTable.AddRow(g.Key, g.Count().ToString(Inv), $"{idleMean:F0} / {idleMax:F0}", $"{peakMean:F0} / {peakMax:F0}",
                Bytes(sent / steps), Bytes(received / steps), Bytes(sent / steps / g.Count()));
            roleRows.Add(new { role = g.Key, nodes = g.Count(), idleRssMeanMb = idleMean, idleRssMaxMb = idleMax, peakRssMeanMb = peakMean, peakRssMaxMb = peakMax,
                sentBytesPerStep = sent / steps, receivedBytesPerStep = received / steps });
        }
        AnsiConsole.MarkupLineInterpolated(Inv, $"{steps:F0} mini-batch steps in all (every trainer's; a global step is {trainers.Count} of them at averaging_period 1); bytes are per mini-batch step");
        AnsiConsole.Write(rssTable);

        var samplers = nodes.Where(n => n.Roles.Contains("sampler", StringComparison.Ordinal)).ToList();
        var partitionNodes = nodes.Where(n => n.Roles.Contains("partition", StringComparison.Ordinal)).ToList();
        var split = new (string What, (double Count, double MeanMs) H)[]
        {
            ("sampling: structure (blocks; remote neighbour requests)", Hist(samplers, "graphactors_sampler_phase_duration_seconds", "{phase=\"structure\"}")),
            ("sampling: feature fetch (input rows and labels, remote)", Hist(samplers, "graphactors_sampler_phase_duration_seconds", "{phase=\"features\"}")),
            ("sampling: the whole batch", Hist(samplers, "graphactors_sampler_batch_duration_seconds", "")),
            ("partition: a features request", Hist(partitionNodes, "graphactors_partition_request_duration_seconds", "{kind=\"features\"}")),
            ("partition: a neighbours request", Hist(partitionNodes, "graphactors_partition_request_duration_seconds", "{kind=\"neighbors\"}")),
            ("trainer: waiting for its batch", Hist(trainers, "graphactors_trainer_step_duration_seconds", "{phase=\"wait\"}")),
            ("trainer: forward, backward, optimizer step", Hist(trainers, "graphactors_trainer_step_duration_seconds", "{phase=\"compute\"}")),
            ("trainer: an averaging round (ring)", Hist(trainers, "graphactors_averaging_round_duration_seconds", "{mode=\"ring\"}")),
            ("trainer: an averaging round (star)", Hist(trainers, "graphactors_averaging_round_duration_seconds", "{mode=\"star\"}")),
        };
        var splitTable = new Table().AddColumns("per step", "count", "mean ms");
        foreach (var (what, (count, mean)) in split.Where(x => x.H.Count > 0))
            splitTable.AddRow(what, count.ToString("F0", Inv), mean.ToString("F1", Inv));
        AnsiConsole.Write(splitTable);
        AnsiConsole.MarkupLineInterpolated(Inv, $"load average at start {loadStart}, at the end {loadEnd}");

        var json = new
        {
            machine = $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GB",
            settings = s, loadStart, loadEnd,
            steps = times.Select(t => new { step = t.Step, seconds = t.Seconds }),
            store = storeBytes, trainingSteps = steps, roles = roleRows,
            split = split.Where(x => x.H.Count > 0).Select(x => new { what = x.What, count = x.H.Count, meanMs = x.H.MeanMs }),
        };
        var path = Path.Combine(s.Work, "scale.json");
        File.WriteAllText(path, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLineInterpolated(Inv, $"written {path}");
    }

    private static string Bytes(double b) =>
        double.IsNaN(b) || double.IsInfinity(b) ? "–" : b >= 1 << 20 ? $"{b / (1 << 20):F2} MiB" : b >= 1 << 10 ? $"{b / 1024:F1} KiB" : $"{b:F0} B";
}
