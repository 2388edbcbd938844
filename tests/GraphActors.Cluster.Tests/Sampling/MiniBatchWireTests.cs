using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Tests.Serialization;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Tests.Sampling;

/// <summary>A mini-batch's stream elements on either side of a node boundary, in one ActorSystem (no cluster).</summary>
public class MiniBatchWireTests() : Akka.TestKit.Xunit2.TestKit(
    ConfigurationFactory.ParseString("akka.actor.serialize-messages = on").WithFallback(GraphActorsSerialization.Config))
{
    private static readonly WireSettings Wire = WireSettings.Create(ConfigurationFactory.Empty).WithChunkSize(1024).WithMaxMessageBytes(64 * 1024);

    private static MiniBatchData Batch(int index, int rows, int dim = 16)
    {
        var features = new float[rows * dim];
        for (var i = 0; i < features.Length; i++) features[i] = index * 1000 + i * 0.25f;
        var nodes = Enumerable.Range(0, rows).ToArray();
        return new MiniBatchData(5, 2, index, ["user"], [new CanonicalEdgeType("user", "follow", "user")],
            [new BlockData([nodes], [Math.Min(rows, 4)], [nodes[..^1]], [Enumerable.Repeat(0, rows - 1).ToArray()], [null])],
            [dim], [features], [Enumerable.Range(0, Math.Min(rows, 4)).ToArray()]);
    }

    private List<T> Run<T>(Source<T, Akka.NotUsed> source) =>
        source.RunWith(Sink.Seq<T>(), Sys.Materializer()).Result.ToList();

    [Fact]
    public void Batches_for_another_node_cross_as_chunks_no_larger_than_a_chunk_and_read_back_whole()
    {
        MiniBatchData[] batches = [Batch(0, 200), Batch(1, 3), Batch(2, 150)];
        var parts = Run(Source.From(batches).Via(MiniBatchWire.Parts(crossesNodes: true, Sys, Wire)));

        // The small batch crosses whole; the others as chunks of at most 1 KiB, in order.
        Assert.Same(batches[1], parts.OfType<MiniBatchData>().Single());
        var chunks = parts.OfType<MiniBatchChunk>().ToList();
        Assert.All(chunks, c => Assert.InRange(c.Bytes.Length, 1, Wire.ChunkSize));
        Assert.Equal(chunks.Where(c => c.Index == 0).Select(c => c.Part), Enumerable.Range(0, chunks.First().Parts));
        Assert.True(chunks.First().Parts > 10, $"{chunks.First().Parts} chunks for 12.8 KB of features");

        var whole = Run(Source.From(parts).Via(MiniBatchWire.Whole(Sys)));
        Assert.Equal(3, whole.Count);
        for (var i = 0; i < 3; i++) SampleMessages.AssertSame(batches[i], whole[i]);
    }

    [Fact]
    public void Batches_for_this_node_pass_as_they_are_without_being_serialized()
    {
        var batch = Batch(0, 500);
        var parts = Run(Source.Single(batch).Via(MiniBatchWire.Parts(crossesNodes: false, Sys, Wire)));
        Assert.Same(batch, Assert.Single(parts));
    }

    [Fact]
    public void A_batch_above_max_message_bytes_fails_the_stream_naming_the_batch_and_the_key()
    {
        var run = Source.Single(Batch(7, 2000)).Via(MiniBatchWire.Parts(crossesNodes: true, Sys, Wire)).RunWith(Sink.Seq<IMiniBatchPart>(), Sys.Materializer());
        var e = Assert.Throws<AggregateException>(() => run.Wait(TimeSpan.FromSeconds(10))).GetBaseException();
        Assert.Contains("Mini-batch 7 of epoch 2", e.Message);
        Assert.Contains("graphactors.wire.max-message-bytes", e.Message);
    }

    [Fact]
    public void Chunks_out_of_order_fail_the_stream_instead_of_building_a_wrong_batch()
    {
        var parts = Run(Source.Single(Batch(0, 200)).Via(MiniBatchWire.Parts(crossesNodes: true, Sys, Wire)));
        (parts[1], parts[2]) = (parts[2], parts[1]);
        var run = Source.From(parts).Via(MiniBatchWire.Whole(Sys)).RunWith(Sink.Seq<MiniBatchData>(), Sys.Materializer());
        var e = Assert.Throws<AggregateException>(() => run.Wait(TimeSpan.FromSeconds(10))).GetBaseException();
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains("does not follow chunk 0", e.Message);
    }
}
