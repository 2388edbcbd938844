using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace GraphActors.Serving.Tests;

public sealed class WorldFixture : IDisposable
{
    public TestWorld World { get; } = new();
    public void Dispose() => World.Dispose();
}

/// <summary>Predictions, bad requests, overload, auth and management, with features from the graph store only.</summary>
public sealed class PredictionTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private TestWorld W => fx.World;

    [Fact]
    public async Task A_full_neighbourhood_prediction_equals_the_model_run_offline_on_the_whole_graph()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var offline = W.OfflineUserProbabilities();
        var ids = new long[] { 1000, 1005, 1005, 1042, 1059 };
        var (status, body) = await s.PostAsync("/predictions/sage", $$"""{"node_type":"user","ids":[{{string.Join(",", ids)}}],"full_neighborhood":true}""");
        Assert.Equal(200, status);
        Assert.Equal("1.0", body.GetProperty("version").GetString());
        var predictions = body.GetProperty("predictions").EnumerateArray().ToList();
        Assert.Equal(ids.Length, predictions.Count);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(ids[i], predictions[i].GetProperty("id").GetInt64());
            var probs = Served.Floats(predictions[i].GetProperty("probabilities"));
            var expected = offline[ids[i] - 1000];
            for (var c = 0; c < 3; c++) Assert.Equal(expected[c], probs[c], 1e-5f);
            Assert.Equal(Array.IndexOf(expected, expected.Max()), predictions[i].GetProperty("label").GetInt32());
        }
    }

    [Fact]
    public async Task A_model_without_fanouts_samples_full_neighbourhoods_and_sampled_requests_still_answer()
    {
        await using var s = await Served.StartAsync(W, models: ["full=test://sage-full", "sage=test://sage"]);
        var offline = W.OfflineUserProbabilities();
        var (status, body) = await s.PostAsync("/predictions/full", """{"node_type":"user","ids":[1007]}""");
        Assert.Equal(200, status);
        var probs = Served.Floats(body.GetProperty("predictions")[0].GetProperty("probabilities"));
        for (var c = 0; c < 3; c++) Assert.Equal(offline[7][c], probs[c], 1e-5f);

        // Fanouts [5, 5]: an approximation, but a distribution, and the same request samples the same neighbours.
        var (s1, b1) = await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1007, 1008]}""");
        var (_, b2) = await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1007, 1008]}""");
        Assert.Equal(200, s1);
        var p1 = Served.Floats(b1.GetProperty("predictions")[0].GetProperty("probabilities"));
        Assert.Equal(1f, p1.Sum(), 1e-5f);
        var p2 = Served.Floats(b2.GetProperty("predictions")[0].GetProperty("probabilities"));
        for (var c = 0; c < 3; c++) Assert.Equal(p1[c], p2[c], 1e-6f); // same neighbours; torch reductions may reorder
    }

    [Fact]
    public async Task Embeddings_and_link_scores_equal_the_offline_outputs()
    {
        await using var s = await Served.StartAsync(W, models: ["link=test://link"]);
        var users = W.Offline(W.LinkStatePath, 8, "user", softmax: false);
        var items = W.Offline(W.LinkStatePath, 8, "item", softmax: false);
        var (status, body) = await s.PostAsync("/predictions/link", """{"src_type":"user","dst_type":"item","pairs":[[1003,5001],[1010,5039]],"full_neighborhood":true}""");
        Assert.Equal(200, status);
        var preds = body.GetProperty("predictions");
        var expected0 = users[3].Zip(items[1], (a, b) => a * b).Sum();
        Assert.Equal(expected0, preds[0].GetProperty("score").GetSingle(), 1e-4f);
        Assert.Equal(1 / (1 + MathF.Exp(-expected0)), preds[0].GetProperty("probability").GetSingle(), 1e-5f);
        Assert.Equal(users[10].Zip(items[39], (a, b) => a * b).Sum(), preds[1].GetProperty("score").GetSingle(), 1e-4f);

        var (es, eb) = await s.PostAsync("/predictions/link", """{"node_type":"item","ids":[5002],"embeddings":true,"full_neighborhood":true}""");
        Assert.Equal(200, es);
        var emb = Served.Floats(eb.GetProperty("predictions")[0].GetProperty("embedding"));
        for (var k = 0; k < 8; k++) Assert.Equal(items[2][k], emb[k], 1e-5f);
    }

    [Fact]
    public async Task The_KServe_v1_endpoint_answers_each_instance()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var (status, body) = await s.PostAsync("/v1/models/sage:predict",
            """{"instances":[{"node_type":"user","ids":[1001],"full_neighborhood":true},{"node_type":"user","ids":[1002,1003]}]}""");
        Assert.True(status == 200, body.ToString());
        var preds = body.GetProperty("predictions");
        Assert.Equal(2, preds.GetArrayLength());
        Assert.Equal(2, preds[1].GetProperty("predictions").GetArrayLength());
    }

    [Fact]
    public async Task Every_bad_request_gets_its_status_and_a_TorchServe_error_body()
    {
        await using var s = await Served.StartAsync(W, options: new InferenceOptions { MaxIdsPerRequest = 8 }, models: ["sage=test://sage"]);
        async Task Expect(int code, string type, string messagePart, string path, string body, string contentType = "application/json")
        {
            using var content = new StringContent(body, System.Text.Encoding.UTF8);
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            using var response = await s.Inference.PostAsync(path, content);
            var json = await Served.Parse(response);
            Assert.Equal(code, (int)response.StatusCode);
            Assert.Equal(code, json.GetProperty("code").GetInt32());
            Assert.Equal(type, json.GetProperty("type").GetString());
            Assert.Contains(messagePart, json.GetProperty("message").GetString());
        }
        await Expect(400, "BadRequestException", "Malformed JSON", "/predictions/sage", """{"node_type":"user","ids":[1000""");
        await Expect(400, "BadRequestException", "\"ids\"", "/predictions/sage", """{"node_type":"user"}""");
        await Expect(400, "BadRequestException", "ids[1] is not an integer", "/predictions/sage", """{"node_type":"user","ids":[1000,"x"]}""");
        await Expect(404, "ModelNotFoundException", "Model not found: nope", "/predictions/nope", """{"node_type":"user","ids":[1000]}""");
        await Expect(404, "ModelNotFoundException", "Model version: 9.9 does not exist", "/predictions/sage/9.9", """{"node_type":"user","ids":[1000]}""");
        await Expect(400, "BadRequestException", "Unknown node type 'planet'", "/predictions/sage", """{"node_type":"planet","ids":[1]}""");
        await Expect(404, "NodeNotFoundException", "999999", "/predictions/sage", """{"node_type":"user","ids":[1000,999999]}""");
        await Expect(413, "RequestTooLargeException", "limit is 8", "/predictions/sage", """{"node_type":"user","ids":[1000,1001,1002,1003,1004,1005,1006,1007,1008]}""");
        // TorchServe reads any body whatever its Content-Type says: text that is not JSON is a 400, not a 415.
        await Expect(400, "BadRequestException", "Malformed JSON", "/predictions/sage", """node_type=user""", "text/plain");
        await Expect(415, "UnsupportedMediaTypeException", "not a form", "/v1/models/sage:predict", "instances=1", "application/x-www-form-urlencoded");
        await Expect(400, "BadRequestException", "does not score pairs", "/predictions/sage", """{"src_type":"user","dst_type":"item","pairs":[[1000,5000]]}""");
    }

    [Fact]
    public async Task More_requests_in_flight_than_allowed_are_refused_at_once_before_their_body_is_read_told_when_to_retry_and_counted_per_model()
    {
        GateFeatureSource? gate = null;
        await using var s = await Served.StartAsync(W, options: new InferenceOptions { MaxInFlight = 1 },
            wrap: _ => gate = new GateFeatureSource(), models: ["sage=test://sage"]);
        var held = s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1000]}""");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (s.Engine.InFlight < 1 && DateTime.UtcNow < deadline) await Task.Delay(10);
        Assert.Equal(1, s.Engine.InFlight);

        // Refused before the body is read: a body that is not even JSON, or of the wrong type, gets the 503, not a 400/415.
        foreach (var (body, type) in new[] { ("{ not json", "application/json"), ("ids=1", "text/plain") })
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            using var response = await s.Inference.PostAsync("/predictions/sage", new StringContent(body, System.Text.Encoding.UTF8, type));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2), $"the refusal took {sw.Elapsed}: it waited instead of refusing");
            Assert.Equal("1", response.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var json = await Served.Parse(response);
            Assert.Equal(503, json.GetProperty("code").GetInt32());
            Assert.Equal("ServiceUnavailableException", json.GetProperty("type").GetString());
            Assert.Contains("max 1", json.GetProperty("message").GetString());
        }
        // KServe's endpoint is admitted the same way; a model that is not registered is refused too, but stays out of the
        // per-model counter.
        using (var kserve = await s.Inference.PostAsync("/v1/models/sage:predict", Served.Json("""{"instances":[{"node_type":"user","ids":[1001]}]}""")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, kserve.StatusCode);
        using (var unknown = await s.Inference.PostAsync("/predictions/nosuchmodel", Served.Json("""{"node_type":"user","ids":[1]}""")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, unknown.StatusCode);
        // Reads are not admitted: they answer while the slot is taken.
        using (var ping = await s.Inference.GetAsync("/ping")) Assert.Equal(HttpStatusCode.OK, ping.StatusCode);

        var metrics = await s.Metrics.GetStringAsync("/metrics");
        var version = s.Engine.Models.DefaultVersion("sage");
        Assert.Contains($"ts_inference_requests_total{{model_name=\"sage\",model_version=\"{version}\",code=\"503\"}} 3\n", metrics);
        Assert.DoesNotContain("nosuchmodel", metrics);
        Assert.Contains("graphactors_errors_total{code=\"503\",type=\"ServiceUnavailableException\"} 4\n", metrics);

        gate!.Open();
        Assert.Equal(200, (await held).Status);
        Assert.Equal(0, s.Engine.InFlight);
        // The slot is free again: the next request is admitted and answered.
        Assert.Equal(200, (await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1001]}""")).Status);
        Assert.Equal(0, s.Engine.InFlight);
    }

    [Fact]
    public async Task Management_needs_the_bearer_token_and_inference_can_too()
    {
        await using var s = await Served.StartAsync(W, serving: new ServingOptions { ManagementToken = "mgmt", InferenceToken = "inf" }, models: ["sage=test://sage"]);
        using (var r = await s.Management.GetAsync("/models")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var req = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "wrong") } })
        using (var r = await s.Management.SendAsync(req))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Equal(403, (await Served.Parse(r)).GetProperty("code").GetInt32());
        }
        using (var req = new HttpRequestMessage(HttpMethod.Get, "/models") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "mgmt") } })
        using (var r = await s.Management.SendAsync(req)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        var (status, _) = await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1000]}""");
        Assert.Equal(401, status);
        using var ok = new HttpRequestMessage(HttpMethod.Post, "/predictions/sage")
        {
            Content = Served.Json("""{"node_type":"user","ids":[1000]}"""),
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "inf") },
        };
        using (var r = await s.Inference.SendAsync(ok)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        // The management token is not the inference token.
        using var mixed = new HttpRequestMessage(HttpMethod.Post, "/predictions/sage")
        {
            Content = Served.Json("""{"node_type":"user","ids":[1000]}"""),
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "mgmt") },
        };
        using (var r = await s.Inference.SendAsync(mixed)) Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
    }

    [Fact]
    public async Task Listing_models_pages_with_nextPageToken()
    {
        await using var s = await Served.StartAsync(W, models: ["m3=test://sage", "m0=test://sage", "m4=test://sage", "m1=test://sage", "m2=test://sage"]);
        var names = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var json = await Served.Parse(await s.Management.GetAsync($"/models?limit=2{(token is null ? "" : "&next_page_token=" + token)}"));
            var models = json.GetProperty("models").EnumerateArray().ToList();
            Assert.True(models.Count <= 2);
            names.AddRange(models.Select(m => m.GetProperty("modelName").GetString()!));
            Assert.All(models, m => Assert.Equal("test://sage", m.GetProperty("modelUrl").GetString()));
            token = json.TryGetProperty("nextPageToken", out var t) ? t.GetString() : null;
            pages++;
        } while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], names);
        using var bad = await s.Management.GetAsync("/models?next_page_token=abc");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Models_are_loaded_switched_and_deleted_through_management()
    {
        await using var s = await Served.StartAsync(W);
        using (var ping = await s.Inference.GetAsync("/ping"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ping.StatusCode);
            var json = await Served.Parse(ping);
            Assert.Equal("Unhealthy", json.GetProperty("status").GetString());
            Assert.Equal("no model is loaded", json.GetProperty("reason").GetString());
        }
        async Task<(int, JsonElement)> Send(HttpMethod method, string path)
        {
            using var r = await s.Management.SendAsync(new HttpRequestMessage(method, path));
            return ((int)r.StatusCode, await Served.Parse(r));
        }
        var (c1, b1) = await Send(HttpMethod.Post, "/models?url=test://sage&model_name=clf");
        Assert.Equal(200, c1);
        Assert.Contains("\"clf\" Version: 1.0 registered", b1.GetProperty("status").GetString());
        var (c2, _) = await Send(HttpMethod.Post, "/models?url=test://sage-full&model_name=clf");
        Assert.Equal(200, c2);
        var (dup, dupBody) = await Send(HttpMethod.Post, "/models?url=test://sage&model_name=clf");
        Assert.Equal(409, dup);
        Assert.Contains("already registered", dupBody.GetProperty("message").GetString());
        var (badUrl, badBody) = await Send(HttpMethod.Post, "/models?url=test://missing&model_name=x");
        Assert.Equal(400, badUrl);
        Assert.Contains("test://missing", badBody.GetProperty("message").GetString());

        var (_, described) = await Send(HttpMethod.Get, "/models/clf");
        Assert.Equal("1.0", described[0].GetProperty("modelVersion").GetString());
        Assert.Equal("test://sage", described[0].GetProperty("modelUrl").GetString());
        Assert.Equal("READY", described[0].GetProperty("status").GetString());
        // TorchServe's worker fields: the version's lanes onto the engine's torch workers (as many as it has: one by default), in this process.
        Assert.Equal(1, described[0].GetProperty("minWorkers").GetInt32());
        var workers = described[0].GetProperty("workers");
        Assert.Equal(1, workers.GetArrayLength());
        Assert.Equal("clf-1.0-0", workers[0].GetProperty("id").GetString());
        Assert.Equal(Environment.ProcessId, workers[0].GetProperty("pid").GetInt32());
        Assert.Contains(workers[0].GetProperty("status").GetString(), new[] { "READY", "BUSY" });
        var (_, all) = await Send(HttpMethod.Get, "/models/clf/all");
        Assert.Equal(2, all.GetArrayLength());

        var (sd, sdBody) = await Send(HttpMethod.Put, "/models/clf/2.0/set-default");
        Assert.Equal(200, sd);
        Assert.Contains("\"2.0\"", sdBody.GetProperty("status").GetString());
        var (_, p2) = await s.PostAsync("/predictions/clf", """{"node_type":"user","ids":[1000]}""");
        Assert.Equal("2.0", p2.GetProperty("version").GetString());
        var (_, p1) = await s.PostAsync("/predictions/clf/1.0", """{"node_type":"user","ids":[1000]}""");
        Assert.Equal("1.0", p1.GetProperty("version").GetString());

        var (delDefault, _) = await Send(HttpMethod.Delete, "/models/clf/2.0");
        Assert.Equal(400, delDefault);
        var (del, delBody) = await Send(HttpMethod.Delete, "/models/clf/1.0");
        Assert.Equal(200, del);
        Assert.Equal("Model \"clf\" unregistered", delBody.GetProperty("status").GetString());
        var (gone, _) = await Send(HttpMethod.Get, "/models/clf/1.0");
        Assert.Equal(404, gone);
        var (noVersion, _) = await s.PostAsync("/predictions/clf/1.0", """{"node_type":"user","ids":[1000]}""");
        Assert.Equal(404, noVersion);
        using var healthy = await s.Inference.GetAsync("/ping");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal("Healthy", (await Served.Parse(healthy)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metrics_are_in_the_Prometheus_text_format()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1000]}""");
        await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[4]}""");
        await s.PostAsync("/predictions/nope", """{"node_type":"user","ids":[1000]}""");
        using var r = await s.Metrics.GetAsync("/metrics");
        Assert.Equal("text/plain", r.Content.Headers.ContentType!.MediaType);
        var text = await r.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE ts_inference_requests_total counter\n", text);
        Assert.Contains("ts_inference_requests_total{model_name=\"sage\",model_version=\"1.0\",code=\"200\"} 1\n", text);
        Assert.Contains("ts_inference_requests_total{model_name=\"sage\",model_version=\"1.0\",code=\"404\"} 1\n", text);
        Assert.Matches(@"ts_inference_latency_microseconds\{model_name=""sage"",model_version=""1.0""\} [0-9.]+\n", text);
        Assert.Matches(@"ts_queue_latency_microseconds\{model_name=""sage"",model_version=""1.0""\} [0-9.]+\n", text);
        Assert.Contains("graphactors_errors_total{code=\"404\",type=\"ModelNotFoundException\"} 1\n", text);
        Assert.Contains("graphactors_errors_total{code=\"404\",type=\"NodeNotFoundException\"} 1\n", text);
        Assert.Contains("graphactors_models_loaded 1\n", text);
        Assert.DoesNotContain("graphactors_redis_up", text); // no cache configured
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('#')))
            Assert.Matches(@"^[a-z_]+(\{[a-z_]+=""[^""]*""(,[a-z_]+=""[^""]*"")*\})? -?[0-9.eE+-]+$", line);
    }
}
