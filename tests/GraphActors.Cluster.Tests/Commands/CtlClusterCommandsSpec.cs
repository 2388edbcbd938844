// `ctl cluster down-unreachable|join` and eager partition re-homing, against real node ActorSystems over Akka.Remote on 127.0.0.1.
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster.Commands;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Tests.Commands;

/// <summary>
/// Two partition nodes started as `graphactors node` starts them (NodeHost), the first the seed. The split-brain
/// resolver is off, so a member that stops answering stays unreachable until a command downs it.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class CtlClusterCommandsSpec : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(40);
    private const string Token = "ctl-spec-token";

    private static readonly string Extra = $$"""
        graphactors.ctl.token = "{{Token}}"
        akka.cluster.downing-provider-class = ""
        # A stopped node goes away without leaving: the other one sees it unreachable, as after a crash.
        akka.coordinated-shutdown.run-by-actor-system-terminate = off
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        # Our messages cross real remoting here (their round trips are GraphActorsSerializerTests'); the verification
        # would also push the sharding coordinator's local ddata messages through JSON, which they do not survive.
        akka.actor.serialize-messages = off
        """;

    private readonly int _portA = TestNodes.FreePort(), _portB = TestNodes.FreePort();
    private ActorSystem _a = null!, _b = null!;
    private readonly List<ActorSystem> _others = [];

    private string AddressA => TestNodes.Address(_portA);
    private string AddressB => TestNodes.Address(_portB);

    public async Task InitializeAsync()
    {
        // The seed first, up on its own, so it is the oldest member (where the shard coordinator runs).
        _a = NodeHost.Start(TestNodes.Node(_portA, [_portA], "\"partition\"", TestStore.TwoParts, Extra), TextWriter.Null);
        await TestNodes.AwaitUp(_a, 1, Wait);
        _b = NodeHost.Start(TestNodes.Node(_portB, [_portA], "\"partition\"", TestStore.TwoParts, Extra), TextWriter.Null);
        await Task.WhenAll(TestNodes.AwaitUp(_a, 2, Wait), TestNodes.AwaitUp(_b, 2, Wait));
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _others.Append(_b).Append(_a)) await s.Terminate().WaitAsync(Wait);
    }

    private static Task<object> Ask(ActorSystem node, object message, TimeSpan? timeout = null) =>
        node.ActorSelection(Names.CommandHandlerPath).Ask<object>(message, timeout ?? TimeSpan.FromSeconds(10));

    private static async Task<PartitionsResult> Partitions(ActorSystem node) => (PartitionsResult)await Ask(node, new GetPartitions(2000));

    private static async Task<T> Eventually<T>(Func<Task<T>> poll, Func<T, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Wait;
        T last;
        while (!done(last = await poll()))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"after {Wait}, still not {what}; last: {Show(last)}");
            await Task.Delay(250);
        }
        return last;
    }

    private static string? Show(object? answer) => answer is PartitionsResult r
        ? $"{r.Parts} parts: " + string.Join("; ", r.Partitions.Select(p => $"{p.Partition} {p.State} {p.Node} {p.Problem}")) + $" {r.Problem}"
        : answer?.ToString();

    private async Task BothPartitionsServingOnTwoNodes() =>
        await Eventually(() => Partitions(_a), r => r.Partitions.Length == 2 && r.Partitions.All(p => p.State == PartitionState.Serving)
            && r.Partitions.Select(p => p.Node).Distinct().Count() == 2, "both partitions serving, one on each node");

    [Fact]
    public async Task Down_unreachable_with_every_member_reachable_downs_none_and_says_who_looked()
    {
        var answer = Assert.IsType<UnreachableDowned>(await Ask(_a, new WithToken(Token, new DownUnreachable())));
        Assert.Equal(AddressA, answer.ObservedBy);
        Assert.Empty(answer.Downed);
        Assert.Empty(answer.AlreadyDown);

        // Without the token it changes nothing and says why.
        var refused = Assert.IsType<NotAuthorized>(await Ask(_a, new DownUnreachable()));
        Assert.Equal("cluster down-unreachable", refused.Command);
    }

    [Fact]
    public async Task A_crashed_partition_node_downed_as_unreachable_has_its_partition_re_homed_on_the_survivor_without_any_request()
    {
        await BothPartitionsServingOnTwoNodes();

        await _b.Terminate().WaitAsync(Wait);
        await Eventually(() => Task.FromResult(Akka.Cluster.Cluster.Get(_a).State.Unreachable.Count), n => n == 1, "the stopped node unreachable");

        var answer = Assert.IsType<UnreachableDowned>(await Ask(_a, new WithToken(Token, new DownUnreachable())));
        Assert.Equal([AddressB], answer.Downed);

        // Only the partition table is asked for: it starts nothing, so only eager allocation brings the lost partition back.
        await Eventually(() => Partitions(_a), r => r.Partitions.Length == 2 && r.Partitions.All(p => p.State == PartitionState.Serving && p.Node == AddressA),
            "both partitions serving on the survivor");
        await Eventually(() => Task.FromResult(Akka.Cluster.Cluster.Get(_a).State.Members.Count), n => n == 1, "the downed node removed");
    }

    [Fact]
    public async Task A_partition_node_that_leaves_has_its_partition_re_homed_on_the_survivor_without_any_request()
    {
        await BothPartitionsServingOnTwoNodes();

        var left = Assert.IsType<CommandResult>(await Ask(_a, new WithToken(Token, new LeaveMember(AddressB))));
        Assert.True(left.Ok, left.Message);

        await Eventually(() => Partitions(_a), r => r.Partitions.Length == 2 && r.Partitions.All(p => p.State == PartitionState.Serving && p.Node == AddressA),
            "both partitions serving on the survivor");
    }

    [Fact]
    public async Task Join_makes_a_node_that_is_in_no_cluster_join_and_refuses_a_member_since_Akka_would_ignore_it()
    {
        // A node started without seeds that has not joined anything yet: it answers ctl, as a fresh process would.
        var port = TestNodes.FreePort();
        var config = TestNodes.Node(port, [], "\"trainer\"", null, Extra);
        var loner = ActorSystem.Create(Names.ActorSystem, config);
        _others.Add(loner);
        loner.StartCommandHandler(ActorRefs.Nobody, CtlSettings.Create(config));

        var refusedBare = Assert.IsType<NotAuthorized>(await Ask(loner, new JoinCluster(AddressA)));
        Assert.Equal("cluster join", refusedBare.Command);

        var joined = Assert.IsType<CommandResult>(await Ask(loner, new WithToken(Token, new JoinCluster(AddressA))));
        Assert.True(joined.Ok, joined.Message);
        await TestNodes.AwaitUp(_a, 3, Wait);

        // Already in that cluster: nothing to do, and said so.
        var again = Assert.IsType<CommandResult>(await Ask(loner, new WithToken(Token, new JoinCluster(AddressB))));
        Assert.True(again.Ok, again.Message);
        Assert.Contains("nothing to do", again.Message);

        // A member asked to join another cluster: refused, naming why.
        var elsewhere = Assert.IsType<CommandResult>(await Ask(_a, new WithToken(Token, new JoinCluster(TestNodes.Address(TestNodes.FreePort())))));
        Assert.False(elsewhere.Ok);
        Assert.Contains("Akka ignores a join of a node that is part of a cluster", elsewhere.Message);

        var bad = Assert.IsType<CommandResult>(await Ask(_a, new WithToken(Token, new JoinCluster("not an address"))));
        Assert.False(bad.Ok);
        Assert.Contains("is not a node address", bad.Message);
    }
}
