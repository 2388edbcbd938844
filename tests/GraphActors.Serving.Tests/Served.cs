// An engine and its HTTP host on free loopback ports, with one HttpClient per API.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GraphActors.Contracts;

namespace GraphActors.Serving.Tests;

public sealed class Served : IAsyncDisposable
{
    /// <summary>The management token of a host started without <c>serving</c> options; <see cref="Management"/> sends it.</summary>
    public const string ManagementToken = "served-management-token";

    private Served(InferenceEngine engine, ServingHost host, RedisFeatureSource? redis, string? managementToken)
    {
        Engine = engine; Host = host; Redis = redis;
        Inference = new HttpClient { BaseAddress = host.InferenceAddress, Timeout = TimeSpan.FromSeconds(30) };
        Management = new HttpClient { BaseAddress = host.ManagementAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (managementToken is not null) Management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", managementToken);
        Metrics = new HttpClient { BaseAddress = host.MetricsAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public InferenceEngine Engine { get; }
    public ServingHost Host { get; }
    public RedisFeatureSource? Redis { get; }
    public HttpClient Inference { get; }
    public HttpClient Management { get; }
    public HttpClient Metrics { get; }

    /// <summary>
    /// Without <paramref name="serving"/>: management requires <see cref="ManagementToken"/> and <see cref="Management"/>
    /// sends it; with it, the options as given (and <see cref="Management"/> sends nothing). <paramref name="loader"/>:
    /// the world's in-process models by default.
    /// </summary>
    public static async Task<Served> StartAsync(TestWorld world, RedisServer? redis = null, InferenceOptions? options = null,
        ServingOptions? serving = null, Func<IFeatureSource?, IFeatureSource?>? wrap = null, IModelLoader? loader = null, params string[] models)
    {
        RedisFeatureSource? source = null;
        if (redis is not null)
            source = await RedisFeatureSource.ConnectAsync(new RedisOptions { Endpoint = redis.Endpoint, Password = redis.Password, Graph = "test" });
        var features = wrap is null ? source : wrap(source);
        var engine = new InferenceEngine(world.Store, loader ?? world.Loader(), features, options);
        foreach (var m in models)
        {
            var parts = m.Split('=');
            await engine.Models.RegisterAsync(parts[0], parts[1]);
        }
        ServingHost host;
        try
        {
            host = await ServingHost.StartAsync(engine, (serving ?? new ServingOptions { ManagementToken = ManagementToken })
                with { InferencePort = 0, ManagementPort = 0, MetricsPort = 0 });
        }
        catch
        {
            engine.Dispose();
            if (source is not null) await source.DisposeAsync();
            throw;
        }
        return new Served(engine, host, source, serving is null ? ManagementToken : null);
    }

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public async Task<(int Status, JsonElement Body)> PostAsync(string path, string body, HttpClient? client = null)
    {
        using var response = await (client ?? Inference).PostAsync(path, Json(body));
        return ((int)response.StatusCode, await Parse(response));
    }

    public static async Task<JsonElement> Parse(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return string.IsNullOrEmpty(text) ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => e.GetSingle()).ToArray();

    public async ValueTask DisposeAsync()
    {
        Inference.Dispose(); Management.Dispose(); Metrics.Dispose();
        await Host.DisposeAsync();
        Engine.Dispose();
        if (Redis is not null) await Redis.DisposeAsync();
    }
}

/// <summary>A feature source that holds every call until released: keeps a request in flight on purpose.</summary>
public sealed class GateFeatureSource : IFeatureSource
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public string Name => "gate";
    public bool IsHealthy => true;
    public string? LastError => null;
    public void Open() => _open.TrySetResult();

    public async ValueTask<int> GetAsync(NodeType type, int dim, ReadOnlyMemory<long> businessIds, Memory<float> destination, Memory<bool> found,
        CancellationToken cancellationToken = default)
    {
        await _open.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        return 0;
    }
}
