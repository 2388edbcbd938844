// graphactors partition: CGDF → partition store (hash or METIS).
using System.CommandLine;
using GraphActors.Cli.Bench;
using GraphActors.Graph;
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
        }.AtLeast(0);
        var syntheticDim = new Option<int>("--synthetic-dim")
        {
            Description = "With --synthetic: float features per node", DefaultValueFactory = _ => 16,
        }.AtLeast(1);
        var parts = new Option<int>("--parts") { Description = "Number of partitions (1 .. the node count)", DefaultValueFactory = _ => 4 }.AtLeast(1);
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
        var update = new Option<string?>("--update")
        {
            Description = "A previous store to bring up to date with --cgdf (a later day's graph): existing nodes keep their partition and id, new ones get ids after them; --parts, --method and --split come from it",
        };
        var place = new Option<string?>("--place")
        {
            Description = "With --update: where new nodes go: hash (their business id's partition) or neighbours (the partition holding most of their existing neighbours); default: hash for a hash store, neighbours for a METIS store",
        };
        place.AcceptOnlyFromAmong("hash", "neighbours");
        var svg = new Option<string?>("--chart", "--svg") { Description = "Where to write the balance chart (.svg or .png; the other format goes beside it). Default: balance.svg and balance.png in --out" };

        var cmd = new Command("partition", "Partition a CGDF graph into a partition store (part-<i>/ + partitions.json)");
        foreach (var o in new Option[] { cgdf, synthetic, syntheticDim, parts, method, output, seed, balanceEdges, noBalanceTrain, split, overwrite, update, place, svg })
            cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var n = pr.GetValue(synthetic);
            var dir = pr.GetValue(cgdf);
            if (n > 0 == dir is not null) throw CliErrors.BadOption("--cgdf", "give --cgdf DIR or --synthetic N (one of them).");
            var fractions = ParseSplit(pr.GetValue(split)!);
            IPartitionSource source = n > 0 ? new PlantedCommunitySource(n, 10L * n, pr.GetValue(syntheticDim), seed: pr.GetValue(seed)) : new CgdfPartitionSource(dir!);
            var options = new PartitionOptions(pr.GetValue(output)!, pr.GetValue(parts), pr.GetValue(method)!)
            {
                Metis = new MetisOptions(pr.GetValue(seed), BalanceTrain: !pr.GetValue(noBalanceTrain), BalanceEdges: pr.GetValue(balanceEdges)),
                Split = new MaskSplit(fractions[0], fractions[1], fractions[2], (ulong)pr.GetValue(seed)),
                Overwrite = pr.GetValue(overwrite),
                Progress = line => AnsiConsole.MarkupLineInterpolated($"[grey]{line}[/]"),
            };
            PartitionReport report;
            var previous = pr.GetValue(update);
            if (previous is not null)
            {
                if (dir is null) throw CliErrors.BadOption("--update", "needs --cgdf: the later day's graph to bring the store up to date with.");
                foreach (var fixedByStore in new Option[] { parts, method, split, balanceEdges, noBalanceTrain })
                    if (pr.GetResult(fixedByStore) is { Implicit: false })
                        throw CliErrors.BadOption(fixedByStore.Name, $"comes from the previous store with --update ({previous}); leave it out.");
                if (Path.GetFullPath(previous).TrimEnd('/') == Path.GetFullPath(pr.GetValue(output)!).TrimEnd('/'))
                    throw CliErrors.BadOption("--out", "must differ from --update: the previous store stays as it is until the new one is complete and switched to.");
                var (updated, counts) = GraphPartitioner.Update(source, previous, options, pr.GetValue(place) switch
                {
                    "neighbours" => NewNodePlacement.Neighbours,
                    "hash" => NewNodePlacement.Hash,
                    _ => null,
                });
                report = updated;
                PartitionReportView.RenderUpdate(counts);
            }
            else
            {
                if (pr.GetValue(place) is not null) throw CliErrors.BadOption("--place", "applies only with --update.");
                report = GraphPartitioner.Run(source, options);
            }
            PartitionReportView.Render(report);
            var (chartSvg, chartPng) = Charts.Write(report.Chart(), pr.GetValue(svg) ?? Path.Combine(pr.GetValue(output)!, "balance.svg"));
            AnsiConsole.MarkupLineInterpolated($"balance chart: {chartSvg} and {chartPng}");
        }));
        return cmd;
    }

    /// <summary>train/val/test fractions: three finite numbers in [0, 1] whose sum is at most 1 (the rest is left out of every split).</summary>
    internal static double[] ParseSplit(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 3) throw CliErrors.BadOption("--split", $"'{text}' is not three fractions train/val/test, e.g. 0.6/0.2/0.2.");
        var f = new double[3];
        for (var i = 0; i < 3; i++)
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out f[i])
                || !double.IsFinite(f[i]) || f[i] < 0 || f[i] > 1)
                throw CliErrors.BadOption("--split", $"'{parts[i]}' in '{text}' is not a fraction between 0 and 1.");
        if (f.Sum() > 1 + 1e-9)
            throw CliErrors.BadOption("--split", $"'{text}' sums to {f.Sum().ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}; train + val + test must be at most 1.");
        return f;
    }
}
