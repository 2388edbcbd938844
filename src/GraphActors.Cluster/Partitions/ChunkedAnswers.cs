// A partition's answers to requesters on other nodes that are too large for one frame: sent as chunks, a window at a time.
using Akka.Actor;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Partitions;

/// <summary>
/// The outgoing side of <see cref="ResponseChunk"/> for one PartitionActor (called from its thread only). A requester on
/// the partition's node gets the answer object (nothing is serialized in-process); a requester on another node gets it
/// whole when its serialized form fits <see cref="WireSettings.ChunkSize"/>, else as chunks: the answer is serialized
/// once, the first <see cref="WireSettings.ChunksInFlight"/> chunks go at once and each <see cref="ChunkAck"/> releases the
/// next, so the partition holds the serialized answer until the last chunk is acknowledged or the request's deadline
/// passes (the requester gave up: <see cref="Expire"/> drops it). An answer larger than
/// <see cref="WireSettings.MaxMessageBytes"/> serialized is replaced by a <see cref="PartitionError"/> naming its size.
/// </summary>
public sealed class ChunkedAnswers(WireSettings settings)
{
    private sealed class Transfer(IActorRef to, long requestId, int partition, string manifest, byte[] bytes, int count, DateTimeOffset expires)
    {
        public IActorRef To { get; } = to;
        public long RequestId { get; } = requestId;
        public int Partition { get; } = partition;
        public string Manifest { get; } = manifest;
        public byte[] Bytes { get; } = bytes;
        public int Count { get; } = count;
        public DateTimeOffset Expires { get; } = expires;
        public int Sent { get; set; }
    }

    // Keyed by requester and request id: request ids are unique per requesting process, not across processes.
    private readonly Dictionary<(IActorRef, long), Transfer> _transfers = new();

    /// <summary>Answers being sent in chunks right now.</summary>
    public int InProgress => _transfers.Count;

    /// <summary>Answers sent as chunks, and the chunks sent, since the actor started.</summary>
    public long Chunked { get; private set; }

    /// <summary>Serialized bytes of the answers sent to requesters on other nodes (whole or as chunks); local answers cross no wire.</summary>
    public long WireBytes { get; private set; }
    public long ChunksSent { get; private set; }

    /// <summary>
    /// Sends <paramref name="answer"/> to <paramref name="to"/> whole or as the first chunks of a transfer; returns the
    /// number of chunks it will take (1: sent whole). <paramref name="expires"/> is when the requester stops waiting.
    /// </summary>
    public int Send(IActorRef to, IPartitionResponse answer, IActorRef self, ActorSystem system, DateTimeOffset expires)
    {
        if (to.Path.Address.HasLocalScope)
        {
            to.Tell(answer, self);
            return 1;
        }
        var size = WireChunks.SerializedSize(answer);
        if (size <= settings.ChunkSize)
        {
            WireBytes += size;
            to.Tell(answer, self);
            return 1;
        }
        if (size > settings.MaxMessageBytes)
        {
            to.Tell(new PartitionError(answer.RequestId, answer.Partition,
                $"the answer to request {answer.RequestId} ({answer.GetType().Name}) would be {size:N0} bytes serialized, above " +
                $"graphactors.wire.max-message-bytes ({settings.MaxMessageBytes:N0}): ask for fewer ids per request."), self);
            return 1;
        }
        var bytes = WireChunks.Serialize(system, answer, out var manifest);
        var count = WireChunks.CountOf(bytes.Length, settings.ChunkSize);
        var transfer = new Transfer(to, answer.RequestId, answer.Partition, manifest, bytes, count, expires);
        _transfers[(to, answer.RequestId)] = transfer;
        Chunked++;
        WireBytes += bytes.Length;
        while (transfer.Sent < Math.Min(count, settings.ChunksInFlight)) SendNext(transfer, self);
        if (transfer.Sent == count) _transfers.Remove((to, answer.RequestId));
        return count;
    }

    /// <summary>The requester holds chunk <paramref name="ack"/>.Index: sends the next one, if any (acks of unknown or finished transfers are ignored).</summary>
    public void Acked(IActorRef from, ChunkAck ack, IActorRef self)
    {
        if (!_transfers.TryGetValue((from, ack.RequestId), out var transfer)) return;
        if (transfer.Sent < transfer.Count) SendNext(transfer, self);
        if (transfer.Sent == transfer.Count) _transfers.Remove((from, ack.RequestId));
    }

    /// <summary>Drops transfers whose requester has stopped waiting; returns how many.</summary>
    public int Expire(DateTimeOffset now)
    {
        var expired = _transfers.Where(kv => kv.Value.Expires < now).Select(kv => kv.Key).ToArray();
        foreach (var key in expired) _transfers.Remove(key);
        return expired.Length;
    }

    private void SendNext(Transfer t, IActorRef self)
    {
        var index = t.Sent++;
        t.To.Tell(new ResponseChunk(t.RequestId, t.Partition, index, t.Count, t.Manifest, t.Bytes.Length,
            WireChunks.Slice(t.Bytes, index, settings.ChunkSize)), self);
        ChunksSent++;
    }
}
