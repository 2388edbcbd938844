// deploy/grafana/graphactors.json: every series its panels query is one the nodes export.
using System.Text.Json;
using System.Text.RegularExpressions;
using Akka.Actor;
using GraphActors.Cluster.Metrics;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Hosting;

public sealed partial class GrafanaDashboardTests
{
    [GeneratedRegex(@"\b((?:graphactors|ts|process|dotnet)_[a-z0-9_]+)")]
    private static partial Regex MetricName();

    [Fact]
    public async Task Every_metric_the_dashboard_queries_is_exported_by_a_node_or_the_serving_metrics()
    {
        var path = Path.Combine(RepoFiles.Root, "deploy", "grafana", "graphactors.json");
        using var dashboard = JsonDocument.Parse(File.ReadAllText(path));
        var queried = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
                foreach (Match m in MetricName().Matches(target.GetProperty("expr").GetString()!))
                    queried.Add(Regex.Replace(m.Groups[1].Value, "_(bucket|sum|count)$", ""));
        Assert.True(queried.Count >= 15, $"the dashboard queries only {queried.Count} series");

        // What the nodes export: a node's registry as served (runtime and role families), and the names the serving
        // metrics and the inference engine write (their text is built in src/GraphActors.Serving).
        var system = ActorSystem.Create("dashboard");
        string node;
        try
        {
            using var text = new MemoryStream();
            await NodeMetrics.Get(system).WriteAsync(text, CancellationToken.None);
            node = System.Text.Encoding.UTF8.GetString(text.ToArray());
        }
        finally
        {
            await system.Terminate();
        }
        var serving = string.Concat(Directory.GetFiles(Path.Combine(RepoFiles.Root, "src", "GraphActors.Serving"), "*.cs", SearchOption.AllDirectories)
            .Select(File.ReadAllText));
        var missing = queried.Where(q => !node.Contains($"# TYPE {q} ", StringComparison.Ordinal) && !serving.Contains($"\"{q}\"", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"{path} queries series nobody exports: {string.Join(", ", missing)}");
    }
}
