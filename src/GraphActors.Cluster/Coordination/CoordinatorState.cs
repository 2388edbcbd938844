// The training coordinator's domain logic, without Akka: ProcessCommand decides (reply, events, sends), Apply folds an event.
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Sampling;
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

// Commands the actor makes up itself (timers, deaths, membership); never sent over the wire.
/// <summary>A trainer is gone: its actor terminated, or membership says its node is unreachable or removed (<paramref name="Why"/>).</summary>
public sealed record TrainerLeft(string TrainerId, string Why = "its actor terminated");
public sealed record WaitTimedOut(string Key);
public sealed record PlanEpoch(SeedSet Seeds);
public sealed record FailJob(string Reason);

/// <summary>What the coordinator is waiting for now, and for how long (the actor keeps one timer for it).</summary>
public enum WaitKind { None, FirstParameters, RoundStragglers, EpochFinish, Checkpoint }

/// <summary>
/// The job (durable: rebuilt from events and snapshots) plus the registered trainers and the epoch in flight (transient:
/// after a restart trainers register again and the unfinished epoch is planned afresh). Recovery rule: a job that was
/// running resumes at the epoch after its last COMPLETED one, from the last recorded checkpoint.
/// <para>
/// An epoch is local mode's epoch: the training seeds shuffled by (seed, epoch) and cut into global batches of
/// batch_size; global step s is local mode's batch s, sampled with local mode's rng seed for it. Each global batch is
/// split among the trainers (DistDGL's node_split, per step: even counts, a trainer's own partitions first), and the
/// trainers' contributions are averaged weighted by the seeds each trained. Trainers leave an epoch only when their
/// actor terminates or membership says their node is unreachable or removed (or a long safety bound passes, loudly);
/// then the steps from the first open round on are planned again among the others (a new attempt), so every seed is
/// trained exactly once per epoch and a slow trainer never changes the model.
/// </para>
/// </summary>
public sealed class CoordinatorState(AveragingMode averaging = AveragingMode.Star)
{
    /// <summary>How rounds are averaged: by the trainers over a ring (the coordinator checks and closes each round) or here.</summary>
    public AveragingMode Averaging { get; } = averaging;

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
    // Every completed epoch in order, rebuilt from the journal: a status carries it whole.
    private readonly List<EpochSummary> _history = [];
    // A status stays a small message whatever the job's length (a watcher polls far more often than epochs end).
    public const int StatusHistoryLimit = 256;
    public IReadOnlyList<EpochSummary> History => _history;
    public string LastCheckpointPath { get; private set; } = "";
    public string LastCheckpointSha256 { get; private set; } = "";
    public string Reason { get; private set; } = "";
    /// <summary>The planned steps of every completed epoch, summed: the job-wide step at which the next epoch starts.</summary>
    public long CompletedSteps { get; private set; }
    /// <summary>The steps (per trainer) of the epoch planned last.</summary>
    public int PlannedSteps { get; private set; }

    /// <summary>The training split's size (seeds per epoch), from the last plan.</summary>
    public long SeedsPerEpoch { get; private set; }
    /// <summary>Evaluation epochs that ended without metrics, and the last one's reason.</summary>
    public int FailedEvaluations { get; private set; }
    public string LastEvaluationError { get; private set; } = "";
    private readonly List<long> _seedsTrained = [];
    /// <summary>Seeds trained in each completed epoch (−1: journaled before they were counted).</summary>
    public IReadOnlyList<long> SeedsTrained => _seedsTrained;

    // ---- transient ----
    private readonly Dictionary<string, TrainerInfo> _trainers = new();
    private EpochRun? _run;
    private SeedSet? _seedSet;
    private readonly List<double> _epochSeconds = [];

    /// <summary>The trainers registered now, by id.</summary>
    public IReadOnlyDictionary<string, TrainerInfo> Trainers => _trainers;

    /// <summary>True while an epoch is planned and not yet completed.</summary>
    public bool EpochInFlight => _run is not null;

    /// <summary>The trainers of the epoch in flight's current attempt (empty when none is in flight).</summary>
    public IReadOnlyList<string> EpochMembers => _run?.Members ?? (IReadOnlyList<string>)[];

    /// <summary>The attempt of the epoch in flight (0 as first planned; −1 when none is in flight).</summary>
    public int Attempt => _run?.Attempt ?? -1;

    /// <summary>The highest attempt journaled for <see cref="Epoch"/> (−1: none).</summary>
    public int LastAttempt { get; private set; } = -1;

    // The epoch that was running when this coordinator's predecessor stopped, and its last attempt (set on recovery).
    private int _interruptedEpoch = -1;
    private int _interruptedAttempt;

    /// <summary>The epoch to plan next: the one after the last completed (an unfinished epoch is redone).</summary>
    public int NextEpoch => LastCompletedEpoch + 1;

    /// <summary>Running, no epoch in flight, enough trainers: time to plan.</summary>
    public bool ReadyToPlan(int minTrainers) => State == JobState.Running && _run is null && _trainers.Count >= Math.Max(1, minTrainers);

    /// <summary>The current wait (a key that changes whenever the wait does) and its kind.</summary>
    public (string Key, WaitKind Kind) Wait => _run switch
    {
        null => ("", WaitKind.None),
        { Phase: Phase.Checkpoint } r => ($"checkpoint {r.Epoch} by {r.CheckpointWriter} #{r.CheckpointAttempt}", WaitKind.Checkpoint),
        { Phase: Phase.Finishing } r => ($"finish {r.Epoch}/{r.Attempt} eval {r.Evaluator} #{r.EvaluationErrors.Count}", WaitKind.EpochFinish),
        { Reported: 0 } r => ($"round {r.Epoch}/{r.Attempt}/{r.CurrentRound} start", WaitKind.FirstParameters),
        var r => ($"round {r.Epoch}/{r.Attempt}/{r.CurrentRound}", WaitKind.RoundStragglers),
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
        TrainerLeft m => Leave(m.TrainerId, m.Why, now),
        PlanEpoch m => Plan(m.Seeds, now),
        StepsReported m => Steps(m, trainerId),
        ParametersReady m => Parameters(m, trainerId, now),
        RoundContribution m => Contribution(m, trainerId),
        RoundReduced m => Reduced(m, trainerId, now),
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
        // A trainer joining mid-epoch waits for the next plan: it is not a member of the epoch in flight.
        return Decision.ReplyOnly(new TrainerRegistered(id, JobId));
    }

    private Decision Leave(string id, string why, DateTime now)
    {
        var registered = _trainers.Remove(id);
        if (_run is not { } run || !run.Members.Contains(id))
            return registered ? new Decision(null, [], [], [$"trainer {id} left ({why}): it is not in an epoch in flight"]) : Decision.None;
        return Drop(run, [id], why, now);
    }

    /// <summary>
    /// Takes <paramref name="gone"/> out of the epoch in flight. While rounds run, the steps from the current round's
    /// first step on are planned again among the rest (the rounds closed so far stay: every member applied them);
    /// after the last round, only the evaluation or the checkpoint writer may need another trainer.
    /// </summary>
    private Decision Drop(EpochRun run, IReadOnlyList<string> gone, string why, DateTime now)
    {
        foreach (var t in gone) run.Members.Remove(t);
        var who = string.Join(", ", gone);
        if (run.Members.Count == 0)
        {
            var w = $"trainer(s) {who} left epoch {run.Epoch} ({why}) and no member is left: the epoch is planned again from its start when trainers register";
            _run = null;
            return new Decision(null, [], [], [w]);
        }
        switch (run.Phase)
        {
            case Phase.Rounds:
                return Replan(run, $"{who} left ({why})", now);
            case Phase.Finishing:
            {
                var d = Advance(now);
                return d with { Warnings = [$"trainer(s) {who} left after the last round of epoch {run.Epoch} ({why})", .. d.Warnings] };
            }
            default:
            {
                var d = Advance(now);
                return d with { Warnings = [$"trainer(s) {who} left while epoch {run.Epoch} is checkpointed ({why})", .. d.Warnings] };
            }
        }
    }

    private Decision Plan(SeedSet seeds, DateTime now)
    {
        if (State != JobState.Running || _run is not null || _trainers.Count == 0) return Decision.None;
        var c = Config!;
        var epoch = NextEpoch;
        if (epoch >= c.Epochs)
            return new Decision(null, [new JobFinished(JobId)], Halt(JobState.Finished, "all epochs done"), []);
        if (seeds.Seeds.Length == 0) return FailRun($"job '{JobId}' has no training seeds: nothing to train in epoch {epoch}");
        _seedSet = seeds;
        var members = _trainers.Keys.Order(StringComparer.Ordinal).ToList();
        // Local mode's epoch: the same shuffle and the same cut into batches (EpochPlan, as NodeBatchLoader/LinkBatchLoader).
        var order = EpochPlan.Shuffle(seeds.Seeds, c.Seed, epoch);
        var evaluate = epoch == c.Epochs - 1 || (c.EvalEvery > 0 && (epoch + 1) % c.EvalEvery == 0);
        var run = new EpochRun(epoch, order, c.BatchSize, Math.Max(1, c.AveragingPeriod), members, evaluate, now, Averaging == AveragingMode.Ring)
        {
            // The epoch the coordinator was in when it moved is planned again above every attempt of the old plans: a
            // trainer's message of those plans still in flight (the singleton proxy buffers it) is then stale, not a
            // contribution of the wrong size.
            Attempt = epoch == _interruptedEpoch ? _interruptedAttempt + 1 : 0,
        };
        // The replicas are identical at the end of an epoch (its last round is averaged), so one evaluation is the
        // epoch's: the first member evaluates, another if it leaves or its evaluation fails.
        run.Evaluator = evaluate ? members[0] : "";
        if (evaluate) run.Evaluators.Add(members[0]);
        SplitSteps(run, 0);
        _run = run;
        var shares = members.Select((_, m) => (int)run.SeedsOf(m, 0)).ToArray();
        return new Decision(null, [new EpochPlanned(JobId, epoch, [.. members], shares, run.Steps, order.Length, run.Attempt)], Assignments(run), []);
    }

    /// <summary>Splits every global step from <paramref name="fromStep"/> on among the run's members and sets the current round's expectations.</summary>
    private void SplitSteps(EpochRun run, int fromStep)
    {
        var seeds = _seedSet!;
        var local = run.Members.Select(t => _trainers.TryGetValue(t, out var info) ? info.LocalPartitions : []).ToArray();
        run.FromStep = fromStep;
        for (var s = fromStep; s < run.Steps; s++)
        {
            var (start, count) = run.StepRange(s);
            var range = run.Order.AsSpan(start, count);
            var shares = SeedSplit.Split(range.ToArray(), seeds.OwnerOf, local);
            var cuts = new int[shares.Length + 1];
            cuts[0] = start;
            for (var m = 0; m < shares.Length; m++)
            {
                shares[m].CopyTo(run.Order, cuts[m]);
                cuts[m + 1] = cuts[m] + shares[m].Length;
            }
            run.Cuts[s] = cuts;
        }
        run.Averager = new ParameterAverager();
        run.Expect();
    }

    /// <summary>Each member's pieces of the run from its FromStep on, in parts of at most MaxAssignmentInts seeds and pieces.</summary>
    private List<Outgoing> Assignments(EpochRun run)
    {
        var c = Config!;
        var sends = new List<Outgoing>();
        for (var m = 0; m < run.Members.Count; m++)
        {
            var steps = new List<int>();
            var counts = new List<int>();
            var seeds = new List<int>();
            for (var s = run.FromStep; s < run.Steps; s++)
            {
                var cuts = run.Cuts[s];
                var n = cuts[m + 1] - cuts[m];
                if (n == 0) continue;
                steps.Add(s);
                counts.Add(n);
                seeds.AddRange(run.Order.AsSpan(cuts[m], n));
            }
            var parts = Math.Max(1, Math.Max((seeds.Count + MaxAssignmentInts - 1) / MaxAssignmentInts, (steps.Count + MaxAssignmentInts - 1) / MaxAssignmentInts));
            for (var p = 0; p < parts; p++)
                sends.Add(new Outgoing(run.Members[m], new EpochAssignment(JobId, run.Epoch, run.Attempt, c, run.Steps, run.FromStep,
                    Slice(steps, p), Slice(counts, p), Slice(seeds, p), p, parts, run.Members[m] == run.Evaluator,
                    LastCheckpointPath, LastCheckpointSha256, run.Ring ? [.. run.Members] : null, run.Order.Length)));
        }
        return sends;
    }

    private static int[] Slice(List<int> list, int part)
    {
        var start = part * MaxAssignmentInts;
        return start >= list.Count ? [] : list.GetRange(start, Math.Min(MaxAssignmentInts, list.Count - start)).ToArray();
    }

    private Decision Replan(EpochRun run, string why, DateTime now)
    {
        run.Attempt++;
        if (run.Evaluate && !run.Members.Contains(run.Evaluator))
        {
            run.Evaluator = run.Members[0];
            run.Evaluators.Add(run.Evaluator);
        }
        SplitSteps(run, run.CurrentRound * run.K);
        run.StepsDone.Clear();
        var reason = $"epoch {run.Epoch}: {why}; global steps {run.FromStep}..{run.Steps - 1} planned again over {run.Members.Count} trainer(s) (attempt {run.Attempt})";
        return new Decision(null, [new EpochReplanned(JobId, run.Epoch, run.Attempt, run.FromStep, [.. run.Members], why)], Assignments(run), [reason]);
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
        if (_run is not { Phase: Phase.Rounds } run || m.JobId != JobId || m.Epoch != run.Epoch || trainerId is null || !run.Members.Contains(trainerId))
            return Stale(m, trainerId);
        if (m.Attempt != run.Attempt)
            return Decision.None; // a contribution of an attempt that was re-planned: its round restarts under the new one
        if (run.Ring)
            return FailRun($"trainer {trainerId} sent its parameters to the coordinator, but epoch {run.Epoch} averages over the ring (its node runs another version?)");
        if (m.Round != run.CurrentRound)
            return new Decision(null, [], [], [$"dropped parameters of round {m.Round} from {trainerId}: epoch {run.Epoch} is at round {run.CurrentRound}"]);
        if (!run.Expected.TryGetValue(trainerId, out var expected))
            return FailRun($"trainer {trainerId} sent a contribution to round {m.Round} of epoch {run.Epoch}, where the plan gives it no seeds");
        if (m.Seeds != expected.Seeds || m.SeedChecksum != expected.Checksum)
            return FailRun($"trainer {trainerId} trained {m.Seeds} seed(s) (checksum {m.SeedChecksum:x16}) in round {m.Round} of epoch {run.Epoch} " +
                $"(attempt {run.Attempt}); the plan gives it {expected.Seeds} (checksum {expected.Checksum:x16}): seeds would be lost or trained twice");
        var problem = run.Averager.Add(trainerId, m.ChunkIndex, m.ChunkCount, m.Seeds, m.Chunk);
        if (problem is not null) return new Decision(null, [], [], [$"rejected parameters from {trainerId}: {problem}"]);
        var stepsDone = Math.Min(run.Steps, (m.Round + 1) * run.K);
        if (run.StepsDone.GetValueOrDefault(trainerId) < stepsDone) run.StepsDone[trainerId] = stepsDone;
        return run.Expected.Keys.All(run.Averager.IsComplete) ? CloseRound(now) : Decision.None;
    }

    /// <summary>
    /// A ring member starts the round: its seeds are checked against the plan before any member can apply the average
    /// (a member with no seeds in the round says 0). A wrong count or checksum fails the job, as with the star.
    /// </summary>
    private Decision Contribution(RoundContribution m, string? trainerId)
    {
        if (RingMessageProblem(m.JobId, m.Epoch, m.Attempt, m.Round, trainerId, m) is { } stale) return stale;
        var run = _run!;
        var expected = run.Expected.GetValueOrDefault(trainerId!);
        if (m.Seeds != expected.Seeds || m.SeedChecksum != expected.Checksum)
            return FailRun($"trainer {trainerId} trained {m.Seeds} seed(s) (checksum {m.SeedChecksum:x16}) in round {m.Round} of epoch {run.Epoch} " +
                $"(attempt {run.Attempt}); the plan gives it {expected.Seeds} (checksum {expected.Checksum:x16}): seeds would be lost or trained twice");
        if (!run.Contributions.Add(trainerId!))
            return new Decision(null, [], [], [$"trainer {trainerId} started round {m.Round} of epoch {run.Epoch} twice: the second is ignored"]);
        var stepsDone = Math.Min(run.Steps, (m.Round + 1) * run.K);
        if (run.StepsDone.GetValueOrDefault(trainerId!) < stepsDone) run.StepsDone[trainerId!] = stepsDone;
        return Decision.None;
    }

    /// <summary>
    /// A ring member holds the round's average. The ring's seed total must be the plan's and every member's average
    /// the same bits; once every member holds it, the round closes and all apply it.
    /// </summary>
    private Decision Reduced(RoundReduced m, string? trainerId, DateTime now)
    {
        if (RingMessageProblem(m.JobId, m.Epoch, m.Attempt, m.Round, trainerId, m) is { } stale) return stale;
        var run = _run!;
        if (!run.Contributions.Contains(trainerId!))
            return FailRun($"trainer {trainerId} holds the average of round {m.Round} of epoch {run.Epoch} without having started the round");
        var planned = run.Expected.Values.Sum(e => (long)e.Seeds);
        if (m.RingSeeds != planned)
            return FailRun($"the ring of round {m.Round} of epoch {run.Epoch} (attempt {run.Attempt}) summed {m.RingSeeds} seed(s) at {trainerId}; " +
                $"the plan has {planned}: seeds would be lost or trained twice");
        foreach (var (other, digest) in run.Reduced)
            if (digest != m.Digest)
                return FailRun($"trainers {other} and {trainerId} hold different averages of round {m.Round} of epoch {run.Epoch} " +
                    $"(digests {digest:x16} and {m.Digest:x16}): the replicas would diverge");
        run.Reduced[trainerId!] = m.Digest;
        return run.Members.All(run.Reduced.ContainsKey) ? CloseRound(now) : Decision.None;
    }

    /// <summary>Why a ring report does not count for the round in flight (null: it does).</summary>
    private Decision? RingMessageProblem(string jobId, int epoch, int attempt, int round, string? trainerId, IGraphActorsMessage m)
    {
        if (_run is not { Phase: Phase.Rounds } run || jobId != JobId || epoch != run.Epoch || trainerId is null || !run.Members.Contains(trainerId))
            return Stale(m, trainerId);
        if (attempt != run.Attempt) return Decision.None; // an attempt that was re-planned: its round restarts under the new one
        if (!run.Ring)
            return FailRun($"trainer {trainerId} averages round {round} over a ring, but epoch {run.Epoch} averages through the coordinator (its node runs another version?)");
        if (round != run.CurrentRound)
            return new Decision(null, [], [], [$"dropped {m.GetType().Name} of round {round} from {trainerId}: epoch {run.Epoch} is at round {run.CurrentRound}"]);
        return null;
    }

    private Decision CloseRound(DateTime now)
    {
        var run = _run!;
        var round = run.CurrentRound;
        var seeds = run.Expected.Values.Sum(e => e.Seeds);
        var sends = new List<Outgoing>();
        int contributors;
        if (run.Ring)
        {
            // The trainers hold the average: they apply it now, all of them or (a member left first) none.
            contributors = run.Expected.Count;
            foreach (var t in run.Members) sends.Add(new Outgoing(t, new RoundClosed(JobId, run.Epoch, run.Attempt, round, contributors, seeds)));
        }
        else
        {
            (var chunks, contributors) = run.Averager.Average();
            foreach (var t in run.Members)
                for (var i = 0; i < chunks.Length; i++)
                    sends.Add(new Outgoing(t, new AveragedParameters(JobId, run.Epoch, run.Attempt, round, i, chunks.Length, contributors, seeds, chunks[i])));
        }
        run.SeedsTrained += seeds;
        run.CurrentRound++;
        run.Averager = new ParameterAverager();
        if (run.CurrentRound >= run.Rounds) run.Phase = Phase.Finishing;
        else run.Expect();
        var d = new Decision(null, [new ParametersAveraged(JobId, run.Epoch, round, contributors, seeds)], sends, []);
        if (run.Phase != Phase.Finishing) return d;
        var next = Advance(now);
        return d with { Sends = [.. d.Sends, .. next.Sends], Events = [.. d.Events, .. next.Events], Warnings = next.Warnings };
    }

    private Decision Finished(EpochFinished m, string? trainerId, DateTime now)
    {
        if (_run is not { } run || m.JobId != JobId || m.Epoch != run.Epoch || trainerId is null || !run.Members.Contains(trainerId)
            || run.Phase == Phase.Rounds)
            return Stale(m, trainerId);
        run.Finished[trainerId] = m;
        var warnings = new List<string>();
        // An evaluation's answer carries metrics or an error; a member's plain end of epoch carries neither.
        var isEvaluation = m.MetricNames.Length > 0 || m.EvaluationError.Length > 0;
        if (run.Evaluate && !run.EvaluationSettled && trainerId == run.Evaluator && isEvaluation)
        {
            if (m.EvaluationError.Length == 0)
            {
                run.EvalNames = m.MetricNames;
                run.EvalValues = m.MetricValues;
                run.EvaluationSettled = true;
            }
            else
            {
                warnings.Add($"the evaluation of epoch {run.Epoch} by {trainerId} failed: {m.EvaluationError}");
                run.EvaluationErrors.Add($"{trainerId}: {m.EvaluationError}");
                run.NeedEvaluator = true;
            }
        }
        var d = Advance(now);
        return d with { Warnings = [.. warnings, .. d.Warnings] };
    }

    /// <summary>Moves the epoch on when every remaining member has done what the current phase waits for.</summary>
    private Decision Advance(DateTime now)
    {
        var run = _run!;
        switch (run.Phase)
        {
            case Phase.Rounds:
                return run.Ring
                    ? run.Members.Count > 0 && run.Members.All(run.Reduced.ContainsKey) ? CloseRound(now) : Decision.None
                    : run.Averager.Reported > 0 && run.Expected.Keys.All(run.Averager.IsComplete) ? CloseRound(now) : Decision.None;
            case Phase.Finishing:
            {
                if (run.Evaluate && !run.EvaluationSettled && (run.NeedEvaluator || !run.Members.Contains(run.Evaluator)))
                {
                    // The evaluator left, or its evaluation failed: the next member that has not tried evaluates (a
                    // second failure is the data's, not a trainer's: the epoch then ends without metrics, said so).
                    var next = run.EvaluationErrors.Count < 2 ? run.Members.FirstOrDefault(t => !run.Evaluators.Contains(t)) : null;
                    run.NeedEvaluator = false;
                    if (next is null) run.EvaluationSettled = true;
                    else
                    {
                        run.Evaluator = next;
                        run.Evaluators.Add(next);
                        return new Decision(null, [], [new Outgoing(next, new EvaluateEpoch(JobId, run.Epoch))], [$"epoch {run.Epoch} is evaluated by {next} instead"]);
                    }
                }
                if (!run.Members.All(run.Finished.ContainsKey) || (run.Evaluate && !run.EvaluationSettled)) return Decision.None;
                return StartCheckpoint(now);
            }
            default:
                return !run.Members.Contains(run.CheckpointWriter) ? NextCheckpointWriter(now, $"checkpoint writer {run.CheckpointWriter} left") : Decision.None;
        }
    }

    private Decision StartCheckpoint(DateTime now)
    {
        var run = _run!;
        var reports = run.Members.Where(run.Finished.ContainsKey).Select(t => run.Finished[t]).ToList();
        if (DivergedReplicas(run) is { } diverged)
            return new Decision(null, [new JobFailed(JobId, diverged)], Halt(JobState.Failed, diverged), [diverged]);
        (run.MergedNames, run.MergedValues) = (run.EvalNames, run.EvalValues);
        run.MergedLoss = reports.Count == 0 ? run.LastLoss : reports.Average(r => r.Loss);
        run.Phase = Phase.Checkpoint;
        run.CheckpointAttempt = 0;
        run.CheckpointWriter = "";
        var events = new List<ITrainingEvent>();
        var warnings = new List<string>();
        if (run.Evaluate && run.EvalNames.Length == 0)
        {
            var reason = run.EvaluationErrors.Count > 0
                ? $"the evaluation of epoch {run.Epoch} failed: {string.Join("; ", run.EvaluationErrors)}"
                : $"no trainer evaluated epoch {run.Epoch}";
            run.Note = reason;
            events.Add(new EvaluationFailed(JobId, run.Epoch, reason));
            warnings.Add(reason);
        }
        else if (!run.Evaluate)
            run.Note = $"epoch {run.Epoch} is not an evaluation epoch (eval_every = {Config!.EvalEvery})";
        var d = NextCheckpointWriter(now, null);
        return d with { Events = [.. events, .. d.Events], Warnings = [.. warnings, .. d.Warnings] };
    }

    /// <summary>
    /// Why the members' replicas differ after the epoch's last round, or null when they agree. Replicas start from one
    /// seed and every one applies the same averages, so they hold the same parameters bit for bit; a difference means a
    /// replica built or restored differently, or an average one of them missed, and training on would average
    /// unrelated models. Trainers that sent no hash (an older version) are left out of the comparison.
    /// </summary>
    private string? DivergedReplicas(EpochRun run)
    {
        var hashes = run.Members.Where(run.Finished.ContainsKey)
            .Select(t => (Trainer: t, Hash: run.Finished[t].ParametersSha256)).Where(h => h.Hash.Length > 0).ToList();
        if (hashes.Select(h => h.Hash).Distinct(StringComparer.Ordinal).Count() <= 1) return null;
        return $"the trainers' replicas hold different parameters after epoch {run.Epoch} " +
            $"({string.Join(", ", hashes.Select(h => $"{h.Trainer}: sha256 {h.Hash[..12]}…"))}): each starts from the job's seed and applies " +
            "the same averages, so one was built or restored differently or missed an average; the job stops rather than average unrelated models.";
    }

    private Decision NextCheckpointWriter(DateTime now, string? why)
    {
        var run = _run!;
        var tried = run.CheckpointAttempt;
        var writer = run.Members.Skip(tried).FirstOrDefault();
        var warnings = why is null ? new List<string>() : [why];
        if (writer is null)
        {
            var reason = $"no trainer wrote the checkpoint of epoch {run.Epoch} ({tried} asked)";
            return new Decision(null, [new JobFailed(JobId, reason)], Halt(JobState.Failed, reason), [.. warnings, reason]);
        }
        run.CheckpointWriter = writer;
        run.CheckpointAttempt = tried + 1;
        var dir = Path.Combine(Config!.CheckpointDir, JobId, $"epoch-{run.Epoch:D4}");
        var (bestEpoch, bestMetric) = BestWith(run.Epoch, run.MergedNames, run.MergedValues);
        return new Decision(null, [],
            [new Outgoing(writer, new WriteCheckpoint(JobId, run.Epoch, dir, run.MergedNames, run.MergedValues, bestEpoch, bestMetric, run.Note))], warnings);
    }

    /// <summary>
    /// The job's early-stopping rule as local mode has it: training.patience lives in the job's text, not in the fields
    /// the coordinator plans with, so it is read from there once per job.
    /// </summary>
    private GraphActors.Training.TrainingConfig StopRule
    {
        get
        {
            if (_stopRuleJob != JobId || _stopRule is null)
            {
                _stopRule = new GraphActors.Training.TrainingConfig
                {
                    Epochs = Config!.Epochs, EvalEvery = Math.Max(1, Config.EvalEvery),
                    Patience = GraphActors.Cluster.Trainers.TrainingHocon.PatienceOf(Config),
                };
                _stopRuleJob = JobId;
            }
            return _stopRule;
        }
    }
    private GraphActors.Training.TrainingConfig? _stopRule;
    private string _stopRuleJob = "";

    /// <summary>Whether the job ends after <paramref name="run"/>'s epoch by training.patience, as local mode's would.</summary>
    private bool StopsEarlyAfter(EpochRun run) =>
        run.Evaluate && StopRule.StopsEarlyAfter(run.Epoch, BestWith(run.Epoch, run.MergedNames, run.MergedValues).Epoch);

    /// <summary>The job's best epoch and metric once <paramref name="epoch"/>'s metrics count (what the manifest records).</summary>
    private (int Epoch, float Metric) BestWith(int epoch, string[] names, float[] values)
    {
        var i = Array.IndexOf(names, Config?.EvalMetric);
        return i >= 0 && (float.IsNaN(BestMetric) || values[i] > BestMetric) ? (epoch, values[i]) : (BestEpoch, BestMetric);
    }

    private Decision Checkpointed(CheckpointWritten m, string? trainerId, DateTime now)
    {
        if (_run is not { Phase: Phase.Checkpoint } run || m.JobId != JobId || m.Epoch != run.Epoch) return Stale(m, trainerId);
        var names = m.MetricNames.Length > 0 ? m.MetricNames : run.MergedNames;
        var values = m.MetricNames.Length > 0 ? m.MetricValues : run.MergedValues;
        var planned = run.Order.LongLength;
        if (run.SeedsTrained != planned)
            return FailRun($"epoch {run.Epoch} closed its rounds with {run.SeedsTrained} of its {planned} training seeds trained");
        var events = new List<ITrainingEvent>
        {
            new CheckpointRecorded(JobId, run.Epoch, m.Path, m.Sha256, names, values),
            new EpochCompleted(JobId, run.Epoch, run.MergedLoss, run.MergedNames, run.MergedValues, run.SeedsTrained, planned),
        };
        _epochSeconds.Add((now - run.StartedAt).TotalSeconds);
        var sends = new List<Outgoing>();
        if (run.Epoch + 1 >= Config!.Epochs)
        {
            events.Add(new JobFinished(JobId));
            sends.AddRange(Halt(JobState.Finished, "all epochs done"));
        }
        else if (StopsEarlyAfter(run))
        {
            var (bestEpoch, _) = BestWith(run.Epoch, run.MergedNames, run.MergedValues);
            var reason = $"stopped early after epoch {run.Epoch}: {Config.EvalMetric} has not improved on epoch {bestEpoch}'s for {StopRule.Patience} epoch(s) (training.patience)";
            events.Add(new JobFinished(JobId, reason));
            sends.AddRange(Halt(JobState.Finished, reason));
        }
        _run = null;
        return new Decision(null, events, sends, []);
    }

    private Decision TimedOut(string key, DateTime now)
    {
        var (current, kind) = Wait;
        if (key != current || _run is not { } run) return Decision.None;
        return kind switch
        {
            WaitKind.FirstParameters => FailRun($"no trainer sent its contribution to round {run.CurrentRound} of epoch {run.Epoch} within the progress timeout"),
            WaitKind.RoundStragglers => DropStragglers(run, now),
            WaitKind.EpochFinish => DropUnfinished(run, now),
            WaitKind.Checkpoint => NextCheckpointWriter(now, $"trainer {run.CheckpointWriter} did not write the checkpoint of epoch {run.Epoch} in time"),
            _ => Decision.None,
        };
    }

    /// <summary>
    /// The safety bound (round-timeout, long by default): trainers whose node is still a member but who sent nothing
    /// for a whole round are dropped like a trainer that left, and their steps planned again among the rest. Membership
    /// (an unreachable or removed node) is the normal way out of a round; reaching this bound is logged as an error.
    /// </summary>
    private Decision DropStragglers(EpochRun run, DateTime now)
    {
        if (run.Ring)
        {
            // A ring waits for every member: first those that never started the round, else those that never held its average.
            var silent = run.Members.Where(t => !run.Contributions.Contains(t)).ToArray();
            var late = silent.Length > 0 ? silent : run.Members.Where(t => !run.Reduced.ContainsKey(t)).ToArray();
            if (late.Length == run.Members.Count)
                return FailRun($"the ring of round {run.CurrentRound} of epoch {run.Epoch} did not complete within the round timeout although every member started it");
            return Drop(run, late, silent.Length > 0
                ? $"SAFETY BOUND: did not start round {run.CurrentRound} within the round timeout although the node is still a member"
                : $"SAFETY BOUND: did not complete the ring of round {run.CurrentRound} within the round timeout although the node is still a member", now);
        }
        var lateStar = run.Expected.Keys.Where(t => !run.Averager.IsComplete(t)).ToArray();
        return Drop(run, lateStar, $"SAFETY BOUND: no contribution to round {run.CurrentRound} within the round timeout although the node is still a member", now);
    }

    private Decision DropUnfinished(EpochRun run, DateTime now)
    {
        var late = run.Members.Where(t => !run.Finished.ContainsKey(t)).ToArray();
        if (late.Length == run.Members.Count && !(run.Evaluate && !run.EvaluationSettled)) return FailRun($"no trainer finished epoch {run.Epoch} in time");
        if (run.Evaluate && !run.EvaluationSettled)
        {
            // A late evaluation is a failed one: named in the status, never a silent epoch without metrics.
            run.EvaluationErrors.Add($"{run.Evaluator}: did not report its evaluation within the round timeout");
            run.NeedEvaluator = true;
        }
        foreach (var t in late) run.Members.Remove(t);
        if (run.Members.Count == 0) return FailRun($"no trainer finished epoch {run.Epoch} in time");
        var d = Advance(now);
        return d with { Warnings = [$"epoch {run.Epoch} goes on without {string.Join(", ", late)} (no EpochFinished within the round timeout)", .. d.Warnings] };
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

    // ==== events ====

    public void Apply(ITrainingEvent e)
    {
        switch (e)
        {
            case JobStarted m:
                JobId = m.JobId; Config = m.Config; State = JobState.Running; Epoch = -1; LastCompletedEpoch = -1; Round = -1;
                LastLoss = float.NaN; MetricNames = []; MetricValues = []; BestMetric = float.NaN; BestEpoch = -1;
                LastCheckpointPath = ""; LastCheckpointSha256 = ""; Reason = ""; _run = null; _epochSeconds.Clear(); LastAttempt = -1;
                CompletedSteps = 0; PlannedSteps = 0; SeedsPerEpoch = 0; _seedsTrained.Clear(); FailedEvaluations = 0; LastEvaluationError = "";
                _history.Clear();
                break;
            case EpochPlanned m:
                Epoch = m.Epoch; Round = -1; PlannedSteps = m.Steps; LastAttempt = m.Attempt;
                if (m.TrainingSeeds >= 0) SeedsPerEpoch = m.TrainingSeeds;
                break;
            case EpochReplanned m: if (m.Epoch == Epoch) LastAttempt = Math.Max(LastAttempt, m.Attempt); break;
            case ParametersAveraged m: Round = m.Round; break;
            case EvaluationFailed m: FailedEvaluations++; LastEvaluationError = m.Reason; break;
            case CheckpointRecorded m: LastCheckpointPath = m.Path; LastCheckpointSha256 = m.Sha256; break;
            case EpochCompleted m:
                if (m.Epoch == Epoch && m.Epoch > LastCompletedEpoch) CompletedSteps += PlannedSteps;
                LastCompletedEpoch = m.Epoch; LastLoss = m.Loss; MetricNames = m.MetricNames; MetricValues = m.MetricValues;
                while (_seedsTrained.Count <= m.Epoch) _seedsTrained.Add(-1);
                _seedsTrained[m.Epoch] = m.SeedsTrained;
                // An epoch redone after a resume replaces what it redoes.
                _history.RemoveAll(h => h.Epoch >= m.Epoch);
                _history.Add(new EpochSummary(m.Epoch, m.Loss, m.MetricNames, m.MetricValues));
                if (m.SeedsPlanned >= 0) SeedsPerEpoch = m.SeedsPlanned;
                var i = Array.IndexOf(m.MetricNames, Config?.EvalMetric);
                if (i >= 0 && (float.IsNaN(BestMetric) || m.MetricValues[i] > BestMetric)) { BestMetric = m.MetricValues[i]; BestEpoch = m.Epoch; }
                break;
            case JobFinished m: State = JobState.Finished; Reason = m.Reason; _run = null; break;
            case JobFailed m: State = JobState.Failed; Reason = m.Reason; _run = null; break;
            case JobStopped: State = JobState.Stopped; Reason = "stopped by request"; _run = null; break;
            case JobResumed: State = JobState.Running; Reason = ""; _run = null; break;
        }
    }

    /// <summary>After recovery: the unfinished epoch, if any, is forgotten; the job plans <see cref="NextEpoch"/> from the last checkpoint.</summary>
    public void Recovered()
    {
        _run = null;
        if (State == JobState.Running)
        {
            if (Epoch > LastCompletedEpoch) (_interruptedEpoch, _interruptedAttempt) = (Epoch, Math.Max(0, LastAttempt));
            Epoch = LastCompletedEpoch;
            Round = -1;
        }
    }

    public CoordinatorSnapshot ToSnapshot() => new(JobId, Config, State, Epoch, LastCompletedEpoch, Round, LastLoss, MetricNames, MetricValues,
        BestMetric, BestEpoch, LastCheckpointPath, LastCheckpointSha256, Reason, CompletedSteps, PlannedSteps, SeedsPerEpoch, [.. _seedsTrained],
        FailedEvaluations, LastEvaluationError, _history.Count == 0 ? null : [.. _history], LastAttempt);

    public void Restore(CoordinatorSnapshot s)
    {
        JobId = s.JobId; Config = s.Config; State = s.State; Epoch = s.Epoch; LastCompletedEpoch = s.LastCompletedEpoch; Round = s.Round;
        LastLoss = s.LastLoss; MetricNames = s.MetricNames; MetricValues = s.MetricValues; BestMetric = s.BestMetric; BestEpoch = s.BestEpoch;
        LastCheckpointPath = s.LastCheckpointPath; LastCheckpointSha256 = s.LastCheckpointSha256; Reason = s.Reason; _run = null;
        CompletedSteps = s.CompletedSteps; PlannedSteps = s.PlannedSteps; SeedsPerEpoch = s.SeedsPerEpoch;
        _seedsTrained.Clear();
        _seedsTrained.AddRange(s.SeedsTrained ?? []);
        FailedEvaluations = s.FailedEvaluations; LastEvaluationError = s.EvaluationError;
        _history.Clear();
        _history.AddRange(s.History ?? []);
        LastAttempt = s.LastAttempt;
    }

    public JobStatus Status(string askedJob, DateTime now)
    {
        var step = _run is null ? 0L : _run.StepsDone.Values.DefaultIfEmpty(_run.FromStep).Max();
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
            LastCheckpointPath, LastCheckpointSha256, eta, _trainers.Keys.Order(StringComparer.Ordinal).ToArray(), reason, CompletedSteps + step,
            _run?.Order.LongLength ?? SeedsPerEpoch, [.. _seedsTrained], FailedEvaluations, LastEvaluationError, _run?.Attempt ?? 0,
            StatusHistory());
    }

    /// <summary>The epochs a status carries: a long job's newest <see cref="StatusHistoryLimit"/>, the best before them when older.</summary>
    private EpochSummary[]? StatusHistory()
    {
        if (_history.Count == 0) return null;
        if (_history.Count <= StatusHistoryLimit) return [.. _history];
        var tail = _history.GetRange(_history.Count - StatusHistoryLimit, StatusHistoryLimit);
        var best = BestEpoch >= 0 && BestEpoch < tail[0].Epoch ? _history.Find(h => h.Epoch == BestEpoch) : null;
        return best is null ? [.. tail] : [best, .. tail];
    }

    private enum Phase { Rounds, Finishing, Checkpoint }

    /// <summary>The epoch in flight: its global batches, how they are split among the members, and the round being averaged.</summary>
    private sealed class EpochRun(int epoch, int[] order, int batchSize, int k, List<string> members, bool evaluate, DateTime startedAt, bool ring)
    {
        /// <summary>Averaged by the trainers over a ring (the members in order); otherwise by the coordinator.</summary>
        public bool Ring { get; } = ring;
        /// <summary>Ring: the members that started the current round (their seeds checked).</summary>
        public HashSet<string> Contributions { get; } = [];
        /// <summary>Ring: the members that hold the current round's average, with its digest.</summary>
        public Dictionary<string, long> Reduced { get; } = new();
        /// <summary>Members (ring) or contributors (star) heard from in the current round.</summary>
        public int Reported => Ring ? Contributions.Count : Averager.Reported;
        public int Epoch { get; } = epoch;
        public int Attempt { get; set; }
        /// <summary>The epoch's seeds in local mode's shuffled order; each global step's range is laid out member by member.</summary>
        public int[] Order { get; } = order;
        public int BatchSize { get; } = batchSize;
        /// <summary>Global steps: local mode's batches per epoch.</summary>
        public int Steps { get; } = (order.Length + batchSize - 1) / batchSize;
        public int K { get; } = k;
        public int Rounds => (Steps + K - 1) / K;
        public DateTime StartedAt { get; } = startedAt;
        public List<string> Members { get; } = members;
        /// <summary>Cuts[s][m]..Cuts[s][m+1]: member m's piece of global step s (positions in <see cref="Order"/>), from FromStep on.</summary>
        public int[][] Cuts { get; } = new int[(order.Length + batchSize - 1) / batchSize][];
        public int FromStep { get; set; }
        public Phase Phase { get; set; } = Phase.Rounds;
        public int CurrentRound { get; set; }
        public ParameterAverager Averager { get; set; } = new();
        /// <summary>The current round's contributors: members with seeds in it, their seed count and checksum.</summary>
        public Dictionary<string, (int Seeds, long Checksum)> Expected { get; } = new();
        public long SeedsTrained { get; set; }
        public Dictionary<string, int> StepsDone { get; } = new();
        public Dictionary<string, EpochFinished> Finished { get; } = new();
        public float LastLoss { get; set; } = float.NaN;
        public bool Evaluate { get; } = evaluate;
        public string Evaluator { get; set; } = "";
        public HashSet<string> Evaluators { get; } = [];
        public bool EvaluationSettled { get; set; }
        public bool NeedEvaluator { get; set; }
        public List<string> EvaluationErrors { get; } = [];
        public string[] EvalNames { get; set; } = [];
        public float[] EvalValues { get; set; } = [];
        public string Note { get; set; } = "";
        public string CheckpointWriter { get; set; } = "";
        public int CheckpointAttempt { get; set; }
        public string[] MergedNames { get; set; } = [];
        public float[] MergedValues { get; set; } = [];
        public float MergedLoss { get; set; } = float.NaN;

        public (int Start, int Count) StepRange(int step) => (step * BatchSize, Math.Min(BatchSize, Order.Length - step * BatchSize));

        /// <summary>Seeds of member <paramref name="m"/> from <paramref name="fromStep"/> on.</summary>
        public long SeedsOf(int m, int fromStep)
        {
            long n = 0;
            for (var s = fromStep; s < Steps; s++) n += Cuts[s][m + 1] - Cuts[s][m];
            return n;
        }

        /// <summary>Sets who contributes to the current round and what each must have trained.</summary>
        public void Expect()
        {
            Expected.Clear();
            Contributions.Clear();
            Reduced.Clear();
            var first = CurrentRound * K;
            var last = Math.Min(Steps, first + K);
            for (var m = 0; m < Members.Count; m++)
            {
                int seeds = 0;
                long checksum = 0;
                for (var s = first; s < last; s++)
                {
                    var n = Cuts[s][m + 1] - Cuts[s][m];
                    seeds += n;
                    checksum += SeedChecksum(Order.AsSpan(Cuts[s][m], n));
                }
                if (seeds > 0) Expected[Members[m]] = (seeds, checksum);
            }
        }
    }
}
