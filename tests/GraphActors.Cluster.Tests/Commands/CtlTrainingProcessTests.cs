// `graphactors ctl train|checkpoints|model` against a real node process (roles partition + trainer) hosting the coordinator.
using System.Diagnostics;
using System.Text.Json;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Serving;

namespace GraphActors.Cluster.Tests.Commands;

/// <summary>
/// One node with roles partition and trainer over the 2-partition test store; its coordinator journals to SQLite under
/// a temp directory (GA_JOURNAL). Whether the node also trains (a trainer actor on trainer-role nodes) does not matter
/// to these tests: they assert what holds either way.
/// </summary>
public sealed class CtlTrainingFixture : IAsyncLifetime
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private CliProcess? _node;

    public int Port { get; } = TestNodes.FreePort();
    public string Node => TestNodes.Address(Port);
    public string Dir { get; } = JobCheckpoints.TempDir("ctl-training");

    /// <summary>The node's ctl token: ctl finds it in graphactors.ctl.token-file, which the node created when it started.</summary>
    public string TokenFile => Path.Combine(Dir, "ctl.token");

    public async Task InitializeAsync()
    {
        var journal = Path.Combine(Dir, "journal", "coordinator.db");
        Directory.CreateDirectory(Path.GetDirectoryName(journal)!);
        _node = CliProcess.Node(CliProcess.NodeHocon(Port, Port, "partition, trainer") + $"\ngraphactors.ctl.token-file = \"{TokenFile}\"\n", TestStore.TwoParts,
            new Dictionary<string, string> { ["GA_JOURNAL"] = $"sqlite:Data Source={journal}" });
        await _node.WaitForLine("is up: joined the cluster", Wait);
    }

    public string NodeOutput => $"=== node ===\n{_node?.Output}";

    public Task DisposeAsync()
    {
        _node?.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

// One coordinator holds one job at a time: the tests of this class share it, and each leaves no job running.
[Collection(MultiNodeCollection.Name)]
public class CtlTrainingProcessTests(CtlTrainingFixture node) : IClassFixture<CtlTrainingFixture>
{
    private static readonly TimeSpan Wait = CtlTrainingFixture.Wait;

    private sealed record Run(int ExitCode, string Stdout, string Stderr, TimeSpan Took)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
        public override string ToString() => $"exit {ExitCode} after {Took}\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
    }

    private async Task<Run> Ctl(params string[] args) => await CtlRaw(["--json", .. args]);

    private async Task<Run> CtlRaw(params string[] args)
    {
        var watch = Stopwatch.StartNew();
        using var p = CliProcess.Start(["ctl", "--contact", node.Node, "--timeout", "10s", "--token-file", node.TokenFile, .. args]);
        var exit = await p.WaitForExit(Wait);
        return new Run(exit, p.Stdout, p.Stderr, watch.Elapsed);
    }

    /// <summary>Runs a ctl command until <paramref name="done"/> holds for its answer; every try and the whole wait are bounded.</summary>
    private async Task<Run> Eventually(Func<Run, bool> done, string what, params string[] args)
    {
        var deadline = DateTime.UtcNow + Wait;
        while (true)
        {
            var run = await Ctl(args);
            if (done(run)) return run;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"after {Wait}, still not {what}; last `ctl {string.Join(' ', args)}`: {run}\n{node.NodeOutput}");
            await Task.Delay(300);
        }
    }

    private string TrainingFile(string storePath)
    {
        var file = Path.Combine(node.Dir, $"training-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, JobCheckpoints.Hocon(storePath));
        return file;
    }

    private static string State(Run r) => r.Json.GetProperty("state").GetString()!;

    // The coordinator answers once its singleton runs: until then the proxy buffers and a ctl run may time out.
    private Task<Run> Status(string job, string state) => Eventually(
        r => Answered(r) && r.Json.GetProperty("job").GetString() == job && State(r) == state, $"job '{job}' {state}", "train", "status");

    // Status answers 0, or 4 for a job that ended without a whole result (an earlier test's failed job).
    private static bool Answered(Run r) => r.ExitCode is 0 or 4;

    private async Task StopIfRunning()
    {
        var status = await Eventually(Answered, "a status answer", "train", "status");
        if (State(status) == "Running") Assert.Equal(0, (await Ctl("train", "stop")).ExitCode);
    }

    [Fact]
    public async Task Train_start_status_stop_and_resume_drive_a_job_and_a_second_start_is_refused_while_it_runs()
    {
        await StopIfRunning();
        var config = TrainingFile(TestStore.TwoParts);
        var checkpoints = Path.Combine(node.Dir, "runs");

        var start = await Ctl("train", "start", "--config", config, "--job", "lifecycle", "--checkpoint-dir", checkpoints);
        Assert.True(start.ExitCode == 0, start.ToString());
        Assert.True(start.Json.GetProperty("accepted").GetBoolean());
        Assert.Equal("Running", State(start));
        Assert.Contains("lifecycle", start.Json.GetProperty("message").GetString());

        var running = await Status("lifecycle", "Running");
        Assert.True(running.Json.GetProperty("epoch").GetInt32() >= -1);
        Assert.True(running.Json.GetProperty("lastCompletedEpoch").GetInt32() >= -1);
        Assert.Equal(JsonValueKind.Array, running.Json.GetProperty("trainers").ValueKind);
        Assert.Equal(JsonValueKind.Object, running.Json.GetProperty("metrics").ValueKind);

        var second = await Ctl("train", "start", "--config", config, "--job", "second");
        Assert.True(second.ExitCode == 1, second.ToString());
        Assert.False(second.Json.GetProperty("accepted").GetBoolean());
        Assert.Contains("job 'lifecycle' is running", second.Json.GetProperty("message").GetString());

        // A store reload would have the job's epochs read two versions: refused while it runs, naming the job.
        var refreshed = Path.Combine(node.Dir, "refreshed");
        if (!Directory.Exists(refreshed))
            GraphActors.Graph.Partitioning.GraphPartitioner.Update(new GraphActors.Graph.Partitioning.HeteroGraphSource(TestStore.Graph(users: 210)),
                TestStore.TwoParts, new GraphActors.Graph.Partitioning.PartitionOptions(refreshed, 2));
        var reload = await Ctl("store", "reload", refreshed);
        Assert.True(reload.ExitCode == 1, reload.ToString());
        Assert.Contains("training job 'lifecycle' is running", reload.Json.GetProperty("message").GetString());
        Assert.Equal(0, (await Ctl("store", "version")).Json.GetProperty("version").GetInt32());

        // Without --job, stop and resume act on the coordinator's current job.
        var stop = await Ctl("train", "stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal("Stopped", State(stop));
        await Status("lifecycle", "Stopped");

        var stopAgain = await Ctl("train", "stop", "--job", "lifecycle");
        Assert.True(stopAgain.ExitCode == 1, stopAgain.ToString());
        Assert.Contains("no running job", stopAgain.Json.GetProperty("message").GetString());

        var resume = await Ctl("train", "resume");
        Assert.True(resume.ExitCode == 0, resume.ToString());
        Assert.Equal("Running", State(resume));
        await Status("lifecycle", "Running");

        // People get a table.
        var table = await CtlRaw("train", "status");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("lifecycle", table.Stdout);
        Assert.Contains("Running", table.Stdout);

        var other = await Ctl("train", "status", "--job", "nope");
        Assert.True(other.ExitCode == 1, other.ToString());
        Assert.Contains("'lifecycle'", other.Json.GetProperty("message").GetString());

        Assert.Equal(0, (await Ctl("train", "stop", "--job", "lifecycle")).ExitCode);
    }

    /// <summary>
    /// A job whose every evaluation fails (its random split leaves the validation set empty: "The Val split … is empty")
    /// still trains to its end, but it is not a clean result: `train status --watch` follows it to the end and exits 4
    /// naming the failed evaluation, the JSON carries it, and the checkpoint says why it has no metrics.
    /// </summary>
    [Fact]
    public async Task A_job_whose_evaluation_fails_ends_with_exit_code_4_from_status_watch_naming_the_evaluation()
    {
        await StopIfRunning();
        var config = Path.Combine(node.Dir, $"training-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(config, JobCheckpoints.Hocon(TestStore.TwoParts) + "\ntraining { epochs = 2, eval_every = 1, split_fractions = [0.8, 0.0, 0.2] }\n");
        var checkpoints = Path.Combine(node.Dir, "runs-eval");
        var start = await Ctl("train", "start", "--config", config, "--job", "no-val", "--checkpoint-dir", checkpoints);
        Assert.True(start.ExitCode == 0, start.ToString());

        var watch = await CtlRaw("train", "status", "--job", "no-val", "--watch");
        Assert.True(watch.ExitCode == 4, watch.ToString());
        Assert.Contains("evaluation", watch.Stdout);
        Assert.Contains("Val split", watch.Stdout);

        var json = await Ctl("train", "status", "--job", "no-val");
        Assert.True(json.ExitCode == 4, json.ToString());
        Assert.Equal("Finished", State(json));
        Assert.Equal(2, json.Json.GetProperty("failedEvaluations").GetInt32());
        Assert.Contains("Val split", json.Json.GetProperty("problem").GetString());
        var perEpoch = json.Json.GetProperty("seedsTrained").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        Assert.Equal(2, perEpoch.Length);
        Assert.All(perEpoch, n => Assert.Equal(json.Json.GetProperty("seedsPerEpoch").GetInt64(), n));

        var (manifest, _) = GraphActors.Training.Checkpoints.Read(Path.Combine(checkpoints, "no-val", "epoch-0001"));
        Assert.Empty(manifest.Metrics);
        Assert.Contains("Val split", manifest.Note);
    }

    /// <summary>
    /// `train start --follow` streams the job: a line as each epoch completes (none missed, in order), then the summary
    /// with the best epoch's metrics beside the last's, and the epoch table; the JSON status carries every epoch.
    /// </summary>
    [Fact]
    public async Task Train_start_follow_prints_each_epoch_as_it_completes_and_summarises_the_best_and_the_last()
    {
        await StopIfRunning();
        var config = Path.Combine(node.Dir, $"training-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(config, JobCheckpoints.Hocon(TestStore.TwoParts) + "\ntraining { epochs = 3, eval_every = 1 }\n");
        var checkpoints = Path.Combine(node.Dir, "runs-follow");

        var follow = await CtlRaw("train", "start", "--config", config, "--job", "followed", "--checkpoint-dir", checkpoints, "--follow", "--every", "1s");
        Assert.True(follow.ExitCode == 0, follow + node.NodeOutput);
        var lines = follow.Stdout.Split('\n');
        var done = lines.Where(l => l.Contains(" done", StringComparison.Ordinal) && l.Contains("epoch ", StringComparison.Ordinal)).ToArray();
        Assert.True(done.Length == 3, follow.ToString());
        for (var e = 0; e < 3; e++) Assert.Contains($"epoch {e} done", done[e]);
        Assert.All(done, l => Assert.Contains("val_accuracy", l));
        Assert.Contains("best epoch", follow.Stdout);
        Assert.Contains("last epoch", follow.Stdout);
        // A finished job counts its steps instead of showing the last epoch's round and step as 0 / 0.
        Assert.DoesNotContain("round / step", follow.Stdout);
        Assert.Contains("completed epoch(s)", follow.Stdout);

        var json = await Ctl("train", "status", "--job", "followed");
        Assert.True(json.ExitCode == 0, json.ToString());
        var history = json.Json.GetProperty("history").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2], history.Select(h => h.GetProperty("epoch").GetInt32()));
        var bestEpoch = json.Json.GetProperty("bestEpoch").GetInt32();
        var best = Assert.Single(history, h => h.GetProperty("best").GetBoolean());
        Assert.Equal(bestEpoch, best.GetProperty("epoch").GetInt32());
        Assert.Equal(best.GetProperty("metrics").GetProperty("val_accuracy").GetDouble(),
            json.Json.GetProperty("bestMetrics").GetProperty("val_accuracy").GetDouble());
        Assert.Equal(history[2].GetProperty("metrics").GetProperty("val_accuracy").GetDouble(),
            json.Json.GetProperty("metrics").GetProperty("val_accuracy").GetDouble());
        // The best epoch's metric is the highest of the three.
        Assert.Equal(history.Max(h => h.GetProperty("metrics").GetProperty("val_accuracy").GetDouble()),
            best.GetProperty("metrics").GetProperty("val_accuracy").GetDouble());
    }

    [Fact]
    public async Task A_bad_every_is_refused_before_the_job_starts()
    {
        var run = await CtlRaw("train", "start", "--config", TrainingFile(TestStore.TwoParts), "--job", "never", "--follow", "--every", "100ms");
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("--every", run.Stderr);
        var status = await Ctl("train", "status");
        if (status.ExitCode is 0 or 4 && status.Json.TryGetProperty("job", out var j)) Assert.NotEqual("never", j.GetString());
    }

    [Fact]
    public async Task Checkpoints_list_and_model_export_read_the_coordinators_job_directory_on_the_node()
    {
        await StopIfRunning();
        // The job's store does not exist, so nothing trains and the checkpoints are exactly the ones written here.
        var config = TrainingFile(Path.Combine(node.Dir, "no-store"));
        var checkpointDir = Path.Combine(node.Dir, "ck");
        var start = await Ctl("train", "start", "--config", config, "--job", "ck-job", "--checkpoint-dir", checkpointDir);
        Assert.True(start.ExitCode == 0, start.ToString());
        var dirs = await JobCheckpoints.Write(Path.Combine(checkpointDir, "ck-job"), 0.6, 0.9, 0.7, 0.95);
        JobCheckpoints.Damage(dirs[3]);

        var list = await Ctl("checkpoints", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal("ck-job", list.Json.GetProperty("job").GetString());
        Assert.Equal(node.Node, list.Json.GetProperty("node").GetString());
        Assert.Equal("val_accuracy", list.Json.GetProperty("evalMetric").GetString());
        Assert.Equal(2, list.Json.GetProperty("last").GetInt32());
        Assert.Equal(1, list.Json.GetProperty("best").GetInt32());
        var rows = list.Json.GetProperty("checkpoints").EnumerateArray().ToArray();
        Assert.Equal(new[] { 0, 1, 2, 3 }, rows.Select(c => c.GetProperty("epoch").GetInt32()));
        Assert.Equal(new[] { true, true, true, false }, rows.Select(c => c.GetProperty("verified").GetBoolean()));
        Assert.Equal(new[] { false, true, false, false }, rows.Select(c => c.GetProperty("best").GetBoolean()));
        Assert.Equal(new[] { false, false, true, false }, rows.Select(c => c.GetProperty("last").GetBoolean()));
        Assert.Equal(0.9, rows[1].GetProperty("metrics").GetProperty("val_accuracy").GetDouble());
        Assert.Equal(dirs[0], rows[0].GetProperty("path").GetString());
        Assert.All(rows, c => Assert.True(c.GetProperty("bytes").GetInt64() > 0));
        Assert.Contains("sha256", rows[3].GetProperty("problem").GetString());

        var wrongJob = await Ctl("checkpoints", "list", "--job", "another");
        Assert.True(wrongJob.ExitCode == 1, wrongJob.ToString());
        Assert.Contains("holds job 'ck-job'", wrongJob.Json.GetProperty("problem").GetString());

        var outDir = Path.Combine(node.Dir, "models", "ck-job");
        var export = await Ctl("model", "export", "--best", "--out", outDir);
        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal(1, export.Json.GetProperty("epoch").GetInt32());
        Assert.Equal(dirs[1], export.Json.GetProperty("source").GetString());
        Assert.Equal(outDir, export.Json.GetProperty("out").GetString());
        using (var store = new PartitionedGraphStore(PartitionStore.Open(TestStore.TwoParts)))
        using (var model = new TrainingCheckpointLoader(store).Load(outDir, CancellationToken.None))
            Assert.Equal("1", model.Info.Version);

        var overwrite = await Ctl("model", "export", "--last", "--out", outDir);
        Assert.True(overwrite.ExitCode == 1, overwrite.ToString());
        Assert.Contains("not empty", overwrite.Json.GetProperty("message").GetString());

        var damaged = await Ctl("model", "export", "--epoch", "3", "--out", Path.Combine(node.Dir, "models", "damaged"));
        Assert.True(damaged.ExitCode == 1, damaged.ToString());
        Assert.Contains("sha256", damaged.Json.GetProperty("message").GetString());

        var both = await Ctl("model", "export", "--best", "--last", "--out", Path.Combine(node.Dir, "models", "x"));
        Assert.True(both.ExitCode == 2, both.ToString());

        // A directory named with --dir needs no coordinator; the table marks the best.
        var byDir = await CtlRaw("checkpoints", "list", "--dir", Path.Combine(checkpointDir, "ck-job"));
        Assert.True(byDir.ExitCode == 0, byDir.ToString());
        Assert.Contains("best", byDir.Stdout);
        Assert.Contains("ck-job", byDir.Stdout);

        await StopIfRunning();
    }

    [Fact]
    public async Task Train_status_against_a_port_where_nothing_listens_fails_with_exit_code_3_within_seconds()
    {
        var nobody = TestNodes.Address(TestNodes.FreePort());
        var watch = Stopwatch.StartNew();
        using var p = CliProcess.Start(["ctl", "--contact", nobody, "--timeout", "2s", "train", "status"]);
        var exit = await p.WaitForExit(Wait);

        Assert.True(exit == 3, p.Output);
        Assert.Contains("no answer from the cluster within 2 s", p.Stderr);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(12), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Train_start_with_a_file_that_is_not_there_is_a_usage_error_naming_it()
    {
        var missing = Path.Combine(node.Dir, "missing.hocon");
        var run = await Ctl("train", "start", "--config", missing);
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains(missing, run.Stderr);
    }
}
