// Kestrel inside the process: TorchServe's inference, management and metrics APIs on three listeners.
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GraphActors.Serving;

/// <summary>
/// Hosts the three APIs over one <see cref="InferenceEngine"/>. Each API is its own small WebApplication with one
/// listener, so a management path can never be reached through the inference port whatever the Host header says.
/// Whoever owns the engine (the InferenceActor, the CLI, a test) starts and disposes the host. A prediction claims an
/// in-flight slot before its body is read (a prepared 503 at once when none is free) and is handed to the
/// <see cref="IInferenceDispatcher"/>; so are the management calls that change the registry. Handlers never run torch.
/// </summary>
public sealed class ServingHost : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = null };
    private readonly WebApplication[] _apps;

    private ServingHost(WebApplication[] apps, Uri inference, Uri management, Uri metrics)
    {
        _apps = apps;
        InferenceAddress = inference;
        ManagementAddress = management;
        MetricsAddress = metrics;
    }

    public Uri InferenceAddress { get; }
    public Uri ManagementAddress { get; }
    public Uri MetricsAddress { get; }

    /// <summary>Serves with the engine answering in this process (<see cref="DirectInferenceDispatcher"/>).</summary>
    public static Task<ServingHost> StartAsync(InferenceEngine engine, ServingOptions options, CancellationToken cancellationToken = default) =>
        StartAsync(engine, new DirectInferenceDispatcher(engine), options, cancellationToken);

    /// <exception cref="ArgumentException">No management token and no explicit opt-out (<see cref="ServingOptions.ManagementTokenDisabled"/>).</exception>
    public static async Task<ServingHost> StartAsync(InferenceEngine engine, IInferenceDispatcher dispatcher, ServingOptions options,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(options.ManagementToken) && !options.ManagementTokenDisabled)
            throw new ArgumentException("The management API needs a bearer token: set ServingOptions.ManagementToken (a node generates one, " +
                "see ManagementAuth.Resolve), or open it on purpose with ManagementTokenDisabled (management-token = off).", nameof(options));
        var inference = Build(options, options.InferencePort, options.InferenceToken, engine, app => MapInference(app, engine, dispatcher));
        var management = Build(options, options.ManagementPort, options.ManagementTokenDisabled ? null : options.ManagementToken, engine,
            app => MapManagement(app, engine, dispatcher),
            options.ConfigureManagement);
        var metrics = Build(options, options.MetricsPort, null, engine, app => MapMetrics(app, engine));
        var apps = new[] { inference, management, metrics };
        var started = new List<WebApplication>();
        try
        {
            foreach (var app in apps) { await app.StartAsync(cancellationToken).ConfigureAwait(false); started.Add(app); }
        }
        catch
        {
            foreach (var app in started) await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new ServingHost(apps, Address(inference), Address(management), Address(metrics));
    }

    private static Uri Address(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    private static WebApplication Build(ServingOptions options, int port, string? token, InferenceEngine engine, Action<WebApplication> map,
        Action<WebApplication>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            if (options.Host == "localhost") k.ListenLocalhost(port);
            else k.Listen(IPAddress.Parse(options.Host), port);
        });
        var app = builder.Build();
        // What routing and Kestrel answer with a bare status (no route: 404, wrong method: 405 with Allow) gets
        // TorchServe's error body too, and is counted like every other error.
        app.UseStatusCodePages(ctx => StatusOnly(ctx.HttpContext, engine));
        configure?.Invoke(app);
        if (token is not null)
        {
            var expected = Encoding.UTF8.GetBytes(token);
            app.Use(async (ctx, next) =>
            {
                var header = ctx.Request.Headers.Authorization.ToString();
                if (string.IsNullOrEmpty(header))
                {
                    await Error(ctx, engine, new ServingException(401, "UnauthorizedException", "Authorization: Bearer <token> is required.")).ConfigureAwait(false);
                    return;
                }
                var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8.GetBytes(header[7..].Trim()) : [];
                if (!CryptographicOperations.FixedTimeEquals(given, expected))
                {
                    await Error(ctx, engine, new ServingException(403, "ForbiddenException", "The bearer token is not valid for this API.")).ConfigureAwait(false);
                    return;
                }
                await next(ctx).ConfigureAwait(false);
            });
        }
        map(app);
        return app;
    }

    // ---- inference API (8080) ----

    /// <summary>Marks the endpoints that claim an in-flight slot before they run (<see cref="Admission"/>).</summary>
    private sealed class AdmittedEndpoint
    {
        public static readonly AdmittedEndpoint Instance = new();
    }

    /// <summary>
    /// Admission at the front: after routing (which only matched the path) and the token check, before the body is
    /// read or parsed. A request to an admitted endpoint claims an in-flight slot for its whole life; without a free
    /// slot it gets a prepared 503 (no exception, no JSON serializer, Retry-After: 1) counted in the metrics, so under
    /// overload refusals cost next to nothing and the admitted requests keep the CPU.
    /// </summary>
    private static void Admission(WebApplication app, InferenceEngine engine)
    {
        var busy = JsonSerializer.SerializeToUtf8Bytes(new { code = 503, type = "ServiceUnavailableException", message = engine.BusyMessage }, Json);
        app.Use(async (ctx, next) =>
        {
            if (ctx.GetEndpoint()?.Metadata.GetMetadata<AdmittedEndpoint>() is null)
            {
                await next(ctx).ConfigureAwait(false);
                return;
            }
            if (!engine.TryAdmit(out var slot))
            {
                var model = ctx.GetRouteValue("model") as string;
                var version = ctx.GetRouteValue("version") as string ?? (model is null ? null : engine.Models.DefaultVersion(model));
                engine.Metrics.RecordRejected(model, version);
                var response = ctx.Response;
                response.StatusCode = 503;
                response.ContentType = "application/json";
                response.ContentLength = busy.Length;
                response.Headers.RetryAfter = "1";
                await response.Body.WriteAsync(busy, ctx.RequestAborted).ConfigureAwait(false);
                return;
            }
            try
            {
                await next(ctx).ConfigureAwait(false);
            }
            finally
            {
                slot.Dispose();
            }
        });
    }

    private static void MapInference(WebApplication app, InferenceEngine engine, IInferenceDispatcher dispatcher)
    {
        Admission(app, engine);
        app.MapGet("/ping", async ctx =>
        {
            var h = await engine.CheckHealthAsync(ctx.RequestAborted).ConfigureAwait(false);
            var body = new Dictionary<string, object?>
            {
                ["status"] = h.Healthy ? "Healthy" : "Unhealthy",
                ["models"] = h.ModelsLoaded,
                ["graph_store"] = h.GraphStoreReachable ? "reachable" : "unreachable",
                ["feature_cache"] = h.FeatureCache,
            };
            if (h.Reason is not null) body["reason"] = h.Reason;
            if (h.FeatureCacheError is not null) body["feature_cache_error"] = h.FeatureCacheError;
            await WriteJson(ctx, h.Healthy ? 200 : 503, body).ConfigureAwait(false);
        });
        RequestDelegate predict = ctx => Guard(ctx, engine, async () =>
        {
            var model = (string)ctx.GetRouteValue("model")!;
            var version = ctx.GetRouteValue("version") as string;
            using var body = await ReadJson(ctx).ConfigureAwait(false);
            var request = RequestParsing.Parse(body.RootElement, model, version);
            var result = await dispatcher.PredictAsync(request, ctx.RequestAborted).ConfigureAwait(false);
            await WriteResult(ctx, [result], kserve: false).ConfigureAwait(false);
        });
        app.MapPost("/predictions/{model}", predict).WithMetadata(AdmittedEndpoint.Instance);
        app.MapPost("/predictions/{model}/{version}", predict).WithMetadata(AdmittedEndpoint.Instance);
        // KServe v1: {"instances": [request, …]} → {"predictions": [result, …]}, all of them under the request's one slot
        app.MapPost("/v1/models/{model}:predict", ctx => Guard(ctx, engine, async () =>
        {
            var model = (string)ctx.GetRouteValue("model")!;
            using var body = await ReadJson(ctx).ConfigureAwait(false);
            if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("instances", out var instances) || instances.ValueKind != JsonValueKind.Array)
                throw ServingException.BadRequest("A KServe v1 body is {\"instances\": [ … ]}.");
            var results = new List<PredictionResult>();
            foreach (var instance in instances.EnumerateArray())
            {
                var request = RequestParsing.Parse(instance, model, null);
                results.Add(await dispatcher.PredictAsync(request, ctx.RequestAborted).ConfigureAwait(false));
            }
            await WriteResult(ctx, results, kserve: true).ConfigureAwait(false);
        })).WithMetadata(AdmittedEndpoint.Instance);
        app.MapGet("/v1/models/{model}", ctx => Guard(ctx, engine, async () =>
        {
            var model = (string)ctx.GetRouteValue("model")!;
            var entry = engine.Models.Describe(model, null)[0];
            await WriteJson(ctx, 200, new { name = entry.Name, ready = entry.Status == ModelStatus.Ready }).ConfigureAwait(false);
        }));
    }

    // ---- management API (8081) ----

    private static void MapManagement(WebApplication app, InferenceEngine engine, IInferenceDispatcher dispatcher)
    {
        app.MapGet("/models", ctx => Guard(ctx, engine, async () =>
        {
            var limit = 100;
            if (ctx.Request.Query["limit"] is { Count: > 0 } l && !int.TryParse(l, out limit))
                throw ServingException.BadRequest($"limit must be an integer, got '{l}'.");
            var page = engine.Models.List(limit, ctx.Request.Query["next_page_token"]);
            var body = new Dictionary<string, object?>();
            if (page.NextPageToken is not null) body["nextPageToken"] = page.NextPageToken;
            body["models"] = page.Models.Select(e => new { modelName = e.Name, modelUrl = e.Url }).ToList();
            await WriteJson(ctx, 200, body).ConfigureAwait(false);
        }));
        RequestDelegate describe = ctx => Guard(ctx, engine, async () =>
        {
            var name = (string)ctx.GetRouteValue("model")!;
            var entries = engine.Models.Describe(name, ctx.GetRouteValue("version") as string);
            var def = engine.Models.DefaultVersion(name);
            await WriteJson(ctx, 200, entries.Select(e => Describe(e, e.Version == def, engine.Workers)).ToList()).ConfigureAwait(false);
        });
        app.MapGet("/models/{model}", describe);
        app.MapGet("/models/{model}/{version}", describe);
        app.MapPost("/models", ctx => Guard(ctx, engine, async () =>
        {
            var url = ctx.Request.Query["url"].ToString();
            if (string.IsNullOrEmpty(url)) throw ServingException.BadRequest("Parameter url is required.");
            var name = ctx.Request.Query["model_name"].ToString();
            if (string.IsNullOrEmpty(name)) name = Path.GetFileNameWithoutExtension(url.TrimEnd('/'));
            ModelNames.Check(name, "model_name");
            var version = ctx.Request.Query["model_version"].ToString();
            if (!string.IsNullOrEmpty(version)) ModelNames.Check(version, "model_version");
            var entry = await dispatcher.RegisterAsync(name, url, string.IsNullOrEmpty(version) ? null : version, ctx.RequestAborted).ConfigureAwait(false);
            await WriteJson(ctx, 200, new { status = $"Model \"{entry.Name}\" Version: {entry.Version} registered with {engine.Options.Workers} initial workers" }).ConfigureAwait(false);
        }));
        RequestDelegate unregister = ctx => Guard(ctx, engine, async () =>
        {
            var entry = await dispatcher.UnregisterAsync((string)ctx.GetRouteValue("model")!, ctx.GetRouteValue("version") as string, ctx.RequestAborted)
                .ConfigureAwait(false);
            await WriteJson(ctx, 200, new { status = $"Model \"{entry.Name}\" unregistered" }).ConfigureAwait(false);
        });
        app.MapDelete("/models/{model}", unregister);
        app.MapDelete("/models/{model}/{version}", unregister);
        app.MapPut("/models/{model}/{version}/set-default", ctx => Guard(ctx, engine, async () =>
        {
            var name = (string)ctx.GetRouteValue("model")!;
            var version = (string)ctx.GetRouteValue("version")!;
            await dispatcher.SetDefaultAsync(name, version, ctx.RequestAborted).ConfigureAwait(false);
            await WriteJson(ctx, 200, new { status = $"Default version successfully updated for model \"{name}\" to \"{version}\"" }).ConfigureAwait(false);
        }));
    }

    // TorchServe's describe fields, workers included; here every model shares the engine's torch workers, and a
    // request is one batch (no server-side batching).
    private static object Describe(ModelEntry e, bool isDefault, TorchWorkerPool workers) => new
    {
        modelName = e.Name,
        modelVersion = e.Version,
        modelUrl = e.Url,
        engine = "TorchSharp",
        runtime = "dotnet",
        status = e.Status == ModelStatus.Ready ? "READY" : "UNLOADING",
        isDefault,
        loadedAt = e.LoadedAt,
        task = e.Model.Info.Task.ToString(),
        modelType = e.Model.Config.ModelType.ToString(),
        numLayers = e.Model.Config.NumLayers,
        fanouts = e.Model.Info.Fanouts,
        nodeTypes = e.Model.Config.InDims.Keys.Order(StringComparer.Ordinal).ToList(),
        metadata = e.Model.Info.Metadata,
        minWorkers = workers.Workers,
        maxWorkers = workers.Workers,
        batchSize = 1,
        maxBatchDelay = 0,
        workers = Enumerable.Range(0, workers.Workers).Select(i => new
        {
            id = TorchWorkerPool.WorkerName(i),
            startTime = workers.StartedAt,
            status = workers.IsBusy(i) ? "BUSY" : "READY",
            pid = Environment.ProcessId,
            gpu = false,
        }).ToList(),
    };

    // ---- metrics API (8082) ----

    private static void MapMetrics(WebApplication app, InferenceEngine engine) =>
        app.MapGet("/metrics", async ctx =>
        {
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await ctx.Response.WriteAsync(engine.Metrics.Render(), ctx.RequestAborted).ConfigureAwait(false);
        });

    // ---- plumbing ----

    private static async Task Guard(HttpContext ctx, InferenceEngine engine, Func<Task> handler)
    {
        try
        {
            await handler().ConfigureAwait(false);
        }
        catch (ServingException e)
        {
            await Error(ctx, engine, e).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            await Error(ctx, engine, ServingException.TooLarge(e.Message)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // the client went away: nobody to answer
        }
        catch (Exception e) when (!ctx.Response.HasStarted)
        {
            await Error(ctx, engine, new ServingException(500, "InternalServerException", e.Message)).ConfigureAwait(false);
        }
    }

    private static Task StatusOnly(HttpContext ctx, InferenceEngine engine)
    {
        var request = $"{ctx.Request.Method} {ctx.Request.Path}";
        var code = ctx.Response.StatusCode;
        var e = code switch
        {
            404 => new ServingException(404, "ResourceNotFoundException", $"Requested resource is not found: {request}. See docs/SERVING.md for the routes."),
            405 => new ServingException(405, "MethodNotAllowedException",
                $"Requested method is not allowed: {request} (allowed: {(string.IsNullOrEmpty(ctx.Response.Headers.Allow) ? "none" : ctx.Response.Headers.Allow.ToString())})."),
            413 => ServingException.TooLarge($"The request body of {request} is too large."),
            415 => new ServingException(415, "UnsupportedMediaTypeException", $"Unsupported media type for {request}."),
            _ => new ServingException(code, code >= 500 ? "InternalServerException" : "BadRequestException",
                $"{request} was answered with status {code}."),
        };
        return Error(ctx, engine, e);
    }

    private static async Task<JsonDocument> ReadJson(HttpContext ctx)
    {
        if (!ctx.Request.HasJsonContentType())
            throw new ServingException(415, "UnsupportedMediaTypeException",
                $"Content-Type must be application/json, got '{(string.IsNullOrEmpty(ctx.Request.ContentType) ? "none" : ctx.Request.ContentType)}'.");
        try
        {
            return await JsonDocument.ParseAsync(ctx.Request.Body, cancellationToken: ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw ServingException.BadRequest($"Malformed JSON: {e.Message}");
        }
    }

    private static Task Error(HttpContext ctx, InferenceEngine engine, ServingException e)
    {
        // The engine records what it refuses; everything else (auth, content type, JSON, management) is recorded here.
        if (!e.Data.Contains(InferenceEngine.RecordedKey)) engine.Metrics.RecordError(e.Code, e.Type);
        return WriteJson(ctx, e.Code, new { code = e.Code, type = e.Type, message = e.Message });
    }

    private static async Task WriteJson(HttpContext ctx, int status, object body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, body, body.GetType(), Json, ctx.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteResult(HttpContext ctx, IReadOnlyList<PredictionResult> results, bool kserve)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        // Straight into the response's pipe (Kestrel's pooled memory): no intermediate stream or array per answer.
        using (var w = new Utf8JsonWriter(ctx.Response.BodyWriter))
        {
            if (kserve) { w.WriteStartObject(); w.WriteStartArray("predictions"); }
            foreach (var r in results) WriteOne(w, r);
            if (kserve) { w.WriteEndArray(); w.WriteEndObject(); }
        }
        await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    private static void WriteOne(Utf8JsonWriter w, PredictionResult r)
    {
        w.WriteStartObject();
        w.WriteString("model", r.Model);
        w.WriteString("version", r.Version);
        switch (r)
        {
            case NodePredictionResult n:
                w.WriteString("node_type", n.NodeType);
                w.WriteStartArray("predictions");
                foreach (var p in n.Predictions)
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", p.Id);
                    if (p.Label is { } label) w.WriteNumber("label", label);
                    if (p.Probabilities is { } probs) Floats(w, "probabilities", probs);
                    if (p.Embedding is { } emb) Floats(w, "embedding", emb);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case LinkPredictionResult l:
                w.WriteString("src_type", l.SrcType);
                w.WriteString("dst_type", l.DstType);
                w.WriteStartArray("predictions");
                foreach (var p in l.Predictions)
                {
                    w.WriteStartObject();
                    w.WriteNumber("src", p.Src);
                    w.WriteNumber("dst", p.Dst);
                    w.WriteNumber("score", p.Score);
                    w.WriteNumber("probability", p.Probability);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
        }
        w.WriteEndObject();
    }

    private static void Floats(Utf8JsonWriter w, string name, float[] values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(stop.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
