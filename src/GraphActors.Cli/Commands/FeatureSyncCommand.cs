// graphactors feature-sync: one node type's features from CGDF into the Redis feature cache.
using System.CommandLine;
using GraphActors.Graph.Cgdf;
using GraphActors.Serving;
using Spectre.Console;

namespace GraphActors.Cli.Commands;

public static class FeatureSyncCommand
{
    public static Command Create()
    {
        var redis = new Option<string>("--redis") { Description = "Redis HOST:PORT", Required = true };
        var cgdf = new Option<string>("--cgdf") { Description = "CGDF directory to read", Required = true };
        var nodeType = new Option<string>("--node-type") { Description = "Node type whose features to load", Required = true };
        var password = new Option<string?>("--password") { Description = "Redis password (AUTH); default $GRAPHACTORS_REDIS_PASSWORD" };
        var graph = new Option<string?>("--graph") { Description = "Graph name in the keys (default: the CGDF graph_name)" };
        var version = new Option<string?>("--version") { Description = "Version to write (default: a hash of the input, so reruns are idempotent)" };
        var batch = new Option<int>("--batch-size") { Description = "Rows per pipelined MSET", DefaultValueFactory = _ => 1000 };
        var cmd = new Command("feature-sync", "Load node features from CGDF into Redis (versioned keys; readers switch only when the load is complete)");
        foreach (var o in new Option[] { redis, cgdf, nodeType, password, graph, version, batch }) cmd.Options.Add(o);
        cmd.SetAction(pr => CliRun.Guarded(() =>
        {
            var dir = pr.GetValue(cgdf)!;
            var options = new RedisOptions
            {
                Endpoint = pr.GetValue(redis)!,
                Password = pr.GetValue(password) ?? Environment.GetEnvironmentVariable("GRAPHACTORS_REDIS_PASSWORD"),
                Graph = pr.GetValue(graph) ?? CgdfReader.Open(dir).Metadata.GraphName,
            };
            var type = pr.GetValue(nodeType)!;
            var syncOptions = new FeatureSyncOptions { BatchSize = pr.GetValue(batch), Version = pr.GetValue(version) };
            FeatureSyncSummary? summary = null;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"{type} → {options.Endpoint}");
                    summary = FeatureSync.RunAsync(options, dir, type, syncOptions, p =>
                    {
                        task.MaxValue = Math.Max(p.Total, 1);
                        task.Value = p.Written;
                    }).GetAwaiter().GetResult();
                    task.Value = task.MaxValue;
                });
            var s = summary!;
            Console.WriteLine($"{s.Rows:N0} rows of dim {s.Dim} as version {s.Version} of graph '{options.Graph}' in {s.Seconds:F1} s " +
                $"({s.Rows / Math.Max(s.Seconds, 1e-6):N0} rows/s); current {(s.PreviousVersion is null ? "set" : s.PreviousVersion == s.Version ? "unchanged" : $"switched from {s.PreviousVersion}, {s.DeletedKeys:N0} old keys deleted")}");
        }));
        return cmd;
    }
}
