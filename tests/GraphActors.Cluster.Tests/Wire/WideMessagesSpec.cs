using Akka.Actor;
using Akka.Streams;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Tests.Serialization;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Contracts.Serialization;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using Xunit.Abstractions;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Tests.Wire;

/// <summary>
/// Messages far above the 16 MiB frame, over real Akka.Remote on 127.0.0.1, with the default 4 MiB chunks: node A
/// (Sys, roles partition and sampler) and node B (partition and trainer) each host one partition of <see cref="WideStore"/> (4,096-d users, two hubs); B's RemoteGraphStore
/// asks both (its own partition locally, A's across the wire) and must return exactly what the store read in-process
/// returns. Every answer above a chunk crosses as chunks (Akka.Remote would drop a larger frame and the call would time
/// out instead); WireTraffic shows that nothing larger than a chunk was written for them.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class WideMessagesSpec : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private static readonly int PortA = TestNodes.FreePort();
    private readonly ActorSystem _b;
    private readonly RemoteGraphStore _remote;
    private readonly PartitionedGraphStore _local;
    private readonly ITestOutputHelper _output;
    private readonly int _chunk;

    public WideMessagesSpec(ITestOutputHelper output) : base(TestNodes.Node(PortA, [PortA], "partition, sampler", WideStore.Path), "graphactors", output)
    {
        _output = output;
        _b = ActorSystem.Create(Names.ActorSystem, TestNodes.Node(TestNodes.FreePort(), [PortA], "partition, trainer", WideStore.Path));
        Task.WhenAll(TestNodes.AwaitUp(Sys, 2, Wait), TestNodes.AwaitUp(_b, 2, Wait)).GetAwaiter().GetResult();
        Sys.StartPartitionSharding(PartitionSettings.Create(Sys));
        _b.StartPartitionSharding(PartitionSettings.Create(_b));
        TestNodes.AwaitRegions(_b.PartitionRegion(), 2, Wait).GetAwaiter().GetResult();
        _remote = RemoteGraphStore.FromStore(_b, WideStore.Path, Wait);
        _local = new PartitionedGraphStore(PartitionStore.Open(WideStore.Path));
        _chunk = WireSettings.Create(_b).ChunkSize;
        WireTraffic.Enabled = true;
    }

    private (WireCount Whole, WireCount Chunks) Traffic(string manifest, string chunkManifest)
    {
        var now = WireTraffic.Snapshot();
        return (now.GetValueOrDefault(manifest), now.GetValueOrDefault(chunkManifest));
    }

    private void AssertChunked(string manifest, string what, long atLeast)
    {
        var (whole, _) = Traffic(manifest, "");
        _output.WriteLine($"{what}: {whole.MessagesChunked} answer(s) chunked, the largest {whole.MaxChunked:N0} bytes whole; largest chunk {whole.MaxChunkWritten:N0} bytes");
        Assert.True(whole.MessagesChunked >= 1, $"no {what} crossed in chunks");
        Assert.True(whole.MaxChunked >= atLeast, $"the largest chunked {what} was {whole.MaxChunked:N0} bytes; expected at least {atLeast:N0}");
        Assert.InRange(whole.MaxChunkWritten, 1, _chunk + 256);
    }

    [Fact]
    public async Task A_gather_of_nine_thousand_4096_d_rows_across_nodes_returns_exactly_the_rows_of_the_store_read_in_process()
    {
        // 9,000 rows (some twice), half of them on the other node: ~73 MiB cross the wire, 140 MiB in all.
        var ids = Enumerable.Range(0, 9_000).Select(i => (int)(i * 7919L % WideStore.Users)).Concat([0, 1, 0]).ToArray();
        var remote = new float[ids.Length * WideStore.Dim];
        var local = new float[ids.Length * WideStore.Dim];
        await _remote.GatherFeaturesAsync("user", ids, remote);
        await _local.GatherFeaturesAsync("user", ids, local);

        Assert.True(local.AsSpan().SequenceEqual(remote), "the gathered rows differ from the store's");
        Assert.NotEqual(remote[0], remote[WideStore.Dim]); // rows really differ from one another
        AssertChunked("PFR", "feature answer", 16L << 20);
    }

    [Fact]
    public async Task Full_neighbours_of_hubs_whose_answer_exceeds_a_chunk_arrive_whole_from_both_partitions()
    {
        var hubs = new int[2];
        await _local.LookupIdsAsync("user", new[] { WideStore.UserId(0), WideStore.UserId(1) }, hubs);
        var book = PartitionStore.Open(WideStore.Path).Book;
        Assert.NotEqual(book.Owner("user", hubs[0]), book.Owner("user", hubs[1])); // one hub per partition: one is across the wire
        int[] seeds = [hubs[0], 17, hubs[1], hubs[0]];

        using var remote = await _remote.SampleNeighborsAsync(WideStore.Follow, false, seeds, 1, SamplingStrategy.Full, 5, withWeights: true);
        using var local = await _local.SampleNeighborsAsync(WideStore.Follow, false, seeds, 1, SamplingStrategy.Full, 5, withWeights: true);

        Assert.True(remote.Count > 3 * WideStore.HubEdges, $"{remote.Count} neighbours");
        Assert.True(local.Offsets.SequenceEqual(remote.Offsets), "the rows' offsets differ");
        Assert.True(local.Neighbors.SequenceEqual(remote.Neighbors), "the neighbours differ");
        Assert.True(local.Weights.SequenceEqual(remote.Weights), "the weights differ");
        AssertChunked("PNR", "neighbour answer", WideStore.HubEdges * 8L); // at least one hub row came from the other node
    }

    [Fact]
    public async Task A_lookup_of_more_business_ids_than_fit_a_chunk_is_split_and_finds_every_id_the_store_finds()
    {
        // 600,000 ids × 8 bytes = 4.6 MiB of request: two requests per partition; misses between the real ids.
        var business = Enumerable.Range(0, 600_000).Select(i => i % 3 == 0 ? WideStore.UserId(i / 3 % WideStore.Users) : 7L * i + 3).ToArray();
        Assert.True(business.Length > WireSettings.Create(_b).MaxIdsPerRequest(sizeof(long)));
        var remote = new int[business.Length];
        var local = new int[business.Length];
        await _remote.LookupIdsAsync("user", business, remote);
        await _local.LookupIdsAsync("user", business, local);

        Assert.Equal(local, remote);
        Assert.Equal(200_000, remote.Count(id => id >= 0));
        var (whole, _) = Traffic("PGI", "");
        Assert.InRange(whole.MaxWritten, 1, _chunk); // every request fits a chunk
    }

    /// <summary>What the consumer got: handed to the probe as it is (an array of batches would go through JSON with serialize-messages on).</summary>
    private sealed record Received(MiniBatchData[] Batches) : INoSerializationVerificationNeeded;

    /// <summary>The trainer's end, as TrainerActor runs it: RunInto an ack sink, one whole batch per message.</summary>
    private sealed class Consumer : ReceiveActor
    {
        public Consumer(ActorSelection sampler, SampleEpoch request, IActorRef report)
        {
            var batches = new List<MiniBatchData>();
            Receive<EpochStreamReady>(r => r.Stream.RunInto(Self, r.RequestId, Context.Materializer()));
            Receive<EpochRejected>(r => report.Tell(r));
            Receive<StreamInit>(_ => Sender.Tell(StreamAck.Instance));
            Receive<MiniBatchData>(b =>
            {
                batches.Add(b);
                Sender.Tell(StreamAck.Instance);
            });
            Receive<StreamCompleted>(_ => report.Tell(new Received(batches.ToArray())));
            Receive<StreamFailed>(f => report.Tell(f));
            sampler.Tell(request);
        }
    }

    [Fact]
    public async Task A_batch_of_4096_seeds_with_4096_d_features_streams_to_a_trainer_on_another_node_intact()
    {
        using var store = RemoteGraphStore.FromStore(Sys, WideStore.Path, Wait);
        var settings = SamplerSettings.Create(Sys).WithParallelism(1).WithPrefetch(1).WithSubscriptionTimeout(Wait);
        var sampler = Sys.StartSampler(store, settings, name: "wide-sampler");
        var seeds = Enumerable.Range(0, WideStore.Users).Where(i => i % 2 == 0).Take(4096 + 100).ToArray();
        var request = new SampleEpoch(91, 0, "user", seeds, 4096, [4, 4], NeighborStrategy.TopK, false, 13);
        var report = CreateTestProbe(_b);
        _b.ActorOf(Props.Create(() => new Consumer(_b.ActorSelection(sampler.Path.ToStringWithAddress(Akka.Cluster.Cluster.Get(Sys).SelfAddress)),
            request, report.Ref)));

        var received = report.ExpectMsg<object>(TimeSpan.FromMinutes(3));
        var batches = Assert.IsType<Received>(received).Batches;
        Assert.Equal(2, batches.Length);

        // The same batches, sampled in-process from the same seeds (topk: the partitions' draw equals the local one).
        var order = EpochPlan.Shuffle(seeds, 13, 0);
        var local = new BlockSampler(_local, new BlockSamplerOptions([4, 4]) { Strategy = SamplingStrategy.TopK });
        for (var b = 0; b < 2; b++)
        {
            var batchSeeds = EpochPlan.Batch(order, 4096, b).ToArray();
            var expected = (await local.SampleAsync(new Dictionary<NodeType, int[]> { ["user"] = batchSeeds }, EpochPlan.BatchSeed(13, 0, b)))
                .ToData(91, 0, b);
            SampleMessages.AssertSame(expected, batches[b]);
        }
        var first = batches[0];
        var userType = Array.IndexOf(first.NodeTypes, "user");
        Assert.Equal(WideStore.Dim, first.FeatureDims[userType]);
        _output.WriteLine($"batch 0: {first.Blocks[0].SrcNodes[userType].Length:N0} input users, {first.PayloadBytes / 1048576.0:0.0} MiB of payload");
        Assert.True(first.PayloadBytes > 16L << 20, $"batch 0 is only {first.PayloadBytes:N0} bytes");
        AssertChunked("SMB", "mini-batch", 16L << 20);
        var (_, chunks) = Traffic("SMB", "SMC");
        Assert.InRange(chunks.MaxWritten, 1, _chunk + 256);
    }

    [Fact]
    public void An_epoch_whose_seeds_exceed_a_chunk_reaches_a_sampler_on_another_node_through_the_router_whole()
    {
        using var store = RemoteGraphStore.FromStore(Sys, WideStore.Path, Wait);
        Sys.StartSampler(store); // /user/sampler on A, the only member with role sampler
        var router = _b.ActorOf(SamplerRouter.Props("sampler", "trainer", Wait));
        // 1.1 M training-edge positions (4.4 MB: two chunks); only the very last one is wrong, so the sampler can only
        // name it if the whole list arrived.
        var seeds = Enumerable.Range(0, 1_100_000).Append(-1).ToArray();
        var link = new LinkSampling(WideStore.Click, 1, NegativeMode.Random, ExclusionMode.Self, 0.1, 0.1, 3);
        var probe = CreateTestProbe(_b);
        router.Tell(new SampleEpoch(92, 0, "user", seeds, 1024, [2], NeighborStrategy.Random, false, 1, Link: link), probe.Ref);

        var rejected = probe.ExpectMsg<EpochRejected>(Wait);
        Assert.Equal(92, rejected.RequestId);
        Assert.Contains("seed -1 is negative", rejected.Problem);
        var (epochs, chunks) = Traffic("SSE", "SEC");
        Assert.True(epochs.MessagesChunked >= 1 && epochs.MaxChunked > 4_400_000, $"the epoch crossed as {epochs}");
        Assert.InRange(chunks.MaxWritten, 1, _chunk + 256);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            WireTraffic.Enabled = false;
            _local.Dispose();
            _remote.Dispose();
            CoordinatedShutdown.Get(_b).Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(15));
        }
        base.Dispose(disposing);
    }
}
