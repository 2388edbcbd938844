// The trainer role: a model replica trained on its node's sampler stream, its parameters averaged through the coordinator.
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Sampling;
using GraphActors.Training;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;
using TrainingConfig = GraphActors.Training.TrainingConfig;

namespace GraphActors.Cluster.Trainers;

/// <summary>
/// Owns one model replica and its optimizer — local mode's <see cref="Trainer"/>, unchanged — and trains it on the
/// mini-batches its node's <see cref="SamplerActor"/> streams for this trainer's share of each epoch:
/// <list type="number">
/// <item>registers with the coordinator (and again every <c>register-interval</c>: a coordinator that moved learns it again);</item>
/// <item>on an <see cref="EpochAssignment"/> (all its parts) builds or restores the replica — from the job's seed for a
/// new job, from the assignment's checkpoint when its parameters are not already the last average — and asks the
/// sampler for the share's stream, run into this actor through an ack-based sink;</item>
/// <item>with K = 1 (synchronous data-parallel, as DistDGL's DDP) it runs forward and backward on each batch, sends
/// the gradients and, once the coordinator's average is back, every replica applies the same averaged gradient — the
/// replicas stay identical and an epoch equals one process stepping on the whole batch; with K &gt; 1 (local SGD) it
/// takes K optimizer steps, then sends its parameters and adopts their average. Either way the vector travels in
/// chunks and the sink's ack is held until the average is back — the stream waits, so averaging is backpressure
/// too; a share shorter than the epoch's steps is streamed again (a new pass, reshuffled);</item>
/// <item>after the last round it evaluates (when asked) and reports <see cref="EpochFinished"/>; it writes the
/// checkpoint when the coordinator asks.</item>
/// </list>
/// Runs on the pinned <c>graphactors.trainer.dispatcher</c>: torch keeps per-thread state, and a step blocks its thread.
/// </summary>
public sealed class TrainerActor : ReceiveActor, IWithTimers
{
    private sealed record RegisterNow;
    private sealed record SampleTimedOut(long RequestId);

    /// <summary>The epoch in flight: its share, the stream pass feeding it, and where the rounds are.</summary>
    private sealed class EpochWork(EpochAssignment a, int[] seeds, TrainingConfig config)
    {
        public string JobId { get; } = a.JobId;
        /// <summary>The local-mode config the replica was built from (batch size, fanouts, reverse edges of the stream).</summary>
        public TrainingConfig Config { get; } = config;
        public int Epoch { get; } = a.Epoch;
        public int Steps { get; } = a.Steps;
        public int K { get; } = Math.Max(1, a.Config.AveragingPeriod);
        /// <summary>K = 1: gradients are averaged (synchronous data-parallel); otherwise parameters (local SGD).</summary>
        public bool AveragesGradients => K == 1;
        public bool Evaluate { get; } = a.Evaluate;
        public int[] Seeds { get; } = seeds;
        public int StepsDone { get; set; }
        public int Round { get; set; }
        public double RoundLoss { get; set; }
        public double RoundMetric { get; set; }
        public long RoundExamples { get; set; }
        public double EpochLoss { get; set; }
        public long EpochExamples { get; set; }
        public long RequestId { get; set; }
        public int Pass { get; set; } = -1;
        public int FailedPasses { get; set; }
        /// <summary>The sink waiting for the ack of the batch that closed a round.</summary>
        public IActorRef? HeldAck { get; set; }
        public float[]? Average { get; set; }
        public bool[]? AverageChunks { get; set; }
        public bool Averaging => Average is not null;
    }

    private static readonly object InitLock = new();
    private readonly TrainerSettings _settings;
    private readonly IGraphStore _store;
    private readonly IActorRef _sampler;
    private readonly IActorRef _coordinator;
    private readonly Func<int[]> _localPartitions;
    private readonly string _nodeAddress;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<(string JobId, int Epoch), int[]?[]> _parts = new();
    private IMaterializer _materializer = null!;
    private Trainer? _trainer;
    private string _jobId = "";
    private int _completedEpoch = -1;
    private EpochWork? _work;
    private long _nextRequestId;
    private string[] _lastMetricNames = [];
    private float[] _lastMetricValues = [];
    private string _registeredFor = "\0";

    public TrainerActor(TrainerSettings settings, IGraphStore store, IActorRef sampler, IActorRef coordinator, Func<int[]> localPartitions,
        string nodeAddress)
    {
        _settings = settings;
        _store = store;
        _sampler = sampler;
        _coordinator = coordinator;
        _localPartitions = localPartitions;
        _nodeAddress = nodeAddress;
        // Distinct request ids across restarts of this actor: a stale stream of a previous incarnation is never taken for ours.
        _nextRequestId = DateTime.UtcNow.Ticks;

        Receive<RegisterNow>(_ => _coordinator.Tell(new RegisterTrainer(Self, _nodeAddress, SafeLocalPartitions())));
        Receive<TrainerRegistered>(m =>
        {
            if (m.JobId == _registeredFor) return;
            _registeredFor = m.JobId;
            _log.Info("Trainer {0} registered with the coordinator (job '{1}')", Self.Path, m.JobId);
        });
        Receive<EpochAssignment>(OnAssignment);
        Receive<EpochStreamReady>(OnStreamReady);
        Receive<EpochRejected>(m =>
        {
            if (_work is { } w && m.RequestId == w.RequestId) Fail(w, $"the sampler refused epoch {m.Epoch}: {m.Problem}");
        });
        Receive<SampleTimedOut>(m =>
        {
            if (_work is not { } w || m.RequestId != w.RequestId) return;
            _log.Warning("The sampler did not offer pass {0} of epoch {1} within {2}: asking again", w.Pass, w.Epoch, _settings.SampleTimeout);
            RetryPass(w, $"the sampler did not offer the epoch's stream within {_settings.SampleTimeout.TotalSeconds:0}s");
        });
        Receive<StreamInit>(_ => Sender.Tell(StreamAck.Instance));
        Receive<MiniBatchData>(OnBatch);
        Receive<StreamCompleted>(m =>
        {
            if (_work is not { } w || m.RequestId != w.RequestId || w.StepsDone >= w.Steps) return;
            // The share ran out before the epoch's steps (shares differ by at most a batch): stream it again.
            StartPass(w);
        });
        Receive<StreamFailed>(m =>
        {
            if (_work is not { } w || m.RequestId != w.RequestId) return;
            _log.Warning("The stream of epoch {0} (pass {1}) failed after {2} step(s): {3}", w.Epoch, w.Pass, w.StepsDone, m.Problem);
            RetryPass(w, m.Problem);
        });
        Receive<AveragedParameters>(OnAveraged);
        Receive<WriteCheckpoint>(OnWriteCheckpoint);
        Receive<TrainingHalted>(m =>
        {
            if (m.JobId != _jobId) return;
            _log.Info("Job '{0}' {1} ({2}): trainer drops epoch {3}", m.JobId, m.State, m.Reason, _work?.Epoch.ToString() ?? "-");
            _work = null; // batches of its stream still arriving are acknowledged and dropped
            _parts.Clear();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TrainerSettings settings, IGraphStore store, IActorRef sampler, IActorRef coordinator, Func<int[]> localPartitions,
        string nodeAddress) =>
        Akka.Actor.Props.Create(() => new TrainerActor(settings, store, sampler, coordinator, localPartitions, nodeAddress))
            .WithDispatcher(TrainerSettings.DispatcherPath);

    protected override void PreStart()
    {
        _materializer = Context.Materializer();
        Timers.StartPeriodicTimer("register", new RegisterNow(), TimeSpan.Zero, _settings.RegisterInterval);
    }

    /// <summary>
    /// Anything a handler did not expect restarts the actor, and with it the replica: the coordinator hears why at once
    /// (and fails the job with it) instead of closing round after round without this trainer until its timeouts add up.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        if (_work is { } w)
        {
            _log.Error(reason, "Trainer fails epoch {0} of job '{1}' on an unexpected error", w.Epoch, w.JobId);
            _coordinator.Tell(new TrainerFailed(w.JobId, w.Epoch, $"the trainer on {_nodeAddress} stopped on an unexpected error: {FirstLine(reason.Message)}"));
            Release(w);
        }
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        _trainer?.Dispose();
        _trainer = null;
    }

    private int[] SafeLocalPartitions()
    {
        try { return _localPartitions(); }
        catch (Exception e)
        {
            _log.Warning("Trainer cannot tell which partitions its node hosts ({0}): its share is chosen without locality", e.Message);
            return [];
        }
    }

    // ---- assignment ----

    private void OnAssignment(EpochAssignment a)
    {
        if (a.Parts < 1 || a.Part < 0 || a.Part >= a.Parts)
        {
            _log.Error("Ignored part {0} of {1} of epoch {2}'s assignment: not a valid part", a.Part, a.Parts, a.Epoch);
            return;
        }
        var key = (a.JobId, a.Epoch);
        if (!_parts.TryGetValue(key, out var parts) || parts.Length != a.Parts) _parts[key] = parts = new int[a.Parts][];
        parts[a.Part] = a.SeedIds;
        if (parts.Any(p => p is null)) return;
        _parts.Clear(); // this epoch is complete; older partial ones are superseded
        var seeds = parts.Length == 1 ? parts[0]! : parts.SelectMany(p => p!).ToArray();

        if (_work is { } old)
            _log.Warning("Epoch {0} of job '{1}' is planned again or superseded by epoch {2}: dropping its {3} step(s)", old.Epoch, old.JobId, a.Epoch, old.StepsDone);
        _work = null;
        EpochWork work;
        try
        {
            work = new EpochWork(a, seeds, Prepare(a));
        }
        catch (Exception e)
        {
            var reason = e is ArgumentException or InvalidDataException or FileNotFoundException ? e.Message : e.ToString();
            _log.Error("Trainer cannot start epoch {0} of job '{1}': {2}", a.Epoch, a.JobId, reason);
            _coordinator.Tell(new TrainerFailed(a.JobId, a.Epoch, reason));
            return;
        }
        _work = work;
        // From its first step (or average) on, the replica is no longer the end of the last completed epoch: this epoch
        // planned again (the coordinator moved, the job resumed) starts over from the checkpoint, not from mid-epoch.
        _completedEpoch = -1;
        _log.Info("Trainer starts epoch {0} of job '{1}': {2} seed(s), {3} step(s), averaging every {4}", a.Epoch, a.JobId, seeds.Length, a.Steps, work.K);
        if (seeds.Length == 0)
        {
            // Nothing to sample (fewer seeds than trainers): take part in every round with unchanged parameters.
            _log.Warning("Trainer has an empty share of epoch {0}: it only takes part in the averaging", a.Epoch);
            work.StepsDone = Math.Min(work.Steps, work.K);
            SendRound(work, work.AveragesGradients ? new float[_trainer!.GetParameters().Length] : _trainer!.GetParameters());
            return;
        }
        StartPass(work);
    }

    /// <summary>The replica for the assignment's job, with the parameters the epoch starts from.</summary>
    private TrainingConfig Prepare(EpochAssignment a)
    {
        var config = TrainingHocon.FromJob(a.Config, a.JobId);
        if (config.TaskKind == TrainingTask.GraphClassification)
            throw new ArgumentException($"task '{config.Task}': the cluster's sampler streams node and link batches; graph classification trains on generated graph batches in local mode.");
        if (string.IsNullOrEmpty(config.Target))
            throw new ArgumentException($"job '{a.JobId}': training.target (the node type to classify, or the edge type to predict) is not set.");
        var continuing = _trainer is not null && _jobId == a.JobId && _completedEpoch == a.Epoch - 1;
        if (continuing) return config; // our parameters are the last average, the checkpoint's too
        var hasCheckpoint = !string.IsNullOrEmpty(a.StartParametersPath);
        if (_trainer is null || _jobId != a.JobId || !hasCheckpoint)
        {
            _trainer?.Dispose();
            _trainer = null;
            // Replicas start identical because each seeds torch's RNG before building its model; that RNG is process-wide,
            // so trainers sharing a process (tests, a local cluster) build one at a time.
            lock (InitLock) _trainer = Trainer.CreateAsync(_store, config).GetAwaiter().GetResult();
            _jobId = a.JobId;
            _completedEpoch = -1;
            _log.Info("Trainer built a {0} replica for job '{1}' ({2} parameters)", config.ModelType, a.JobId, _trainer.GetParameters().Length);
        }
        if (!hasCheckpoint) return config;
        var (manifest, directory) = Checkpoints.Read(a.StartParametersPath);
        var manifestFile = Path.Combine(directory, Checkpoints.ManifestName);
        if (!string.IsNullOrEmpty(a.StartParametersSha256))
        {
            var actual = Checkpoints.Sha256(manifestFile);
            if (!string.Equals(actual, a.StartParametersSha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException(
                    $"{manifestFile} has sha256 {actual}, the coordinator recorded {a.StartParametersSha256}: the checkpoint was overwritten or damaged.");
        }
        // Model and optimizer state both come from the checkpoint: every replica restarts from the same point.
        Checkpoints.LoadInto(_trainer, manifest, directory);
        _completedEpoch = a.Epoch - 1;
        _log.Info("Trainer restored epoch {0}'s parameters from {1}", manifest.Epoch, directory);
        return config;
    }

    // ---- the stream ----

    private void StartPass(EpochWork w)
    {
        w.Pass++;
        w.RequestId = ++_nextRequestId;
        var job = w.Config;
        LinkSampling? link = null;
        NodeType target;
        if (job.TaskKind == TrainingTask.LinkPrediction)
        {
            var edge = job.TargetEdgeType(_store.Schema);
            target = edge.Src;
            // The split's seed and fractions are the ones Trainer.CreateAsync used: the seeds are positions into its Train.
            link = new LinkSampling(edge, job.Negatives,
                job.NegativeStrategyKind == NegativeStrategy.InDegree ? NegativeMode.InDegree : NegativeMode.Random,
                job.ExclusionKind switch
                {
                    LinkExclusion.None => ExclusionMode.None,
                    LinkExclusion.Self => ExclusionMode.Self,
                    _ => ExclusionMode.SelfAndReverse,
                },
                job.ValFraction, job.TestFraction, (ulong)job.Seed);
        }
        else target = new NodeType(job.Target!);
        // A later pass reshuffles: the seed moves with the pass number.
        var seed = (ulong)job.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)w.Pass);
        var reverse = job.ReverseEdgesKind switch
        {
            ReverseEdges.AddReverse => ReverseEdgeMode.AddReverse,
            ReverseEdges.Bidirected => ReverseEdgeMode.Bidirected,
            _ => ReverseEdgeMode.None,
        };
        _sampler.Tell(new SampleEpoch(w.RequestId, w.Epoch, target, w.Seeds, job.BatchSize, job.Fanouts.ToArray(), _settings.Strategy,
            DropLast: false, seed, reverse, link));
        Timers.StartSingleTimer("sample", new SampleTimedOut(w.RequestId), _settings.SampleTimeout);
    }

    private void RetryPass(EpochWork w, string problem)
    {
        if (++w.FailedPasses > 1)
        {
            Fail(w, $"the mini-batch stream of epoch {w.Epoch} failed twice: {problem}");
            return;
        }
        w.Pass--; // the same pass again
        StartPass(w);
    }

    private void OnStreamReady(EpochStreamReady m)
    {
        if (_work is not { } w || m.RequestId != w.RequestId)
        {
            _log.Debug("Ignored the stream of request {0}: not the epoch in flight", m.RequestId);
            return;
        }
        Timers.Cancel("sample");
        m.Stream.RunInto(Self, m.RequestId, _materializer);
    }

    private void OnBatch(MiniBatchData d)
    {
        if (_work is not { } w || d.RequestId != w.RequestId || w.StepsDone >= w.Steps)
        {
            Sender.Tell(StreamAck.Instance); // a superseded or surplus batch: drained, not trained on
            return;
        }
        StepResult r;
        try
        {
            r = Train(w, d);
        }
        catch (ExternalException first) when (!InOptimizerStep(first))
        {
            // libtorch refused an op mid-step. TorchSharp 0.107 lets the GC free a Scalar it created for a call while the
            // call runs (dotnet/TorchSharp#1434: "Expected false to be true … Scalar.h"); the models and PinnedAdam pin
            // theirs, this is the net for any other. Forward and backward change no parameter, so the same batch is tried
            // once more (a failure inside the optimizer's step may have moved some parameters: that one fails the epoch).
            _log.Warning("Step {0} of epoch {1} failed in libtorch ({2}): trying the batch again", w.StepsDone + 1, w.Epoch, FirstLine(first.Message));
            try
            {
                r = Train(w, d);
            }
            catch (Exception again)
            {
                Sender.Tell(StreamAck.Instance);
                Fail(w, $"step {w.StepsDone + 1} of epoch {w.Epoch} failed twice in libtorch: {FirstLine(again.Message)}");
                return;
            }
        }
        catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            Sender.Tell(StreamAck.Instance);
            Fail(w, $"step {w.StepsDone + 1} of epoch {w.Epoch} failed on batch {d.Index}: {FirstLine(e.Message)}");
            return;
        }
        w.RoundLoss += r.Loss * r.Examples;
        if (!double.IsNaN(r.Metric)) w.RoundMetric += r.Metric * r.Examples;
        w.RoundExamples += r.Examples;
        w.EpochLoss += r.Loss * r.Examples;
        w.EpochExamples += r.Examples;
        w.StepsDone++;
        if (w.StepsDone % w.K == 0 || w.StepsDone == w.Steps)
        {
            w.HeldAck = Sender;
            SendRound(w, w.AveragesGradients ? _trainer!.GetGradients() : _trainer!.GetParameters());
        }
        else Sender.Tell(StreamAck.Instance);
    }

    /// <summary>One step on a batch: forward and backward (K = 1, the gradient goes to the round) or a local optimizer step.</summary>
    private StepResult Train(EpochWork w, MiniBatchData d) => d.Link is null
        ? w.AveragesGradients ? _trainer!.Backward(d.ToMiniBatch()) : _trainer!.Step(d.ToMiniBatch())
        : w.AveragesGradients ? _trainer!.Backward(d.ToLinkBatch()) : _trainer!.Step(d.ToLinkBatch());

    // The replica's PinnedAdam, or a TorchSharp optimizer (they step through OptimizerHelper).
    private static bool InOptimizerStep(Exception e) =>
        e.StackTrace is { } trace && (trace.Contains("PinnedAdam.step", StringComparison.Ordinal)
            || trace.Contains("OptimizerHelper", StringComparison.Ordinal) || trace.Contains("Modules.Adam", StringComparison.Ordinal));

    private static string FirstLine(string message)
    {
        var end = message.IndexOf('\n');
        return (end < 0 ? message : message[..end]).Trim();
    }

    // ---- averaging ----

    private void SendRound(EpochWork w, float[] vector)
    {
        var examples = Math.Max(w.RoundExamples, 1);
        _coordinator.Tell(new StepsReported(w.JobId, w.Epoch, w.StepsDone, (float)(w.RoundLoss / examples), (float)(w.RoundMetric / examples)));
        var chunks = Math.Max(1, (vector.Length + MaxChunkFloats - 1) / MaxChunkFloats);
        for (var i = 0; i < chunks; i++)
        {
            var start = i * MaxChunkFloats;
            var chunk = vector.AsSpan(start, Math.Min(MaxChunkFloats, vector.Length - start)).ToArray();
            _coordinator.Tell(new ParametersReady(w.JobId, w.Epoch, w.Round, i, chunks, chunk));
        }
        w.Average = new float[vector.Length];
        w.AverageChunks = new bool[chunks];
        w.RoundLoss = 0;
        w.RoundMetric = 0;
        w.RoundExamples = 0;
    }

    private void OnAveraged(AveragedParameters m)
    {
        if (_work is not { Averaging: true } w || m.JobId != w.JobId || m.Epoch != w.Epoch || m.Round != w.Round) return;
        var average = w.Average!;
        var start = (long)m.ChunkIndex * MaxChunkFloats;
        if (m.ChunkCount != w.AverageChunks!.Length || start + m.Chunk.Length > average.Length)
        {
            Fail(w, $"the average of round {m.Round} has chunk {m.ChunkIndex} of {m.ChunkCount} with {m.Chunk.Length} floats: " +
                $"this replica has {average.Length} parameters in {w.AverageChunks.Length} chunk(s) (trainers built different models?)");
            return;
        }
        m.Chunk.CopyTo(average.AsSpan((int)start));
        w.AverageChunks[m.ChunkIndex] = true;
        if (w.AverageChunks.Any(c => !c)) return;

        if (w.AveragesGradients) _trainer!.ApplyGradients(average);
        else _trainer!.SetParameters(average);
        w.Average = null;
        w.AverageChunks = null;
        w.Round++;
        if (w.StepsDone >= w.Steps)
        {
            Release(w);
            FinishEpoch(w);
        }
        else if (w.Seeds.Length == 0)
        {
            w.StepsDone = Math.Min(w.Steps, w.StepsDone + w.K);
            SendRound(w, w.AveragesGradients ? new float[average.Length] : _trainer!.GetParameters());
        }
        else Release(w);
    }

    private static void Release(EpochWork w)
    {
        w.HeldAck?.Tell(StreamAck.Instance);
        w.HeldAck = null;
    }

    private void FinishEpoch(EpochWork w)
    {
        string[] names = [];
        float[] values = [];
        if (w.Evaluate)
        {
            try
            {
                var val = _trainer!.EvaluateAsync(SplitKind.Val).GetAwaiter().GetResult();
                var test = _trainer.EvaluateAsync(SplitKind.Test).GetAwaiter().GetResult();
                var metrics = val.Metrics.Select(kv => ("val_" + kv.Key, kv.Value)).Concat(test.Metrics.Select(kv => ("test_" + kv.Key, kv.Value))).ToArray();
                names = metrics.Select(x => x.Item1).ToArray();
                values = metrics.Select(x => (float)x.Item2).ToArray();
            }
            catch (Exception e)
            {
                _log.Warning("Evaluation after epoch {0} failed: {1}; the epoch is reported without metrics", w.Epoch, e.Message);
            }
        }
        _lastMetricNames = names;
        _lastMetricValues = values;
        _completedEpoch = w.Epoch;
        var loss = (float)(w.EpochLoss / Math.Max(w.EpochExamples, 1));
        _coordinator.Tell(new EpochFinished(w.JobId, w.Epoch, loss, names, values));
        _log.Info("Trainer finished epoch {0} of job '{1}': {2} step(s), loss {3:F4}{4}", w.Epoch, w.JobId, w.StepsDone, loss,
            names.Length == 0 ? "" : ", " + string.Join(", ", names.Zip(values, (n, v) => $"{n} {v:F4}")));
        _work = null;
    }

    private void OnWriteCheckpoint(WriteCheckpoint m)
    {
        if (_trainer is null || m.JobId != _jobId || m.Epoch != _completedEpoch)
        {
            _log.Warning("Asked to write the checkpoint of epoch {0} of job '{1}', but this trainer's replica is at epoch {2} of '{3}'",
                m.Epoch, m.JobId, _completedEpoch, _jobId);
            return;
        }
        try
        {
            // The coordinator's metrics of the epoch (another trainer may have evaluated), else this trainer's own.
            var (names, values) = m.MetricNames.Length > 0 ? (m.MetricNames, m.MetricValues) : (_lastMetricNames, _lastMetricValues);
            var metrics = new Dictionary<string, double>();
            for (var i = 0; i < names.Length; i++) metrics[names[i]] = values[i];
            Checkpoints.Save(_trainer, m.Directory, metrics, epochOverride: m.Epoch);
            var sha = Checkpoints.Sha256(Path.Combine(m.Directory, Checkpoints.ManifestName));
            _coordinator.Tell(new CheckpointWritten(m.JobId, m.Epoch, m.Directory, sha, names, values));
        }
        catch (Exception e)
        {
            // Not answering lets the coordinator ask the next trainer after its checkpoint timeout.
            _log.Error(e, "Writing the checkpoint of epoch {0} to {1} failed", m.Epoch, m.Directory);
        }
    }

    private void Fail(EpochWork w, string reason)
    {
        _log.Error("Trainer cannot go on with epoch {0} of job '{1}': {2}", w.Epoch, w.JobId, reason);
        _coordinator.Tell(new TrainerFailed(w.JobId, w.Epoch, reason));
        Release(w);
        if (ReferenceEquals(_work, w)) _work = null;
    }
}

/// <summary>Starts a node's TrainerActor (role <c>trainer</c>) beside its SamplerActor.</summary>
public static class TrainerActorRegistration
{
    public const string Name = "trainer";

    public static IActorRef StartTrainer(this ActorSystem system, TrainerSettings settings, IGraphStore store, IActorRef sampler, IActorRef coordinator,
        Func<int[]>? localPartitions = null, string name = Name)
    {
        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        return system.ActorOf(TrainerActor.Props(settings, store, sampler, coordinator, localPartitions ?? (() => []), self.ToString()), name);
    }

    /// <summary>
    /// The partitions whose home is this node by the placement rule (partition i on the (i mod M)-th partition member):
    /// the coordinator gives this trainer the seeds those partitions own first.
    /// </summary>
    public static Func<int[]> HomePartitions(ActorSystem system, int parts, string partitionRole = ClusterRoles.Partition) => () =>
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var members = PartitionPlacement.Ordered(cluster.State.Members
            .Where(m => m.HasRole(partitionRole) && m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp)
            .Select(m => new PlacementMember(m.Address, true)));
        var self = cluster.SelfAddress;
        var local = new List<int>();
        for (var p = 0; p < parts; p++)
            if (PartitionPlacement.Home(p, members) == self) local.Add(p);
        return local.ToArray();
    };
}
