// One filled-in instance of every GraphActors message, with deep property comparison (arrays by content).
using System.Collections;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;
using static GraphActors.Contracts.Protocols.EmbeddingProtocol;

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
        new OpenEmbeddings(3, 1, "job-1", Config, EmbeddingProtocol.Clock(2, 7), 1, "/ck/job-1/epoch-0001", false, 456),
        new OpenEmbeddings(3, 0, "job-1", Config, 0, EmbeddingProtocol.AttemptKey(1, 2), "", true, 456),
        new EmbeddingsOpened(3, 1, EmbeddingProtocol.Clock(2, 7), 1_000_000_000_000L),
        new GetEmbeddingRows(4, 1, "job-1", "user", EmbeddingProtocol.Clock(0, 0), 0, 0, [9, 4, 4], 123),
        new PushEmbeddingGradients(5, 0, "job-1", "item", long.MaxValue, 2, EmbeddingProtocol.Clock(1, 4), 3, 1, [7, 8], [-0f, 1e-30f, float.NaN, 2], 99),
        new EmbeddingGradientsTaken(5, 0, 2),
        new WriteEmbeddings(6, 2, "job-1", EmbeddingProtocol.Clock(3, 0), 0, 0, "/ck/job-1/epoch-0002.tmp", true, 77),
        new EmbeddingsWritten(6, 2, ["item", "user"], ["embedding-item-2.bin", "embedding-user-2.bin"], [new string('a', 64), new string('b', 64)], [2, 5]),
        new StoreProtocol.VersionedRequest(3, new GetFeatures(2, 1, "user", [4, 4, 9], 123)),
        new StoreProtocol.VersionedRequest(int.MaxValue, new StoreProtocol.LoadStoreVersion(7, 1, int.MaxValue, "/data/stores/2024-01-02/ü", 88)),
        new StoreProtocol.LoadStoreVersion(7, 0, 2, "/data/stores/2024-01-02", 0),
        new StoreProtocol.StoreVersionLoaded(7, 1, 2, 1L << 40),
        new StoreProtocol.RetireStoreVersion(8, 1, 0, 0),
        new StoreProtocol.StoreVersionChanged(2, "/data/stores/2024-01-02", 1, "/data/stores/2024-01-01"),
        new StoreProtocol.StoreVersionChanged(0, "/data/store", -1, ""),
        new StoreProtocol.GetStoreVersion(),
        new StoreProtocol.ReloadStore("/data/stores/2024-01-02", 600_000),
        new StoreProtocol.StoreReloaded(false, 1, "/data/stores/2024-01-01", "training job 'j' is running"),
        new StoreProtocol.StoreVersionSwitched(2, "/data/stores/2024-01-02", 1, "/data/stores/2024-01-01"),
        new GetDegrees(3, 0, Click, EdgeDirection.Out, [1, 2, 3], 0),
        new DegreesResult(3, 0, [0, 7, 1]),
        new GetIds(4, 1, "item", [long.MinValue, -1, 500_013], 99),
        new IdsResult(4, 1, [-1, -1, 17], [0, 1]),
        new GetPartitionInfo(5, 2, 77),
        new PartitionInfoResult(5, 2, 4, ["item", "user"], [0, 100], [60, 100], [2, 64], [Click, new("user", "follow", "user")],
            [750, 400], 10, 2000, 1 << 20, 1),
        new PartitionError(6, 3, "GetFeatures 6: node 12 of type 'user' is not owned here (partition 3 owns [0, 10))."),
        new ResponseChunk(7, 1, 2, 5, "PFR", 20_381_498, new byte[] { 1, 2, 3, 0, 255 }),
        new ResponseChunk(long.MaxValue, 0, 0, 1, "PNR", 0, ReadOnlyMemory<byte>.Empty),
        new ChunkAck(7, 1, 2),
        // ---- ColumnProtocol ----
        new ColumnProtocol.GetNodeColumns(21, 1, "user", [3, 3, 0], ColumnSet.All, 1_700_000_000_000),
        new ColumnProtocol.GetNodeColumns(22, 0, "ü𝄞ser", [], ColumnSet.None, 0),
        new ColumnProtocol.NodeColumnsResult(21, 1, new ElementColumns(2, ColumnSet.Weights | ColumnSet.Labels | ColumnSet.Ints | ColumnSet.Floats | ColumnSet.Strings,
            [], [0.5f, float.NaN], [-1, 3], [long.MinValue, 0, 7, long.MaxValue], 2, [1f, -0f], 1, [0, 6, 6, 12, 16], "naïve東京😀"u8.ToArray(), 2)),
        new ColumnProtocol.NodeColumnsResult(22, 0, ElementColumns.None(0)),
        new ColumnProtocol.GetNeighborEdges(23, 2, Click, EdgeDirection.In, [0, 9], 4, NeighborStrategy.Random, ulong.MaxValue, ColumnSet.EdgeIds | ColumnSet.Strings, 5),
        new ColumnProtocol.NeighborEdgesResult(23, 2, [0, 1, 3], [4, 5, 6], [1f, 2f, 3f],
            new ElementColumns(3, ColumnSet.EdgeIds | ColumnSet.Labels | ColumnSet.Strings, [0, long.MaxValue, 17], [], [1, 0, -1], [], 0, [], 0,
                [0, 1, 1, 4], "a東"u8.ToArray(), 1)),
        // ---- SamplingProtocol ----
        new GetNegatives(7, 1, Click, [3, 4, 4], 5, NegativeStrategyKind.InDegree, true, ulong.MaxValue, 1_700_000_000_000),
        new GetNegatives(8, 0, Click, [], 1, NegativeStrategyKind.Random, false, 0, 0),
        new NegativesResult(7, 1, [1, 2, 3, 4, 5, 6], 6, 2, 1),
        new GetLabels(9, 0, "user", [0, 1, 9], 55),
        new LabelsResult(9, 0, [3, -1, 0]),
        new SampleEpoch(10, 3, "user", [5, 1, 9], 512, [-1, 10, 15], NeighborStrategy.RandomWithoutReplacement, true, 42),
        new SampleEpoch(11, 0, "paper", [], 1, [10, 10], NeighborStrategy.Random, false, 0, ReverseEdgeMode.Bidirected),
        new SampleEpoch(13, 1, "paper", [4, 8, 15, 16], 4, [10, 10], NeighborStrategy.Random, false, 7, ReverseEdgeMode.None, null, [0, 3, 4],
            [ulong.MaxValue, 12345]),
        new SampleEpoch(14, 1, "user", [4, 8, 15], 8, [5], NeighborStrategy.Random, false, 7, ReverseEdgeMode.None, null, [0, 2, 3], [1, 2], [0, 9]),
        new SampleEpoch(12, 2, "user", [0, 7, 3], 64, [5, 5], NeighborStrategy.Random, false, 9, ReverseEdgeMode.AddReverse,
            new LinkSampling(Click, 4, NegativeMode.InDegree, ExclusionMode.Self, 0.05, 0.1, ulong.MaxValue)),
        new SampleEpochChunk(10, 1, 3, 9_000_000, new byte[] { 9, 8, 7 }),
        new EpochStreamReady(11, 3, 17, UnsubscribedSourceRef()),
        new EpochRejected(12, 3, "seed 9 appears twice; seeds must be distinct."),
        new MiniBatchData(13, 3, 5, ["item", "user"], [Click, new("user", "follow", "user")],
            [
                new BlockData([[7, 8], [1, 2, 3]], [1, 2], [[0, 1], []], [[0, 0], []], [[0.5f, float.NaN], null]),
                new BlockData([[7], [1, 2]], [0, 2], [[], [1]], [[], [0]], [null, null]),
            ],
            [2, 0], [[1f, 2f, 3f, 4f], null], [null, [1, 0]]),
        new MiniBatchData(15, 0, 1, ["item", "user"], [Click],
            [new BlockData([[7, 8], [1]], [2, 1], [[0]], [[1]], [null])],
            [0, 0], [null, null], [null, null], new LinkPairsData(Click, [0], [1], [0, 0], [0, 1], 2)),
        new MiniBatchChunk(13, 3, 5, 1, 4, 10_000_000, new byte[] { 0, 255, 7, 1 }),
        new MiniBatchChunk(13, 3, 5, 3, 4, 10_000_000, ReadOnlyMemory<byte>.Empty),
        new StreamInit(14),
        StreamAck.Instance,
        new StreamCompleted(14),
        new StreamFailed(14, "Remote stream failed"),

        // ---- CommandProtocol ----
        new GetClusterState(),
        new ClusterStateResult("akka.tcp://graphactors@127.0.0.1:4053", "akka.tcp://graphactors@127.0.0.1:4053",
        [
            new MemberInfo("akka.tcp://graphactors@127.0.0.1:4053", ["partition", "trainer"], "Up", true, 1_700_000_000_000),
            new MemberInfo("akka.tcp://graphactors@10.0.0.5:40123", [], "Leaving", false, 0),
        ]),
        new ClusterStateResult("akka.tcp://graphactors@127.0.0.1:4054", "", []),
        new LeaveMember("akka.tcp://graphactors@127.0.0.1:4054"),
        new DownMember("akka.tcp://graphactors@10.0.0.6:4053"),
        new CommandResult(false, "no member akka.tcp://graphactors@10.0.0.6:4053 ü"),
        new SubscribeMembership(),
        new MembershipSubscribed("akka.tcp://graphactors@127.0.0.1:4053"),
        new UnsubscribeMembership(),
        new MembershipEvent("unreachable", new MemberInfo("akka.tcp://graphactors@127.0.0.1:4054", ["partition"], "Up", false, 5),
            "akka.tcp://graphactors@127.0.0.1:4053", 1_700_000_000_321),
        new GetPartitions(3000),
        new PartitionsResult(3,
        [
            new PartitionStatus(0, PartitionState.Serving, "akka.tcp://graphactors@127.0.0.1:4053", 1 << 20, 17, 2.5, ""),
            new PartitionStatus(1, PartitionState.NoAnswer, "akka.tcp://graphactors@127.0.0.1:4054", 0, 0, -1, "no answer within 3 s"),
            new PartitionStatus(2, PartitionState.NotAllocated, "", 0, 0, double.NaN, ""),
        ], ""),
        new PartitionsResult(0, [], "the shard coordinator did not answer within 3 s"),
        new GetJobConfig(),
        new JobConfigResult("job-1", JobState.Stopped, Config),
        new JobConfigResult("", JobState.Idle, null),
        new ListCheckpoints("job-1", "", 4000),
        new ListCheckpoints("", "/data/ck/job-0", 800),
        new CheckpointsResult("job-1", "/data/ck/job-1", "akka.tcp://graphactors@127.0.0.1:4053", "val_accuracy", 1, 0,
        [
            new CheckpointInfo(0, "/data/ck/job-1/epoch-0000", ["val_accuracy", "val_loss"], [0.75, double.NaN], true, "", 123_456, 1_700_000_000_123),
            new CheckpointInfo(1, "/data/ck/job-1/epoch-0001", ["val_accuracy"], [0.5], true, "", 123_999, 1_700_000_060_000),
            new CheckpointInfo(2, "/data/ck/job-1/epoch-0002", [], [], false, "model.bin is missing ü", 512, 0),
        ], ""),
        new CheckpointsResult("job-1", "/data/ck/job-1", "akka.tcp://graphactors@127.0.0.1:4053", "", -1, -1, [], "no checkpoint directory"),
        new ExportModel("job-1", "", ExportChoice.Best, -1, "/models/job-1", 4000),
        new ExportModel("", "/data/ck/job-0", ExportChoice.Epoch, 3, "/models/job-0-e3", 600_000),
        new ModelExported(true, "exported epoch 0 of job 'job-1' to /models/job-1", "job-1", 0, "/data/ck/job-1/epoch-0000", "/models/job-1",
            "ab12", 98_765, "akka.tcp://graphactors@127.0.0.1:4053"),
        new ModelExported(false, "--out /models/x exists and is not empty", "job-1", -1, "", "/models/x", "", 0, "akka.tcp://graphactors@127.0.0.1:4053"),
        new WithToken("Zm9vYmFyLXNlY3JldC10b2tlbg-ü", new LeaveMember("akka.tcp://graphactors@127.0.0.1:4054")),
        new WithToken("t", new StartJob("job-1", Config)),
        new WithToken("", new ExportModel("", "/data/ck/job-0", ExportChoice.Last, -1, "/models/x", 4000)),
        new NotAuthorized("cluster leave", "`ctl cluster leave` changes the cluster and needs the cluster's ctl token: none was given"),
        new DownUnreachable(),
        new UnreachableDowned("akka.tcp://graphactors@127.0.0.1:4053", ["akka.tcp://graphactors@127.0.0.1:4054", "akka.tcp://graphactors@10.0.0.6:4053"], []),
        new UnreachableDowned("akka.tcp://graphactors@127.0.0.1:4053", [], ["akka.tcp://graphactors@10.0.0.7:4053"]),
        new JoinCluster("akka.tcp://graphactors@10.0.0.6:4053"),
        new WithToken("t", new DownUnreachable()),
        new WithToken("t", new JoinCluster("akka.tcp://graphactors@10.0.0.6:4053")),
        new GetServedModels(3500),
        new RegisterServedModel("runs/job-1/epoch-0003", "sage", "", -1, "", 3500),
        new RegisterServedModel("/models/ü.mar", "gat", "2.0", 4, "akka.tcp://graphactors@127.0.0.1:4055", 60_000),
        new UnregisterServedModel("sage", "", "", 3500),
        new ScaleServedModel("sage", "1.0", 2, 4, "akka.tcp://graphactors@127.0.0.1:4055", 3500),
        new WithToken("t", new RegisterServedModel("runs/job-1", "sage", "", 2, "", 3500)),
        new WithToken("t", new UnregisterServedModel("sage", "2.0", "", 3500)),
        new WithToken("t", new ScaleServedModel("sage", "", 1, 1, "", 3500)),
        new InferenceNodeAnswer("akka.tcp://graphactors@127.0.0.1:4055", true, 200, "2 models",
        [
            new ServedModel("sage", "1.0", true, 2, 4, "READY", "runs/job-1"),
            new ServedModel("sage", "2.0", false, 0, 0, "UNLOADING", "runs/job-2"),
        ]),
        new InferenceNodeAnswer("akka.tcp://graphactors@127.0.0.1:4056", false, 404, "Model not found: gat", []),
        new ServedModelsResult(
        [
            new InferenceNodeAnswer("akka.tcp://graphactors@127.0.0.1:4055", true, 200, "Model \"sage\" Version: 1.0 registered with 2 initial workers",
                [new ServedModel("sage", "1.0", true, 2, 2, "READY", "runs/job-1")]),
            new InferenceNodeAnswer("akka.tcp://graphactors@127.0.0.1:4056", false, 504, "no answer within 3.5 s", []),
        ], ""),
        new ServedModelsResult([], "no member with role 'inference' is up"),
        // ---- training protocol ----
        new StartJob("job-1", Config),
        new StopJob("job-1"),
        new ResumeJob("job-ü"),
        new JobCommandResult("job-1", true, JobState.Running, "started"),
        new GetJobStatus(),
        new JobStatus("job-1", JobState.Failed, 3, 2, 7, 123_456_789_012, 0.25f, ["val_acc", "loss"], [0.8f, float.NaN], 0.81f, 1,
            "/ck/epoch-0002", "ab12", 12.5, ["akka://graphactors/user/t1"], "trainer lost", 9_876_543_210),
        new JobStatus("job-2", JobState.Finished, 3, 3, 7, 5, 0.25f, [], [], float.NaN, -1, "", "", -1, [], "", 12, 140, [140, 140, -1, 139], 2,
            "OversizedPayloadException", 1),
        new JobStatus("job-3", JobState.Running, 2, 1, 0, 3, 0.5f, ["val_acc"], [0.8f], 0.8f, 0, "", "", 4, [], "", 23, 140, [140, 140], 0, "", 0,
            [new EpochSummary(0, 0.9f, ["val_acc", "val_loss"], [0.8f, float.NaN]), new EpochSummary(1, 0.7f, [], [])]),
        new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "akka.tcp://graphactors@127.0.0.1:4053", [0, 3]),
        new TrainerRegistered("akka://graphactors/user/t1", "job-1"),
        new StepsReported("job-1", 2, 40, 1.5f, 0.6f),
        new ParametersReady("job-1", 2, 1, 9, 1, 3, 1024, long.MinValue + 7, [1f, -0f, float.MaxValue]),
        new EpochFinished("job-1", 2, 0.7f, ["val_acc"], [0.79f]),
        new EpochFinished("job-1", 2, float.NaN, [], [], "InvalidOperationException: partition 1 did not answer"),
        new EpochFinished("job-1", 2, 0.7f, [], [], "", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
        new CheckpointWritten("job-1", 2, "/ck/job-1/epoch-0002", new string('f', 64), [], []),
        new TrainerFailed("job-1", 3, "task 'graph_classification': the cluster's sampler streams node and link batches."),
        new EpochAssignment("job-1", 2, 1, Config, 17, 4, [4, 9], [2, 1], [5, 9, int.MaxValue], 0, 2, true, "/ck/job-1/epoch-0001", "00ff"),
        new AveragedParameters("job-1", 2, 1, 9, 2, 3, 2, 2048, [0.5f, float.Epsilon]),
        new EpochAssignment("job-1", 2, 1, Config, 17, 4, [4], [1], [5], 0, 1, false, "", "",
            ["akka.tcp://graphactors@127.0.0.1:4053/user/trainer", "akka.tcp://graphactors@127.0.0.1:4054/user/trainer"]),
        new EpochAssignment("job-1", 2, 1, Config, 17, 4, [4], [1], [5], 0, 1, false, "", "", null, 17_000),
        new RingChunk("job-1", 2, 1, 9, 3, 1, 0, 1024, [1f, -0f, float.NaN]),
        new RingChunk("job-1", 2, 1, 9, 0, 0, 2, 0, []),
        new RingAck("job-1", 2, 1, 9, 3),
        new RoundContribution("job-1", 2, 1, 9, 512, long.MinValue + 3),
        new RoundContribution("job-1", 2, 1, 9, 0, 0),
        new RoundReduced("job-1", 2, 1, 9, 1024, -42),
        new RoundClosed("job-1", 2, 1, 9, 2, 1024),
        new EvaluateEpoch("job-1", 2),
        new WriteCheckpoint("job-1", 2, "/ck/job-1/epoch-0002", ["val_accuracy", "test_accuracy"], [0.75f, 0.5f]),
        new WriteCheckpoint("job-1", 3, "/ck/job-1/epoch-0003", [], [], 1, 0.75f, "epoch 3 is not an evaluation epoch (eval_every = 2)"),
        new TrainingHalted("job-1", JobState.Finished, "all epochs done"),
        new JobStarted("job-1", Config with { Fanouts = [] }),
        new EpochPlanned("job-1", 0, ["t1", "t2"], [50, 49], 13),
        new ParametersAveraged("job-1", 0, 4, 2),
        new EpochPlanned("job-1", 1, ["t1", "t2"], [70, 70], 2, 140),
        new EpochPlanned("job-1", 1, ["t2"], [140], 2, 140, 3), // planned again by a coordinator that moved mid-epoch
        new EpochReplanned("job-1", 1, 2, 6, ["t1"], "t2 left (its node is unreachable)"),
        new ParametersAveraged("job-1", 1, 3, 2, 1024),
        new EvaluationFailed("job-1", 1, "t1: OversizedPayloadException"),
        new EpochCompleted("job-1", 1, 0.5f, [], [], 140, 140),
        new CheckpointRecorded("job-1", 0, "/ck/e0", "cafe", ["val_acc"], [0.5f]),
        new EpochCompleted("job-1", 0, 1.25f, ["val_acc", "train_acc"], [0.5f, 0.6f]),
        new JobFinished("job-1", "stopped early after epoch 3: val_acc has not improved on epoch 1's for 2 epoch(s) (training.patience)"),
        new JobFailed("job-1", "no trainer wrote the checkpoint of epoch 3"),
        new JobStopped("job-1"),
        new JobResumed("job-1", 4),
        new CoordinatorSnapshot("job-1", Config, JobState.Running, 3, 2, 1, 0.5f, ["val_acc"], [0.7f], 0.7f, 2, "/ck/e2", "beef", "", 240, 80),
        new CoordinatorSnapshot("", null, JobState.Idle, -1, -1, -1, float.NaN, [], [], float.NaN, -1, "", "", "", 0, 0),
        new CoordinatorSnapshot("job-2", Config, JobState.Finished, 3, 3, 1, 0.5f, [], [], 0.7f, 2, "/ck/e3", "beef", "", 240, 80, 140,
            [140, -1, 140, 140], 1, "t1: timed out"),
        new CoordinatorSnapshot("job-3", Config, JobState.Running, 2, 1, 1, 0.5f, ["val_acc"], [0.7f], 0.7f, 1, "/ck/e1", "beef", "", 240, 80, 140,
            [140, 140], 0, "", [new EpochSummary(0, 1.5f, ["val_acc"], [0.6f]), new EpochSummary(1, 0.5f, ["val_acc"], [0.7f])]),
        new CoordinatorSnapshot("job-4", Config, JobState.Running, 2, 1, 1, 0.5f, [], [], 0.7f, 1, "/ck/e1", "beef", "", 240, 80, 140,
            [140, 140], 0, "", null, 2),
    ];

    /// <summary>
    /// A SourceRef as the sampler hands it out (Akka's SourceRefImpl is internal; its partner here is Nobody), so the
    /// embedded Akka serialization of EpochStreamReady is exercised.
    /// </summary>
    private static Akka.Streams.ISourceRef<IMiniBatchPart> UnsubscribedSourceRef()
    {
        var impl = typeof(Akka.Streams.Dsl.StreamRefs).Assembly.GetType("Akka.Streams.Implementation.StreamRef.SourceRefImpl`1", throwOnError: true)!
            .MakeGenericType(typeof(IMiniBatchPart));
        return (Akka.Streams.ISourceRef<IMiniBatchPart>)Activator.CreateInstance(impl, Akka.Actor.ActorRefs.Nobody)!;
    }

    /// <summary>Every public property equal; arrays (and other sequences) by content, floats bit for bit.</summary>
    public static void AssertSame(object expected, object actual)
    {
        Assert.Equal(expected.GetType(), actual.GetType());
        foreach (var p in expected.GetType().GetProperties())
            AssertValue(p.GetValue(expected), p.GetValue(actual), p.Name);
    }

    // Nested arrays (jagged, nullable rows) and nested records (BlockData) compare element by element; a SourceRef by its partner.
    private static void AssertValue(object? e, object? a, string where)
    {
        if (e is null || a is null) { Assert.True(e is null && a is null, $"{where}: one side is null"); return; }
        // Bit for bit; the element-wise comparison (slow on 100 MiB of features) only runs to say where they differ.
        if (e is float[] ef)
        {
            if (!System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(ef).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>((float[])a)))
                Assert.Equal(ef.Select(BitConverter.SingleToInt32Bits), ((float[])a).Select(BitConverter.SingleToInt32Bits));
        }
        else if (e is int[] ei)
        {
            if (!ei.AsSpan().SequenceEqual((int[])a)) Assert.Equal(ei, (int[])a);
        }
        else if (e is ReadOnlyMemory<byte> em)
            Assert.Equal(em.ToArray(), ((ReadOnlyMemory<byte>)a).ToArray());
        else if (e is Akka.Streams.ISourceRef<IMiniBatchPart>)
        {
            // The partner (Nobody here) resolves per system; SamplerStreamSpec proves a real one crosses nodes and works.
            Assert.Equal(e.GetType(), a.GetType());
            Assert.NotNull(a.GetType().GetProperty("InitialPartnerRef")!.GetValue(a));
        }
        else if (e is IEnumerable es and not string)
        {
            var ea = es.Cast<object?>().ToArray();
            var aa = ((IEnumerable)a).Cast<object?>().ToArray();
            Assert.Equal(ea.Length, aa.Length);
            for (var i = 0; i < ea.Length; i++) AssertValue(ea[i], aa[i], $"{where}[{i}]");
        }
        // A command inside WithToken compares property by property (a StartJob's config holds arrays).
        else if (e is BlockData or TrainingConfig or CheckpointInfo or LinkPairsData or EpochSummary or ElementColumns or IGraphActorsMessage)
            AssertSame(e, a);
        else
            Assert.Equal(e, a);
    }
}
