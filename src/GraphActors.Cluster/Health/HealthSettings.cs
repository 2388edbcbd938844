// graphactors.health: whether and where a node serves its liveness and readiness endpoint.
using Akka.Configuration;

namespace GraphActors.Cluster.Health;

public sealed record HealthSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Health.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Health/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    public bool Enabled { get; init; } = true;
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; }

    public static HealthSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.health");
        var host = c.GetString("host", "");
        if (string.IsNullOrWhiteSpace(host)) host = config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
        if (string.IsNullOrWhiteSpace(host)) host = "127.0.0.1";
        // Read as text so that a wrong value is refused naming its key (Akka's own parse errors do not).
        var enabledText = c.GetString("enabled", "on").Trim();
        bool enabled = enabledText.ToLowerInvariant() switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw new ConfigurationException($"graphactors.health.enabled = {enabledText}: expected on or off."),
        };
        var portText = c.GetString("port", "0").Trim();
        if (!int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
            throw new ConfigurationException($"graphactors.health.port = {portText}: a TCP port is 0 (any free one) to 65535.");
        return new HealthSettings { Enabled = enabled, Host = host, Port = port };
    }
}
