// One filled-in instance of every GraphActors message, with deep property comparison (arrays by content).
using System.Collections;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Tests.Serialization;

public static class SampleMessages
{
    private static readonly CanonicalEdgeType Click = new("user", "click", "item");

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
            else if (e is IEnumerable es and not string)
                Assert.Equal(es.Cast<object>(), ((IEnumerable)a!).Cast<object>());
            else
                Assert.Equal(e, a);
        }
    }
}
