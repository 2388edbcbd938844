// graphactors ctl: the training palettes — `train start|status|stop|resume`, `checkpoints list`, `model export`.
using System.CommandLine;
using System.Globalization;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts.Protocols;
using Spectre.Console;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cli.Commands;

public static partial class CtlCommand
{
    private static readonly TimeSpan WatchEvery = TimeSpan.FromSeconds(1);

    // The node answers within this share of our timeout, so its answer (naming what it waited for) arrives before ours expires.
    private const double NodeShareOfTimeout = 0.8;

    private static Command TrainPalette(Globals g)
    {
        var train = new Command("train", "The training job, through the cluster's training coordinator: start, status, stop, resume");

        var config = new Option<string>("--config") { Description = "HOCON file with a `training { … }` block (see hocon/training.hocon)", Required = true };
        var store = new Option<string?>("--store") { Description = "Partition store directory, as the nodes see it (default: the file's store_path)" };
        var startJob = new Option<string?>("--job") { Description = "The job id (default: job-<yyyyMMdd-HHmmss>, UTC)" };
        var checkpointDir = new Option<string?>("--checkpoint-dir")
        {
            Description = "Where epoch checkpoints go, as <dir>/<job>/epoch-NNNN (default: the file's checkpoint_dir, else ./runs)",
        };
        var follow = new Option<bool>("--follow")
        {
            Description = "After the start, follow the job to its end as `status --watch` does (a line per epoch with its metrics, progress in " +
                          "between, the summary at the end); exit 4 when it ends failed, stopped or without a whole result",
        };
        var initFrom = new Option<string?>("--init-from")
        {
            Description = "Start from an earlier job's model (a checkpoint, its manifest or a run directory, best/ first; as the nodes see it): overrides the file's init_from",
        };
        var every = EveryOption();
        var start = new Command("start", "Start a training job from a HOCON file; exit 1 when the coordinator refuses it (e.g. another job runs)");
        foreach (var o in new Option[] { config, store, startJob, checkpointDir, initFrom, follow, every }) start.Options.Add(o);
        start.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var path = pr.GetValue(config)!;
            var followEvery = Every(pr.GetValue(every)); // a bad --every is refused before the job starts
            var file = TrainingHocon.Load(path);
            if (pr.GetValue(initFrom) is { } from) file = file with { Config = file.Config with { InitFrom = Path.GetFullPath(from) } };
            var storePath = pr.GetValue(store) ?? file.StorePath
                ?? throw new ArgumentException($"{path}: no partition store: pass --store or set training.store_path.");
            var job = JobId(pr.GetValue(startJob) ?? $"job-{DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}");
            var checkpoints = Path.GetFullPath(pr.GetValue(checkpointDir) ?? file.Config.CheckpointDir ?? "runs");
            var answer = await client.Request<object>(new StartJob(job, TrainingHocon.ToJob(file, Path.GetFullPath(storePath), checkpoints)), o.Remaining, ct, o.Timeout);
            var started = JobAnswer(answer, job, o);
            if (started != ExitOk || !pr.GetValue(follow)) return started;
            return await Status(client, o, job, new Watch(followEvery, Follow: true), ct);
        }));

        var statusJob = new Option<string?>("--job") { Description = "The job to show (default: the coordinator's current or last job)" };
        var watch = new Option<bool>("--watch")
        {
            Description = "Follow the job until it is no longer running: a line as each epoch completes (loss, metrics, best so far), a progress " +
                          "line every --every, the summary at the end (--json: one object per second, one per line)",
        };
        var statusEvery = EveryOption();
        var status = new Command("status",
            "The job: state, epoch, round, step, loss, metrics, best epoch, seeds trained per epoch, failed evaluations, last checkpoint, ETA, " +
            "trainers; exit 4 when the job has ended failed, with failed evaluations, without metrics or with seeds not trained");
        status.Options.Add(statusJob);
        status.Options.Add(watch);
        status.Options.Add(statusEvery);
        status.SetAction((pr, ct) => Run(pr, g, ct, (client, o) =>
            Status(client, o, pr.GetValue(statusJob), pr.GetValue(watch) ? new Watch(Every(pr.GetValue(statusEvery)), Follow: false) : null, ct)));

        var stopJob = new Option<string?>("--job") { Description = "The job to stop (default: the coordinator's current job)" };
        var stop = new Command("stop", "Stop the running job after telling its trainers; it can resume later from its last completed epoch");
        stop.Options.Add(stopJob);
        stop.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var (job, refusal) = pr.GetValue(stopJob) is { } given ? (JobId(given), null) : await CurrentJob(client, o, ct);
            return job is null ? Refused(o, "", refusal!) : JobAnswer(await client.Request<object>(new StopJob(job), o.Remaining, ct, o.Timeout), job, o);
        }));

        var resumeJob = new Option<string?>("--job") { Description = "The job to resume (default: the coordinator's current job)" };
        var resume = new Command("resume", "Continue a stopped or failed job from the epoch after its last completed one");
        resume.Options.Add(resumeJob);
        resume.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var (job, refusal) = pr.GetValue(resumeJob) is { } given ? (JobId(given), null) : await CurrentJob(client, o, ct);
            return job is null ? Refused(o, "", refusal!) : JobAnswer(await client.Request<object>(new ResumeJob(job), o.Remaining, ct, o.Timeout), job, o);
        }));

        foreach (var c in new[] { start, status, stop, resume }) train.Subcommands.Add(c);
        return train;
    }

    private static Command CheckpointsPalette(Globals g)
    {
        var checkpoints = new Command("checkpoints", "A job's epoch checkpoints, read by the answering node: list");
        var job = new Option<string?>("--job") { Description = "The job (default: the coordinator's current or last job)" };
        var dir = new Option<string?>("--dir")
        {
            Description = "A job's checkpoint directory (<checkpoint_dir>/<job>) on the answering node, instead of asking the coordinator",
        };
        var list = new Command("list", "Every epoch checkpoint with its metrics, sha256 check, size and time; the last and the best marked");
        list.Options.Add(job);
        list.Options.Add(dir);
        list.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var ask = new ListCheckpoints(OptionalJob(pr.GetValue(job)), FullOrEmpty(pr.GetValue(dir)), NodeTimeoutMs(o));
            var result = await client.Request<CheckpointsResult>(ask, o.Remaining, ct, o.Timeout);
            if (o.Json) WriteJson(ToJson(result));
            else RenderCheckpoints(result);
            return result.Problem.Length == 0 ? ExitOk : ExitRefused;
        }));
        checkpoints.Subcommands.Add(list);
        return checkpoints;
    }

    private static Command ModelPalette(Globals g)
    {
        var model = new Command("model", "Models: list, register, unregister and scale them on the inference nodes; export a trained one");
        var job = new Option<string?>("--job") { Description = "The job (default: the coordinator's current or last job)" };
        var dir = new Option<string?>("--dir") { Description = "A job's checkpoint directory on the answering node, instead of asking the coordinator" };
        var epoch = new Option<int?>("--epoch") { Description = "Export this epoch's checkpoint" };
        var best = new Option<bool>("--best") { Description = "Export the best checkpoint by the job's evaluation metric (the default)" };
        var last = new Option<bool>("--last") { Description = "Export the newest checkpoint" };
        var outDir = new Option<string>("--out")
        {
            Description = "The model directory to write (new or empty), on the answering node; load it with POST /models?url=<dir>", Required = true,
        };
        var export = new Command("export", "Copy a checkpoint (sha256 checked) into a model directory the inference role serves");
        foreach (var o in new Option[] { job, dir, epoch, best, last, outDir }) export.Options.Add(o);
        export.SetAction((pr, ct) => Run(pr, g, ct, async (client, o) =>
        {
            var n = pr.GetValue(epoch);
            var picks = (n is null ? 0 : 1) + (pr.GetValue(best) ? 1 : 0) + (pr.GetValue(last) ? 1 : 0);
            if (picks > 1) throw new ArgumentException("--epoch, --best and --last exclude each other: name at most one.");
            if (n < 0) throw new ArgumentException($"--epoch {n}: epochs count from 0.");
            var choice = n is not null ? ExportChoice.Epoch : pr.GetValue(last) ? ExportChoice.Last : ExportChoice.Best;
            var ask = new ExportModel(OptionalJob(pr.GetValue(job)), FullOrEmpty(pr.GetValue(dir)), choice, n ?? -1,
                Path.GetFullPath(pr.GetValue(outDir)!), NodeTimeoutMs(o));
            var result = await client.Request<ModelExported>(ask, o.Remaining, ct, o.Timeout);
            if (o.Json) WriteJson(ToJson(result));
            else RenderExport(result);
            return result.Ok ? ExitOk : ExitRefused;
        }));
        model.Subcommands.Add(export);
        foreach (var c in ServingCommands(g)) model.Subcommands.Add(c);
        return model;
    }

    // ---- running the training commands ----

    private static long NodeTimeoutMs(Options o) => (long)(o.Timeout.TotalMilliseconds * NodeShareOfTimeout);

    private static string FullOrEmpty(string? path) => string.IsNullOrWhiteSpace(path) ? "" : Path.GetFullPath(path);

    private static string OptionalJob(string? job) => job is null ? "" : JobId(job);

    // A job id names a folder under the checkpoint directory: one plain path segment.
    private static string JobId(string job)
    {
        var j = job.Trim();
        if (j.Length == 0 || j is "." or ".." || j.IndexOfAny(['/', '\\', ':']) >= 0 || j.Any(char.IsControl))
            throw new ArgumentException($"--job '{job}' is not a usable job id: it names a folder, so no '/', '\\', ':' and not '.' or '..'.");
        return j;
    }

    /// <summary>The coordinator's current job, or why there is none (no job yet, or no coordinator).</summary>
    private static async Task<(string? Job, string? Refusal)> CurrentJob(CtlClient client, Options o, CancellationToken ct)
    {
        var answer = await client.Request<object>(new GetJobStatus(), o.Remaining, ct, o.Timeout);
        return answer switch
        {
            JobStatus { JobId.Length: > 0 } s => (s.JobId, null),
            JobStatus => (null, "the training coordinator has no job: start one with `ctl train start --config FILE`"),
            CommandResult r => (null, r.Message),
            _ => throw new InvalidOperationException($"The cluster answered GetJobStatus with {answer.GetType().Name}."),
        };
    }

    private static int Refused(Options o, string job, string message)
    {
        if (o.Json) WriteJson(new { job = job.Length > 0 ? job : null, accepted = false, state = (string?)null, message });
        else AnsiConsole.MarkupLine($"[red]{Markup.Escape(message)}[/]");
        return ExitRefused;
    }

    private static int JobAnswer(object answer, string job, Options o)
    {
        switch (answer)
        {
            case JobCommandResult r:
                if (o.Json) WriteJson(new { job = r.JobId, accepted = r.Accepted, state = r.State, message = r.Message });
                else AnsiConsole.MarkupLine(r.Accepted ? $"[green]{Markup.Escape(r.Message)}[/]" : $"[red]{Markup.Escape(r.Message)}[/]");
                return r.Accepted ? ExitOk : ExitRefused;
            case CommandResult r:
                return Refused(o, job, r.Message);
            default:
                throw new InvalidOperationException($"The cluster answered a job command with {answer.GetType().Name}.");
        }
    }

    /// <summary>How a status is followed: progress lines at most every <paramref name="Every"/>; <paramref name="Follow"/>
    /// (`start --follow`) also counts a job stopped before its end as not whole.</summary>
    private sealed record Watch(TimeSpan Every, bool Follow);

    private static Option<string> EveryOption() => new("--every")
    {
        Description = "With --watch or --follow: a progress line at most this often, when something moved (e.g. 10s, 1m; default 10s)",
        DefaultValueFactory = _ => "10s",
    };

    private static TimeSpan Every(string? text)
    {
        var every = ParseTimeout(text ?? "10s");
        return every >= TimeSpan.FromSeconds(1) ? every : throw new ArgumentException($"--every '{text}' is below 1s.");
    }

    private static async Task<int> Status(CtlClient client, Options o, string? job, Watch? watch, CancellationToken ct)
    {
        var asked = OptionalJob(job);
        JobStatus? last = null;
        var lastProgress = DateTime.MinValue;
        var lastAnswer = DateTime.UtcNow;
        while (true)
        {
            object answer;
            try
            {
                answer = await client.Request<object>(new GetJobStatus(asked), watch is null ? o.Remaining : o.Timeout, ct, o.Timeout);
            }
            catch (CtlUnreachableException e) when (watch is not null && last is not null && DateTime.UtcNow - lastAnswer < o.Timeout)
            {
                // The coordinator moves (its node left, the singleton restarts): a follower waits for it within --timeout.
                if (!o.Json) AnsiConsole.MarkupLine($"[grey]{Now()}  no answer ({Markup.Escape(e.Message)}); asking again[/]");
                await Task.Delay(WatchEvery, ct);
                continue;
            }
            lastAnswer = DateTime.UtcNow;
            if (answer is CommandResult refused) return Refused(o, asked, refused.Message);
            if (answer is not JobStatus s) throw new InvalidOperationException($"The cluster answered GetJobStatus with {answer.GetType().Name}.");
            if (asked.Length > 0 && s.JobId != asked)
                return Refused(o, asked, s.Reason.Length > 0 ? s.Reason : $"no job '{asked}': the coordinator holds '{s.JobId}'");
            var ended = watch is null || s.State != JobState.Running;
            if (o.Json) WriteJson(ToJson(s, watch?.Follow == true));
            else if (watch is null || (last is null && ended && !watch.Follow)) RenderStatus(s);
            else
            {
                if (last is null) AnsiConsole.MarkupLine(StatusLine(s));
                // Every epoch completed since the last answer, in order: a follower misses none, not even the epochs a
                // fast job completed before the first answer (`train start --follow` prints the job from its start).
                foreach (var e in s.Epochs)
                    if (last is null ? watch.Follow : e.Epoch > last.LastCompletedEpoch) AnsiConsole.MarkupLine(EpochLine(s, e));
                if (ended) RenderStatus(s);
                else if (last is not null && DateTime.UtcNow - lastProgress >= watch.Every && Moved(last, s))
                {
                    AnsiConsole.MarkupLine(StatusLine(s));
                    lastProgress = DateTime.UtcNow;
                }
                if (last is null) lastProgress = DateTime.UtcNow;
            }
            last = s;
            if (ended)
            {
                // A job that has ended says whether its result is whole: scripts and CI follow the exit code.
                if (s.State == JobState.Running || s.JobId.Length == 0 || Problem(s, watch?.Follow == true) is not { } problem) return ExitOk;
                if (!o.Json) AnsiConsole.MarkupLine($"[red]job {Markup.Escape(s.JobId)}: {Markup.Escape(problem)}[/]");
                return ExitJobProblem;
            }
            await Task.Delay(WatchEvery, ct);
        }
    }

    private static bool Moved(JobStatus a, JobStatus b) =>
        a.GlobalStep != b.GlobalStep || a.Epoch != b.Epoch || a.Round != b.Round || a.Trainers.Length != b.Trainers.Length || a.Attempt != b.Attempt;

    /// <summary>
    /// What keeps a job's result from being whole, in one sentence, or null: it failed, an evaluation failed, it finished
    /// without metrics, or an epoch trained other than all of its seeds. (A job stopped by request is what was asked for.)
    /// </summary>
    public static string? Problem(JobStatus s, bool followed = false)
    {
        var problems = new List<string>();
        if (s.State == JobState.Failed) problems.Add($"failed: {s.Reason}");
        if (followed && s.State == JobState.Stopped)
            problems.Add($"stopped after epoch {s.LastCompletedEpoch} before its end ({s.Reason}); `ctl train resume --job {s.JobId}` continues it");
        if (s.FailedEvaluations > 0) problems.Add($"{s.FailedEvaluations} evaluation epoch(s) ended without metrics (last: {s.EvaluationError})");
        if (s.State == JobState.Finished && s.MetricNames.Length == 0 && s.BestEpoch < 0) problems.Add("finished without metrics");
        var short_ = s.SeedsTrainedPerEpoch.Select((n, e) => (n, e)).Where(x => x.n >= 0 && x.n != s.SeedsPerEpoch).ToArray();
        if (short_.Length > 0)
            problems.Add($"epoch(s) {string.Join(", ", short_.Select(x => $"{x.e} trained {x.n}"))} of {s.SeedsPerEpoch} seeds");
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    // ---- output ----

    private static double? Finite(double v) => double.IsFinite(v) ? v : null;

    private static object ToJson(JobStatus s, bool followed = false) => new
    {
        job = s.JobId.Length > 0 ? s.JobId : null,
        state = s.State,
        epoch = s.Epoch,
        lastCompletedEpoch = s.LastCompletedEpoch,
        round = s.Round,
        step = s.Step,
        globalStep = s.GlobalStep,
        loss = Finite(s.LastLoss),
        metrics = Metrics(s.MetricNames, s.MetricValues),
        bestMetric = Finite(s.BestMetric),
        bestEpoch = s.BestEpoch,
        bestMetrics = s.EpochAt(s.BestEpoch) is { } best ? Metrics(best.MetricNames, best.MetricValues) : null,
        history = s.Epochs.Select(e => new
        {
            epoch = e.Epoch,
            loss = Finite(e.Loss),
            metrics = Metrics(e.MetricNames, e.MetricValues),
            best = e.Epoch == s.BestEpoch,
        }).ToArray(),
        lastCheckpoint = s.LastCheckpointPath.Length > 0 ? new { path = s.LastCheckpointPath, sha256 = s.LastCheckpointSha256 } : null,
        etaSeconds = s.EtaSeconds >= 0 ? s.EtaSeconds : (double?)null,
        trainers = s.Trainers,
        reason = s.Reason.Length > 0 ? s.Reason : null,
        attempt = s.Attempt,
        seedsPerEpoch = s.SeedsPerEpoch,
        seedsTrained = s.SeedsTrainedPerEpoch,
        failedEvaluations = s.FailedEvaluations,
        evaluationError = s.EvaluationError.Length > 0 ? s.EvaluationError : null,
        problem = s.State == JobState.Running ? null : Problem(s, followed),
    };

    private static Dictionary<string, double?> Metrics(string[] names, float[] values) => Metrics(names, Array.ConvertAll(values, v => (double)v));

    private static Dictionary<string, double?> Metrics(string[] names, double[] values)
    {
        var d = new Dictionary<string, double?>(names.Length);
        for (var i = 0; i < names.Length && i < values.Length; i++) d[names[i]] = Finite(values[i]);
        return d;
    }

    private static object ToJson(CheckpointsResult r) => new
    {
        job = r.JobId.Length > 0 ? r.JobId : null,
        directory = r.Directory.Length > 0 ? r.Directory : null,
        node = r.Node,
        evalMetric = r.EvalMetric.Length > 0 ? r.EvalMetric : null,
        last = r.LastEpoch >= 0 ? r.LastEpoch : (int?)null,
        best = r.BestEpoch >= 0 ? r.BestEpoch : (int?)null,
        checkpoints = r.Checkpoints.Select(c => new
        {
            epoch = c.Epoch,
            path = c.Path,
            metrics = Metrics(c.MetricNames, c.MetricValues),
            verified = c.Verified,
            problem = c.Problem.Length > 0 ? c.Problem : null,
            bytes = c.Bytes,
            createdUtc = c.CreatedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(c.CreatedUnixMs).ToString("o", CultureInfo.InvariantCulture) : null,
            last = c.Epoch == r.LastEpoch,
            best = c.Epoch == r.BestEpoch,
        }).ToArray(),
        problem = r.Problem.Length > 0 ? r.Problem : null,
    };

    private static object ToJson(ModelExported r) => new
    {
        ok = r.Ok,
        message = r.Message,
        job = r.JobId.Length > 0 ? r.JobId : null,
        epoch = r.Ok ? r.Epoch : (int?)null,
        source = r.Source.Length > 0 ? r.Source : null,
        @out = r.OutDir,
        modelSha256 = r.ModelSha256.Length > 0 ? r.ModelSha256 : null,
        bytes = r.Bytes,
        node = r.Node,
    };

    private static string Num(double v, string format = "0.####") =>
        double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string Eta(double seconds)
    {
        if (seconds < 0) return "unknown";
        var t = TimeSpan.FromSeconds(Math.Round(seconds));
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes:00}m {t.Seconds:00}s" : t.TotalMinutes >= 1 ? $"{t.Minutes}m {t.Seconds:00}s" : $"{t.Seconds}s";
    }

    private static string StateMarkup(JobState s) => s switch
    {
        JobState.Running => "[green]Running[/]",
        JobState.Finished => "[blue]Finished[/]",
        JobState.Idle => "[grey]Idle[/]",
        JobState.Stopped => "[yellow]Stopped[/]",
        _ => $"[red]{s}[/]",
    };

    private static void RenderStatus(JobStatus s)
    {
        if (s.JobId.Length == 0)
        {
            AnsiConsole.MarkupLine("[grey]the training coordinator has no job yet[/]");
            return;
        }
        var inv = CultureInfo.InvariantCulture;
        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        void Row(string key, string value) => grid.AddRow($"[bold]{key}[/]", value);
        Row("job", Markup.Escape(s.JobId));
        Row("state", StateMarkup(s.State) + (s.Reason.Length > 0 ? $" ({Markup.Escape(s.Reason)})" : ""));
        Row("epoch", s.Epoch.ToString(inv) + (s.LastCompletedEpoch >= 0 ? $" (last completed {s.LastCompletedEpoch.ToString(inv)})" : " (none completed yet)"));
        if (s.State == JobState.Running)
            Row("round / step", $"{s.Round.ToString(inv)} / {s.Step.ToString(inv)}" + (s.Attempt > 0 ? $" [yellow](attempt {s.Attempt}: re-planned after a trainer left)[/]" : ""));
        else
            Row("steps", $"{s.GlobalStep.ToString(inv)} over {(s.LastCompletedEpoch + 1).ToString(inv)} completed epoch(s)");
        Row("seeds", SeedsRow(s));
        if (s.FailedEvaluations > 0)
            Row("evaluations", $"[red]{s.FailedEvaluations.ToString(inv)} failed[/] (last: {Markup.Escape(s.EvaluationError)})");
        Row("loss", Num(s.LastLoss));
        Row("last epoch", s.LastCompletedEpoch < 0 ? "[grey]-[/]"
            : $"{s.LastCompletedEpoch.ToString(inv)}: " + (s.MetricNames.Length == 0 ? "[grey]no metrics[/]" : Markup.Escape(MetricsText(s.MetricNames, s.MetricValues))));
        Row("best epoch", s.BestEpoch < 0 ? "[grey]-[/]"
            : s.EpochAt(s.BestEpoch) is { } best
                ? $"[bold]{s.BestEpoch.ToString(inv)}[/]: {Markup.Escape(MetricsText(best.MetricNames, best.MetricValues))}, loss {Num(best.Loss)}"
                : $"[bold]{s.BestEpoch.ToString(inv)}[/]: {Num(s.BestMetric)}");
        Row("last checkpoint", s.LastCheckpointPath.Length > 0
            ? $"{Markup.Escape(s.LastCheckpointPath)} [grey](sha256 {Markup.Escape(Abbrev(s.LastCheckpointSha256))})[/]" : "[grey]-[/]");
        Row("ETA", s.State == JobState.Running ? Eta(s.EtaSeconds) : "[grey]-[/]");
        Row("trainers", s.Trainers.Length == 0 ? "[yellow]none registered[/]"
            : Markup.Escape($"{s.Trainers.Length}: {string.Join(", ", s.Trainers.Select(ShortActor))}"));
        AnsiConsole.Write(grid);
        if (s.Epochs.Length > 0) AnsiConsole.Write(EpochTable(s));
    }

    // A long job's table shows its newest epochs, and the best one when it is older.
    private const int EpochTableRows = 30;

    private static Table EpochTable(JobStatus s)
    {
        var epochs = s.Epochs;
        var names = epochs.SelectMany(e => e.MetricNames).Distinct(StringComparer.Ordinal).ToArray();
        var table = new Table().Border(TableBorder.Simple).AddColumn(new TableColumn("epoch").RightAligned()).AddColumn(new TableColumn("loss").RightAligned());
        foreach (var n in names) table.AddColumn(new TableColumn(Markup.Escape(n)).RightAligned());
        table.AddColumn("");
        var shown = epochs.Length <= EpochTableRows ? epochs : epochs[^EpochTableRows..];
        if (shown.Length < epochs.Length)
        {
            if (s.EpochAt(s.BestEpoch) is { } best && best.Epoch < shown[0].Epoch) AddRow(best);
            table.AddRow(new[] { $"[grey]… {(shown[0].Epoch - epochs[0].Epoch).ToString(CultureInfo.InvariantCulture)} earlier[/]" }
                .Concat(Enumerable.Repeat("", names.Length + 2)).ToArray());
        }
        foreach (var e in shown) AddRow(e);
        return table;

        void AddRow(EpochSummary e)
        {
            var cells = new List<string> { e.Epoch.ToString(CultureInfo.InvariantCulture), Num(e.Loss) };
            foreach (var n in names)
            {
                var i = Array.IndexOf(e.MetricNames, n);
                cells.Add(i >= 0 && i < e.MetricValues.Length ? Num(e.MetricValues[i]) : "[grey]-[/]");
            }
            cells.Add(e.Epoch == s.BestEpoch ? "[bold green]best[/]" : e.Epoch == s.LastCompletedEpoch ? "last" : "");
            table.AddRow(cells.ToArray());
        }
    }

    private static string MetricsText(string[] names, float[] values) =>
        string.Join(", ", names.Select((n, i) => $"{n} {(i < values.Length ? Num(values[i]) : "-")}"));

    private static string Now() => DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>An epoch as it completes: its loss, its metrics, whether it is the best so far, its seeds.</summary>
    private static string EpochLine(JobStatus s, EpochSummary e)
    {
        var inv = CultureInfo.InvariantCulture;
        var seeds = e.Epoch < s.SeedsTrainedPerEpoch.Length && s.SeedsTrainedPerEpoch[e.Epoch] >= 0
            ? $"  seeds {s.SeedsTrainedPerEpoch[e.Epoch].ToString(inv)}/{s.SeedsPerEpoch.ToString(inv)}" : "";
        var metrics = e.MetricNames.Length == 0 ? "" : "  " + Markup.Escape(MetricsText(e.MetricNames, e.MetricValues));
        return $"{Now()}  {Markup.Escape(s.JobId)}  [bold]epoch {e.Epoch.ToString(inv)} done[/]  loss {Num(e.Loss)}{metrics}" +
               (e.Epoch == s.BestEpoch ? "  [green]best so far[/]" : "") + seeds;
    }

    private static string SeedsRow(JobStatus s)
    {
        var trained = s.SeedsTrainedPerEpoch;
        if (s.SeedsPerEpoch <= 0) return "[grey]-[/]";
        var per = s.SeedsPerEpoch.ToString(CultureInfo.InvariantCulture);
        if (trained.Length == 0) return $"{per} per epoch (none completed yet)";
        var off = trained.Select((n, e) => (n, e)).Where(x => x.n >= 0 && x.n != s.SeedsPerEpoch).ToArray();
        return off.Length == 0
            ? $"{per} per epoch, [green]all trained exactly once[/] in each of {trained.Count(n => n >= 0)} completed epoch(s)"
            : $"{per} per epoch, [red]{Markup.Escape(string.Join(", ", off.Select(x => $"epoch {x.e}: {x.n}")))}[/]";
    }

    /// <summary>Progress between epoch lines: where the job is, its latest loss, the ETA and the trainers.</summary>
    private static string StatusLine(JobStatus s)
    {
        var inv = CultureInfo.InvariantCulture;
        // Between two epochs the status still names the completed one: say the next is being planned.
        var where = s.LastCompletedEpoch >= s.Epoch && s.State == JobState.Running
            ? $"epoch {(s.LastCompletedEpoch + 1).ToString(inv)} planning"
            : $"epoch {s.Epoch.ToString(inv)}  round {s.Round.ToString(inv)}  step {s.Step.ToString(inv)}";
        return $"{Now()}  {Markup.Escape(s.JobId)}  {StateMarkup(s.State)}  {where}  global step {s.GlobalStep.ToString(inv)}  loss {Num(s.LastLoss)}" +
               $"  ETA {Eta(s.EtaSeconds)}  trainers {s.Trainers.Length.ToString(inv)}" +
               (s.Attempt > 0 ? $"  [yellow]attempt {s.Attempt.ToString(inv)}[/]" : "");
    }

    // A trainer id is its actor path; the table shows the node and the actor name.
    private static string ShortActor(string path) => Short(path.Replace("/user/", " /user/", StringComparison.Ordinal));

    private static string Abbrev(string sha) => sha.Length > 12 ? sha[..12] + "…" : sha;

    private static void RenderCheckpoints(CheckpointsResult r)
    {
        if (r.Problem.Length > 0)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Problem)}[/]");
            return;
        }
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Title($"checkpoints of job {Markup.Escape(r.JobId)} on {Markup.Escape(Short(r.Node))}");
        table.AddColumn(new TableColumn("epoch").RightAligned());
        table.AddColumn("");
        table.AddColumn("metrics");
        table.AddColumn("sha256");
        table.AddColumn(new TableColumn("size").RightAligned());
        table.AddColumn("written (UTC)");
        foreach (var c in r.Checkpoints)
        {
            var marks = string.Join(" ", new[] { c.Epoch == r.LastEpoch ? "last" : null, c.Epoch == r.BestEpoch ? "[bold]best[/]" : null }.OfType<string>());
            var metrics = string.Join(", ", c.MetricNames.Select((n, i) => $"{n} {Num(c.MetricValues[i])}"));
            table.AddRow(c.Epoch.ToString(inv), marks, Markup.Escape(metrics),
                c.Verified ? "[green]ok[/]" : $"[red]{Markup.Escape(c.Problem)}[/]", Bytes(c.Bytes),
                c.CreatedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(c.CreatedUnixMs).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", inv) : "[grey]-[/]");
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]in {Markup.Escape(r.Directory)}/{CheckpointFolderPattern}; best by " +
                               $"{Markup.Escape(r.EvalMetric.Length > 0 ? r.EvalMetric : "(no metric)")}[/]");
        if (r.Checkpoints.Length == 0) AnsiConsole.MarkupLine("[yellow]no checkpoint yet[/]");
    }

    private const string CheckpointFolderPattern = "epoch-NNNN";

    private static void RenderExport(ModelExported r)
    {
        if (!r.Ok)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(r.Message)}[/]");
            return;
        }
        AnsiConsole.MarkupLine($"[green]{Markup.Escape(r.Message)}[/]");
        AnsiConsole.MarkupLine($"  from   {Markup.Escape(r.Source)}");
        AnsiConsole.MarkupLine($"  model  {Markup.Escape(Path.Combine(r.OutDir, "model.bin"))} ({Bytes(r.Bytes)}, sha256 {Markup.Escape(r.ModelSha256)})");
        // The url must lie in the inference node's model store (graphactors.inference.model-store); the management API wants its token.
        AnsiConsole.MarkupLine($"  serve  curl -X POST -H \"Authorization: Bearer $MANAGEMENT_TOKEN\" \"http://INFERENCE-NODE:8081/models?url={Markup.Escape(Uri.EscapeDataString(r.OutDir))}&model_name=NAME\"  [grey](the folder must lie in that node's model store)[/]");
    }
}
