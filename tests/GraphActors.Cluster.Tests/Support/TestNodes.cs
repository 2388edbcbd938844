// Configuration for in-process test nodes on 127.0.0.1: free ports outside the ephemeral range, serialize-messages on.
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster.Hosting;

namespace GraphActors.Cluster.Tests.Support;

public static class TestNodes
{
    /// <summary>A port for a node or listener (<see cref="TestPorts.Free"/>: never one the kernel gives outgoing connections).</summary>
    public static int FreePort() => TestPorts.Free();

    public static string Address(int port) => $"akka.tcp://{Names.ActorSystem}@127.0.0.1:{port}";

    /// <summary>A node config: given port, seeds (none: joins itself), roles and store; every message checked through its serializer.</summary>
    public static Config Node(int port, IEnumerable<int> seedPorts, string roles, string? store, string extra = "") =>
        ConfigurationFactory.ParseString($$"""
            akka.loglevel = {{(Environment.GetEnvironmentVariable("GA_TEST_LOGLEVEL") ?? "WARNING")}}
            akka.stdout-loglevel = WARNING
            akka.actor.serialize-messages = on
            akka.remote.dot-netty.tcp.port = {{port}}
            akka.cluster.seed-nodes = [{{string.Join(", ", seedPorts.Select(p => NodeConfig.Quote(Address(p))))}}]
            akka.cluster.roles = [{{roles}}]
            akka.cluster.sharding.rebalance-interval = 1s
            graphactors.partitions.store-path = {{NodeConfig.Quote(store ?? "")}}
            {{extra}}
            """).WithFallback(NodeConfig.Defaults);

    /// <summary>Waits until <paramref name="count"/> members are up as <paramref name="system"/> sees them.</summary>
    public static async Task AwaitUp(ActorSystem system, int count, TimeSpan timeout)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var deadline = DateTime.UtcNow + timeout;
        while (cluster.State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(
                    $"{cluster.SelfAddress} saw {string.Join(", ", cluster.State.Members.Select(m => $"{m.Address} {m.Status}"))} after {timeout}; expected {count} up.");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Waits until the shard coordinator knows <paramref name="count"/> regions of <paramref name="region"/>: before
    /// that, a shard can only be allocated to the regions already registered, whatever the placement rule prefers.
    /// </summary>
    public static async Task AwaitRegions(IActorRef region, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var seen = 0;
        while (DateTime.UtcNow < deadline)
        {
            var regions = await region.Ask<Akka.Cluster.Sharding.CurrentRegions>(Akka.Cluster.Sharding.GetCurrentRegions.Instance, timeout);
            seen = regions.Regions.Count;
            if (seen >= count) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"The shard coordinator knew {seen} regions after {timeout}; expected {count}.");
    }
}
