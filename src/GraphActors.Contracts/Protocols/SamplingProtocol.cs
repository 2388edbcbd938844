// What samplers ask partitions for beyond neighbours (negatives), and how a sampler hands mini-batches to a trainer.
using Akka.Streams;

namespace GraphActors.Contracts.Protocols;

/// <summary>Negative sampling strategies by their GraphLearn names (mirrors GraphActors.Sampling's enum).</summary>
public enum NegativeStrategyKind : byte
{
    /// <summary><c>random</c>: destination-type nodes drawn uniformly.</summary>
    Random = 0,
    /// <summary><c>in_degree_pow0.75</c>: drawn ∝ in-degree^0.75 (word2vec's unigram^0.75; the wire name predates GSL's raw in_degree).</summary>
    InDegree = 1,
    /// <summary><c>in_degree</c>: drawn ∝ in-degree (GraphLearn's in_degree negatives).</summary>
    RawInDegree = 2,
    /// <summary>GSL's <c>random</c>: uniform among the destinations the edge type reaches.</summary>
    RandomReached = 3,
}

/// <summary>
/// The sampling protocol: negative sampling served by partitions (same addressing, request ids and deadlines as
/// <see cref="PartitionProtocol"/>), and the sampler ↔ trainer exchange: an epoch's share of seeds in, a SourceRef of
/// mini-batches out. Manifests start with "S".
/// </summary>
public static class SamplingProtocol
{
    // ---- partition requests ----

    /// <summary>
    /// <paramref name="K"/> negatives per source along <paramref name="EdgeType"/> (GraphLearn's outNeg): destination-type
    /// global ids, drawn over the WHOLE graph's destination nodes; sources must be owned by the partition (they are only
    /// needed to exclude true out-neighbours when <paramref name="ExcludeNeighbors"/>).
    /// </summary>
    public sealed record GetNegatives(
        long RequestId,
        int Partition,
        CanonicalEdgeType EdgeType,
        int[] Sources,
        int K,
        NegativeStrategyKind Strategy,
        bool ExcludeNeighbors,
        ulong RngSeed,
        long DeadlineUnixMs) : PartitionProtocol.IPartitionRequest;

    /// <summary>Sources × K ids row-major, and what the draw did (see GraphActors.Sampling's NegativeSampleStats).</summary>
    public sealed record NegativesResult(long RequestId, int Partition, int[] Negatives, int Requested, int Redrawn, int Unresolved)
        : PartitionProtocol.IPartitionResponse;

    /// <summary>The labels of <paramref name="Ids"/> (owned nodes of <paramref name="NodeType"/>), in order; -1 where unlabelled.</summary>
    public sealed record GetLabels(long RequestId, int Partition, NodeType NodeType, int[] Ids, long DeadlineUnixMs)
        : PartitionProtocol.IPartitionRequest;

    public sealed record LabelsResult(long RequestId, int Partition, int[] Labels) : PartitionProtocol.IPartitionResponse;

    // ---- sampler ↔ trainer ----

    /// <summary>
    /// Ask a SamplerActor to sample one epoch of node-classification batches over <paramref name="Seeds"/> (this
    /// trainer's share, already chosen by the coordinator), or of link-prediction batches when <paramref name="Link"/>
    /// is set (the seeds are then positions of training edges, <paramref name="NodeType"/> the edge's source type): shuffled by (<paramref name="Seed"/>, epoch), cut into
    /// <paramref name="BatchSize"/> batches. <paramref name="Fanouts"/> are DGL's order (last = the seeds' layer; -1 all).
    /// <paramref name="ReverseEdges"/> adds the virtual reverse relations local-mode training samples with (the
    /// trainer's model is built over the same relations). The answer is <see cref="EpochStreamReady"/> or <see cref="EpochRejected"/>.
    /// With <paramref name="BatchOffsets"/> the batches are given, not cut: batch b is
    /// <c>Seeds[BatchOffsets[b]..BatchOffsets[b+1]]</c> in that order, sampled with rng seed <paramref name="BatchSeeds"/>[b]
    /// (the coordinator's pieces of global batches: the seed of local mode's batch they belong to); no shuffle.
    /// <paramref name="BatchSteps"/>[b] is that global batch's number: a link batch keeps the edges of the WHOLE global
    /// batch out of message passing (local mode's batch is <paramref name="BatchSize"/> edges of the epoch's shuffled
    /// training edges, which the sampler computes alike), not only its piece's.
    /// </summary>
    public sealed record SampleEpoch(
        long RequestId,
        int Epoch,
        NodeType NodeType,
        int[] Seeds,
        int BatchSize,
        int[] Fanouts,
        NeighborStrategy Strategy,
        bool DropLast,
        ulong Seed,
        ReverseEdgeMode ReverseEdges = ReverseEdgeMode.None,
        LinkSampling? Link = null,
        int[]? BatchOffsets = null,
        ulong[]? BatchSeeds = null,
        int[]? BatchSteps = null) : IGraphActorsMessage;

    /// <summary>
    /// Part <paramref name="Index"/> of <paramref name="Count"/> of a <see cref="SampleEpoch"/> too large for one remote
    /// message (a trainer's share of a large graph's seeds: 6 M seeds are 24 MB): a slice of its serialized form,
    /// <paramref name="TotalBytes"/> in all. The SamplerRouter sends them to a sampler on another node with the trainer as
    /// sender; the SamplerActor puts them back together and handles the epoch as if it had come whole.
    /// </summary>
    public sealed record SampleEpochChunk(long RequestId, int Index, int Count, int TotalBytes, ReadOnlyMemory<byte> Bytes) : IGraphActorsMessage;

    /// <summary>
    /// Link prediction's part of a <see cref="SampleEpoch"/>: its seeds are then positions into the training edges of
    /// <paramref name="Type"/>'s edge split (<paramref name="ValFraction"/>, <paramref name="TestFraction"/>,
    /// <paramref name="SplitSeed"/>: the deterministic split every trainer and the coordinator compute alike), and each
    /// batch carries <paramref name="Negatives"/> corrupted destinations per positive, its own edges excluded from
    /// message passing as <paramref name="Exclude"/> says (DGL's EdgeDataLoader).
    /// </summary>
    public sealed record LinkSampling(
        CanonicalEdgeType Type,
        int Negatives,
        NegativeMode NegativeStrategy,
        ExclusionMode Exclude,
        double ValFraction,
        double TestFraction,
        ulong SplitSeed);

    /// <summary>Mirrors GraphActors.Sampling's NegativeStrategy: random, in_degree.</summary>
    public enum NegativeMode : byte { Random = 0, InDegree = 1 }

    /// <summary>Mirrors GraphActors.Sampling's LinkExclusion: none, self, reverse.</summary>
    public enum ExclusionMode : byte { None = 0, Self = 1, SelfAndReverse = 2 }

    /// <summary>
    /// The pairs of a link-prediction batch as local indices into its seeds (the last block's destination nodes of the
    /// edge type's source and destination types): positives, and <paramref name="NegativesPerPositive"/> negatives per
    /// positive (pair i·k + j corrupts positive i's destination).
    /// </summary>
    public sealed record LinkPairsData(CanonicalEdgeType Type, int[] PosSrc, int[] PosDst, int[] NegSrc, int[] NegDst, int NegativesPerPositive);

    /// <summary>Mirrors GraphActors.Sampling's ReverseEdges: none, add_reverse, bidirected.</summary>
    public enum ReverseEdgeMode : byte { None = 0, AddReverse = 1, Bidirected = 2 }

    /// <summary>
    /// The epoch's mini-batches, in batch order, as a single-use stream reference for the requester: materialise it within
    /// the sampler's subscription timeout (<c>graphactors.sampler.subscription-timeout</c>) into an ack-based sink
    /// (MiniBatchWire.RunInto, which hands the consumer whole <see cref="MiniBatchData"/> whatever the elements are).
    /// </summary>
    public sealed record EpochStreamReady(long RequestId, int Epoch, int Batches, ISourceRef<IMiniBatchPart> Stream) : IGraphActorsMessage;

    /// <summary>
    /// An element of an epoch's stream: a whole <see cref="MiniBatchData"/> when the requester is on the sampler's node
    /// (no serialization), or one <see cref="MiniBatchChunk"/> of a batch when it is on another node.
    /// </summary>
    public interface IMiniBatchPart : IGraphActorsMessage
    {
        long RequestId { get; }
        int Epoch { get; }
        int Index { get; }
    }

    /// <summary>
    /// Part <paramref name="Part"/> of <paramref name="Parts"/> of mini-batch <paramref name="Index"/>: a slice of the
    /// batch's serialized <see cref="MiniBatchData"/> (<paramref name="TotalBytes"/> in all), at most
    /// <c>graphactors.wire.chunk-size</c> bytes. A stream element each, so the SourceRef's demand is the backpressure.
    /// </summary>
    public sealed record MiniBatchChunk(long RequestId, int Epoch, int Index, int Part, int Parts, int TotalBytes, ReadOnlyMemory<byte> Bytes)
        : IMiniBatchPart;

    /// <summary>The sampler could not start the epoch: the problem in words.</summary>
    public sealed record EpochRejected(long RequestId, int Epoch, string Problem) : IGraphActorsMessage;

    /// <summary>
    /// One layer of a mini-batch (GraphActors.Sampling's Block as arrays). Per node type (the batch's order):
    /// <paramref name="SrcNodes"/> global ids, the first <paramref name="NumDst"/> being the destination nodes. Per edge
    /// type (the batch's order): local source and destination indices, and weights (null unless asked for).
    /// </summary>
    public sealed record BlockData(int[][] SrcNodes, int[] NumDst, int[][] EdgeSrc, int[][] EdgeDst, float[]?[] EdgeWeights);

    /// <summary>
    /// One mini-batch: blocks (index 0 = input layer), per node type the input features (row-major,
    /// InputNodes × FeatureDims[t], null when none) and the seeds' labels (null when unlabelled). A stream element itself
    /// when the trainer is on the sampler's node; cut into <see cref="MiniBatchChunk"/>s when it is not.
    /// </summary>
    public sealed record MiniBatchData(
        long RequestId,
        int Epoch,
        int Index,
        string[] NodeTypes,
        CanonicalEdgeType[] EdgeTypes,
        BlockData[] Blocks,
        int[] FeatureDims,
        float[]?[] Features,
        int[]?[] Labels,
        LinkPairsData? Link = null) : IMiniBatchPart
    {
        /// <summary>The payload bytes the serializer writes for the arrays (headers excluded).</summary>
        public long PayloadBytes
        {
            get
            {
                long n = 0;
                foreach (var b in Blocks)
                {
                    foreach (var s in b.SrcNodes) n += s.Length * 4L;
                    foreach (var s in b.EdgeSrc) n += s.Length * 4L;
                    foreach (var s in b.EdgeDst) n += s.Length * 4L;
                    foreach (var w in b.EdgeWeights) n += (w?.Length ?? 0) * 4L;
                }
                foreach (var f in Features) n += (f?.Length ?? 0) * 4L;
                foreach (var l in Labels) n += (l?.Length ?? 0) * 4L;
                if (Link is { } p) n += (p.PosSrc.Length + p.PosDst.Length + p.NegSrc.Length + p.NegDst.Length) * 4L;
                return n;
            }
        }
    }

    /// <summary>The consumer's ack-sink protocol (Sink.ActorRefWithAck): first message, ack, completion and failure.</summary>
    public sealed record StreamInit(long RequestId) : IGraphActorsMessage;
    public sealed record StreamAck : IGraphActorsMessage { public static readonly StreamAck Instance = new(); }
    public sealed record StreamCompleted(long RequestId) : IGraphActorsMessage;
    public sealed record StreamFailed(long RequestId, string Problem) : IGraphActorsMessage;
}
