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

    private static (Option<string> Out, Option<string> Dt, Option<string?> Cgdf) Common(Command cmd)
    {
        var output = new Option<string>("--out") { Description = "Root folder of the Hive tables to write", Required = true };
        var dt = new Option<string>("--dt") { Description = "Partition date YYYY-MM-DD", DefaultValueFactory = _ => "2024-01-01" };
        var cgdf = new Option<string?>("--cgdf") { Description = "Also run etl into this CGDF directory" };
        cmd.Options.Add(output); cmd.Options.Add(dt); cmd.Options.Add(cgdf);
        return (output, dt, cgdf);
    }

    private static void Finish(ImportSummary s, string output, string dt, string? cgdf)
    {
        foreach (var (t, n) in s.Rows) Console.WriteLine($"{t,-24} {n,12:N0} rows");
        for (var i = 0; i < s.LabelNames.Count; i++) Console.WriteLine($"label {i} = {s.LabelNames[i]}");
        if (cgdf is null) return;
        EtlCommand.PrintSummary(HiveToCgdf.Run(new EtlOptions(output, dt, cgdf) { Progress = Console.Error }));
    }

    private static Command Linqs()
    {
        var cmd = new Command("linqs", "LINQS citation files <name>.content/<name>.cites (+ train/val/test.txt) → nodes_paper, edges_cites");
        var input = new Option<string>("--input") { Description = "Folder with the LINQS files", Required = true };
        var name = new Option<string>("--name") { Description = "Dataset file stem (cora, citeseer)", DefaultValueFactory = _ => "cora" };
        cmd.Options.Add(input); cmd.Options.Add(name);
        var (output, dt, cgdf) = Common(cmd);
        cmd.SetAction(pr => CliRun.Guarded(() => Finish(
            LinqsImporter.Run(pr.GetValue(input)!, pr.GetValue(name)!, pr.GetValue(output)!, pr.GetValue(dt)!),
            pr.GetValue(output)!, pr.GetValue(dt)!, pr.GetValue(cgdf))));
        return cmd;
    }

    private static Command MovieLens()
    {
        var cmd = new Command("movielens", "MovieLens-100K u.user/u.item/u.data → nodes_user, nodes_movie, edges_rates");
        var input = new Option<string>("--input") { Description = "Folder with u.user, u.item, u.data", Required = true };
        var occ = new Option<bool>("--occupation-label") { Description = "Label users by occupation (dropped from their features)" };
        cmd.Options.Add(input); cmd.Options.Add(occ);
        var (output, dt, cgdf) = Common(cmd);
        cmd.SetAction(pr => CliRun.Guarded(() => Finish(
            MovieLensImporter.Run(pr.GetValue(input)!, pr.GetValue(output)!, pr.GetValue(dt)!, pr.GetValue(occ)),
            pr.GetValue(output)!, pr.GetValue(dt)!, pr.GetValue(cgdf))));
        return cmd;
    }

    private static Command GraphLearn()
    {
        var cmd = new Command("graphlearn", "GraphLearn typed-header text sources → Hive tables");
        var nodes = new Option<string[]>("--node") { Description = "type=path, repeatable", AllowMultipleArgumentsPerToken = false };
        var edges = new Option<string[]>("--edge") { Description = "src,edge,dst=path, repeatable" };
        cmd.Options.Add(nodes); cmd.Options.Add(edges);
        var (output, dt, cgdf) = Common(cmd);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var ns = (pr.GetValue(nodes) ?? []).Select(s => Split(s, "--node")).Select(p => new GraphLearnNodeSource(p.Key, p.Path)).ToArray();
            var es = (pr.GetValue(edges) ?? []).Select(s => Split(s, "--edge")).Select(p =>
            {
                var t = p.Key.Split(',');
                if (t.Length != 3) throw new ArgumentException($"--edge needs src,edge,dst=path, got '{p.Key}'.");
                return new GraphLearnEdgeSource(t[0], t[1], t[2], p.Path);
            }).ToArray();
            Finish(GraphLearnImporter.Run(ns, es, pr.GetValue(output)!, pr.GetValue(dt)!), pr.GetValue(output)!, pr.GetValue(dt)!, pr.GetValue(cgdf));
        }));
        return cmd;
    }

    private static (string Key, string Path) Split(string s, string option)
    {
        var at = s.IndexOf('=');
        if (at <= 0) throw new ArgumentException($"{option} needs key=path, got '{s}'.");
        return (s[..at], s[(at + 1)..]);
    }
}
