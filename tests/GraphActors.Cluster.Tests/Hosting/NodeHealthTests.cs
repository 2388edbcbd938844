// Every node's GET /alive and GET /ready over real HTTP: ready once Up in the cluster, alive while its system runs.
using System.Net;
using Akka.Configuration;
using GraphActors.Cluster.Health;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Hosting;

public sealed class NodeHealthTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // GET path until the answer is `want` (the endpoint starts beside the node, and readiness follows the join), or the deadline.
    private static async Task<(HttpStatusCode Status, string Body)> AwaitStatus(HttpClient http, string url, HttpStatusCode want)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync(url);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode == want) return (response.StatusCode, body);
                last = $"{(int)response.StatusCode}: {body}";
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"GET {url} did not answer {(int)want} within {Timeout} (last: {last})");
    }

    [Fact]
    public async Task A_node_started_from_HOCON_answers_ready_once_it_is_Up_and_alive_while_it_runs()
    {
        var (port, healthPort) = (TestNodes.FreePort(), TestNodes.FreePort());
        var config = TestNodes.Node(port, [], "\"coordinator\"", null, $"graphactors.health {{ enabled = on, host = \"127.0.0.1\", port = {healthPort} }}");
        var output = new StringWriter();
        var system = NodeHost.Start(config, TextWriter.Synchronized(output));
        try
        {
            using var http = new HttpClient { Timeout = Timeout };
            var (_, ready) = await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/ready", HttpStatusCode.OK);
            Assert.Equal(Akka.Cluster.MemberStatus.Up, Akka.Cluster.Cluster.Get(system).SelfMember.Status);
            Assert.Contains("cluster-member-up: Healthy", ready);
            var (_, alive) = await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/alive", HttpStatusCode.OK);
            Assert.Contains("actor-system: Healthy", alive);
            Assert.Contains($"health: http://127.0.0.1:{healthPort}/ready (readiness: Up in the cluster, its role parts serving), http://127.0.0.1:{healthPort}/alive (liveness)", output.ToString());
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task A_node_whose_role_part_is_not_serving_yet_is_not_ready_and_the_answer_names_the_part()
    {
        var (port, healthPort) = (TestNodes.FreePort(), TestNodes.FreePort());
        var config = TestNodes.Node(port, [], "\"coordinator\"", null, $"graphactors.health {{ host = \"127.0.0.1\", port = {healthPort} }}");
        var system = NodeHost.Start(config, TextWriter.Null);
        try
        {
            using var http = new HttpClient { Timeout = Timeout };
            await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/ready", HttpStatusCode.OK);
            NodeReadiness.Get(system).Pending("inference", "the HTTP API is starting");
            var (_, body) = await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/ready", HttpStatusCode.ServiceUnavailable);
            Assert.Contains("inference not ready: the HTTP API is starting", body);
            // Liveness does not depend on it: the process is fine, it is just not serving yet.
            await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/alive", HttpStatusCode.OK);
            NodeReadiness.Get(system).Ready("inference", "predictions on http://127.0.0.1:1/");
            var (_, ready) = await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/ready", HttpStatusCode.OK);
            Assert.Contains("inference ready", ready);
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task A_node_still_waiting_for_its_seed_is_alive_but_not_ready()
    {
        var (port, absentSeed, healthPort) = (TestNodes.FreePort(), TestNodes.FreePort(), TestNodes.FreePort());
        var config = TestNodes.Node(port, [absentSeed], "\"coordinator\"", null, $"graphactors.health {{ host = \"127.0.0.1\", port = {healthPort} }}");
        var system = NodeHost.Start(config, TextWriter.Null);
        try
        {
            using var http = new HttpClient { Timeout = Timeout };
            await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/alive", HttpStatusCode.OK);
            var (_, body) = await AwaitStatus(http, $"http://127.0.0.1:{healthPort}/ready", HttpStatusCode.ServiceUnavailable);
            Assert.Contains("not Up", body);
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    [Fact]
    public async Task A_node_with_the_health_endpoint_disabled_opens_no_health_port()
    {
        var (port, healthPort, metricsPort) = (TestNodes.FreePort(), TestNodes.FreePort(), TestNodes.FreePort());
        var config = TestNodes.Node(port, [], "\"coordinator\"", null,
            $"graphactors.health {{ enabled = off, host = \"127.0.0.1\", port = {healthPort} }}\ngraphactors.metrics {{ host = \"127.0.0.1\", port = {metricsPort} }}");
        var output = new StringWriter();
        var system = NodeHost.Start(config, TextWriter.Synchronized(output));
        try
        {
            await TestNodes.AwaitUp(system, 1, Timeout);
            using var http = new HttpClient { Timeout = Timeout };
            // The metrics endpoint starts the same way the health one would: once it answers, a health endpoint would have too.
            await AwaitStatus(http, $"http://127.0.0.1:{metricsPort}/metrics", HttpStatusCode.OK);
            await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{healthPort}/ready"));
            Assert.DoesNotContain("health:", output.ToString());
        }
        finally
        {
            await system.Terminate().WaitAsync(Timeout);
        }
    }

    [Theory]
    [InlineData("port = 70000", "graphactors.health.port = 70000")]
    [InlineData("port = -1", "graphactors.health.port = -1")]
    [InlineData("port = eighty", "graphactors.health.port = eighty")]
    [InlineData("enabled = maybe", "graphactors.health.enabled = maybe")]
    public void A_bad_health_setting_is_refused_naming_its_key(string setting, string named)
    {
        var e = Assert.Throws<ConfigurationException>(() => HealthSettings.Create(ConfigurationFactory.ParseString($"graphactors.health {{ {setting} }}")));
        Assert.Contains(named, e.Message);
    }

    [Fact]
    public void The_health_host_defaults_to_the_remoting_hostname_and_the_port_to_any_free_one()
    {
        var s = HealthSettings.Create(ConfigurationFactory.ParseString("akka.remote.dot-netty.tcp.hostname = \"10.1.0.5\""));
        Assert.Equal(new HealthSettings { Enabled = true, Host = "10.1.0.5", Port = 0 }, s);
        Assert.Equal("127.0.0.1", HealthSettings.Create(ConfigurationFactory.Empty).Host);
    }
}
