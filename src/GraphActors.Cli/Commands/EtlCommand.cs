// graphactors etl: Hive-layout tables of one dt → CGDF.
using System.CommandLine;
using GraphActors.Graph.Cgdf;

namespace GraphActors.Cli.Commands;

public static class EtlCommand
{
    public static Command Create()
    {
        var tables = new Option<string>("--tables") { Description = "Root folder holding nodes_*/edges_* tables", Required = true };
        var dt = new Option<string>("--dt") { Description = "Partition date YYYY-MM-DD to read", Required = true };
        var output = new Option<string>("--out") { Description = "CGDF directory to write (replaced atomically)", Required = true };
        var onBad = new Option<string>("--on-bad-row") { Description = "fail (default) or skip (rejects written under <out>/rejects)", DefaultValueFactory = _ => "fail" };
        var name = new Option<string?>("--name") { Description = "Graph name for metadata.json (default: the output folder name)" };
        var cmd = new Command("etl", "Hive-layout tables → CGDF (node_data/, edge_data/, metadata.json)");
        foreach (var o in new Option[] { tables, dt, output, onBad, name }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var policy = pr.GetValue(onBad) switch
            {
                "fail" => BadRowPolicy.Fail,
                "skip" => BadRowPolicy.Skip,
                var v => throw new ArgumentException($"--on-bad-row must be fail or skip, not '{v}'."),
            };
            var s = HiveToCgdf.Run(new EtlOptions(pr.GetValue(tables)!, pr.GetValue(dt)!, pr.GetValue(output)!)
            {
                OnBadRow = policy, GraphName = pr.GetValue(name), Progress = Console.Error,
            });
            PrintSummary(s);
        }));
        return cmd;
    }

    internal static void PrintSummary(EtlSummary s)
    {
        Console.WriteLine($"{"type",-36} {"count",14} {"rejects",10}");
        foreach (var n in s.Metadata.NodeTypes)
            Console.WriteLine($"{"node " + n.Name,-36} {n.Count,14:N0} {s.Rejects.GetValueOrDefault("nodes_" + n.Name),10:N0}");
        foreach (var e in s.Metadata.EdgeTypes)
            Console.WriteLine($"{"edge " + e.Type,-36} {e.Count,14:N0} {s.Rejects.GetValueOrDefault("edges_" + e.Type.Relation),10:N0}");
        foreach (var (table, n) in s.Rejects.Where(r => !s.Metadata.NodeTypes.Any(t => "nodes_" + t.Name == r.Key) && !s.Metadata.EdgeTypes.Any(t => "edges_" + t.Type.Relation == r.Key)))
            Console.WriteLine($"{"table " + table,-36} {"-",14} {n,10:N0}");
        Console.WriteLine($"{s.TotalRowsRead:N0} rows read, {s.TotalRejects:N0} rejected, {s.Seconds:F1} s ({s.TotalRowsRead / Math.Max(s.Seconds, 1e-6):N0} rows/s)");
    }
}
