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

namespace GraphActors.Serving;

/// <summary>
/// Hosts the three APIs over one <see cref="InferenceEngine"/>. Each API is its own small WebApplication with one
/// listener, so a management path can never be reached through the inference port whatever the Host header says.
/// Whoever owns the engine (the InferenceActor, the CLI, a test) starts and disposes the host. A prediction claims an
/// in-flight slot before its body is read (a prepared 503 at once when none is free) and is handed to the
/// <see cref="IInferenceDispatcher"/>; so are the management calls that change the registry. Handlers never run torch.
/// The routes are in ServingHost.Inference.cs (TorchServe, KServe v1), ServingHost.OpenInference.cs (KServe v2 / Open
/// Inference Protocol) and ServingHost.Management.cs; each API answers <c>OPTIONS /</c> with its OpenAPI description
/// (<see cref="ApiDescription"/>).
/// </summary>
public sealed partial class ServingHost : IAsyncDisposable
{
    // Relaxed escaping: the bodies are application/json, never HTML, so quotes in messages read as \" (as TorchServe's do), not \u0022.
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = null, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly WebApplication[] _apps;
    private readonly BackgroundRegistrations _background;

    private ServingHost(WebApplication[] apps, BackgroundRegistrations background, Uri inference, Uri management, Uri metrics)
    {
        _apps = apps;
        _background = background;
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
        var background = new BackgroundRegistrations(engine, dispatcher);
        var inference = Build(options, options.InferencePort, options.InferenceToken, engine, ApiDescription.Inference, app => MapInference(app, engine, dispatcher, background));
        var management = Build(options, options.ManagementPort, options.ManagementTokenDisabled ? null : options.ManagementToken, engine,
            ApiDescription.Management, app => MapManagement(app, engine, dispatcher, background),
            options.ConfigureManagement);
        var metrics = Build(options, options.MetricsPort, null, engine, ApiDescription.Metrics, app => MapMetrics(app, engine));
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
        return new ServingHost(apps, background, Address(inference), Address(management), Address(metrics));
    }

    /// <summary>The inference, management and metrics applications (tests compare their routes with their OpenAPI descriptions).</summary>
    internal IReadOnlyList<WebApplication> Apps => _apps;

    private static Uri Address(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    private static WebApplication Build(ServingOptions options, int port, string? token, InferenceEngine engine, ApiDescription.Api api,
        Action<WebApplication> map, Action<WebApplication>? configure = null)
    {
        var builder = HttpHosts.NewBuilder();
        ApiDescription.Add(builder, api);
        builder.WebHost.UseKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            // Kestrel refuses an over-long request line (414) or header block (431) before any middleware runs, with an
            // empty body. Its own limits sit well above ours, so ours answer first, with TorchServe's error body.
            k.Limits.MaxRequestLineSize = MaxRequestTargetBytes * 8;
            k.Limits.MaxRequestHeadersTotalSize = MaxRequestHeaderBytes * 8;
            if (options.Host == "localhost") k.ListenLocalhost(port);
            else k.Listen(IPAddress.Parse(options.Host), port);
        });
        var app = builder.Build();
        // What routing and Kestrel answer with a bare status (no route: 404, wrong method: 405 with Allow) gets
        // TorchServe's error body too, and is counted like every other error.
        app.UseStatusCodePages(ctx => StatusOnly(ctx.HttpContext, engine));
        app.Use((ctx, next) => RequestSizeLimits(ctx, engine) ?? next(ctx));
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
        var busyTorchServe = JsonSerializer.SerializeToUtf8Bytes(new { code = 503, type = "ServiceUnavailableException", message = engine.BusyMessage }, Json);
        var busyOpenInference = JsonSerializer.SerializeToUtf8Bytes(
            new { error = engine.BusyMessage, code = 503, type = "ServiceUnavailableException", message = engine.BusyMessage }, Json);
        app.Use(async (ctx, next) =>
        {
            var endpoint = ctx.GetEndpoint();
            if (endpoint?.Metadata.GetMetadata<AdmittedEndpoint>() is null)
            {
                await next(ctx).ConfigureAwait(false);
                return;
            }
            if (!engine.TryAdmit(out var slot))
            {
                var model = ctx.GetRouteValue("model") as string;
                var version = ctx.GetRouteValue("version") as string ?? (model is null ? null : engine.Models.DefaultVersion(model));
                engine.Metrics.RecordRejected(model, version);
                var busy = endpoint.Metadata.GetMetadata<OpenInferenceEndpoint>() is null ? busyTorchServe : busyOpenInference;
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

    // ---- metrics API (8082) ----

    private static void MapMetrics(WebApplication app, InferenceEngine engine)
    {
        ApiDescription.MapDescription(app);
        app.MapApi("GET", "/metrics", async ctx =>
        {
            ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await ctx.Response.WriteAsync(engine.Metrics.Render(), ctx.RequestAborted).ConfigureAwait(false);
        }, "Metrics", "Prometheus text format 0.0.4: TorchServe's ts_* counters and graphactors_* counters and gauges.")
            .Produces(200, contentType: "text/plain");
    }

    // ---- plumbing ----

    /// <summary>
    /// Runs a handler and answers its refusals with TorchServe's error body. With <paramref name="background"/>, a 404 for
    /// the route's model says when that model is being registered in the background or failed to be.
    /// </summary>
    private static async Task Guard(HttpContext ctx, InferenceEngine engine, Func<Task> handler, BackgroundRegistrations? background = null)
    {
        try
        {
            await handler().ConfigureAwait(false);
        }
        catch (ServingException e)
        {
            if (background is not null && ctx.GetRouteValue("model") is string model) e = background.Explain(e, model);
            await Error(ctx, engine, e).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            await Error(ctx, engine, ServingException.TooLarge(e.Message)).ConfigureAwait(false);
        }
        catch (InvalidDataException e) when (!ctx.Response.HasStarted)
        {
            // A multipart or form body the reader refuses (a boundary missing, a section header too long…).
            await Error(ctx, engine, ServingException.BadRequest($"The request body could not be read as {ctx.Request.ContentType}: {e.Message}")).ConfigureAwait(false);
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

    /// <summary>The longest request target (path and query) answered; longer is a 414 (Kestrel's default line limit).</summary>
    public const int MaxRequestTargetBytes = 8 * 1024;

    /// <summary>The largest header block (names and values) answered; larger is a 431 (Kestrel's default).</summary>
    public const int MaxRequestHeaderBytes = 32 * 1024;

    /// <summary>A 414 or 431 with TorchServe's error body for a request over our limits, or null to go on.</summary>
    private static Task? RequestSizeLimits(HttpContext ctx, InferenceEngine engine)
    {
        var target = ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? ctx.Request.Path.Value ?? "";
        if (target.Length > MaxRequestTargetBytes)
            return Error(ctx, engine, new ServingException(414, "URITooLongException",
                $"The request target is {target.Length} bytes; the limit is {MaxRequestTargetBytes}. Send ids in the body, not the query."));
        long headers = 0;
        foreach (var (name, values) in ctx.Request.Headers)
        {
            headers += name.Length + 4; // ": " and CRLF
            foreach (var v in values) headers += v?.Length ?? 0;
        }
        if (headers > MaxRequestHeaderBytes)
            return Error(ctx, engine, new ServingException(431, "RequestHeaderFieldsTooLargeException",
                $"The request headers are {headers} bytes; the limit is {MaxRequestHeaderBytes}."));
        return null;
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

    private static Task Error(HttpContext ctx, InferenceEngine engine, ServingException e)
    {
        // The engine records what it refuses; everything else (auth, content type, JSON, management) is recorded here.
        if (!e.Data.Contains(InferenceEngine.RecordedKey)) engine.Metrics.RecordError(e.Code, e.Type);
        // The Open Inference Protocol's error object is {"error": …}; TorchServe's fields ride along, so either client reads it.
        return IsOpenInference(ctx)
            ? WriteJson(ctx, e.Code, new { error = e.Message, code = e.Code, type = e.Type, message = e.Message })
            : WriteJson(ctx, e.Code, new { code = e.Code, type = e.Type, message = e.Message });
    }

    private static bool IsOpenInference(HttpContext ctx) =>
        ctx.GetEndpoint()?.Metadata.GetMetadata<OpenInferenceEndpoint>() is not null
        || ctx.Request.Path.StartsWithSegments("/v2", StringComparison.Ordinal);

    private static async Task WriteJson(HttpContext ctx, int status, object body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, body, body.GetType(), Json, ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>How answers are laid out: one result, an array of them (a multipart batch), or KServe v1's {"predictions": […]}.</summary>
    private enum ResultShape { Single, Array, KServe, KServeExplain }

    private static async Task WriteResult(HttpContext ctx, IReadOnlyList<PredictionResult> results, ResultShape shape)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        // Straight into the response's pipe (Kestrel's pooled memory): no intermediate stream or array per answer.
        using (var w = new Utf8JsonWriter(ctx.Response.BodyWriter))
        {
            if (shape is ResultShape.KServe or ResultShape.KServeExplain)
            {
                w.WriteStartObject();
                w.WriteStartArray(shape == ResultShape.KServe ? "predictions" : "explanations");
            }
            if (shape == ResultShape.Array) w.WriteStartArray();
            foreach (var r in results) WriteOne(w, r);
            if (shape == ResultShape.Array) w.WriteEndArray();
            if (shape is ResultShape.KServe or ResultShape.KServeExplain) { w.WriteEndArray(); w.WriteEndObject(); }
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
            case NodeExplanationResult x:
                w.WriteString("node_type", x.NodeType);
                w.WriteString("method", x.Method);
                w.WriteStartArray("explanations");
                foreach (var e in x.Explanations)
                {
                    w.WriteStartObject();
                    w.WriteNumber("id", e.Id);
                    w.WriteNumber("target", e.Target);
                    w.WriteNumber("probability", e.Probability);
                    Floats(w, "feature_attributions", e.FeatureAttributions);
                    w.WriteStartArray("neighbors");
                    foreach (var n in e.Neighbors)
                    {
                        w.WriteStartObject();
                        w.WriteString("node_type", n.NodeType);
                        w.WriteNumber("id", n.Id);
                        w.WriteNumber("attribution", n.Attribution);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
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
        await _background.DisposeAsync().ConfigureAwait(false);
        foreach (var app in _apps)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await app.StopAsync(stop.Token).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
