// graphactors partition: CGDF → partition store (hash or METIS).
using System.CommandLine;
using GraphActors.Cli.Bench;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using Spectre.Console;

namespace GraphActors.Cli.Commands;

public static class PartitionCommand
{
    public static Command Create()
    {
        var cgdf = new Option<string?>("--cgdf") { Description = "CGDF directory to partition" };
        var synthetic = new Option<int>("--synthetic")
        {
            Description = "Instead of --cgdf: a generated graph with planted communities of this many nodes (10 edges per node)",
        };
        var parts = new Option<int>("--parts") { Description = "Number of partitions", DefaultValueFactory = _ => 4 };
        var method = new Option<string>("--method") { Description = "hash (GraphLearn: id mod N) or metis", DefaultValueFactory = _ => "hash" };
        method.AcceptOnlyFromAmong("hash", "metis");
        var output = new Option<string>("--out") { Description = "Output directory of the partition store", Required = true };
        var seed = new Option<int>("--seed") { Description = "METIS seed and default mask-split seed", DefaultValueFactory = _ => 42 };
        var balanceEdges = new Option<bool>("--balance-edges") { Description = "METIS: also balance edges (degree per node type)" };
        var noBalanceTrain = new Option<bool>("--no-balance-train") { Description = "METIS: do not balance training nodes" };
        var split = new Option<string>("--split")
        {
            Description = "train/val/test fractions for labelled types without masks", DefaultValueFactory = _ => "0.6/0.2/0.2",
        };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing store once the new one is complete" };
        var svg = new Option<string?>("--svg") { Description = "Also write the report as an SVG bar chart here" };

        var cmd = new Command("partition", "Partition a CGDF graph into a partition store (part-<i>/ + partitions.json)");
        foreach (var o in new Option[] { cgdf, synthetic, parts, method, output, seed, balanceEdges, noBalanceTrain, split, overwrite, svg })
            cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            IPartitionSource source;
            var dir = pr.GetValue(cgdf);
            var n = pr.GetValue(synthetic);
            if (n > 0) source = new PlantedCommunitySource(n, 10L * n, seed: pr.GetValue(seed));
            else if (dir is null)
            {
                AnsiConsole.MarkupLine("[red]Give --cgdf DIR (or --synthetic N).[/]");
                return 2;
            }
            else source = new CgdfPartitionSource(dir);

            var fractions = pr.GetValue(split)!.Split('/').Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            if (fractions.Length != 3)
            {
                AnsiConsole.MarkupLine("[red]--split takes three fractions, e.g. 0.6/0.2/0.2.[/]");
                return 2;
            }
            var options = new PartitionOptions(pr.GetValue(output)!, pr.GetValue(parts), pr.GetValue(method)!)
            {
                Metis = new MetisOptions(pr.GetValue(seed), BalanceTrain: !pr.GetValue(noBalanceTrain), BalanceEdges: pr.GetValue(balanceEdges)),
                Split = new MaskSplit(fractions[0], fractions[1], fractions[2], (ulong)pr.GetValue(seed)),
                Overwrite = pr.GetValue(overwrite),
                Progress = line => AnsiConsole.MarkupLineInterpolated($"[grey]{line}[/]"),
            };
            var report = GraphPartitioner.Run(source, options);
            PartitionReportView.Render(report);
            if (pr.GetValue(svg) is { } svgPath) File.WriteAllText(svgPath, report.ToSvg());
            return 0;
        });
        return cmd;
    }
}
