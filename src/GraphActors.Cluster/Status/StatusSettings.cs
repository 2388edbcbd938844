// graphactors.status: whether an inference node serves the status page and how often it samples the cluster.
using Akka.Actor;
using Akka.Configuration;

namespace GraphActors.Cluster.Status;

public sealed record StatusSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Status.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Status/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    public bool Enabled { get; init; } = true;
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(1);
    public int History { get; init; } = 600;
    public TimeSpan PartitionsInterval { get; init; } = TimeSpan.FromSeconds(2);
    public TimeSpan PartitionsTimeout { get; init; } = TimeSpan.FromSeconds(3);
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public static StatusSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.status");
        var s = new StatusSettings
        {
            Enabled = c.GetBoolean("enabled", true),
            SampleInterval = c.GetTimeSpan("sample-interval", TimeSpan.FromSeconds(1)),
            History = c.GetInt("history", 600),
            PartitionsInterval = c.GetTimeSpan("partitions-interval", TimeSpan.FromSeconds(2)),
            PartitionsTimeout = c.GetTimeSpan("partitions-timeout", TimeSpan.FromSeconds(3)),
            AskTimeout = c.GetTimeSpan("ask-timeout", TimeSpan.FromSeconds(5)),
        };
        Positive(s.SampleInterval, "sample-interval");
        Positive(s.PartitionsInterval, "partitions-interval");
        Positive(s.PartitionsTimeout, "partitions-timeout");
        Positive(s.AskTimeout, "ask-timeout");
        if (s.History < 4) throw new ConfigurationException($"graphactors.status.history = {s.History}: keep at least 4 points.");
        return s;
    }

    public static StatusSettings Create(ActorSystem system) => Create(system.Settings.Config);

    private static void Positive(TimeSpan t, string key)
    {
        if (t <= TimeSpan.Zero) throw new ConfigurationException($"graphactors.status.{key} = {t}: must be positive.");
    }
}
