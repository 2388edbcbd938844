using System.Diagnostics;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Tests.Trainers;
using Xunit.Abstractions;

namespace GraphActors.Cluster.Tests.Hosting;

/// <summary>
/// deploy/server-mode.sh as a user runs it: 2 partition servers and 2 trainer clients as separate processes on
/// 127.0.0.1, a Cora job through `ctl train start`, followed to the end, every node stopped with SIGTERM. A short job
/// (the accuracy comparison with local mode is ClusterTrainingSpec's; docs/CLUSTER.md has the full scripts' figures).
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class DeployModeScriptTests(ITestOutputHelper output)
{
    [DatasetFact("cora")]
    public async Task Server_mode_script_trains_a_Cora_job_with_two_clients_and_stops_every_node()
    {
        var root = RepoFiles.Root;
        var run = TempRoots.New("ga-deploy-script");
        Directory.CreateDirectory(run);
        var config = Path.Combine(run, "cora-short.hocon");
        File.WriteAllText(config, File.ReadAllText(Path.Combine(root, "hocon", "cora-cluster.hocon"))
            .Replace("epochs = 40", "epochs = 4").Replace("eval_every = 4", "eval_every = 2"));
        var port = 20_000 + Random.Shared.Next(0, 400) * 100;
        var start = new ProcessStartInfo("bash", [Path.Combine(root, "deploy", "server-mode.sh"), "--out", run, "--store", TrainingStores.Cora,
            "--config", config, "--port", port.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["GA_BUILD"] = "0", ["GA_DLL"] = CliProcess.Dll, ["GA_TRAIN_TIMEOUT"] = "300", ["GA_UP_TIMEOUT"] = "120" },
        };
        using var script = Process.Start(start)!;
        var stdout = script.StandardOutput.ReadToEndAsync();
        var stderr = script.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try { await script.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException)
        {
            script.Kill(entireProcessTree: true);
            throw new TimeoutException($"deploy/server-mode.sh still running after 8 minutes:\n{await stdout}\n{await stderr}");
        }
        var text = await stdout;
        output.WriteLine(text);
        output.WriteLine(await stderr);
        Assert.True(script.ExitCode == 0, $"exit code {script.ExitCode}");
        Assert.Contains("cluster up: 4 members", text);
        Assert.Matches(@"state\s+Finished", text);
        Assert.Matches(@"trainers\s+2:", text);
        Assert.Contains("epoch-0003", text);
        // Every node left through SIGTERM and said so.
        foreach (var node in new[] { "server-1", "server-2", "client-1", "client-2" })
            Assert.Contains("node left the cluster and stopped", File.ReadAllText(Path.Combine(run, node + ".log")));
    }
}
