// The training coordinator's domain logic, without Akka: ProcessCommand decides (reply, events, sends), Apply folds an event.
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Coordination;

/// <summary>A registered trainer as the state knows it: an id (its actor path), its node and the partitions that node hosts.</summary>
public sealed record TrainerInfo(string Id, string NodeAddress, int[] LocalPartitions);

/// <summary>A message for one trainer, sent by the actor once the decision's events are persisted.</summary>
public sealed record Outgoing(string TrainerId, IGraphActorsMessage Message);

/// <summary>What a command led to: the reply to its sender (or null), events to persist first, messages to trainers, log lines.</summary>
public sealed record Decision(object? Reply, IReadOnlyList<ITrainingEvent> Events, IReadOnlyList<Outgoing> Sends, IReadOnlyList<string> Warnings)
{
    public static readonly Decision None = new(null, [], [], []);
    public static Decision ReplyOnly(object reply) => new(reply, [], [], []);
}

/// <summary>The seeds of a job and who owns each (the partition book); loaded once per job by an <see cref="ISeedSource"/>.</summary>
public sealed record SeedSet(int[] Seeds, Func<int, int> OwnerOf);

/// <summary>Where the coordinator gets a job's training seeds from (the partition store by default; tests give their own).</summary>
public interface ISeedSource
{
    SeedSet Load(TrainingConfig config);
}

// Commands the actor makes up itself (timers, deaths); never sent over the wire.
public sealed record TrainerLeft(string TrainerId);
public sealed record WaitTimedOut(string Key);
public sealed record PlanEpoch(SeedSet Seeds);
public sealed record FailJob(string Reason);

/// <summary>What the coordinator is waiting for now, and for how long (the actor keeps one timer for it).</summary>
public enum WaitKind { None, FirstParameters, RoundStragglers, EpochFinish, Checkpoint }

/// <summary>
/// The job (durable: rebuilt from events and snapshots) plus the registered trainers and the epoch in flight (transient:
/// after a restart trainers register again and the unfinished epoch is planned afresh). Recovery rule: a job that was
/// running resumes at the epoch after its last COMPLETED one, from the last recorded checkpoint.
/// </summary>
public sealed class CoordinatorState
{
    // ---- durable ----
    public string JobId { get; private set; } = "";
    public TrainingConfig? Config { get; private set; }
    public JobState State { get; private set; } = JobState.Idle;
    public int Epoch { get; private set; } = -1;
    public int LastCompletedEpoch { get; private set; } = -1;
    public int Round { get; private set; } = -1;
    public float LastLoss { get; private set; } = float.NaN;
    public string[] MetricNames { get; private set; } = [];
    public float[] MetricValues { get; private set; } = [];
    public float BestMetric { get; private set; } = float.NaN;
    public int BestEpoch { get; private set; } = -1;
    public string LastCheckpointPath { get; private set; } = "";
    public string LastCheckpointSha256 { get; private set; } = "";
    public string Reason { get; private set; } = "";
    /// <summary>The planned steps of every completed epoch, summed: the job-wide step at which the next epoch starts.</summary>
    public long CompletedSteps { get; private set; }
    /// <summary>The steps (per trainer) of the epoch planned last.</summary>
    public int PlannedSteps { get; private set; }

    // ---- transient ----
    private readonly Dictionary<string, TrainerInfo> _trainers = new();
    private EpochRun? _run;
    private readonly List<double> _epochSeconds = [];

    /// <summary>The trainers registered now, by id.</summary>
    public IReadOnlyDictionary<string, TrainerInfo> Trainers => _trainers;

    /// <summary>True while an epoch is planned and not yet completed.</summary>
    public bool EpochInFlight => _run is not null;

    /// <summary>The epoch to plan next: the one after the last completed (an unfinished epoch is redone).</summary>
    public int NextEpoch => LastCompletedEpoch + 1;

    /// <summary>Running, no epoch in flight, enough trainers: time to plan.</summary>
    public bool ReadyToPlan(int minTrainers) => State == JobState.Running && _run is null && _trainers.Count >= Math.Max(1, minTrainers);

    /// <summary>The current wait (a key that changes whenever the wait does) and its kind.</summary>
    public (string Key, WaitKind Kind) Wait => _run switch
    {
        null => ("", WaitKind.None),
        { Phase: Phase.Checkpoint } r => ($"checkpoint {r.Epoch} by {r.CheckpointWriter} #{r.CheckpointAttempt}", WaitKind.Checkpoint),
        { Phase: Phase.Finishing } r => ($"finish {r.Epoch}", WaitKind.EpochFinish),
        { Averager.Reported: 0 } r => ($"round {r.Epoch}/{r.CurrentRound} start", WaitKind.FirstParameters),
        var r => ($"round {r.Epoch}/{r.CurrentRound}", WaitKind.RoundStragglers),
    };

    // ==== commands ====

    /// <summary>Decides what <paramref name="command"/> leads to. <paramref name="trainerId"/> is the sender when it is a registered trainer.</summary>
    public Decision ProcessCommand(object command, string? trainerId, DateTime now) => command switch
    {
        StartJob m => Start(m),
        StopJob m => Stop(m),
        ResumeJob m => Resume(m),
        GetJobStatus m => Decision.ReplyOnly(Status(m.JobId, now)),
        RegisterTrainer m => Register(m, trainerId ?? m.Trainer.Path.ToString()),
        TrainerLeft m => Leave(m.TrainerId, now),
        PlanEpoch m => Plan(m.Seeds, now),
        StepsReported m => Steps(m, trainerId),
        ParametersReady m => Parameters(m, trainerId, now),
        EpochFinished m => Finished(m, trainerId, now),
        CheckpointWritten m => Checkpointed(m, trainerId, now),
        WaitTimedOut m => TimedOut(m.Key, now),
        FailJob m when State == JobState.Running => FailRun(m.Reason),
        TrainerFailed m when State == JobState.Running && m.JobId == JobId => FailRun($"trainer {trainerId ?? "(unregistered)"} failed in epoch {m.Epoch}: {m.Reason}"),
        TrainerFailed => Decision.None,
        _ => new Decision(null, [], [], [$"the coordinator does not handle {command.GetType().Name}"]),
    };

    private Decision Start(StartJob m)
    {
        if (State == JobState.Running)
            return Decision.ReplyOnly(new JobCommandResult(m.JobId, false, State, $"job '{JobId}' is running: stop it before starting '{m.JobId}'."));
        var c = m.Config;
        var problem = string.IsNullOrWhiteSpace(m.JobId) ? "the job id is empty"
            : c.Epochs < 1 ? $"epochs = {c.Epochs}, needs at least 1"
            : c.BatchSize < 1 ? $"batch size = {c.BatchSize}, needs at least 1"
            : c.AveragingPeriod < 1 ? $"averaging period K = {c.AveragingPeriod}, needs at least 1"
            : c.Task.Replace('-', '_') is not ("node_classification" or "link_prediction")
                ? $"task '{c.Task}': cluster training streams node-classification and link-prediction batches; train graph classification with `graphactors train` (local mode)"
            : null;
        if (problem is not null) return Decision.ReplyOnly(new JobCommandResult(m.JobId, false, State, $"job '{m.JobId}' refused: {problem}."));
        return new Decision(new JobCommandResult(m.JobId, true, JobState.Running, $"job '{m.JobId}' started: {c.Epochs} epochs, K = {c.AveragingPeriod}."),
            [new JobStarted(m.JobId, c)], [], []);
    }

    private Decision Stop(StopJob m)
    {
        if (m.JobId != JobId || State != JobState.Running)
            return Decision.ReplyOnly(new JobCommandResult(m.JobId, false, State, $"no running job '{m.JobId}' (current: '{JobId}', {State})."));
        var sends = Halt(JobState.Stopped, "stopped by request");
        return new Decision(new JobCommandResult(m.JobId, true, JobState.Stopped, $"job '{m.JobId}' stopped after epoch {LastCompletedEpoch}."),
            [new JobStopped(m.JobId)], sends, []);
    }

    private Decision Resume(ResumeJob m)
    {
        if (m.JobId != JobId || State is not (JobState.Stopped or JobState.Failed))
            return Decision.ReplyOnly(new JobCommandResult(m.JobId, false, State,
                $"job '{m.JobId}' cannot resume: only a stopped or failed job can (current: '{JobId}', {State})."));
        return new Decision(new JobCommandResult(m.JobId, true, JobState.Running, $"job '{m.JobId}' resumes at epoch {NextEpoch}."),
            [new JobResumed(m.JobId, LastCompletedEpoch)], [], []);
    }

    private Decision Register(RegisterTrainer m, string id)
    {
        _trainers[id] = new TrainerInfo(id, m.NodeAddress, m.LocalPartitions);
        // A trainer joining mid-epoch waits for the next plan; it is told so by the empty share it does not get yet.
        return Decision.ReplyOnly(new TrainerRegistered(id, JobId));
    }

    private Decision Leave(string id, DateTime now)
    {
        if (!_trainers.Remove(id)) return Decision.None;
        var warnings = new List<string> { $"trainer {id} left: its share is re-planned at the next epoch" };
        if (_run is null || !_run.Active.Remove(id)) return new Decision(null, [], [], warnings);
        if (_run.Active.Count == 0)
        {
            warnings.Add($"no trainer of epoch {_run.Epoch} is left: the epoch is re-planned when trainers register");
            _run = null;
            return new Decision(null, [], [], warnings);
        }
        var d = Advance(now);
        return d with { Warnings = [.. warnings, .. d.Warnings] };
    }

    private Decision Plan(SeedSet seeds, DateTime now)
    {
        if (State != JobState.Running || _run is not null || _trainers.Count == 0) return Decision.None;
        var c = Config!;
        var epoch = NextEpoch;
        if (epoch >= c.Epochs)
            return new Decision(null, [new JobFinished(JobId)], Halt(JobState.Finished, "all epochs done"), []);
        var ids = _trainers.Keys.Order(StringComparer.Ordinal).ToArray();
        var shares = SeedSplit.Split(seeds.Seeds, seeds.OwnerOf, ids.Select(i => _trainers[i].LocalPartitions).ToArray());
        var steps = Math.Max(1, (shares.Max(s => s.Length) + c.BatchSize - 1) / c.BatchSize);
        var evaluate = epoch == c.Epochs - 1 || (c.EvalEvery > 0 && (epoch + 1) % c.EvalEvery == 0);
        // The replicas are identical at the end of an epoch (its last step is averaged), so one evaluation is the
        // epoch's: the first trainer evaluates, the others go straight on (DistDGL would split val/test among them).
        var sends = new List<Outgoing>();
        for (var t = 0; t < ids.Length; t++)
        {
            var share = shares[t];
            var parts = Math.Max(1, (share.Length + MaxChunkFloats - 1) / MaxChunkFloats);
            for (var p = 0; p < parts; p++)
            {
                var slice = share.AsSpan(p * MaxChunkFloats, Math.Min(MaxChunkFloats, share.Length - p * MaxChunkFloats)).ToArray();
                sends.Add(new Outgoing(ids[t], new EpochAssignment(JobId, epoch, c, slice, p, parts, steps, evaluate && t == 0, LastCheckpointPath, LastCheckpointSha256)));
            }
        }
        _run = new EpochRun(epoch, steps, c.AveragingPeriod, ids, now);
        return new Decision(null, [new EpochPlanned(JobId, epoch, ids, shares.Select(s => s.Length).ToArray(), steps)], sends, []);
    }

    private Decision Steps(StepsReported m, string? trainerId)
    {
        if (_run is null || m.JobId != JobId || m.Epoch != _run.Epoch || trainerId is null) return Decision.None;
        _run.StepsDone[trainerId] = m.Steps;
        _run.LastLoss = m.Loss;
        return Decision.None;
    }

    private Decision Parameters(ParametersReady m, string? trainerId, DateTime now)
    {
        if (_run is not { Phase: Phase.Rounds } run || m.JobId != JobId || m.Epoch != run.Epoch || trainerId is null || !run.Active.Contains(trainerId))
            return Stale(m, trainerId);
        if (m.Round != run.CurrentRound)
            return new Decision(null, [], [], [$"dropped parameters of round {m.Round} from {trainerId}: epoch {run.Epoch} is at round {run.CurrentRound}"]);
        var problem = run.Averager.Add(trainerId, m.ChunkIndex, m.ChunkCount, m.Chunk);
        if (problem is not null) return new Decision(null, [], [], [$"rejected parameters from {trainerId}: {problem}"]);
        if (run.StepsDone.GetValueOrDefault(trainerId) < Math.Min(run.Steps, (m.Round + 1) * run.K))
            run.StepsDone[trainerId] = Math.Min(run.Steps, (m.Round + 1) * run.K);
        return run.Active.All(run.Averager.IsComplete) ? CloseRound(now) : Decision.None;
    }

    private Decision CloseRound(DateTime now)
    {
        var run = _run!;
        var (chunks, contributors) = run.Averager.Average();
        var round = run.CurrentRound;
        var sends = new List<Outgoing>();
        foreach (var t in run.Active)
            for (var i = 0; i < chunks.Length; i++)
                sends.Add(new Outgoing(t, new AveragedParameters(JobId, run.Epoch, round, i, chunks.Length, contributors, chunks[i])));
        run.Averager = new ParameterAverager();
        run.CurrentRound++;
        if (run.CurrentRound >= run.Rounds) run.Phase = Phase.Finishing;
        var d = new Decision(null, [new ParametersAveraged(JobId, run.Epoch, round, contributors)], sends, []);
        if (run.Phase == Phase.Finishing && run.Active.All(run.Finished.ContainsKey))
        {
            var next = StartCheckpoint(now);
            d = d with { Sends = [.. d.Sends, .. next.Sends], Events = [.. d.Events, .. next.Events], Warnings = next.Warnings };
        }
        return d;
    }

    private Decision Finished(EpochFinished m, string? trainerId, DateTime now)
    {
        if (_run is not { } run || m.JobId != JobId || m.Epoch != run.Epoch || trainerId is null || !run.Active.Contains(trainerId))
            return Stale(m, trainerId);
        run.Finished[trainerId] = m;
        return Advance(now);
    }

    /// <summary>Moves the epoch on when every remaining trainer has done what the current phase waits for.</summary>
    private Decision Advance(DateTime now)
    {
        var run = _run!;
        return run.Phase switch
        {
            Phase.Rounds when run.Averager.Reported > 0 && run.Active.All(run.Averager.IsComplete) => CloseRound(now),
            Phase.Finishing when run.Active.All(run.Finished.ContainsKey) => StartCheckpoint(now),
            Phase.Checkpoint when !run.Active.Contains(run.CheckpointWriter) => NextCheckpointWriter(now, $"checkpoint writer {run.CheckpointWriter} left"),
            _ => Decision.None,
        };
    }

    private Decision StartCheckpoint(DateTime now)
    {
        var run = _run!;
        var reports = run.Active.Where(run.Finished.ContainsKey).Select(t => run.Finished[t]).ToList();
        (run.MergedNames, run.MergedValues) = MergeMetrics(reports);
        run.MergedLoss = reports.Count == 0 ? run.LastLoss : reports.Average(r => r.Loss);
        run.Phase = Phase.Checkpoint;
        run.CheckpointAttempt = 0;
        run.CheckpointWriter = "";
        return NextCheckpointWriter(now, null);
    }

    private Decision NextCheckpointWriter(DateTime now, string? why)
    {
        var run = _run!;
        var tried = run.CheckpointAttempt;
        var writer = run.Active.Skip(tried).FirstOrDefault();
        var warnings = why is null ? new List<string>() : [why];
        if (writer is null)
        {
            var reason = $"no trainer wrote the checkpoint of epoch {run.Epoch} ({tried} asked)";
            return new Decision(null, [new JobFailed(JobId, reason)], Halt(JobState.Failed, reason), [.. warnings, reason]);
        }
        run.CheckpointWriter = writer;
        run.CheckpointAttempt = tried + 1;
        var dir = Path.Combine(Config!.CheckpointDir, JobId, $"epoch-{run.Epoch:D4}");
        return new Decision(null, [], [new Outgoing(writer, new WriteCheckpoint(JobId, run.Epoch, dir, run.MergedNames, run.MergedValues))], warnings);
    }

    private Decision Checkpointed(CheckpointWritten m, string? trainerId, DateTime now)
    {
        if (_run is not { Phase: Phase.Checkpoint } run || m.JobId != JobId || m.Epoch != run.Epoch) return Stale(m, trainerId);
        var names = m.MetricNames.Length > 0 ? m.MetricNames : run.MergedNames;
        var values = m.MetricNames.Length > 0 ? m.MetricValues : run.MergedValues;
        var events = new List<ITrainingEvent>
        {
            new CheckpointRecorded(JobId, run.Epoch, m.Path, m.Sha256, names, values),
            new EpochCompleted(JobId, run.Epoch, run.MergedLoss, run.MergedNames, run.MergedValues),
        };
        _epochSeconds.Add((now - run.StartedAt).TotalSeconds);
        var sends = new List<Outgoing>();
        if (run.Epoch + 1 >= Config!.Epochs)
        {
            events.Add(new JobFinished(JobId));
            sends.AddRange(Halt(JobState.Finished, "all epochs done"));
        }
        _run = null;
        return new Decision(null, events, sends, []);
    }

    private Decision TimedOut(string key, DateTime now)
    {
        var (current, kind) = Wait;
        if (key != current || _run is not { } run) return Decision.None;
        var settingsFree = kind switch
        {
            WaitKind.FirstParameters => FailRun($"no trainer sent the parameters of round {run.CurrentRound} of epoch {run.Epoch} in time"),
            WaitKind.RoundStragglers => DropStragglers(now),
            WaitKind.EpochFinish => DropUnfinished(now),
            WaitKind.Checkpoint => NextCheckpointWriter(now, $"trainer {run.CheckpointWriter} did not write the checkpoint of epoch {run.Epoch} in time"),
            _ => Decision.None,
        };
        return settingsFree;
    }

    private Decision DropStragglers(DateTime now)
    {
        var run = _run!;
        var late = run.Active.Where(t => !run.Averager.IsComplete(t)).ToArray();
        run.Averager.Drop(late);
        var d = CloseRound(now);
        // Late trainers stay in the epoch: they receive the average like the rest and rejoin the next round.
        return d with { Warnings = [$"round {d.Events.OfType<ParametersAveraged>().First().Round} of epoch {run.Epoch} closed without {string.Join(", ", late)} (no parameters within the round timeout)", .. d.Warnings] };
    }

    private Decision DropUnfinished(DateTime now)
    {
        var run = _run!;
        var late = run.Active.Where(t => !run.Finished.ContainsKey(t)).ToArray();
        if (late.Length == run.Active.Count) return FailRun($"no trainer finished epoch {run.Epoch} in time");
        var d = StartCheckpoint(now);
        return d with { Warnings = [$"epoch {run.Epoch} finishes without the metrics of {string.Join(", ", late)} (no EpochFinished within the round timeout)", .. d.Warnings] };
    }

    private Decision FailRun(string reason) => new(null, [new JobFailed(JobId, reason)], Halt(JobState.Failed, reason), [reason]);

    private Decision Stale(IGraphActorsMessage m, string? trainerId) =>
        new(null, [], [], [$"ignored {m.GetType().Name} from {trainerId ?? "an unregistered sender"}: not part of the epoch in flight of job '{JobId}' ({State})"]);

    private List<Outgoing> Halt(JobState state, string reason)
    {
        var sends = _trainers.Keys.Select(t => new Outgoing(t, new TrainingHalted(JobId, state, reason))).ToList();
        _run = null;
        return sends;
    }

    /// <summary>Mean of each metric over the trainers that reported it, names in first-seen order.</summary>
    public static (string[] Names, float[] Values) MergeMetrics(IReadOnlyList<EpochFinished> reports)
    {
        var sums = new Dictionary<string, (double Sum, int N)>();
        var order = new List<string>();
        foreach (var r in reports)
            for (var i = 0; i < r.MetricNames.Length; i++)
            {
                if (!sums.TryGetValue(r.MetricNames[i], out var s)) order.Add(r.MetricNames[i]);
                sums[r.MetricNames[i]] = (s.Sum + r.MetricValues[i], s.N + 1);
            }
        return (order.ToArray(), order.Select(n => (float)(sums[n].Sum / sums[n].N)).ToArray());
    }

    // ==== events ====

    public void Apply(ITrainingEvent e)
    {
        switch (e)
        {
            case JobStarted m:
                JobId = m.JobId; Config = m.Config; State = JobState.Running; Epoch = -1; LastCompletedEpoch = -1; Round = -1;
                LastLoss = float.NaN; MetricNames = []; MetricValues = []; BestMetric = float.NaN; BestEpoch = -1;
                LastCheckpointPath = ""; LastCheckpointSha256 = ""; Reason = ""; _run = null; _epochSeconds.Clear();
                CompletedSteps = 0; PlannedSteps = 0;
                break;
            case EpochPlanned m: Epoch = m.Epoch; Round = -1; PlannedSteps = m.Steps; break;
            case ParametersAveraged m: Round = m.Round; break;
            case CheckpointRecorded m: LastCheckpointPath = m.Path; LastCheckpointSha256 = m.Sha256; break;
            case EpochCompleted m:
                if (m.Epoch == Epoch && m.Epoch > LastCompletedEpoch) CompletedSteps += PlannedSteps;
                LastCompletedEpoch = m.Epoch; LastLoss = m.Loss; MetricNames = m.MetricNames; MetricValues = m.MetricValues;
                var i = Array.IndexOf(m.MetricNames, Config?.EvalMetric);
                if (i >= 0 && (float.IsNaN(BestMetric) || m.MetricValues[i] > BestMetric)) { BestMetric = m.MetricValues[i]; BestEpoch = m.Epoch; }
                break;
            case JobFinished: State = JobState.Finished; _run = null; break;
            case JobFailed m: State = JobState.Failed; Reason = m.Reason; _run = null; break;
            case JobStopped: State = JobState.Stopped; Reason = "stopped by request"; _run = null; break;
            case JobResumed: State = JobState.Running; Reason = ""; _run = null; break;
        }
    }

    /// <summary>After recovery: the unfinished epoch, if any, is forgotten; the job plans <see cref="NextEpoch"/> from the last checkpoint.</summary>
    public void Recovered()
    {
        _run = null;
        if (State == JobState.Running) { Epoch = LastCompletedEpoch; Round = -1; }
    }

    public CoordinatorSnapshot ToSnapshot() => new(JobId, Config, State, Epoch, LastCompletedEpoch, Round, LastLoss, MetricNames, MetricValues,
        BestMetric, BestEpoch, LastCheckpointPath, LastCheckpointSha256, Reason, CompletedSteps, PlannedSteps);

    public void Restore(CoordinatorSnapshot s)
    {
        JobId = s.JobId; Config = s.Config; State = s.State; Epoch = s.Epoch; LastCompletedEpoch = s.LastCompletedEpoch; Round = s.Round;
        LastLoss = s.LastLoss; MetricNames = s.MetricNames; MetricValues = s.MetricValues; BestMetric = s.BestMetric; BestEpoch = s.BestEpoch;
        LastCheckpointPath = s.LastCheckpointPath; LastCheckpointSha256 = s.LastCheckpointSha256; Reason = s.Reason; _run = null;
        CompletedSteps = s.CompletedSteps; PlannedSteps = s.PlannedSteps;
    }

    public JobStatus Status(string askedJob, DateTime now)
    {
        var step = _run is null ? 0L : _run.StepsDone.Values.DefaultIfEmpty(0).Max();
        double eta = -1;
        if (State == JobState.Running && Config is not null && _epochSeconds.Count > 0)
        {
            var perEpoch = _epochSeconds.Average();
            var inFlight = _run is null ? 0 : Math.Min(1.0, (now - _run.StartedAt).TotalSeconds / perEpoch);
            eta = Math.Max(0, (Config.Epochs - NextEpoch - inFlight) * perEpoch);
        }
        var reason = askedJob.Length > 0 && askedJob != JobId ? $"no job '{askedJob}': the coordinator holds '{JobId}'" : Reason;
        return new JobStatus(JobId, State, _run?.Epoch ?? Epoch, LastCompletedEpoch, _run?.CurrentRound ?? Round, step,
            _run?.LastLoss is { } l && !float.IsNaN(l) ? l : LastLoss, MetricNames, MetricValues, BestMetric, BestEpoch,
            LastCheckpointPath, LastCheckpointSha256, eta, _trainers.Keys.Order(StringComparer.Ordinal).ToArray(), reason, CompletedSteps + step);
    }

    private enum Phase { Rounds, Finishing, Checkpoint }

    private sealed class EpochRun(int epoch, int steps, int k, string[] trainers, DateTime startedAt)
    {
        public int Epoch { get; } = epoch;
        public int Steps { get; } = steps;
        public int K { get; } = k;
        public int Rounds { get; } = (steps + k - 1) / k;
        public DateTime StartedAt { get; } = startedAt;
        public List<string> Active { get; } = [.. trainers];
        public Phase Phase { get; set; } = Phase.Rounds;
        public int CurrentRound { get; set; }
        public ParameterAverager Averager { get; set; } = new();
        public Dictionary<string, int> StepsDone { get; } = new();
        public Dictionary<string, EpochFinished> Finished { get; } = new();
        public float LastLoss { get; set; } = float.NaN;
        public string CheckpointWriter { get; set; } = "";
        public int CheckpointAttempt { get; set; }
        public string[] MergedNames { get; set; } = [];
        public float[] MergedValues { get; set; } = [];
        public float MergedLoss { get; set; } = float.NaN;
    }
}
