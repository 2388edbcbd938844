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
/// per epoch the coordinator sends each trainer an <see cref="TrainingProtocol.EpochAssignment"/>; every
/// <c>AveragingPeriod</c> steps a trainer sends its parameters as <see cref="TrainingProtocol.ParametersReady"/> chunks
/// of round r and waits for the <see cref="TrainingProtocol.AveragedParameters"/> chunks of the same round; after its last
/// round it sends <see cref="TrainingProtocol.EpochFinished"/>; the coordinator then asks one trainer to
/// <see cref="TrainingProtocol.WriteCheckpoint"/>, which answers <see cref="TrainingProtocol.CheckpointWritten"/>.
/// Parameter vectors are chunked (≤ 4 MiB per message); checkpoints travel as a path plus sha256.
/// </summary>
public static class TrainingProtocol
{
    /// <summary>The largest parameter chunk a message carries: 1 Mi floats = 4 MiB.</summary>
    public const int MaxChunkFloats = 1 << 20;

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
        long GlobalStep) : IGraphActorsMessage;

    // ---- trainer → coordinator ----

    /// <summary>A trainer offers itself; <paramref name="LocalPartitions"/> are the partitions its node hosts (locality of its share).</summary>
    public sealed record RegisterTrainer(IActorRef Trainer, string NodeAddress, int[] LocalPartitions) : ICoordinatorCommand;

    /// <summary>The coordinator took the trainer; it gets an assignment at the next epoch it plans.</summary>
    public sealed record TrainerRegistered(string TrainerId, string JobId) : IGraphActorsMessage;

    /// <summary>Progress between rounds: steps done in this epoch, mean loss and a training metric over them.</summary>
    public sealed record StepsReported(string JobId, int Epoch, int Steps, float Loss, float Metric) : ICoordinatorCommand;

    /// <summary>Chunk <paramref name="ChunkIndex"/> of <paramref name="ChunkCount"/> of the trainer's flat parameter vector after round <paramref name="Round"/>.</summary>
    public sealed record ParametersReady(string JobId, int Epoch, int Round, int ChunkIndex, int ChunkCount, float[] Chunk) : ICoordinatorCommand;

    /// <summary>The trainer ran every step of its share: its evaluation metrics (empty when the epoch was not evaluated).</summary>
    public sealed record EpochFinished(string JobId, int Epoch, float Loss, string[] MetricNames, float[] MetricValues) : ICoordinatorCommand;

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
    /// The trainer's share of <paramref name="Epoch"/>: its seeds (locality first), the number of steps every trainer runs
    /// (a shorter share wraps around, so rounds line up), and the parameters to start from (empty path: initialise from
    /// <c>Config.Seed</c>). A share too large for one message is split: part <paramref name="Part"/> of <paramref name="Parts"/>.
    /// </summary>
    public sealed record EpochAssignment(
        string JobId,
        int Epoch,
        TrainingConfig Config,
        int[] SeedIds,
        int Part,
        int Parts,
        int Steps,
        bool Evaluate,
        string StartParametersPath,
        string StartParametersSha256) : IGraphActorsMessage;

    /// <summary>Chunk of the element-wise mean of the parameters of <paramref name="Contributors"/> trainers after <paramref name="Round"/>.</summary>
    public sealed record AveragedParameters(string JobId, int Epoch, int Round, int ChunkIndex, int ChunkCount, int Contributors, float[] Chunk)
        : IGraphActorsMessage;

    /// <summary>
    /// Write the model (as averaged after <paramref name="Epoch"/>) under <paramref name="Directory"/> and answer
    /// <see cref="CheckpointWritten"/>. The metrics are the epoch's as the coordinator merged them (one trainer
    /// evaluates: the writer may not be it); the manifest records them.
    /// </summary>
    public sealed record WriteCheckpoint(string JobId, int Epoch, string Directory, string[] MetricNames, float[] MetricValues) : IGraphActorsMessage;

    /// <summary>The job stopped, finished or failed: drop the current epoch.</summary>
    public sealed record TrainingHalted(string JobId, JobState State, string Reason) : IGraphActorsMessage;

    // ---- events (journaled) ----

    public sealed record JobStarted(string JobId, TrainingConfig Config) : ITrainingEvent;

    /// <summary>Epoch planned over <paramref name="Trainers"/> with these share sizes and <paramref name="Steps"/> steps each.</summary>
    public sealed record EpochPlanned(string JobId, int Epoch, string[] Trainers, int[] ShareSizes, int Steps) : ITrainingEvent;

    public sealed record ParametersAveraged(string JobId, int Epoch, int Round, int Contributors) : ITrainingEvent;

    public sealed record CheckpointRecorded(string JobId, int Epoch, string Path, string Sha256, string[] MetricNames, float[] MetricValues)
        : ITrainingEvent;

    public sealed record EpochCompleted(string JobId, int Epoch, float Loss, string[] MetricNames, float[] MetricValues) : ITrainingEvent;

    public sealed record JobFinished(string JobId) : ITrainingEvent;

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
        int PlannedSteps) : IGraphActorsMessage;
}
