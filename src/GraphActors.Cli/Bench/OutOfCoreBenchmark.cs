// graphactors bench outofcore: a store whose feature slabs exceed this machine's RAM, trained from its memory map,
// beside a store of the same shape with fewer nodes that fits.
using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using GraphActors.Cli.Commands;
using Spectre.Console;

namespace GraphActors.Cli.Bench;

/// <summary>
/// For each of <c>--nodes</c> (the large store) and <c>--peer-nodes</c> (the one that fits): `graphactors partition
/// --synthetic N --synthetic-dim D` (a planted-community graph, 10 edges per node, streamed: no table of the whole graph
/// is ever in memory), then `graphactors train` on it (local mode: the store memory-mapped, GraphSAGE, node
/// classification) with the same number of training seeds, so both take the same steps. While training it samples
/// every two seconds the trainer's RSS split into anonymous memory (heaps, tensors) and file pages (the mapped store),
/// its major page faults (pages read from disk), and the machine's page cache and available memory. It reports those
/// peaks, the bytes read from the disk, and steps/s from train's own epoch line.
/// </summary>
public static partial class OutOfCoreBenchmark
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create()
    {
        var work = new Option<string>("--work") { Description = "Working folder for the two stores and the job files", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "ga-bench-outofcore") };
        var nodes = new Option<int?>("--nodes") { Description = "Nodes of the large store (default: feature slabs of 1.2 × this machine's RAM at --dim)" };
        var peer = new Option<int>("--peer-nodes") { Description = "Nodes of the store that fits in RAM", DefaultValueFactory = _ => 1_000_000 };
        var dim = new Option<int>("--dim") { Description = "Float features per node", DefaultValueFactory = _ => 1024 };
        var parts = new Option<int>("--parts") { Description = "Partitions of each store (local mode reads them all)", DefaultValueFactory = _ => 4 };
        var seeds = new Option<int>("--seeds") { Description = "Training seeds of each run (steps = seeds / batch)", DefaultValueFactory = _ => 153_600 };
        var batch = new Option<int>("--batch") { Description = "Seeds per step", DefaultValueFactory = _ => 512 };
        var fanouts = new Option<string>("--fanouts") { Description = "Neighbours per layer", DefaultValueFactory = _ => "10,5" };
        var keep = new Option<bool>("--keep") { Description = "Keep the stores afterwards (they are large)" };
        var onlyLarge = new Option<bool>("--only-large") { Description = "Run the large store only (the peer's figure from an earlier run of the same session)" };
        var cmd = new Command("outofcore", "Train from a memory-mapped store whose features exceed RAM, beside one of the same shape that fits: RSS (anonymous / file), page cache, major faults, steps/s");
        foreach (var o in new Option[] { work, nodes, peer, dim, parts, seeds, batch, fanouts, keep, onlyLarge }) cmd.Options.Add(o);
        cmd.SetAction(async (pr, ct) =>
        {
            var ram = MemInfo()["MemTotal"];
            var d = pr.GetValue(dim);
            var big = pr.GetValue(nodes) is { } n ? (n > 0 ? n : throw CliErrors.BadOption("--nodes", $"must be at least 1, not {n}.")) : (int)Math.Min(int.MaxValue, Math.Ceiling(1.2 * ram / (4.0 * d)));
            var root = Path.GetFullPath(pr.GetValue(work)!);
            Directory.CreateDirectory(root);
            // An earlier run's store at the same path is replaced, so its bytes count as free.
            var earlier = Path.Combine(root, $"store-{big}");
            var free = new DriveInfo(root).AvailableFreeSpace
                + (Directory.Exists(earlier) ? Directory.EnumerateFiles(earlier, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0);
            var needed = (long)big * d * 4 + (long)big * 200;
            if (free < needed)
                throw CliErrors.BadOption("--work", $"{root} has {free / 1e9:F1} GB free; the large store needs about {needed / 1e9:F1} GB. Give a folder on a larger disk, or fewer --nodes.");
            AnsiConsole.MarkupLineInterpolated(Inv, $"{Environment.ProcessorCount} cores, RAM {ram / 1e9:F1} GB; load average {BenchLoad.Read()}");
            var rows = new List<Row>();
            foreach (var count in pr.GetValue(onlyLarge) ? [big] : new[] { pr.GetValue(peer), big })
            {
                rows.Add(await RunOne(root, count, d, pr.GetValue(parts), pr.GetValue(seeds), pr.GetValue(batch), pr.GetValue(fanouts)!, ram, pr.GetValue(keep), ct));
            }
            var table = new Table().AddColumns("nodes", "feature slabs", "× RAM", "steps", "steps/s", "trainer RSS anon max", "RSS file max",
                "page cache max", "available min", "major faults", "read from disk");
            foreach (var r in rows)
                table.AddRow(r.Nodes.ToString("N0", Inv), Gb(r.FeatureBytes), (r.FeatureBytes / (double)ram).ToString("F2", Inv), r.Steps.ToString(Inv),
                    r.StepsPerSecond.ToString("F2", Inv), Gb(r.AnonMax), Gb(r.FileMax), Gb(r.CachedMax), Gb(r.AvailableMin), r.MajorFaults.ToString("N0", Inv), Gb(r.ReadBytes));
            AnsiConsole.Write(table);
            foreach (var r in rows)
                Console.WriteLine(string.Create(Inv,
                    $"| {r.Nodes:N0} | {Gb(r.FeatureBytes)} | {r.FeatureBytes / (double)ram:F2} | {r.Steps} | {r.StepsPerSecond:F2} | {Gb(r.AnonMax)} | {Gb(r.FileMax)} | {Gb(r.CachedMax)} | {Gb(r.AvailableMin)} | {r.MajorFaults:N0} | {Gb(r.ReadBytes)} |"));
            AnsiConsole.MarkupLineInterpolated(Inv, $"load average at the end {BenchLoad.Read()}");
            return 0;
        });
        return cmd;
    }

    private sealed record Row(int Nodes, long FeatureBytes, int Steps, double StepsPerSecond, long AnonMax, long FileMax, long CachedMax,
        long AvailableMin, long MajorFaults, long ReadBytes);

    private static string Gb(long bytes) => (bytes / 1e9).ToString("F2", Inv) + " GB";

    private static async Task<Row> RunOne(string root, int nodes, int dim, int parts, int seeds, int batch, string fanouts, long ram, bool keep, CancellationToken ct)
    {
        var store = Path.Combine(root, $"store-{nodes}");
        var train = Math.Min(1.0, seeds / (double)nodes);
        var heldOut = Math.Min((1 - train) / 2, 10_000.0 / nodes);
        var split = string.Create(Inv, $"{train:R}/{heldOut:R}/{heldOut:R}");
        AnsiConsole.MarkupLineInterpolated(Inv, $"[bold]{nodes:N0} nodes × {dim}[/]: features {nodes * (long)dim * 4 / 1e9:F1} GB ({nodes * (long)dim * 4.0 / ram:F2} × RAM), split {split}");
        if (Directory.Exists(store)) Directory.Delete(store, recursive: true);
        await ChildCli.RunAsync("partition", ["partition", "--synthetic", nodes.ToString(Inv), "--synthetic-dim", dim.ToString(Inv), "--parts", parts.ToString(Inv),
            "--method", "hash", "--out", store, "--split", split], ct);
        var featureBytes = Directory.EnumerateFiles(store, "features.f32", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        var config = Path.Combine(root, $"job-{nodes}.hocon");
        File.WriteAllText(config, $$"""
            # Written by `graphactors bench outofcore`.
            training {
              model_type = sage
              task = node_classification
              target = v
              hidden_channels = 128
              num_layers = {{fanouts.Split(',').Length}}
              fanouts = [{{fanouts}}]
              eval_fanouts = [{{fanouts}}]
              batch_size = {{batch}}
              learning_rate = 0.01
              dropout = 0.2
              epochs = 1
              eval_every = 1
              seed = 0
              threads = 2
              store_path = "{{store}}"
              checkpoint_dir = "{{Path.Combine(root, "runs")}}"
            }
            """);
        var readBefore = DiskReadBytes();
        var samples = new Samples();
        string? epochLine = null;
        await ChildCli.RunAsync("train", ["train", "--config", config, "--store", store], ct, line =>
        {
            // "    0    1.2345 …   seconds   batches/s": the epoch row.
            if (EpochRow().IsMatch(line)) epochLine = line;
        }, samples.Take);
        var read = DiskReadBytes() - readBefore;
        if (epochLine is null) throw new InvalidOperationException("train printed no epoch row.");
        // The row's batches/s has one decimal; its seconds (the epoch's training time) give more.
        var fields = epochLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var steps = (int)Math.Ceiling(seeds / (double)batch);
        var stepsPerSecond = steps / double.Parse(fields[^2], Inv);
        if (!keep) Directory.Delete(store, recursive: true);
        return new Row(nodes, featureBytes, steps, stepsPerSecond, samples.AnonMax, samples.FileMax, samples.CachedMax,
            samples.AvailableMin, samples.MajorFaults, read);
    }

    [GeneratedRegex(@"^\s*0\s+[0-9.]+\s")]
    private static partial Regex EpochRow();

    private sealed class Samples
    {
        public long AnonMax, FileMax, CachedMax, AvailableMin = long.MaxValue, MajorFaults;

        public void Take(int pid)
        {
            if (ProcFiles.Values($"/proc/{pid}/status") is not { } status || ProcFiles.StatFields(pid) is not { } stat) return; // it has just ended
            AnonMax = Math.Max(AnonMax, status.GetValueOrDefault("RssAnon"));
            FileMax = Math.Max(FileMax, status.GetValueOrDefault("RssFile"));
            MajorFaults = Math.Max(MajorFaults, long.Parse(stat[9], Inv)); // majflt, field 12 of stat
            var m = MemInfo();
            CachedMax = Math.Max(CachedMax, m["Cached"]);
            AvailableMin = Math.Min(AvailableMin, m["MemAvailable"]);
        }
    }

    /// <summary>/proc/meminfo in bytes.</summary>
    private static Dictionary<string, long> MemInfo() => ProcFiles.Values("/proc/meminfo") ?? throw new IOException("/proc/meminfo cannot be read.");

    /// <summary>Bytes read from every block device since boot (/proc/diskstats, sectors of 512 B; partitions left out).</summary>
    private static long DiskReadBytes()
    {
        long sectors = 0;
        foreach (var line in File.ReadLines("/proc/diskstats"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6 || char.IsDigit(f[2][^1]) && !f[2].StartsWith("nvme", StringComparison.Ordinal) || f[2].StartsWith("loop", StringComparison.Ordinal)) continue;
            sectors += long.Parse(f[5], Inv);
        }
        return sectors * 512;
    }
}
