// One filled-in instance of every GraphActors message, with deep property comparison (arrays by content).
using System.Collections;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Serialization;

public static class SampleMessages
{
    private static readonly CanonicalEdgeType Click = new("user", "click", "item");

    public static readonly TrainingConfig Config = new("graphsage", "node-classification", "user", 256, 2, 1024, 0.003f, [10, 25], 50,
        ulong.MaxValue - 3, 4, 5, "val_acc", "/data/ck", "/data/store");

    public static IReadOnlyList<IGraphActorsMessage> All { get; } =
    [
        new GetNeighbors(long.MaxValue, 3, Click, EdgeDirection.In, [0, 5, int.MaxValue, -1], 15, NeighborStrategy.EdgeWeight, ulong.MaxValue - 7, 1_700_000_000_123),
        new GetNeighbors(1, 0, new("ü𝄞ser", "→", "item"), EdgeDirection.Out, [], 0, NeighborStrategy.Full, 0, 0),
        new NeighborsResult(9, 1, [0, 2, 2, 3], [11, 12, 13], [0.5f, float.NaN, -0f]),
        new GetFeatures(2, 1, "user", [4, 4, 9], 123),
        new FeaturesResult(2, 1, 2, 3, [1, 2, 3, 4, 5, float.PositiveInfinity]),
        new GetDegrees(3, 0, Click, EdgeDirection.Out, [1, 2, 3], 0),
        new DegreesResult(3, 0, [0, 7, 1]),
        new GetIds(4, 1, "item", [long.MinValue, -1, 500_013], 99),
        new IdsResult(4, 1, [-1, -1, 17], [0, 1]),
        new GetPartitionInfo(5, 2, 77),
        new PartitionInfoResult(5, 2, 4, ["item", "user"], [0, 100], [60, 100], [2, 64], [Click, new("user", "follow", "user")],
            [750, 400], 10, 2000, 1 << 20, 1),
        new PartitionError(6, 3, "GetFeatures 6: node 12 of type 'user' is not owned here (partition 3 owns [0, 10))."),
        // ---- training protocol ----
        new StartJob("job-1", Config),
        new StopJob("job-1"),
        new ResumeJob("job-ü"),
        new JobCommandResult("job-1", true, JobState.Running, "started"),
        new GetJobStatus(),
        new JobStatus("job-1", JobState.Failed, 3, 2, 7, 123_456_789_012, 0.25f, ["val_acc", "loss"], [0.8f, float.NaN], 0.81f, 1,
            "/ck/epoch-0002", "ab12", 12.5, ["akka://graphactors/user/t1"], "trainer lost"),
        new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "akka.tcp://graphactors@127.0.0.1:4053", [0, 3]),
        new TrainerRegistered("akka://graphactors/user/t1", "job-1"),
        new StepsReported("job-1", 2, 40, 1.5f, 0.6f),
        new ParametersReady("job-1", 2, 9, 1, 3, [1f, -0f, float.MaxValue]),
        new EpochFinished("job-1", 2, 0.7f, ["val_acc"], [0.79f]),
        new CheckpointWritten("job-1", 2, "/ck/job-1/epoch-0002", new string('f', 64), [], []),
        new EpochAssignment("job-1", 2, Config, [5, 9, int.MaxValue], 0, 2, 17, true, "/ck/job-1/epoch-0001", "00ff"),
        new AveragedParameters("job-1", 2, 9, 2, 3, 2, [0.5f, float.Epsilon]),
        new WriteCheckpoint("job-1", 2, "/ck/job-1/epoch-0002"),
        new TrainingHalted("job-1", JobState.Finished, "all epochs done"),
        new JobStarted("job-1", Config with { Fanouts = [] }),
        new EpochPlanned("job-1", 0, ["t1", "t2"], [50, 49], 13),
        new ParametersAveraged("job-1", 0, 4, 2),
        new CheckpointRecorded("job-1", 0, "/ck/e0", "cafe", ["val_acc"], [0.5f]),
        new EpochCompleted("job-1", 0, 1.25f, ["val_acc", "train_acc"], [0.5f, 0.6f]),
        new JobFinished("job-1"),
        new JobFailed("job-1", "no trainer wrote the checkpoint of epoch 3"),
        new JobStopped("job-1"),
        new JobResumed("job-1", 4),
        new CoordinatorSnapshot("job-1", Config, JobState.Running, 3, 2, 1, 0.5f, ["val_acc"], [0.7f], 0.7f, 2, "/ck/e2", "beef", ""),
        new CoordinatorSnapshot("", null, JobState.Idle, -1, -1, -1, float.NaN, [], [], float.NaN, -1, "", "", ""),
    ];

    /// <summary>Every public property equal; arrays (and other sequences) by content, floats bit for bit.</summary>
    public static void AssertSame(object expected, object actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        foreach (var p in expected.GetType().GetProperties())
        {
            var e = p.GetValue(expected);
            var a = p.GetValue(actual);
            if (e is float[] ef)
                Assert.Equal(ef.Select(BitConverter.SingleToInt32Bits), ((float[])a!).Select(BitConverter.SingleToInt32Bits));
            else if (e is TrainingConfig)
                AssertSame(e, a!);
            else if (e is IEnumerable es and not string)
                Assert.Equal(es.Cast<object>(), ((IEnumerable)a!).Cast<object>());
            else
                Assert.Equal(e, a);
        }
    }
}
