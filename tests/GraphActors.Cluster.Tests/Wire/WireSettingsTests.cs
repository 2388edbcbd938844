using Akka.Configuration;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts.Serialization;

namespace GraphActors.Cluster.Tests.Wire;

public class WireSettingsTests
{
    private static Config Node(string extra) => ConfigurationFactory.ParseString(extra).WithFallback(NodeConfig.Defaults);

    [Fact]
    public void The_defaults_cut_at_4_MiB_under_the_16_MiB_frame_of_base_hocon()
    {
        var s = WireSettings.Create(NodeConfig.Defaults);
        Assert.Equal(4 << 20, s.ChunkSize);
        Assert.Equal(4, s.ChunksInFlight);
        Assert.Equal(1L << 30, s.MaxMessageBytes);
        Assert.Equal(16L << 20, NodeConfig.Defaults.GetByteSize(WireSettings.FrameSizeKey));
        // A request of int ids fits a chunk with room for its header.
        Assert.True(s.MaxIdsPerRequest(sizeof(int)) * 4L + 1024 <= s.ChunkSize);
        Assert.True(s.MaxIdsPerRequest(sizeof(long)) * 8L + 1024 <= s.ChunkSize);
    }

    [Theory]
    [InlineData("16MiB")]
    [InlineData("32MiB")]
    [InlineData("16321KiB")] // only 63 KiB of the frame left for the envelope
    public void A_chunk_size_that_does_not_fit_the_frame_is_refused_naming_both_keys(string chunk)
    {
        var e = Assert.Throws<ConfigurationException>(() => WireSettings.Create(Node($"graphactors.wire.chunk-size = {chunk}")));
        Assert.Contains("graphactors.wire.chunk-size", e.Message);
        Assert.Contains("akka.remote.dot-netty.tcp.maximum-frame-size", e.Message);
    }

    [Fact]
    public void A_smaller_frame_refuses_the_default_chunk_and_a_node_does_not_start_with_it()
    {
        var config = Node("akka.remote.dot-netty.tcp.maximum-frame-size = 4MiB");
        Assert.Throws<ConfigurationException>(() => WireSettings.Create(config));
        var e = Assert.Throws<ConfigurationException>(() => NodeHost.Start(config, TextWriter.Null));
        Assert.Contains("maximum-frame-size", e.Message);
        Assert.Equal(3 << 20, WireSettings.Create(Node("""
            akka.remote.dot-netty.tcp.maximum-frame-size = 4MiB
            graphactors.wire.chunk-size = 3MiB
            """)).ChunkSize);
    }

    [Theory]
    [InlineData("graphactors.wire.chunks-in-flight = 0", "chunks-in-flight")]
    [InlineData("graphactors.wire.max-message-bytes = 1MiB", "max-message-bytes")]
    [InlineData("graphactors.wire.max-message-bytes = 3GiB", "max-message-bytes")]
    [InlineData("graphactors.wire.chunk-size = 100b", "chunk-size")]
    public void Nonsense_values_are_refused_naming_the_key(string hocon, string key)
    {
        var e = Assert.Throws<ConfigurationException>(() => WireSettings.Create(Node(hocon)));
        Assert.Contains(key, e.Message);
    }

    [Fact]
    public void Chunks_cover_a_message_exactly_and_a_torn_sequence_is_refused_by_name()
    {
        var bytes = Enumerable.Range(0, 10_001).Select(i => (byte)i).ToArray();
        var count = WireChunks.CountOf(bytes.Length, 4096);
        Assert.Equal(3, count);
        var assembly = new ChunkAssembly("PFR", bytes.Length, count);
        for (var i = 0; i < count; i++) Assert.Equal(i == count - 1, assembly.Append(i, count, bytes.Length, "PFR", WireChunks.Slice(bytes, i, 4096).Span));
        Assert.Equal(bytes, assembly.Bytes);
        Assert.Equal(1, WireChunks.CountOf(0, 4096));

        var torn = new ChunkAssembly("PFR", bytes.Length, count);
        torn.Append(0, count, bytes.Length, "PFR", WireChunks.Slice(bytes, 0, 4096).Span);
        var skipped = Assert.Throws<InvalidDataException>(() => torn.Append(2, count, bytes.Length, "PFR", WireChunks.Slice(bytes, 2, 4096).Span));
        Assert.Contains("does not follow chunk 0", skipped.Message);
        var other = new ChunkAssembly("PFR", bytes.Length, count);
        Assert.Throws<InvalidDataException>(() => other.Append(0, count, bytes.Length, "PNR", WireChunks.Slice(bytes, 0, 4096).Span));
        var shortLast = new ChunkAssembly("PFR", 5000, 2);
        shortLast.Append(0, 2, 5000, "PFR", new byte[4096]);
        Assert.Throws<InvalidDataException>(() => shortLast.Append(1, 2, 5000, "PFR", new byte[10]));
    }
}
