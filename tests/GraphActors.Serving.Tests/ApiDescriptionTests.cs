// OPTIONS / answers the API's OpenAPI description (pytorch/serve docs/inference_api.md and docs/management_api.md,
// "API Description": `curl -X OPTIONS http://localhost:8080`, OpenAPI 3.0 JSON), and the description is every route.
using System.Net.Http.Headers;
using System.Text.Json;

namespace GraphActors.Serving.Tests;

public sealed class ApiDescriptionTests(WorldFixture fx) : IClassFixture<WorldFixture>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    [Fact]
    public async Task Each_API_describes_exactly_the_routes_it_maps_in_OpenAPI_3_0()
    {
        await using var s = await Served.StartAsync(fx.World, models: ["sage=test://sage"]);
        var clients = new[] { s.Inference, s.Management, s.Metrics };
        for (var api = 0; api < 3; api++)
        {
            using var response = await clients[api].SendAsync(new HttpRequestMessage(HttpMethod.Options, "/"));
            Assert.Equal(200, (int)response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.StartsWith("3.0.", document.GetProperty("openapi").GetString());
            Assert.StartsWith("GraphActors", document.GetProperty("info").GetProperty("title").GetString());

            var described = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var path in document.GetProperty("paths").EnumerateObject())
            {
                foreach (var operation in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
                {
                    described.Add($"{operation.Name.ToUpperInvariant()} {path.Name}");
                    Assert.False(string.IsNullOrWhiteSpace(operation.Value.GetProperty("summary").GetString()), $"{path.Name} has no summary");
                    // every route parameter is declared
                    foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(path.Name, @"\{(\w+)\}"))
                        Assert.Contains(operation.Value.GetProperty("parameters").EnumerateArray(),
                            p => p.GetProperty("name").GetString() == m.Groups[1].Value && p.GetProperty("in").GetString() == "path");
                }
            }
            var mapped = new SortedSet<string>(ApiDescription.Routes(s.Host.Apps[api]).Select(r => $"{r.Method} {r.Pattern}"), StringComparer.Ordinal);
            Assert.Equal(mapped, described);
        }
    }

    [Fact]
    public async Task The_description_lists_the_TorchServe_KServe_and_management_routes_and_needs_the_management_token_there()
    {
        await using var s = await Served.StartAsync(fx.World);
        var inference = JsonDocument.Parse(await s.Inference.GetStringAsync("/api-description")).RootElement.GetProperty("paths");
        foreach (var path in new[] { "/ping", "/predictions/{model}", "/predictions/{model}/{version}", "/v1/models/{model}:predict", "/v1/models",
                     "/v2/health/live", "/v2/health/ready", "/v2/models/{model}", "/v2/models/{model}/ready", "/v2/models/{model}/infer" })
            Assert.True(inference.TryGetProperty(path, out _), path);

        var management = JsonDocument.Parse(await s.Management.GetStringAsync("/api-description")).RootElement.GetProperty("paths");
        var scale = management.GetProperty("/models/{model}").GetProperty("put");
        Assert.Equal(["min_worker", "max_worker", "synchronous", "timeout", "model_version"],
            scale.GetProperty("parameters").EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()));
        Assert.Equal("integer", scale.GetProperty("parameters").EnumerateArray().First(p => p.GetProperty("name").GetString() == "min_worker")
            .GetProperty("schema").GetProperty("type").GetString());

        using var anonymous = new HttpClient { BaseAddress = s.Host.ManagementAddress };
        using (var r = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/"))) Assert.Equal(401, (int)r.StatusCode);
        using var wrong = new HttpRequestMessage(HttpMethod.Options, "/") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "nope") } };
        using (var r = await anonymous.SendAsync(wrong)) Assert.Equal(403, (int)r.StatusCode);
    }
}
