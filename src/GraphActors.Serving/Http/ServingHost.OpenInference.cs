// The inference API's KServe v2 / Open Inference Protocol routes (8080): health, server and model metadata, infer.
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GraphActors.Serving;

/// <summary>Marks the Open Inference Protocol's routes: their errors carry its {"error": …} beside TorchServe's fields.</summary>
internal sealed class OpenInferenceEndpoint
{
    public static readonly OpenInferenceEndpoint Instance = new();
}

public sealed partial class ServingHost
{
    private const string KServeV2Tag = "KServe v2 (Open Inference Protocol)";

    // kserve docs/predict-api/v2/required_api.md: health is a status (200 true, 4xx false); the bodies are KServe's and
    // TorchServe's ({"live": true}, {"ready": …}). Versions are ours (a model's versions are all servable).
    private static void MapOpenInference(WebApplication app, InferenceEngine engine, IInferenceDispatcher dispatcher)
    {
        RouteHandlerBuilder Map(string method, string pattern, RequestDelegate handler, string summary) =>
            app.MapApi(method, pattern, ctx => Guard(ctx, engine, () => handler(ctx)), KServeV2Tag, summary)
                .WithMetadata(OpenInferenceEndpoint.Instance);

        Map("GET", "/v2", ctx => WriteJson(ctx, 200, new { name = "graphactors", version = ApiDescription.ServerVersion, extensions = Array.Empty<string>() }),
            "Server metadata: {name, version, extensions}.").Produces(200, contentType: "application/json");
        Map("GET", "/v2/health/live", ctx => WriteJson(ctx, 200, new { live = true }),
            "Server live: 200 {\"live\": true} while the server answers.").Produces(200, contentType: "application/json");
        Map("GET", "/v2/health/ready", async ctx =>
        {
            var h = await engine.CheckHealthAsync(ctx.RequestAborted).ConfigureAwait(false);
            if (h.Healthy) await WriteJson(ctx, 200, new { ready = true }).ConfigureAwait(false);
            else await WriteJson(ctx, 400, new { ready = false, error = h.Reason }).ConfigureAwait(false);
        }, "Server ready: 200 {\"ready\": true} with a model loaded and the graph store reachable, else 400 {\"ready\": false, \"error\"} (the protocol's 4xx).")
            .Produces(200, contentType: "application/json").Errors(400);

        RequestDelegate metadata = async ctx =>
        {
            var name = (string)ctx.GetRouteValue("model")!;
            var entry = engine.Models.Describe(name, ctx.GetRouteValue("version") as string)[0];
            var versions = engine.Models.Describe(name, "all").Select(e => e.Version).ToList();
            await WriteJson(ctx, 200, OpenInferenceProtocol.Metadata(entry, versions)).ConfigureAwait(false);
        };
        const string metadataSummary = "Model metadata: {name, versions, platform, inputs, outputs} (tensor names, datatypes and shapes; -1 = any size).";
        Map("GET", "/v2/models/{model}", metadata, metadataSummary).Produces(200, contentType: "application/json").Errors(404);
        Map("GET", "/v2/models/{model}/versions/{version}", metadata, metadataSummary).Produces(200, contentType: "application/json").Errors(404);

        RequestDelegate ready = async ctx =>
        {
            var entry = engine.Models.Describe((string)ctx.GetRouteValue("model")!, ctx.GetRouteValue("version") as string)[0];
            if (IsReady(entry)) await WriteJson(ctx, 200, new { name = entry.Name, ready = true }).ConfigureAwait(false);
            else await WriteJson(ctx, 400, new
            {
                name = entry.Name, ready = false,
                error = entry.Status != ModelStatus.Ready ? "the model is being unregistered" : "the model has no workers (scale it with PUT /models/{name}?min_worker=N)",
            }).ConfigureAwait(false);
        };
        const string readySummary = "Model ready: 200 {\"name\", \"ready\": true}, else 400 {\"ready\": false, \"error\"} (no workers, being unregistered); 404 for an unknown model.";
        Map("GET", "/v2/models/{model}/ready", ready, readySummary).Produces(200, contentType: "application/json").Errors(400, 404);
        Map("GET", "/v2/models/{model}/versions/{version}/ready", ready, readySummary).Produces(200, contentType: "application/json").Errors(400, 404);

        RequestDelegate infer = async ctx =>
        {
            if (PredictionBodies.IsForm(ctx.Request))
                throw new ServingException(415, "UnsupportedMediaTypeException", "An Open Inference Protocol request is a JSON inference request, not a form.");
            using var body = await PredictionBodies.ReadJsonAsync(ctx).ConfigureAwait(false);
            var parsed = OpenInferenceProtocol.Parse(body.RootElement, (string)ctx.GetRouteValue("model")!, ctx.GetRouteValue("version") as string);
            var result = await dispatcher.PredictAsync(parsed.Request, ctx.RequestAborted).ConfigureAwait(false);
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            using (var w = new Utf8JsonWriter(ctx.Response.BodyWriter)) OpenInferenceProtocol.Write(w, result, parsed);
            await ctx.Response.BodyWriter.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
        };
        const string inferSummary = "Inference: input tensors ids (INT64 [n]) with node_type, or pairs (INT64 [n, 2]) with src_type and dst_type " +
            "(parameters or BYTES inputs) → outputs label and probabilities, embeddings, or score and probability. docs/SERVING.md has the mapping.";
        var inferBody = new ApiBody("An Open Inference Protocol inference request {id?, parameters?, inputs: [{name, shape, datatype, data}], outputs?}.", "application/json");
        Map("POST", "/v2/models/{model}/infer", infer, inferSummary).WithMetadata(AdmittedEndpoint.Instance, inferBody).PredictionResponses();
        Map("POST", "/v2/models/{model}/versions/{version}/infer", infer, inferSummary).WithMetadata(AdmittedEndpoint.Instance, inferBody).PredictionResponses();
    }
}
