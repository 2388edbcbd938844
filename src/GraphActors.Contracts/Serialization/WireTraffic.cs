// Opt-in totals of the bytes GraphActorsSerializer writes and reads, per manifest: what our messages cost on the wire.
using System.Collections.Concurrent;

namespace GraphActors.Contracts.Serialization;

/// <summary>
/// Messages and payload bytes one manifest wrote (ToBinary) and read (FromBinary), and the high-water marks since the
/// last <see cref="WireTraffic.Reset"/>: <paramref name="MaxWritten"/>, the largest payload of this manifest written
/// as one message; <paramref name="MessagesChunked"/> and <paramref name="MaxChunked"/>, the messages of this manifest
/// that were cut into chunks instead and the largest of them whole (what one message would have been); and
/// <paramref name="MaxChunkWritten"/>, the largest chunk message (its whole payload, header included) that carried
/// bytes of this manifest. So for a kind of message, the largest thing put on the wire is
/// max(<paramref name="MaxWritten"/>, <paramref name="MaxChunkWritten"/>), and without chunking it would have been
/// max(<paramref name="MaxWritten"/>, <paramref name="MaxChunked"/>).
/// </summary>
public readonly record struct WireCount(
    long MessagesWritten,
    long BytesWritten,
    long MessagesRead,
    long BytesRead,
    long MaxWritten = 0,
    long MessagesChunked = 0,
    long MaxChunked = 0,
    long MaxChunkWritten = 0)
{
    /// <summary>The largest payload of this kind that crossed as one message, whole or as a chunk.</summary>
    public long LargestOnWire => Math.Max(MaxWritten, MaxChunkWritten);

    /// <summary>The largest message of this kind, whole: what would have crossed without chunking.</summary>
    public long LargestWhole => Math.Max(MaxWritten, MaxChunked);

    /// <summary>Counters are differences; the maxima are <paramref name="a"/>'s (high-water marks cannot be subtracted).</summary>
    public static WireCount operator -(WireCount a, WireCount b) =>
        new(a.MessagesWritten - b.MessagesWritten, a.BytesWritten - b.BytesWritten, a.MessagesRead - b.MessagesRead, a.BytesRead - b.BytesRead,
            a.MaxWritten, a.MessagesChunked - b.MessagesChunked, a.MaxChunked, a.MaxChunkWritten);
}

/// <summary>
/// Off by default, when the serializer pays one volatile read per message. Switched on (benchmarks, tests), every
/// payload <see cref="GraphActorsSerializer"/> writes or reads is added to its manifest's totals with Interlocked adds.
/// The totals are process-wide: a message between two ActorSystems of one process is counted once written and once
/// read. Only our payload is counted; Akka.Remote's envelope (recipient and sender paths, serializer id, manifest)
/// and frame header come on top. Local sends are never serialized (unless serialize-messages is on), so with it off
/// the totals are exactly what crossed Akka.Remote. A message serialized only to be cut into chunks
/// (<see cref="WireChunks"/>) is not counted as written or read: its chunks are, and it is counted as chunked.
/// </summary>
public static class WireTraffic
{
    private sealed class Totals
    {
        public long MessagesWritten, BytesWritten, MessagesRead, BytesRead, MaxWritten, MessagesChunked, MaxChunked, MaxChunkWritten;
    }

    private static volatile bool _enabled;
    private static long _totalWritten, _totalRead, _messagesWritten, _messagesRead;

    /// <summary>
    /// Payload bytes and messages this process serialized and deserialized since it started, always counted (two
    /// Interlocked adds a message), whatever <see cref="Enabled"/> says and never reset: a node's
    /// <c>graphactors_wire_bytes_total</c>. A chunked message counts as its chunks, as in the per-manifest totals.
    /// </summary>
    public static (long BytesWritten, long MessagesWritten, long BytesRead, long MessagesRead) ProcessTotals =>
        (Interlocked.Read(ref _totalWritten), Interlocked.Read(ref _messagesWritten), Interlocked.Read(ref _totalRead), Interlocked.Read(ref _messagesRead));

    internal static void CountWritten(int bytes)
    {
        Interlocked.Add(ref _totalWritten, bytes);
        Interlocked.Increment(ref _messagesWritten);
    }

    internal static void CountRead(int bytes)
    {
        Interlocked.Add(ref _totalRead, bytes);
        Interlocked.Increment(ref _messagesRead);
    }
    private static readonly ConcurrentDictionary<string, Totals> ByManifest = new(StringComparer.Ordinal);

    public static bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    /// <summary>The totals so far, per manifest (only manifests seen since the last <see cref="Reset"/>).</summary>
    public static IReadOnlyDictionary<string, WireCount> Snapshot()
    {
        var d = new Dictionary<string, WireCount>(StringComparer.Ordinal);
        foreach (var (manifest, t) in ByManifest)
            d[manifest] = new WireCount(Interlocked.Read(ref t.MessagesWritten), Interlocked.Read(ref t.BytesWritten),
                Interlocked.Read(ref t.MessagesRead), Interlocked.Read(ref t.BytesRead), Interlocked.Read(ref t.MaxWritten),
                Interlocked.Read(ref t.MessagesChunked), Interlocked.Read(ref t.MaxChunked), Interlocked.Read(ref t.MaxChunkWritten));
        return d;
    }

    /// <summary>What <paramref name="after"/> counted beyond <paramref name="before"/>, per manifest (manifests with nothing new left out).</summary>
    public static IReadOnlyDictionary<string, WireCount> Since(IReadOnlyDictionary<string, WireCount> before, IReadOnlyDictionary<string, WireCount> after)
    {
        var d = new Dictionary<string, WireCount>(StringComparer.Ordinal);
        foreach (var (manifest, now) in after)
        {
            var old = before.GetValueOrDefault(manifest);
            var delta = now - old;
            if (delta.MessagesWritten != 0 || delta.MessagesRead != 0 || delta.MessagesChunked != 0 || now.MaxChunkWritten != old.MaxChunkWritten)
                d[manifest] = delta;
        }
        return d;
    }

    /// <summary>Forgets every total and high-water mark.</summary>
    public static void Reset() => ByManifest.Clear();

    private static Totals Of(string manifest) => ByManifest.GetOrAdd(manifest, static _ => new Totals());

    internal static void Written(string manifest, int bytes)
    {
        var t = Of(manifest);
        Interlocked.Increment(ref t.MessagesWritten);
        Interlocked.Add(ref t.BytesWritten, bytes);
        Max(ref t.MaxWritten, bytes);
    }

    internal static void Read(string manifest, int bytes)
    {
        var t = Of(manifest);
        Interlocked.Increment(ref t.MessagesRead);
        Interlocked.Add(ref t.BytesRead, bytes);
    }

    /// <summary>A message of <paramref name="manifest"/>, <paramref name="bytes"/> long serialized, was cut into chunks instead of written whole.</summary>
    internal static void Chunked(string manifest, long bytes)
    {
        var t = Of(manifest);
        Interlocked.Increment(ref t.MessagesChunked);
        Max(ref t.MaxChunked, bytes);
    }

    /// <summary>A chunk message of <paramref name="bytes"/> carrying part of a <paramref name="manifest"/> message was written.</summary>
    internal static void ChunkWritten(string manifest, int bytes) => Max(ref Of(manifest).MaxChunkWritten, bytes);

    private static void Max(ref long location, long value)
    {
        long seen;
        while (value > (seen = Interlocked.Read(ref location)) && Interlocked.CompareExchange(ref location, value, seen) != seen) { }
    }
}
