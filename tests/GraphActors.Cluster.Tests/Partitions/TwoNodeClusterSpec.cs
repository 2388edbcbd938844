using Akka.Actor;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Tests.Support;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Tests.Partitions;

/// <summary>Two ActorSystems on 127.0.0.1 talking over real Akka.Remote TCP; Sys is node A (the seed), B joins it.</summary>
[Collection(MultiNodeCollection.Name)]
public class TwoNodeClusterSpec : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly int PortA = TestNodes.FreePort();
    private readonly ActorSystem _b;
    private readonly Address _addressA, _addressB;
    // Small chunks and a window of two, so that an 8 MiB answer shows the whole exchange.
    private const string Wire = "graphactors.wire { chunk-size = 1MiB, chunks-in-flight = 2, max-message-bytes = 16MiB }";

    public TwoNodeClusterSpec() : base(TestNodes.Node(PortA, [PortA], "partition", TestStore.TwoParts, Wire), "graphactors")
    {
        var portB = TestNodes.FreePort();
        _b = ActorSystem.Create(Names.ActorSystem, TestNodes.Node(portB, [PortA], "partition", TestStore.TwoParts, Wire));
        _addressA = Akka.Cluster.Cluster.Get(Sys).SelfAddress;
        _addressB = Akka.Cluster.Cluster.Get(_b).SelfAddress;
        Task.WhenAll(TestNodes.AwaitUp(Sys, 2, Wait), TestNodes.AwaitUp(_b, 2, Wait)).GetAwaiter().GetResult();
        Sys.StartPartitionSharding(PartitionSettings.Create(Sys));
        _b.StartPartitionSharding(PartitionSettings.Create(_b));
        TestNodes.AwaitRegions(_b.PartitionRegion(), 2, Wait).GetAwaiter().GetResult();
    }

    [Fact]
    public void Partition_i_lands_on_the_i_th_partition_node_and_answers_requests_from_the_other_node()
    {
        var ordered = new[] { _addressA, _addressB }.OrderBy(a => a, Akka.Cluster.Member.AddressOrdering).ToArray();
        var probe = CreateTestProbe(_b);
        for (var i = 0; i < 2; i++)
        {
            _b.PartitionRegion().Tell(new GetPartitionInfo(100 + i, i), probe.Ref);
            var info = probe.ExpectMsg<PartitionInfoResult>(Wait);
            Assert.Equal(i, info.Partition);
            // The reply comes from the entity itself: its address says where the partition lives (local to B has no host).
            var from = probe.LastSender.Path.Address;
            var host = from.HasLocalScope ? _addressB : from;
            Assert.Equal(ordered[i], host);
        }
    }

    [Fact]
    public void An_eight_megabyte_feature_block_crosses_as_chunks_the_requester_acknowledges_within_the_window_and_reads_back_intact()
    {
        // Ask from the node that does NOT host the partition, so the block must cross Akka.Remote.
        var ordered = new[] { (Sys, _addressA), (_b, _addressB) }.OrderBy(x => x.Item2, Akka.Cluster.Member.AddressOrdering).ToArray();
        var asker = ordered[1].Item1; // partition 0 lives on ordered[0]
        using var p = Graph.Storage.PartitionStore.Open(TestStore.TwoParts).LoadPartition(0);
        var users = p.Nodes("user");
        var rows = 8 * 1024 * 1024 / (TestStore.UserFeatureDim * sizeof(float));
        var ids = Enumerable.Range(0, rows).Select(i => users.Rows.First + i % users.Count).ToArray();

        var probe = CreateTestProbe(asker);
        asker.PartitionRegion().Tell(new GetFeatures(7, 0, "user", ids, 0), probe.Ref);

        // The answer (8 MiB of floats and a header) comes as 9 chunks of at most 1 MiB; two before any acknowledgement.
        var first = probe.ExpectMsg<ResponseChunk>(Wait);
        var partition = probe.LastSender;
        // A local entity would reply with a local-scope address: this one is on the other node.
        Assert.False(partition.Path.Address.HasLocalScope, $"partition 0 answered locally from {partition}");
        Assert.Equal((7L, 0, 0, 9, "PFR"), (first.RequestId, first.Partition, first.Index, first.Count, first.Manifest));
        Assert.Equal(1 << 20, first.Bytes.Length);
        var chunks = new List<ResponseChunk> { first, probe.ExpectMsg<ResponseChunk>(Wait) };
        probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300)); // the window is full
        while (chunks.Count < first.Count)
        {
            probe.Send(partition, new ChunkAck(7, 0, chunks.Count - 2));
            chunks.Add(probe.ExpectMsg<ResponseChunk>(Wait));
        }
        var assembly = new Contracts.Serialization.ChunkAssembly(first.Manifest, first.TotalBytes, first.Count);
        foreach (var c in chunks) assembly.Append(c.Index, c.Count, c.TotalBytes, c.Manifest, c.Bytes.Span);
        var block = (FeaturesResult)Contracts.Serialization.WireChunks.Deserialize(asker, first.Manifest, assembly.Bytes);
        Assert.Equal(8 * 1024 * 1024, block.Data.Length * sizeof(float));
        var expected = new float[block.Data.Length];
        users.Features.Gather(ids.Select(i => i - users.Rows.First).ToArray(), expected);
        Assert.True(expected.AsSpan().SequenceEqual(block.Data), "the feature block differs after crossing the wire");
    }

    /// <summary>(the node that does NOT host partition 0, the ids of partition 0's users) so that answers must cross Akka.Remote.</summary>
    private (ActorSystem Asker, int[] Users) AcrossTheWire(int rows)
    {
        var ordered = new[] { (Sys, _addressA), (_b, _addressB) }.OrderBy(x => x.Item2, Akka.Cluster.Member.AddressOrdering).ToArray();
        using var p = Graph.Storage.PartitionStore.Open(TestStore.TwoParts).LoadPartition(0);
        var users = p.Nodes("user");
        return (ordered[1].Item1, Enumerable.Range(0, rows).Select(i => users.Rows.First + i % users.Count).ToArray());
    }

    [Fact]
    public void An_answer_above_max_message_bytes_is_refused_with_a_partition_error_naming_its_size()
    {
        var (asker, ids) = AcrossTheWire(20 * 1024 * 1024 / (TestStore.UserFeatureDim * sizeof(float))); // 20 MiB of rows
        var probe = CreateTestProbe(asker);
        asker.PartitionRegion().Tell(new GetFeatures(8, 0, "user", ids, 0), probe.Ref);
        var error = probe.ExpectMsg<PartitionError>(Wait);
        Assert.Contains((20 * 1024 * 1024 + 25).ToString("N0"), error.Problem); // the floats and a 25-byte header
        Assert.Contains("graphactors.wire.max-message-bytes", error.Problem);
    }

    [Fact]
    public async Task A_gather_whose_answer_would_exceed_max_message_bytes_is_split_into_requests_that_fit_and_returns_every_row()
    {
        var (asker, ids) = AcrossTheWire(40 * 1024 * 1024 / (TestStore.UserFeatureDim * sizeof(float))); // 40 MiB of rows, 16 MiB per answer at most
        using var store = GraphActors.Cluster.Sampling.RemoteGraphStore.FromStore(asker, TestStore.TwoParts, TimeSpan.FromSeconds(30));
        var remote = new float[ids.Length * TestStore.UserFeatureDim];
        await store.GatherFeaturesAsync("user", ids, remote);
        using var local = new GraphActors.Sampling.PartitionedGraphStore(Graph.Storage.PartitionStore.Open(TestStore.TwoParts));
        var expected = new float[remote.Length];
        await local.GatherFeaturesAsync("user", ids, expected);
        Assert.True(expected.AsSpan().SequenceEqual(remote), "the rows differ from the store's");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            var leaving = CoordinatedShutdown.Get(_b).Run(CoordinatedShutdown.ClrExitReason.Instance);
            leaving.Wait(TimeSpan.FromSeconds(15));
        }
        base.Dispose(disposing);
    }
}
