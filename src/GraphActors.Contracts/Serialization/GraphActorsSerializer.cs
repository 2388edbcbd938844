// The one serializer for GraphActors messages: short stable manifests, a version byte, arrays as count + raw bytes.
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using GraphActors.Contracts.Protocols;

namespace GraphActors.Contracts.Serialization;

/// <summary>
/// Binds to <see cref="IGraphActorsMessage"/> (see <c>serialization.conf</c>). Manifests are two or three letters and
/// never change meaning once released: a rolling upgrade may have old and new nodes talking. Every payload starts
/// with a format version byte. No reflection: one explicit write and read routine per message.
/// </summary>
public sealed partial class GraphActorsSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 1450;
    private const byte Version = 1;

    // Manifests: stable wire names, not type names (renaming a class must not break a running cluster).
    internal const string GetNeighborsManifest = "PGN";
    internal const string NeighborsResultManifest = "PNR";
    internal const string GetFeaturesManifest = "PGF";
    internal const string FeaturesResultManifest = "PFR";
    internal const string GetDegreesManifest = "PGD";
    internal const string DegreesResultManifest = "PDR";
    internal const string GetIdsManifest = "PGI";
    internal const string IdsResultManifest = "PIR";
    internal const string GetPartitionInfoManifest = "PGP";
    internal const string PartitionInfoResultManifest = "PPI";
    internal const string PartitionErrorManifest = "PER";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        GetNeighbors => GetNeighborsManifest,
        NeighborsResult => NeighborsResultManifest,
        GetFeatures => GetFeaturesManifest,
        FeaturesResult => FeaturesResultManifest,
        GetDegrees => GetDegreesManifest,
        DegreesResult => DegreesResultManifest,
        GetIds => GetIdsManifest,
        IdsResult => IdsResultManifest,
        GetPartitionInfo => GetPartitionInfoManifest,
        PartitionInfoResult => PartitionInfoResultManifest,
        PartitionError => PartitionErrorManifest,
        // ---- training protocol (GraphActorsSerializer.Training.cs) ----
        _ when TrainingManifest(o) is { } training => training,
        // ---- end training protocol ----
        _ => throw Unknown(o),
    };

    public override byte[] ToBinary(object obj)
    {
        var sizer = new WireSizer();
        Write(ref sizer, obj);
        var buffer = GC.AllocateUninitializedArray<byte>(sizer.Size);
        var writer = new WireWriter(buffer);
        Write(ref writer, obj);
        return buffer;
    }

    private static void Write<TW>(ref TW w, object obj) where TW : struct, IWire
    {
        w.Byte(Version);
        switch (obj)
        {
            case GetNeighbors m:
                w.Long(m.RequestId); w.Int(m.Partition); EdgeType(ref w, m.EdgeType); w.Byte((byte)m.Direction);
                w.Ints(m.Seeds); w.Int(m.Fanout); w.Byte((byte)m.Strategy); w.ULong(m.RngSeed); w.Long(m.DeadlineUnixMs);
                break;
            case NeighborsResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Ints(m.Offsets); w.Ints(m.Neighbors); w.Floats(m.Weights);
                break;
            case GetFeatures m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.NodeType.Name); w.Ints(m.Ids); w.Long(m.DeadlineUnixMs);
                break;
            case FeaturesResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Rows); w.Int(m.Dim); w.Floats(m.Data);
                break;
            case GetDegrees m:
                w.Long(m.RequestId); w.Int(m.Partition); EdgeType(ref w, m.EdgeType); w.Byte((byte)m.Direction);
                w.Ints(m.Ids); w.Long(m.DeadlineUnixMs);
                break;
            case DegreesResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Ints(m.Degrees);
                break;
            case GetIds m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.NodeType.Name); w.Longs(m.BusinessIds); w.Long(m.DeadlineUnixMs);
                break;
            case IdsResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Ints(m.Ids); w.Ints(m.Misses);
                break;
            case GetPartitionInfo m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Long(m.DeadlineUnixMs);
                break;
            case PartitionInfoResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Parts);
                w.Int(m.NodeTypes.Length);
                foreach (var s in m.NodeTypes) w.String(s);
                w.Ints(m.NodeStarts); w.Ints(m.NodeCounts); w.Ints(m.FeatureDims);
                w.Int(m.EdgeTypes.Length);
                foreach (var e in m.EdgeTypes) EdgeType(ref w, e);
                w.Longs(m.OutEdgeCounts);
                w.Long(m.Requests); w.Long(m.RowsServed); w.Long(m.MappedBytes); w.Long(m.DroppedLate);
                break;
            case PartitionError m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.Problem);
                break;
            // ---- training protocol (GraphActorsSerializer.Training.cs) ----
            case IGraphActorsMessage when TrainingManifest(obj) is not null:
                WriteTraining(ref w, obj);
                break;
            // ---- end training protocol ----
            default:
                throw Unknown(obj);
        }
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        var r = new WireReader(bytes, manifest);
        var version = r.Byte();
        if (version != Version)
            throw new SerializationException($"GraphActors message '{manifest}' has format version {version}; this node reads {Version}.");
        object result = manifest switch
        {
            GetNeighborsManifest => new GetNeighbors(r.Long(), r.Int(), EdgeType(ref r), (EdgeDirection)r.Byte(), r.Ints(), r.Int(),
                (NeighborStrategy)r.Byte(), r.ULong(), r.Long()),
            NeighborsResultManifest => new NeighborsResult(r.Long(), r.Int(), r.Ints(), r.Ints(), r.Floats()),
            GetFeaturesManifest => new GetFeatures(r.Long(), r.Int(), new NodeType(r.String()), r.Ints(), r.Long()),
            FeaturesResultManifest => new FeaturesResult(r.Long(), r.Int(), r.Int(), r.Int(), r.Floats()),
            GetDegreesManifest => new GetDegrees(r.Long(), r.Int(), EdgeType(ref r), (EdgeDirection)r.Byte(), r.Ints(), r.Long()),
            DegreesResultManifest => new DegreesResult(r.Long(), r.Int(), r.Ints()),
            GetIdsManifest => new GetIds(r.Long(), r.Int(), new NodeType(r.String()), r.Longs(), r.Long()),
            IdsResultManifest => new IdsResult(r.Long(), r.Int(), r.Ints(), r.Ints()),
            GetPartitionInfoManifest => new GetPartitionInfo(r.Long(), r.Int(), r.Long()),
            PartitionInfoResultManifest => ReadInfo(ref r),
            PartitionErrorManifest => new PartitionError(r.Long(), r.Int(), r.String()),
            // ---- training protocol (GraphActorsSerializer.Training.cs) ----
            ['T', ..] => ReadTraining(ref r, manifest, system),
            // ---- end training protocol ----
            _ => throw new SerializationException(
                $"Unknown GraphActors manifest '{manifest}': a newer node sent a message this node does not know."),
        };
        r.End();
        return result;
    }

    private static PartitionInfoResult ReadInfo(ref WireReader r)
    {
        var requestId = r.Long();
        var partition = r.Int();
        var parts = r.Int();
        var nodeTypes = new string[Count(ref r)];
        for (var i = 0; i < nodeTypes.Length; i++) nodeTypes[i] = r.String();
        var starts = r.Ints();
        var counts = r.Ints();
        var dims = r.Ints();
        var edgeTypes = new CanonicalEdgeType[Count(ref r)];
        for (var i = 0; i < edgeTypes.Length; i++) edgeTypes[i] = EdgeType(ref r);
        return new PartitionInfoResult(requestId, partition, parts, nodeTypes, starts, counts, dims, edgeTypes, r.Longs(),
            r.Long(), r.Long(), r.Long(), r.Long());
    }

    private static int Count(ref WireReader r)
    {
        var n = r.Int();
        // Each element takes at least 4 bytes, so a count beyond that is a torn frame, not a huge allocation.
        return n is >= 0 and <= 1 << 24 ? n : throw new SerializationException($"Implausible element count {n}.");
    }

    private static void EdgeType<TW>(ref TW w, CanonicalEdgeType t) where TW : struct, IWire
    {
        w.String(t.Src.Name); w.String(t.Relation); w.String(t.Dst.Name);
    }

    private static CanonicalEdgeType EdgeType(ref WireReader r) => new(new NodeType(r.String()), r.String(), new NodeType(r.String()));

    private static SerializationException Unknown(object o) => new(
        $"GraphActorsSerializer does not know {o.GetType().FullName}: add a manifest and a write/read routine for it.");
}
