// The status page's HTTP side on the management port: the page itself and its JSON, GET /status/api.
using System.Buffers;
using System.Text.Json;
using Akka.Actor;
using GraphActors.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Status;

/// <summary>
/// Joins the <see cref="StatusActor"/>'s snapshot (cluster, partitions, training) with the engine's serving metrics
/// and serves both, as the <see cref="ServingOptions.ConfigureManagement"/> hook of an inference node. The page
/// (<c>GET /status</c>, and <c>GET /</c> redirects to it) carries no data, so it is served without the management
/// token; the data (<c>GET /status/api</c>) is a management route like the others and needs
/// <c>Authorization: Bearer &lt;token&gt;</c> when one is configured. The page takes the token from the address's
/// fragment (<c>/status#token=…</c>), which browsers never send to a server (docs/STATUS.md).
/// </summary>
public sealed class StatusSource
{
    public const string PagePath = "/status", ApiPath = "/status/api";

    private readonly IActorRef _collector;
    private readonly InferenceEngine _engine;
    private readonly StatusSettings _settings;

    public StatusSource(IActorRef collector, InferenceEngine engine, StatusSettings settings)
    {
        _collector = collector;
        _engine = engine;
        _settings = settings;
    }

    /// <summary>Starts the collector as a child of <paramref name="context"/> (the inference actor): it stops with it.</summary>
    public static StatusSource Start(IActorRefFactory context, InferenceEngine engine, StatusSettings settings) =>
        new(context.ActorOf(StatusActor.Props(settings), "status"), engine, settings);

    /// <summary>The <see cref="ServingOptions.ConfigureManagement"/> hook.</summary>
    public void Map(WebApplication app)
    {
        // Runs before the management token check: it answers only the page and the redirect, which carry no data.
        app.Use(async (ctx, next) =>
        {
            var path = ctx.Request.Path.Value;
            if ((HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method)) && path is "/" or PagePath)
            {
                if (path == "/") ctx.Response.Redirect(PagePath);
                else await StatusPage.WriteAsync(ctx).ConfigureAwait(false);
                return;
            }
            await next(ctx).ConfigureAwait(false);
        });
        app.MapGet(ApiPath, async ctx =>
        {
            byte[] body;
            try
            {
                body = await RenderAsync(ctx.RequestAborted).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                await Problem(ctx, 503, "ServiceUnavailableException",
                    $"The status collector did not answer within {_settings.AskTimeout.TotalSeconds:0.#} s.").ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
            {
                return; // the client went away
            }
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            ctx.Response.Headers.CacheControl = "no-store";
            await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted).ConfigureAwait(false);
        });
    }

    /// <summary>The JSON of <c>GET /status/api</c> (its layout is in docs/STATUS.md).</summary>
    public async Task<byte[]> RenderAsync(CancellationToken cancellationToken = default)
    {
        var snapshot = await _collector.Ask<StatusActor.Snapshot>(StatusActor.GetSnapshot.Instance, _settings.AskTimeout, cancellationToken)
            .ConfigureAwait(false);
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("at", snapshot.AtUnixMs);
            WriteCluster(w, snapshot);
            WritePartitions(w, snapshot);
            WriteTraining(w, snapshot);
            WriteServing(w, _engine);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteCluster(Utf8JsonWriter w, StatusActor.Snapshot s)
    {
        w.WriteStartObject("cluster");
        w.WriteString("self", s.SelfAddress);
        w.WriteString("leader", s.Leader);
        w.WriteStartArray("members");
        foreach (var m in s.Members)
        {
            w.WriteStartObject();
            w.WriteString("address", m.Address);
            w.WriteStartArray("roles");
            foreach (var r in m.Roles) w.WriteStringValue(r);
            w.WriteEndArray();
            w.WriteString("status", m.Status);
            w.WriteBoolean("reachable", m.Reachable);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WritePartitions(Utf8JsonWriter w, StatusActor.Snapshot s)
    {
        w.WriteStartObject("partitions");
        if (s.Partitions is not { } p)
        {
            w.WriteNull("asOf");
            w.WriteNumber("parts", 0);
            w.WriteString("problem", "the partition table is being gathered");
            w.WriteStartArray("rows");
            w.WriteEndArray();
            w.WriteEndObject();
            return;
        }
        w.WriteNumber("asOf", s.PartitionsAtUnixMs);
        w.WriteNumber("parts", p.Parts);
        w.WriteString("problem", p.Problem);
        w.WriteStartArray("rows");
        foreach (var r in p.Partitions)
        {
            w.WriteStartObject();
            w.WriteNumber("partition", r.Partition);
            w.WriteString("state", r.State.ToString());
            w.WriteString("node", r.Node);
            w.WriteNumber("mappedBytes", r.MappedBytes);
            w.WriteNumber("requests", r.Requests);
            Number(w, "requestsPerSecond", r.RequestsPerSecond >= 0 ? r.RequestsPerSecond : double.NaN);
            w.WriteString("problem", r.Problem);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteTraining(Utf8JsonWriter w, StatusActor.Snapshot s)
    {
        w.WriteStartObject("training");
        w.WriteString("problem", s.JobProblem);
        if (s.Job is { } j && j.JobId.Length > 0)
        {
            w.WriteNumber("asOf", s.JobAtUnixMs);
            w.WriteStartObject("job");
            w.WriteString("jobId", j.JobId);
            w.WriteString("state", j.State.ToString());
            w.WriteNumber("epoch", j.Epoch);
            w.WriteNumber("lastCompletedEpoch", j.LastCompletedEpoch);
            w.WriteNumber("round", j.Round);
            w.WriteNumber("step", j.Step);
            w.WriteNumber("globalStep", j.GlobalStep);
            Number(w, "loss", j.LastLoss);
            Metrics(w, j.MetricNames, j.MetricValues);
            Number(w, "bestMetric", j.BestMetric);
            w.WriteNumber("bestEpoch", j.BestEpoch);
            w.WriteString("lastCheckpoint", j.LastCheckpointPath);
            Number(w, "etaSeconds", j.EtaSeconds >= 0 ? j.EtaSeconds : double.NaN);
            w.WriteStartArray("trainers");
            foreach (var t in j.Trainers) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteString("reason", j.Reason);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNumber("asOf", s.JobAtUnixMs);
            w.WriteNull("job");
        }
        // Loss points as [globalStep, loss, epoch, step, at]: compact, the page polls them every second or two.
        w.WriteStartArray("loss");
        foreach (var p in s.Loss)
        {
            w.WriteStartArray();
            w.WriteNumberValue(p.GlobalStep);
            w.WriteNumberValue(p.Loss);
            w.WriteNumberValue(p.Epoch);
            w.WriteNumberValue(p.Step);
            w.WriteNumberValue(p.AtUnixMs);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("epochs");
        foreach (var e in s.Epochs)
        {
            w.WriteStartObject();
            w.WriteNumber("epoch", e.Epoch);
            Number(w, "loss", e.Loss);
            Metrics(w, e.MetricNames, e.MetricValues);
            w.WriteNumber("at", e.AtUnixMs);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteServing(Utf8JsonWriter w, InferenceEngine engine)
    {
        w.WriteStartObject("serving");
        w.WriteNumber("inFlight", engine.InFlight);
        w.WriteStartArray("models");
        foreach (var m in engine.Models.All().OrderBy(m => m.Name, StringComparer.Ordinal).ThenBy(m => m.Version, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("version", m.Version);
            w.WriteString("status", m.Status == ModelStatus.Ready ? "READY" : "UNLOADING");
            w.WriteBoolean("isDefault", engine.Models.DefaultVersion(m.Name) == m.Version);
            w.WriteString("modelType", m.Model.Config.ModelType.ToString());
            w.WriteString("task", m.Model.Info.Task.ToString());
            w.WriteEndObject();
        }
        w.WriteEndArray();

        // The counters exactly as the metrics port renders them.
        var samples = MetricsText.Parse(engine.Metrics.Render());
        w.WriteStartArray("requests");
        foreach (var s in samples)
        {
            if (s.Name != "ts_inference_requests_total") continue;
            w.WriteStartObject();
            w.WriteString("model", s.Label("model_name"));
            w.WriteString("version", s.Label("model_version"));
            w.WriteString("code", s.Label("code"));
            w.WriteNumber("count", s.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("latency");
        foreach (var s in samples)
        {
            if (s.Name != "ts_inference_latency_microseconds") continue;
            var queue = 0.0;
            foreach (var q in samples)
                if (q.Name == "ts_queue_latency_microseconds" && q.Label("model_name") == s.Label("model_name") && q.Label("model_version") == s.Label("model_version"))
                    queue = q.Value;
            w.WriteStartObject();
            w.WriteString("model", s.Label("model_name"));
            w.WriteString("version", s.Label("model_version"));
            w.WriteNumber("inferenceMicros", s.Value);
            w.WriteNumber("queueMicros", queue);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("errors");
        foreach (var s in samples)
        {
            if (s.Name != "graphactors_errors_total") continue;
            w.WriteStartObject();
            w.WriteString("code", s.Label("code"));
            w.WriteString("type", s.Label("type"));
            w.WriteNumber("count", s.Value);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        double hits = 0, misses = 0, storeRows = 0;
        foreach (var s in samples)
        {
            switch (s.Name)
            {
                case "graphactors_feature_cache_hits_total": hits += s.Value; break;
                case "graphactors_feature_cache_misses_total": misses += s.Value; break;
                case "graphactors_store_feature_rows_total": storeRows += s.Value; break;
            }
        }
        w.WriteNumber("featureCacheHits", hits);
        w.WriteNumber("featureCacheMisses", misses);
        w.WriteNumber("storeFeatureRows", storeRows);
        w.WriteEndObject();
    }

    private static void Metrics(Utf8JsonWriter w, string[] names, float[] values)
    {
        w.WriteStartArray("metrics");
        for (var i = 0; i < names.Length && i < values.Length; i++)
        {
            w.WriteStartObject();
            w.WriteString("name", names[i]);
            Number(w, "value", values[i]);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    // JSON has no NaN: "unknown" is null.
    private static void Number(Utf8JsonWriter w, string name, float v)
    {
        if (float.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    private static async Task Problem(HttpContext ctx, int code, string type, string message)
    {
        ctx.Response.StatusCode = code;
        ctx.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(ctx.Response.Body, new { code, type, message }, cancellationToken: ctx.RequestAborted).ConfigureAwait(false);
    }
}
