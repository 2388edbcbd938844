// Who may change the model registry and what it may load: the management token, the model store, names, and the
// TorchServe error bodies of routes that do not exist — all against real Kestrel hosts on loopback.
using System.Net;
using System.Net.Http.Headers;
using GraphActors.Training;

namespace GraphActors.Serving.Tests;

/// <summary>
/// A world with one trained checkpoint, laid out as a model store would be: <c>store/sage</c> (the checkpoint),
/// <c>store/notes.txt</c> (not a checkpoint, a secret-looking line), <c>store/bad/manifest.json</c> (not JSON),
/// <c>store/link-out</c> (a symbolic link to a folder beside the store), and a copy of the checkpoint outside the store.
/// </summary>
public sealed class ModelStoreFixture : IAsyncLifetime
{
    public const string Secret = "root:x:0:0:secret-line";
    public TestWorld World { get; } = new();
    public string Store => Path.Combine(World.Root, "store");
    public string Outside => Path.Combine(World.Root, "outside");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Store);
        using (var trainer = await Trainer.CreateAsync(World.Store, new TrainingConfig
        {
            ModelType = "sage", Task = "node_classification", Target = "user", HiddenChannels = 8, NumLayers = 2,
            Fanouts = [3, 3], BatchSize = 16, Epochs = 1, Seed = 3, NodeSplit = "random", Prefetch = 1,
        }))
        {
            await trainer.TrainEpochAsync();
            Checkpoints.Save(trainer, Path.Combine(Store, "sage"), new Dictionary<string, double>());
        }
        Directory.CreateDirectory(Path.Combine(Outside, "sage"));
        foreach (var f in Directory.GetFiles(Path.Combine(Store, "sage"))) File.Copy(f, Path.Combine(Outside, "sage", Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(Outside, "passwd"), Secret + "\n");
        File.WriteAllText(Path.Combine(Store, "notes.txt"), Secret + "\n");
        Directory.CreateDirectory(Path.Combine(Store, "bad"));
        File.WriteAllText(Path.Combine(Store, "bad", Checkpoints.ManifestName), Secret + "\n");
        Directory.CreateSymbolicLink(Path.Combine(Store, "link-out"), Outside);
    }

    public Task DisposeAsync()
    {
        World.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class ManagementSecurityTests(ModelStoreFixture fx) : IClassFixture<ModelStoreFixture>
{
    private TestWorld W => fx.World;

    private static HttpRequestMessage Request(HttpMethod method, string path, string? token) =>
        new(method, path) { Headers = { Authorization = token is null ? null : new AuthenticationHeaderValue("Bearer", token) } };

    private static async Task<(int Status, string Text)> Send(HttpClient client, HttpMethod method, string path, string? token = null)
    {
        using var request = Request(method, path, token);
        using var response = await client.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Q(string s) => Uri.EscapeDataString(s);

    // ---- the management token ----

    [Fact]
    public async Task Without_a_configured_token_one_is_generated_at_first_start_into_a_0600_file_and_reused_at_the_next()
    {
        var file = Path.Combine(W.Root, "node-" + Guid.NewGuid().ToString("N")[..6], ManagementAuth.FileName);
        var first = ManagementAuth.Resolve("", file);
        Assert.Equal(ManagementTokenOrigin.Generated, first.Origin);
        Assert.Equal(file, first.File);
        Assert.Matches("^[0-9a-f]{64}$", first.Token);
        Assert.Equal(first.Token, File.ReadAllText(file).Trim());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.DoesNotContain(Directory.GetFiles(Path.GetDirectoryName(file)!), f => f != file); // no temp file left behind
        Assert.Contains(file, first.Describe(new Uri("http://127.0.0.1:8081/"), "management-token"));

        string registered;
        await using (var s = await Served.StartAsync(W, serving: new ServingOptions { ManagementToken = first.Token }))
        {
            Assert.Equal(401, (await Send(s.Management, HttpMethod.Post, "/models?url=test://sage&model_name=one")).Status);
            (var status, registered) = await Send(s.Management, HttpMethod.Post, "/models?url=test://sage&model_name=one", first.Token);
            Assert.Equal(200, status);
        }
        Assert.Contains("registered", registered);

        var second = ManagementAuth.Resolve(null, file);
        Assert.Equal(ManagementTokenOrigin.Reused, second.Origin);
        Assert.Equal(first.Token, second.Token);
        Assert.Null(second.Warning);
        await using (var s = await Served.StartAsync(W, serving: new ServingOptions { ManagementToken = second.Token }))
        {
            Assert.Equal(200, (await Send(s.Management, HttpMethod.Get, "/models", first.Token)).Status);
            Assert.Equal(403, (await Send(s.Management, HttpMethod.Get, "/models", ManagementAuth.NewToken())).Status);
        }

        // A file others can read still serves, with a warning that says how to fix it.
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.Contains("chmod 600", ManagementAuth.Resolve("", file).Warning);
    }

    [Fact]
    public void Nodes_starting_together_on_one_folder_generate_one_management_token_and_all_use_it()
    {
        // 16 threads released together by a barrier, 20 times over: exactly one generates, every other reuses its token.
        for (var round = 0; round < 20; round++)
        {
            var file = Path.Combine(W.Root, "together-" + Guid.NewGuid().ToString("N")[..6], ManagementAuth.FileName);
            var auths = new ManagementAuth[16];
            using var start = new Barrier(auths.Length);
            var threads = Enumerable.Range(0, auths.Length).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                auths[i] = ManagementAuth.Resolve(null, file);
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            Assert.Single(auths.Select(a => a.Token).Distinct());
            Assert.Single(auths, a => a.Origin == ManagementTokenOrigin.Generated);
            Assert.Equal(auths[0].Token, File.ReadAllText(file).Trim());
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(file)!));
        }
    }

    [Fact]
    public void A_configured_token_is_used_as_given_and_off_opens_the_API_with_a_warning_and_no_file()
    {
        var file = Path.Combine(W.Root, "node-" + Guid.NewGuid().ToString("N")[..6], ManagementAuth.FileName);
        var configured = ManagementAuth.Resolve(" s3cret ", file);
        Assert.Equal(("s3cret", ManagementTokenOrigin.Configured), (configured.Token, configured.Origin));
        Assert.DoesNotContain("s3cret", configured.Describe(new Uri("http://127.0.0.1:8081/"), "management-token"));
        foreach (var off in new[] { "off", "OFF", "disabled" })
        {
            var open = ManagementAuth.Resolve(off, file);
            Assert.Equal((null, ManagementTokenOrigin.Disabled), (open.Token, open.Origin));
            Assert.StartsWith("WARNING", open.Describe(new Uri("http://127.0.0.1:8081/"), "graphactors.inference.management-token"));
        }
        Assert.False(File.Exists(file));
    }

    [Fact]
    public async Task The_host_does_not_start_without_a_token_unless_management_is_opened_on_purpose()
    {
        var e = await Assert.ThrowsAsync<ArgumentException>(() => Served.StartAsync(W, serving: new ServingOptions()));
        Assert.Contains("ManagementTokenDisabled", e.Message);

        await using var s = await Served.StartAsync(W, serving: new ServingOptions { ManagementTokenDisabled = true, ManagementToken = "ignored" });
        Assert.Equal(200, (await Send(s.Management, HttpMethod.Get, "/models")).Status);
        Assert.Equal(200, (await Send(s.Management, HttpMethod.Post, "/models?url=test://sage&model_name=open")).Status);
    }

    [Theory]
    [InlineData("POST", "/models?url=test://sage&model_name=x")]
    [InlineData("DELETE", "/models/sage")]
    [InlineData("DELETE", "/models/sage/1.0")]
    [InlineData("PUT", "/models/sage/1.0/set-default")]
    [InlineData("GET", "/models")]
    [InlineData("GET", "/models/sage")]
    [InlineData("GET", "/models/sage?customized=true")]
    [InlineData("PUT", "/models/sage?min_worker=0&synchronous=true")]
    [InlineData("PUT", "/models/sage/1.0?min_worker=0")]
    [InlineData("POST", "/models?url=test://sage&model_name=x&synchronous=false")]
    [InlineData("OPTIONS", "/")]
    [InlineData("GET", "/api-description")]
    public async Task Every_management_route_answers_401_without_the_token_and_403_with_a_wrong_one(string method, string path)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        using var anonymous = new HttpClient { BaseAddress = s.Host.ManagementAddress };
        var (missing, missingBody) = await Send(anonymous, new HttpMethod(method), path);
        Assert.Equal(401, missing);
        Assert.Contains("UnauthorizedException", missingBody);
        var (wrong, wrongBody) = await Send(anonymous, new HttpMethod(method), path, "not-the-token");
        Assert.Equal(403, wrong);
        Assert.Contains("ForbiddenException", wrongBody);
        Assert.Equal(1, s.Engine.Models.Count); // nothing changed
        Assert.Equal(1, s.Engine.Models.Describe("sage", null)[0].Workers.MinWorkers);
    }

    [Fact]
    public async Task Ping_and_metrics_need_no_management_token()
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        using var inference = new HttpClient { BaseAddress = s.Host.InferenceAddress };
        using var metrics = new HttpClient { BaseAddress = s.Host.MetricsAddress };
        Assert.Equal(200, (await Send(inference, HttpMethod.Get, "/ping")).Status);
        Assert.Equal(200, (await Send(metrics, HttpMethod.Get, "/metrics")).Status);
    }

    // ---- the model store ----

    private Task<Served> StartWithStore() =>
        Served.StartAsync(W, loader: new TrainingCheckpointLoader(W.Store, new ModelStore(fx.Store)));

    public static TheoryData<string, int, string> Refused => new()
    {
        { "/etc/passwd", 403, "ForbiddenException" },
        { "file:///etc/passwd", 403, "ForbiddenException" },
        { "../outside/sage", 403, "ForbiddenException" },
        { "sage/../../outside/passwd", 403, "ForbiddenException" },
        { "{outside}/sage", 403, "ForbiddenException" },
        { "link-out/sage", 403, "ForbiddenException" },
        { "link-out/passwd", 403, "ForbiddenException" },
        { "http://127.0.0.1:1/sage", 400, "BadRequestException" },
        { "notes.txt", 400, "BadRequestException" },
        { "bad", 400, "BadRequestException" },
        { "bad/manifest.json", 400, "BadRequestException" },
        { "no-such-checkpoint", 400, "BadRequestException" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_url_outside_the_model_store_or_not_a_checkpoint_is_refused_naming_it_without_echoing_the_file(string url, int code, string type)
    {
        url = url.Replace("{outside}", fx.Outside, StringComparison.Ordinal);
        await using var s = await StartWithStore();
        var (status, text) = await Send(s.Management, HttpMethod.Post, $"/models?url={Q(url)}&model_name=m");
        Assert.Equal(code, status);
        var body = System.Text.Json.JsonDocument.Parse(text).RootElement;
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        Assert.Equal(type, body.GetProperty("type").GetString());
        var message = body.GetProperty("message").GetString()!;
        Assert.Contains(url, message);
        if (code == 403) Assert.Contains(fx.Store, message);
        Assert.DoesNotContain("secret-line", message);
        Assert.DoesNotContain("root:", message);
        Assert.DoesNotContain("invalid start", message);
        Assert.Equal(0, s.Engine.Models.Count);
    }

    [Theory]
    [InlineData("sage")]
    [InlineData("./bad/../sage")]
    [InlineData("{store}/sage")]
    [InlineData("file://{store}/sage/manifest.json")]
    public async Task A_checkpoint_in_the_model_store_registers_by_a_relative_or_absolute_path(string url)
    {
        url = url.Replace("{store}", fx.Store, StringComparison.Ordinal);
        await using var s = await StartWithStore();
        var (status, text) = await Send(s.Management, HttpMethod.Post, $"/models?url={Q(url)}&model_name=sage&model_version=1.0");
        Assert.True(status == 200, text);
        var (predicted, answer) = (await s.PostAsync("/predictions/sage", """{"node_type":"user","ids":[1000]}"""));
        Assert.Equal(200, predicted);
        Assert.Equal("1.0", answer.GetProperty("version").GetString());
    }

    [Fact]
    public async Task Models_configured_in_code_go_through_the_same_store()
    {
        using var engine = new InferenceEngine(W.Store, new TrainingCheckpointLoader(W.Store, new ModelStore(fx.Store)), null);
        var e = await Assert.ThrowsAsync<ServingException>(() => engine.Models.RegisterAsync("sage", Path.Combine(fx.Outside, "sage")));
        Assert.Equal(403, e.Code);
        Assert.Equal("sage", (await engine.Models.RegisterAsync("sage", "sage")).Name);
    }

    // ---- names ----

    public static TheoryData<string, string> BadNames => new()
    {
        { "model_name=&url=%2F", "model_name is empty" },
        { "model_name=..%2F..%2Fx&url=test://sage", "model_name '../../x'" },
        { "model_name=a%2Fb&url=test://sage", "model_name 'a/b'" },
        { "model_name=.hidden&url=test://sage", "model_name '.hidden'" },
        { "model_name=" + new string('a', 200) + "&url=test://sage", "200 characters" },
        { "model_name=ok&model_version=..%2F1&url=test://sage", "model_version '../1'" },
        { "model_name=ok&model_version=1%200&url=test://sage", "model_version '1 0'" },
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task A_model_name_or_version_outside_TorchServes_rule_is_a_400_naming_the_field(string query, string expected)
    {
        await using var s = await Served.StartAsync(W);
        var (status, text) = await Send(s.Management, HttpMethod.Post, "/models?" + query);
        Assert.Equal(400, status);
        Assert.Contains(expected, System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("message").GetString());
        Assert.Equal(0, s.Engine.Models.Count);
    }

    [Theory]
    [InlineData("sage", true)]
    [InlineData("Sage_2.v1-final", true)]
    [InlineData("0", true)]
    [InlineData("", false)]
    [InlineData("-x", false)]
    [InlineData("a b", false)]
    [InlineData("a\\b", false)]
    [InlineData("é", false)]
    public void Names_follow_the_torch_model_archiver_pattern(string name, bool valid) =>
        Assert.Equal(valid, ModelNames.Problem(name, "model_name") is null);

    // ---- routes that do not exist ----

    public static TheoryData<string, string, string, int, string?> StatusOnly => new()
    {
        { "inference", "DELETE", "/ping", 405, "GET" },
        { "inference", "GET", "/predictions/sage", 405, "POST" },
        { "inference", "GET", "/nothing", 404, null },
        { "management", "PUT", "/models", 405, "GET, POST" },
        { "management", "GET", "/models/sage/1.0/set-default", 405, "PUT" },
        { "management", "GET", "/nothing/here", 404, null },
        { "metrics", "POST", "/metrics", 405, "GET" },
        { "metrics", "GET", "/", 405, "OPTIONS" }, // / is the API description's (OPTIONS), as in TorchServe
        { "metrics", "GET", "/nothing", 404, null },
    };

    [Theory]
    [MemberData(nameof(StatusOnly))]
    public async Task A_wrong_method_or_an_unknown_path_gets_TorchServes_error_body_and_405_an_Allow_header(string api, string method, string path, int code, string? allow)
    {
        await using var s = await Served.StartAsync(W, models: ["sage=test://sage"]);
        var client = api switch { "inference" => s.Inference, "management" => s.Management, _ => s.Metrics };
        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await Served.Parse(response);
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        Assert.Equal(code == 405 ? "MethodNotAllowedException" : "ResourceNotFoundException", body.GetProperty("type").GetString());
        var message = body.GetProperty("message").GetString()!;
        Assert.Contains($"{method} {path}", message);
        if (allow is not null)
        {
            Assert.Equal(allow, string.Join(", ", response.Content.Headers.Allow));
            Assert.Contains(allow, message);
        }
        var metrics = await s.Metrics.GetStringAsync("/metrics");
        Assert.Contains($"graphactors_errors_total{{code=\"{code}\",type=\"{body.GetProperty("type").GetString()}\"}} 1", metrics);
    }
}
