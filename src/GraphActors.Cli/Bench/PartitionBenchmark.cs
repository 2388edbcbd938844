// graphactors bench partition: time and peak memory of hash and METIS partitioning, and partition load by mmap vs read.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using GraphActors.Cli.Commands;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using Spectre.Console;

namespace GraphActors.Cli.Bench;

public static class PartitionBenchmark
{
    public static Command Create()
    {
        var nodes = new Option<int>("--nodes") { Description = "Nodes", DefaultValueFactory = _ => 1_000_000 };
        var edges = new Option<long>("--edges") { Description = "Edges", DefaultValueFactory = _ => 10_000_000 };
        var dim = new Option<int>("--dim") { Description = "Feature dimension", DefaultValueFactory = _ => 16 };
        var parts = new Option<int>("--parts") { Description = "Partitions", DefaultValueFactory = _ => 4 };
        var methods = new Option<string>("--methods") { Description = "Comma-separated: hash,metis", DefaultValueFactory = _ => "hash,metis" };
        var work = new Option<string?>("--work-dir") { Description = "Where to write the stores (default: a temp dir, deleted after)" };
        var cmd = new Command("partition", "Partitioning time and peak RSS (hash, METIS) on a planted-community graph; partition load by mmap vs read");
        foreach (var o in new Option[] { nodes, edges, dim, parts, methods, work }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var n = pr.GetValue(nodes);
            var m = pr.GetValue(edges);
            var root = pr.GetValue(work) ?? Path.Combine(Path.GetTempPath(), $"ga-bench-partition-{Environment.ProcessId}");
            var inv = CultureInfo.InvariantCulture;
            var results = new Table().AddColumns("method", "time (s)", "peak RSS (MB)", "cut", "node balance", "edge balance",
                "load mmap (ms)", "scan after mmap (ms)", "load read (ms)", "partition 0 bytes (MB)");
            try
            {
                foreach (var method in pr.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    var source = new PlantedCommunitySource(n, m, pr.GetValue(dim));
                    var dir = Path.Combine(root, method);
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    ResetPeakRss();
                    var baseline = ReadStatusMb("VmRSS");
                    var sw = Stopwatch.StartNew();
                    var report = GraphPartitioner.Run(source, new PartitionOptions(dir, pr.GetValue(parts), method)
                    {
                        Overwrite = true,
                        Progress = line => AnsiConsole.MarkupLineInterpolated($"[grey]{method}: {line}[/]"),
                    });
                    var seconds = sw.Elapsed.TotalSeconds;
                    var peak = ReadStatusMb("VmHWM");
                    PartitionReportView.Render(report);
                    AnsiConsole.MarkupLine(inv, $"[grey]RSS before the run {baseline:F0} MB[/]");

                    var store = PartitionStore.Open(dir);
                    var bytes = Directory.EnumerateFiles(StoreLayout.PartitionDir(dir, 0), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
                    // Warm up the load paths (JIT) so the timings below are the loads themselves.
                    store.LoadPartition(1).Dispose();
                    store.LoadPartition(1, PartitionLoadMode.Read).Dispose();
                    GC.Collect();
                    sw.Restart();
                    double scanMs;
                    using (var p = store.LoadPartition(0))
                    {
                        var loadMap = sw.Elapsed.TotalMilliseconds;
                        sw.Restart();
                        var checksum = Scan(p);
                        scanMs = sw.Elapsed.TotalMilliseconds;
                        sw.Restart();
                        using (var q = store.LoadPartition(0, PartitionLoadMode.Read))
                        {
                            var loadRead = sw.Elapsed.TotalMilliseconds;
                            if (Scan(q) != checksum) throw new InvalidOperationException("Mapped and read partitions differ.");
                            Console.WriteLine(string.Create(inv, $"| {method} | {seconds:F2} | {peak:F0} | {report.CutFraction:P2} | {report.NodeTotalBalance:F3} | {report.EdgeBalance:F3} | {loadMap:F2} | {scanMs:F1} | {loadRead:F1} | {bytes / 1e6:F1} |"));
                            results.AddRow(method, seconds.ToString("F2", inv), peak.ToString("F0", inv), report.CutFraction.ToString("P2", inv),
                                report.NodeTotalBalance.ToString("F3", inv), report.EdgeBalance.ToString("F3", inv),
                                loadMap.ToString("F2", inv), scanMs.ToString("F1", inv), loadRead.ToString("F1", inv),
                                (bytes / 1e6).ToString("F1", inv));
                        }
                    }
                }
            }
            finally
            {
                if (pr.GetValue(work) is null && Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
            AnsiConsole.MarkupLine(inv, $"{n:N0} nodes, {m:N0} edges, dim {pr.GetValue(dim)}, {pr.GetValue(parts)} parts, {Environment.ProcessorCount} cores");
            AnsiConsole.Write(results);
            return 0;
        });
        return cmd;
    }

    /// <summary>Touches every byte a sampler or gather would (sums features, neighbours, weights), so the page cache is read.</summary>
    private static double Scan(LoadedPartition p)
    {
        double sum = 0;
        foreach (var n in p.NodeTypes)
            foreach (var segment in n.Features.Segments)
                foreach (var x in segment.Span) sum += x;
        foreach (var e in p.EdgeTypes)
        {
            foreach (var v in e.Out.Neighbors) sum += v;
            foreach (var v in e.In.Neighbors) sum += v;
            foreach (var w in e.InWeights.Span) sum += w;
        }
        return sum;
    }

    /// <summary>Linux: writing 5 to clear_refs resets the peak RSS (VmHWM) of this process.</summary>
    private static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* peak then includes earlier runs */ }
    }

    private static double ReadStatusMb(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(key.Length + 1).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
        return double.NaN;
    }
}
