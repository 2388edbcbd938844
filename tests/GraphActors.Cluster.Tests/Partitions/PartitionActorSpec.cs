using Akka.Actor;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Tests.Partitions;

/// <summary>One node forming its own cluster, hosting both partitions of the test store.</summary>
public class PartitionActorSpec : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly IActorRef _region;
    private readonly PartitionStore _store = PartitionStore.Open(TestStore.TwoParts);

    public PartitionActorSpec() : base(TestNodes.Node(0, [], "partition", TestStore.TwoParts))
    {
        var cluster = Akka.Cluster.Cluster.Get(Sys);
        cluster.Join(cluster.SelfAddress);
        TestNodes.AwaitUp(Sys, 1, Wait).GetAwaiter().GetResult();
        _region = Sys.StartPartitionSharding(PartitionSettings.Create(Sys));
    }

    private T Ask<T>(IPartitionRequest request) where T : IPartitionResponse
    {
        _region.Tell(request, TestActor);
        var reply = ExpectMsg<IPartitionResponse>(Wait);
        Assert.True(reply is T, $"expected {typeof(T).Name}, got {reply}");
        Assert.Equal(request.RequestId, reply.RequestId);
        return (T)reply;
    }

    public static TheoryData<int, int, NeighborStrategy> Cases() => new()
    {
        { 0, 0, NeighborStrategy.Random },
        { 1, 0, NeighborStrategy.RandomWithoutReplacement },
        { 0, 1, NeighborStrategy.EdgeWeight },
        { 1, 1, NeighborStrategy.TopK },
        { 0, 0, NeighborStrategy.Full },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Sampled_neighbours_equal_the_kernel_run_directly_on_the_loaded_partition(int partition, int direction, NeighborStrategy strategy)
    {
        using var p = _store.LoadPartition(partition);
        var dir = (EdgeDirection)direction;
        var rowType = dir == EdgeDirection.In ? TestStore.Click.Dst : TestStore.Click.Src;
        var nodes = p.Nodes(rowType);
        var seeds = Enumerable.Range(nodes.Rows.First, nodes.Count).Where(i => i % 3 == 0).ToArray();

        var result = Ask<NeighborsResult>(new GetNeighbors(42, partition, TestStore.Click, dir, seeds, 5, strategy, 1234, 0));

        var edges = p.Edges(TestStore.Click);
        var incoming = dir == EdgeDirection.In;
        var buffer = new SampleBuffer();
        var random = KernelRandom.PerNode(1234, nodes.Rows.First); // rows are local: the key is start + row, the global id
        var weights = edges.Weights(incoming).Span;
        NeighborSampler.Sample(edges.Direction(incoming), seeds.Select(s => s - nodes.Rows.First).ToArray(), 5,
            PartitionServer.ToKernel(strategy), ref random, buffer, weights);
        Assert.Equal(buffer.Offsets.ToArray(), result.Offsets);
        Assert.Equal(buffer.Neighbors.ToArray(), result.Neighbors);
        var w = edges.Weights(incoming).ToArray();
        Assert.Equal(buffer.EdgeIds.ToArray().Select(e => w[e]), result.Weights);
        Assert.True(result.Neighbors.Length > 0);
    }

    [Fact]
    public void Gathered_features_equal_the_slab_rows_in_request_order()
    {
        using var p = _store.LoadPartition(1);
        var users = p.Nodes("user");
        int[] ids = [users.Rows.First + 3, users.Rows.First, users.Rows.First + 3, users.Rows.First + users.Count - 1];
        var result = Ask<FeaturesResult>(new GetFeatures(7, 1, "user", ids, 0));
        var expected = new float[ids.Length * users.Features.Dim];
        users.Features.Gather(ids.Select(i => i - users.Rows.First).ToArray(), expected);
        Assert.Equal((ids.Length, TestStore.UserFeatureDim), (result.Rows, result.Dim));
        Assert.Equal(expected, result.Data);
    }

    [Fact]
    public void Business_ids_are_looked_up_and_misses_reported_by_index()
    {
        using var p = _store.LoadPartition(0);
        var items = p.Nodes("item");
        var known = items.BusinessIds.Span[0];
        var result = Ask<IdsResult>(new GetIds(8, 0, "item", [known, -5, items.BusinessIds.Span[items.Count - 1]], 0));
        Assert.True(items.TryGetId(known, out var id));
        Assert.Equal(id, result.Ids[0]);
        Assert.Equal(-1, result.Ids[1]);
        Assert.Equal(items.Rows.First + items.Count - 1, result.Ids[2]);
        Assert.Equal([1], result.Misses);
    }

    [Fact]
    public void Degrees_and_info_describe_the_partition()
    {
        using var p = _store.LoadPartition(0);
        var users = p.Nodes("user");
        int[] ids = [users.Rows.First, users.Rows.First + 1];
        var degrees = Ask<DegreesResult>(new GetDegrees(9, 0, TestStore.Follow, EdgeDirection.Out, ids, 0));
        Assert.Equal(ids.Select(i => p.Edges(TestStore.Follow).Out.Degree(i - users.Rows.First)), degrees.Degrees);

        var info = Ask<PartitionInfoResult>(new GetPartitionInfo(10, 0));
        Assert.Equal(2, info.Parts);
        Assert.Equal(["item", "user"], info.NodeTypes);
        Assert.Equal(users.Count, info.NodeCounts[1]);
        Assert.True(info.Requests >= 2 && info.RowsServed >= 2 && info.MappedBytes > 0, $"stats {info}");
    }

    [Fact]
    public void A_seed_another_partition_owns_is_answered_with_an_error_naming_it()
    {
        using var p = _store.LoadPartition(1);
        var foreign = p.Nodes("user").Rows.First; // owned by partition 1, asked of partition 0
        var error = Ask<PartitionError>(new GetFeatures(11, 0, "user", [foreign], 0));
        Assert.Equal(0, error.Partition);
        Assert.Contains($"node {foreign}", error.Problem);
    }

    [Fact]
    public void A_request_past_its_deadline_is_dropped()
    {
        _region.Tell(new GetPartitionInfo(12, 1, DeadlineUnixMs: 1), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(500));
        var info = Ask<PartitionInfoResult>(new GetPartitionInfo(13, 1));
        Assert.True(info.DroppedLate >= 1);
    }
}

/// <summary>Loading failures: the store path is wrong.</summary>
public class PartitionActorLoadFailureSpec() : TestKit(TestNodes.Node(0, [], "partition", "/nonexistent/ga-store",
    "graphactors.partitions { load-timeout = 1s, load-retry-min-backoff = 200ms, load-retry-max-backoff = 400ms }"))
{
    [Fact]
    public void Requests_waiting_for_a_partition_that_cannot_load_get_an_error_naming_the_path()
    {
        var actor = Sys.ActorOf(PartitionActor.Props(0, PartitionSettings.Create(Sys)));
        actor.Tell(new GetPartitionInfo(1, 0), TestActor);
        var error = ExpectMsg<PartitionError>(TimeSpan.FromSeconds(5));
        Assert.Contains("/nonexistent/ga-store", error.Problem);
        // Later requests are answered at once instead of waiting.
        actor.Tell(new GetPartitionInfo(2, 0), TestActor);
        Assert.Equal(2, ExpectMsg<PartitionError>(TimeSpan.FromSeconds(1)).RequestId);
    }
}
