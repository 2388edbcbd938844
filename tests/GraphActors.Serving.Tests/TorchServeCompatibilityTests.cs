// What a TorchServe client does, against real Kestrel on loopback: the answers it gets must be TorchServe's.
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace GraphActors.Serving.Tests;

/// <summary>
/// Each test names the TorchServe document whose behaviour it checks: pytorch/serve docs/inference_api.md (predictions,
/// API description) and docs/management_api.md (register, scale workers, describe, API description).
/// </summary>
public sealed class TorchServeCompatibilityTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private TestWorld W => fx.World;
    private const string Request = """{"node_type":"user","ids":[1000,1001],"full_neighborhood":true}""";

    private static async Task<(int Status, JsonElement Body)> Send(HttpClient client, HttpMethod method, string path, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await Served.Parse(response));
    }

    private static ByteArrayContent Raw(string body, string? contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        if (contentType is not null) content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return content;
    }

    private static void AssertError(JsonElement body, int code, string type, string messagePart)
    {
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        Assert.Equal(type, body.GetProperty("type").GetString());
        Assert.Contains(messagePart, body.GetProperty("message").GetString());
    }

    // ---- predictions: docs/inference_api.md, "curl http://localhost:8080/predictions/resnet-18 -T kitten_small.jpg" or "-F data=@…" ----

    [Theory]
    [InlineData(null)]                       // curl -T file sends no Content-Type
    [InlineData("application/octet-stream")]
    [InlineData("text/plain")]
    [InlineData("application/json")]
    public async Task A_raw_body_of_any_or_no_content_type_is_decoded_as_JSON(string? contentType)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var (status, body) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage", Raw(Request, contentType));
        Assert.True(status == 200, body.ToString());
        Assert.Equal(2, body.GetProperty("predictions").GetArrayLength());
        Assert.Equal(1001, body.GetProperty("predictions")[1].GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task A_multipart_data_part_answers_like_the_raw_body_and_several_parts_are_a_batch_answered_in_order()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var (_, raw) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage", Raw(Request, null));

        // curl -F data=@request.json: one file part named data
        using (var one = new MultipartFormDataContent { { Raw(Request, "application/json"), "data", "request.json" } })
        {
            var (status, body) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage", one);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(raw.ToString(), body.ToString());
        }
        // -F data=@a.json -F body=@b.json: a batch, an array of answers in the order of the parts
        using (var two = new MultipartFormDataContent
        {
            { Raw("""{"node_type":"user","ids":[1003]}""", null), "data", "a.json" },
            { new StringContent("""{"node_type":"user","ids":[1004,1005]}"""), "body" },
        })
        {
            var (status, body) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage/1.0", two);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(JsonValueKind.Array, body.ValueKind);
            Assert.Equal(1003, body[0].GetProperty("predictions")[0].GetProperty("id").GetInt64());
            Assert.Equal(2, body[1].GetProperty("predictions").GetArrayLength());
        }
        // a form-urlencoded data field (TorchServe decodes those too)
        using (var form = new FormUrlEncodedContent([new("data", Request)]))
        {
            var (status, body) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage", form);
            Assert.True(status == 200, body.ToString());
            Assert.Equal(raw.ToString(), body.ToString());
        }
    }

    [Fact]
    public async Task A_form_body_without_a_data_part_or_with_a_part_that_is_not_JSON_is_a_400_naming_the_part()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        using (var wrongName = new MultipartFormDataContent { { Raw(Request, null), "file", "request.json" } })
        {
            var (status, body) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage", wrongName);
            Assert.Equal(400, status);
            AssertError(body, 400, "BadRequestException", "'file'");
        }
        using (var image = new MultipartFormDataContent { { new ByteArrayContent([0xFF, 0xD8, 0xFF, 0xE0]), "data", "kitten.jpg" } })
        {
            var (status, body) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage", image);
            Assert.Equal(400, status);
            AssertError(body, 400, "BadRequestException", "multipart part 'data' #1 (kitten.jpg)");
        }
        // One bad input of a batch fails the request, naming which one.
        using (var batch = new MultipartFormDataContent
        {
            { new StringContent(Request), "data" },
            { new StringContent("""{"node_type":"user","ids":[999999]}"""), "data" },
        })
        {
            var (status, body) = await Send(s.Inference, HttpMethod.Post, "/predictions/sage", batch);
            Assert.Equal(404, status);
            AssertError(body, 404, "NodeNotFoundException", "multipart part 'data' #2");
        }
    }

    // ---- scale workers: docs/management_api.md, "Scale workers" ----

    [Fact]
    public async Task Scaling_answers_202_or_200_as_TorchServe_and_a_model_scaled_to_no_workers_answers_503()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage", "link=test://link"]);

        var (async, asyncBody) = await Send(s.Management, HttpMethod.Put, "/models/sage?min_worker=0");
        Assert.Equal(202, async);
        Assert.Equal("Processing worker updates...", asyncBody.GetProperty("status").GetString());
        var (refused, refusedBody) = await s.PostAsync("/predictions/sage", Request);
        Assert.Equal(503, refused);
        AssertError(refusedBody, 503, "ServiceUnavailableException", "Model \"sage\" Version 1.0 has no worker to serve inference request. Please use scale workers API to add workers.");
        var (_, described) = await Send(s.Management, HttpMethod.Get, "/models/sage");
        Assert.Equal(0, described[0].GetProperty("minWorkers").GetInt32());
        Assert.Equal(0, described[0].GetProperty("workers").GetArrayLength());
        // Other models keep their workers.
        Assert.Equal(200, (await s.PostAsync("/predictions/link", """{"src_type":"user","dst_type":"item","pairs":[[1003,5001]]}""")).Status);

        var (sync, syncBody) = await Send(s.Management, HttpMethod.Put, "/models/sage?min_worker=3&max_worker=4&synchronous=true");
        Assert.Equal(200, sync);
        Assert.Equal("Workers scaled to 3 for model: sage", syncBody.GetProperty("status").GetString());
        var (versioned, versionedBody) = await Send(s.Management, HttpMethod.Put, "/models/sage/1.0?min_worker=2&synchronous=true");
        Assert.Equal(200, versioned);
        Assert.Equal("Workers scaled to 2 for model: sage, version: 1.0", versionedBody.GetProperty("status").GetString());
        (_, described) = await Send(s.Management, HttpMethod.Get, "/models/sage/1.0");
        Assert.Equal((2, 2), (described[0].GetProperty("minWorkers").GetInt32(), described[0].GetProperty("maxWorkers").GetInt32()));
        Assert.Equal(2, described[0].GetProperty("workers").GetArrayLength());
        Assert.Equal(200, (await s.PostAsync("/predictions/sage", Request)).Status);
    }

    [Theory]
    [InlineData("/models/sage?min_worker=2&max_worker=1", 400, "max_worker (1) cannot be less than min_worker (2)")]
    [InlineData("/models/sage?min_worker=two", 400, "min_worker must be an integer, got 'two'")]
    [InlineData("/models/sage?min_worker=-1", 400, "min_worker must be 0 or more")]
    [InlineData("/models/sage?min_worker=100000", 400, "min_worker 100000 is more than max-in-flight")]
    [InlineData("/models/sage?min_worker=1&synchronous=maybe", 400, "synchronous must be true or false, got 'maybe'")]
    [InlineData("/models/sage?min_worker=1&timeout=-5", 400, "timeout must be -1")]
    [InlineData("/models/nope?min_worker=1", 404, "Model not found: nope")]
    [InlineData("/models/sage/9.9?min_worker=1", 404, "Model version: 9.9 does not exist for model: sage")]
    public async Task A_bad_scale_request_is_refused_naming_the_field_and_changes_nothing(string path, int code, string message)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var (status, body) = await Send(s.Management, HttpMethod.Put, path);
        Assert.Equal(code, status);
        AssertError(body, code, code == 404 ? "ModelNotFoundException" : "BadRequestException", message);
        Assert.Equal(1, s.Engine.Models.Describe("sage", null)[0].Workers.MinWorkers);
    }

    // ---- register: docs/management_api.md, "Register a model" (initial_workers, synchronous) ----

    [Fact]
    public async Task An_asynchronous_registration_answers_202_at_once_and_its_model_appears_when_loaded()
    {
        await using var s = await Served.StartAsync(W);
        var (status, body) = await Send(s.Management, HttpMethod.Post, "/models?url=test://sage&model_name=bg&initial_workers=2&synchronous=false");
        Assert.Equal(202, status);
        Assert.Equal("Processing worker updates...", body.GetProperty("status").GetString());
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement described;
        int code;
        while (((code, described) = await Send(s.Management, HttpMethod.Get, "/models/bg")).code != 200 && DateTime.UtcNow < deadline)
        {
            Assert.Contains("being registered in the background", described.GetProperty("message").GetString());
            await Task.Delay(20);
        }
        Assert.Equal(200, code);
        Assert.Equal(2, described[0].GetProperty("minWorkers").GetInt32());
        Assert.Equal(200, (await s.PostAsync("/predictions/bg", Request)).Status);
    }

    [Fact]
    public async Task A_failed_asynchronous_registration_is_told_by_the_models_404_and_counted()
    {
        await using var s = await Served.StartAsync(W);
        var (status, _) = await Send(s.Management, HttpMethod.Post, "/models?url=test://missing&model_name=gone&synchronous=false");
        Assert.Equal(202, status);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string message;
        do
        {
            var (code, body) = await Send(s.Management, HttpMethod.Get, "/models/gone");
            Assert.Equal(404, code);
            message = body.GetProperty("message").GetString()!;
            if (message.Contains("failed")) break;
            await Task.Delay(20);
        } while (DateTime.UtcNow < deadline);
        Assert.Contains("failed to register in the background from 'test://missing'", message);
        Assert.Contains("No model at 'test://missing'", message);
        var (_, predicted) = await s.PostAsync("/predictions/gone", Request);
        Assert.Contains("failed to register in the background", predicted.GetProperty("message").GetString());
        Assert.Contains("graphactors_errors_total{code=\"400\",type=\"BadRequestException\"} 1", await s.Metrics.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task Registering_with_no_initial_workers_says_to_scale_as_TorchServe_does()
    {
        await using var s = await Served.StartAsync(W);
        var (status, body) = await Send(s.Management, HttpMethod.Post, "/models?url=test://sage&model_name=idle&initial_workers=0");
        Assert.Equal(200, status);
        Assert.Equal("Model \"idle\" Version: 1.0 registered with 0 initial workers. Use scale workers API to add workers for the model.",
            body.GetProperty("status").GetString());
        Assert.Equal(503, (await s.PostAsync("/predictions/idle", Request)).Status);
        var (bad, badBody) = await Send(s.Management, HttpMethod.Post, "/models?url=test://sage&model_name=x&synchronous=later");
        Assert.Equal(400, bad);
        AssertError(badBody, 400, "BadRequestException", "synchronous must be true or false");
    }

    // ---- describe: docs/management_api.md, "Describe model" (jobQueueStatus, workers[].memoryUsage, customized=true) ----

    [Fact]
    public async Task Describe_shows_the_job_queue_and_worker_memory_and_customized_adds_the_models_metadata_as_a_JSON_string()
    {
        await using var s = await Served.StartAsync(W, options: new InferenceOptions { MaxInFlight = 7 }, models: ["sage=test://sage"]);
        var (status, described) = await Send(s.Management, HttpMethod.Get, "/models/sage");
        Assert.Equal(200, status);
        var model = described[0];
        Assert.Equal(7, model.GetProperty("jobQueueStatus").GetProperty("remainingCapacity").GetInt32());
        Assert.Equal(0, model.GetProperty("jobQueueStatus").GetProperty("pendingRequests").GetInt32());
        var worker = model.GetProperty("workers")[0];
        Assert.True(worker.GetProperty("memoryUsage").GetInt64() > 0);
        Assert.Equal(Environment.ProcessId, worker.GetProperty("pid").GetInt32());
        Assert.False(worker.GetProperty("gpu").GetBoolean());
        Assert.False(model.TryGetProperty("customizedMetadata", out _));

        var (_, customized) = await Send(s.Management, HttpMethod.Get, "/models/sage?customized=true");
        var metadata = JsonDocument.Parse(customized[0].GetProperty("customizedMetadata").GetString()!).RootElement;
        Assert.Equal("Sage", metadata.GetProperty("model_type").GetString());
        Assert.Equal(3, metadata.GetProperty("out_dim").GetInt32());
        Assert.Contains("user:follows:user", metadata.GetProperty("relations").EnumerateArray().Select(r => r.GetString()));
        var (_, all) = await Send(s.Management, HttpMethod.Get, "/models/sage/all?customized=true"); // TorchServe ignores it for all
        Assert.False(all[0].TryGetProperty("customizedMetadata", out _));
        var (bad, badBody) = await Send(s.Management, HttpMethod.Get, "/models/sage?customized=yes");
        Assert.Equal(400, bad);
        AssertError(badBody, 400, "BadRequestException", "customized must be true or false, got 'yes'");
    }

    // ---- routing: TorchServe's error body for what no route answers, on every port ----

    public static TheoryData<string, string, string, int, string?> Unrouted => new()
    {
        { "inference", "OPTIONS", "/ping", 405, "GET" },
        { "inference", "PUT", "/v2/health/live", 405, "GET" },
        { "inference", "GET", "/v2/nothing", 404, null },
        { "inference", "GET", "/predictions", 404, null },
        { "inference", "BREW", "/ping", 405, "GET" },
        { "management", "POST", "/models/sage", 405, "DELETE, GET, PUT" },
        { "management", "GET", "/v2/health/live", 404, null },
        { "metrics", "OPTIONS", "/metrics", 405, "GET" },
    };

    [Theory]
    [MemberData(nameof(Unrouted))]
    public async Task What_no_route_answers_gets_a_TorchServe_error_body_and_the_Open_Inference_error_under_v2(string api, string method, string path, int code, string? allow)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var client = api switch { "inference" => s.Inference, "management" => s.Management, _ => s.Metrics };
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(code, (int)response.StatusCode);
        var body = await Served.Parse(response);
        AssertError(body, code, code == 405 ? "MethodNotAllowedException" : "ResourceNotFoundException", $"{method} {path}");
        if (allow is not null) Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
        Assert.Equal(path.StartsWith("/v2", StringComparison.Ordinal), body.TryGetProperty("error", out _));
    }
    /// <summary>
    /// An over-long request target or header block gets TorchServe's error body too (Kestrel's own refusal, before any
    /// middleware, has none: our limits answer first), on every port, and naming the limit.
    /// </summary>
    [Theory]
    [InlineData("inference")]
    [InlineData("management")]
    [InlineData("metrics")]
    public async Task An_over_long_url_or_header_block_gets_414_or_431_with_a_TorchServe_error_body(string api)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var client = api switch { "inference" => s.Inference, "management" => s.Management, _ => s.Metrics };
        var path = api == "metrics" ? "/metrics" : api == "management" ? "/models" : "/ping";
        using (var response = await client.GetAsync(path + "?ids=" + new string('1', ServingHost.MaxRequestTargetBytes)))
        {
            Assert.Equal(414, (int)response.StatusCode);
            var body = await Served.Parse(response);
            Assert.Equal(("URITooLongException", 414), (body.GetProperty("type").GetString(), body.GetProperty("code").GetInt32()));
            Assert.Contains($"the limit is {ServingHost.MaxRequestTargetBytes}", body.GetProperty("message").GetString());
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        for (var h = 0; h < 5; h++) request.Headers.Add($"X-Padding-{h}", new string('p', ServingHost.MaxRequestHeaderBytes / 4));
        using (var response = await client.SendAsync(request))
        {
            Assert.Equal(431, (int)response.StatusCode);
            var body = await Served.Parse(response);
            Assert.Equal("RequestHeaderFieldsTooLargeException", body.GetProperty("type").GetString());
        }
        // Within the limits the same call answers.
        Assert.NotEqual(414, (int)(await client.GetAsync(path + "?x=" + new string('1', 1000))).StatusCode);
    }
}
