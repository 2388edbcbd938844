// TorchServe's explanations API (POST /explanations/{model}) and KServe v1's :explain, against real Kestrel on loopback:
// input × gradient attributions checked against the same model differentiated offline on the whole graph.
using System.Text.Json;

namespace GraphActors.Serving.Tests;

public sealed class ExplanationTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private TestWorld W => fx.World;

    /// <summary>
    /// With the full neighbourhood the sampled batch is the node's whole receptive field, so its attributions are the
    /// whole-graph ones: the node's own features one by one, and each named input node's total.
    /// </summary>
    [Fact]
    public async Task An_explanation_equals_input_times_gradient_of_the_predicted_class_on_the_whole_graph()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var offline = W.OfflineUserProbabilities();
        var (status, body) = await s.PostAsync("/explanations/sage", """{"node_type":"user","ids":[1007, 1042, 1007],"full_neighborhood":true,"top_k":5}""");
        Assert.True(status == 200, body.ToString());
        Assert.Equal("input_x_gradient", body.GetProperty("method").GetString());
        Assert.Equal("user", body.GetProperty("node_type").GetString());
        var explanations = body.GetProperty("explanations").EnumerateArray().ToArray();
        Assert.Equal([1007L, 1042, 1007], explanations.Select(e => e.GetProperty("id").GetInt64()));
        foreach (var e in explanations)
        {
            var user = (int)(e.GetProperty("id").GetInt64() - 1000);
            var predicted = Array.IndexOf(offline[user], offline[user].Max());
            Assert.Equal(predicted, e.GetProperty("target").GetInt32());
            Assert.Equal(offline[user][predicted], e.GetProperty("probability").GetSingle(), 1e-5f);

            var (users, items) = W.OfflineInputXGradient(user, predicted);
            var own = Served.Floats(e.GetProperty("feature_attributions"));
            Assert.Equal(4, own.Length);
            for (var j = 0; j < 4; j++) Assert.Equal(users[user][j], own[j], 1e-4f);

            // The named input nodes: the five largest totals (the node itself left out), largest first, each equal to offline.
            var totals = users.Select((a, i) => (Type: "user", Id: 1000L + i, Total: a.Sum()))
                .Concat(items.Select((a, i) => (Type: "item", Id: 5000L + i, Total: a.Sum())))
                .Where(x => !(x.Type == "user" && x.Id == 1000 + user) && x.Total != 0f)
                .OrderByDescending(x => MathF.Abs(x.Total)).ToArray();
            var neighbors = e.GetProperty("neighbors").EnumerateArray().ToArray();
            Assert.Equal(Math.Min(5, totals.Length), neighbors.Length);
            for (var k = 0; k < neighbors.Length; k++)
            {
                var n = neighbors[k];
                var expected = totals.Single(x => x.Type == n.GetProperty("node_type").GetString() && x.Id == n.GetProperty("id").GetInt64());
                Assert.Equal(expected.Total, n.GetProperty("attribution").GetSingle(), 1e-4f);
                // Ordered by size; and no node outside the list is larger than the smallest named one.
                Assert.True(MathF.Abs(expected.Total) >= MathF.Abs(totals[neighbors.Length - 1].Total) - 1e-5f);
                if (k > 0) Assert.True(MathF.Abs(neighbors[k - 1].GetProperty("attribution").GetSingle()) >= MathF.Abs(n.GetProperty("attribution").GetSingle()));
            }
        }
    }

    [Fact]
    public async Task A_named_target_is_explained_instead_of_the_predicted_class_and_kserve_v1_explain_answers_each_instance()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var offline = W.OfflineUserProbabilities();
        var other = (Array.IndexOf(offline[3], offline[3].Max()) + 1) % 3;
        var (status, body) = await s.PostAsync("/explanations/sage", $$"""{"node_type":"user","ids":[1003],"full_neighborhood":true,"target":{{other}}}""");
        Assert.Equal(200, status);
        var e = body.GetProperty("explanations")[0];
        Assert.Equal(other, e.GetProperty("target").GetInt32());
        Assert.Equal(offline[3][other], e.GetProperty("probability").GetSingle(), 1e-5f);
        var (users, _) = W.OfflineInputXGradient(3, other);
        var own = Served.Floats(e.GetProperty("feature_attributions"));
        for (var j = 0; j < 4; j++) Assert.Equal(users[3][j], own[j], 1e-4f);

        var (ks, kb) = await s.PostAsync("/v1/models/sage:explain",
            """{"instances":[{"node_type":"user","ids":[1003],"full_neighborhood":true},{"node_type":"user","ids":[1004, 1005]}]}""");
        Assert.Equal(200, ks);
        var results = kb.GetProperty("explanations").EnumerateArray().ToArray();
        Assert.Equal(2, results.Length);
        Assert.Single(results[0].GetProperty("explanations").EnumerateArray());
        Assert.Equal(2, results[1].GetProperty("explanations").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"src_type":"user","dst_type":"item","pairs":[[1000,5000]]}""", 400, "node classification")]
    [InlineData("""{"node_type":"user","ids":[1000],"embeddings":true}""", 400, "embeddings")]
    [InlineData("""{"node_type":"user","ids":[1000],"target":3}""", 400, "it has 3")]
    [InlineData("""{"node_type":"user","ids":[1000],"target":-1}""", 400, "\"target\"")]
    [InlineData("""{"node_type":"user","ids":[1000],"top_k":"many"}""", 400, "\"top_k\"")]
    [InlineData("""{"node_type":"user","ids":[99]}""", 404, "99")]
    public async Task Bad_explanation_requests_are_refused_naming_the_field(string request, int code, string named)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var (status, body) = await s.PostAsync("/explanations/sage", request);
        Assert.Equal(code, status);
        Assert.Contains(named, body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task More_ids_than_an_explanation_takes_and_a_link_model_are_refused()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage", "link=test://link"]);
        var ids = string.Join(",", Enumerable.Range(1000, InferenceEngine.MaxExplainedPerRequest + 1));
        var (status, body) = await s.PostAsync("/explanations/sage", $$"""{"node_type":"user","ids":[{{ids}}]}""");
        Assert.Equal(413, status);
        Assert.Contains($"at most {InferenceEngine.MaxExplainedPerRequest}", body.GetProperty("message").GetString());

        var (linkStatus, linkBody) = await s.PostAsync("/explanations/link", """{"node_type":"user","ids":[1000]}""");
        Assert.Equal(400, linkStatus);
        Assert.Contains("explanations explain node classification", linkBody.GetProperty("message").GetString());
    }
}
