// graphactors import: public datasets from their original files into Hive layout (or straight to CGDF).
using System.CommandLine;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

namespace GraphActors.Cli.Commands;

public static class ImportCommand
{
    public static Command Create()
    {
        var cmd = new Command("import", "Real datasets (LINQS/Cora, MovieLens-100K, GraphLearn text) into Hive layout or CGDF");
        cmd.Subcommands.Add(Linqs());
        cmd.Subcommands.Add(MovieLens());
        cmd.Subcommands.Add(GraphLearn());
        return cmd;
    }

    private sealed record CommonOptions(Option<string> Out, Option<string> Dt, Option<string?> Cgdf, BadRowOptions Bad);

    private static CommonOptions Common(Command cmd)
    {
        var output = new Option<string>("--out") { Description = "Root folder of the Hive tables to write", Required = true };
        var dt = new Option<string>("--dt") { Description = "Partition date YYYY-MM-DD", DefaultValueFactory = _ => "2024-01-01" };
        var cgdf = new Option<string?>("--cgdf") { Description = "Also run etl into this CGDF directory" };
        cmd.Options.Add(output); cmd.Options.Add(dt); cmd.Options.Add(cgdf);
        var bad = new BadRowOptions();
        bad.AddTo(cmd);
        return new(output, dt, cgdf, bad);
    }

    private static ImportOptions ImportOptionsOf(ParseResult pr, CommonOptions c) => new()
    {
        OnBadRow = c.Bad.Policy(pr), MaxClasses = pr.GetValue(c.Bad.MaxClasses), MaxRejectRatio = pr.GetValue(c.Bad.MaxRejectRatio),
    };

    private static void Finish(ImportSummary s, ParseResult pr, CommonOptions c, bool featureless = false)
    {
        var (output, dt, cgdf) = (pr.GetValue(c.Out)!, pr.GetValue(c.Dt)!, pr.GetValue(c.Cgdf));
        foreach (var (t, n) in s.Rows) Console.WriteLine($"{t,-24} {n,12:N0} rows{(s.Rejects.GetValueOrDefault(t) is > 0 and var r ? $" ({r:N0} left out)" : "")}");
        for (var i = 0; i < s.LabelNames.Count; i++) Console.WriteLine($"label {i} = {s.LabelNames[i]}");
        foreach (var note in s.Notes) Console.WriteLine(note);
        if (s.RejectsDirectory is { } rejects) Console.WriteLine($"{s.Rejects.Values.Sum():N0} lines left out, each with its reason under {rejects}");
        if (cgdf is null) return;
        EtlCommand.PrintSummary(HiveToCgdf.Run(c.Bad.Apply(pr, new EtlOptions(output, dt, cgdf) { Progress = Console.Error, AllowFeatureless = featureless })));
    }

    private static Command Linqs()
    {
        var cmd = new Command("linqs", "LINQS citation files <name>.content/<name>.cites (+ train/val/test.txt) → nodes_paper, edges_cites");
        var input = new Option<string>("--input") { Description = "Folder with the LINQS files", Required = true };
        var name = new Option<string>("--name") { Description = "Dataset file stem (cora, citeseer)", DefaultValueFactory = _ => "cora" };
        cmd.Options.Add(input); cmd.Options.Add(name);
        var c = Common(cmd);
        cmd.SetAction(pr => CliRun.Guarded(() => Finish(
            LinqsImporter.Run(pr.GetValue(input)!, pr.GetValue(name)!, pr.GetValue(c.Out)!, pr.GetValue(c.Dt)!, ImportOptionsOf(pr, c)), pr, c)));
        return cmd;
    }

    private static Command MovieLens()
    {
        var cmd = new Command("movielens", "MovieLens-100K u.user/u.item/u.data → nodes_user, nodes_movie, edges_rates");
        var input = new Option<string>("--input") { Description = "Folder with u.user, u.item, u.data", Required = true };
        var occ = new Option<bool>("--occupation-label") { Description = "Label users by occupation (dropped from their features)" };
        cmd.Options.Add(input); cmd.Options.Add(occ);
        var c = Common(cmd);
        cmd.SetAction(pr => CliRun.Guarded(() => Finish(
            MovieLensImporter.Run(pr.GetValue(input)!, pr.GetValue(c.Out)!, pr.GetValue(c.Dt)!, pr.GetValue(occ)), pr, c)));
        return cmd;
    }

    private static Command GraphLearn()
    {
        var cmd = new Command("graphlearn", "GraphLearn typed-header text sources → Hive tables");
        var nodes = new Option<string[]>("--node") { Description = "type=path, repeatable", AllowMultipleArgumentsPerToken = false };
        var edges = new Option<string[]>("--edge") { Description = "src,edge,dst=path, repeatable" };
        cmd.Options.Add(nodes); cmd.Options.Add(edges);
        var c = Common(cmd);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var ns = (pr.GetValue(nodes) ?? []).Select(s => Split(s, "--node")).Select(p => new GraphLearnNodeSource(p.Key, p.Path)).ToArray();
            var es = (pr.GetValue(edges) ?? []).Select(s => Split(s, "--edge")).Select(p =>
            {
                var t = p.Key.Split(',');
                if (t.Length != 3) throw CliErrors.BadOption("--edge", $"needs src,edge,dst=path, got '{p.Key}'.");
                return new GraphLearnEdgeSource(t[0], t[1], t[2], p.Path);
            }).ToArray();
            // GraphLearn node types that only edges name have no features by design: a job gives them a learnable row per
            // node with training.embeddings { <type> { mode = replace } } (without it, one learned vector for the whole type).
            Finish(GraphLearnImporter.Run(ns, es, pr.GetValue(c.Out)!, pr.GetValue(c.Dt)!), pr, c, featureless: true);
        }));
        return cmd;
    }

    private static (string Key, string Path) Split(string s, string option)
    {
        var at = s.IndexOf('=');
        if (at <= 0) throw CliErrors.BadOption(option, $"needs key=path, got '{s}'.");
        return (s[..at], s[(at + 1)..]);
    }
}
