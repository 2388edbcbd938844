// Opt-in totals of the bytes GraphActorsSerializer writes and reads, per manifest: what our messages cost on the wire.
using System.Collections.Concurrent;

namespace GraphActors.Contracts.Serialization;

/// <summary>Messages and payload bytes one manifest wrote (ToBinary) and read (FromBinary).</summary>
public readonly record struct WireCount(long MessagesWritten, long BytesWritten, long MessagesRead, long BytesRead)
{
    public static WireCount operator -(WireCount a, WireCount b) =>
        new(a.MessagesWritten - b.MessagesWritten, a.BytesWritten - b.BytesWritten, a.MessagesRead - b.MessagesRead, a.BytesRead - b.BytesRead);
}

/// <summary>
/// Off by default, when the serializer pays one volatile read per message. Switched on (benchmarks, tests), every
/// payload <see cref="GraphActorsSerializer"/> writes or reads is added to its manifest's totals with Interlocked adds.
/// The totals are process-wide: a message between two ActorSystems of one process is counted once written and once
/// read. Only our payload is counted; Akka.Remote's envelope (recipient and sender paths, serializer id, manifest)
/// and frame header come on top. Local sends are never serialized (unless serialize-messages is on), so with it off
/// the totals are exactly what crossed Akka.Remote.
/// </summary>
public static class WireTraffic
{
    private sealed class Totals
    {
        public long MessagesWritten, BytesWritten, MessagesRead, BytesRead;
    }

    private static volatile bool _enabled;
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
                Interlocked.Read(ref t.MessagesRead), Interlocked.Read(ref t.BytesRead));
        return d;
    }

    /// <summary>What <paramref name="after"/> counted beyond <paramref name="before"/>, per manifest (manifests with nothing new left out).</summary>
    public static IReadOnlyDictionary<string, WireCount> Since(IReadOnlyDictionary<string, WireCount> before, IReadOnlyDictionary<string, WireCount> after)
    {
        var d = new Dictionary<string, WireCount>(StringComparer.Ordinal);
        foreach (var (manifest, now) in after)
        {
            var delta = now - before.GetValueOrDefault(manifest);
            if (delta != default) d[manifest] = delta;
        }
        return d;
    }

    public static void Reset() => ByManifest.Clear();

    internal static void Written(string manifest, int bytes)
    {
        var t = ByManifest.GetOrAdd(manifest, static _ => new Totals());
        Interlocked.Increment(ref t.MessagesWritten);
        Interlocked.Add(ref t.BytesWritten, bytes);
    }

    internal static void Read(string manifest, int bytes)
    {
        var t = ByManifest.GetOrAdd(manifest, static _ => new Totals());
        Interlocked.Increment(ref t.MessagesRead);
        Interlocked.Add(ref t.BytesRead, bytes);
    }
}
