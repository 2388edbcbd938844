using Akka.Configuration;
using Akka.Serialization;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Serialization;

/// <summary>The totals are process-wide: these tests run alone, after every parallel collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class WireTrafficCollection
{
    public const string Name = "wire traffic counters";
}

[Collection(WireTrafficCollection.Name)]
public class WireTrafficTests() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("akka.actor.serialize-messages = off").WithFallback(GraphActorsSerialization.Config))
{
    private SerializerWithStringManifest Serializer(object message) => (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);

    [Fact]
    public void The_bytes_counted_for_a_message_are_its_serialized_length_once_written_and_once_read()
    {
        var message = SampleMessages.All.OfType<MiniBatchData>().First();
        var serializer = Serializer(message);
        var manifest = serializer.Manifest(message);
        WireTraffic.Reset();
        WireTraffic.Enabled = true;
        try
        {
            var before = WireTraffic.Snapshot();
            var bytes = serializer.ToBinary(message);
            var afterWrite = WireTraffic.Since(before, WireTraffic.Snapshot());
            serializer.FromBinary(bytes, manifest);
            serializer.FromBinary(bytes, manifest);
            var delta = WireTraffic.Since(before, WireTraffic.Snapshot());

            Assert.Equal(new WireCount(1, bytes.Length, 0, 0, MaxWritten: bytes.Length), afterWrite[manifest]);
            Assert.Equal(new WireCount(1, bytes.Length, 2, 2L * bytes.Length, MaxWritten: bytes.Length), delta[manifest]);
            Assert.Equal([manifest], delta.Keys);
            // The arrays are the payload; the header (ids, names, counts) only adds to it.
            Assert.True(bytes.Length >= message.PayloadBytes, $"{bytes.Length} serialized bytes < {message.PayloadBytes} payload bytes");
        }
        finally
        {
            WireTraffic.Enabled = false;
        }
    }

    [Fact]
    public void A_parameter_chunk_costs_four_bytes_a_float_plus_a_header_of_a_few_dozen_bytes()
    {
        var chunk = new ParametersReady("job", 0, 0, 3, 0, 1, 64, 12345, new float[100_000]);
        var serializer = Serializer(chunk);
        WireTraffic.Enabled = true;
        try
        {
            var before = WireTraffic.Snapshot();
            serializer.ToBinary(chunk);
            var count = WireTraffic.Since(before, WireTraffic.Snapshot())[serializer.Manifest(chunk)];
            Assert.Equal(1, count.MessagesWritten);
            Assert.InRange(count.BytesWritten, 400_000, 400_000 + 64);
        }
        finally
        {
            WireTraffic.Enabled = false;
        }
    }

    [Fact]
    public void The_largest_message_per_manifest_is_kept_and_a_chunked_one_counts_as_chunked_whole_and_by_its_largest_chunk()
    {
        const int chunk = 1 << 20;
        var rows = new float[3 * chunk / sizeof(float) + 100];
        for (var i = 0; i < rows.Length; i++) rows[i] = i * 0.5f;
        var answer = new FeaturesResult(41, 1, rows.Length / 4, 4, rows[..(rows.Length / 4 * 4)]);
        var small = new FeaturesResult(42, 1, 1, 4, [1, 2, 3, 4]);
        WireTraffic.Reset();
        WireTraffic.Enabled = true;
        try
        {
            var smallBytes = Serializer(small).ToBinary(small);
            var whole = WireChunks.Serialize(Sys, answer, out var manifest);
            var count = WireChunks.CountOf(whole.Length, chunk);
            var frames = Enumerable.Range(0, count)
                .Select(i => new ResponseChunk(41, 1, i, count, manifest, whole.Length, WireChunks.Slice(whole, i, chunk)))
                .Select(c => (Chunk: c, Bytes: Serializer(c).ToBinary(c))).ToArray();
            // The receiver appends the chunks (as they come back from the wire) and reads the answer once, uncounted.
            var assembly = new ChunkAssembly(manifest, whole.Length, count);
            foreach (var (c, bytes) in frames)
            {
                var read = (ResponseChunk)Serializer(c).FromBinary(bytes, Serializer(c).Manifest(c));
                assembly.Append(read.Index, read.Count, read.TotalBytes, read.Manifest, read.Bytes.Span);
            }
            Assert.True(assembly.Complete);
            SampleMessages.AssertSame(answer, WireChunks.Deserialize(Sys, manifest, assembly.Bytes));

            var counts = WireTraffic.Snapshot();
            var features = counts[manifest];
            Assert.Equal(4, count); // 3 MiB + 400 floats + a header: three full chunks and a short one
            Assert.Equal((1, smallBytes.Length, 0, 0), (features.MessagesWritten, features.BytesWritten, features.MessagesRead, features.BytesRead));
            Assert.Equal(smallBytes.Length, features.MaxWritten);
            Assert.Equal((1, whole.Length), (features.MessagesChunked, features.MaxChunked));
            Assert.Equal(frames.Max(f => f.Bytes.Length), features.MaxChunkWritten);
            Assert.InRange(features.LargestOnWire, chunk, chunk + 64);
            Assert.Equal(whole.Length, features.LargestWhole);
            var chunks = counts[Serializer(frames[0].Chunk).Manifest(frames[0].Chunk)];
            Assert.Equal((count, frames.Sum(f => (long)f.Bytes.Length), count), (chunks.MessagesWritten, chunks.BytesWritten, chunks.MessagesRead));
        }
        finally
        {
            WireTraffic.Enabled = false;
        }
    }

    [Fact]
    public void Nothing_is_counted_while_the_counter_is_off()
    {
        WireTraffic.Enabled = false;
        var before = WireTraffic.Snapshot();
        foreach (var message in SampleMessages.All.Take(10))
        {
            var serializer = Serializer(message);
            serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
        }
        Assert.Empty(WireTraffic.Since(before, WireTraffic.Snapshot()));
    }
}
