// The column protocol's manifests ("A…"): GraphLearn's node and edge columns served by the partitions.
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.ColumnProtocol;

namespace GraphActors.Contracts.Serialization;

public sealed partial class GraphActorsSerializer
{
    internal const string GetNodeColumnsManifest = "AGN";
    internal const string NodeColumnsResultManifest = "ANR";
    internal const string GetNeighborEdgesManifest = "AGE";
    internal const string NeighborEdgesResultManifest = "AER";

    private static string? ColumnManifest(object o) => o switch
    {
        GetNodeColumns => GetNodeColumnsManifest,
        NodeColumnsResult => NodeColumnsResultManifest,
        GetNeighborEdges => GetNeighborEdgesManifest,
        NeighborEdgesResult => NeighborEdgesResultManifest,
        _ => null,
    };

    private static void WriteColumnMessage<TW>(ref TW w, object obj) where TW : struct, IWire
    {
        switch (obj)
        {
            case GetNodeColumns m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.NodeType.Name); w.Ints(m.Ids); w.Byte((byte)m.Columns); w.Long(m.DeadlineUnixMs);
                break;
            case NodeColumnsResult m:
                w.Long(m.RequestId); w.Int(m.Partition); Columns(ref w, m.Columns);
                break;
            case GetNeighborEdges m:
                w.Long(m.RequestId); w.Int(m.Partition); EdgeType(ref w, m.EdgeType); w.Byte((byte)m.Direction);
                w.Ints(m.Seeds); w.Int(m.Fanout); w.Byte((byte)m.Strategy); w.ULong(m.RngSeed); w.Byte((byte)m.Columns); w.Long(m.DeadlineUnixMs);
                break;
            case NeighborEdgesResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Ints(m.Offsets); w.Ints(m.Neighbors); w.Floats(m.Weights); Columns(ref w, m.Edges);
                break;
            default:
                throw Unknown(obj);
        }
    }

    private static object ReadColumnMessage(ref WireReader r, string manifest) => manifest switch
    {
        GetNodeColumnsManifest => new GetNodeColumns(r.Long(), r.Int(), new NodeType(r.String()), r.Ints(), (ColumnSet)r.Byte(), r.Long()),
        NodeColumnsResultManifest => new NodeColumnsResult(r.Long(), r.Int(), Columns(ref r)),
        GetNeighborEdgesManifest => new GetNeighborEdges(r.Long(), r.Int(), EdgeType(ref r), (EdgeDirection)r.Byte(), r.Ints(), r.Int(),
            (NeighborStrategy)r.Byte(), r.ULong(), (ColumnSet)r.Byte(), r.Long()),
        NeighborEdgesResultManifest => new NeighborEdgesResult(r.Long(), r.Int(), r.Ints(), r.Ints(), r.Floats(), Columns(ref r)),
        _ => throw new System.Runtime.Serialization.SerializationException(
            $"Unknown GraphActors manifest '{manifest}': a newer node sent a message this node does not know."),
    };

    // Present, count, then every array (empty when absent) and the per-kind widths: strings as offsets plus one UTF-8 blob.
    private static void Columns<TW>(ref TW w, ElementColumns c) where TW : struct, IWire
    {
        w.Byte((byte)c.Present); w.Int(c.Count);
        w.Longs(c.EdgeIds); w.Floats(c.Weights); w.Ints(c.Labels);
        w.Int(c.IntCount); w.Longs(c.Ints);
        w.Int(c.FloatCount); w.Floats(c.Floats);
        w.Int(c.StringCount); w.Ints(c.StringOffsets); w.Bytes(c.StringBytes);
    }

    private static ElementColumns Columns(ref WireReader r)
    {
        var present = (ColumnSet)r.Byte();
        var count = r.Int();
        var ids = r.Longs();
        var weights = r.Floats();
        var labels = r.Ints();
        var intCount = r.Int();
        var ints = r.Longs();
        var floatCount = r.Int();
        var floats = r.Floats();
        var stringCount = r.Int();
        var offsets = r.Ints();
        var bytes = r.Bytes();
        // A frame that disagrees with itself would hand out slices of the wrong values later, far from here: refuse it now.
        if (count < 0 || ints.Length != (long)count * intCount || floats.Length != (long)count * floatCount
            || offsets.Length != (long)count * stringCount + 1 || offsets[^1] != bytes.Length)
            throw new System.Runtime.Serialization.SerializationException(
                $"Element columns of {count} values disagree with their arrays ({ints.Length} ints × {intCount}, {floats.Length} floats × {floatCount}, " +
                $"{offsets.Length} string offsets × {stringCount}, {bytes.Length} string bytes).");
        return new ElementColumns(count, present, ids, weights, labels, ints, intCount, floats, floatCount, offsets, bytes, stringCount);
    }
}
