using Akka.Actor;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Serialization;
using GraphActors.Graph.GraphLearn;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.TestSupport;
using Xunit.Abstractions;

namespace GraphActors.Cluster.Tests.Sampling;

/// <summary>
/// GraphLearn's columns through the cluster: node B's RemoteGraphStore over a two-node cluster (real Akka.Remote on
/// 127.0.0.1) against the same store read in-process, on a store written from GraphLearn sources whose users carry
/// strings of about 1.2 KB, under 32 KiB chunks, so a gather of every user crosses as many chunks.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class RemoteColumnsSpec : TestKit
{
    private const string SmallChunks = "graphactors.wire.chunk-size = 32KiB";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly int PortA = TestNodes.FreePort();
    private static readonly Lazy<string> Store = new(Write);
    private static readonly CanonicalEdgeType U2I = new("user", "u2i", "item");
    private readonly ActorSystem _b;
    private readonly RemoteGraphStore _remote;
    private readonly PartitionedGraphStore _local;
    private readonly ITestOutputHelper _output;

    private static string Write()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-remote-columns", Guid.NewGuid().ToString("N"));
        var s = AttributedSources.Write(Path.Combine(dir, "src"), users: 300, longStrings: 600);
        var g = new Graph.GraphLearn.Graph()
            .Node(s.Users, "user", new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.UserAttrTypes))
            .Node(s.Items, "item", new Decoder(weighted: true, attrTypes: AttributedSources.ItemAttrTypes))
            .Edge(s.Clicks, ("user", "item", "u2i"), new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.ClickAttrTypes), directed: false)
            .Edge(s.Similar, ("item", "item", "i2i"), new Decoder(labeled: true, attrTypes: AttributedSources.SimilarAttrTypes), directed: false);
        g.Init();
        var store = Path.Combine(dir, "store");
        GraphPartitioner.Run(GraphLearnPartitionSource.Of(g, out _), new PartitionOptions(store, 2));
        return store;
    }

    public RemoteColumnsSpec(ITestOutputHelper output) : base(TestNodes.Node(PortA, [PortA], "partition", Store.Value, SmallChunks), "graphactors", output)
    {
        _output = output;
        _b = ActorSystem.Create(Names.ActorSystem, TestNodes.Node(TestNodes.FreePort(), [PortA], "partition, trainer", Store.Value, SmallChunks));
        Task.WhenAll(TestNodes.AwaitUp(Sys, 2, Wait), TestNodes.AwaitUp(_b, 2, Wait)).GetAwaiter().GetResult();
        Sys.StartPartitionSharding(PartitionSettings.Create(Sys));
        _b.StartPartitionSharding(PartitionSettings.Create(_b));
        TestNodes.AwaitRegions(_b.PartitionRegion(), 2, Wait).GetAwaiter().GetResult();
        _remote = RemoteGraphStore.FromStore(_b, Store.Value, Wait);
        _local = new PartitionedGraphStore(PartitionStore.Open(Store.Value));
        WireTraffic.Enabled = true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _local.Dispose();
            _remote.Dispose();
            CoordinatedShutdown.Get(_b).Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(15));
        }
        base.Dispose(disposing);
    }

    private static void AssertSameColumns(ElementColumns want, ElementColumns got)
    {
        Assert.Equal(want.Count, got.Count);
        Assert.Equal(want.Present, got.Present);
        Assert.Equal(want.EdgeIds, got.EdgeIds);
        Assert.Equal(want.Weights, got.Weights);
        Assert.Equal(want.Labels, got.Labels);
        Assert.Equal((want.IntCount, want.FloatCount, want.StringCount), (got.IntCount, got.FloatCount, got.StringCount));
        Assert.Equal(want.Ints, got.Ints);
        Assert.Equal(want.Floats, got.Floats);
        Assert.Equal(want.StringOffsets, got.StringOffsets);
        Assert.Equal(want.StringBytes, got.StringBytes);
    }

    [Fact]
    public async Task Every_users_columns_cross_in_many_chunks_and_equal_the_store_read_in_process()
    {
        var n = _local.Schema.Node("user").Count;
        // Every user (both partitions, one across the wire), in reverse, some twice.
        var ids = Enumerable.Range(0, n).Reverse().Concat([0, 5, 0]).ToArray();
        var before = WireTraffic.Snapshot().GetValueOrDefault("ANR");
        var remote = await _remote.GatherNodeColumnsAsync("user", ids, ColumnSet.All);
        var local = await _local.GatherNodeColumnsAsync("user", ids, ColumnSet.All);
        AssertSameColumns(local, remote);
        Assert.Equal(ColumnSet.Weights | ColumnSet.Labels | ColumnSet.Ints | ColumnSet.Floats | ColumnSet.Strings, remote.Present);
        Assert.True(remote.StringBytes.Length > 300 * 1200, $"{remote.StringBytes.Length} string bytes");
        Assert.Contains(remote.DecodeStrings(), x => x.Length == 0);

        var answers = WireTraffic.Snapshot().GetValueOrDefault("ANR");
        var chunk = WireSettings.Create(_b).ChunkSize;
        _output.WriteLine($"node columns: {answers.MessagesChunked - before.MessagesChunked} answer(s) chunked, the largest {answers.MaxChunked:N0} bytes whole, " +
                          $"largest chunk {answers.MaxChunkWritten:N0} bytes");
        Assert.True(answers.MessagesChunked > before.MessagesChunked, "no node-column answer crossed in chunks");
        Assert.True(answers.MaxChunked > 4L * chunk, $"the largest chunked answer was {answers.MaxChunked:N0} bytes: fewer than five chunks");
        Assert.InRange(answers.MaxChunkWritten, 1, chunk + 256);
    }

    [Fact]
    public async Task Sampled_edges_carry_the_same_ids_and_columns_as_in_process_in_both_directions()
    {
        var users = Enumerable.Range(0, _local.Schema.Node("user").Count).ToArray();
        var items = Enumerable.Range(0, _local.Schema.Node("item").Count).ToArray();
        foreach (var (incoming, seeds) in new[] { (false, users), (true, items) })
            foreach (var strategy in new[] { SamplingStrategy.Full, SamplingStrategy.Random })
            {
                using var remote = await _remote.SampleNeighborEdgesAsync(U2I, incoming, seeds, 3, strategy, 11, ColumnSet.All);
                using var local = await _local.SampleNeighborEdgesAsync(U2I, incoming, seeds, 3, strategy, 11, ColumnSet.All);
                Assert.True(local.Offsets.SequenceEqual(remote.Offsets));
                Assert.True(local.Neighbors.SequenceEqual(remote.Neighbors));
                Assert.True(local.Weights.SequenceEqual(remote.Weights));
                AssertSameColumns(local.Edges!, remote.Edges!);
                Assert.Equal(ColumnSet.EdgeIds | ColumnSet.Labels | ColumnSet.Ints | ColumnSet.Floats | ColumnSet.Strings, remote.Edges!.Present);
            }
    }

    [Fact]
    public async Task Gsl_over_the_cluster_gives_the_batches_of_gsl_over_the_store_read_in_process()
    {
        GslQuery Query(GslStore s) => s.V("user").Batch(64).Alias("u")
            .Each(u => u.OutE("u2i").Sample(2).By("random").Alias("e"), u => u.Neg("item").Sample(3).By("node_weight").Alias("neg"));
        var remote = await Task.Run(() => Query(new GslStore(_remote)).Values(new GslOptions { Seed = 4 }).ToList());
        var local = Query(new GslStore(_local)).Values(new GslOptions { Seed = 4 }).ToList();
        Assert.Equal(local.Count, remote.Count);
        for (var b = 0; b < local.Count; b++)
        {
            var (wu, gu) = (local[b].Nodes("u"), remote[b].Nodes("u"));
            Assert.Equal(wu.Ids, gu.Ids);
            Assert.Equal(wu.StringAttrs, gu.StringAttrs);
            Assert.Equal(wu.IntAttrs, gu.IntAttrs);
            var (we, ge) = (local[b].Edges("e"), remote[b].Edges("e"));
            Assert.Equal(we.EdgeIds, ge.EdgeIds);
            Assert.Equal(we.StringAttrs, ge.StringAttrs);
            Assert.Equal(we.Labels, ge.Labels);
            Assert.Equal(local[b].Nodes("neg").Ids, remote[b].Nodes("neg").Ids);
        }
    }
}
