using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Tests.Serialization;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts;
using GraphActors.Contracts.Serialization;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Tests.Sampling;

/// <summary>RemoteGraphStore on node B of a two-node cluster (real Akka.Remote on 127.0.0.1), against the same store read locally.</summary>
[Collection(MultiNodeCollection.Name)]
public class RemoteGraphStoreSpec() : RemoteGraphStoreSpecBase(TestStore.TwoParts);

/// <summary>
/// The same on a store brought up to date by <c>partition --update</c>: each partition owns two ranges of ids per type,
/// so the partitions map rows to ids through their ranges (sampling streams, lookups, degree tables).
/// </summary>
[Collection(MultiNodeCollection.Name)]
public class RemoteGraphStoreOnUpdatedStoreSpec() : RemoteGraphStoreSpecBase(TestStore.Updated)
{
    [Fact]
    public async Task Features_labels_and_business_ids_of_every_node_match_the_local_store()
    {
        foreach (var type in new NodeType[] { "user", "item" })
        {
            var count = Local.Schema.Node(type).Count;
            var ids = Enumerable.Range(0, count).Reverse().ToArray();
            var dim = Local.Schema.Node(type).FeatureDim;
            var (remote, local) = (new float[count * dim], new float[count * dim]);
            await Remote.GatherFeaturesAsync(type, ids, remote);
            await Local.GatherFeaturesAsync(type, ids, local);
            Assert.Equal(local, remote);
            var (rb, lb) = (new long[count], new long[count]);
            await Remote.GetBusinessIdsAsync(type, ids, rb);
            await Local.GetBusinessIdsAsync(type, ids, lb);
            Assert.Equal(lb, rb);
        }
        Assert.Equal(230, Local.Schema.Node("user").Count);
    }
}

public abstract class RemoteGraphStoreSpecBase : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly int PortA = TestNodes.FreePort();
    private readonly ActorSystem _b;
    private readonly RemoteGraphStore _remote;
    private readonly PartitionedGraphStore _local;

    protected RemoteGraphStoreSpecBase(string store) : base(TestNodes.Node(PortA, [PortA], "partition", store), "graphactors")
    {
        _b = ActorSystem.Create(Names.ActorSystem, TestNodes.Node(TestNodes.FreePort(), [PortA], "partition", store));
        Task.WhenAll(TestNodes.AwaitUp(Sys, 2, Wait), TestNodes.AwaitUp(_b, 2, Wait)).GetAwaiter().GetResult();
        Sys.StartPartitionSharding(PartitionSettings.Create(Sys));
        _b.StartPartitionSharding(PartitionSettings.Create(_b));
        _remote = RemoteGraphStore.FromStore(_b, store, TimeSpan.FromSeconds(5));
        _local = new PartitionedGraphStore(PartitionStore.Open(store));
    }

    protected RemoteGraphStore Remote => _remote;
    protected PartitionedGraphStore Local => _local;

    private static Dictionary<NodeType, int[]> Seeds() => new()
    {
        ["user"] = Enumerable.Range(0, 200).Where(i => i % 3 == 1).Take(64).ToArray(),
        ["item"] = [0, 5, 61, 119],
    };

    [Fact]
    public async Task BlockSampler_over_the_cluster_gives_exactly_the_full_minibatch_of_the_local_partitioned_store()
    {
        var options = new BlockSamplerOptions([-1, -1]) { WithWeights = true };
        var remote = await new BlockSampler(_remote, options).SampleAsync(Seeds(), 99);
        var local = await new BlockSampler(_local, options).SampleAsync(Seeds(), 99);

        Assert.True(remote.EdgeCount > 500, $"the batch should walk real edges, got {remote.EdgeCount}");
        Assert.NotNull(remote.Features("user"));
        Assert.NotNull(remote.LabelsOf("user"));
        SampleMessages.AssertSame(local.ToData(1, 0, 0), remote.ToData(1, 0, 0));
    }

    [Theory]
    [InlineData(SamplingStrategy.Random, ReverseEdges.None)]
    [InlineData(SamplingStrategy.RandomWithoutReplacement, ReverseEdges.AddReverse)]
    [InlineData(SamplingStrategy.RandomWithoutReplacement, ReverseEdges.Bidirected)]
    [InlineData(SamplingStrategy.EdgeWeight, ReverseEdges.AddReverse)]
    [InlineData(SamplingStrategy.TopK, ReverseEdges.Bidirected)]
    [InlineData(SamplingStrategy.InDegree, ReverseEdges.AddReverse)]
    public async Task BlockSampler_over_the_cluster_gives_exactly_the_local_partitioned_stores_sampled_minibatch(SamplingStrategy strategy, ReverseEdges reverse)
    {
        // Every partition draws with the call's seed and each node from its own stream, so random strategies agree too.
        var options = new BlockSamplerOptions([3, 5]) { Strategy = strategy, ReverseEdges = reverse, WithWeights = true };
        var remote = await new BlockSampler(_remote, options).SampleAsync(Seeds(), 17);
        var local = await new BlockSampler(_local, options).SampleAsync(Seeds(), 17);

        Assert.True(remote.EdgeCount > 300, $"the batch should walk real edges, got {remote.EdgeCount}");
        SampleMessages.AssertSame(local.ToData(1, 0, 0), remote.ToData(1, 0, 0));
    }

    [Fact]
    public async Task Degrees_and_id_lookups_match_the_local_store_in_the_callers_order()
    {
        var ids = Enumerable.Range(0, 200).Reverse().ToArray();
        var remote = new int[ids.Length];
        var local = new int[ids.Length];
        await _remote.GetDegreesAsync(TestStore.Follow, true, ids, remote);
        await _local.GetDegreesAsync(TestStore.Follow, true, ids, local);
        Assert.Equal(local, remote);

        long[] business = [10_000L + 7 * 150, 42, 10_000L];
        var found = new int[3];
        var expected = new int[3];
        await _remote.LookupIdsAsync("user", business, found);
        await _local.LookupIdsAsync("user", business, expected);
        Assert.Equal(expected, found);
        Assert.Equal(-1, found[1]);
    }

    [Theory]
    [InlineData(NegativeStrategy.Random)]
    [InlineData(NegativeStrategy.SmoothedInDegree)]
    [InlineData(NegativeStrategy.InDegree)]
    public async Task Negatives_are_drawn_by_each_sources_owner_and_avoid_true_neighbours(NegativeStrategy strategy)
    {
        var sources = Enumerable.Range(0, 200).ToArray();
        var negatives = new int[sources.Length * 3];
        var stats = await _remote.SampleNegativesAsync(TestStore.Click, sources, 3, strategy, true, 5, negatives);
        Assert.Equal(600, stats.Requested);
        Assert.All(negatives, n => Assert.InRange(n, 0, _local.Schema.Node("item").Count - 1));
        var edges = await _local.GetEdgesAsync(TestStore.Click);
        var truth = edges.Src.Zip(edges.Dst).ToHashSet();
        var hits = sources.SelectMany((s, i) => negatives.Skip(i * 3).Take(3).Select(n => (s, n))).Count(truth.Contains);
        Assert.Equal(stats.Unresolved, hits);

        var again = new int[negatives.Length];
        await _remote.SampleNegativesAsync(TestStore.Click, sources, 3, strategy, true, 5, again);
        Assert.Equal(negatives, again);
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
}

/// <summary>What RemoteGraphStore does when partitions do not answer, or answer with an error (a stand-in region, no cluster).</summary>
public class RemoteGraphStoreFailureSpec() : TestKit(
    ConfigurationFactory.ParseString("akka.actor.serialize-messages = on").WithFallback(GraphActorsSerialization.Config))
{
    private sealed class DroppingRegion : ReceiveActor
    {
        // Drops every request, as a region does whose entity is gone or whose node is unreachable.
        public DroppingRegion(List<IPartitionRequest> seen) => Receive<IPartitionRequest>(r => { lock (seen) seen.Add(r); });
    }

    private sealed class RefusingRegion : ReceiveActor
    {
        public RefusingRegion() => Receive<IPartitionRequest>(r => Sender.Tell(new PartitionError(r.RequestId, r.Partition, "store [/nowhere] failed to load")));
    }

    private RemoteGraphStore Store(IActorRef region, TimeSpan timeout)
    {
        var store = PartitionStore.Open(TestStore.TwoParts);
        return new RemoteGraphStore(Sys, region, store.Book, PartitionedGraphStore.SchemaOf(store.Manifest), timeout);
    }

    [Fact]
    public async Task A_partition_that_never_answers_fails_the_call_after_its_deadline_and_one_retry_naming_the_partition()
    {
        var seen = new List<IPartitionRequest>();
        var timeout = TimeSpan.FromMilliseconds(400);
        var store = Store(Sys.ActorOf(Akka.Actor.Props.Create(() => new DroppingRegion(seen))), timeout);
        int[] users = [0, 199]; // one in each partition
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<PartitionTimeoutException>(async () =>
            await store.GatherFeaturesAsync("user", users, new float[2 * TestStore.UserFeatureDim]));
        var elapsed = DateTime.UtcNow - started;

        Assert.Contains($"Partition {e.Partition} did not answer GetFeatures", e.Message);
        Assert.Contains("retry", e.Message);
        Assert.Contains("400 ms", e.Message);
        Assert.InRange(elapsed, 2 * timeout - TimeSpan.FromMilliseconds(50), 2 * timeout + TimeSpan.FromSeconds(2));
        lock (seen)
        {
            // Both partitions were asked at once, each twice (the request and its one retry), every one with a deadline.
            Assert.Equal(4, seen.Count);
            Assert.Equal([0, 0, 1, 1], seen.Select(r => r.Partition).Order());
            Assert.All(seen, r => Assert.True(r.DeadlineUnixMs > 0));
            Assert.Equal(4, seen.Select(r => r.RequestId).Distinct().Count());
        }
    }

    [Fact]
    public async Task A_partition_error_fails_the_call_at_once_with_the_partitions_problem()
    {
        var store = Store(Sys.ActorOf(Akka.Actor.Props.Create(() => new RefusingRegion())), TimeSpan.FromSeconds(5));
        var started = DateTime.UtcNow;
        var e = await Assert.ThrowsAsync<PartitionRequestException>(async () => await store.GetDegreesAsync(TestStore.Follow, false, new[] { 3 }, new int[1]));
        Assert.Contains("failed to load", e.Message);
        Assert.Contains($"Partition {e.Partition}", e.Message);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));
    }
}
