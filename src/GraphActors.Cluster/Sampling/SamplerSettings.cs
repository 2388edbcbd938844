// Immutable settings of the SamplerActor, read from graphactors.sampler (reference.conf holds the defaults).
using Akka.Actor;
using Akka.Configuration;

namespace GraphActors.Cluster.Sampling;

public sealed class SamplerSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Sampling.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Sampling/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    private SamplerSettings(int parallelism, int prefetch, TimeSpan subscriptionTimeout, string role)
    {
        if (parallelism < 1) throw new ArgumentOutOfRangeException(nameof(parallelism), parallelism, "graphactors.sampler.parallelism must be at least 1.");
        if (prefetch < 1) throw new ArgumentOutOfRangeException(nameof(prefetch), prefetch, "graphactors.sampler.prefetch must be at least 1.");
        if (subscriptionTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(subscriptionTimeout), subscriptionTimeout, "graphactors.sampler.subscription-timeout must be positive.");
        Parallelism = parallelism; Prefetch = prefetch; SubscriptionTimeout = subscriptionTimeout; Role = role;
    }

    public int Parallelism { get; }
    public int Prefetch { get; }
    public TimeSpan SubscriptionTimeout { get; }
    public string Role { get; }

    /// <summary>
    /// The most mini-batches started by the sampler and not yet acknowledged by the trainer's sink, whatever the
    /// consumer's speed: <paramref name="consumerRefBuffer"/> is the CONSUMER's
    /// <c>akka.stream.materializer.stream-ref.buffer-capacity</c>. See docs/CLUSTER.md for the derivation.
    /// </summary>
    public int InFlightBound(int consumerRefBuffer) => 2 * Parallelism + Prefetch + consumerRefBuffer + 2;

    public static SamplerSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.sampler");
        return new SamplerSettings(
            c.GetInt("parallelism"),
            c.GetInt("prefetch"),
            c.GetTimeSpan("subscription-timeout"),
            c.GetString("role", ClusterRoles.Trainer));
    }

    public static SamplerSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public SamplerSettings WithParallelism(int n) => new(n, Prefetch, SubscriptionTimeout, Role);
    public SamplerSettings WithPrefetch(int n) => new(Parallelism, n, SubscriptionTimeout, Role);
    public SamplerSettings WithSubscriptionTimeout(TimeSpan t) => new(Parallelism, Prefetch, t, Role);
    public SamplerSettings WithRole(string role) => new(Parallelism, Prefetch, SubscriptionTimeout, role);
}
