// What the training coordinator is told, what it tells trainers, and the events it journals: arrays of primitives only.
using Akka.Actor;

namespace GraphActors.Contracts.Protocols;

/// <summary>Where a training job is in its life.</summary>
public enum JobState : byte
{
    /// <summary>No job, or the coordinator is waiting for a StartJob.</summary>
    Idle = 0,
    Running = 1,
    Finished = 2,
    Failed = 3,
    Stopped = 4,
}

/// <summary>
/// The training protocol (DistDGL's trainer ↔ coordinator exchange, made fault tolerant).
/// Sequence: a trainer sends <see cref="TrainingProtocol.RegisterTrainer"/> (and again whenever the coordinator moved);
/// per epoch the coordinator cuts the training seeds into the epoch's global batches exactly as local mode does
/// (shuffled by (seed, epoch), <c>BatchSize</c> each: global step s is local mode's batch s) and splits each global
/// batch among the trainers by locality; each trainer gets its pieces in an <see cref="TrainingProtocol.EpochAssignment"/>.
/// Every <c>AveragingPeriod</c> global steps (a round) a trainer that trained seeds sends its gradient (K = 1) or
/// parameters (K &gt; 1) as <see cref="TrainingProtocol.ParametersReady"/> chunks weighted by those seeds; every trainer
/// waits for the <see cref="TrainingProtocol.AveragedParameters"/> of the round. After the last round each sends
/// <see cref="TrainingProtocol.EpochFinished"/> (the evaluator with the epoch's metrics); the coordinator then asks one
/// trainer to <see cref="TrainingProtocol.WriteCheckpoint"/>, which answers <see cref="TrainingProtocol.CheckpointWritten"/>.
/// A trainer whose node becomes unreachable or leaves is dropped and the rest of the epoch re-planned from the first
/// open round among the others (a new <c>Attempt</c>): every training seed is trained exactly once per epoch.
/// Parameter vectors and assignments are chunked (≤ 4 MiB per message); checkpoints travel as a path plus sha256.
/// </summary>
public static class TrainingProtocol
{
    /// <summary>
    /// The largest parameter chunk a message carries: just under 1 Mi floats, so a chunk with its header stays under the
    /// default 4 MiB wire chunk (graphactors.wire.chunk-size); trainers use less when the configured chunk is smaller
    /// (<see cref="ChunkFloats"/>).
    /// </summary>
    public const int MaxChunkFloats = (1 << 20) - 1024;

    /// <summary>Floats per parameter chunk for a wire chunk of <paramref name="chunkBytes"/>: the chunk less a 4 KiB header allowance.</summary>
    public static int ChunkFloats(int chunkBytes) => Math.Clamp((chunkBytes - 4096) / sizeof(float), 1024, MaxChunkFloats);

    /// <summary>
    /// The most ints of each array (piece steps, piece counts, seeds) one <see cref="EpochAssignment"/> part carries:
    /// 1 MiB each, so a part with its job config stays under the 4 MiB wire chunk.
    /// </summary>
    public const int MaxAssignmentInts = 1 << 18;

    /// <summary>
    /// An order-independent checksum of a set of seeds (a sum of mixed ids): the coordinator compares what a trainer
    /// says it trained in a round with what it planned, so a seed trained twice, or not at all, is caught.
    /// </summary>
    public static long SeedChecksum(ReadOnlySpan<int> seeds)
    {
        ulong sum = 0;
        foreach (var s in seeds)
        {
            var z = (ulong)(uint)s + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            sum += z ^ (z >> 31);
        }
        return (long)sum;
    }

    /// <summary>Everything a job is trained with; primitives and strings only, so it can be journaled and sent.</summary>
    /// <param name="ModelType">graphsage, gat, rgcn…</param>
    /// <param name="Task">node-classification, link-prediction…</param>
    /// <param name="Target">The target node type (or canonical edge type "src:rel:dst" for link prediction).</param>
    /// <param name="AveragingPeriod">K: parameters are averaged every K steps; 1 is synchronous data-parallel.</param>
    /// <param name="EvalEvery">Evaluate every this many epochs (0: never); the last epoch is always evaluated.</param>
    /// <param name="EvalMetric">The metric name whose highest value is the job's best (e.g. "val_acc").</param>
    /// <param name="TrainingHocon">
    /// The job's whole <c>training { … }</c> block as HOCON text: every key of local-mode training (dropout, weight
    /// decay, feature normalisation, reverse edges…) reaches the trainers, which build the same model local mode builds.
    /// The fields above win where both say something. Empty: local-mode defaults.
    /// </param>
    public sealed record TrainingConfig(
        string ModelType,
        string Task,
        string Target,
        int Hidden,
        int Layers,
        int BatchSize,
        float LearningRate,
        int[] Fanouts,
        int Epochs,
        ulong Seed,
        int AveragingPeriod,
        int EvalEvery,
        string EvalMetric,
        string CheckpointDir,
        string StorePath,
        string TrainingHocon = "");

    /// <summary>Marker of the coordinator's commands and queries (what clients and trainers send it).</summary>
    public interface ICoordinatorCommand : IGraphActorsMessage;

    /// <summary>Marker of the coordinator's journaled events.</summary>
    public interface ITrainingEvent : IGraphActorsMessage
    {
        string JobId { get; }
    }

    // ---- client commands and queries ----

    public sealed record StartJob(string JobId, TrainingConfig Config) : ICoordinatorCommand;

    public sealed record StopJob(string JobId) : ICoordinatorCommand;

    /// <summary>Continue a stopped or failed job from its last completed epoch and last checkpoint.</summary>
    public sealed record ResumeJob(string JobId) : ICoordinatorCommand;

    /// <summary>The answer to Start/Stop/Resume: accepted, with the job's state after it, or refused with the reason.</summary>
    public sealed record JobCommandResult(string JobId, bool Accepted, JobState State, string Message) : IGraphActorsMessage;

    /// <summary>The current (or last) job's status; an empty <paramref name="JobId"/> asks for whichever job the coordinator has.</summary>
    public sealed record GetJobStatus(string JobId = "") : ICoordinatorCommand;

    /// <summary>
    /// <paramref name="Epoch"/> is the epoch in progress (or the last one planned), <paramref name="LastCompletedEpoch"/>
    /// −1 before the first completes; metrics are the last completed epoch's (parallel arrays). <paramref name="EtaSeconds"/>
    /// is −1 while unknown. <paramref name="Trainers"/> names the registered trainers. <paramref name="Step"/> restarts
    /// every epoch; <paramref name="GlobalStep"/> counts over the job (the planned steps of every completed epoch plus
    /// <paramref name="Step"/>), so a curve drawn from sampled statuses has an exact x axis whatever it missed.
    /// <paramref name="SeedsPerEpoch"/> is the training split's size; <paramref name="SeedsTrained"/>[e] the seeds the
    /// coordinator counted as trained in completed epoch e (−1 unknown: journaled before it counted).
    /// <paramref name="FailedEvaluations"/> counts the evaluation epochs that ended without metrics, the last one's
    /// reason in <paramref name="EvaluationError"/>: a job can finish and still have failed evaluations.
    /// <paramref name="Attempt"/> is the epoch in flight's re-plan count (0: as first planned).
    /// <paramref name="History"/> is the job's completed epochs in order, as journaled, so a client that polls misses
    /// none and a summary can name the best epoch's metrics beside the last's: the newest 256 of a longer job, preceded
    /// by the best epoch when it is older.
    /// </summary>
    public sealed record JobStatus(
        string JobId,
        JobState State,
        int Epoch,
        int LastCompletedEpoch,
        int Round,
        long Step,
        float LastLoss,
        string[] MetricNames,
        float[] MetricValues,
        float BestMetric,
        int BestEpoch,
        string LastCheckpointPath,
        string LastCheckpointSha256,
        double EtaSeconds,
        string[] Trainers,
        string Reason,
        long GlobalStep,
        long SeedsPerEpoch = 0,
        long[]? SeedsTrained = null,
        int FailedEvaluations = 0,
        string EvaluationError = "",
        int Attempt = 0,
        EpochSummary[]? History = null) : IGraphActorsMessage
    {
        /// <summary>Seeds trained per completed epoch (empty when none completed).</summary>
        public long[] SeedsTrainedPerEpoch => SeedsTrained ?? [];

        /// <summary>The completed epochs, oldest first (empty when none completed).</summary>
        public EpochSummary[] Epochs => History ?? [];

        /// <summary>The completed epoch <paramref name="epoch"/>, or null when it is not in the history.</summary>
        public EpochSummary? EpochAt(int epoch)
        {
            foreach (var e in Epochs)
                if (e.Epoch == epoch) return e;
            return null;
        }
    }

    /// <summary>
    /// One completed epoch: its merged training loss and its evaluation's metrics (parallel arrays, empty for an epoch
    /// that did not evaluate or whose evaluation failed).
    /// </summary>
    public sealed record EpochSummary(int Epoch, float Loss, string[] MetricNames, float[] MetricValues);

    // ---- trainer → coordinator ----

    /// <summary>A trainer offers itself; <paramref name="LocalPartitions"/> are the partitions its node hosts (locality of its share).</summary>
    public sealed record RegisterTrainer(IActorRef Trainer, string NodeAddress, int[] LocalPartitions) : ICoordinatorCommand;

    /// <summary>The coordinator took the trainer; it gets an assignment at the next epoch it plans.</summary>
    public sealed record TrainerRegistered(string TrainerId, string JobId) : IGraphActorsMessage;

    /// <summary>Progress between rounds: steps done in this epoch, mean loss and a training metric over them.</summary>
    public sealed record StepsReported(string JobId, int Epoch, int Steps, float Loss, float Metric) : ICoordinatorCommand;

    /// <summary>
    /// Chunk <paramref name="ChunkIndex"/> of <paramref name="ChunkCount"/> of the trainer's contribution to round
    /// <paramref name="Round"/> of attempt <paramref name="Attempt"/>: its mean gradient over the round's seeds it trained
    /// (K = 1) or its parameters after them (K &gt; 1), to be weighted by <paramref name="Seeds"/>, with
    /// <see cref="SeedChecksum"/> of those seeds (every chunk repeats both).
    /// </summary>
    public sealed record ParametersReady(string JobId, int Epoch, int Attempt, int Round, int ChunkIndex, int ChunkCount, int Seeds, long SeedChecksum,
        float[] Chunk) : ICoordinatorCommand;

    /// <summary>
    /// The trainer applied the epoch's last round: its mean training loss, and — when it evaluated the epoch — the
    /// metrics, or in <paramref name="EvaluationError"/> why the evaluation failed (empty: no error).
    /// <paramref name="ParametersSha256"/> hashes the replica's parameters after that round: every replica applies the
    /// same averages, so every member's hash must be the same, and the coordinator fails a job whose replicas differ.
    /// </summary>
    public sealed record EpochFinished(string JobId, int Epoch, float Loss, string[] MetricNames, float[] MetricValues, string EvaluationError = "",
        string ParametersSha256 = "")
        : ICoordinatorCommand;

    /// <summary>A checkpoint of <paramref name="Epoch"/> (after its last averaging) is on disk at <paramref name="Path"/>.</summary>
    public sealed record CheckpointWritten(string JobId, int Epoch, string Path, string Sha256, string[] MetricNames, float[] MetricValues)
        : ICoordinatorCommand;

    /// <summary>
    /// The trainer cannot train this job (its config does not build a model over the store, a task the stream does not
    /// carry, its sampler refused the epoch): the coordinator fails the job with <paramref name="Reason"/>.
    /// </summary>
    public sealed record TrainerFailed(string JobId, int Epoch, string Reason) : ICoordinatorCommand;

    // ---- coordinator → trainer ----

    /// <summary>
    /// The trainer's pieces of attempt <paramref name="Attempt"/> of <paramref name="Epoch"/>, from global step
    /// <paramref name="FromStep"/> on (0, or the first step of the round a re-plan restarts) of <paramref name="TotalSteps"/>:
    /// piece j is its part of global step <paramref name="PieceSteps"/>[j], <paramref name="PieceCounts"/>[j] seeds, the
    /// next ones of <paramref name="SeedIds"/> (node ids, or positions of training edges for link prediction). Pieces are
    /// in step order, at most one per step; a trainer with no piece in a round still applies its average. The start
    /// parameters are a checkpoint (empty path: initialise from <c>Config.Seed</c>). Large tables are split: part
    /// <paramref name="Part"/> of <paramref name="Parts"/> carries the next slices of the piece table and of the seeds
    /// (each at most <see cref="MaxAssignmentInts"/>); the trainer concatenates them in part order.
    /// </summary>
    public sealed record EpochAssignment(
        string JobId,
        int Epoch,
        int Attempt,
        TrainingConfig Config,
        int TotalSteps,
        int FromStep,
        int[] PieceSteps,
        int[] PieceCounts,
        int[] SeedIds,
        int Part,
        int Parts,
        bool Evaluate,
        string StartParametersPath,
        string StartParametersSha256,
        string[]? Ring = null,
        int TrainingSeeds = -1) : IGraphActorsMessage
    {
        /// <summary>
        /// How many seeds global step <paramref name="step"/> holds over all trainers (local mode's batch: full but for
        /// the last), from the epoch's <see cref="TrainingSeeds"/>; a piece's share of its step is its count over this.
        /// </summary>
        public int StepSeeds(int step, int batchSize) =>
            TrainingSeeds < 0 ? throw new InvalidOperationException($"the assignment of epoch {Epoch} does not carry its training seed count")
                : (int)Math.Min(batchSize, TrainingSeeds - (long)step * batchSize);

        /// <summary>
        /// The attempt's trainers in ring order (their ids, actor paths with address) when the job averages over a ring
        /// (<c>graphactors.training-coordinator.averaging = ring</c>); empty: the coordinator averages (the star).
        /// </summary>
        public string[] RingMembers => Ring ?? [];

        /// <summary>The seeds of this part's pieces of global steps <paramref name="first"/> ≤ step &lt; <paramref name="last"/>, in piece order.</summary>
        public int[] SeedsOfSteps(int first, int last)
        {
            var seeds = new List<int>();
            var offset = 0;
            for (var j = 0; j < PieceSteps.Length; j++)
            {
                if (PieceSteps[j] >= first && PieceSteps[j] < last) seeds.AddRange(SeedIds.AsSpan(offset, PieceCounts[j]));
                offset += PieceCounts[j];
            }
            return seeds.ToArray();
        }
    }

    /// <summary>
    /// Chunk of round <paramref name="Round"/>'s average: the seed-weighted mean of the contributions of
    /// <paramref name="Contributors"/> trainers (gradients for K = 1, parameters otherwise) over <paramref name="Seeds"/> seeds.
    /// </summary>
    public sealed record AveragedParameters(string JobId, int Epoch, int Attempt, int Round, int ChunkIndex, int ChunkCount, int Contributors,
        int Seeds, float[] Chunk) : IGraphActorsMessage;

    // ---- the ring (averaging = ring): trainer ↔ trainer, with the coordinator checking each round ----

    /// <summary>
    /// Chunk <paramref name="ChunkIndex"/> of segment <paramref name="Segment"/> of round <paramref name="Round"/>'s vector,
    /// from a trainer to the next one in the ring. The vector is cut into one segment per member; segment s starts at
    /// member s (hop 0) and goes around. Hops 0 … N−2 (reduce-scatter) carry the seed-weighted partial sum Σ nᵢ·gᵢ of the
    /// members it has passed, <paramref name="Weight"/> their summed seeds (an empty chunk: zeros, nobody with seeds yet);
    /// at hop N−2 its receiver, the segment's owner, adds its own and divides by the round's seeds. Hops N−1 … 2N−3
    /// (all-gather) carry that mean, <paramref name="Weight"/> the round's seeds.
    /// </summary>
    public sealed record RingChunk(string JobId, int Epoch, int Attempt, int Round, int Hop, int Segment, int ChunkIndex, long Weight, float[] Chunk)
        : IGraphActorsMessage;

    /// <summary>The receiver has passed on (or kept) <paramref name="Count"/> more ring chunks of the round: the sender may send as many again.</summary>
    public sealed record RingAck(string JobId, int Epoch, int Attempt, int Round, int Count) : IGraphActorsMessage;

    /// <summary>
    /// A ring member starts round <paramref name="Round"/>: it trained <paramref name="Seeds"/> seeds with
    /// <see cref="SeedChecksum"/> <paramref name="SeedChecksum"/> (0 and 0: none, it takes part with weight 0). The
    /// coordinator checks them against its plan, as it checks a <see cref="ParametersReady"/>.
    /// </summary>
    public sealed record RoundContribution(string JobId, int Epoch, int Attempt, int Round, int Seeds, long SeedChecksum) : ICoordinatorCommand;

    /// <summary>
    /// A ring member holds round <paramref name="Round"/>'s whole average, not yet applied: the ring summed
    /// <paramref name="RingSeeds"/> seeds, and <paramref name="Digest"/> is <see cref="VectorDigest"/> of the average
    /// (every member must hold the same bits).
    /// </summary>
    public sealed record RoundReduced(string JobId, int Epoch, int Attempt, int Round, long RingSeeds, long Digest) : ICoordinatorCommand;

    /// <summary>
    /// Every member of the ring holds round <paramref name="Round"/>'s average and the seeds check out: apply it. Until
    /// then no member applies, so a member leaving mid-ring lets the round be planned again with nothing applied.
    /// </summary>
    public sealed record RoundClosed(string JobId, int Epoch, int Attempt, int Round, int Contributors, int Seeds) : IGraphActorsMessage;

    /// <summary>A 64-bit FNV-1a digest of a float vector's bits: members of a ring compare the average they hold through the coordinator.</summary>
    public static long VectorDigest(ReadOnlySpan<float> vector)
    {
        var h = 14695981039346656037UL;
        foreach (var bits in System.Runtime.InteropServices.MemoryMarshal.Cast<float, uint>(vector)) h = (h ^ bits) * 1099511628211UL;
        return (long)h;
    }

    /// <summary>
    /// Evaluate the model as it is after <paramref name="Epoch"/> (the trainer that was to evaluate left) and answer
    /// <see cref="EpochFinished"/> with the metrics or the reason the evaluation failed.
    /// </summary>
    public sealed record EvaluateEpoch(string JobId, int Epoch) : IGraphActorsMessage;

    /// <summary>
    /// Write the model (as averaged after <paramref name="Epoch"/>) under <paramref name="Directory"/> and answer
    /// <see cref="CheckpointWritten"/>. The metrics are the epoch's as the coordinator merged them (one trainer
    /// evaluates: the writer may not be it); the manifest records them, the job's best epoch and metric so far
    /// (−1 / NaN: none yet), and <paramref name="Note"/>: why the epoch has no metrics, when it has none.
    /// </summary>
    public sealed record WriteCheckpoint(string JobId, int Epoch, string Directory, string[] MetricNames, float[] MetricValues,
        int BestEpoch = -1, float BestMetric = float.NaN, string Note = "") : IGraphActorsMessage;

    /// <summary>The job stopped, finished or failed: drop the current epoch.</summary>
    public sealed record TrainingHalted(string JobId, JobState State, string Reason) : IGraphActorsMessage;

    // ---- events (journaled) ----

    public sealed record JobStarted(string JobId, TrainingConfig Config) : ITrainingEvent;

    /// <summary>
    /// Epoch planned over <paramref name="Trainers"/> with these share sizes (seeds over the epoch) and
    /// <paramref name="Steps"/> global steps; <paramref name="TrainingSeeds"/> seeds in all (−1: journaled before it was counted).
    /// <paramref name="Attempt"/> is the plan's attempt number: 0, or after the coordinator moved mid-epoch one above the
    /// last attempt journaled for the epoch, so that a message still in flight from the old plan is recognised as stale.
    /// </summary>
    public sealed record EpochPlanned(string JobId, int Epoch, string[] Trainers, int[] ShareSizes, int Steps, long TrainingSeeds = -1, int Attempt = 0) : ITrainingEvent;

    /// <summary>
    /// Attempt <paramref name="Attempt"/> of <paramref name="Epoch"/>: the steps from <paramref name="FromStep"/> on are
    /// planned again over <paramref name="Trainers"/> (<paramref name="Reason"/>: who left and why); the rounds before it stay.
    /// </summary>
    public sealed record EpochReplanned(string JobId, int Epoch, int Attempt, int FromStep, string[] Trainers, string Reason) : ITrainingEvent;

    /// <summary>Round <paramref name="Round"/> closed: <paramref name="Contributors"/> trainers, <paramref name="Seeds"/> seeds trained in it.</summary>
    public sealed record ParametersAveraged(string JobId, int Epoch, int Round, int Contributors, int Seeds = 0) : ITrainingEvent;

    /// <summary>An evaluation epoch ended without metrics: <paramref name="Reason"/> says why (status and ctl show it).</summary>
    public sealed record EvaluationFailed(string JobId, int Epoch, string Reason) : ITrainingEvent;

    public sealed record CheckpointRecorded(string JobId, int Epoch, string Path, string Sha256, string[] MetricNames, float[] MetricValues)
        : ITrainingEvent;

    /// <summary>
    /// An epoch is done: its merged loss and metrics, and the seeds its closed rounds trained against the training split
    /// (−1 for both when journaled before they were counted).
    /// </summary>
    public sealed record EpochCompleted(string JobId, int Epoch, float Loss, string[] MetricNames, float[] MetricValues, long SeedsTrained = -1,
        long SeedsPlanned = -1) : ITrainingEvent;

    /// <summary>The job ended well: every epoch done, or stopped early by training.patience (<paramref name="Reason"/> says which; "" in journals written before it was recorded).</summary>
    public sealed record JobFinished(string JobId, string Reason = "") : ITrainingEvent;

    public sealed record JobFailed(string JobId, string Reason) : ITrainingEvent;

    public sealed record JobStopped(string JobId) : ITrainingEvent;

    /// <summary>A stopped or failed job continues from the epoch after <paramref name="FromCompletedEpoch"/>.</summary>
    public sealed record JobResumed(string JobId, int FromCompletedEpoch) : ITrainingEvent;

    /// <summary>
    /// The durable part of the coordinator's state, as snapshotted (trainers are not in it: they re-register).
    /// <paramref name="CompletedSteps"/> sums the planned steps of the completed epochs; <paramref name="PlannedSteps"/>
    /// is the steps of the epoch planned last.
    /// </summary>
    public sealed record CoordinatorSnapshot(
        string JobId,
        TrainingConfig? Config,
        JobState State,
        int Epoch,
        int LastCompletedEpoch,
        int Round,
        float LastLoss,
        string[] MetricNames,
        float[] MetricValues,
        float BestMetric,
        int BestEpoch,
        string LastCheckpointPath,
        string LastCheckpointSha256,
        string Reason,
        long CompletedSteps,
        int PlannedSteps,
        long SeedsPerEpoch = 0,
        long[]? SeedsTrained = null,
        int FailedEvaluations = 0,
        string EvaluationError = "",
        EpochSummary[]? History = null,
        int LastAttempt = -1) : IGraphActorsMessage;
}
