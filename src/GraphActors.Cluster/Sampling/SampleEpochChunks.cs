// A SampleEpoch too large for one frame, on its way from a trainer's SamplerRouter to a SamplerActor on another node.
using Akka.Actor;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Sampling;

/// <summary>
/// Both ends of <see cref="SampleEpochChunk"/>. <see cref="Send"/> (the router's side) tells the epoch whole when its
/// serialized form fits <see cref="WireSettings.ChunkSize"/>, else its chunks, all with the trainer as sender (a
/// SampleEpoch is sent once per epoch pass, so no window: its few chunks queue behind each other). The receiving
/// sampler keeps one <see cref="ChunkAssembly"/> per (trainer, request id) in a <see cref="SampleEpochChunks"/> and gets
/// the whole epoch back from <see cref="Add"/> with its last chunk. At most <see cref="MaxPartial"/> epochs are kept
/// half-received (one whose chunks stopped coming, its trainer asks again); a newer one beyond that drops the oldest.
/// </summary>
public sealed class SampleEpochChunks
{
    public const int MaxPartial = 16;

    private readonly Dictionary<(IActorRef, long), ChunkAssembly> _partial = new();
    private readonly Queue<(IActorRef, long)> _order = new();

    /// <summary>Sends <paramref name="epoch"/> to <paramref name="sampler"/> on another node, whole or in chunks; returns the number of messages.</summary>
    public static int Send(ICanTell sampler, SampleEpoch epoch, IActorRef trainer, ActorSystem system, WireSettings wire)
    {
        if (WireChunks.SerializedSize(epoch) <= wire.ChunkSize)
        {
            sampler.Tell(epoch, trainer);
            return 1;
        }
        var bytes = WireChunks.Serialize(system, epoch, out _);
        var count = WireChunks.CountOf(bytes.Length, wire.ChunkSize);
        for (var i = 0; i < count; i++)
            sampler.Tell(new SampleEpochChunk(epoch.RequestId, i, count, bytes.Length, WireChunks.Slice(bytes, i, wire.ChunkSize)), trainer);
        return count;
    }

    /// <summary>Adds a chunk from <paramref name="trainer"/>; the whole epoch when it was the last one, else null.</summary>
    /// <exception cref="InvalidDataException">The chunk does not continue what arrived before it (the partial epoch is dropped).</exception>
    public SampleEpoch? Add(IActorRef trainer, SampleEpochChunk chunk, ActorSystem system)
    {
        var key = (trainer, chunk.RequestId);
        if (chunk.Index == 0)
        {
            if (!_partial.ContainsKey(key)) _order.Enqueue(key);
            _partial[key] = new ChunkAssembly(WireChunks.SampleEpochManifest, chunk.TotalBytes, chunk.Count);
            while (_partial.Count > MaxPartial && _order.TryDequeue(out var oldest)) _partial.Remove(oldest);
        }
        if (!_partial.TryGetValue(key, out var assembly))
            throw new InvalidDataException($"Chunk {chunk.Index} of {chunk.Count} of epoch request {chunk.RequestId} arrived without its first chunk.");
        try
        {
            if (!assembly.Append(chunk.Index, chunk.Count, chunk.TotalBytes, WireChunks.SampleEpochManifest, chunk.Bytes.Span)) return null;
            _partial.Remove(key);
            return (SampleEpoch)WireChunks.Deserialize(system, WireChunks.SampleEpochManifest, assembly.Bytes);
        }
        catch (InvalidDataException)
        {
            _partial.Remove(key);
            throw;
        }
    }
}
