// The one serializer for GraphActors messages: short stable manifests, a version byte, arrays as count + raw bytes.
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

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
    internal const string ResponseChunkManifest = "PCH";
    internal const string ChunkAckManifest = "PCA";

    // ---- SamplingProtocol manifests ("S…") ----
    internal const string GetNegativesManifest = "SGN";
    internal const string NegativesResultManifest = "SNR";
    internal const string GetLabelsManifest = "SGL";
    internal const string LabelsResultManifest = "SLR";
    internal const string SampleEpochManifest = "SSE";
    internal const string SampleEpochChunkManifest = "SEC";
    internal const string EpochStreamReadyManifest = "SER";
    internal const string EpochRejectedManifest = "SEJ";
    internal const string MiniBatchDataManifest = "SMB";
    internal const string MiniBatchChunkManifest = "SMC";
    internal const string StreamInitManifest = "SIN";
    internal const string StreamAckManifest = "SAK";
    internal const string StreamCompletedManifest = "SSC";
    internal const string StreamFailedManifest = "SSF";
    // ---- end SamplingProtocol manifests ----

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => ManifestOf(o);

    private static string ManifestOf(object o) => o switch
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
        ResponseChunk => ResponseChunkManifest,
        ChunkAck => ChunkAckManifest,
        // ---- SamplingProtocol ----
        GetNegatives => GetNegativesManifest,
        NegativesResult => NegativesResultManifest,
        GetLabels => GetLabelsManifest,
        LabelsResult => LabelsResultManifest,
        SampleEpoch => SampleEpochManifest,
        SampleEpochChunk => SampleEpochChunkManifest,
        EpochStreamReady => EpochStreamReadyManifest,
        EpochRejected => EpochRejectedManifest,
        MiniBatchData => MiniBatchDataManifest,
        MiniBatchChunk => MiniBatchChunkManifest,
        StreamInit => StreamInitManifest,
        StreamAck => StreamAckManifest,
        StreamCompleted => StreamCompletedManifest,
        StreamFailed => StreamFailedManifest,
        // ---- end SamplingProtocol ----
        _ when CommandManifest(o) is { } command => command,
        _ when EmbeddingManifest(o) is { } embedding => embedding,
        _ when ColumnManifest(o) is { } column => column,
        _ when StoreManifest(o) is { } store => store,
        // ---- training protocol (GraphActorsSerializer.Training.cs) ----
        _ when TrainingManifest(o) is { } training => training,
        // ---- end training protocol ----
        _ => throw Unknown(o),
    };

    public override byte[] ToBinary(object obj)
    {
        var buffer = ToBinaryUncounted(obj);
        WireTraffic.CountWritten(buffer.Length);
        if (WireTraffic.Enabled)
        {
            WireTraffic.Written(Manifest(obj), buffer.Length);
            // A chunk also counts for the kind of message it carries a part of.
            if (obj is ResponseChunk c) WireTraffic.ChunkWritten(c.Manifest, buffer.Length);
            else if (obj is MiniBatchChunk) WireTraffic.ChunkWritten(MiniBatchDataManifest, buffer.Length);
            else if (obj is SampleEpochChunk) WireTraffic.ChunkWritten(SampleEpochManifest, buffer.Length);
        }
        return buffer;
    }

    /// <summary>The serialized form without counting it as written: <see cref="WireChunks"/> sends it as chunks, which are counted.</summary>
    internal byte[] ToBinaryUncounted(object obj)
    {
        // A SourceRef is Akka's to serialize (it holds an actor ref): its bytes are made once, then embedded.
        var nested = obj is EpochStreamReady ready ? SerializeNested(ready.Stream) : default;
        var sizer = new WireSizer();
        Write(ref sizer, obj, nested);
        if (sizer.Size > WireChunks.MaxWholeBytes)
            throw new SerializationException(
                $"{obj.GetType().Name} would serialize to {sizer.Size:N0} bytes, more than one message can hold ({WireChunks.MaxWholeBytes:N0}): " +
                "it must be split by its sender.");
        var buffer = GC.AllocateUninitializedArray<byte>((int)sizer.Size);
        var writer = new WireWriter(buffer);
        Write(ref writer, obj, nested);
        return buffer;
    }

    /// <summary>The bytes <see cref="ToBinary"/> would write (an embedded SourceRef's own bytes left out), without writing them.</summary>
    internal static long SizeOf(object obj)
    {
        var sizer = new WireSizer();
        Write(ref sizer, obj, new Nested(0, "", []));
        return sizer.Size;
    }

    private static void Write<TW>(ref TW w, object obj, Nested nested) where TW : struct, IWire
    {
        w.Byte(Version);
        if (WriteSampling(ref w, obj, nested)) return;
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
            case ResponseChunk m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Index); w.Int(m.Count); w.String(m.Manifest); w.Int(m.TotalBytes);
                w.Bytes(m.Bytes.Span);
                break;
            case ChunkAck m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Int(m.Index);
                break;
            case var command when CommandManifest(command) is not null:
                WriteCommand(ref w, command);
                break;
            case IGraphActorsMessage when EmbeddingManifest(obj) is not null:
                WriteEmbedding(ref w, obj);
                break;
            case IGraphActorsMessage when ColumnManifest(obj) is not null:
                WriteColumnMessage(ref w, obj);
                break;
            case IGraphActorsMessage when StoreManifest(obj) is not null:
                WriteStore(ref w, obj);
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
        WireTraffic.CountRead(bytes.Length);
        if (WireTraffic.Enabled) WireTraffic.Read(manifest, bytes.Length);
        return FromBinaryUncounted(bytes, manifest);
    }

    /// <summary>Reads a message without counting it as read: <see cref="WireChunks"/> reassembled it from chunks, which were counted.</summary>
    internal object FromBinaryUncounted(byte[] bytes, string manifest)
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
            ResponseChunkManifest => ReadResponseChunk(ref r, bytes),
            ChunkAckManifest => new ChunkAck(r.Long(), r.Int(), r.Int()),
            // ---- SamplingProtocol ----
            GetNegativesManifest => new GetNegatives(r.Long(), r.Int(), EdgeType(ref r), r.Ints(), r.Int(), (NegativeStrategyKind)r.Byte(),
                r.Byte() != 0, r.ULong(), r.Long()),
            NegativesResultManifest => new NegativesResult(r.Long(), r.Int(), r.Ints(), r.Int(), r.Int(), r.Int()),
            GetLabelsManifest => new GetLabels(r.Long(), r.Int(), new NodeType(r.String()), r.Ints(), r.Long()),
            LabelsResultManifest => new LabelsResult(r.Long(), r.Int(), r.Ints()),
            SampleEpochManifest => ReadSampleEpoch(ref r),
            EpochStreamReadyManifest => ReadStreamReady(ref r),
            EpochRejectedManifest => new EpochRejected(r.Long(), r.Int(), r.String()),
            MiniBatchDataManifest => ReadMiniBatch(ref r),
            MiniBatchChunkManifest => ReadMiniBatchChunk(ref r, bytes),
            SampleEpochChunkManifest => ReadSampleEpochChunk(ref r, bytes),
            StreamInitManifest => new StreamInit(r.Long()),
            StreamAckManifest => new StreamAck(),
            StreamCompletedManifest => new StreamCompleted(r.Long()),
            StreamFailedManifest => new StreamFailed(r.Long(), r.String()),
            // ---- end SamplingProtocol ----
            WithTokenManifest => ReadWithToken(ref r),
            _ when manifest.StartsWith('C') => ReadCommand(ref r, manifest),
            ['E', ..] => ReadEmbedding(ref r, manifest),
            ['A', ..] => ReadColumnMessage(ref r, manifest),
            ['V', ..] => ReadStore(ref r, manifest),
            // ---- training protocol (GraphActorsSerializer.Training.cs) ----
            ['T', ..] => ReadTraining(ref r, manifest, system),
            // ---- end training protocol ----
            _ => throw new SerializationException(
                $"Unknown GraphActors manifest '{manifest}': a newer node sent a message this node does not know."),
        };
        r.End();
        return result;
    }

    // A chunk's payload stays a slice of the frame Akka handed us (the frame is ours from here on): no copy per chunk.
    private static ResponseChunk ReadResponseChunk(ref WireReader r, byte[] frame)
    {
        var requestId = r.Long();
        var partition = r.Int();
        var index = r.Int();
        var count = r.Int();
        var manifest = r.String();
        var total = r.Int();
        var (start, length) = r.SkipBytes();
        return new ResponseChunk(requestId, partition, index, count, manifest, total, frame.AsMemory(start, length));
    }

    private static MiniBatchChunk ReadMiniBatchChunk(ref WireReader r, byte[] frame)
    {
        var requestId = r.Long();
        var epoch = r.Int();
        var index = r.Int();
        var part = r.Int();
        var parts = r.Int();
        var total = r.Int();
        var (start, length) = r.SkipBytes();
        return new MiniBatchChunk(requestId, epoch, index, part, parts, total, frame.AsMemory(start, length));
    }

    private static SampleEpochChunk ReadSampleEpochChunk(ref WireReader r, byte[] frame)
    {
        var requestId = r.Long();
        var index = r.Int();
        var count = r.Int();
        var total = r.Int();
        var (start, length) = r.SkipBytes();
        return new SampleEpochChunk(requestId, index, count, total, frame.AsMemory(start, length));
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

    // ==== SamplingProtocol: write/read routines (kept apart from the partition protocol's for easy merging) ====

    /// <summary>Akka's own serialization of an embedded object (a SourceRef): serializer id, manifest, bytes.</summary>
    private readonly record struct Nested(int SerializerId, string Manifest, byte[] Bytes);

    private Nested SerializeNested(object o)
    {
        var serializer = system.Serialization.FindSerializerFor(o);
        return new Nested(serializer.Identifier, Akka.Serialization.Serialization.ManifestFor(serializer, o), serializer.ToBinary(o));
    }

    private static bool WriteSampling<TW>(ref TW w, object obj, Nested nested) where TW : struct, IWire
    {
        switch (obj)
        {
            case GetNegatives m:
                w.Long(m.RequestId); w.Int(m.Partition); EdgeType(ref w, m.EdgeType); w.Ints(m.Sources); w.Int(m.K);
                w.Byte((byte)m.Strategy); w.Byte(m.ExcludeNeighbors ? (byte)1 : (byte)0); w.ULong(m.RngSeed); w.Long(m.DeadlineUnixMs);
                return true;
            case NegativesResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Ints(m.Negatives); w.Int(m.Requested); w.Int(m.Redrawn); w.Int(m.Unresolved);
                return true;
            case GetLabels m:
                w.Long(m.RequestId); w.Int(m.Partition); w.String(m.NodeType.Name); w.Ints(m.Ids); w.Long(m.DeadlineUnixMs);
                return true;
            case LabelsResult m:
                w.Long(m.RequestId); w.Int(m.Partition); w.Ints(m.Labels);
                return true;
            case SampleEpoch m:
                w.Long(m.RequestId); w.Int(m.Epoch); w.String(m.NodeType.Name); w.Ints(m.Seeds); w.Int(m.BatchSize); w.Ints(m.Fanouts);
                w.Byte((byte)m.Strategy); w.Byte(m.DropLast ? (byte)1 : (byte)0); w.ULong(m.Seed); w.Byte((byte)m.ReverseEdges);
                w.Byte(m.Link is null ? (byte)0 : (byte)1);
                if (m.Link is { } link)
                {
                    EdgeType(ref w, link.Type); w.Int(link.Negatives); w.Byte((byte)link.NegativeStrategy); w.Byte((byte)link.Exclude);
                    w.Long(BitConverter.DoubleToInt64Bits(link.ValFraction)); w.Long(BitConverter.DoubleToInt64Bits(link.TestFraction)); w.ULong(link.SplitSeed);
                }
                w.Byte(m.BatchOffsets is null ? (byte)0 : (byte)1);
                if (m.BatchOffsets is not null)
                {
                    w.Ints(m.BatchOffsets);
                    w.Int(m.BatchSeeds!.Length);
                    foreach (var b in m.BatchSeeds) w.ULong(b);
                    w.Ints(m.BatchSteps ?? []);
                }
                return true;
            case EpochStreamReady m:
                w.Long(m.RequestId); w.Int(m.Epoch); w.Int(m.Batches);
                w.Int(nested.SerializerId); w.String(nested.Manifest); w.Bytes(nested.Bytes);
                return true;
            case EpochRejected m:
                w.Long(m.RequestId); w.Int(m.Epoch); w.String(m.Problem);
                return true;
            case SampleEpochChunk m:
                w.Long(m.RequestId); w.Int(m.Index); w.Int(m.Count); w.Int(m.TotalBytes); w.Bytes(m.Bytes.Span);
                return true;
            case MiniBatchChunk m:
                w.Long(m.RequestId); w.Int(m.Epoch); w.Int(m.Index); w.Int(m.Part); w.Int(m.Parts); w.Int(m.TotalBytes); w.Bytes(m.Bytes.Span);
                return true;
            case MiniBatchData m:
                WriteMiniBatch(ref w, m);
                return true;
            case StreamInit m:
                w.Long(m.RequestId);
                return true;
            case StreamAck:
                return true;
            case StreamCompleted m:
                w.Long(m.RequestId);
                return true;
            case StreamFailed m:
                w.Long(m.RequestId); w.String(m.Problem);
                return true;
            default:
                return false;
        }
    }

    private EpochStreamReady ReadStreamReady(ref WireReader r)
    {
        var requestId = r.Long();
        var epoch = r.Int();
        var batches = r.Int();
        var id = r.Int();
        var manifest = r.String();
        var bytes = r.Bytes();
        var stream = system.Serialization.Deserialize(bytes, id, manifest) as Akka.Streams.ISourceRef<IMiniBatchPart>
            ?? throw new SerializationException($"EpochStreamReady {requestId}: the embedded stream is not a SourceRef of mini-batch parts.");
        return new EpochStreamReady(requestId, epoch, batches, stream);
    }

    // Layout: header, node types, edge types, blocks (per type: src nodes, num dst; per edge type: src, dst, weights?),
    // then per type: feature dim, features?, labels?. A null array is a 0 flag byte; present ones a 1 and the array.
    private static void WriteMiniBatch<TW>(ref TW w, MiniBatchData m) where TW : struct, IWire
    {
        w.Long(m.RequestId); w.Int(m.Epoch); w.Int(m.Index);
        var types = m.NodeTypes.Length;
        var edges = m.EdgeTypes.Length;
        w.Int(types);
        foreach (var t in m.NodeTypes) w.String(t);
        w.Int(edges);
        foreach (var e in m.EdgeTypes) EdgeType(ref w, e);
        w.Int(m.Blocks.Length);
        foreach (var b in m.Blocks)
        {
            Check(b.SrcNodes.Length == types && b.NumDst.Length == types, "block node arrays");
            Check(b.EdgeSrc.Length == edges && b.EdgeDst.Length == edges && b.EdgeWeights.Length == edges, "block edge arrays");
            foreach (var s in b.SrcNodes) w.Ints(s);
            w.Ints(b.NumDst);
            for (var e = 0; e < edges; e++) { w.Ints(b.EdgeSrc[e]); w.Ints(b.EdgeDst[e]); OptionalFloats(ref w, b.EdgeWeights[e]); }
        }
        Check(m.FeatureDims.Length == types && m.Features.Length == types && m.Labels.Length == types, "per-type arrays");
        w.Ints(m.FeatureDims);
        foreach (var f in m.Features) OptionalFloats(ref w, f);
        foreach (var l in m.Labels)
        {
            w.Byte(l is null ? (byte)0 : (byte)1);
            if (l is not null) w.Ints(l);
        }
        w.Byte(m.Link is null ? (byte)0 : (byte)1);
        if (m.Link is { } p)
        {
            EdgeType(ref w, p.Type); w.Ints(p.PosSrc); w.Ints(p.PosDst); w.Ints(p.NegSrc); w.Ints(p.NegDst); w.Int(p.NegativesPerPositive);
        }
    }

    private static SampleEpoch ReadSampleEpoch(ref WireReader r)
    {
        var m = new SampleEpoch(r.Long(), r.Int(), new NodeType(r.String()), r.Ints(), r.Int(), r.Ints(),
            (NeighborStrategy)r.Byte(), r.Byte() != 0, r.ULong(), (ReverseEdgeMode)r.Byte(), r.Byte() == 0 ? null : ReadLinkSampling(ref r));
        if (!r.HasMore || r.Byte() == 0) return m;
        var offsets = r.Ints();
        var seeds = new ulong[r.Int()];
        for (var i = 0; i < seeds.Length; i++) seeds[i] = r.ULong();
        var steps = r.Ints();
        return m with { BatchOffsets = offsets, BatchSeeds = seeds, BatchSteps = steps.Length == 0 ? null : steps };
    }

    private static LinkSampling ReadLinkSampling(ref WireReader r) => new(EdgeType(ref r), r.Int(), (NegativeMode)r.Byte(), (ExclusionMode)r.Byte(),
        BitConverter.Int64BitsToDouble(r.Long()), BitConverter.Int64BitsToDouble(r.Long()), r.ULong());

    private static MiniBatchData ReadMiniBatch(ref WireReader r)
    {
        var requestId = r.Long();
        var epoch = r.Int();
        var index = r.Int();
        var nodeTypes = new string[Count(ref r)];
        for (var i = 0; i < nodeTypes.Length; i++) nodeTypes[i] = r.String();
        var edgeTypes = new CanonicalEdgeType[Count(ref r)];
        for (var i = 0; i < edgeTypes.Length; i++) edgeTypes[i] = EdgeType(ref r);
        var blocks = new BlockData[Count(ref r)];
        for (var b = 0; b < blocks.Length; b++)
        {
            var src = new int[nodeTypes.Length][];
            for (var t = 0; t < src.Length; t++) src[t] = r.Ints();
            var numDst = r.Ints();
            var es = new int[edgeTypes.Length][];
            var ed = new int[edgeTypes.Length][];
            var ew = new float[]?[edgeTypes.Length];
            for (var e = 0; e < edgeTypes.Length; e++) { es[e] = r.Ints(); ed[e] = r.Ints(); ew[e] = OptionalFloats(ref r); }
            blocks[b] = new BlockData(src, numDst, es, ed, ew);
        }
        var dims = r.Ints();
        var features = new float[]?[nodeTypes.Length];
        for (var t = 0; t < features.Length; t++) features[t] = OptionalFloats(ref r);
        var labels = new int[]?[nodeTypes.Length];
        for (var t = 0; t < labels.Length; t++) labels[t] = r.Byte() == 0 ? null : r.Ints();
        var link = r.Byte() == 0 ? null : new LinkPairsData(EdgeType(ref r), r.Ints(), r.Ints(), r.Ints(), r.Ints(), r.Int());
        return new MiniBatchData(requestId, epoch, index, nodeTypes, edgeTypes, blocks, dims, features, labels, link);
    }

    private static void OptionalFloats<TW>(ref TW w, float[]? v) where TW : struct, IWire
    {
        w.Byte(v is null ? (byte)0 : (byte)1);
        if (v is not null) w.Floats(v);
    }

    private static float[]? OptionalFloats(ref WireReader r) => r.Byte() == 0 ? null : r.Floats();

    private static void Check(bool ok, string what)
    {
        if (!ok) throw new SerializationException($"MiniBatchData is inconsistent: {what} do not match the node/edge type counts.");
    }

    // ==== end SamplingProtocol ====

    private static void EdgeType<TW>(ref TW w, CanonicalEdgeType t) where TW : struct, IWire
    {
        w.String(t.Src.Name); w.String(t.Relation); w.String(t.Dst.Name);
    }

    private static CanonicalEdgeType EdgeType(ref WireReader r) => new(new NodeType(r.String()), r.String(), new NodeType(r.String()));

    private static SerializationException Unknown(object o) => new(
        $"GraphActorsSerializer does not know {o.GetType().FullName}: add a manifest and a write/read routine for it.");

    // ==== CommandProtocol: manifests "C…" (graphactors ctl ↔ CommandHandlerActor) ====

    internal const string GetClusterStateManifest = "CGS";
    internal const string ClusterStateResultManifest = "CCS";
    internal const string LeaveMemberManifest = "CLM";
    internal const string DownMemberManifest = "CDM";
    internal const string CommandResultManifest = "CCR";
    internal const string SubscribeMembershipManifest = "CSM";
    internal const string MembershipSubscribedManifest = "CMS";
    internal const string UnsubscribeMembershipManifest = "CUM";
    internal const string MembershipEventManifest = "CME";
    internal const string GetPartitionsManifest = "CGP";
    internal const string PartitionsResultManifest = "CPR";
    // Training jobs, checkpoints and model export ("CT…").
    internal const string GetJobConfigManifest = "CTC";
    internal const string JobConfigResultManifest = "CTJ";
    internal const string ListCheckpointsManifest = "CTL";
    internal const string CheckpointsResultManifest = "CTR";
    internal const string ExportModelManifest = "CTX";
    internal const string ModelExportedManifest = "CTE";
    // Membership changes beyond leave/down.
    internal const string DownUnreachableManifest = "CDU";
    internal const string UnreachableDownedManifest = "CUD";
    internal const string JoinClusterManifest = "CJC";
    // Serving: the models of the inference nodes ("CV…").
    internal const string GetServedModelsManifest = "CVL";
    internal const string RegisterServedModelManifest = "CVR";
    internal const string UnregisterServedModelManifest = "CVU";
    internal const string ScaleServedModelManifest = "CVS";
    internal const string InferenceNodeAnswerManifest = "CVA";
    internal const string ServedModelsResultManifest = "CVM";
    // Credentials: a changing command with the ctl token, and the refusal for want of it.
    internal const string WithTokenManifest = "CWT";
    internal const string NotAuthorizedManifest = "CNA";

    private static string? CommandManifest(object o) => o switch
    {
        GetClusterState => GetClusterStateManifest,
        ClusterStateResult => ClusterStateResultManifest,
        LeaveMember => LeaveMemberManifest,
        DownMember => DownMemberManifest,
        CommandResult => CommandResultManifest,
        SubscribeMembership => SubscribeMembershipManifest,
        MembershipSubscribed => MembershipSubscribedManifest,
        UnsubscribeMembership => UnsubscribeMembershipManifest,
        MembershipEvent => MembershipEventManifest,
        GetPartitions => GetPartitionsManifest,
        PartitionsResult => PartitionsResultManifest,
        GetJobConfig => GetJobConfigManifest,
        JobConfigResult => JobConfigResultManifest,
        ListCheckpoints => ListCheckpointsManifest,
        CheckpointsResult => CheckpointsResultManifest,
        ExportModel => ExportModelManifest,
        ModelExported => ModelExportedManifest,
        DownUnreachable => DownUnreachableManifest,
        UnreachableDowned => UnreachableDownedManifest,
        JoinCluster => JoinClusterManifest,
        GetServedModels => GetServedModelsManifest,
        RegisterServedModel => RegisterServedModelManifest,
        UnregisterServedModel => UnregisterServedModelManifest,
        ScaleServedModel => ScaleServedModelManifest,
        InferenceNodeAnswer => InferenceNodeAnswerManifest,
        ServedModelsResult => ServedModelsResultManifest,
        WithToken => WithTokenManifest,
        NotAuthorized => NotAuthorizedManifest,
        _ => null,
    };

    private static void WriteCommand<TW>(ref TW w, object obj) where TW : struct, IWire
    {
        switch (obj)
        {
            case GetClusterState or SubscribeMembership or UnsubscribeMembership or GetJobConfig or DownUnreachable:
                break;
            case UnreachableDowned m:
                w.String(m.ObservedBy); Strings(ref w, m.Downed); Strings(ref w, m.AlreadyDown);
                break;
            case JoinCluster m:
                w.String(m.Address);
                break;
            case GetServedModels m:
                w.Long(m.TimeoutMs);
                break;
            case RegisterServedModel m:
                w.String(m.Url); w.String(m.Name); w.String(m.Version); w.Int(m.InitialWorkers); w.String(m.Node); w.Long(m.TimeoutMs);
                break;
            case UnregisterServedModel m:
                w.String(m.Name); w.String(m.Version); w.String(m.Node); w.Long(m.TimeoutMs);
                break;
            case ScaleServedModel m:
                w.String(m.Name); w.String(m.Version); w.Int(m.MinWorkers); w.Int(m.MaxWorkers); w.String(m.Node); w.Long(m.TimeoutMs);
                break;
            case InferenceNodeAnswer m:
                NodeAnswer(ref w, m);
                break;
            case ServedModelsResult m:
                w.Int(m.Nodes.Length);
                foreach (var n in m.Nodes) NodeAnswer(ref w, n);
                w.String(m.Problem);
                break;
            case ClusterStateResult m:
                w.String(m.SelfAddress); w.String(m.Leader);
                w.Int(m.Members.Length);
                foreach (var member in m.Members) Member(ref w, member);
                break;
            case LeaveMember m:
                w.String(m.Address);
                break;
            case DownMember m:
                w.String(m.Address);
                break;
            case CommandResult m:
                w.Byte(m.Ok ? (byte)1 : (byte)0); w.String(m.Message);
                break;
            case MembershipSubscribed m:
                w.String(m.Node);
                break;
            case MembershipEvent m:
                w.String(m.Kind); Member(ref w, m.Member); w.String(m.ObservedBy); w.Long(m.AtUnixMs);
                break;
            case GetPartitions m:
                w.Long(m.TimeoutMs);
                break;
            case PartitionsResult m:
                w.Int(m.Parts);
                w.Int(m.Partitions.Length);
                foreach (var p in m.Partitions)
                {
                    w.Int(p.Partition); w.Byte((byte)p.State); w.String(p.Node); w.Long(p.MappedBytes); w.Long(p.Requests);
                    w.Long(BitConverter.DoubleToInt64Bits(p.RequestsPerSecond)); w.String(p.Problem);
                }
                w.String(m.Problem);
                break;
            case JobConfigResult m:
                w.String(m.JobId); w.Byte((byte)m.State); w.Byte(m.Config is null ? (byte)0 : (byte)1);
                if (m.Config is not null) Config(ref w, m.Config);
                break;
            case ListCheckpoints m:
                w.String(m.JobId); w.String(m.Directory); w.Long(m.TimeoutMs);
                break;
            case CheckpointsResult m:
                w.String(m.JobId); w.String(m.Directory); w.String(m.Node); w.String(m.EvalMetric); w.Int(m.LastEpoch); w.Int(m.BestEpoch);
                w.Int(m.Checkpoints.Length);
                foreach (var c in m.Checkpoints)
                {
                    w.Int(c.Epoch); w.String(c.Path); Strings(ref w, c.MetricNames);
                    w.Int(c.MetricValues.Length);
                    foreach (var v in c.MetricValues) w.Long(BitConverter.DoubleToInt64Bits(v));
                    w.Byte(c.Verified ? (byte)1 : (byte)0); w.String(c.Problem); w.Long(c.Bytes); w.Long(c.CreatedUnixMs);
                }
                w.String(m.Problem);
                break;
            case ExportModel m:
                w.String(m.JobId); w.String(m.Directory); w.Byte((byte)m.Choice); w.Int(m.Epoch); w.String(m.OutDir); w.Long(m.TimeoutMs);
                break;
            case ModelExported m:
                w.Byte(m.Ok ? (byte)1 : (byte)0); w.String(m.Message); w.String(m.JobId); w.Int(m.Epoch); w.String(m.Source); w.String(m.OutDir);
                w.String(m.ModelSha256); w.Long(m.Bytes); w.String(m.Node);
                break;
            case WithToken m:
                // The command as this serializer writes it on its own (manifest + payload as a byte array), behind the token.
                if (!ChangesCluster(m.Command))
                    throw new SerializationException($"WithToken carries only commands that change the cluster, not {m.Command.GetType().Name}.");
                w.String(m.Token);
                WriteNested(ref w, m.Command);
                break;
            case NotAuthorized m:
                w.String(m.Command); w.String(m.Reason);
                break;
            default:
                throw Unknown(obj);
        }
    }

    private static object ReadCommand(ref WireReader r, string manifest)
    {
        switch (manifest)
        {
            // Fresh instances, not the shared ones: a deserialized message is never the sender's object.
            case GetClusterStateManifest: return new GetClusterState();
            case SubscribeMembershipManifest: return new SubscribeMembership();
            case UnsubscribeMembershipManifest: return new UnsubscribeMembership();
            case ClusterStateResultManifest:
            {
                var self = r.String();
                var leader = r.String();
                var members = new MemberInfo[Count(ref r)];
                for (var i = 0; i < members.Length; i++) members[i] = Member(ref r);
                return new ClusterStateResult(self, leader, members);
            }
            case LeaveMemberManifest: return new LeaveMember(r.String());
            case DownMemberManifest: return new DownMember(r.String());
            case CommandResultManifest: return new CommandResult(r.Byte() != 0, r.String());
            case MembershipSubscribedManifest: return new MembershipSubscribed(r.String());
            case MembershipEventManifest: return new MembershipEvent(r.String(), Member(ref r), r.String(), r.Long());
            case GetPartitionsManifest: return new GetPartitions(r.Long());
            case PartitionsResultManifest:
            {
                var parts = r.Int();
                var partitions = new PartitionStatus[Count(ref r)];
                for (var i = 0; i < partitions.Length; i++)
                    partitions[i] = new PartitionStatus(r.Int(), (PartitionState)r.Byte(), r.String(), r.Long(), r.Long(),
                        BitConverter.Int64BitsToDouble(r.Long()), r.String());
                return new PartitionsResult(parts, partitions, r.String());
            }
            case GetJobConfigManifest: return new GetJobConfig();
            case JobConfigResultManifest:
            {
                var job = r.String();
                var state = (JobState)r.Byte();
                return new JobConfigResult(job, state, r.Byte() != 0 ? Config(ref r) : null);
            }
            case ListCheckpointsManifest: return new ListCheckpoints(r.String(), r.String(), r.Long());
            case CheckpointsResultManifest:
            {
                var job = r.String();
                var directory = r.String();
                var node = r.String();
                var metric = r.String();
                var last = r.Int();
                var best = r.Int();
                var checkpoints = new CheckpointInfo[Count(ref r)];
                for (var i = 0; i < checkpoints.Length; i++)
                {
                    var epoch = r.Int();
                    var path = r.String();
                    var names = Strings(ref r);
                    var values = new double[Count(ref r)];
                    for (var v = 0; v < values.Length; v++) values[v] = BitConverter.Int64BitsToDouble(r.Long());
                    checkpoints[i] = new CheckpointInfo(epoch, path, names, values, r.Byte() != 0, r.String(), r.Long(), r.Long());
                }
                return new CheckpointsResult(job, directory, node, metric, last, best, checkpoints, r.String());
            }
            case ExportModelManifest: return new ExportModel(r.String(), r.String(), (ExportChoice)r.Byte(), r.Int(), r.String(), r.Long());
            case ModelExportedManifest:
                return new ModelExported(r.Byte() != 0, r.String(), r.String(), r.Int(), r.String(), r.String(), r.String(), r.Long(), r.String());
            case NotAuthorizedManifest: return new NotAuthorized(r.String(), r.String());
            case DownUnreachableManifest: return new DownUnreachable();
            case UnreachableDownedManifest: return new UnreachableDowned(r.String(), Strings(ref r), Strings(ref r));
            case JoinClusterManifest: return new JoinCluster(r.String());
            case GetServedModelsManifest: return new GetServedModels(r.Long());
            case RegisterServedModelManifest: return new RegisterServedModel(r.String(), r.String(), r.String(), r.Int(), r.String(), r.Long());
            case UnregisterServedModelManifest: return new UnregisterServedModel(r.String(), r.String(), r.String(), r.Long());
            case ScaleServedModelManifest: return new ScaleServedModel(r.String(), r.String(), r.Int(), r.Int(), r.String(), r.Long());
            case InferenceNodeAnswerManifest: return NodeAnswer(ref r);
            case ServedModelsResultManifest:
            {
                var nodes = new InferenceNodeAnswer[Count(ref r)];
                for (var i = 0; i < nodes.Length; i++) nodes[i] = NodeAnswer(ref r);
                return new ServedModelsResult(nodes, r.String());
            }
            default:
                throw new SerializationException(
                    $"Unknown GraphActors manifest '{manifest}': a newer node sent a message this node does not know.");
        }
    }

    private static void NodeAnswer<TW>(ref TW w, InferenceNodeAnswer a) where TW : struct, IWire
    {
        w.String(a.Node); w.Byte(a.Ok ? (byte)1 : (byte)0); w.Int(a.Code); w.String(a.Message);
        w.Int(a.Models.Length);
        foreach (var m in a.Models)
        {
            w.String(m.Name); w.String(m.Version); w.Byte(m.IsDefault ? (byte)1 : (byte)0); w.Int(m.MinWorkers); w.Int(m.MaxWorkers);
            w.String(m.Status); w.String(m.Url);
        }
    }

    private static InferenceNodeAnswer NodeAnswer(ref WireReader r)
    {
        var node = r.String();
        var ok = r.Byte() != 0;
        var code = r.Int();
        var message = r.String();
        var models = new ServedModel[Count(ref r)];
        for (var i = 0; i < models.Length; i++)
            models[i] = new ServedModel(r.String(), r.String(), r.Byte() != 0, r.Int(), r.Int(), r.String(), r.String());
        return new InferenceNodeAnswer(node, ok, code, message, models);
    }

    /// <summary>A message inside another (a command behind its token, a request behind its store version): its manifest, then its own payload as a byte array.</summary>
    private static void WriteNested<TW>(ref TW w, object message) where TW : struct, IWire
    {
        w.String(ManifestOf(message));
        var inner = new WireSizer();
        Write(ref inner, message, default);
        w.Int((int)inner.Size);
        Write(ref w, message, default);
    }

    /// <summary>What <see cref="WriteNested"/> wrote: the inner message and its manifest (for the refusal of one that does not belong there).</summary>
    private (object Message, string Manifest) ReadNested(ref WireReader r)
    {
        var manifest = r.String();
        return (FromBinaryUncounted(r.Bytes(), manifest), manifest);
    }

    private WithToken ReadWithToken(ref WireReader r)
    {
        var token = r.String();
        var (command, manifest) = ReadNested(ref r);
        return ChangesCluster(command) ? new WithToken(token, (IGraphActorsMessage)command)
            : throw new SerializationException($"WithToken carries '{manifest}', which is not a command that changes the cluster.");
    }

    private static void Member<TW>(ref TW w, MemberInfo m) where TW : struct, IWire
    {
        w.String(m.Address);
        w.Int(m.Roles.Length);
        foreach (var role in m.Roles) w.String(role);
        w.String(m.Status); w.Byte(m.Reachable ? (byte)1 : (byte)0); w.Long(m.UpSinceUnixMs);
    }

    private static MemberInfo Member(ref WireReader r)
    {
        var address = r.String();
        var roles = new string[Count(ref r)];
        for (var i = 0; i < roles.Length; i++) roles[i] = r.String();
        return new MemberInfo(address, roles, r.String(), r.Byte() != 0, r.Long());
    }

    // ==== end of CommandProtocol ====
}
