// The files under deploy/ that no process test starts (systemd, Kubernetes, Docker): what can be checked without them.
using System.Text.RegularExpressions;
using Akka.Configuration;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Trainers;

namespace GraphActors.Cluster.Tests.Hosting;

public sealed class DeployFilesTests
{
    private static readonly string Deploy = Path.Combine(RepoFiles.Root, "deploy");

    [Fact]
    public void The_k8s_ConfigMap_holds_a_node_HOCON_that_the_node_loader_reads_with_the_pod_s_overrides()
    {
        var yaml = File.ReadAllText(Path.Combine(Deploy, "k8s", "configmap.yaml"));
        var block = Regex.Match(yaml, @"node\.hocon: \|\n((?:    .*\n|\s*\n)+)");
        Assert.True(block.Success, "configmap.yaml has no node.hocon block");
        var hocon = string.Join('\n', block.Groups[1].Value.Split('\n').Select(l => l.Length >= 4 ? l[4..] : l));
        var file = Path.Combine(Path.GetTempPath(), $"ga-k8s-{Guid.NewGuid():N}.hocon");
        File.WriteAllText(file, hocon);
        try
        {
            var config = NodeConfig.Load(file, new Dictionary<string, string?>
            {
                ["GA_HOST"] = "graphactors-1.graphactors",
                ["GA_ROLES"] = "partition,trainer",
                ["GA_JOURNAL"] = "postgresql:Host=graphactors-postgres;Port=5432;Database=graphactors;Username=graphactors;Password=x",
            });
            Assert.Equal("graphactors-1.graphactors", config.GetString("akka.remote.dot-netty.tcp.hostname"));
            Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));
            Assert.Equal(["akka.tcp://graphactors@graphactors-0.graphactors:4053"], config.GetStringList("akka.cluster.seed-nodes"));
            Assert.Equal(["partition", "trainer"], config.GetStringList("akka.cluster.roles"));
            Assert.Equal("/data/store", config.GetString("graphactors.partitions.store-path"));
            Assert.Equal("0.0.0.0", config.GetString("graphactors.inference.host"));
            Assert.Equal("0.0.0.0", config.GetString("graphactors.health.host"));
            Assert.Equal(K8sHealthPort, config.GetInt("graphactors.health.port"));
            Assert.Equal(GraphActors.Cluster.Coordination.CoordinatorPersistence.PostgreSqlProvider,
                GraphActors.Cluster.Coordination.CoordinatorPersistence.Resolve(config).Provider);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_k8s_seed_name_matches_the_headless_service_and_the_StatefulSet()
    {
        var service = File.ReadAllText(Path.Combine(Deploy, "k8s", "headless-service.yaml"));
        var set = File.ReadAllText(Path.Combine(Deploy, "k8s", "statefulset.yaml"));
        Assert.Contains("clusterIP: None", service);
        Assert.Matches(@"(?m)^  name: graphactors$", service);
        Assert.Matches(@"(?m)^  name: graphactors$", set);
        Assert.Contains("serviceName: graphactors", set);
        Assert.Contains("value: \"$(POD_NAME).graphactors\"", set);
        foreach (var f in Directory.GetFiles(Path.Combine(Deploy, "k8s"), "*.yaml"))
            Assert.DoesNotMatch(@"(?m)^\s+namespace:", File.ReadAllText(f));
    }

    /// <summary>graphactors.health.port in configmap.yaml, the container port named health in both StatefulSets.</summary>
    private const int K8sHealthPort = 8558;

    [Theory]
    [InlineData("statefulset.yaml")]
    [InlineData("inference.yaml")]
    public void The_k8s_pods_probe_GET_ready_and_alive_on_the_health_port_the_ConfigMap_gives_the_node(string file)
    {
        var yaml = File.ReadAllText(Path.Combine(Deploy, "k8s", file));
        Assert.Matches($@"- name: health\n\s+containerPort: {K8sHealthPort}\n", yaml);
        Assert.DoesNotContain("tcpSocket", yaml);
        Assert.Matches(@"readinessProbe:\n\s+httpGet:\n\s+path: /ready\n\s+port: health\n", yaml);
        Assert.Matches(@"livenessProbe:\n\s+httpGet:\n\s+path: /alive\n\s+port: health\n", yaml);
        Assert.Equal("/ready", GraphActors.Cluster.Health.HealthServer.ReadinessPath);
        Assert.Equal("/alive", GraphActors.Cluster.Health.HealthServer.LivenessPath);
    }

    [Fact]
    public void Deploy_files_use_only_the_environment_variables_NodeConfig_reads()
    {
        var known = NodeConfig.Overrides.Select(o => o.Variable).Concat(["GA_DLL", "GA_BUILD", "GA_DATA", "GA_UP_TIMEOUT", "GA_TRAIN_TIMEOUT",
            "GA_ROOT", "GA_PIDS", "GA_MANAGEMENT_TOKEN", "GA_INFERENCE_TOKEN", "GA_TLS_PASSWORD"]).ToHashSet();
        foreach (var f in Directory.EnumerateFiles(Deploy, "*", SearchOption.AllDirectories))
        foreach (Match m in Regex.Matches(File.ReadAllText(f), @"\bGA_[A-Z_]+\b"))
            Assert.True(known.Contains(m.Value), $"{Path.GetRelativePath(Deploy, f)} uses {m.Value}, which nothing reads");
    }

    [Fact]
    public void The_systemd_unit_stops_with_SIGTERM_restarts_on_failure_and_reads_overrides_from_an_environment_file()
    {
        var unit = File.ReadAllText(Path.Combine(Deploy, "systemd", "graphactors-node@.service"));
        Assert.Contains("KillSignal=SIGTERM", unit);
        Assert.Contains("Restart=on-failure", unit);
        Assert.Contains("EnvironmentFile=-/etc/graphactors/%i.env", unit);
        Assert.Contains("ExecStart=/usr/local/bin/graphactors node --config /etc/graphactors/%i.hocon", unit);
        // Longer than the node's own shutdown bound, so CoordinatedShutdown finishes before systemd's SIGKILL.
        var stopSec = int.Parse(Regex.Match(unit, @"TimeoutStopSec=(\d+)").Groups[1].Value);
        Assert.True(stopSec > NodeConfig.Defaults.GetTimeSpan("graphactors.node.shutdown-timeout").TotalSeconds);
    }

    [Fact]
    public void The_example_ip_config_parses()
    {
        var entries = IpConfig.Load(Path.Combine(Deploy, "ip_config.example.txt"));
        Assert.Equal(4, entries.Count);
        Assert.Equal(4053, entries[0].Port);
    }
}
