// Starts an ActorSystem with TLS on Akka.Remote when graphactors.remote.tls is enabled: mutual, pinned to one certificate.
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;

namespace GraphActors.Cluster.Hosting;

/// <summary>
/// TLS between nodes from HOCON (<c>graphactors.remote.tls</c>): every node of a cluster is given the same PFX
/// (certificate + private key). Connections are mutually authenticated (both ends present the certificate) and a peer
/// is accepted only if its certificate has the configured certificate's thumbprint, so a node holding any other
/// certificate, self-signed or CA-issued, is refused in both directions. Chain validation against the OS trust store
/// is replaced by that pin, so a self-signed cluster certificate needs no installation.
/// </summary>
public static class RemoteTls
{
    public static bool Enabled(Config config) => config.GetBoolean("graphactors.remote.tls.enabled", false);

    /// <summary>
    /// The ActorSystem named <paramref name="name"/>, with TLS set up when <c>graphactors.remote.tls.enabled</c>, and the
    /// <paramref name="extra"/> setups (a log filter). <paramref name="suppressValidation"/> (ctl's --tls-suppress-validation
    /// only) accepts any certificate from the other end instead of pinning it; this end still presents its own.
    /// </summary>
    public static ActorSystem CreateSystem(string name, Config config, IReadOnlyList<Setup>? extra = null, bool suppressValidation = false)
    {
        ActorSystemSetup Setup(Config c, params Setup[] more) =>
            ActorSystemSetup.Create([BootstrapSetup.Create().WithConfig(c), .. extra ?? [], .. more]);
        if (!Enabled(config)) return ActorSystem.Create(name, Setup(config));
        var path = config.GetString("graphactors.remote.tls.certificate-path", "");
        var password = config.GetString("graphactors.remote.tls.certificate-password", "");
        if (string.IsNullOrWhiteSpace(path))
            throw new InvalidOperationException("graphactors.remote.tls.enabled = on but graphactors.remote.tls.certificate-path is empty.");
        if (!File.Exists(path))
            throw new FileNotFoundException($"graphactors.remote.tls.certificate-path '{Path.GetFullPath(path)}' does not exist.", path);
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.Exportable);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new InvalidOperationException($"Cannot read the TLS certificate '{path}' (wrong graphactors.remote.tls.certificate-password?): {e.Message}", e);
        }
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException($"The TLS certificate '{path}' has no private key: give a PFX with its key.");

        var tls = ConfigurationFactory.ParseString($$"""
            akka.remote.dot-netty.tcp {
              enable-ssl = on
              ssl {
                suppress-validation = {{(suppressValidation ? "on" : "off")}}
                require-mutual-authentication = on
                certificate { path = {{NodeConfig.Quote(path)}}, password = {{NodeConfig.Quote(password)}} }
              }
            }
            """);
        var ssl = suppressValidation
            ? new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: true, validateCertificateHostname: false)
            : new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true,
                validateCertificateHostname: false, customValidator: CertificateValidation.PinnedCertificate(certificate.Thumbprint));
        return ActorSystem.Create(name, Setup(tls.WithFallback(config), ssl));
    }
}
