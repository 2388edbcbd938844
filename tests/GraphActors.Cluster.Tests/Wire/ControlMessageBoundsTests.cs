using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Wire;

/// <summary>
/// The audit of the messages that are NOT chunked: their size grows with the cluster (members, partitions, trainers),
/// the schema or the epochs, never with the graph's nodes, feature width or batch size. Even at sizes far beyond a real
/// cluster they stay below one 4 MiB chunk, so they cross whole.
/// </summary>
public class ControlMessageBoundsTests
{
    private const long Chunk = 4 << 20;

    private static void Fits(IGraphActorsMessage message, string what)
    {
        var size = WireChunks.SerializedSize(message);
        Assert.True(size < Chunk, $"{what}: {size:N0} bytes, above a 4 MiB chunk");
    }

    [Fact]
    public void Control_answers_for_a_thousand_members_4096_partitions_and_ten_thousand_checkpoints_fit_one_chunk()
    {
        var address = "akka.tcp://graphactors@10.200.300.400:40123";
        Fits(new ClusterStateResult(address, address, Enumerable.Range(0, 1000)
            .Select(i => new MemberInfo(address + i, ["partition", "trainer", "inference"], "Up", true, 1_700_000_000_000)).ToArray()), "1,000 members");
        Fits(new PartitionsResult(4096, Enumerable.Range(0, 4096)
            .Select(i => new PartitionStatus(i, PartitionState.NoAnswer, address, 1L << 40, 1L << 40, 1.5, "no answer within 3 s")).ToArray(), ""), "4,096 partitions");
        Fits(new CheckpointsResult("job", "/data/checkpoints/job", address, "val_accuracy", 9999, 9998, Enumerable.Range(0, 10_000)
            .Select(e => new CheckpointInfo(e, $"/data/checkpoints/job/epoch-{e:D4}", ["val_accuracy", "val_macro_f1", "test_accuracy", "test_macro_f1"],
                [0.5, 0.5, 0.5, 0.5], true, "", 1L << 30, 1_700_000_000_000)).ToArray(), ""), "10,000 checkpoints");
        Fits(new PartitionInfoResult(1, 0, 4096, Enumerable.Range(0, 100).Select(i => $"node_type_{i}").ToArray(), new int[100], new int[100], new int[100],
            Enumerable.Range(0, 1000).Select(i => new CanonicalEdgeType($"node_type_{i % 100}", $"relation_{i}", $"node_type_{i % 7}")).ToArray(),
            new long[1000], 0, 0, 0, 0), "100 node types, 1,000 edge types");
        Fits(new JobStatus("job", JobState.Running, 3, 2, 7, 1, 0.5f, ["val_accuracy", "test_accuracy"], [0.5f, 0.5f], 0.5f, 2, "/data/checkpoints/job/epoch-0002",
            new string('f', 64), 1, Enumerable.Range(0, 1000).Select(i => $"{address}/user/trainer#{i}").ToArray(), "", 1000), "1,000 trainers");
    }
}
