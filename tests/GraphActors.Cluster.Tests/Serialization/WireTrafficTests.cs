using Akka.Configuration;
using Akka.Serialization;
using GraphActors.Contracts.Serialization;
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
        WireTraffic.Enabled = true;
        try
        {
            var before = WireTraffic.Snapshot();
            var bytes = serializer.ToBinary(message);
            var afterWrite = WireTraffic.Since(before, WireTraffic.Snapshot());
            serializer.FromBinary(bytes, manifest);
            serializer.FromBinary(bytes, manifest);
            var delta = WireTraffic.Since(before, WireTraffic.Snapshot());

            Assert.Equal(new WireCount(1, bytes.Length, 0, 0), afterWrite[manifest]);
            Assert.Equal(new WireCount(1, bytes.Length, 2, 2L * bytes.Length), delta[manifest]);
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
