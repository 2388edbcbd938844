// The management API's routes (8081): TorchServe's register, scale workers, describe, list, set-default and unregister.
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.OpenApi;

namespace GraphActors.Serving;

public sealed partial class ServingHost
{
    private const string ManagementTag = "TorchServe management";

    /// <summary>TorchServe's answer to an asynchronous register or scale (202).</summary>
    private const string Processing = "Processing worker updates...";

    /// <summary>How long a synchronous scale-down waits for predictions on the removed workers when the call gives no timeout.</summary>
    internal static readonly TimeSpan DefaultScaleTimeout = TimeSpan.FromSeconds(60);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static void MapManagement(WebApplication app, InferenceEngine engine, IInferenceDispatcher dispatcher, BackgroundRegistrations background)
    {
        ApiDescription.MapDescription(app);
        app.MapApi("GET", "/models", ctx => Guard(ctx, engine, async () =>
        {
            var limit = IntQuery(ctx, "limit") ?? 100;
            var page = engine.Models.List(limit, ctx.Request.Query["next_page_token"]);
            var body = new Dictionary<string, object?>();
            if (page.NextPageToken is not null) body["nextPageToken"] = page.NextPageToken;
            body["models"] = page.Models.Select(e => new { modelName = e.Name, modelUrl = e.Url }).ToList();
            await WriteJson(ctx, 200, body).ConfigureAwait(false);
        }), ManagementTag, "List models (their default versions), by name, a page at a time.",
            new ApiQuery("limit", JsonSchemaType.Integer, "Most models per page (default 100)."),
            new ApiQuery("next_page_token", JsonSchemaType.String, "The nextPageToken of the previous page."))
            .Produces(200, contentType: "application/json").Errors(400, 401, 403);

        RequestDelegate describe = ctx => Guard(ctx, engine, async () =>
        {
            var name = (string)ctx.GetRouteValue("model")!;
            var version = ctx.GetRouteValue("version") as string;
            // TorchServe ignores customized for "all"; so do we.
            var customized = (BoolQuery(ctx, "customized") ?? false) && version != "all";
            var entries = engine.Models.Describe(name, version);
            var def = engine.Models.DefaultVersion(name);
            await WriteJson(ctx, 200, entries.Select(e => Describe(e, e.Version == def, engine, customized)).ToList()).ConfigureAwait(false);
        }, background);
        var customizedQuery = new ApiQuery("customized", JsonSchemaType.Boolean,
            "true: add customizedMetadata, a JSON string of the checkpoint's metadata and the model's configuration (TorchServe's handler metadata).");
        app.MapApi("GET", "/models/{model}", describe, ManagementTag, "Describe the model's default version: workers, job queue, metadata.", customizedQuery)
            .Produces(200, contentType: "application/json").Errors(400, 401, 403, 404);
        app.MapApi("GET", "/models/{model}/{version}", describe, ManagementTag, "Describe one version of the model, or every version (all).", customizedQuery)
            .Produces(200, contentType: "application/json").Errors(400, 401, 403, 404);

        app.MapApi("POST", "/models", ctx => Guard(ctx, engine, async () =>
        {
            var url = ctx.Request.Query["url"].ToString();
            var name = ModelManagement.NameFor(url, ctx.Request.Query["model_name"].ToString());
            var version = ctx.Request.Query["model_version"].ToString();
            if (!string.IsNullOrEmpty(version)) ModelNames.Check(version, "model_version");
            var workers = WorkerCount(ctx, engine, "initial_workers");
            // TorchServe registers synchronously unless told otherwise (RegisterModelRequest: synchronous defaults to true).
            if (!(BoolQuery(ctx, "synchronous") ?? true))
            {
                background.Start(name, url, string.IsNullOrEmpty(version) ? null : version, workers);
                await WriteJson(ctx, 202, new { status = Processing }).ConfigureAwait(false);
                return;
            }
            var entry = await dispatcher.RegisterAsync(name, url, string.IsNullOrEmpty(version) ? null : version, workers, ctx.RequestAborted).ConfigureAwait(false);
            background.Forget(name);
            await WriteJson(ctx, 200, new { status = ModelManagement.Registered(entry) }).ConfigureAwait(false);
        }), ManagementTag, "Register a checkpoint of the model store as a model (200 when loaded; 202 at once with synchronous=false).",
            new ApiQuery("url", JsonSchemaType.String, "The checkpoint: a path in the model store (a folder, its manifest.json, or a run folder).", Required: true),
            new ApiQuery("model_name", JsonSchemaType.String, "The model's name (default: the url's last segment)."),
            new ApiQuery("model_version", JsonSchemaType.String, "The version (default: the checkpoint's, else 1.0)."),
            new ApiQuery("initial_workers", JsonSchemaType.Integer, "Workers (lanes onto the shared torch workers); default: as many as the engine has torch workers."),
            new ApiQuery("synchronous", JsonSchemaType.Boolean, "false: answer 202 at once and register in the background (default true)."))
            .Produces(200, contentType: "application/json").Produces(202, contentType: "application/json").Errors(400, 401, 403, 409, 504);

        RequestDelegate scale = ctx => Guard(ctx, engine, async () =>
        {
            var name = (string)ctx.GetRouteValue("model")!;
            var routeVersion = ctx.GetRouteValue("version") as string;
            var version = routeVersion ?? NonEmpty(ctx.Request.Query["model_version"].ToString());
            // TorchServe's defaults: min_worker 1, max_worker = min_worker, asynchronous, timeout -1 (wait).
            var min = WorkerCount(ctx, engine, "min_worker") ?? 1;
            var max = IntQuery(ctx, "max_worker") ?? min;
            var synchronous = BoolQuery(ctx, "synchronous") ?? false;
            var timeout = IntQuery(ctx, "timeout") ?? -1;
            if (timeout < -1) throw ServingException.BadRequest($"timeout must be -1 (wait), 0 (do not wait) or a number of seconds, got {timeout}.");
            var entry = ModelManagement.Scale(engine, name, version, min, max);
            if (!synchronous)
            {
                await WriteJson(ctx, 202, new { status = Processing }).ConfigureAwait(false);
                return;
            }
            // Scaling up is immediate; scaling down waits for predictions running on the removed lanes (never interrupted).
            var wait = timeout switch { -1 => DefaultScaleTimeout, 0 => TimeSpan.Zero, _ => TimeSpan.FromSeconds(timeout) };
            try
            {
                await entry.Workers.WhenScaledAsync(ctx.RequestAborted).WaitAsync(wait, ctx.RequestAborted).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new ServingException(504, "GatewayTimeoutException",
                    $"Model {name} version {entry.Version} has {min} workers now, but {entry.Workers.Busy} predictions were still running after " +
                    $"{wait.TotalSeconds:0.###} s (timeout); they finish (running work is never interrupted) and new ones already use {min}.");
            }
            await WriteJson(ctx, 200, new { status = ModelManagement.Scaled(name, routeVersion ?? version, entry, min) }).ConfigureAwait(false);
        }, background);
        var scaleQuery = new[]
        {
            new ApiQuery("min_worker", JsonSchemaType.Integer, "Workers of the version: how many of its predictions may run on the shared torch workers at once (default 1; 0 = none: 503)."),
            new ApiQuery("max_worker", JsonSchemaType.Integer, "Kept and shown as TorchServe does (default min_worker; not less)."),
            new ApiQuery("synchronous", JsonSchemaType.Boolean, "true: answer 200 once predictions on removed workers finished; false (default): 202 at once."),
            new ApiQuery("timeout", JsonSchemaType.Integer, "Seconds a synchronous call waits for them (-1: 60 s, 0: not at all); then 504."),
        };
        app.MapApi("PUT", "/models/{model}", scale, ManagementTag, "Scale the workers of the model's default version (or of model_version).",
                [.. scaleQuery, new ApiQuery("model_version", JsonSchemaType.String, "The version to scale (default: the default version).")])
            .Produces(200, contentType: "application/json").Produces(202, contentType: "application/json").Errors(400, 401, 403, 404, 504);
        app.MapApi("PUT", "/models/{model}/{version}", scale, ManagementTag, "Scale the workers of one version of the model.", scaleQuery)
            .Produces(200, contentType: "application/json").Produces(202, contentType: "application/json").Errors(400, 401, 403, 404, 504);

        RequestDelegate unregister = ctx => Guard(ctx, engine, async () =>
        {
            var entry = await dispatcher.UnregisterAsync((string)ctx.GetRouteValue("model")!, ctx.GetRouteValue("version") as string, ctx.RequestAborted)
                .ConfigureAwait(false);
            await WriteJson(ctx, 200, new { status = ModelManagement.Unregistered(entry) }).ConfigureAwait(false);
        }, background);
        app.MapApi("DELETE", "/models/{model}", unregister, ManagementTag, "Unregister the model's default version (refused while other versions exist).")
            .Produces(200, contentType: "application/json").Errors(400, 401, 403, 404);
        app.MapApi("DELETE", "/models/{model}/{version}", unregister, ManagementTag, "Unregister one version of the model.")
            .Produces(200, contentType: "application/json").Errors(400, 401, 403, 404);
        app.MapApi("PUT", "/models/{model}/{version}/set-default", ctx => Guard(ctx, engine, async () =>
        {
            var name = (string)ctx.GetRouteValue("model")!;
            var version = (string)ctx.GetRouteValue("version")!;
            await dispatcher.SetDefaultAsync(name, version, ctx.RequestAborted).ConfigureAwait(false);
            await WriteJson(ctx, 200, new { status = $"Default version successfully updated for model \"{name}\" to \"{version}\"" }).ConfigureAwait(false);
        }, background), ManagementTag, "Make a version the model's default.")
            .Produces(200, contentType: "application/json").Errors(401, 403, 404);
    }

    // TorchServe's describe fields (docs/management_api.md, "Describe model"). Workers are the version's lanes onto the
    // engine's shared torch workers, all in this process; a request is one batch (no server-side batching).
    private static Dictionary<string, object?> Describe(ModelEntry e, bool isDefault, InferenceEngine engine, bool customized)
    {
        var workers = e.Workers;
        var busy = workers.Busy;
        var memory = Environment.WorkingSet;
        var body = new Dictionary<string, object?>
        {
            ["modelName"] = e.Name,
            ["modelVersion"] = e.Version,
            ["modelUrl"] = e.Url,
            ["engine"] = "TorchSharp",
            ["runtime"] = "dotnet",
            ["status"] = ModelManagement.Status(e),
            ["isDefault"] = isDefault,
            ["loadedAt"] = e.LoadedAt,
            ["task"] = e.Model.Info.Task.ToString(),
            ["modelType"] = e.Model.Config.ModelType.ToString(),
            ["numLayers"] = e.Model.Config.NumLayers,
            ["fanouts"] = e.Model.Info.Fanouts,
            ["nodeTypes"] = e.Model.Config.InDims.Keys.Order(StringComparer.Ordinal).ToList(),
            ["metadata"] = e.Model.Info.Metadata,
            ["minWorkers"] = workers.MinWorkers,
            ["maxWorkers"] = workers.MaxWorkers,
            ["batchSize"] = 1,
            ["maxBatchDelay"] = 0,
            ["workers"] = workers.StartTimes.Select((started, i) => new
            {
                id = $"{e.Name}-{e.Version}-{i}",
                startTime = started,
                status = i < busy ? "BUSY" : "READY",
                // Every worker is a lane in this process: its memory is the process's working set, as TorchServe reports
                // each worker process's RSS.
                memoryUsage = memory,
                pid = Environment.ProcessId,
                gpu = false,
            }).ToList(),
            // TorchServe's job queue is per model; ours is the in-flight admission shared by every model, and the
            // predictions of this version waiting for one of its workers.
            ["jobQueueStatus"] = new
            {
                remainingCapacity = Math.Max(0, engine.Options.MaxInFlight - engine.InFlight),
                pendingRequests = workers.Pending,
            },
        };
        if (customized) body["customizedMetadata"] = CustomizedMetadata(e);
        return body;
    }

    /// <summary>
    /// TorchServe returns its handler's describe_handle() output as a JSON string; ours is the checkpoint's metadata
    /// (epoch, metrics, sha256…) and the configuration the model was rebuilt from, as a JSON string too.
    /// </summary>
    private static string CustomizedMetadata(ModelEntry e)
    {
        var config = e.Model.Config;
        var info = e.Model.Info;
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["metadata"] = info.Metadata,
            ["task"] = info.Task.ToString(),
            ["model_type"] = config.ModelType.ToString(),
            ["num_layers"] = config.NumLayers,
            ["hidden_channels"] = config.HiddenChannels,
            ["out_dim"] = config.OutDim,
            ["in_dims"] = config.InDims,
            ["relations"] = config.Relations.Select(r => $"{r.Src}:{r.Relation}:{r.Dst}").ToList(),
            ["fanouts"] = info.Fanouts,
            ["reverse_edges"] = info.ReverseEdges.ToString(),
            ["row_normalize_features"] = info.RowNormalizeFeatures,
        }, Indented);
    }

    /// <summary>A worker count from the query (null when absent): 0 … max-in-flight, else a 400 naming the field.</summary>
    private static int? WorkerCount(HttpContext ctx, InferenceEngine engine, string name) =>
        ModelManagement.CheckWorkers(engine, name, IntQuery(ctx, name));

    private static int? IntQuery(HttpContext ctx, string name)
    {
        if (ctx.Request.Query[name] is not { Count: > 0 } v) return null;
        return int.TryParse(v.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw ServingException.BadRequest($"{name} must be an integer, got '{v}'.");
    }

    private static bool? BoolQuery(HttpContext ctx, string name)
    {
        if (ctx.Request.Query[name] is not { Count: > 0 } v) return null;
        return bool.TryParse(v.ToString(), out var b) ? b : throw ServingException.BadRequest($"{name} must be true or false, got '{v}'.");
    }

    private static string? NonEmpty(string s) => string.IsNullOrEmpty(s) ? null : s;
}
