// graphactors.metrics: whether and where a node serves its Prometheus endpoint.
using Akka.Configuration;

namespace GraphActors.Cluster.Metrics;

public sealed record MetricsSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Metrics.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Metrics/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    public bool Enabled { get; init; } = true;
    public string Host { get; init; } = "";
    public int Port { get; init; }

    public static MetricsSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.metrics");
        var host = c.GetString("host", "");
        if (string.IsNullOrWhiteSpace(host)) host = config.GetString("akka.remote.dot-netty.tcp.hostname", "127.0.0.1");
        if (string.IsNullOrWhiteSpace(host)) host = "127.0.0.1";
        var s = new MetricsSettings { Enabled = c.GetBoolean("enabled", true), Host = host, Port = c.GetInt("port", 0) };
        if (s.Port is < 0 or > 65535) throw new ConfigurationException($"graphactors.metrics.port = {s.Port}: a TCP port is 0 (any free one) to 65535.");
        return s;
    }
}
