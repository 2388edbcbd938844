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
        var name = new Option<string?>("--name") { Description = "Graph name for metadata.json (default: the output folder name)" };
        var bad = new BadRowOptions();
        var featureless = new Option<bool>("--allow-featureless") { Description = "Accept node tables whose feature vectors are empty (the type learns an embedding instead)" };
        var ddl = new Option<bool>("--hive-ddl")
        {
            Description = "Print CREATE EXTERNAL TABLE statements (HiveQL / Spark SQL) for the tables of --dt and, once written, the CGDF at --out; runs no ETL",
        };
        var cmd = new Command("etl", "Hive-layout tables → CGDF (node_data/, edge_data/, metadata.json)");
        foreach (var o in new Option[] { tables, dt, output, name, featureless, ddl }) cmd.Options.Add(o);
        bad.AddTo(cmd);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            if (pr.GetValue(ddl))
            {
                Console.Write(GraphActors.Graph.Tables.HiveDdl.For(pr.GetValue(tables)!, GraphActors.Graph.Tables.HiveLayout.CheckDt(pr.GetValue(dt)!), pr.GetValue(output)));
                return;
            }
            var s = HiveToCgdf.Run(bad.Apply(pr, new EtlOptions(pr.GetValue(tables)!, pr.GetValue(dt)!, pr.GetValue(output)!)
            {
                GraphName = pr.GetValue(name), Progress = Console.Error, AllowFeatureless = pr.GetValue(featureless),
            }));
            PrintSummary(s);
            if (s.TotalRejects > 0) Console.WriteLine($"rejects, each with its reason: {Path.Combine(pr.GetValue(output)!, "rejects")}");
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

/// <summary>The bad-row options <c>etl</c> and <c>import</c> share: --on-bad-row, --max-reject-ratio, --max-classes.</summary>
internal sealed class BadRowOptions
{
    public Option<string> OnBadRow { get; } = new("--on-bad-row") { Description = "fail (default) or skip (rejects written under <out>/rejects)", DefaultValueFactory = _ => "fail" };
    public Option<double> MaxRejectRatio { get; } = new("--max-reject-ratio")
    {
        Description = "With --on-bad-row skip: fail when a table's rejected share of rows is above this (rejects kept in <out>.rejects/)",
        DefaultValueFactory = _ => EtlOptions.DefaultMaxRejectRatio,
    };
    public Option<int> MaxClasses { get; } = new Option<int>("--max-classes")
    {
        Description = "Labels must lie in [-1, this): -1 is unlabelled, anything else outside is a bad row",
        DefaultValueFactory = _ => EtlOptions.DefaultMaxClasses,
    }.AtLeast(1);

    public BadRowOptions()
    {
        OnBadRow.AcceptOnlyFromAmong("fail", "skip");
        MaxRejectRatio.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<double>();
            if (!(v >= 0 && v <= 1)) r.AddError($"--max-reject-ratio must be between 0 and 1, not {v}.");
        });
    }

    public void AddTo(Command cmd)
    {
        cmd.Options.Add(OnBadRow);
        cmd.Options.Add(MaxRejectRatio);
        cmd.Options.Add(MaxClasses);
    }

    public BadRowPolicy Policy(ParseResult pr) => pr.GetValue(OnBadRow) == "skip" ? BadRowPolicy.Skip : BadRowPolicy.Fail;

    public EtlOptions Apply(ParseResult pr, EtlOptions options) => options with
    {
        OnBadRow = Policy(pr), MaxRejectRatio = pr.GetValue(MaxRejectRatio), MaxClasses = pr.GetValue(MaxClasses),
    };
}
