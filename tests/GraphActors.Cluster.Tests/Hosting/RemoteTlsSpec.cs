using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Hosting;

/// <summary>Akka.Remote over TLS from graphactors.remote.tls, with self-signed certificates made here; and the default bind address.</summary>
[Collection(MultiNodeCollection.Name)]
public sealed class RemoteTlsSpec : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-tls-" + Guid.NewGuid().ToString("N"));
    private readonly List<ActorSystem> _systems = [];

    public RemoteTlsSpec() => Directory.CreateDirectory(_dir);

    private string SelfSigned(string name, string password)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // server + client auth
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        var path = Path.Combine(_dir, name + ".pfx");
        File.WriteAllBytes(path, cert.Export(X509ContentType.Pfx, password));
        return path;
    }

    private ActorSystem Start(int port, int seedPort, string? pfx, string password = "")
    {
        var tls = pfx is null ? "" : $$"""
            graphactors.remote.tls { enabled = on, certificate-path = {{NodeConfig.Quote(pfx)}}, certificate-password = {{NodeConfig.Quote(password)}} }
            akka.cluster.seed-nodes = ["akka.ssl.tcp://{{Names.ActorSystem}}@127.0.0.1:{{seedPort}}"]
            akka.cluster.seed-node-timeout = 2s
            akka.cluster.retry-unsuccessful-join-after = 1s
            """;
        var system = RemoteTls.CreateSystem(Names.ActorSystem, TestNodes.Node(port, [seedPort], "trainer", null, tls));
        _systems.Add(system);
        return system;
    }

    [Fact]
    public async Task Two_nodes_with_the_cluster_certificate_form_a_cluster_and_a_node_with_another_certificate_is_refused()
    {
        var good = SelfSigned("graphactors-cluster", "s3cret");
        var other = SelfSigned("intruder", "other");
        var seed = TestNodes.FreePort();
        var a = Start(seed, seed, good, "s3cret");
        var b = Start(TestNodes.FreePort(), seed, good, "s3cret");
        await Task.WhenAll(TestNodes.AwaitUp(a, 2, TimeSpan.FromSeconds(15)), TestNodes.AwaitUp(b, 2, TimeSpan.FromSeconds(15)));
        Assert.Equal("akka.ssl.tcp", Akka.Cluster.Cluster.Get(a).SelfAddress.Protocol);

        var intruder = Start(TestNodes.FreePort(), seed, other, "other");
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.DoesNotContain(Akka.Cluster.Cluster.Get(intruder).State.Members, m => m.Status == Akka.Cluster.MemberStatus.Up);
        Assert.Equal(2, Akka.Cluster.Cluster.Get(a).State.Members.Count);
        Assert.DoesNotContain(Akka.Cluster.Cluster.Get(a).State.Members, m => m.Address == Akka.Cluster.Cluster.Get(intruder).SelfAddress);
    }

    [Fact]
    public void A_node_binds_to_the_configured_loopback_host_by_default_never_to_every_interface()
    {
        var port = TestNodes.FreePort();
        var system = Start(port, port, pfx: null);
        var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
        Assert.Equal("127.0.0.1", address.Host);
        var listeners = IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpListeners().Where(e => e.Port == port).ToArray();
        Assert.NotEmpty(listeners);
        // DotNetty may listen on a dual-stack socket: ::ffff:127.0.0.1 is still loopback only; 0.0.0.0 or :: would not be.
        Assert.All(listeners, e => Assert.Equal(IPAddress.Loopback, e.Address.IsIPv4MappedToIPv6 ? e.Address.MapToIPv4() : e.Address));
    }

    [Fact]
    public void Tls_is_off_unless_configured()
    {
        Assert.False(RemoteTls.Enabled(NodeConfig.Defaults));
        Assert.False(NodeConfig.Defaults.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl"));
    }

    public void Dispose()
    {
        Task.WaitAll(_systems.Select(s => s.Terminate()).ToArray(), TimeSpan.FromSeconds(10));
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
