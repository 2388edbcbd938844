using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Hosting;

/// <summary>Starts `graphactors node` as a real child process.</summary>
public class NodeProcessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_node_process_joins_comes_up_loads_its_partitions_and_exits_with_code_0_on_SIGTERM()
    {
        var port = TestNodes.FreePort();
        using var node = CliProcess.Node("akka.loglevel = INFO\nakka.cluster.roles = [partition]\n", env: new Dictionary<string, string>
        {
            ["GA_HOST"] = "127.0.0.1",
            ["GA_PORT"] = port.ToString(),
            ["GA_SEEDS"] = TestNodes.Address(port),
            ["GA_STORE"] = TestStore.TwoParts,
        });
        await node.WaitForLine("is up: joined the cluster", Wait);
        // start-on-up: both partitions are mapped without any request.
        await node.WaitForLine("Partition 0 loaded", Wait);
        await node.WaitForLine("Partition 1 loaded", Wait);
        Assert.Contains($"127.0.0.1:{port}", node.Output);
        Assert.Equal(0, await node.Terminate(Wait));
        Assert.Contains("left the cluster", node.Output);
    }

    [Fact]
    public async Task A_node_whose_seeds_are_unreachable_says_it_is_still_trying_to_join_them()
    {
        var deadSeed = TestNodes.Address(TestNodes.FreePort());
        using var node = CliProcess.Node("akka.loglevel = ERROR\ngraphactors.node.join-progress-interval = 1s\n", env: new Dictionary<string, string>
        {
            ["GA_PORT"] = TestNodes.FreePort().ToString(),
            ["GA_SEEDS"] = deadSeed,
        });
        await node.WaitForLine($"still trying to join seeds [{deadSeed}]: no answer after", Wait);
        Assert.Equal(0, await node.Terminate(Wait));
    }
}
