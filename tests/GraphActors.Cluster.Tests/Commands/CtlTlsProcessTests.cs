// `graphactors ctl` against a node that runs Akka.Remote over TLS, and against a contact that never answers.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Commands;

/// <summary>
/// One node (no roles) with graphactors.remote.tls on, from a self-signed PKCS#12 certificate made here, and no ctl token
/// set: read-only commands answer, changing ones are refused by the node.
/// </summary>
public sealed class CtlTlsFixture : IAsyncLifetime
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    public const string Password = "ctl-tls-test";

    private CliProcess? _node;

    public int Port { get; } = TestNodes.FreePort();
    public string Dir { get; } = Directory.CreateTempSubdirectory("ga-ctl-tls-").FullName;
    public string Certificate => Path.Combine(Dir, "cluster.pfx");
    public string NodeConfig => Path.Combine(Dir, "node.hocon");
    public string Address => $"akka.ssl.tcp://{Names.ActorSystem}@127.0.0.1:{Port}";

    public async Task InitializeAsync()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=graphactors", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllBytes(Certificate, cert.Export(X509ContentType.Pfx, Password));
        // The node's own file: ctl's --node-config reads the same one.
        File.WriteAllText(NodeConfig, $$"""
            akka.loglevel = INFO
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = {{Port}}
            akka.cluster.seed-nodes = ["{{Address}}"]
            graphactors.remote.tls { enabled = on, certificate-path = "{{Certificate}}", certificate-password = "{{Password}}" }
            graphactors.node.shutdown-timeout = 20s
            """);
        _node = CliProcess.Start(["node", "--config", NodeConfig]);
        await _node.WaitForLine("is up: joined the cluster", Wait);
    }

    public string NodeOutput => $"=== node ===\n{_node?.Output}";

    public Task DisposeAsync()
    {
        _node?.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }
}

[Collection(MultiNodeCollection.Name)]
public class CtlTlsProcessTests(CtlTlsFixture node) : IClassFixture<CtlTlsFixture>
{
    private static readonly TimeSpan Wait = CtlTlsFixture.Wait;

    private sealed record Run(int ExitCode, string Stdout, string Stderr, TimeSpan Took)
    {
        public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;
        public override string ToString() => $"exit {ExitCode} after {Took}\n--- stdout ---\n{Stdout}--- stderr ---\n{Stderr}";
    }

    private static async Task<Run> Ctl(params string[] args)
    {
        var watch = Stopwatch.StartNew();
        using var p = CliProcess.Start(["ctl", .. args]);
        var exit = await p.WaitForExit(Wait);
        return new Run(exit, p.Stdout, p.Stderr, watch.Elapsed);
    }

    [Fact]
    public async Task Ctl_with_the_cluster_certificate_or_the_nodes_own_hocon_shows_the_cluster_over_TLS()
    {
        var contact = $"127.0.0.1:{node.Port}";
        var withCert = await Ctl("--contact", contact, "--tls-cert", node.Certificate, "--tls-cert-password", CtlTlsFixture.Password,
            "--json", "--timeout", "10s", "cluster", "show");
        Assert.True(withCert.ExitCode == 0, withCert + node.NodeOutput);
        Assert.Equal(node.Address, withCert.Json.GetProperty("self").GetString());
        Assert.Equal("Up", withCert.Json.GetProperty("members")[0].GetProperty("status").GetString());

        var withHocon = await Ctl("--contact", contact, "--node-config", node.NodeConfig, "--timeout", "10s", "cluster", "show");
        Assert.True(withHocon.ExitCode == 0, withHocon + node.NodeOutput);
        // The table shows HOST:PORT for TLS members too.
        Assert.Contains($"127.0.0.1:{node.Port}", withHocon.Stdout);
        Assert.DoesNotContain("akka.ssl.tcp://graphactors@127.0.0.1", withHocon.Stdout.Split('\n').First(l => l.Contains("Up")));
    }

    [Fact]
    public async Task Ctl_without_TLS_against_a_TLS_node_fails_with_exit_code_3_within_its_timeout_and_says_TLS_may_be_missing()
    {
        var run = await Ctl("--contact", $"127.0.0.1:{node.Port}", "--timeout", "2s", "cluster", "show");
        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Contains("no answer from the cluster within 2 s", run.Stderr);
        Assert.Contains("if the cluster uses TLS, give ctl its certificate (--tls-cert PFX or --node-config NODE.hocon)", run.Stderr);
        Assert.True(run.Took < TimeSpan.FromSeconds(12), run.ToString());
    }

    [Fact]
    public async Task A_TLS_contact_address_without_a_certificate_is_bad_usage()
    {
        var run = await Ctl("--contact", node.Address, "cluster", "show");
        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("is a TLS address (akka.ssl.tcp): give ctl the cluster's certificate", run.Stderr);
    }

    [Fact]
    public async Task A_node_without_a_ctl_token_refuses_changing_commands_with_exit_code_5_and_says_how_to_set_one()
    {
        var run = await Ctl("--contact", $"127.0.0.1:{node.Port}", "--node-config", node.NodeConfig, "--token", "anything", "--json",
            "--timeout", "10s", "cluster", "leave", $"127.0.0.1:{node.Port}");
        Assert.True(run.ExitCode == 5, run + node.NodeOutput);
        Assert.Contains("this node has no ctl token", run.Json.GetProperty("message").GetString());
        Assert.Contains("warning: no ctl token", node.NodeOutput);
        // Still a member, still answering.
        var show = await Ctl("--contact", $"127.0.0.1:{node.Port}", "--node-config", node.NodeConfig, "--json", "--timeout", "10s", "cluster", "show");
        Assert.True(show.ExitCode == 0, show.ToString());
    }
}

/// <summary>A contact that accepts TCP connections and never says a word: every wait of ctl must still end.</summary>
[Collection(MultiNodeCollection.Name)]
public class CtlTimeoutProcessTests
{
    [Fact]
    public async Task Ctl_against_a_contact_that_accepts_TCP_but_never_answers_ends_within_its_timeout_even_when_it_asks_twice()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var held = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true) held.Add(await silent.AcceptTcpClientAsync(stop.Token));
            }
            catch (OperationCanceledException)
            {
            }
        });

        // What starting and stopping the process costs on this machine now, so that only ctl's own waits are judged.
        var startup = Stopwatch.StartNew();
        using (var help = CliProcess.Start(["ctl", "--help"])) Assert.Equal(0, await help.WaitForExit(TimeSpan.FromSeconds(60)));
        var overhead = startup.Elapsed;

        var timeout = TimeSpan.FromSeconds(3);
        try
        {
            // `train stop` without --job asks for the current job first, then stops it: one --timeout for both.
            foreach (var command in new[] { new[] { "cluster", "show" }, new[] { "train", "stop" } })
            {
                var watch = Stopwatch.StartNew();
                using var p = CliProcess.Start(["ctl", "--contact", $"127.0.0.1:{port}", "--timeout", "3s", "--token", "t", .. command]);
                var exit = await p.WaitForExit(TimeSpan.FromSeconds(60));
                var took = watch.Elapsed;
                Assert.True(exit == 3, $"{string.Join(' ', command)}: exit {exit}\n{p.Output}");
                Assert.Contains($"contact points tried: akka.tcp://graphactors@127.0.0.1:{port}", p.Stderr);
                Assert.True(took <= timeout + TimeSpan.FromSeconds(2) + overhead,
                    $"{string.Join(' ', command)} took {took.TotalSeconds:0.0} s for a {timeout.TotalSeconds} s timeout (process overhead {overhead.TotalSeconds:0.0} s)\n{p.Output}");
                if (command[0] == "train") Assert.Contains("the training coordinator may be moving to another node", p.Stderr);
            }
            Assert.NotEmpty(held);
        }
        finally
        {
            stop.Cancel();
            await accepting;
            foreach (var c in held) c.Dispose();
        }
    }
}
