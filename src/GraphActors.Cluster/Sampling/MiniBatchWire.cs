// MiniBatch ⇄ MiniBatchData (the wire form), and the trainer's end of a mini-batch stream: an ack-based sink.
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using GraphActors.Contracts;
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
    /// Runs an epoch's stream into <paramref name="consumer"/> one mini-batch per message: it gets
    /// <see cref="StreamInit"/> first, then each <see cref="MiniBatchData"/>, and must answer each of them (the init
    /// included) with <see cref="StreamAck"/>; then <see cref="StreamCompleted"/> or <see cref="StreamFailed"/>.
    /// The ack is the backpressure: the sink holds at most one batch besides the one the consumer is working on
    /// (input buffer 1; Akka's default would buffer 16). The kill switch stops the stream (and with it the sampler's
    /// work on it) when the consumer no longer wants it: a re-planned epoch, a halted job.
    /// </summary>
    public static UniqueKillSwitch RunInto(this ISourceRef<MiniBatchData> stream, IActorRef consumer, long requestId, IMaterializer materializer) =>
        stream.Source
            .ViaMaterialized(KillSwitches.Single<MiniBatchData>(), Keep.Right)
            .To(Sink.ActorRefWithAck<MiniBatchData>(consumer, new StreamInit(requestId), StreamAck.Instance, new StreamCompleted(requestId),
                e => new StreamFailed(requestId, e.Message)).WithAttributes(Attributes.CreateInputBuffer(1, 1)))
            .Run(materializer);
}
