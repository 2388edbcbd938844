// The training protocol's manifests ("T…") and write/read routines; kept apart from the partition and sampling ones.
using System.Runtime.Serialization;
using Akka.Actor;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Contracts.Serialization;

public sealed partial class GraphActorsSerializer
{
    // Training manifests: all start with 'T'; journaled events with "TV", the snapshot "TSS". Events and the snapshot are journaled, so their layout is as permanent
    // as a wire format: change it only with a new format version.
    internal const string StartJobManifest = "TJS";
    internal const string StopJobManifest = "TJX";
    internal const string ResumeJobManifest = "TJU";
    internal const string JobCommandResultManifest = "TJC";
    internal const string GetJobStatusManifest = "TGS";
    internal const string JobStatusManifest = "TST";
    internal const string RegisterTrainerManifest = "TRT";
    internal const string TrainerRegisteredManifest = "TRD";
    internal const string StepsReportedManifest = "TSR";
    // TPR, TAP and TEA were the unweighted round and the share-per-trainer assignment (before global-batch pieces): retired.
    internal const string ParametersReadyManifest = "TPW";
    internal const string EpochFinishedManifest = "TEF";
    internal const string CheckpointWrittenManifest = "TCW";
    internal const string TrainerFailedManifest = "TTF";
    internal const string EpochAssignmentManifest = "TEB";
    internal const string AveragedParametersManifest = "TAW";
    internal const string EvaluateEpochManifest = "TEV";
    internal const string WriteCheckpointManifest = "TWC";
    internal const string TrainingHaltedManifest = "THT";
    internal const string RingChunkManifest = "TRC";
    internal const string RingAckManifest = "TRK";
    internal const string RoundContributionManifest = "TRB";
    internal const string RoundReducedManifest = "TRR";
    internal const string RoundClosedManifest = "TRL";
    internal const string JobStartedManifest = "TVS";
    internal const string EpochPlannedManifest = "TVP";
    internal const string ParametersAveragedManifest = "TVA";
    internal const string EpochReplannedManifest = "TVQ";
    internal const string EvaluationFailedManifest = "TVV";
    internal const string CheckpointRecordedManifest = "TVC";
    internal const string EpochCompletedManifest = "TVE";
    internal const string JobFinishedManifest = "TVF";
    internal const string JobFailedManifest = "TVX";
    internal const string JobStoppedManifest = "TVT";
    internal const string JobResumedManifest = "TVR";
    internal const string CoordinatorSnapshotManifest = "TSS";

    private static string? TrainingManifest(object o) => o switch
    {
        StartJob => StartJobManifest,
        StopJob => StopJobManifest,
        ResumeJob => ResumeJobManifest,
        JobCommandResult => JobCommandResultManifest,
        GetJobStatus => GetJobStatusManifest,
        JobStatus => JobStatusManifest,
        RegisterTrainer => RegisterTrainerManifest,
        TrainerRegistered => TrainerRegisteredManifest,
        StepsReported => StepsReportedManifest,
        ParametersReady => ParametersReadyManifest,
        EpochFinished => EpochFinishedManifest,
        CheckpointWritten => CheckpointWrittenManifest,
        TrainerFailed => TrainerFailedManifest,
        EpochAssignment => EpochAssignmentManifest,
        AveragedParameters => AveragedParametersManifest,
        EvaluateEpoch => EvaluateEpochManifest,
        EpochReplanned => EpochReplannedManifest,
        EvaluationFailed => EvaluationFailedManifest,
        WriteCheckpoint => WriteCheckpointManifest,
        TrainingHalted => TrainingHaltedManifest,
        RingChunk => RingChunkManifest,
        RingAck => RingAckManifest,
        RoundContribution => RoundContributionManifest,
        RoundReduced => RoundReducedManifest,
        RoundClosed => RoundClosedManifest,
        JobStarted => JobStartedManifest,
        EpochPlanned => EpochPlannedManifest,
        ParametersAveraged => ParametersAveragedManifest,
        CheckpointRecorded => CheckpointRecordedManifest,
        EpochCompleted => EpochCompletedManifest,
        JobFinished => JobFinishedManifest,
        JobFailed => JobFailedManifest,
        JobStopped => JobStoppedManifest,
        JobResumed => JobResumedManifest,
        CoordinatorSnapshot => CoordinatorSnapshotManifest,
        _ => null,
    };

    private static void WriteTraining<TW>(ref TW w, object obj) where TW : struct, IWire
    {
        switch (obj)
        {
            case StartJob m: w.String(m.JobId); Config(ref w, m.Config); break;
            case StopJob m: w.String(m.JobId); break;
            case ResumeJob m: w.String(m.JobId); break;
            case JobCommandResult m: w.String(m.JobId); w.Byte(m.Accepted ? (byte)1 : (byte)0); w.Byte((byte)m.State); w.String(m.Message); break;
            case GetJobStatus m: w.String(m.JobId); break;
            case JobStatus m:
                w.String(m.JobId); w.Byte((byte)m.State); w.Int(m.Epoch); w.Int(m.LastCompletedEpoch); w.Int(m.Round); w.Long(m.Step);
                Float(ref w, m.LastLoss); Strings(ref w, m.MetricNames); w.Floats(m.MetricValues); Float(ref w, m.BestMetric); w.Int(m.BestEpoch);
                w.String(m.LastCheckpointPath); w.String(m.LastCheckpointSha256); w.Long(BitConverter.DoubleToInt64Bits(m.EtaSeconds));
                Strings(ref w, m.Trainers); w.String(m.Reason); w.Long(m.GlobalStep);
                w.Long(m.SeedsPerEpoch); w.Longs(m.SeedsTrainedPerEpoch); w.Int(m.FailedEvaluations); w.String(m.EvaluationError); w.Int(m.Attempt);
                Summaries(ref w, m.Epochs);
                break;
            case RegisterTrainer m:
                w.String(ActorRef(m.Trainer)); w.String(m.NodeAddress); w.Ints(m.LocalPartitions);
                break;
            case TrainerRegistered m: w.String(m.TrainerId); w.String(m.JobId); break;
            case StepsReported m: w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Steps); Float(ref w, m.Loss); Float(ref w, m.Metric); break;
            case ParametersReady m:
                w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.Round); w.Int(m.ChunkIndex); w.Int(m.ChunkCount); w.Int(m.Seeds);
                w.Long(m.SeedChecksum); w.Floats(m.Chunk);
                break;
            case EpochFinished m:
                w.String(m.JobId); w.Int(m.Epoch); Float(ref w, m.Loss); Strings(ref w, m.MetricNames); w.Floats(m.MetricValues); w.String(m.EvaluationError);
                w.String(m.ParametersSha256);
                break;
            case CheckpointWritten m:
                w.String(m.JobId); w.Int(m.Epoch); w.String(m.Path); w.String(m.Sha256); Strings(ref w, m.MetricNames); w.Floats(m.MetricValues);
                break;
            case TrainerFailed m: w.String(m.JobId); w.Int(m.Epoch); w.String(m.Reason); break;
            case EpochAssignment m:
                w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); Config(ref w, m.Config); w.Int(m.TotalSteps); w.Int(m.FromStep);
                w.Ints(m.PieceSteps); w.Ints(m.PieceCounts); w.Ints(m.SeedIds); w.Int(m.Part); w.Int(m.Parts);
                w.Byte(m.Evaluate ? (byte)1 : (byte)0); w.String(m.StartParametersPath); w.String(m.StartParametersSha256);
                Strings(ref w, m.RingMembers);
                w.Int(m.TrainingSeeds);
                break;
            case AveragedParameters m:
                w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.Round); w.Int(m.ChunkIndex); w.Int(m.ChunkCount); w.Int(m.Contributors);
                w.Int(m.Seeds); w.Floats(m.Chunk);
                break;
            case RingChunk m:
                w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.Round); w.Int(m.Hop); w.Int(m.Segment); w.Int(m.ChunkIndex);
                w.Long(m.Weight); w.Floats(m.Chunk);
                break;
            case RingAck m: w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.Round); w.Int(m.Count); break;
            case RoundContribution m: w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.Round); w.Int(m.Seeds); w.Long(m.SeedChecksum); break;
            case RoundReduced m: w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.Round); w.Long(m.RingSeeds); w.Long(m.Digest); break;
            case RoundClosed m: w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.Round); w.Int(m.Contributors); w.Int(m.Seeds); break;
            case EvaluateEpoch m: w.String(m.JobId); w.Int(m.Epoch); break;
            case WriteCheckpoint m:
                w.String(m.JobId); w.Int(m.Epoch); w.String(m.Directory); Strings(ref w, m.MetricNames); w.Floats(m.MetricValues);
                w.Int(m.BestEpoch); Float(ref w, m.BestMetric); w.String(m.Note);
                break;
            case TrainingHalted m: w.String(m.JobId); w.Byte((byte)m.State); w.String(m.Reason); break;
            case JobStarted m: w.String(m.JobId); Config(ref w, m.Config); break;
            case EpochPlanned m: w.String(m.JobId); w.Int(m.Epoch); Strings(ref w, m.Trainers); w.Ints(m.ShareSizes); w.Int(m.Steps); w.Long(m.TrainingSeeds); w.Int(m.Attempt); break;
            case EpochReplanned m: w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Attempt); w.Int(m.FromStep); Strings(ref w, m.Trainers); w.String(m.Reason); break;
            case ParametersAveraged m: w.String(m.JobId); w.Int(m.Epoch); w.Int(m.Round); w.Int(m.Contributors); w.Int(m.Seeds); break;
            case EvaluationFailed m: w.String(m.JobId); w.Int(m.Epoch); w.String(m.Reason); break;
            case CheckpointRecorded m:
                w.String(m.JobId); w.Int(m.Epoch); w.String(m.Path); w.String(m.Sha256); Strings(ref w, m.MetricNames); w.Floats(m.MetricValues);
                break;
            case EpochCompleted m:
                w.String(m.JobId); w.Int(m.Epoch); Float(ref w, m.Loss); Strings(ref w, m.MetricNames); w.Floats(m.MetricValues);
                w.Long(m.SeedsTrained); w.Long(m.SeedsPlanned);
                break;
            case JobFinished m: w.String(m.JobId); w.String(m.Reason); break;
            case JobFailed m: w.String(m.JobId); w.String(m.Reason); break;
            case JobStopped m: w.String(m.JobId); break;
            case JobResumed m: w.String(m.JobId); w.Int(m.FromCompletedEpoch); break;
            case CoordinatorSnapshot m:
                w.String(m.JobId); w.Byte(m.Config is null ? (byte)0 : (byte)1);
                if (m.Config is not null) Config(ref w, m.Config);
                w.Byte((byte)m.State); w.Int(m.Epoch); w.Int(m.LastCompletedEpoch); w.Int(m.Round); Float(ref w, m.LastLoss);
                Strings(ref w, m.MetricNames); w.Floats(m.MetricValues); Float(ref w, m.BestMetric); w.Int(m.BestEpoch);
                w.String(m.LastCheckpointPath); w.String(m.LastCheckpointSha256); w.String(m.Reason);
                w.Long(m.CompletedSteps); w.Int(m.PlannedSteps);
                w.Long(m.SeedsPerEpoch); w.Longs(m.SeedsTrained ?? []); w.Int(m.FailedEvaluations); w.String(m.EvaluationError);
                Summaries(ref w, m.History ?? []);
                w.Int(m.LastAttempt);
                break;
            default:
                throw Unknown(obj);
        }
    }

    private static object ReadTraining(ref WireReader r, string manifest, ExtendedActorSystem system) => manifest switch
    {
        StartJobManifest => new StartJob(r.String(), Config(ref r)),
        StopJobManifest => new StopJob(r.String()),
        ResumeJobManifest => new ResumeJob(r.String()),
        JobCommandResultManifest => new JobCommandResult(r.String(), r.Byte() != 0, (JobState)r.Byte(), r.String()),
        GetJobStatusManifest => new GetJobStatus(r.String()),
        JobStatusManifest => new JobStatus(r.String(), (JobState)r.Byte(), r.Int(), r.Int(), r.Int(), r.Long(), Float(ref r), Strings(ref r),
            r.Floats(), Float(ref r), r.Int(), r.String(), r.String(), BitConverter.Int64BitsToDouble(r.Long()), Strings(ref r), r.String(),
            r.Long(), r.Long(), NullIfEmpty(r.Longs()), r.Int(), r.String(), r.Int(), r.HasMore ? Summaries(ref r) : null),
        RegisterTrainerManifest => new RegisterTrainer(ActorRef(r.String(), system), r.String(), r.Ints()),
        TrainerRegisteredManifest => new TrainerRegistered(r.String(), r.String()),
        StepsReportedManifest => new StepsReported(r.String(), r.Int(), r.Int(), Float(ref r), Float(ref r)),
        ParametersReadyManifest => new ParametersReady(r.String(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Long(), r.Floats()),
        EpochFinishedManifest => new EpochFinished(r.String(), r.Int(), Float(ref r), Strings(ref r), r.Floats(), r.HasMore ? r.String() : "",
            r.HasMore ? r.String() : ""),
        CheckpointWrittenManifest => new CheckpointWritten(r.String(), r.Int(), r.String(), r.String(), Strings(ref r), r.Floats()),
        TrainerFailedManifest => new TrainerFailed(r.String(), r.Int(), r.String()),
        EpochAssignmentManifest => new EpochAssignment(r.String(), r.Int(), r.Int(), Config(ref r), r.Int(), r.Int(), r.Ints(), r.Ints(), r.Ints(),
            r.Int(), r.Int(), r.Byte() != 0, r.String(), r.String(), r.HasMore ? NullIfEmpty(Strings(ref r)) : null, r.HasMore ? r.Int() : -1),
        AveragedParametersManifest => new AveragedParameters(r.String(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Floats()),
        RingChunkManifest => new RingChunk(r.String(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int(), r.Long(), r.Floats()),
        RingAckManifest => new RingAck(r.String(), r.Int(), r.Int(), r.Int(), r.Int()),
        RoundContributionManifest => new RoundContribution(r.String(), r.Int(), r.Int(), r.Int(), r.Int(), r.Long()),
        RoundReducedManifest => new RoundReduced(r.String(), r.Int(), r.Int(), r.Int(), r.Long(), r.Long()),
        RoundClosedManifest => new RoundClosed(r.String(), r.Int(), r.Int(), r.Int(), r.Int(), r.Int()),
        EvaluateEpochManifest => new EvaluateEpoch(r.String(), r.Int()),
        WriteCheckpointManifest => new WriteCheckpoint(r.String(), r.Int(), r.String(), Strings(ref r), r.Floats(), r.Int(), Float(ref r), r.String()),
        TrainingHaltedManifest => new TrainingHalted(r.String(), (JobState)r.Byte(), r.String()),
        JobStartedManifest => new JobStarted(r.String(), Config(ref r)),
        // Journaled events read their older, shorter layouts too: the fields added later default.
        EpochPlannedManifest => new EpochPlanned(r.String(), r.Int(), Strings(ref r), r.Ints(), r.Int(), r.HasMore ? r.Long() : -1, r.HasMore ? r.Int() : 0),
        EpochReplannedManifest => new EpochReplanned(r.String(), r.Int(), r.Int(), r.Int(), Strings(ref r), r.String()),
        ParametersAveragedManifest => new ParametersAveraged(r.String(), r.Int(), r.Int(), r.Int(), r.HasMore ? r.Int() : 0),
        EvaluationFailedManifest => new EvaluationFailed(r.String(), r.Int(), r.String()),
        CheckpointRecordedManifest => new CheckpointRecorded(r.String(), r.Int(), r.String(), r.String(), Strings(ref r), r.Floats()),
        EpochCompletedManifest => new EpochCompleted(r.String(), r.Int(), Float(ref r), Strings(ref r), r.Floats(), r.HasMore ? r.Long() : -1,
            r.HasMore ? r.Long() : -1),
        JobFinishedManifest => new JobFinished(r.String(), r.HasMore ? r.String() : ""),
        JobFailedManifest => new JobFailed(r.String(), r.String()),
        JobStoppedManifest => new JobStopped(r.String()),
        JobResumedManifest => new JobResumed(r.String(), r.Int()),
        CoordinatorSnapshotManifest => ReadSnapshot(ref r),
        _ => throw new SerializationException(
            $"Unknown GraphActors manifest '{manifest}': a newer node sent a message this node does not know."),
    };

    private static CoordinatorSnapshot ReadSnapshot(ref WireReader r)
    {
        var jobId = r.String();
        var config = r.Byte() != 0 ? Config(ref r) : null;
        return new CoordinatorSnapshot(jobId, config, (JobState)r.Byte(), r.Int(), r.Int(), r.Int(), Float(ref r), Strings(ref r), r.Floats(),
            Float(ref r), r.Int(), r.String(), r.String(), r.String(),
            // Snapshots written before the step counts existed end here: their job's curve restarts its x axis at 0.
            r.HasMore ? r.Long() : 0, r.HasMore ? r.Int() : 0,
            // … and before the seed accounting and evaluation failures, here.
            r.HasMore ? r.Long() : 0, r.HasMore ? NullIfEmpty(r.Longs()) : null, r.HasMore ? r.Int() : 0, r.HasMore ? r.String() : "",
            // … and before the epoch history, here: the summary then starts with the epochs completed after it.
            r.HasMore ? Summaries(ref r) : null,
            // … and before the last attempt, here: a coordinator recovered from such a snapshot starts the epoch over at
            // one above the attempts journaled after it.
            r.HasMore ? r.Int() : -1);
    }

    private static void Summaries<TW>(ref TW w, EpochSummary[] epochs) where TW : struct, IWire
    {
        w.Int(epochs.Length);
        foreach (var e in epochs)
        {
            w.Int(e.Epoch); Float(ref w, e.Loss); Strings(ref w, e.MetricNames); w.Floats(e.MetricValues);
        }
    }

    // An empty history reads as absent, so a round trip is exact (as with the per-epoch seed counts).
    private static EpochSummary[]? Summaries(ref WireReader r)
    {
        var n = Count(ref r);
        if (n == 0) return null;
        var result = new EpochSummary[n];
        for (var i = 0; i < n; i++) result[i] = new EpochSummary(r.Int(), Float(ref r), Strings(ref r), r.Floats());
        return result;
    }

    // An absent per-epoch list and an empty one are the same state: read both as absent, so a round trip is exact.
    private static long[]? NullIfEmpty(long[] values) => values.Length == 0 ? null : values;
    private static string[]? NullIfEmpty(string[] values) => values.Length == 0 ? null : values;

    private static void Config<TW>(ref TW w, TrainingConfig c) where TW : struct, IWire
    {
        w.String(c.ModelType); w.String(c.Task); w.String(c.Target); w.Int(c.Hidden); w.Int(c.Layers); w.Int(c.BatchSize);
        Float(ref w, c.LearningRate); w.Ints(c.Fanouts); w.Int(c.Epochs); w.ULong(c.Seed); w.Int(c.AveragingPeriod); w.Int(c.EvalEvery);
        w.String(c.EvalMetric); w.String(c.CheckpointDir); w.String(c.StorePath);
        w.String(c.TrainingHocon);
    }

    private static TrainingConfig Config(ref WireReader r) => new(r.String(), r.String(), r.String(), r.Int(), r.Int(), r.Int(), Float(ref r),
        r.Ints(), r.Int(), r.ULong(), r.Int(), r.Int(), r.String(), r.String(), r.String(), r.String());

    // Nobody as "" (resolving its path would give deadLetters); any other ref by its full serialized path.
    private static string ActorRef(IActorRef actor) => actor.IsNobody() ? "" : Akka.Serialization.Serialization.SerializedActorPath(actor);
    private static IActorRef ActorRef(string path, ExtendedActorSystem system) => path.Length == 0 ? ActorRefs.Nobody : system.Provider.ResolveActorRef(path);

    private static void Float<TW>(ref TW w, float v) where TW : struct, IWire => w.Int(BitConverter.SingleToInt32Bits(v));
    private static float Float(ref WireReader r) => BitConverter.Int32BitsToSingle(r.Int());

    private static void Strings<TW>(ref TW w, string[] v) where TW : struct, IWire
    {
        w.Int(v.Length);
        foreach (var s in v) w.String(s);
    }

    private static string[] Strings(ref WireReader r)
    {
        var n = Count(ref r);
        var result = n == 0 ? [] : new string[n];
        for (var i = 0; i < n; i++) result[i] = r.String();
        return result;
    }
}
