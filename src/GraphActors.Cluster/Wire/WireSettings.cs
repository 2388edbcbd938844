// Immutable settings of chunking, read from graphactors.wire (reference.conf holds the defaults) and checked against the frame size.
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Contracts.Serialization;

namespace GraphActors.Cluster.Wire;

public sealed class WireSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Wire.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Wire/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    public const string ChunkSizeKey = "graphactors.wire.chunk-size";
    public const string FrameSizeKey = "akka.remote.dot-netty.tcp.maximum-frame-size";

    /// <summary>What a chunk message adds to its slice is under 100 bytes; Akka's envelope (two actor paths, manifest) a few hundred more.</summary>
    public const int EnvelopeHeadroom = 64 * 1024;

    private WireSettings(int chunkSize, int chunksInFlight, long maxMessageBytes)
    {
        if (chunkSize < 1024) throw new ConfigurationException($"{ChunkSizeKey} = {chunkSize} bytes: it must be at least 1 KiB.");
        if (chunksInFlight < 1) throw new ConfigurationException($"graphactors.wire.chunks-in-flight = {chunksInFlight}: it must be at least 1.");
        if (maxMessageBytes < chunkSize || maxMessageBytes > WireChunks.MaxWholeBytes)
            throw new ConfigurationException(
                $"graphactors.wire.max-message-bytes = {maxMessageBytes}: it must lie between {ChunkSizeKey} ({chunkSize}) and {WireChunks.MaxWholeBytes} (one .NET array).");
        ChunkSize = chunkSize; ChunksInFlight = chunksInFlight; MaxMessageBytes = maxMessageBytes;
    }

    /// <summary>The largest slice of a message in one remote frame, in bytes.</summary>
    public int ChunkSize { get; }
    /// <summary>Unacknowledged chunks of one partition answer.</summary>
    public int ChunksInFlight { get; }
    /// <summary>The largest message serialized whole (one answer, one mini-batch) before it is cut into chunks.</summary>
    public long MaxMessageBytes { get; }

    /// <summary>Ids of <paramref name="idBytes"/> bytes each that one request carries at most (the request then fits a chunk).</summary>
    public int MaxIdsPerRequest(int idBytes) => Math.Max(1, (ChunkSize - 1024) / idBytes);

    /// <summary>
    /// Reads <c>graphactors.wire</c> from <paramref name="config"/>, the embedded defaults filling gaps, and refuses a
    /// chunk size that would not fit the node's remote frame (<see cref="FrameSizeKey"/>) with room for the envelope.
    /// A config without remoting (a local-only test system) has no frame to fit.
    /// </summary>
    public static WireSettings Create(Config config)
    {
        var all = config.WithFallback(DefaultConfig);
        var c = all.GetConfig("graphactors.wire");
        var chunk = c.GetByteSize("chunk-size") ?? 4L << 20;
        if (chunk > int.MaxValue) throw new ConfigurationException($"{ChunkSizeKey} = {chunk} bytes is not a size one message can have.");
        if (all.HasPath(FrameSizeKey) && all.GetByteSize(FrameSizeKey) is { } frame && chunk + EnvelopeHeadroom > frame)
            throw new ConfigurationException(
                $"{ChunkSizeKey} = {chunk} bytes does not fit {FrameSizeKey} = {frame} bytes: a chunk must leave at least {EnvelopeHeadroom / 1024} KiB " +
                $"of the frame for Akka's envelope. Lower {ChunkSizeKey} (4MiB under the 16MiB frame of base.hocon); do not raise the frame size, " +
                "large frames delay the cluster heartbeats that share the connection.");
        return new WireSettings((int)chunk, c.GetInt("chunks-in-flight", 4), c.GetByteSize("max-message-bytes") ?? 1L << 30);
    }

    public static WireSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public WireSettings WithChunkSize(int bytes) => new(bytes, ChunksInFlight, Math.Max(MaxMessageBytes, bytes));
    public WireSettings WithChunksInFlight(int n) => new(ChunkSize, n, MaxMessageBytes);
    public WireSettings WithMaxMessageBytes(long bytes) => new(ChunkSize, ChunksInFlight, bytes);
}
