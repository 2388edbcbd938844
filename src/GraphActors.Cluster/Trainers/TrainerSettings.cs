// Immutable settings of the TrainerActor, read from graphactors.trainer (reference.conf holds the defaults).
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Contracts.Protocols;

namespace GraphActors.Cluster.Trainers;

public sealed record TrainerSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Trainers.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Trainers/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    public const string DispatcherPath = "graphactors.trainer.dispatcher";

    public string Role { get; init; } = ClusterRoles.Trainer;
    public TimeSpan RegisterInterval { get; init; } = TimeSpan.FromSeconds(3);
    public TimeSpan SampleTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public NeighborStrategy Strategy { get; init; } = NeighborStrategy.RandomWithoutReplacement;

    public static TrainerSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.trainer");
        var settings = new TrainerSettings
        {
            Role = c.GetString("role", ClusterRoles.Trainer),
            RegisterInterval = c.GetTimeSpan("register-interval"),
            SampleTimeout = c.GetTimeSpan("sample-timeout"),
            Strategy = ParseStrategy(c.GetString("strategy")),
        };
        if (settings.RegisterInterval <= TimeSpan.Zero)
            throw new ConfigurationException($"graphactors.trainer.register-interval = {settings.RegisterInterval} must be positive.");
        if (settings.SampleTimeout <= TimeSpan.Zero)
            throw new ConfigurationException($"graphactors.trainer.sample-timeout = {settings.SampleTimeout} must be positive.");
        return settings;
    }

    public static TrainerSettings Create(ActorSystem system) => Create(system.Settings.Config);

    public static NeighborStrategy ParseStrategy(string name) => name switch
    {
        "random" => NeighborStrategy.Random,
        "random_without_replacement" => NeighborStrategy.RandomWithoutReplacement,
        "edge_weight" => NeighborStrategy.EdgeWeight,
        "topk" => NeighborStrategy.TopK,
        "full" => NeighborStrategy.Full,
        _ => throw new ConfigurationException(
            $"graphactors.trainer.strategy = '{name}' is not one of random_without_replacement, random, edge_weight, topk, full."),
    };
}
