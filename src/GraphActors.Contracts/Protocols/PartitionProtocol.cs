// What a PartitionActor is asked and what it answers: batched per partition, arrays of primitives only.
namespace GraphActors.Contracts.Protocols;

/// <summary>Which CSR of an edge type a request walks: out-neighbours of sources or in-neighbours of destinations.</summary>
public enum EdgeDirection : byte
{
    Out = 0,
    In = 1,
}

/// <summary>The neighbour sampling strategies by their GraphLearn names (mirrors GraphActors.Sampling's enum, which Contracts does not know).</summary>
public enum NeighborStrategy : byte
{
    /// <summary><c>random</c>: k uniform draws with replacement.</summary>
    Random = 0,
    /// <summary><c>random_without_replacement</c>: k distinct neighbours, all of them when the degree is at most k.</summary>
    RandomWithoutReplacement = 1,
    /// <summary><c>edge_weight</c>: k draws with replacement, proportional to the edge weight.</summary>
    EdgeWeight = 2,
    /// <summary><c>topk</c>: the k heaviest edges.</summary>
    TopK = 3,
    /// <summary><c>full</c>: every neighbour.</summary>
    Full = 4,
    /// <summary><c>in_degree</c>: k draws with replacement, each neighbour ∝ its in-degree along the edge type (the whole graph's).</summary>
    InDegree = 5,
}

/// <summary>
/// The partition protocol. Every request names its partition (the shard and entity id), carries a request id the
/// answer repeats (senders correlate with it instead of Ask), and a deadline in Unix milliseconds after which the
/// partition drops it (0: no deadline). Node ids are per-type global ids after relabelling; the partition answers
/// only for ids it owns (the sender groups ids by owner through the partition book).
/// Arrays are never mutated after a message is built: a message owns its arrays.
/// </summary>
public static class PartitionProtocol
{
    /// <summary>A request addressed to one partition.</summary>
    public interface IPartitionRequest : IGraphActorsMessage
    {
        long RequestId { get; }
        int Partition { get; }
        long DeadlineUnixMs { get; }
    }

    /// <summary>An answer from one partition, success or <see cref="PartitionError"/>.</summary>
    public interface IPartitionResponse : IGraphActorsMessage
    {
        long RequestId { get; }
        int Partition { get; }
    }

    // ---- queries ----

    /// <summary>Sample up to <paramref name="Fanout"/> neighbours of each seed along one edge type and direction.</summary>
    public sealed record GetNeighbors(
        long RequestId,
        int Partition,
        CanonicalEdgeType EdgeType,
        EdgeDirection Direction,
        int[] Seeds,
        int Fanout,
        NeighborStrategy Strategy,
        ulong RngSeed,
        long DeadlineUnixMs) : IPartitionRequest;

    /// <summary>
    /// Ragged rows, one per seed: the neighbours of seed i are <c>Neighbors[Offsets[i]..Offsets[i+1]]</c> (global ids of
    /// the far end's type), each with its edge weight.
    /// </summary>
    public sealed record NeighborsResult(long RequestId, int Partition, int[] Offsets, int[] Neighbors, float[] Weights)
        : IPartitionResponse;

    /// <summary>Gather the feature rows of <paramref name="Ids"/> (owned nodes of <paramref name="NodeType"/>), in order; ids may repeat.</summary>
    public sealed record GetFeatures(long RequestId, int Partition, NodeType NodeType, int[] Ids, long DeadlineUnixMs)
        : IPartitionRequest;

    /// <summary>A row-major block of <paramref name="Rows"/> × <paramref name="Dim"/> floats.</summary>
    public sealed record FeaturesResult(long RequestId, int Partition, int Rows, int Dim, float[] Data) : IPartitionResponse;

    /// <summary>The degree of each id along one edge type and direction.</summary>
    public sealed record GetDegrees(
        long RequestId, int Partition, CanonicalEdgeType EdgeType, EdgeDirection Direction, int[] Ids, long DeadlineUnixMs)
        : IPartitionRequest;

    public sealed record DegreesResult(long RequestId, int Partition, int[] Degrees) : IPartitionResponse;

    /// <summary>Translate business ids (as in the source tables) into global ids; the partition answers for those it owns.</summary>
    public sealed record GetIds(long RequestId, int Partition, NodeType NodeType, long[] BusinessIds, long DeadlineUnixMs)
        : IPartitionRequest;

    /// <summary><c>Ids[i]</c> is the global id of <c>BusinessIds[i]</c>, or -1; <paramref name="Misses"/> lists the indexes that were not found.</summary>
    public sealed record IdsResult(long RequestId, int Partition, int[] Ids, int[] Misses) : IPartitionResponse;

    /// <summary>What the partition holds and how busy it has been.</summary>
    public sealed record GetPartitionInfo(long RequestId, int Partition, long DeadlineUnixMs = 0) : IPartitionRequest;

    /// <summary>
    /// Per node type (parallel arrays): name, first owned id, owned count, feature dim. Per edge type: the type and
    /// its out-CSR edge count here. Stats since the partition was loaded.
    /// </summary>
    public sealed record PartitionInfoResult(
        long RequestId,
        int Partition,
        int Parts,
        string[] NodeTypes,
        int[] NodeStarts,
        int[] NodeCounts,
        int[] FeatureDims,
        CanonicalEdgeType[] EdgeTypes,
        long[] OutEdgeCounts,
        long Requests,
        long RowsServed,
        long MappedBytes,
        long DroppedLate) : IPartitionResponse;

    // ---- answers too large for one remote message ----

    /// <summary>
    /// Part <paramref name="Index"/> of <paramref name="Count"/> of an answer too large for one remote message: a slice of
    /// the answer's serialized form (GraphActorsSerializer's bytes for <paramref name="Manifest"/>, <paramref name="TotalBytes"/>
    /// in all). A partition answers a requester on another node this way when the answer's serialized form exceeds
    /// <c>graphactors.wire.chunk-size</c>; a requester on the partition's own node gets the answer object itself. The
    /// chunks of one answer come from one sender to one receiver, so they arrive in order; the receiver acknowledges each
    /// with <see cref="ChunkAck"/> to the chunk's sender, which keeps at most <c>graphactors.wire.chunks-in-flight</c>
    /// unacknowledged (the rest wait at the partition, not in the connection's queue ahead of cluster heartbeats).
    /// </summary>
    public sealed record ResponseChunk(long RequestId, int Partition, int Index, int Count, string Manifest, int TotalBytes, ReadOnlyMemory<byte> Bytes)
        : IPartitionResponse;

    /// <summary>The requester holds chunk <paramref name="Index"/> of the answer to <paramref name="RequestId"/>: the partition may send another.</summary>
    public sealed record ChunkAck(long RequestId, int Partition, int Index) : IGraphActorsMessage;

    /// <summary>The partition could not answer <paramref name="RequestId"/>: the problem in words, naming what was wrong.</summary>
    public sealed record PartitionError(long RequestId, int Partition, string Problem) : IPartitionResponse
    {
        public override string ToString() => $"Partition {Partition} failed request {RequestId}: {Problem}";
    }
}
