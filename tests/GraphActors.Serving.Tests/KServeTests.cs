// KServe v1 (kserve docs/predict-api/v1: list, ready) and v2 / Open Inference Protocol (kserve docs/predict-api/v2/required_api.md:
// health, server and model metadata, model ready, infer) against real Kestrel on loopback.
using System.Text.Json;

namespace GraphActors.Serving.Tests;

public sealed class KServeTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private TestWorld W => fx.World;

    private static async Task<(int Status, JsonElement Body)> Get(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return ((int)response.StatusCode, await Served.Parse(response));
    }

    [Fact]
    public async Task KServe_v1_lists_the_models_by_name()
    {
        // v1: GET /v1/models → {"models": [<model_name>]}
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage", "link=test://link", "alt=test://sage-full"]);
        var (status, body) = await Get(s.Inference, "/v1/models");
        Assert.Equal(200, status);
        Assert.Equal(["alt", "link", "sage"], body.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
    }

    [Fact]
    public async Task The_v2_health_answers_live_always_and_ready_only_with_a_model_and_the_models_readiness_follows_its_workers()
    {
        await using var s = await Served.StartAsync(W);
        Assert.True((await Get(s.Inference, "/v2/health/live")).Body.GetProperty("live").GetBoolean());
        // "A 200 status code indicates true and a 4xx status code indicates false."
        var (notReady, notReadyBody) = await Get(s.Inference, "/v2/health/ready");
        Assert.Equal(400, notReady);
        Assert.False(notReadyBody.GetProperty("ready").GetBoolean());
        Assert.Equal("no model is loaded", notReadyBody.GetProperty("error").GetString());

        await s.Engine.Models.RegisterAsync("sage", "test://sage");
        var (ready, readyBody) = await Get(s.Inference, "/v2/health/ready");
        Assert.Equal(200, ready);
        Assert.True(readyBody.GetProperty("ready").GetBoolean());
        var (modelReady, modelReadyBody) = await Get(s.Inference, "/v2/models/sage/ready");
        Assert.Equal((200, "sage", true), (modelReady, modelReadyBody.GetProperty("name").GetString(), modelReadyBody.GetProperty("ready").GetBoolean()));
        Assert.Equal(200, (await Get(s.Inference, "/v2/models/sage/versions/1.0/ready")).Status);

        s.Engine.Models.Describe("sage", null)[0].Workers.Scale(0, 0);
        var (idle, idleBody) = await Get(s.Inference, "/v2/models/sage/ready");
        Assert.Equal(400, idle);
        Assert.Contains("no workers", idleBody.GetProperty("error").GetString());
        Assert.False((await Get(s.Inference, "/v1/models/sage")).Body.GetProperty("ready").GetBoolean());

        var (unknown, unknownBody) = await Get(s.Inference, "/v2/models/nope/ready");
        Assert.Equal(404, unknown);
        Assert.Equal("Model not found: nope", unknownBody.GetProperty("error").GetString());
        Assert.Equal("ModelNotFoundException", unknownBody.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Server_and_model_metadata_name_the_tensors_of_each_kind_of_model()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage", "sage=test://sage-full", "link=test://link"]);
        var (_, server) = await Get(s.Inference, "/v2");
        Assert.Equal("graphactors", server.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Array, server.GetProperty("extensions").ValueKind);

        var (status, sage) = await Get(s.Inference, "/v2/models/sage");
        Assert.Equal(200, status);
        Assert.Equal("sage", sage.GetProperty("name").GetString());
        Assert.Equal(["1.0", "2.0"], sage.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal("graphactors_torchsharp", sage.GetProperty("platform").GetString());
        var ids = sage.GetProperty("inputs").EnumerateArray().First(t => t.GetProperty("name").GetString() == "ids");
        Assert.Equal(("INT64", "[-1]"), (ids.GetProperty("datatype").GetString(), ids.GetProperty("shape").ToString().Replace(" ", "")));
        var probabilities = sage.GetProperty("outputs").EnumerateArray().First(t => t.GetProperty("name").GetString() == "probabilities");
        Assert.Equal("[-1,3]", probabilities.GetProperty("shape").ToString().Replace(" ", ""));

        var (_, link) = await Get(s.Inference, "/v2/models/link/versions/1.0");
        Assert.Contains(link.GetProperty("inputs").EnumerateArray(), t => t.GetProperty("name").GetString() == "pairs" && t.GetProperty("shape").ToString().Replace(" ", "") == "[-1,2]");
        Assert.Contains(link.GetProperty("outputs").EnumerateArray(), t => t.GetProperty("name").GetString() == "score");
    }

    [Fact]
    public async Task Infer_maps_ids_to_a_node_prediction_and_answers_tensors_equal_to_the_TorchServe_answer()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var (_, torchServe) = await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1000,1007,1007],"full_neighborhood":true}""");
        var (status, body) = await s.PostAsync("/v2/models/sage/infer", """
            {"id":"42","parameters":{"node_type":"user","full_neighborhood":true},
             "inputs":[{"name":"ids","shape":[3],"datatype":"INT64","data":[1000,1007,1007]}]}
            """);
        Assert.True(status == 200, body.ToString());
        Assert.Equal(("sage", "1.0", "42"), (body.GetProperty("model_name").GetString(), body.GetProperty("model_version").GetString(), body.GetProperty("id").GetString()));
        Assert.Equal("user", body.GetProperty("parameters").GetProperty("node_type").GetString());
        var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal("[3]", outputs["label"].GetProperty("shape").ToString().Replace(" ", ""));
        Assert.Equal("INT64", outputs["label"].GetProperty("datatype").GetString());
        Assert.Equal("[3,3]", outputs["probabilities"].GetProperty("shape").ToString().Replace(" ", ""));
        var flat = Served.Floats(outputs["probabilities"].GetProperty("data"));
        var expected = torchServe.GetProperty("predictions").EnumerateArray().SelectMany(p => Served.Floats(p.GetProperty("probabilities"))).ToArray();
        Assert.Equal(expected, flat);
        Assert.Equal(torchServe.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("label").GetInt64()),
            outputs["label"].GetProperty("data").EnumerateArray().Select(v => v.GetInt64()));

        // Types as BYTES inputs, a nested (natural) [n, 1] layout, and only the outputs asked for.
        var (s2, b2) = await s.PostAsync("/v2/models/sage/versions/1.0/infer", """
            {"inputs":[{"name":"node_type","shape":[1],"datatype":"BYTES","data":["user"]},
                       {"name":"ids","shape":[2,1],"datatype":"INT32","data":[[1000],[1001]]},
                       {"name":"embeddings","shape":[1],"datatype":"BOOL","data":[true]}],
             "outputs":[{"name":"embeddings"}]}
            """);
        Assert.True(s2 == 200, b2.ToString());
        Assert.Equal(32, b2.GetProperty("id").GetString()!.Length); // generated when the request has none
        var embeddings = Assert.Single(b2.GetProperty("outputs").EnumerateArray());
        Assert.Equal("[2,3]", embeddings.GetProperty("shape").ToString().Replace(" ", ""));
    }

    [Fact]
    public async Task Infer_maps_pairs_to_a_link_prediction()
    {
        await using var s = await Served.StartAsync(W, models: ["link=test://link"]);
        var (_, torchServe) = await s.PostAsync("/predictions/link", """{"src_type":"user","dst_type":"item","pairs":[[1003,5001],[1010,5039]]}""");
        var (status, body) = await s.PostAsync("/v2/models/link/infer", """
            {"parameters":{"src_type":"user","dst_type":"item"},
             "inputs":[{"name":"pairs","shape":[2,2],"datatype":"INT64","data":[1003,5001,1010,5039]}],
             "outputs":[{"name":"score"}]}
            """);
        Assert.True(status == 200, body.ToString());
        var score = Assert.Single(body.GetProperty("outputs").EnumerateArray());
        Assert.Equal(("score", "FP32"), (score.GetProperty("name").GetString(), score.GetProperty("datatype").GetString()));
        Assert.Equal(torchServe.GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("score").GetSingle()), Served.Floats(score.GetProperty("data")));
    }

    public static TheoryData<string, string> BadInfers => new()
    {
        { """{"id":"x"}""", "\"inputs\"" },
        { """{"inputs":[{"name":"ids","shape":[1],"datatype":"FP32","data":[1.5]}],"parameters":{"node_type":"user"}}""", "inputs[0].datatype" },
        { """{"inputs":[{"name":"ids","shape":[3],"datatype":"INT64","data":[1000,1001]}],"parameters":{"node_type":"user"}}""", "inputs[0].data has 2 elements; shape [3] needs 3" },
        { """{"inputs":[{"name":"ids","shape":[1],"datatype":"INT64","data":["1000"]}],"parameters":{"node_type":"user"}}""", "inputs[0].data[0] is not an integer" },
        { """{"inputs":[{"name":"ids","shape":[1],"datatype":"INT64","data":[1000]}]}""", "'node_type'" },
        { """{"inputs":[{"name":"image","shape":[1],"datatype":"INT64","data":[1]}]}""", "inputs[0].name 'image'" },
        { """{"inputs":[{"name":"ids","shape":[1],"datatype":"INT64","data":[1000]}],"parameters":{"node_type":"user"},"outputs":[{"name":"score"}]}""", "outputs[0].name 'score'" },
        { """{"inputs":[{"name":"pairs","shape":[2],"datatype":"INT64","data":[1000,5000]}],"parameters":{"src_type":"user","dst_type":"item"}}""", "inputs[0].shape must be [n, 2]" },
        { """{"inputs":[{"name":"ids","shape":[-1],"datatype":"INT64","data":[1000]}],"parameters":{"node_type":"user"}}""", "inputs[0].shape[0]" },
        { "[1,2", "Malformed JSON" },
    };

    [Theory]
    [MemberData(nameof(BadInfers))]
    public async Task A_bad_inference_request_is_a_400_with_the_protocols_error_naming_the_field(string request, string field)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var (status, body) = await s.PostAsync("/v2/models/sage/infer", request);
        Assert.Equal(400, status);
        Assert.Contains(field, body.GetProperty("error").GetString());
        Assert.Equal("BadRequestException", body.GetProperty("type").GetString());
    }

    [Fact]
    public async Task Infer_is_admitted_like_every_prediction_and_its_503_carries_the_protocols_error()
    {
        GateFeatureSource? gate = null;
        await using var s = await Served.StartAsync(W, options: new InferenceOptions { MaxInFlight = 1 }, wrap: _ => gate = new GateFeatureSource(), models: ["sage=test://sage"]);
        var held = s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1000]}""");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (s.Engine.InFlight < 1 && DateTime.UtcNow < deadline) await Task.Delay(10);
        var (status, body) = await s.PostAsync("/v2/models/sage/infer", "not even json");
        Assert.Equal(503, status);
        Assert.Contains("max 1", body.GetProperty("error").GetString());
        gate!.Open();
        Assert.Equal(200, (await held).Status);
    }
}
