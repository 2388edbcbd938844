// MiniBatch ⇄ MiniBatchData (the wire form), a batch's stream elements across nodes (chunks), and the trainer's end of the stream: an ack-based sink.
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Serialization;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Sampling;

public static class MiniBatchWire
{
    /// <summary>The wire form of <paramref name="batch"/>: the arrays are shared, not copied (a message owns its arrays from here on).</summary>
    public static MiniBatchData ToData(this MiniBatch batch, long requestId, int epoch, int index)
    {
        var types = batch.NodeTypes.Select(t => t.Name).ToArray();
        var edgeTypes = batch.Blocks[0].Edges.Select(e => e.Type).ToArray();
        var blocks = batch.Blocks.Select(b => new BlockData(b.SrcNodes, b.NumDst,
            b.Edges.Select(e => e.SrcLocal).ToArray(), b.Edges.Select(e => e.DstLocal).ToArray(), b.Edges.Select(e => e.Weights).ToArray())).ToArray();
        return new MiniBatchData(requestId, epoch, index, types, edgeTypes, blocks, batch.FeatureDims, batch.InputFeatures, batch.Labels);
    }

    /// <summary>The wire form of a link-prediction batch: its graph as <see cref="ToData(MiniBatch, long, int, int)"/>, plus the pairs.</summary>
    public static MiniBatchData ToData(this LinkBatch batch, long requestId, int epoch, int index) =>
        batch.Graph.ToData(requestId, epoch, index) with
        {
            Link = new LinkPairsData(batch.Type, batch.PosSrc, batch.PosDst, batch.NegSrc, batch.NegDst, batch.NegativesPerPositive),
        };

    /// <summary>The link-prediction batch a trainer steps on (negative-sampling statistics stay with the sampler).</summary>
    public static LinkBatch ToLinkBatch(this MiniBatchData data)
    {
        var p = data.Link ?? throw new InvalidOperationException($"Mini-batch {data.Index} of epoch {data.Epoch} is a node batch, not a link batch.");
        return new LinkBatch(p.Type, data.ToMiniBatch(), p.PosSrc, p.PosDst, p.NegSrc, p.NegDst, p.NegativesPerPositive, default);
    }

    /// <summary>The mini-batch a trainer steps on, rebuilt from its wire form.</summary>
    public static MiniBatch ToMiniBatch(this MiniBatchData data)
    {
        var types = data.NodeTypes.Select(n => new NodeType(n)).ToArray();
        var blocks = data.Blocks.Select(b => new Block(types, b.SrcNodes, b.NumDst,
            data.EdgeTypes.Select((t, e) => new BlockEdges(t, b.EdgeSrc[e], b.EdgeDst[e], b.EdgeWeights[e])).ToArray())).ToArray();
        return new MiniBatch(blocks, data.Features, data.FeatureDims, data.Labels);
    }

    /// <summary>
    /// The stream elements of a sampled batch. On the requester's node: the batch itself (no serialization). For a
    /// requester on another node: the batch whole when it serializes to at most <see cref="WireSettings.ChunkSize"/>,
    /// else the <see cref="MiniBatchChunk"/>s of its serialized form, each a stream element, so the SourceRef's demand
    /// (the consumer's stream-ref buffer-capacity, in chunks) is the backpressure and the connection never carries more
    /// than a chunk per frame. A batch is serialized when its first chunk is demanded and released after its last; one
    /// larger than <see cref="WireSettings.MaxMessageBytes"/> fails the stream with a message naming it.
    /// </summary>
    public static Flow<MiniBatchData, IMiniBatchPart, NotUsed> Parts(bool crossesNodes, ActorSystem system, WireSettings wire) =>
        crossesNodes
            ? Flow.Create<MiniBatchData>().SelectMany(d => Chunks(d, system, wire))
            : Flow.Create<MiniBatchData>().Select(d => (IMiniBatchPart)d);

    private static IEnumerable<IMiniBatchPart> Chunks(MiniBatchData data, ActorSystem system, WireSettings wire)
    {
        var size = WireChunks.SerializedSize(data);
        if (size <= wire.ChunkSize)
        {
            yield return data;
            yield break;
        }
        if (size > wire.MaxMessageBytes)
            throw new InvalidOperationException(
                $"Mini-batch {data.Index} of epoch {data.Epoch} serializes to {size / 1048576.0:0.0} MiB, above graphactors.wire.max-message-bytes " +
                $"({wire.MaxMessageBytes / 1048576.0:0.0} MiB): a batch for a trainer on another node is serialized whole before it is cut into chunks. " +
                "Lower the batch size or the fanouts, or raise graphactors.wire.max-message-bytes (at most 2 GiB).");
        var bytes = WireChunks.Serialize(system, data, out _);
        var parts = WireChunks.CountOf(bytes.Length, wire.ChunkSize);
        for (var part = 0; part < parts; part++)
            yield return new MiniBatchChunk(data.RequestId, data.Epoch, data.Index, part, parts, bytes.Length, WireChunks.Slice(bytes, part, wire.ChunkSize));
    }

    /// <summary>The consumer's side of <see cref="Parts"/>: whole batches pass, chunks are put back together (one batch at a time) and deserialized.</summary>
    public static Flow<IMiniBatchPart, MiniBatchData, NotUsed> Whole(ActorSystem system) =>
        Flow.Create<IMiniBatchPart>().StatefulSelectMany<IMiniBatchPart, IMiniBatchPart, MiniBatchData, NotUsed>(() =>
        {
            ChunkAssembly? assembly = null;
            return part =>
            {
                switch (part)
                {
                    case MiniBatchData whole:
                        if (assembly is not null)
                            throw new InvalidDataException($"Mini-batch {whole.Index} of epoch {whole.Epoch} arrived while batch chunks were still missing.");
                        return [whole];
                    case MiniBatchChunk c:
                        if (c.Part == 0) assembly = new ChunkAssembly(WireChunks.MiniBatchManifest, c.TotalBytes, c.Parts);
                        if (assembly is null)
                            throw new InvalidDataException($"Chunk {c.Part} of mini-batch {c.Index} (epoch {c.Epoch}) arrived without its first chunk.");
                        if (!assembly.Append(c.Part, c.Parts, c.TotalBytes, WireChunks.MiniBatchManifest, c.Bytes.Span)) return [];
                        var bytes = assembly.Bytes;
                        assembly = null;
                        return [(MiniBatchData)WireChunks.Deserialize(system, WireChunks.MiniBatchManifest, bytes)];
                    default:
                        throw new InvalidDataException($"An epoch stream carried a {part.GetType().Name}.");
                }
            };
        });

    /// <summary>
    /// Runs an epoch's stream into <paramref name="consumer"/> one whole mini-batch per message (chunks of a batch from
    /// another node are put back together first, <see cref="Whole"/>): it gets <see cref="StreamInit"/> first, then each
    /// <see cref="MiniBatchData"/>, and must answer each of them (the init included) with <see cref="StreamAck"/>; then
    /// <see cref="StreamCompleted"/> or <see cref="StreamFailed"/>. The ack is the backpressure: the sink holds at most one
    /// batch besides the one the consumer is working on (input buffer 1; Akka's default would buffer 16), and the
    /// reassembly at most one partial batch. The kill switch stops the stream (and with it the sampler's work on it)
    /// when the consumer no longer wants it: a re-planned epoch, a halted job.
    /// </summary>
    public static UniqueKillSwitch RunInto(this ISourceRef<IMiniBatchPart> stream, IActorRef consumer, long requestId, IMaterializer materializer) =>
        stream.Source
            .ViaMaterialized(KillSwitches.Single<IMiniBatchPart>(), Keep.Right)
            .Via(Whole((materializer as ActorMaterializer)?.System
                ?? throw new ArgumentException($"RunInto needs an ActorMaterializer (its system reads the chunks back), got {materializer.GetType().Name}.", nameof(materializer))))
            .To(Sink.ActorRefWithAck<MiniBatchData>(consumer, new StreamInit(requestId), StreamAck.Instance, new StreamCompleted(requestId),
                e => new StreamFailed(requestId, e.Message)).WithAttributes(Attributes.CreateInputBuffer(1, 1)))
            .Run(materializer);
}
