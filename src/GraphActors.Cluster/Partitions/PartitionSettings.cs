// Immutable settings of the partition shard region, read from graphactors.partitions (reference.conf holds the defaults).
using Akka.Actor;
using Akka.Configuration;

namespace GraphActors.Cluster.Partitions;

public sealed class PartitionSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Partitions.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Partitions/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    private PartitionSettings(string storePath, TimeSpan requestTimeout, TimeSpan minBackoff, TimeSpan maxBackoff,
        TimeSpan loadTimeout, int maxStashed, int rebalanceMax, string role, bool startOnUp, bool rehomeOnRemoval, TimeSpan startRetryInterval)
    {
        if (startRetryInterval <= TimeSpan.Zero) throw new ArgumentException($"start-retry-interval must be positive, got {startRetryInterval}.");
        if (minBackoff <= TimeSpan.Zero || maxBackoff < minBackoff)
            throw new ArgumentException($"load-retry backoff needs 0 < min ({minBackoff}) ≤ max ({maxBackoff}).");
        if (rebalanceMax < 1) throw new ArgumentOutOfRangeException(nameof(rebalanceMax), "rebalance-max-simultaneous must be at least 1.");
        StorePath = storePath; RequestTimeout = requestTimeout; LoadRetryMinBackoff = minBackoff; LoadRetryMaxBackoff = maxBackoff;
        LoadTimeout = loadTimeout; MaxStashedRequests = maxStashed; RebalanceMaxSimultaneous = rebalanceMax; Role = role;
        StartOnUp = startOnUp; RehomeOnRemoval = rehomeOnRemoval; StartRetryInterval = startRetryInterval;
    }

    public string StorePath { get; }
    public TimeSpan RequestTimeout { get; }
    public TimeSpan LoadRetryMinBackoff { get; }
    public TimeSpan LoadRetryMaxBackoff { get; }
    public TimeSpan LoadTimeout { get; }
    public int MaxStashedRequests { get; }
    public int RebalanceMaxSimultaneous { get; }
    public string Role { get; }
    public bool StartOnUp { get; }
    public bool RehomeOnRemoval { get; }
    public TimeSpan StartRetryInterval { get; }

    /// <summary>Reads <c>graphactors.partitions</c> from <paramref name="config"/>, the embedded defaults filling gaps.</summary>
    public static PartitionSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.partitions");
        return new PartitionSettings(
            c.GetString("store-path", ""),
            c.GetTimeSpan("request-timeout"),
            c.GetTimeSpan("load-retry-min-backoff"),
            c.GetTimeSpan("load-retry-max-backoff"),
            c.GetTimeSpan("load-timeout"),
            c.GetInt("max-stashed-requests"),
            c.GetInt("rebalance-max-simultaneous"),
            c.GetString("role", ClusterRoles.Partition),
            c.GetBoolean("start-on-up", true),
            c.GetBoolean("rehome-on-removal", true),
            c.GetTimeSpan("start-retry-interval"));
    }

    public static PartitionSettings Create(ActorSystem system) => Create(system.Settings.Config);

    /// <summary>The deadline (Unix ms) of a request sent now with the default <see cref="RequestTimeout"/>.</summary>
    public long DeadlineFromNow() => DateTimeOffset.UtcNow.Add(RequestTimeout).ToUnixTimeMilliseconds();

    public PartitionSettings WithStorePath(string path) => Copy(storePath: path);
    public PartitionSettings WithRequestTimeout(TimeSpan t) => Copy(requestTimeout: t);
    public PartitionSettings WithLoadRetryBackoff(TimeSpan min, TimeSpan max) => Copy(minBackoff: min, maxBackoff: max);
    public PartitionSettings WithLoadTimeout(TimeSpan t) => Copy(loadTimeout: t);
    public PartitionSettings WithMaxStashedRequests(int n) => Copy(maxStashed: n);
    public PartitionSettings WithRebalanceMaxSimultaneous(int n) => Copy(rebalanceMax: n);
    public PartitionSettings WithRole(string role) => Copy(role: role);
    public PartitionSettings WithStartOnUp(bool on) => Copy(startOnUp: on);
    public PartitionSettings WithRehomeOnRemoval(bool on) => Copy(rehomeOnRemoval: on);
    public PartitionSettings WithStartRetryInterval(TimeSpan t) => Copy(startRetryInterval: t);

    /// <summary>The sharding section for the partition type: the node's <c>akka.cluster.sharding</c> with passivation and remember-entities off.</summary>
    internal static Config ShardingConfig(ActorSystem system) =>
        system.Settings.Config.GetConfig("graphactors.partitions.sharding")
            .WithFallback(DefaultConfig.GetConfig("graphactors.partitions.sharding"))
            .WithFallback(system.Settings.Config.GetConfig("akka.cluster.sharding"));

    private PartitionSettings Copy(string? storePath = null, TimeSpan? requestTimeout = null, TimeSpan? minBackoff = null,
        TimeSpan? maxBackoff = null, TimeSpan? loadTimeout = null, int? maxStashed = null, int? rebalanceMax = null, string? role = null, bool? startOnUp = null,
        bool? rehomeOnRemoval = null, TimeSpan? startRetryInterval = null) =>
        new(storePath ?? StorePath, requestTimeout ?? RequestTimeout, minBackoff ?? LoadRetryMinBackoff, maxBackoff ?? LoadRetryMaxBackoff,
            loadTimeout ?? LoadTimeout, maxStashed ?? MaxStashedRequests, rebalanceMax ?? RebalanceMaxSimultaneous, role ?? Role, startOnUp ?? StartOnUp,
            rehomeOnRemoval ?? RehomeOnRemoval, startRetryInterval ?? StartRetryInterval);
}
