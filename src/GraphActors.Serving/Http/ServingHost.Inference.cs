// The inference API's TorchServe and KServe v1 routes (8080).
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GraphActors.Serving;

public sealed partial class ServingHost
{
    private const string TorchServeTag = "TorchServe", KServeV1Tag = "KServe v1";

    /// <summary>What TorchServe's predictions and explanations take: a raw body of any type, or form parts.</summary>
    private static readonly string[] TorchServeBodyTypes =
        ["application/json", "application/octet-stream", "multipart/form-data", "application/x-www-form-urlencoded"];

    private static void MapInference(WebApplication app, InferenceEngine engine, IInferenceDispatcher dispatcher, BackgroundRegistrations background)
    {
        Admission(app, engine);
        ApiDescription.MapDescription(app);
        app.MapApi("GET", "/ping", async ctx =>
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
        }, TorchServeTag, "Health: 200 Healthy with a model loaded and the graph store reachable, else 503 Unhealthy with the reason.")
            .Produces(200, contentType: "application/json").Errors(503);

        // TorchServe's predictions: the JSON request from any body (raw, any or no Content-Type), or one request per
        // multipart/form part named data (or body) — several parts are a batch, answered as an array in their order.
        RequestDelegate predict = Batched(engine, dispatcher, background, RequestParsing.Parse);
        RequestDelegate explain = Batched(engine, dispatcher, background, RequestParsing.ParseExplanation);
        const string predictSummary = "Predictions of the model's default version (or the given one): a JSON request " +
            "{node_type, ids[, embeddings, full_neighborhood]} or {src_type, dst_type, pairs} as the body (any Content-Type), " +
            "or as multipart/form parts named data — several parts are a batch answered as an array in their order.";
        var predictBody = new ApiBody("A JSON prediction request (any Content-Type), or form parts named data (or body), each a JSON request.",
            TorchServeBodyTypes);
        app.MapApi("POST", "/predictions/{model}", predict, TorchServeTag, predictSummary)
            .WithMetadata(AdmittedEndpoint.Instance, predictBody).PredictionResponses();
        app.MapApi("POST", "/predictions/{model}/{version}", predict, TorchServeTag, predictSummary)
            .WithMetadata(AdmittedEndpoint.Instance, predictBody).PredictionResponses();
        var explainSummary = "Explanations of node classification scores (input × gradient): a JSON request " +
            "{node_type, ids[, target, top_k, full_neighborhood]} → per id the explained class, its probability, the attribution of each " +
            "of the node's own input features, and the top_k input nodes (default 10) by total attribution; at most " +
            $"{InferenceEngine.MaxExplainedPerRequest} ids (each takes a backward pass). Bodies as for predictions.";
        var explainBody = new ApiBody("A JSON explanation request (any Content-Type), or form parts named data (or body).", TorchServeBodyTypes);
        app.MapApi("POST", "/explanations/{model}", explain, TorchServeTag, explainSummary)
            .WithMetadata(AdmittedEndpoint.Instance, explainBody).PredictionResponses();
        app.MapApi("POST", "/explanations/{model}/{version}", explain, TorchServeTag, explainSummary)
            .WithMetadata(AdmittedEndpoint.Instance, explainBody).PredictionResponses();

        // KServe v1: {"instances": [request, …]} → {"predictions": [result, …]}, all of them under the request's one slot
        app.MapApi("POST", "/v1/models/{model}:predict", KServeV1(engine, dispatcher, RequestParsing.Parse, ResultShape.KServe), KServeV1Tag,
                "KServe v1 predict: {\"instances\": [request, …]} → {\"predictions\": [result, …]} with the model's default version.")
            .WithMetadata(AdmittedEndpoint.Instance, new ApiBody("{\"instances\": [request, …]}", "application/json")).PredictionResponses();
        app.MapApi("POST", "/v1/models/{model}:explain", KServeV1(engine, dispatcher, RequestParsing.ParseExplanation, ResultShape.KServeExplain), KServeV1Tag,
                "KServe v1 explain: {\"instances\": [explanation request, …]} → {\"explanations\": [result, …]} with the model's default version.")
            .WithMetadata(AdmittedEndpoint.Instance, new ApiBody("{\"instances\": [explanation request, …]}", "application/json")).PredictionResponses();
        MapInferenceRest(app, engine, dispatcher);
    }

    /// <summary>
    /// TorchServe's request handling for predictions and explanations: the JSON request from any body (raw, any or no
    /// Content-Type), or one request per multipart/form part named data (or body) — several parts are a batch, answered
    /// as an array in their order.
    /// </summary>
    private static RequestDelegate Batched(InferenceEngine engine, IInferenceDispatcher dispatcher, BackgroundRegistrations background,
        Func<JsonElement, string, string?, PredictionRequest> parse) => ctx => Guard(ctx, engine, async () =>
        {
            var model = (string)ctx.GetRouteValue("model")!;
            var version = ctx.GetRouteValue("version") as string;
            var inputs = await PredictionBodies.ReadAsync(ctx).ConfigureAwait(false);
            try
            {
                var results = new List<PredictionResult>(inputs.Count);
                foreach (var input in inputs)
                {
                    try
                    {
                        var request = parse(input.Document.RootElement, model, version);
                        results.Add(await dispatcher.PredictAsync(request, ctx.RequestAborted).ConfigureAwait(false));
                    }
                    catch (ServingException e) when (inputs.Count > 1)
                    {
                        throw Within(e, input.Source);
                    }
                }
                await WriteResult(ctx, results, inputs.Count > 1 ? ResultShape.Array : ResultShape.Single).ConfigureAwait(false);
            }
            finally
            {
                foreach (var i in inputs) i.Dispose();
            }
        }, background);

    /// <summary>KServe v1: {"instances": [request, …]} → {"predictions"|"explanations": [result, …]} with the default version.</summary>
    private static RequestDelegate KServeV1(InferenceEngine engine, IInferenceDispatcher dispatcher,
        Func<JsonElement, string, string?, PredictionRequest> parse, ResultShape shape) => ctx => Guard(ctx, engine, async () =>
        {
            var model = (string)ctx.GetRouteValue("model")!;
            if (PredictionBodies.IsForm(ctx.Request))
                throw new ServingException(415, "UnsupportedMediaTypeException", "A KServe v1 body is JSON {\"instances\": [ … ]}, not a form.");
            using var body = await PredictionBodies.ReadJsonAsync(ctx).ConfigureAwait(false);
            if (body.RootElement.ValueKind != JsonValueKind.Object || !body.RootElement.TryGetProperty("instances", out var instances) || instances.ValueKind != JsonValueKind.Array)
                throw ServingException.BadRequest("A KServe v1 body is {\"instances\": [ … ]}.");
            var results = new List<PredictionResult>();
            foreach (var instance in instances.EnumerateArray())
            {
                var request = parse(instance, model, null);
                results.Add(await dispatcher.PredictAsync(request, ctx.RequestAborted).ConfigureAwait(false));
            }
            await WriteResult(ctx, results, shape).ConfigureAwait(false);
        });

    private static void MapInferenceRest(WebApplication app, InferenceEngine engine, IInferenceDispatcher dispatcher)
    {
        app.MapApi("GET", "/v1/models", ctx => Guard(ctx, engine, async () =>
        {
            var names = engine.Models.All().Select(e => e.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            await WriteJson(ctx, 200, new { models = names }).ConfigureAwait(false);
        }), KServeV1Tag, "KServe v1 list models: {\"models\": [name, …]}.")
            .Produces(200, contentType: "application/json");
        app.MapApi("GET", "/v1/models/{model}", ctx => Guard(ctx, engine, async () =>
        {
            var model = (string)ctx.GetRouteValue("model")!;
            var entry = engine.Models.Describe(model, null)[0];
            await WriteJson(ctx, 200, new { name = entry.Name, ready = IsReady(entry) }).ConfigureAwait(false);
        }), KServeV1Tag, "KServe v1 model ready: {\"name\", \"ready\"} for the default version (ready: loaded and at least one worker).")
            .Produces(200, contentType: "application/json").Errors(404);

        MapOpenInference(app, engine, dispatcher);
    }

    /// <summary>Loaded, not being unregistered, and with a worker to run it.</summary>
    private static bool IsReady(ModelEntry entry) => entry.Status == ModelStatus.Ready && entry.Workers.MinWorkers > 0;

    /// <summary>A failure of one input of a batch: the same status and type, the message says which input.</summary>
    private static ServingException Within(ServingException e, string source)
    {
        var wrapped = new ServingException(e.Code, e.Type, $"{source}: {e.Message}");
        foreach (var key in e.Data.Keys) wrapped.Data[key] = e.Data[key];
        return wrapped;
    }
}

internal static class PredictionRouteDocs
{
    public static RouteHandlerBuilder PredictionResponses(this RouteHandlerBuilder builder) =>
        builder.Produces(200, contentType: "application/json").Errors(400, 401, 403, 404, 413, 503, 504);
}
