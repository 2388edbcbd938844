// `graphactors deploy`'s pure part: ip_config parsing, layouts, and the node HOCON files a plan writes.
using GraphActors.Cluster.Hosting;

namespace GraphActors.Cluster.Tests.Hosting;

public sealed class DeployPlanTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-deploy-plan", Guid.NewGuid().ToString("N"));

    public DeployPlanTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string IpConfigFile(string text)
    {
        var path = Path.Combine(_dir, "ip_config.txt");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Ip_config_lines_give_hosts_and_optional_ports_skipping_blanks_and_comments()
    {
        var entries = IpConfig.Parse(["# machines", "", "10.0.0.1 30050", "  10.0.0.2   # no port", "node-3.example.org\t4060", "::1 4061"], "ip.txt");
        Assert.Equal(
            [new IpConfigEntry("10.0.0.1", 30050, 3), new IpConfigEntry("10.0.0.2", null, 4), new IpConfigEntry("node-3.example.org", 4060, 5), new IpConfigEntry("::1", 4061, 6)],
            entries);
    }

    [Theory]
    [InlineData("10.0.0.1 port", "line 2", "port 'port'")]
    [InlineData("10.0.0.1 70000", "line 2", "port '70000'")]
    [InlineData("10.0.0.1 30050 2", "line 2", "3 fields")]
    [InlineData("10.0.0.999", "line 2", "'10.0.0.999' is not an IP address or host name")]
    [InlineData("bad_host!", "line 2", "'bad_host!'")]
    public void A_bad_ip_config_line_is_an_error_naming_the_file_and_the_line(string bad, string line, string detail)
    {
        var e = Assert.Throws<DeployException>(() => IpConfig.Parse(["10.0.0.1", bad, "10.0.0.3"], "/x/ip_config.txt"));
        Assert.Contains($"/x/ip_config.txt {line}", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void An_ip_config_without_hosts_is_an_error()
    {
        var e = Assert.Throws<DeployException>(() => IpConfig.Parse(["# nothing", ""], "ip.txt"));
        Assert.Contains("ip.txt lists no host", e.Message);
    }

    [Fact]
    public void Layouts_expand_to_one_role_set_per_machine_in_order()
    {
        var groups = DeployLayout.Parse("none:1,partition+trainer:2");
        var roles = DeployLayout.Expand(groups, 3, "none:1,partition+trainer:2", "ip.txt");
        Assert.Equal([[], ["partition", "trainer"], ["partition", "trainer"]], roles.Select(r => r.ToArray()).ToArray());

        // The source system's 32 machines.
        var big = DeployLayout.Expand(DeployLayout.Parse("partition:8,sampler:8,trainer:16"), 32, "…", "ip.txt");
        Assert.Equal(8, big.Count(r => r.SequenceEqual(["partition"])));
        Assert.Equal(8, big.Count(r => r.SequenceEqual(["sampler"])));
        Assert.Equal(16, big.Skip(16).Count(r => r.SequenceEqual(["trainer"])));
    }

    [Fact]
    public void A_layout_whose_counts_do_not_add_up_to_the_hosts_says_both_numbers()
    {
        var e = Assert.Throws<DeployException>(() => DeployLayout.Expand(DeployLayout.Parse("none:1,partition+trainer:3"), 3, "none:1,partition+trainer:3", "/x/ip.txt"));
        Assert.Contains("places 4 node(s)", e.Message);
        Assert.Contains("/x/ip.txt lists 3 host(s)", e.Message);
    }

    [Theory]
    [InlineData("partiton:2", "unknown role 'partiton'")]
    [InlineData("partition:0", "no positive node count")]
    [InlineData("partition:x", "no positive node count")]
    [InlineData("partition:1,,trainer:1", "an empty group")]
    public void A_bad_layout_is_an_error_naming_the_group(string layout, string detail)
    {
        var e = Assert.Throws<DeployException>(() => DeployLayout.Parse(layout));
        Assert.Contains($"--layout '{layout}'", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void The_plan_binds_each_node_to_its_host_and_port_with_its_roles_and_the_first_node_as_seed()
    {
        var ip = IpConfigFile("# three machines\n10.1.0.5\n10.1.0.6 5000\n10.1.0.6\n");
        var store = Path.Combine(_dir, "store");
        var plan = DeployPlan.Build(new DeployOptions { IpConfigPath = ip, Layout = "none:1,partition+trainer:2", Store = store, Out = Path.Combine(_dir, "out") }, "graphactors");
        DeployPlan.Write(plan);

        Assert.Equal(["akka.tcp://graphactors@10.1.0.5:4053"], plan.Seeds);
        Assert.Equal(["node-0", "node-1", "node-2"], plan.Nodes.Select(n => n.Name));
        // The line's port; else --base-port, past ports already taken on the same host.
        Assert.Equal([4053, 5000, 4053], plan.Nodes.Select(n => n.Port));
        Assert.True(File.Exists(Path.Combine(_dir, "out", "plan.json")));
        var reread = DeployPlan.Read(Path.Combine(_dir, "out"));
        Assert.Equal(plan.Nodes.Select(n => n.Address), reread.Nodes.Select(n => n.Address));

        foreach (var (node, roles) in plan.Nodes.Zip(new[] { Array.Empty<string>(), ["partition", "trainer"], ["partition", "trainer"] }))
        {
            // The file `graphactors node --config` reads, through the same loader, with no GA_* variable set.
            var config = NodeConfig.Load(node.LocalConfig, new Dictionary<string, string?>());
            Assert.Equal(node.Host, config.GetString("akka.remote.dot-netty.tcp.hostname"));
            Assert.NotEqual("0.0.0.0", config.GetString("akka.remote.dot-netty.tcp.hostname"));
            Assert.Equal(node.Port, config.GetInt("akka.remote.dot-netty.tcp.port"));
            Assert.Equal(roles, config.GetStringList("akka.cluster.roles"));
            Assert.Equal(["akka.tcp://graphactors@10.1.0.5:4053"], config.GetStringList("akka.cluster.seed-nodes"));
            Assert.Equal(Path.GetFullPath(store), config.GetString("graphactors.partitions.store-path"));
            Assert.Equal(Path.Combine(_dir, "out", "coordinator.db"), config.GetString("graphactors.persistence.sqlite-path"));
        }
    }

    [Fact]
    public void Nodes_sharing_a_host_tolerate_longer_heartbeat_pauses_and_send_fewer_heartbeats_than_one_node_per_host()
    {
        Akka.Cluster.ClusterSettings Settings(DeployNode n) =>
            new(NodeConfig.Load(n.LocalConfig, new Dictionary<string, string?>()).WithFallback(Akka.Configuration.ConfigurationFactory.FromResource<Akka.Cluster.Cluster>("Akka.Cluster.Configuration.Cluster.conf")), "graphactors");

        var shared = DeployPlan.Build(new DeployOptions
        {
            IpConfigPath = IpConfigFile("127.0.0.1\n127.0.0.1\n127.0.0.1\n"), Layout = "none:1,partition:1,trainer:1",
            Store = Path.Combine(_dir, "store"), Out = Path.Combine(_dir, "shared"),
        }, "graphactors");
        DeployPlan.Write(shared);
        foreach (var n in shared.Nodes)
        {
            var s = Settings(n);
            Assert.Equal(DeployPlan.SharedHostHeartbeatPause, s.FailureDetectorConfig.GetTimeSpan("acceptable-heartbeat-pause"));
            Assert.Equal(TimeSpan.FromSeconds(2), s.HeartbeatInterval);
            Assert.Equal(5, s.MonitoredByNrOfMembers);
            Assert.Contains("3 nodes share a host", n.Hocon);
        }
        // Each node of the host its own metrics port, for Prometheus' scrape config.
        var metricsPorts = shared.Nodes.Select(n => NodeConfig.Load(n.LocalConfig, new Dictionary<string, string?>()).GetInt("graphactors.metrics.port")).ToList();
        Assert.Equal(shared.Nodes.Count, metricsPorts.Distinct().Count());
        Assert.All(metricsPorts, p => Assert.InRange(p, 1, 65535));
        var scrape = File.ReadAllText(Path.Combine(shared.Out, DeployPlan.PrometheusFileName));
        foreach (var p in metricsPorts) Assert.Contains($"\"127.0.0.1:{p}\"", scrape);
        // And its own health port (GET /ready, /alive): the remoting port + 20000, apart from every metrics and remoting port.
        var healthPorts = shared.Nodes.Select(n => NodeConfig.Load(n.LocalConfig, new Dictionary<string, string?>()).GetInt("graphactors.health.port")).ToList();
        Assert.Equal(shared.Nodes.Select(n => n.Port + DeployPlan.HealthPortOffset), healthPorts);
        Assert.Empty(healthPorts.Intersect(metricsPorts.Concat(shared.Nodes.Select(n => n.Port))));
        if (NodeMetricsTests.PromtoolRun(["check", "config", Path.Combine(shared.Out, DeployPlan.PrometheusFileName)]) is { } check)
            Assert.True(check.Code == 0, $"promtool check config exited {check.Code}:\n{check.Output}\n---\n{scrape}");

        var apart = DeployPlan.Build(new DeployOptions
        {
            IpConfigPath = IpConfigFile("10.1.0.5\n10.1.0.6\n10.1.0.7\n"), Layout = "none:1,partition:1,trainer:1",
            Store = Path.Combine(_dir, "store"), Out = Path.Combine(_dir, "apart"),
        }, "graphactors");
        DeployPlan.Write(apart);
        foreach (var n in apart.Nodes)
        {
            // One node per machine: Akka's own failure detection.
            var s = Settings(n);
            Assert.Equal(TimeSpan.FromSeconds(3), s.FailureDetectorConfig.GetTimeSpan("acceptable-heartbeat-pause"));
            Assert.Equal(TimeSpan.FromSeconds(1), s.HeartbeatInterval);
            Assert.DoesNotContain("share a host", n.Hocon);
        }
    }

    [Fact]
    public void Two_lines_naming_the_same_host_and_port_are_an_error_naming_both_lines()
    {
        var ip = IpConfigFile("10.1.0.5 4053\n10.1.0.6\n10.1.0.5 4053\n");
        var e = Assert.Throws<DeployException>(() =>
            DeployPlan.Build(new DeployOptions { IpConfigPath = ip, Layout = "partition:3", Store = _dir, Out = _dir }, "graphactors"));
        Assert.Contains("line 3: 10.1.0.5:4053 is already used by line 1", e.Message);
    }

    [Fact]
    public void A_postgres_journal_reaches_every_node_and_two_seeds_are_listed_by_all()
    {
        var ip = IpConfigFile("10.1.0.5\n10.1.0.6\n10.1.0.7\n");
        var plan = DeployPlan.Build(new DeployOptions
        {
            IpConfigPath = ip, Layout = "partition:2,inference", Store = "/data/store", Out = Path.Combine(_dir, "out"), Mode = DeployMode.Ssh,
            Journal = "postgres:Host=db;Database=graphactors;Username=ga;Password=secret", Seeds = 2, RemoteDir = "/srv/ga", CopyStore = true,
        }, "graphactors");
        DeployPlan.Write(plan);
        Assert.Equal("postgres:Host=db;Database=graphactors;Username=ga;Password=***", plan.Journal);
        Assert.Equal("/srv/ga/nodes/node-2.hocon", plan.Nodes[2].Config);
        var config = NodeConfig.Load(plan.Nodes[2].LocalConfig, new Dictionary<string, string?>());
        Assert.Equal(["akka.tcp://graphactors@10.1.0.5:4053", "akka.tcp://graphactors@10.1.0.6:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["inference"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("/srv/ga/store", config.GetString("graphactors.partitions.store-path"));
        Assert.Equal(("Host=db;Database=graphactors;Username=ga;Password=secret", "PostgreSQL.15"),
            GraphActors.Cluster.Coordination.CoordinatorPersistence.Resolve(config));
    }

    [Theory]
    [InlineData("mysql:Host=db", "expected sqlite:PATH or postgres:CONNSTR")]
    [InlineData("postgres:Database=ga", "needs Host=")]
    public void A_bad_journal_option_is_an_error(string journal, string detail)
    {
        var ip = IpConfigFile("127.0.0.1\n");
        var e = Assert.Throws<DeployException>(() =>
            DeployPlan.Build(new DeployOptions { IpConfigPath = ip, Layout = "none", Store = _dir, Out = _dir, Journal = journal }, "graphactors"));
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void A_layout_with_sampler_machines_makes_the_sampler_role_sample_on_every_node()
    {
        var ip = IpConfigFile("10.1.0.1\n10.1.0.2\n10.1.0.3\n10.1.0.4\n");
        var split = DeployPlan.Build(new DeployOptions { IpConfigPath = ip, Layout = "partition:1,sampler:1,trainer:2", Store = _dir, Out = Path.Combine(_dir, "split") }, "graphactors");
        DeployPlan.Write(split);
        Assert.All(split.Nodes, n => Assert.Equal("sampler", NodeConfig.Load(n.LocalConfig, new Dictionary<string, string?>()).GetString("graphactors.sampler.role")));

        // Without sampler machines the default stands: every trainer samples on its own node.
        var together = DeployPlan.Build(new DeployOptions { IpConfigPath = ip, Layout = "partition:2,trainer:2", Store = _dir, Out = Path.Combine(_dir, "together") }, "graphactors");
        DeployPlan.Write(together);
        Assert.All(together.Nodes, n => Assert.Equal("trainer", NodeConfig.Load(n.LocalConfig, new Dictionary<string, string?>()).GetString("graphactors.sampler.role")));
    }

    [Fact]
    public void A_second_inference_node_on_one_host_moves_its_http_ports()
    {
        var ip = IpConfigFile("127.0.0.1\n127.0.0.1\n");
        var plan = DeployPlan.Build(new DeployOptions { IpConfigPath = ip, Layout = "inference:2", Store = _dir, Out = Path.Combine(_dir, "out"), Mode = DeployMode.Local }, "graphactors");
        DeployPlan.Write(plan);
        var first = NodeConfig.Load(plan.Nodes[0].LocalConfig, new Dictionary<string, string?>());
        var second = NodeConfig.Load(plan.Nodes[1].LocalConfig, new Dictionary<string, string?>());
        Assert.Equal(8080, first.GetInt("graphactors.inference.inference-port"));
        Assert.Equal([8090, 8091, 8092], new[] { "inference-port", "management-port", "metrics-port" }.Select(k => second.GetInt("graphactors.inference." + k)));
    }
}
