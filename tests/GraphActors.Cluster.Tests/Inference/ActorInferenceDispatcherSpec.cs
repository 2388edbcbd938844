// The HTTP host in front of an actor that answers slowly, wrongly or not at all: the statuses a client sees.
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Inference;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Serving;

namespace GraphActors.Cluster.Tests.Inference;

/// <summary>
/// A real <see cref="ServingHost"/> and engine with an <see cref="ActorInferenceDispatcher"/> whose actor is a test
/// probe, so the test decides what the "inference actor" answers, and when.
/// </summary>
public sealed class ActorInferenceDispatcherSpec : TestKit, IAsyncLifetime
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromMilliseconds(400);
    private const string ManagementToken = "dispatcher-spec-token";
    private readonly PartitionedGraphStore _store;
    private readonly InferenceEngine _engine;
    private readonly Akka.TestKit.TestProbe _actor;
    private ServingHost? _host;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public ActorInferenceDispatcherSpec() : base(ConfigurationFactory.ParseString("akka.actor.serialize-messages = on"))
    {
        _store = new PartitionedGraphStore(PartitionStore.Open(TestStore.TwoParts));
        _engine = new InferenceEngine(_store, new TrainingCheckpointLoader(_store), features: null, new InferenceOptions { MaxInFlight = 1 });
        _actor = CreateTestProbe();
        _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ManagementToken);
    }

    public async Task InitializeAsync() =>
        _host = await ServingHost.StartAsync(_engine, new ActorInferenceDispatcher(_actor.Ref, AskTimeout, AskTimeout),
            new ServingOptions { InferencePort = 0, ManagementPort = 0, MetricsPort = 0, ManagementToken = ManagementToken });

    public async Task DisposeAsync()
    {
        _http.Dispose();
        if (_host is not null) await _host.DisposeAsync();
        _engine.Dispose();
        _store.Dispose();
    }

    private Task<HttpResponseMessage> Predict() =>
        _http.PostAsync(new Uri(_host!.InferenceAddress, "predictions/sage/3"),
            new StringContent("""{"node_type":"user","ids":[10000,10007]}""", Encoding.UTF8, "application/json"));

    [Fact]
    public async Task A_prediction_is_handed_to_the_actor_and_answered_from_its_reply()
    {
        var pending = Predict();
        var ask = await _actor.ExpectMsgAsync<InferenceActor.Predict>(TimeSpan.FromSeconds(10));
        var request = Assert.IsType<NodePredictionRequest>(ask.Request);
        Assert.Equal(("sage", "3", "user"), (request.Model, request.Version, request.NodeType));
        Assert.Equal([10_000L, 10_007L], request.Ids);
        Assert.Equal(1, _engine.InFlight); // the slot is held while the actor works
        _actor.Reply(new NodePredictionResult("sage", "3", "user", [new NodePrediction(10_000, 1, [0.25f, 0.75f], null), new NodePrediction(10_007, 0, [1f, 0f], null)]));

        using var response = await pending;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        var predictions = JsonDocument.Parse(text).RootElement.GetProperty("predictions");
        Assert.Equal(1, predictions[0].GetProperty("label").GetInt32());
        Assert.Equal(10_007, predictions[1].GetProperty("id").GetInt64());
        Assert.Equal(0, _engine.InFlight);
    }

    [Fact]
    public async Task No_answer_within_the_ask_timeout_is_a_504_naming_the_timeout_and_cancels_the_work()
    {
        var pending = Predict();
        var ask = await _actor.ExpectMsgAsync<InferenceActor.Predict>(TimeSpan.FromSeconds(10));
        using var response = await pending;
        Assert.Equal(504, (int)response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(504, body.GetProperty("code").GetInt32());
        Assert.Equal("GatewayTimeoutException", body.GetProperty("type").GetString());
        Assert.Equal("The inference actor did not answer within 0.4 s (graphactors.inference.ask-timeout); the request was cancelled.",
            body.GetProperty("message").GetString());
        Assert.True(ask.Cancellation.IsCancellationRequested, "the work of a timed-out request must be cancelled");
        Assert.Equal(0, _engine.InFlight);
        Assert.Contains("graphactors_errors_total{code=\"504\",type=\"GatewayTimeoutException\"} 1", _engine.Metrics.Render());
    }

    [Fact]
    public async Task A_refusal_from_the_actor_keeps_its_status_and_message()
    {
        var pending = Predict();
        await _actor.ExpectMsgAsync<InferenceActor.Predict>(TimeSpan.FromSeconds(10));
        _actor.Reply(new Akka.Actor.Status.Failure(ServingException.NodeNotFound("Unknown user id: 10007.")));
        using var response = await pending;
        Assert.Equal(404, (int)response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("NodeNotFoundException", body.GetProperty("type").GetString());
        Assert.Equal("Unknown user id: 10007.", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Over_the_in_flight_bound_a_request_is_refused_with_503_without_reaching_the_actor()
    {
        var first = Predict();
        await _actor.ExpectMsgAsync<InferenceActor.Predict>(TimeSpan.FromSeconds(10));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var second = await Predict())
        {
            Assert.Equal(503, (int)second.StatusCode);
            Assert.Contains("max 1", await second.Content.ReadAsStringAsync());
        }
        Assert.True(clock.Elapsed < AskTimeout, $"the refusal took {clock.Elapsed.TotalMilliseconds:F0} ms; it must not wait for the actor");
        await _actor.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(100));
        using var timedOut = await first;
        Assert.Equal(504, (int)timedOut.StatusCode);
    }

    [Fact]
    public async Task Model_changes_are_asked_of_the_actor()
    {
        var management = new Uri(_host!.ManagementAddress, "models/sage/2.0/set-default");
        var pending = _http.PutAsync(management, null);
        var ask = await _actor.ExpectMsgAsync<InferenceActor.SetDefaultModel>(TimeSpan.FromSeconds(10));
        Assert.Equal(("sage", "2.0"), (ask.Name, ask.Version));
        _actor.Reply(Akka.Done.Instance);
        using (var response = await pending)
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        pending = _http.DeleteAsync(new Uri(_host.ManagementAddress, "models/sage/1.0"));
        var unregister = await _actor.ExpectMsgAsync<InferenceActor.UnregisterModel>(TimeSpan.FromSeconds(10));
        Assert.Equal(("sage", "1.0"), (unregister.Name, unregister.Version));
        using (var response = await pending)
        {
            Assert.Equal(504, (int)response.StatusCode);
            Assert.Contains("graphactors.inference.ask-timeout", await response.Content.ReadAsStringAsync());
        }
    }
}
