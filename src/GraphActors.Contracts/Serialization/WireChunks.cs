// A message too large for one remote frame: its serialized form cut into chunk-sized slices, and put back together.
using System.Runtime.Serialization;
using Akka.Actor;

namespace GraphActors.Contracts.Serialization;

/// <summary>
/// The one way GraphActors sends a message whose size grows with data across nodes: serialize it once with
/// <see cref="GraphActorsSerializer"/> (<see cref="Serialize"/>), send <see cref="CountOf"/> slices of at most the chunk
/// size (<see cref="Slice"/>, views of that one array: no copy until Akka.Remote writes each chunk), and on the other
/// side append the slices in order to a <see cref="ChunkAssembly"/> and <see cref="Deserialize"/> the whole. Messages
/// whose <see cref="SerializedSize"/> is at most the chunk size cross whole, as before. A whole message is limited to
/// what one .NET array holds (<see cref="MaxWholeBytes"/>); callers split their requests well below that.
/// </summary>
public static class WireChunks
{
    /// <summary>The manifest whose bytes a <see cref="Protocols.SamplingProtocol.MiniBatchChunk"/> carries (MiniBatchData).</summary>
    public const string MiniBatchManifest = GraphActorsSerializer.MiniBatchDataManifest;

    /// <summary>The manifest whose bytes a <see cref="Protocols.SamplingProtocol.SampleEpochChunk"/> carries (SampleEpoch).</summary>
    public const string SampleEpochManifest = GraphActorsSerializer.SampleEpochManifest;

    /// <summary>The largest serialized message: one byte array (Array.MaxLength).</summary>
    public const long MaxWholeBytes = 0x7FFFFFC7;

    /// <summary>The bytes GraphActorsSerializer would write for <paramref name="message"/>, computed without writing them (a walk over its array lengths).</summary>
    public static long SerializedSize(IGraphActorsMessage message) => GraphActorsSerializer.SizeOf(message);

    /// <summary>
    /// <paramref name="message"/>'s serialized form, to be sent in chunks: counted in <see cref="WireTraffic"/> as chunked
    /// (its chunks count as written), not as written whole.
    /// </summary>
    public static byte[] Serialize(ActorSystem system, IGraphActorsMessage message, out string manifest)
    {
        var serializer = Serializer(system);
        manifest = serializer.Manifest(message);
        var bytes = serializer.ToBinaryUncounted(message);
        if (WireTraffic.Enabled) WireTraffic.Chunked(manifest, bytes.Length);
        return bytes;
    }

    /// <summary>The message <see cref="Serialize"/> made <paramref name="bytes"/> of (not counted as read: its chunks were).</summary>
    public static object Deserialize(ActorSystem system, string manifest, byte[] bytes) => Serializer(system).FromBinaryUncounted(bytes, manifest);

    public static int CountOf(int totalBytes, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        return Math.Max(1, (int)(((long)totalBytes + chunkSize - 1) / chunkSize));
    }

    /// <summary>Chunk <paramref name="index"/> of <paramref name="bytes"/>: a view, not a copy.</summary>
    public static ReadOnlyMemory<byte> Slice(byte[] bytes, int index, int chunkSize)
    {
        var start = (long)index * chunkSize;
        if (index < 0 || start > bytes.Length || (start == bytes.Length && bytes.Length > 0))
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{bytes.Length} bytes have no chunk {index} of {chunkSize} bytes.");
        return bytes.AsMemory((int)start, (int)Math.Min(chunkSize, bytes.Length - start));
    }

    private static GraphActorsSerializer Serializer(ActorSystem system) =>
        system.Serialization.FindSerializerForType(typeof(IGraphActorsMessage)) as GraphActorsSerializer
        ?? throw new SerializationException("IGraphActorsMessage is not bound to GraphActorsSerializer in this ActorSystem (GraphActorsSerialization.Config).");
}

/// <summary>
/// The chunks of one message, appended in order into one array of the announced size. Chunks of one sender to one
/// receiver arrive in order (Akka's per-pair ordering), so a chunk out of order, too long, or announcing another size
/// means a torn transfer: <see cref="Append"/> says which instead of building a wrong message.
/// </summary>
public sealed class ChunkAssembly
{
    private readonly byte[] _bytes;
    private int _filled;

    public ChunkAssembly(string manifest, int totalBytes, int count)
    {
        if (totalBytes < 0 || count < 1 || count > Math.Max(1, totalBytes))
            throw new InvalidDataException($"A chunked '{manifest}' announces {totalBytes} bytes in {count} chunks.");
        Manifest = manifest;
        Count = count;
        _bytes = GC.AllocateUninitializedArray<byte>(totalBytes);
    }

    public string Manifest { get; }
    public int Count { get; }
    public int Received { get; private set; }
    public bool Complete => Received == Count;

    /// <summary>The whole serialized message, once <see cref="Complete"/>.</summary>
    public byte[] Bytes => Complete ? _bytes : throw new InvalidOperationException($"Only {Received} of {Count} chunks of '{Manifest}' arrived.");

    /// <summary>Adds chunk <paramref name="index"/> of <paramref name="count"/>; true when it was the last one.</summary>
    public bool Append(int index, int count, int totalBytes, string manifest, ReadOnlySpan<byte> chunk)
    {
        if (index != Received || count != Count || totalBytes != _bytes.Length || manifest != Manifest)
            throw new InvalidDataException(
                $"Chunk {index} of {count} ('{manifest}', {totalBytes} bytes) does not follow chunk {Received - 1} of {Count} ('{Manifest}', {_bytes.Length} bytes).");
        if (chunk.Length > _bytes.Length - _filled || (index == count - 1 && _filled + chunk.Length != _bytes.Length))
            throw new InvalidDataException($"Chunk {index} of {count} of '{Manifest}' holds {chunk.Length} bytes; {_bytes.Length - _filled} of {_bytes.Length} were missing.");
        chunk.CopyTo(_bytes.AsSpan(_filled));
        _filled += chunk.Length;
        Received++;
        return Complete;
    }
}
