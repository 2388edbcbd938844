// The trainer role: a model replica trained on its node's sampler stream, its parameters averaged through the coordinator.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using GraphActors.Cluster.Metrics;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Sampling;
using GraphActors.Training;
using GraphActors.Training.Embeddings;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;
using TrainingConfig = GraphActors.Training.TrainingConfig;

namespace GraphActors.Cluster.Trainers;

/// <summary>
/// Owns one model replica and its optimizer — local mode's <see cref="Trainer"/>, unchanged — and trains it on its
/// pieces of each epoch's global batches, sampled by its SamplerActor (on its node, or a sampler node's):
/// <list type="number">
/// <item>registers with the coordinator (and again every <c>register-interval</c>: a coordinator that moved learns it again);</item>
/// <item>on an <see cref="EpochAssignment"/> (all its parts) builds or restores the replica — from the job's seed for a
/// new job, from the assignment's checkpoint when its parameters are not already the last average — and asks the
/// sampler for its pieces as given batches (each sampled with local mode's rng seed of its global batch), in windows
/// of at most <see cref="MaxAssignmentInts"/> seeds, run into this actor through an ack-based sink;</item>
/// <item>rounds run in order: the pieces of a round are trained (K = 1: forward and backward, the gradient kept;
/// K &gt; 1: local optimizer steps), the contribution is sent weighted by the round's seeds with their checksum (a
/// trainer with no piece in the round sends nothing), and once the coordinator's seed-weighted average is back every
/// replica applies it — with K = 1 that is local mode's step on the whole global batch, so the replicas stay identical
/// and equal to local mode;</item>
/// <item>a later attempt of the same epoch (another trainer left) restarts the current round with new pieces: K = 1
/// has applied nothing of it, K &gt; 1 returns to the round's starting parameters;</item>
/// <item>after the last round it evaluates (when asked, or on <see cref="EvaluateEpoch"/>) and reports
/// <see cref="EpochFinished"/> with the metrics or the evaluation's error; it writes the checkpoint when asked.</item>
/// </list>
/// Runs on the pinned <c>graphactors.trainer.dispatcher</c>: torch keeps per-thread state, and a step blocks its thread.
/// </summary>
public sealed class TrainerActor : ReceiveActor, IWithTimers
{
    private sealed record RegisterNow;
    private sealed record SampleTimedOut(long RequestId);

    /// <summary>One round's average, arriving in chunks.</summary>
    private sealed class RoundAverage(int length, int chunks)
    {
        public float[] Vector { get; } = new float[length];
        public bool[] Got { get; } = new bool[chunks];
        public int Missing { get; set; } = chunks;
    }

    /// <summary>The epoch attempt in flight: its pieces, the stream window feeding them, and where the rounds are.</summary>
    private sealed class EpochWork(EpochAssignment a, TrainingConfig config, int[] pieceSteps, int[] pieceOffsets, int[] seeds)
    {
        public string JobId { get; } = a.JobId;
        public int Epoch { get; } = a.Epoch;
        /// <summary>When the replica began waiting for its next piece's batch (0: not waiting), for the step metrics.</summary>
        public long WaitSince { get; set; }
        /// <summary>When this round's contribution was made, for the averaging metrics.</summary>
        public long ContributedAt { get; set; }
        public int Attempt { get; } = a.Attempt;
        /// <summary>The global step this attempt starts at (a re-plan's round).</summary>
        public int FromStep { get; } = a.FromStep;
        /// <summary>The assignment (its first part): the epoch's training seeds give each global step's size.</summary>
        public EpochAssignment Assignment { get; } = a;
        /// <summary>The local-mode config the replica was built from (batch size, fanouts, reverse edges of the stream).</summary>
        public TrainingConfig Config { get; } = config;
        public int K { get; } = Math.Max(1, a.Config.AveragingPeriod);
        /// <summary>K = 1: gradients are averaged (synchronous data-parallel); otherwise parameters (local SGD).</summary>
        public bool AveragesGradients => K == 1;
        public int TotalSteps { get; } = a.TotalSteps;
        public int Rounds => (TotalSteps + K - 1) / K;
        public bool Evaluate { get; } = a.Evaluate;
        public int[] PieceSteps { get; } = pieceSteps;
        public int[] PieceOffsets { get; } = pieceOffsets;
        public int[] Seeds { get; } = seeds;
        public int Pieces => PieceSteps.Length;
        public int NextPiece { get; set; }
        public int Round { get; set; } = a.FromStep / Math.Max(1, a.Config.AveragingPeriod);
        public bool Contributed { get; set; }
        public int RoundSeeds { get; set; }
        public long RoundChecksum { get; set; }
        public double RoundLoss { get; set; }
        public double RoundMetric { get; set; }
        public long RoundExamples { get; set; }
        public double EpochLoss { get; set; }
        public long EpochExamples { get; set; }
        public int StepsDone { get; set; }
        public long RequestId { get; set; }
        public int WindowStart { get; set; }
        public int WindowEnd { get; set; }
        public int FailedStreams { get; set; }
        public UniqueKillSwitch? Kill { get; set; }
        /// <summary>The window's stream completed (every batch delivered; the last may still wait for its round).</summary>
        public bool WindowDone { get; set; }
        public (MiniBatchData Batch, IActorRef Sink)? Pending { get; set; }
        public Dictionary<int, RoundAverage> Averages { get; } = new();
        /// <summary>K &gt; 1: the parameters the current round started from (a re-planned round starts over from them).</summary>
        public float[]? RoundStart { get; set; }
        /// <summary>The attempt's trainers in ring order (empty: the coordinator averages).</summary>
        public string[] Ring { get; } = a.RingMembers;
        public bool UsesRing => Ring.Length > 0;
        public int RingIndex { get; set; } = -1;
        public IActorRef Successor { get; set; } = ActorRefs.Nobody;
        public IActorRef Predecessor { get; set; } = ActorRefs.Nobody;
        /// <summary>The current round's ring, from this trainer's contribution until the average is applied.</summary>
        public RingAllReduce? Collective { get; set; }
        public bool ReducedReported { get; set; }
        /// <summary>The last round the coordinator closed (every member holds its average): this one may apply it.</summary>
        public int ClosedRound { get; set; } = -1;

        public ReadOnlySpan<int> PieceSeeds(int j) => Seeds.AsSpan(PieceOffsets[j], PieceOffsets[j + 1] - PieceOffsets[j]);
    }

    private readonly TrainerSettings _settings;
    private readonly IGraphStore _store;
    private readonly IActorRef _sampler;
    private readonly IActorRef _coordinator;
    private readonly Func<int[]> _localPartitions;
    private readonly string _nodeAddress;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NodeMetrics _metrics = NodeMetrics.Get(Context.System);
    private readonly Dictionary<(string JobId, int Epoch, int Attempt), EpochAssignment?[]> _parts = new();
    private IMaterializer _materializer = null!;
    private Trainer? _trainer;
    private int _vectorLength;
    // Floats per parameter chunk: what fits the configured wire chunk (graphactors.wire.chunk-size).
    private readonly int _chunkFloats = ChunkFloats(GraphActors.Cluster.Wire.WireSettings.Create(Context.System).ChunkSize);
    // Ring chunks to the next trainer unacknowledged at most (graphactors.wire.chunks-in-flight, at least 2).
    private readonly int _ringWindow = Math.Max(2, GraphActors.Cluster.Wire.WireSettings.Create(Context.System).ChunksInFlight);
    // Ring chunks of a round this trainer has not started yet (it is still training, or its assignment is on the way):
    // each predecessor sends at most a window of them unacknowledged, so this stays small.
    private readonly List<RingChunk> _early = [];
    private string _jobId = "";
    private int _completedEpoch = -1;
    private float _lastEpochLoss = float.NaN;
    private EpochWork? _work;
    private long _nextRequestId;
    private string _registeredFor = "\0";
    // Owned embedding tables (training.embeddings in the cluster): the step the replica reads their rows at.
    private OwnedEmbeddings? _owned;
    private (long Clock, long Attempt, long From) _rowsAt;
    private TrainingProtocol.TrainingConfig? _ownedJob; // the job as the coordinator sent it: what a moved partition reopens with

    // The partitions owning the embedding rows (Prepare refuses embeddings on any other store).
    private RemoteGraphStore Owners => (RemoteGraphStore)_store;

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
            _log.Warning("The sampler did not offer pieces {0}..{1} of epoch {2} within {3}: asking again", w.WindowStart, w.WindowEnd - 1, w.Epoch,
                _settings.SampleTimeout);
            RetryStream(w, $"the sampler did not offer the epoch's stream within {_settings.SampleTimeout.TotalSeconds:0}s");
        });
        Receive<StreamInit>(_ => Sender.Tell(StreamAck.Instance));
        Receive<MiniBatchData>(OnBatch);
        Receive<StreamCompleted>(m =>
        {
            if (_work is not { } w || m.RequestId != w.RequestId) return;
            w.Kill = null;
            // The sink completes as soon as the last batch is handed over, not after its ack: the window's last batch may
            // still be waiting for its round. Every batch delivered: the next window starts once the last is trained.
            var delivered = w.NextPiece + (w.Pending is null ? 0 : 1);
            if (delivered < w.WindowEnd)
            {
                RetryStream(w, $"the stream of pieces {w.WindowStart}..{w.WindowEnd - 1} ended after piece {delivered - 1}");
                return;
            }
            w.WindowDone = true;
            NextWindowIfDue(w);
        });
        Receive<StreamFailed>(m =>
        {
            if (_work is not { } w || m.RequestId != w.RequestId) return;
            _log.Warning("The stream of epoch {0} failed at piece {1}: {2}", w.Epoch, w.NextPiece, m.Problem);
            RetryStream(w, m.Problem);
        });
        Receive<AveragedParameters>(OnAveraged);
        Receive<RingChunk>(OnRingChunk);
        Receive<RingAck>(OnRingAck);
        Receive<RoundClosed>(OnRoundClosed);
        Receive<EvaluateEpoch>(OnEvaluate);
        Receive<WriteCheckpoint>(OnWriteCheckpoint);
        Receive<TrainingHalted>(m =>
        {
            if (m.JobId != _jobId) return;
            _log.Info("Job '{0}' {1} ({2}): trainer drops epoch {3}", m.JobId, m.State, m.Reason, _work?.Epoch.ToString() ?? "-");
            if (_work is { } w) Drop(w);
            _parts.Clear();
            _early.Clear();
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
    /// (and fails the job with it) instead of waiting for this trainer's round until a timeout.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        if (_work is { } w)
        {
            _log.Error(reason, "Trainer fails epoch {0} of job '{1}' on an unexpected error", w.Epoch, w.JobId);
            _coordinator.Tell(new TrainerFailed(w.JobId, w.Epoch, $"the trainer on {_nodeAddress} stopped on an unexpected error: {FirstLine(reason.Message)}"));
            Drop(w);
        }
        base.PreRestart(reason, message);
    }

    protected override void PostStop()
    {
        if (_work is { } w) Drop(w);
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
        var key = (a.JobId, a.Epoch, a.Attempt);
        if (!_parts.TryGetValue(key, out var parts) || parts.Length != a.Parts) _parts[key] = parts = new EpochAssignment?[a.Parts];
        parts[a.Part] = a;
        if (parts.Any(p => p is null)) return;
        _parts.Clear(); // this attempt is complete; older partial ones are superseded
        var steps = Concat(parts, p => p!.PieceSteps);
        var counts = Concat(parts, p => p!.PieceCounts);
        var seeds = Concat(parts, p => p!.SeedIds);
        var offsets = new int[counts.Length + 1];
        for (var j = 0; j < counts.Length; j++) offsets[j + 1] = offsets[j] + counts[j];
        if (steps.Length != counts.Length || offsets[^1] != seeds.Length)
        {
            _log.Error("Epoch {0}'s assignment is inconsistent: {1} piece steps, {2} counts summing to {3}, {4} seeds", a.Epoch, steps.Length, counts.Length,
                offsets[^1], seeds.Length);
            _coordinator.Tell(new TrainerFailed(a.JobId, a.Epoch, $"its assignment of epoch {a.Epoch} is inconsistent ({steps.Length} pieces, {seeds.Length} seeds)"));
            return;
        }

        var old = _work;
        // A later attempt of the same epoch continues this replica from the re-planned round. A plan from step 0 starts the
        // epoch over from the checkpoint instead: the coordinator moved and plans the epoch anew (above the old attempts),
        // or the replan is in round 0, whose start is the checkpoint either way.
        var replan = old is not null && old.JobId == a.JobId && old.Epoch == a.Epoch && a.Attempt > old.Attempt && a.FromStep > 0;
        if (old is not null)
        {
            if (!replan) _log.Warning("Epoch {0} of job '{1}' is planned again or superseded by epoch {2}: dropping its {3} step(s)", old.Epoch, old.JobId, a.Epoch, old.StepsDone);
            Drop(old);
        }
        EpochWork work;
        try
        {
            var config = replan ? old!.Config : Prepare(a);
            if (!replan && a.FromStep > 0)
                throw new InvalidOperationException($"it cannot join epoch {a.Epoch} at global step {a.FromStep}: its replica is not at that step");
            work = new EpochWork(a, config, steps, offsets, seeds);
            if (replan)
            {
                // The re-planned round starts over: K = 1 applied nothing of it; K > 1 returns to the round's start.
                if (old!.Round != work.Round)
                    throw new InvalidOperationException($"attempt {a.Attempt} of epoch {a.Epoch} restarts round {work.Round}, but this replica is at round {old.Round}");
                if (!work.AveragesGradients && old.RoundStart is { } start) _trainer!.SetParameters(start);
                work.RoundStart = old.RoundStart;
                work.EpochLoss = old.EpochLoss;
                work.EpochExamples = old.EpochExamples;
                work.StepsDone = old.StepsDone;
            }
            else if (!work.AveragesGradients) work.RoundStart = _trainer!.GetParameters();
            if (work.UsesRing) JoinRing(work);
        }
        catch (Exception e)
        {
            var reason = e is ArgumentException or InvalidDataException or FileNotFoundException or InvalidOperationException ? e.Message : e.ToString();
            _log.Error("Trainer cannot start epoch {0} (attempt {1}) of job '{2}': {3}", a.Epoch, a.Attempt, a.JobId, reason);
            _coordinator.Tell(new TrainerFailed(a.JobId, a.Epoch, reason));
            return;
        }
        _work = work;
        // From its first step (or average) on, the replica is no longer the end of the last completed epoch: this epoch
        // planned again (the coordinator moved, the job resumed) starts over from the checkpoint, not from mid-epoch.
        _completedEpoch = -1;
        _log.Info("Trainer starts epoch {0} of job '{1}'{2}: {3} piece(s), {4} seed(s) over global steps {5}",
            a.Epoch, a.JobId, a.Attempt > 0 ? $" (attempt {a.Attempt}, from step {a.FromStep})" : "", steps.Length, seeds.Length,
            $"{a.FromStep}..{a.TotalSteps - 1}, averaging every {work.K}");
        if (work.Pieces > 0) StartWindow(work);
        Advance(work);
    }

    private static int[] Concat(EpochAssignment?[] parts, Func<EpochAssignment?, int[]> field) =>
        parts.Length == 1 ? field(parts[0]) : parts.SelectMany(field).ToArray();

    /// <summary>The replica for the assignment's job, with the parameters the epoch starts from.</summary>
    private TrainingConfig Prepare(EpochAssignment a)
    {
        var config = TrainingHocon.FromJob(a.Config, a.JobId);
        if (config.TaskKind == TrainingTask.GraphClassification)
            throw new ArgumentException($"task '{config.Task}': the cluster's sampler streams node and link batches; graph classification trains on generated graph batches in local mode.");
        if (string.IsNullOrEmpty(config.Target))
            throw new ArgumentException($"job '{a.JobId}': training.target (the node type to classify, or the edge type to predict) is not set.");
        if (config.Embeddings.Count > 0 && a.Config.AveragingPeriod != 1)
            throw new ArgumentException($"job '{a.JobId}': training.embeddings need averaging_period = 1 (the owners apply each global step's gradients once), not {a.Config.AveragingPeriod}.");
        if (config.Embeddings.Count > 0 && _store is not RemoteGraphStore)
            throw new ArgumentException($"job '{a.JobId}': training.embeddings live with the partitions, and this trainer's graph store ({_store.GetType().Name}) does not reach them.");
        var continuing = _trainer is not null && _jobId == a.JobId && _completedEpoch == a.Epoch - 1;
        if (continuing) return config; // our parameters are the last average, the checkpoint's too
        var hasCheckpoint = !string.IsNullOrEmpty(a.StartParametersPath);
        if (_trainer is null || _jobId != a.JobId || !hasCheckpoint)
        {
            _trainer?.Dispose();
            _trainer = null;
            // Replicas start identical because each draws its model's parameters right after seeding torch's generator,
            // atomically (AutogradGate.Seeded): that generator is process-wide, and another trainer of this process may
            // be stepping (reseeding it per step) while this one builds.
            _owned = OwnedTables(a.JobId, config);
            _trainer = Trainer.CreateAsync(_store, config, embeddings: _owned).GetAwaiter().GetResult();
            _trainer.StoreLineage = StoreLineage(a.Config.StorePath);
            _jobId = a.JobId;
            _completedEpoch = -1;
            _vectorLength = _trainer.GetParameters().Length;
            _log.Info("Trainer built a {0} replica for job '{1}' ({2} parameters)", config.ModelType, a.JobId, _vectorLength);
        }
        if (!hasCheckpoint)
        {
            var warmFrom = "";
            if (config.InitFrom is { } from)
            {
                // Every replica reads the same checkpoint over its seeded start, so they stay identical.
                var (earlier, at) = Checkpoints.Read(from, preferBest: true);
                Checkpoints.WarmStart(_trainer, earlier, at);
                // The embedding rows are the owners' to take over: by id, so only on a store brought up to date from the checkpoint's.
                if (_owned is not null)
                {
                    Checkpoints.CheckRowsCarryOver(earlier, at, _trainer.StoreLineage, config.Embeddings.Keys);
                    warmFrom = at;
                }
                _log.Info("Trainer started job {0} from the model of {1} (its epoch {2})", a.JobId, at, earlier.Epoch);
            }
            OpenOwnedTables(a, "", warmFrom);
            return config;
        }
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
        OpenOwnedTables(a, directory);
        _completedEpoch = a.Epoch - 1;
        _log.Info("Trainer restored epoch {0}'s parameters from {1}", manifest.Epoch, directory);
        return config;
    }

    /// <summary>The job's store and the stores it was updated from, for the checkpoints (empty when the store cannot be read here).</summary>
    private static IReadOnlyList<string> StoreLineage(string storePath)
    {
        if (string.IsNullOrEmpty(storePath)) return [];
        try
        {
            return GraphActors.Graph.Storage.PartitionStore.Open(storePath).Lineage;
        }
        catch (GraphActors.Graph.Storage.PartitionStoreException)
        {
            return [];
        }
    }

    /// <summary>
    /// The job's embedding tables as the partitions owning their rows hold them (null without training.embeddings): the
    /// replica reads a batch's rows at the step it trains (<see cref="_rowsAt"/>), and never holds a table.
    /// </summary>
    private OwnedEmbeddings? OwnedTables(string jobId, TrainingConfig config)
    {
        if (config.Embeddings.Count == 0) return null;
        var remote = Owners;
        var dims = config.Embeddings.ToDictionary(kv => kv.Key, kv => kv.Value.Dim);
        return new OwnedEmbeddings(config.Embeddings, (type, ids, rows) =>
        {
            var (clock, attempt, from) = _rowsAt;
            AtOwners(jobId, () => remote.GatherEmbeddingsAsync(jobId, type, dims[type], clock, attempt, from, ids, rows));
        });
    }

    /// <summary>
    /// Runs a call on the tables' owners; a partition that moved to another node since the tables were opened holds
    /// none until it takes over its previous host's hand-off, so on that refusal the tables are reopened (the others
    /// keep theirs) and the call made once more.
    /// </summary>
    private void AtOwners(string jobId, Func<Task> call)
    {
        try
        {
            call().GetAwaiter().GetResult();
        }
        catch (PartitionRequestException e) when (e.Message.Contains(EmbeddingShards.NotHeld, StringComparison.Ordinal) && _ownedJob is not null)
        {
            _log.Warning("A partition holding embedding rows of job '{0}' moved: reopening them from its hand-off ({1})", jobId, FirstLine(e.Message));
            Owners.OpenEmbeddingsAsync(jobId, _ownedJob, _rowsAt.Clock, _rowsAt.Attempt, "", rehome: true).GetAwaiter().GetResult();
            call().GetAwaiter().GetResult();
        }
    }

    /// <summary>Opens (or restores from the checkpoint in <paramref name="directory"/>) the job's tables on every partition.</summary>
    private void OpenOwnedTables(EpochAssignment a, string directory, string warmFrom = "")
    {
        if (_owned is null) return;
        var clock = EmbeddingProtocol.Clock(a.Epoch, 0);
        var attempt = EmbeddingProtocol.AttemptKey(a.Epoch, a.Attempt);
        _ownedJob = a.Config;
        Owners.OpenEmbeddingsAsync(a.JobId, a.Config, clock, attempt, directory, warmFrom: warmFrom).GetAwaiter().GetResult();
        _rowsAt = (clock, attempt, clock);
        _log.Info("Trainer opened the embedding tables of job '{0}' on {1} partition(s) at epoch {2}{3}", a.JobId,
            Owners.Book.Parts, a.Epoch, directory.Length > 0 ? $" from {directory}" : warmFrom.Length > 0 ? $" (fresh, the rows of every id {warmFrom} holds from there)" : " (fresh)");
    }

    /// <summary>
    /// Sends the owners the rows' gradients of the piece just trained, weighted by its share of the global batch (the
    /// owners add the pieces' and apply the sum once: local mode's step on the whole batch); returns once they hold them.
    /// </summary>
    private void PushOwnedGradients(EpochWork w, int step, ReadOnlySpan<int> pieceSeeds)
    {
        var taken = _owned!.TakeGradients();
        if (taken.Count == 0) return;
        var share = (float)pieceSeeds.Length / w.Assignment.StepSeeds(step, w.Config.BatchSize);
        var piece = int.MaxValue;
        foreach (var s in pieceSeeds) piece = Math.Min(piece, s); // seeds are planned once per step: the smallest names the piece
        var remote = Owners;
        foreach (var g in taken)
            for (var i = 0; i < g.Gradients.Length; i++) g.Gradients[i] *= share;
        var (clock, attempt, from) = _rowsAt;
        // A retried part replaces itself at its owner, so sending every type again after a reopen adds nothing twice.
        AtOwners(w.JobId, () => Task.WhenAll(taken.Select(g =>
            remote.PushEmbeddingGradientsAsync(w.JobId, g.Type, _owned.Spec(g.Type).Dim, clock, attempt, from, piece, g.Ids, g.Gradients))));
    }

    /// <summary>
    /// Reads the rows of the batch's embedded input nodes from their owners, every type at once, before the step: the
    /// step then finds them ready instead of waiting on the network while it holds torch's process-wide lock.
    /// </summary>
    private void PrefetchOwnedRows(EpochWork w, MiniBatchData d)
    {
        var remote = Owners;
        var (clock, attempt, from) = _rowsAt;
        var reads = new List<(string Type, int[] Ids, float[] Rows)>();
        for (var i = 0; i < d.NodeTypes.Length; i++)
        {
            var type = d.NodeTypes[i];
            if (!_owned!.Has(type)) continue;
            var ids = d.Blocks[0].SrcNodes[i];
            reads.Add((type, ids, new float[ids.Length * _owned.Spec(type).Dim]));
        }
        if (reads.Count == 0) return;
        AtOwners(w.JobId, () => Task.WhenAll(reads.Select(r =>
            remote.GatherEmbeddingsAsync(w.JobId, r.Type, _owned!.Spec(r.Type).Dim, clock, attempt, from, r.Ids, r.Rows))));
        foreach (var r in reads) _owned!.Prefetched(r.Type, r.Ids, r.Rows);
    }

    // The rows as they are after every step of the epoch (evaluation, the checkpoint).
    private void RowsAfterEpoch(int epoch) => _rowsAt = (EmbeddingProtocol.Clock(epoch + 1, 0), _rowsAt.Attempt, _rowsAt.From);

    // ---- the stream: windows of given batches ----

    /// <summary>Asks the sampler for the next pieces, as given batches, at most MaxAssignmentInts seeds (and at least one piece) per request.</summary>
    private void StartWindow(EpochWork w)
    {
        w.Pending = null;
        w.WindowDone = false;
        w.WindowStart = w.NextPiece;
        var end = w.WindowStart + 1;
        while (end < w.Pieces && w.PieceOffsets[end + 1] - w.PieceOffsets[w.WindowStart] <= MaxAssignmentInts) end++;
        w.WindowEnd = end;
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
                job.NegativeStrategyKind == NegativeStrategy.SmoothedInDegree ? NegativeMode.InDegree : NegativeMode.Random,
                job.ExclusionKind switch
                {
                    LinkExclusion.None => ExclusionMode.None,
                    LinkExclusion.Self => ExclusionMode.Self,
                    _ => ExclusionMode.SelfAndReverse,
                },
                job.ValFraction, job.TestFraction, (ulong)job.Seed);
        }
        else target = new NodeType(job.Target!);
        var reverse = job.ReverseEdgesKind switch
        {
            ReverseEdges.AddReverse => ReverseEdgeMode.AddReverse,
            ReverseEdges.Bidirected => ReverseEdgeMode.Bidirected,
            _ => ReverseEdgeMode.None,
        };
        var first = w.PieceOffsets[w.WindowStart];
        var seeds = w.Seeds.AsSpan(first, w.PieceOffsets[end] - first).ToArray();
        var offsets = new int[end - w.WindowStart + 1];
        var batchSeeds = new ulong[end - w.WindowStart];
        var batchSteps = new int[end - w.WindowStart];
        for (var j = w.WindowStart; j < end; j++)
        {
            offsets[j - w.WindowStart + 1] = w.PieceOffsets[j + 1] - first;
            // Local mode's rng seed of the global batch the piece belongs to.
            batchSeeds[j - w.WindowStart] = EpochPlan.BatchSeed((ulong)job.Seed, w.Epoch, w.PieceSteps[j]);
            batchSteps[j - w.WindowStart] = w.PieceSteps[j];
        }
        _sampler.Tell(new SampleEpoch(w.RequestId, w.Epoch, target, seeds, job.BatchSize, job.Fanouts.ToArray(), _settings.Strategy,
            DropLast: false, (ulong)job.Seed, reverse, link, offsets, batchSeeds, batchSteps));
        Timers.StartSingleTimer("sample", new SampleTimedOut(w.RequestId), _settings.SampleTimeout);
    }

    /// <summary>The window's stream has completed and its last piece is trained: ask for the next window, if pieces remain.</summary>
    private void NextWindowIfDue(EpochWork w)
    {
        if (w.WindowDone && w.NextPiece >= w.WindowEnd && w.NextPiece < w.Pieces) StartWindow(w);
    }

    private void RetryStream(EpochWork w, string problem)
    {
        w.Kill?.Shutdown();
        w.Kill = null;
        if (++w.FailedStreams > 2)
        {
            Fail(w, $"the mini-batch stream of epoch {w.Epoch} failed {w.FailedStreams} times: {problem}");
            return;
        }
        StartWindow(w); // from the first piece not yet trained
    }

    private void OnStreamReady(EpochStreamReady m)
    {
        if (_work is not { } w || m.RequestId != w.RequestId)
        {
            _log.Debug("Ignored the stream of request {0}: not the window in flight", m.RequestId);
            return;
        }
        Timers.Cancel("sample");
        w.Kill = m.Stream.RunInto(Self, m.RequestId, _materializer);
    }

    private void OnBatch(MiniBatchData d)
    {
        if (_work is not { } w || d.RequestId != w.RequestId)
        {
            Sender.Tell(StreamAck.Instance); // a superseded window's batch: drained, not trained on
            return;
        }
        var piece = w.WindowStart + d.Index;
        if (piece != w.NextPiece || w.Pending is not null)
        {
            Sender.Tell(StreamAck.Instance);
            Fail(w, $"batch {d.Index} of the stream came out of order (expected piece {w.NextPiece}, holding {(w.Pending is null ? "none" : "one")})");
            return;
        }
        w.Pending = (d, Sender);
        Advance(w);
    }

    /// <summary>
    /// Runs the rounds as far as the batches and averages at hand allow: trains the round's pieces in order, sends the
    /// round's contribution, applies its average, next round; after the last round, finishes the epoch.
    /// </summary>
    private void Advance(EpochWork w)
    {
        while (ReferenceEquals(_work, w))
        {
            if (w.Round >= w.Rounds)
            {
                FinishEpoch(w);
                return;
            }
            if (!w.Contributed)
            {
                var roundEnd = Math.Min(w.TotalSteps, (w.Round + 1) * w.K);
                if (w.NextPiece < w.Pieces && w.PieceSteps[w.NextPiece] < roundEnd)
                {
                    if (w.Pending is not { } pending)
                    {
                        if (w.WaitSince == 0) w.WaitSince = Stopwatch.GetTimestamp();
                        return; // wait for the piece's batch
                    }
                    w.Pending = null;
                    _metrics.TrainerStepSeconds.WithLabels("wait").Observe(w.WaitSince == 0 ? 0 : Stopwatch.GetElapsedTime(w.WaitSince).TotalSeconds);
                    w.WaitSince = 0;
                    if (!TrainPiece(w, pending.Batch)) { pending.Sink.Tell(StreamAck.Instance); return; }
                    pending.Sink.Tell(StreamAck.Instance);
                    NextWindowIfDue(w);
                    continue;
                }
                Contribute(w);
            }
            float[] mean;
            if (w.UsesRing)
            {
                // Applied only once the coordinator closed the round: every member holds the same average by then.
                if (w.Collective is not { Complete: true } ring || w.ClosedRound < w.Round) return;
                mean = ring.Result;
                w.Collective = null;
                w.ReducedReported = false;
            }
            else
            {
                if (!w.Averages.TryGetValue(w.Round, out var average) || average.Missing > 0) return;
                w.Averages.Remove(w.Round);
                mean = average.Vector;
            }
            if (w.AveragesGradients) _trainer!.ApplyGradients(mean);
            else
            {
                _trainer!.SetParameters(mean);
                w.RoundStart = mean;
            }
            var mode = w.UsesRing ? "ring" : "star";
            _metrics.AveragingRounds.WithLabels(mode).Inc();
            _metrics.AveragingRoundSeconds.WithLabels(mode).Observe(Stopwatch.GetElapsedTime(w.ContributedAt).TotalSeconds);
            w.Round++;
            w.Contributed = false;
        }
    }

    /// <summary>One piece: checks the batch holds the piece's seeds, then forward and backward (K = 1) or a local step.</summary>
    private bool TrainPiece(EpochWork w, MiniBatchData d)
    {
        var j = w.NextPiece;
        var step = w.PieceSteps[j];
        var planned = w.PieceSeeds(j);
        var checksum = SeedChecksum(planned);
        if (BatchSeedsProblem(w, d, planned, checksum) is { } problem)
        {
            Fail(w, problem);
            return false;
        }
        var rngSeed = Trainer.StepRngSeed(EpochPlan.BatchSeed((ulong)w.Config.Seed, w.Epoch, step));
        StepResult r;
        var computeStarted = Stopwatch.GetTimestamp();
        if (_owned is not null)
        {
            _owned.TakeGradients(); // nothing of an earlier, failed try goes out with this piece's
            _rowsAt = (EmbeddingProtocol.Clock(w.Epoch, step), EmbeddingProtocol.AttemptKey(w.Epoch, w.Attempt), EmbeddingProtocol.Clock(w.Epoch, w.FromStep));
            try
            {
                PrefetchOwnedRows(w, d);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                Fail(w, $"the embedding rows of global step {step} of epoch {w.Epoch} could not be read from their partitions: {FirstLine(e.Message)}");
                return false;
            }
        }
        try
        {
            r = Train(w, d, rngSeed);
        }
        catch (ExternalException first) when (!InOptimizerStep(first))
        {
            // libtorch refused an op mid-step. TorchSharp 0.107 lets the GC free a Scalar it created for a call while the
            // call runs (dotnet/TorchSharp#1434: "Expected false to be true … Scalar.h"); the models and PinnedAdam pin
            // theirs, this is the net for any other. Forward and backward change no parameter, so the same batch is tried
            // once more (a failure inside the optimizer's step may have moved some parameters: that one fails the epoch).
            _log.Warning("Global step {0} of epoch {1} failed in libtorch ({2}): trying the batch again", step, w.Epoch, FirstLine(first.Message));
            _owned?.TakeGradients(); // whatever the failed try kept of the rows' gradients is not this piece's
            try
            {
                r = Train(w, d, rngSeed);
            }
            catch (Exception again)
            {
                Fail(w, $"global step {step} of epoch {w.Epoch} failed twice in libtorch: {FirstLine(again.Message)}");
                return false;
            }
        }
        catch (Exception e) when (e is ExternalException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or TimeoutException)
        {
            Fail(w, $"global step {step} of epoch {w.Epoch} failed on batch {d.Index}: {FirstLine(e.Message)}");
            return false;
        }
        if (_owned is not null)
        {
            try
            {
                PushOwnedGradients(w, step, planned);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                Fail(w, $"the embedding rows' gradients of global step {step} of epoch {w.Epoch} did not reach their partitions: {FirstLine(e.Message)}");
                return false;
            }
        }
        w.NextPiece++;
        w.RoundSeeds += planned.Length;
        w.RoundChecksum += checksum;
        w.RoundLoss += r.Loss * r.Examples;
        if (!double.IsNaN(r.Metric)) w.RoundMetric += r.Metric * r.Examples;
        w.RoundExamples += r.Examples;
        w.EpochLoss += r.Loss * r.Examples;
        w.EpochExamples += r.Examples;
        w.StepsDone++;
        _metrics.TrainerStepSeconds.WithLabels("compute").Observe(Stopwatch.GetElapsedTime(computeStarted).TotalSeconds);
        _metrics.TrainerSteps.Inc();
        _metrics.TrainerSeeds.Inc(planned.Length);
        _metrics.TrainerLoss.Set(r.Loss);
        _metrics.TrainerEpoch.Set(w.Epoch);
        return true;
    }

    /// <summary>What is wrong with the batch streamed for a piece: other seeds than planned (a seed lost or trained twice), or null.</summary>
    private static string? BatchSeedsProblem(EpochWork w, MiniBatchData d, ReadOnlySpan<int> planned, long checksum)
    {
        if (d.Link is { } link)
            return link.PosSrc.Length == planned.Length ? null
                : $"the link batch of global step {w.PieceSteps[w.NextPiece]} has {link.PosSrc.Length} positive edges; the piece has {planned.Length}";
        var t = Array.IndexOf(d.NodeTypes, w.Config.Target);
        if (t < 0) return $"the batch of global step {w.PieceSteps[w.NextPiece]} has no '{w.Config.Target}' nodes";
        var last = d.Blocks[^1];
        var seeds = last.SrcNodes[t].AsSpan(0, last.NumDst[t]);
        return seeds.Length == planned.Length && SeedChecksum(seeds) == checksum ? null
            : $"the batch of global step {w.PieceSteps[w.NextPiece]} holds {seeds.Length} seed(s) other than the piece's {planned.Length}";
    }

    /// <summary>One piece: forward and backward (K = 1, the gradient goes to the round) or a local optimizer step.</summary>
    private StepResult Train(EpochWork w, MiniBatchData d, long rngSeed) => d.Link is null
        ? w.AveragesGradients ? _trainer!.Backward(d.ToMiniBatch(), rngSeed) : _trainer!.Step(d.ToMiniBatch(), rngSeed)
        : w.AveragesGradients ? _trainer!.Backward(d.ToLinkBatch(), rngSeed) : _trainer!.Step(d.ToLinkBatch(), rngSeed);

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

    /// <summary>
    /// The round's contribution, weighted by its seeds: in chunks to the coordinator (the star; none when this trainer
    /// had no seeds in the round), or into the ring (always: a trainer with no seeds passes the others' sums on).
    /// </summary>
    private void Contribute(EpochWork w)
    {
        w.Contributed = true;
        w.ContributedAt = Stopwatch.GetTimestamp();
        if (w.RoundSeeds == 0 && !w.UsesRing) return;
        if (w.RoundSeeds > 0)
        {
            var examples = Math.Max(w.RoundExamples, 1);
            _coordinator.Tell(new StepsReported(w.JobId, w.Epoch, Math.Min(w.TotalSteps, (w.Round + 1) * w.K), (float)(w.RoundLoss / examples),
                (float)(w.RoundMetric / examples)));
        }
        if (w.UsesRing) ContributeToRing(w);
        else
        {
            var vector = w.AveragesGradients ? _trainer!.GetGradients() : _trainer!.GetParameters();
            var chunks = Math.Max(1, (vector.Length + _chunkFloats - 1) / _chunkFloats);
            for (var i = 0; i < chunks; i++)
            {
                var start = i * _chunkFloats;
                var chunk = vector.AsSpan(start, Math.Min(_chunkFloats, vector.Length - start)).ToArray();
                _coordinator.Tell(new ParametersReady(w.JobId, w.Epoch, w.Attempt, w.Round, i, chunks, w.RoundSeeds, w.RoundChecksum, chunk));
            }
        }
        w.RoundSeeds = 0;
        w.RoundChecksum = 0;
        w.RoundLoss = 0;
        w.RoundMetric = 0;
        w.RoundExamples = 0;
    }

    // ---- the ring ----

    /// <summary>Finds this trainer in the attempt's ring order and resolves its neighbours.</summary>
    private void JoinRing(EpochWork w)
    {
        var self = Self.Path.ToStringWithAddress(Akka.Cluster.Cluster.Get(Context.System).SelfAddress);
        w.RingIndex = Array.IndexOf(w.Ring, self);
        if (w.RingIndex < 0)
            throw new InvalidOperationException($"the ring of attempt {w.Attempt} of epoch {w.Epoch} ({string.Join(", ", w.Ring)}) does not name this trainer ({self})");
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        var n = w.Ring.Length;
        w.Successor = provider.ResolveActorRef(w.Ring[(w.RingIndex + 1) % n]);
        w.Predecessor = provider.ResolveActorRef(w.Ring[(w.RingIndex + n - 1) % n]);
        // Chunks of earlier rounds and attempts will never be wanted again.
        _early.RemoveAll(m => IsStale(m, w));
    }

    /// <summary>Tells the coordinator the round's seeds and starts this trainer's part of the ring (chunks that came early included).</summary>
    private void ContributeToRing(EpochWork w)
    {
        _coordinator.Tell(new RoundContribution(w.JobId, w.Epoch, w.Attempt, w.Round, w.RoundSeeds, w.RoundChecksum));
        var vector = w.RoundSeeds == 0 ? null : w.AveragesGradients ? _trainer!.GetGradients() : _trainer!.GetParameters();
        var ring = new RingAllReduce(w.JobId, w.Epoch, w.Attempt, w.Round, w.Ring.Length, w.RingIndex, _vectorLength, _chunkFloats, _ringWindow);
        w.Collective = ring;
        var sends = new List<RingSend>();
        var problem = ring.Contribute(vector, w.RoundSeeds, sends);
        for (var i = 0; problem is null && i < _early.Count; i++)
            if (IsRound(_early[i], w)) problem = ring.Receive(_early[i], sends);
        _early.RemoveAll(m => IsRound(m, w));
        if (problem is not null)
        {
            Fail(w, $"the ring of round {w.Round} of epoch {w.Epoch}: {problem}");
            return;
        }
        RingSends(w, sends);
    }

    private void OnRingChunk(RingChunk m)
    {
        if (_work is { Collective: { } ring } w && IsRound(m, w))
        {
            var sends = new List<RingSend>();
            if (ring.Receive(m, sends) is { } problem)
            {
                Fail(w, $"the ring of round {w.Round} of epoch {w.Epoch}: {problem}");
                return;
            }
            RingSends(w, sends);
            return;
        }
        if (IsStale(m, _work)) return; // a round or attempt that is over: its ring was abandoned
        if (_early.Count >= 4 * _ringWindow)
        {
            var dropped = _early[0];
            _early.RemoveAt(0);
            _log.Error("Trainer holds {0} ring chunks of rounds it has not started: dropped one of round {1}/{2}/{3} from {4} (that ring cannot complete)",
                _early.Count + 1, dropped.Epoch, dropped.Attempt, dropped.Round, Sender);
        }
        _early.Add(m);
    }

    private void OnRingAck(RingAck m)
    {
        if (_work is not { Collective: { } ring } w || m.JobId != w.JobId || m.Epoch != w.Epoch || m.Attempt != w.Attempt || m.Round != w.Round) return;
        var sends = new List<RingSend>();
        if (ring.Acked(m, sends) is { } problem)
        {
            Fail(w, $"the ring of round {w.Round} of epoch {w.Epoch}: {problem}");
            return;
        }
        RingSends(w, sends);
    }

    private void OnRoundClosed(RoundClosed m)
    {
        if (_work is not { } w || m.JobId != w.JobId || m.Epoch != w.Epoch || m.Attempt != w.Attempt) return;
        w.ClosedRound = Math.Max(w.ClosedRound, m.Round);
        Advance(w);
    }

    /// <summary>Sends what the ring produced; once this trainer holds the whole average, tells the coordinator (with its digest).</summary>
    private void RingSends(EpochWork w, List<RingSend> sends)
    {
        foreach (var (to, message) in sends) (to == RingPeer.Successor ? w.Successor : w.Predecessor).Tell(message, Self);
        if (w.Collective is { Complete: true } ring && !w.ReducedReported)
        {
            w.ReducedReported = true;
            _coordinator.Tell(new RoundReduced(w.JobId, w.Epoch, w.Attempt, w.Round, ring.TotalWeight, VectorDigest(ring.Result)));
        }
    }

    private static bool IsRound(RingChunk m, EpochWork w) => m.JobId == w.JobId && m.Epoch == w.Epoch && m.Attempt == w.Attempt && m.Round == w.Round;

    /// <summary>A chunk of a round or attempt before the one in flight (or of an epoch this trainer finished).</summary>
    private bool IsStale(RingChunk m, EpochWork? work) => work is { } w && m.JobId == w.JobId
        ? (m.Epoch, m.Attempt, m.Round).CompareTo((w.Epoch, w.Attempt, w.Round)) < 0
        : m.JobId == _jobId && m.Epoch <= _completedEpoch;

    private void OnAveraged(AveragedParameters m)
    {
        if (_work is not { } w || m.JobId != w.JobId || m.Epoch != w.Epoch || m.Attempt != w.Attempt || m.Round < w.Round) return;
        if (!w.Averages.TryGetValue(m.Round, out var average)) w.Averages[m.Round] = average = new RoundAverage(_vectorLength, m.ChunkCount);
        var start = (long)m.ChunkIndex * _chunkFloats;
        if (m.ChunkCount != average.Got.Length || (uint)m.ChunkIndex >= (uint)m.ChunkCount || start + m.Chunk.Length > average.Vector.Length)
        {
            Fail(w, $"the average of round {m.Round} has chunk {m.ChunkIndex} of {m.ChunkCount} with {m.Chunk.Length} floats: " +
                $"this replica has {average.Vector.Length} parameters in {average.Got.Length} chunk(s) (trainers built different models?)");
            return;
        }
        if (average.Got[m.ChunkIndex]) return;
        m.Chunk.CopyTo(average.Vector.AsSpan((int)start));
        average.Got[m.ChunkIndex] = true;
        average.Missing--;
        if (average.Missing == 0 && m.Round == w.Round) Advance(w);
    }

    // ---- the end of an epoch ----

    private void FinishEpoch(EpochWork w)
    {
        Drop(w);
        _completedEpoch = w.Epoch;
        var loss = (float)(w.EpochLoss / Math.Max(w.EpochExamples, 1));
        _lastEpochLoss = loss;
        RowsAfterEpoch(w.Epoch);
        var (names, values, error) = w.Evaluate ? Evaluate(w.Epoch) : ([], [], "");
        _coordinator.Tell(new EpochFinished(w.JobId, w.Epoch, loss, names, values, error, ParametersSha256()));
        _log.Info("Trainer finished epoch {0} of job '{1}': {2} piece(s), loss {3:F4}{4}", w.Epoch, w.JobId, w.StepsDone, loss,
            names.Length == 0 ? error.Length > 0 ? $", evaluation FAILED: {error}" : "" : ", " + string.Join(", ", names.Zip(values, (n, v) => $"{n} {v:F4}")));
    }

    /// <summary>Val and test metrics of the replica as it is, or the reason the evaluation failed (never a silent empty result).</summary>
    private (string[] Names, float[] Values, string Error) Evaluate(int epoch)
    {
        try
        {
            var val = _trainer!.EvaluateAsync(SplitKind.Val).GetAwaiter().GetResult();
            var test = _trainer.EvaluateAsync(SplitKind.Test).GetAwaiter().GetResult();
            var metrics = val.Metrics.Select(kv => ("val_" + kv.Key, kv.Value)).Concat(test.Metrics.Select(kv => ("test_" + kv.Key, kv.Value))).ToArray();
            return (metrics.Select(x => x.Item1).ToArray(), metrics.Select(x => (float)x.Item2).ToArray(), "");
        }
        catch (Exception e)
        {
            var error = $"{e.GetType().Name}: {FirstLine(e.GetBaseException().Message)}";
            _log.Error(e, "Evaluation after epoch {0} failed: {1}", epoch, error);
            return ([], [], error);
        }
    }

    private void OnEvaluate(EvaluateEpoch m)
    {
        if (_trainer is null || m.JobId != _jobId || m.Epoch != _completedEpoch)
        {
            _coordinator.Tell(new EpochFinished(m.JobId, m.Epoch, float.NaN, [], [],
                $"the trainer on {_nodeAddress} was asked to evaluate epoch {m.Epoch} of '{m.JobId}' but its replica is at epoch {_completedEpoch} of '{_jobId}'"));
            return;
        }
        RowsAfterEpoch(m.Epoch);
        var (names, values, error) = Evaluate(m.Epoch);
        _coordinator.Tell(new EpochFinished(m.JobId, m.Epoch, _lastEpochLoss, names, values, error, ParametersSha256()));
    }

    /// <summary>The replica's parameters hashed, for the coordinator's check that every replica holds the same ones.</summary>
    private string ParametersSha256() =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(_trainer!.GetParameters().AsSpan())));

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
            // The coordinator's metrics of the epoch (another trainer may have evaluated); the job's best so far; and
            // why there are no metrics, when there are none.
            var (names, values) = (m.MetricNames, m.MetricValues);
            var metrics = new Dictionary<string, double>();
            for (var i = 0; i < names.Length; i++) metrics[names[i]] = values[i];
            var note = m.Note.Length > 0 ? m.Note : m.BestEpoch < 0 ? "no evaluation epoch has completed yet" : null;
            List<EmbeddingFile>? owned = null;
            if (_owned is not null)
            {
                // The owners write their slabs into the checkpoint first; the manifest, written last, names and hashes them.
                RowsAfterEpoch(m.Epoch);
                List<EmbeddingProtocol.EmbeddingsWritten> written = [];
                var (clock, attempt, from) = _rowsAt;
                // The job's last epoch: the checkpoint holds the rows, and the partitions let them go.
                var last = m.Epoch + 1 >= _trainer.Config.Epochs || _trainer.Config.StopsEarlyAfter(m.Epoch, m.BestEpoch);
                AtOwners(m.JobId, async () =>
                    written = await Owners.WriteEmbeddingsAsync(m.JobId, clock, attempt, from, m.Directory, last).ConfigureAwait(false));
                owned = [.. written.SelectMany(x => x.Files.Select((f, i) => new EmbeddingFile(x.Types[i], x.Ranges[i], f, x.Sha256[i])))];
            }
            Checkpoints.Save(_trainer, m.Directory, metrics, epochOverride: m.Epoch, bestEpoch: m.BestEpoch, bestValMetric: m.BestMetric, note: note,
                ownedEmbeddings: owned);
            var sha = Checkpoints.Sha256(Path.Combine(m.Directory, Checkpoints.ManifestName));
            _coordinator.Tell(new CheckpointWritten(m.JobId, m.Epoch, m.Directory, sha, names, values));
        }
        catch (Exception e)
        {
            // Not answering lets the coordinator ask the next trainer after its checkpoint timeout.
            _log.Error(e, "Writing the checkpoint of epoch {0} to {1} failed", m.Epoch, m.Directory);
        }
    }

    /// <summary>Stops the work's stream and lets go of its held batch; the work is no longer the one in flight.</summary>
    private void Drop(EpochWork w)
    {
        Timers.Cancel("sample");
        w.Kill?.Shutdown();
        w.Kill = null;
        w.Pending = null;
        if (ReferenceEquals(_work, w)) _work = null;
    }

    private void Fail(EpochWork w, string reason)
    {
        _log.Error("Trainer cannot go on with epoch {0} of job '{1}': {2}", w.Epoch, w.JobId, reason);
        _coordinator.Tell(new TrainerFailed(w.JobId, w.Epoch, reason));
        Drop(w);
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
