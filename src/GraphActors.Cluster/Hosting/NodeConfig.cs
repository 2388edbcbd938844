// Builds a node's configuration: GA_* environment overrides over the --config file over the built-in base.hocon.
using System.Globalization;
using Akka.Configuration;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Partitions;
using GraphActors.Contracts.Serialization;

namespace GraphActors.Cluster.Hosting;

public static class NodeConfig
{
    /// <summary>The environment variables a node reads, with the HOCON path each one sets.</summary>
    public static readonly IReadOnlyList<(string Variable, string Path)> Overrides =
    [
        ("GA_HOST", "akka.remote.dot-netty.tcp.hostname"),
        ("GA_PORT", "akka.remote.dot-netty.tcp.port"),
        ("GA_SEEDS", "akka.cluster.seed-nodes"),
        ("GA_ROLES", "akka.cluster.roles"),
        ("GA_STORE", "graphactors.partitions.store-path"),
        ("GA_JOURNAL", "graphactors.persistence.journal-connection-string"),
        ("GA_CTL_TOKEN", "graphactors.ctl.token"),
    ];

    private static readonly Lazy<Config> Base = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Hosting.base.hocon"));

    /// <summary>The built-in <c>hocon/base.hocon</c>, with the module defaults (partitions, serializer) under it.</summary>
    public static Config Defaults => Base.Value.WithFallback(PartitionSettings.DefaultConfig).WithFallback(Sampling.SamplerSettings.DefaultConfig)
        .WithFallback(Wire.WireSettings.DefaultConfig).WithFallback(CoordinatorSettings.DefaultConfig).WithFallback(Inference.InferenceSettings.DefaultConfig).WithFallback(Trainers.TrainerSettings.DefaultConfig)
        .WithFallback(Commands.CtlSettings.DefaultConfig).WithFallback(GraphActorsSerialization.Config);

    /// <summary><paramref name="config"/> with the coordinator's journal and snapshot store (Akka.Persistence.Sql) configured from graphactors.persistence.</summary>
    public static Config WithPersistence(Config config) => CoordinatorPersistence.AkkaConfig(config).WithFallback(config);

    /// <summary>Where the node keeps its files: graphactors.node.data-dir, made absolute; empty = ./graphactors-data.</summary>
    public static string DataDir(Config config)
    {
        var dataDir = config.GetString("graphactors.node.data-dir", "");
        return Path.GetFullPath(string.IsNullOrWhiteSpace(dataDir) ? Path.Combine(Environment.CurrentDirectory, "graphactors-data") : dataDir);
    }

    /// <summary>
    /// The full node configuration. <paramref name="environment"/> is usually <see cref="Environment.GetEnvironmentVariables()"/>;
    /// <paramref name="storePath"/> (the <c>--store</c> option) sits between the file and the environment.
    /// </summary>
    public static Config Load(string? configFile, IReadOnlyDictionary<string, string?> environment, string? storePath = null)
    {
        var config = Defaults;
        if (configFile is not null)
        {
            if (!File.Exists(configFile))
                throw new FileNotFoundException($"Node configuration '{Path.GetFullPath(configFile)}' does not exist.", configFile);
            config = ConfigurationFactory.ParseString(File.ReadAllText(configFile)).WithFallback(config);
        }
        if (!string.IsNullOrWhiteSpace(storePath))
            config = ConfigurationFactory.ParseString($"graphactors.partitions.store-path = {Quote(Path.GetFullPath(storePath))}").WithFallback(config);
        var overrides = FromEnvironment(environment);
        return WithPersistence(overrides.Length == 0 ? config : ConfigurationFactory.ParseString(overrides).WithFallback(config));
    }

    /// <summary>The HOCON the GA_* variables stand for (empty when none is set).</summary>
    public static string FromEnvironment(IReadOnlyDictionary<string, string?> env)
    {
        var lines = new List<string>();
        string? Get(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        if (Get("GA_HOST") is { } host)
        {
            lines.Add($"akka.remote.dot-netty.tcp.hostname = {Quote(host)}");
        }
        if (Get("GA_PORT") is { } port)
        {
            if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p > 65535)
                throw new ArgumentException($"GA_PORT='{port}' is not a port number (0..65535).");
            lines.Add($"akka.remote.dot-netty.tcp.port = {p}");
        }
        if (Get("GA_SEEDS") is { } seeds) lines.Add($"akka.cluster.seed-nodes = {List(seeds)}");
        if (Get("GA_ROLES") is { } roles) lines.Add($"akka.cluster.roles = {List(roles)}");
        if (Get("GA_STORE") is { } store) lines.Add($"graphactors.partitions.store-path = {Quote(Path.GetFullPath(store))}");
        if (Get("GA_JOURNAL") is { } journal) lines.Add($"graphactors.persistence.journal-connection-string = {Quote(journal)}");
        if (Get("GA_CTL_TOKEN") is { } token) lines.Add($"graphactors.ctl.token = {Quote(token)}");
        return string.Join('\n', lines);
    }

    public static IReadOnlyDictionary<string, string?> ProcessEnvironment()
    {
        var d = new Dictionary<string, string?>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            d[(string)e.Key] = e.Value as string;
        return d;
    }

    private static string List(string commaSeparated) =>
        "[" + string.Join(", ", commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Quote)) + "]";

    /// <summary>A HOCON string literal of <paramref name="s"/> (paths and addresses in generated configs).</summary>
    public static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
