// graphactors bench refresh: a daily change of the graph, as partition --update against a full re-partition of the day.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Tables;
using Spectre.Console;

namespace GraphActors.Cli.Bench;

/// <summary>
/// Day 1: generated tables, ETL, a full partitioning per method. Day 2: the same graph grown by <c>--change</c>
/// (<c>generate --grow</c>: day 1's nodes, features and edges unchanged, that share more of each), ETL, then per method
/// a full partitioning of day 2 and <c>partition --update</c> of day 1's store (hash placement for hash, neighbour
/// placement for METIS), timed in this process one after the other. The ETL of day 2 is common to both and timed apart.
/// </summary>
public static class RefreshBenchmark
{
    public static Command Create()
    {
        var users = new Option<int>("--users") { Description = "Users on day 1", DefaultValueFactory = _ => 600_000 };
        var items = new Option<int>("--items") { Description = "Items on day 1", DefaultValueFactory = _ => 400_000 };
        var clicks = new Option<long>("--clicks") { Description = "Clicks on day 1", DefaultValueFactory = _ => 7_000_000 };
        var swings = new Option<long>("--swings") { Description = "Swings on day 1", DefaultValueFactory = _ => 3_000_000 };
        var dim = new Option<int>("--dim") { Description = "Features per node", DefaultValueFactory = _ => 32 };
        var parts = new Option<int>("--parts") { Description = "Partitions", DefaultValueFactory = _ => 4 };
        var change = new Option<double>("--change") { Description = "Growth from day 1 to day 2 (0.01: 1 % more nodes and edges, generate --grow)", DefaultValueFactory = _ => 0.01 };
        var methods = new Option<string>("--methods") { Description = "Comma-separated: hash,metis", DefaultValueFactory = _ => "hash,metis" };
        var work = new Option<string?>("--work-dir") { Description = "Where to write tables, CGDF and stores (default: a temp dir, deleted after)" };
        var cmd = new Command("refresh", "A daily change: partition --update of yesterday's store against a full partitioning of today's graph");
        foreach (var o in new Option[] { users, items, clicks, swings, dim, parts, change, methods, work }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var inv = CultureInfo.InvariantCulture;
            var root = pr.GetValue(work) ?? Path.Combine(Path.GetTempPath(), $"ga-bench-refresh-{Environment.ProcessId}");
            try
            {
                string Day(string dt, double grow)
                {
                    var tables = Path.Combine(root, "tables");
                    var sw = Stopwatch.StartNew();
                    SyntheticGenerator.Run(new GenerateOptions(tables)
                    {
                        Users = pr.GetValue(users), Items = pr.GetValue(items), Clicks = pr.GetValue(clicks), Swings = pr.GetValue(swings),
                        FeatureDim = pr.GetValue(dim), Dt = dt, Grow = grow,
                    });
                    var generated = sw.Elapsed.TotalSeconds;
                    sw.Restart();
                    var cgdf = Path.Combine(root, "cgdf", dt);
                    HiveToCgdf.Run(new EtlOptions(tables, dt, cgdf));
                    AnsiConsole.MarkupLine(inv, $"[grey]{dt}: generated in {generated:F1} s, etl {sw.Elapsed.TotalSeconds:F1} s[/]");
                    return cgdf;
                }
                var day1 = Day("2024-01-01", 0);
                var day2 = Day("2024-01-02", pr.GetValue(change));
                var table = new Table().AddColumns("method", "full partitioning of day 2 (s)", "update of day 1's store (s)", "update / full",
                    "new nodes", "retired", "cut, full", "cut, update");
                foreach (var method in pr.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    var first = Path.Combine(root, $"{method}-day1");
                    GraphPartitioner.Run(new CgdfPartitionSource(day1), new PartitionOptions(first, pr.GetValue(parts), method) { Overwrite = true });
                    GC.Collect();
                    var sw = Stopwatch.StartNew();
                    var full = GraphPartitioner.Run(new CgdfPartitionSource(day2),
                        new PartitionOptions(Path.Combine(root, $"{method}-day2-full"), pr.GetValue(parts), method) { Overwrite = true });
                    var fullSeconds = sw.Elapsed.TotalSeconds;
                    GC.Collect();
                    sw.Restart();
                    var (updated, counts) = GraphPartitioner.Update(new CgdfPartitionSource(day2), first,
                        new PartitionOptions(Path.Combine(root, $"{method}-day2-update"), 1)
                        {
                            Overwrite = true,
                            Progress = line => AnsiConsole.MarkupLineInterpolated($"[grey]{method} update: {line}[/]"),
                        },
                        method == MetisPartitioner.MethodName ? NewNodePlacement.Neighbours : NewNodePlacement.Hash);
                    var updateSeconds = sw.Elapsed.TotalSeconds;
                    Console.WriteLine(string.Create(inv,
                        $"| {method} | {fullSeconds:F2} | {updateSeconds:F2} | {updateSeconds / fullSeconds:F2} | {counts.Sum(c => c.Added):N0} | {counts.Sum(c => c.Retired):N0} | {full.CutFraction:P2} | {updated.CutFraction:P2} |"));
                    table.AddRow(method, fullSeconds.ToString("F2", inv), updateSeconds.ToString("F2", inv), (updateSeconds / fullSeconds).ToString("F2", inv),
                        counts.Sum(c => c.Added).ToString("N0", inv), counts.Sum(c => c.Retired).ToString("N0", inv),
                        full.CutFraction.ToString("P2", inv), updated.CutFraction.ToString("P2", inv));
                }
                AnsiConsole.Write(table);
            }
            finally
            {
                if (pr.GetValue(work) is null && Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
        });
        return cmd;
    }
}
