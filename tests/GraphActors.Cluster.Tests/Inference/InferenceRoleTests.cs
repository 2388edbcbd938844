// A single node with roles partition + inference serves a trained checkpoint over HTTP.
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Inference;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;

namespace GraphActors.Cluster.Tests.Inference;

public sealed class InferenceRoleTests
{
    [Theory]
    [InlineData("remote")]
    [InlineData("local")]
    public async Task Node_with_the_inference_role_serves_a_training_checkpoint(string graphStore)
    {
        var store = TestStore.Build(2);
        var checkpoint = await TrainCheckpoint(store);

        var port = TestNodes.FreePort();
        var run = Path.GetDirectoryName(store)!;
        // The url is relative to the model store, as a TorchServe model name is.
        var config = TestNodes.Node(port, [], "\"partition\", \"inference\"", store, $$"""
            graphactors.inference {
              graph-store = {{graphStore}}
              model-store = {{NodeConfig.Quote(run)}}
              management-token-file = {{NodeConfig.Quote(Path.Combine(run, "node", "management-token"))}}
              models = [{ name = "sage", url = {{NodeConfig.Quote(Path.GetRelativePath(run, checkpoint))}} }]
              inference-port = 0
              management-port = 0
              metrics-port = 0
            }
            """);
        var system = NodeHost.Start(config, TextWriter.Null);
        try
        {
            var inference = await system.ActorSelection("/user/" + InferenceExtensions.ActorName).ResolveOne(TimeSpan.FromSeconds(10));
            var started = await inference.Ask<InferenceActor.Started>(InferenceActor.GetAddresses.Instance, TimeSpan.FromSeconds(60));
            Assert.Equal(["sage"], started.Models);
            Assert.Equal("127.0.0.1", started.Inference.Host);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            var ids = new long[] { 10_000, 10_007, 10_000 + 7 * 150 };
            var body = JsonSerializer.Serialize(new { node_type = "user", ids });
            using var response = await http.PostAsync(new Uri(started.Inference, "predictions/sage"), new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            using var json = JsonDocument.Parse(text);
            Assert.Equal("sage", json.RootElement.GetProperty("model").GetString());
            var predictions = json.RootElement.GetProperty("predictions");
            Assert.Equal(3, predictions.GetArrayLength());
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(ids[i], predictions[i].GetProperty("id").GetInt64());
                var p = predictions[i].GetProperty("probabilities").EnumerateArray().Select(e => e.GetSingle()).ToArray();
                Assert.Equal(4, p.Length);
                Assert.Equal(1f, p.Sum(), 1e-4f);
            }
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>One epoch of a small 2-layer GraphSAGE on the store, saved as a checkpoint next to it.</summary>
    internal static async Task<string> TrainCheckpoint(string store)
    {
        var checkpoint = Path.Combine(Path.GetDirectoryName(store)!, "ckpt");
        using var local = new PartitionedGraphStore(PartitionStore.Open(store));
        using var trainer = await Trainer.CreateAsync(local, new TrainingConfig
        {
            ModelType = "sage", Task = "node_classification", Target = "user", HiddenChannels = 8, NumLayers = 2,
            Fanouts = [4, 4], BatchSize = 64, Epochs = 1, NodeSplit = "random", Prefetch = 1, Seed = 1,
        });
        await trainer.TrainEpochAsync();
        Checkpoints.Save(trainer, checkpoint, new Dictionary<string, double>());
        return checkpoint;
    }

    [Fact]
    public async Task Predictions_and_model_changes_are_answered_by_the_inference_actor()
    {
        var store = TestStore.Build(1);
        var checkpoint = await TrainCheckpoint(store);
        var port = TestNodes.FreePort();
        // Redis on a port nobody listens on: the actor's engine has a feature cache that is down, and falls back.
        var redisPort = TestNodes.FreePort();
        var run = Path.GetDirectoryName(store)!;
        var tokenFile = Path.Combine(run, "node", "management-token");
        // No management token configured: the node generates one into the token file at start.
        var config = TestNodes.Node(port, [], "\"partition\", \"inference\"", store, $$"""
            graphactors.inference {
              graph-store = local
              model-store = {{NodeConfig.Quote(run)}}
              management-token-file = {{NodeConfig.Quote(tokenFile)}}
              models = [{ name = "sage", url = {{NodeConfig.Quote(checkpoint)}} }]
              inference-port = 0
              management-port = 0
              metrics-port = 0
              redis { endpoint = "127.0.0.1:{{redisPort}}", graph = "test" }
            }
            """);
        var system = NodeHost.Start(config, TextWriter.Null);
        try
        {
            var inference = await system.ActorSelection("/user/" + InferenceExtensions.ActorName).ResolveOne(TimeSpan.FromSeconds(10));
            var started = await inference.Ask<InferenceActor.Started>(InferenceActor.GetAddresses.Instance, TimeSpan.FromSeconds(60));
            var before = await inference.Ask<InferenceActor.Stats>(InferenceActor.GetStats.Instance, TimeSpan.FromSeconds(10));
            Assert.Equal(new InferenceActor.Stats(0, 0, 0), before);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            var body = JsonSerializer.Serialize(new { node_type = "user", ids = new long[] { 10_000, 10_007 } });
            using (var response = await http.PostAsync(new Uri(started.Inference, "predictions/sage"), new StringContent(body, Encoding.UTF8, "application/json")))
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            // A bad request is refused by the HTTP layer before it reaches the actor: still one prediction.
            using (var response = await http.PostAsync(new Uri(started.Inference, "predictions/sage"), new StringContent("{", Encoding.UTF8, "application/json")))
                Assert.Equal(400, (int)response.StatusCode);
            Assert.Equal(1, (await inference.Ask<InferenceActor.Stats>(InferenceActor.GetStats.Instance, TimeSpan.FromSeconds(10))).Predictions);

            // Register version 2.0, make it the default, drop 1: three registry changes made by the actor, with the
            // token the node generated (only its user may read the file).
            var management = started.Management;
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
            using (var r = await http.GetAsync(new Uri(management, "models")))
                Assert.Equal(401, (int)r.StatusCode);
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", File.ReadAllText(tokenFile).Trim());
            using (var r = await http.PostAsync(new Uri(management, $"models?url={Uri.EscapeDataString(checkpoint)}&model_name=sage&model_version=2.0"), null))
                Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
            using (var r = await http.PutAsync(new Uri(management, "models/sage/2.0/set-default"), null))
                Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
            var versions = await http.GetStringAsync(new Uri(management, "models/sage/all"));
            var first = JsonDocument.Parse(versions).RootElement.EnumerateArray().Select(e => e.GetProperty("modelVersion").GetString()).First(v => v != "2.0");
            using (var r = await http.DeleteAsync(new Uri(management, $"models/sage/{first}")))
                Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
            // An unknown version is the actor's refusal, with TorchServe's status and message.
            using (var r = await http.PutAsync(new Uri(management, "models/sage/9.9/set-default"), null))
            {
                Assert.Equal(404, (int)r.StatusCode);
                Assert.Contains("9.9", await r.Content.ReadAsStringAsync());
            }

            using (var response = await http.PostAsync(new Uri(started.Inference, "predictions/sage"), new StringContent(body, Encoding.UTF8, "application/json")))
            {
                var text = await response.Content.ReadAsStringAsync();
                Assert.True(response.IsSuccessStatusCode, text);
                Assert.Equal("2.0", JsonDocument.Parse(text).RootElement.GetProperty("version").GetString());
            }
            var stats = await inference.Ask<InferenceActor.Stats>(InferenceActor.GetStats.Instance, TimeSpan.FromSeconds(10));
            Assert.Equal(new InferenceActor.Stats(2, 3, 0), stats);

            using var ping = JsonDocument.Parse(await (await http.GetAsync(new Uri(started.Inference, "ping"))).Content.ReadAsStringAsync());
            Assert.Equal("Healthy", ping.RootElement.GetProperty("status").GetString());
            Assert.Equal("down", ping.RootElement.GetProperty("feature_cache").GetString());
            var metrics = await http.GetStringAsync(new Uri(started.Metrics, "metrics"));
            Assert.Contains("graphactors_redis_up 0", metrics);
            Assert.Contains("graphactors_feature_cache_misses_total{node_type=\"user\"}", metrics);
            Assert.Contains("graphactors_inflight_requests 0", metrics);
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task A_model_that_cannot_load_stops_the_inference_actor_with_the_reason()
    {
        var store = TestStore.Build(1);
        var run = Path.GetDirectoryName(store)!;
        var missing = Path.Combine(run, "no-such-checkpoint");
        var reason = await StartFailure(store, run, $"[{{ name = \"sage\", url = {NodeConfig.Quote(missing)} }}]");
        Assert.Contains("no-such-checkpoint", reason);
    }

    [Fact]
    public async Task A_configured_model_outside_the_model_store_is_refused_like_POST_models()
    {
        var store = TestStore.Build(1);
        var checkpoint = await TrainCheckpoint(store);
        var modelStore = Path.Combine(Path.GetDirectoryName(store)!, "models");
        var reason = await StartFailure(store, modelStore, """[{ name = "sage", url = "../ckpt" }]""");
        Assert.Contains("'../ckpt' is outside the model store " + modelStore, reason);
        Assert.True(Directory.Exists(checkpoint));
        Assert.True(Directory.Exists(modelStore)); // made at start, so the documented folder is there to copy into
    }

    /// <summary>Starts a local inference node with these models and model store; its inference actor must fail to start: the reason.</summary>
    private static async Task<string> StartFailure(string store, string modelStore, string models)
    {
        var config = TestNodes.Node(TestNodes.FreePort(), [], "\"partition\", \"inference\"", store, $$"""
            graphactors.inference {
              graph-store = local
              model-store = {{NodeConfig.Quote(modelStore)}}
              management-token = off
              models = {{models}}
              inference-port = 0
              management-port = 0
              metrics-port = 0
            }
            """);
        var system = NodeHost.Start(config, TextWriter.Null);
        try
        {
            var inference = await system.ActorSelection("/user/" + InferenceExtensions.ActorName).ResolveOne(TimeSpan.FromSeconds(10));
            var answer = await inference.Ask<object>(InferenceActor.GetAddresses.Instance, TimeSpan.FromSeconds(60));
            return Assert.IsType<InferenceActor.StartFailed>(answer).Reason;
        }
        finally
        {
            await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
            await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }
}
