// Every node's GET /metrics: the runtime, the cluster and the role metrics, in a form promtool accepts.
using System.Diagnostics;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Metrics;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Serving;

namespace GraphActors.Cluster.Tests.Hosting;

public sealed class NodeMetricsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Runs <c>promtool check metrics</c> on <paramref name="text"/>: its exit code and what it printed; null without promtool.</summary>
    internal static (int Code, string Output)? Promtool(string text) => PromtoolRun(["check", "metrics"], text);

    /// <summary>Runs promtool with <paramref name="args"/> (and <paramref name="input"/> on stdin); null when promtool is not installed.</summary>
    internal static (int Code, string Output)? PromtoolRun(string[] args, string input = "")
    {
        var promtool = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, "promtool")).FirstOrDefault(File.Exists);
        if (promtool is null) return null;
        var psi = new ProcessStartInfo(promtool, args)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(input);
        p.StandardInput.Close();
        var stderr = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd() + stderr.GetAwaiter().GetResult();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    [Fact]
    public async Task A_node_serves_runtime_cluster_and_role_metrics_that_promtool_accepts()
    {
        var (port, metricsPort) = (TestNodes.FreePort(), TestNodes.FreePort());
        var config = TestNodes.Node(port, [], "\"coordinator\"", null, $"graphactors.metrics {{ enabled = on, host = \"127.0.0.1\", port = {metricsPort} }}");
        var output = new StringWriter();
        var system = NodeHost.Start(config, TextWriter.Synchronized(output));
        try
        {
            await TestNodes.AwaitUp(system, 1, Timeout);
            // Role collectors are updated by the actors; one observation each shows them in the text.
            var m = NodeMetrics.Get(system);
            m.PartitionRequests.WithLabels("0", "neighbors").Inc();
            m.PartitionRequestSeconds.WithLabels("neighbors").Observe(0.002);
            m.TrainerStepSeconds.WithLabels("compute").Observe(0.5);
            m.AveragingRounds.WithLabels("ring").Inc();
            m.SamplerBatches.Inc();
            m.SamplerPhaseSeconds.WithLabels("features").Observe(0.03);

            using var http = new HttpClient { Timeout = Timeout };
            string text = "";
            var deadline = DateTime.UtcNow + Timeout;
            while (true)
            {
                try
                {
                    text = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
                    break;
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200); // the endpoint starts beside the node, not before it
                }
            }
            Assert.Contains("graphactors_cluster_members{status=\"up\"} 1", text);
            Assert.Contains("graphactors_cluster_unreachable_members 0", text);
            Assert.Contains("process_cpu_seconds_total", text);
            Assert.Contains("dotnet_collection_count_total", text);
            Assert.Contains("graphactors_partition_requests_total{partition=\"0\",kind=\"neighbors\"} 1", text);
            Assert.Contains("graphactors_trainer_step_duration_seconds_bucket{phase=\"compute\"", text);
            Assert.Contains("graphactors_averaging_rounds_total{mode=\"ring\"} 1", text);
            Assert.Contains("graphactors_sampler_phase_duration_seconds_count{phase=\"features\"} 1", text);
            Assert.Contains($"metrics: http://127.0.0.1:{metricsPort}/metrics", output.ToString());

            // Every message GraphActors' serializer writes or reads counts in the process's wire totals.
            var stop = new GraphActors.Contracts.Protocols.TrainingProtocol.StopJob(new string('j', 1000));
            var serializer = (Akka.Serialization.SerializerWithStringManifest)system.Serialization.FindSerializerFor(stop);
            var (sentBefore, receivedBefore) = (Wire(text, "sent"), Wire(text, "received"));
            var bytes = serializer.ToBinary(stop);
            serializer.FromBinary(bytes, serializer.Manifest(stop));
            var after = await http.GetStringAsync($"http://127.0.0.1:{metricsPort}/metrics");
            Assert.True(Wire(after, "sent") >= sentBefore + bytes.Length, $"sent {sentBefore} → {Wire(after, "sent")} after {bytes.Length} B");
            Assert.True(Wire(after, "received") >= receivedBefore + bytes.Length, $"received {receivedBefore} → {Wire(after, "received")}");
            Assert.Contains("graphactors_wire_messages_total{direction=\"sent\"}", after);
            if (Promtool(text) is { } check)
                Assert.True(check.Code == 0 && check.Output.Trim().Length == 0, $"promtool check metrics exited {check.Code}:\n{check.Output}\n---\n{text}");
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    private static double Wire(string text, string direction)
    {
        var prefix = $"graphactors_wire_bytes_total{{direction=\"{direction}\"}} ";
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void The_serving_metrics_give_latency_histograms_in_seconds()
    {
        var metrics = new ServingMetrics();
        metrics.RecordRequest("sage", "1.0", 200);
        metrics.RecordLatency("sage", "1.0", inferenceMicros: 3_000, queueMicros: 1_000);
        var text = metrics.Render();
        Assert.Contains("graphactors_inference_request_duration_seconds_count{model_name=\"sage\",model_version=\"1.0\"} 1", text);
        Assert.Contains("graphactors_inference_queue_duration_seconds_sum{model_name=\"sage\",model_version=\"1.0\"} 0.001", text);
        Assert.Contains("graphactors_inference_model_duration_seconds_sum{model_name=\"sage\",model_version=\"1.0\"} 0.002", text);
        // promtool's only findings are TorchServe's own two counters, kept under TorchServe's names for its dashboards
        // (a counter without _total, in microseconds); the histograms above carry the same times in seconds.
        if (Promtool(text) is { } check)
        {
            var findings = check.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.All(findings, f => Assert.True(f.StartsWith("ts_inference_latency_microseconds ", StringComparison.Ordinal)
                || f.StartsWith("ts_queue_latency_microseconds ", StringComparison.Ordinal), $"promtool check metrics: {f}"));
        }
    }
}
