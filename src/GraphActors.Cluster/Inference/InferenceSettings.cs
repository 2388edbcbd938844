// graphactors.inference: which store the inference role serves from, which models it loads, where it listens.
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Partitions;
using GraphActors.Serving;

namespace GraphActors.Cluster.Inference;

public sealed record InferenceModel(string Name, string Url);

public sealed record InferenceSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Inference.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Inference/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    public const string DispatcherPath = "graphactors.inference.dispatcher";

    public string Role { get; init; } = ClusterRoles.Inference;
    /// <summary>True: a PartitionedGraphStore over the local store files; false: a RemoteGraphStore over the partition region.</summary>
    public bool LocalStore { get; init; }
    public required string StorePath { get; init; }
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>How long the HTTP host waits for the inference actor's answer to a prediction (then 504).</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long POST /models waits for the actor to load a checkpoint.</summary>
    public TimeSpan ModelLoadTimeout { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>The Redis feature cache, or null (features from the graph store only).</summary>
    public RedisOptions? Redis { get; init; }
    public IReadOnlyList<InferenceModel> Models { get; init; } = [];
    /// <summary>
    /// The folder checkpoints are loaded from (TorchServe's model store): the configured models and every
    /// <c>POST /models?url=</c>. Null: a backend opened by <see cref="InferenceBackend.OpenAsync"/> refuses to start.
    /// </summary>
    public string? ModelStore { get; init; }
    /// <summary>
    /// The host's options. <see cref="ServingOptions.ManagementToken"/> is the configured token, or null: then the token
    /// is read from (or first generated into) <see cref="ManagementTokenFile"/> when the actor starts.
    /// </summary>
    public ServingOptions Serving { get; init; } = new();
    /// <summary>Where a node without a configured management token keeps the one it generated (<c>management-token-file</c>).</summary>
    public string? ManagementTokenFile { get; init; }
    public InferenceOptions Engine { get; init; } = new();

    public static InferenceSettings Create(Config config)
    {
        var all = config.WithFallback(DefaultConfig);
        var c = all.GetConfig("graphactors.inference");
        var store = c.GetString("store-path", "");
        if (string.IsNullOrWhiteSpace(store)) store = PartitionSettings.Create(all).StorePath;
        var kind = c.GetString("graph-store", "remote");
        if (kind is not ("remote" or "local"))
            throw new ConfigurationException($"graphactors.inference.graph-store = '{kind}' is not one of remote, local.");
        var models = new List<InferenceModel>();
        foreach (var m in c.GetValue("models")?.GetArray() ?? [])
        {
            var o = m.GetObject();
            var name = o.GetKey("name")?.GetString();
            var url = o.GetKey("url")?.GetString();
            if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(url))
                throw new ConfigurationException("graphactors.inference.models entries need a name and a url.");
            if (ModelNames.Problem(name, "name") is { } problem)
                throw new ConfigurationException($"graphactors.inference.models[{models.Count}]: {problem}");
            models.Add(new InferenceModel(name, url));
        }
        var dataDir = NodeConfig.DataDir(all);
        string PathOr(string key, string fallback)
        {
            var v = c.GetString(key, "");
            return string.IsNullOrWhiteSpace(v) ? fallback : Path.GetFullPath(v);
        }
        var managementToken = c.GetString("management-token", "");
        static string? Token(string s) => string.IsNullOrEmpty(s) ? null : s;
        int Positive(string key, int fallback)
        {
            var v = c.GetInt(key, fallback);
            return v > 0 ? v : throw new ConfigurationException($"graphactors.inference.{key} = {v}: it must be positive.");
        }
        TimeSpan Duration(string key, TimeSpan fallback)
        {
            var v = c.GetTimeSpan(key, fallback);
            return v > TimeSpan.Zero ? v : throw new ConfigurationException($"graphactors.inference.{key} = {v}: it must be a positive duration.");
        }
        RedisOptions? redis = null;
        var endpoint = c.GetString("redis.endpoint", "");
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            var graph = c.GetString("redis.graph", "");
            if (string.IsNullOrWhiteSpace(graph))
                throw new ConfigurationException("graphactors.inference.redis.graph is empty: set it to the graph name `graphactors feature-sync` wrote (its --graph, default the CGDF graph_name).");
            redis = new RedisOptions
            {
                Endpoint = endpoint,
                Password = Token(c.GetString("redis.password", "")),
                Graph = graph,
                Prefix = c.GetString("redis.prefix", "ga"),
                ConnectTimeoutMs = (int)Duration("redis.connect-timeout", TimeSpan.FromSeconds(1)).TotalMilliseconds,
                CommandTimeoutMs = (int)Duration("redis.command-timeout", TimeSpan.FromMilliseconds(250)).TotalMilliseconds,
                RetryAfterMs = (int)Duration("redis.retry-after", TimeSpan.FromMilliseconds(500)).TotalMilliseconds,
            };
        }
        return new InferenceSettings
        {
            Role = c.GetString("role", ClusterRoles.Inference),
            LocalStore = kind == "local",
            StorePath = store,
            RequestTimeout = c.GetTimeSpan("request-timeout", TimeSpan.FromSeconds(10)),
            AskTimeout = Duration("ask-timeout", TimeSpan.FromSeconds(30)),
            ModelLoadTimeout = Duration("model-load-timeout", TimeSpan.FromMinutes(2)),
            Redis = redis,
            Models = models,
            ModelStore = PathOr("model-store", Path.Combine(dataDir, "models")),
            ManagementTokenFile = PathOr("management-token-file", Path.Combine(dataDir, ManagementAuth.FileName)),
            Serving = new ServingOptions
            {
                Host = c.GetString("host", "127.0.0.1"),
                InferencePort = c.GetInt("inference-port", 8080),
                ManagementPort = c.GetInt("management-port", 8081),
                MetricsPort = c.GetInt("metrics-port", 8082),
                ManagementToken = ManagementAuth.IsOff(managementToken) ? null : Token(managementToken.Trim()),
                ManagementTokenDisabled = ManagementAuth.IsOff(managementToken),
                InferenceToken = Token(c.GetString("inference-token", "")),
                MaxRequestBodyBytes = c.GetByteSize("max-request-body-bytes") ?? 4 * 1024 * 1024,
            },
            Engine = new InferenceOptions
            {
                Workers = c.GetInt("workers", 1),
                TorchThreads = c.GetInt("torch-threads", 1),
                FullNeighborhoodByDefault = c.GetBoolean("full-neighborhood", false),
                MaxIdsPerRequest = Positive("max-ids-per-request", 1024),
                MaxInFlight = Positive("max-in-flight", 64),
            },
        };
    }

    public static InferenceSettings Create(ActorSystem system) => Create(system.Settings.Config);
}
