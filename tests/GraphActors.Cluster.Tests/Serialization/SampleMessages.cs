// One filled-in instance of every GraphActors message, with deep property comparison (arrays by content).
using System.Collections;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

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
