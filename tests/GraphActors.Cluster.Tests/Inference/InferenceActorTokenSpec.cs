// The inference actor's management token at start: generated once into its file and logged, reused after a restart,
// or switched off with a warning — over a real host.
using System.Net.Http.Headers;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Inference;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Serving;

namespace GraphActors.Cluster.Tests.Inference;

public sealed class InferenceActorTokenSpec() : TestKit(ConfigurationFactory.ParseString("""
    akka.loglevel = INFO
    graphactors.status.enabled = off
    """).WithFallback(InferenceSettings.DefaultConfig))
{
    private readonly PartitionedGraphStore _store = new(PartitionStore.Open(TestStore.TwoParts));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-token-spec", Guid.NewGuid().ToString("N"));

    private static InferenceSettings Settings(string? tokenFile, bool off = false) => new()
    {
        StorePath = "(test)",
        ManagementTokenFile = tokenFile,
        Serving = new ServingOptions { InferencePort = 0, ManagementPort = 0, MetricsPort = 0, ManagementTokenDisabled = off },
    };

    // Each actor gets its own engine: the actor disposes the engine when it stops.
    private IActorRef Start(InferenceSettings settings) =>
        Sys.ActorOf(InferenceActor.Props(settings, (_, _) =>
            Task.FromResult(new InferenceBackend(new InferenceEngine(_store, new TrainingCheckpointLoader(_store, new ModelStore(_dir)), null)))));

    private static async Task<InferenceActor.Started> Addresses(IActorRef actor) =>
        Assert.IsType<InferenceActor.Started>(await actor.Ask<object>(InferenceActor.GetAddresses.Instance, TimeSpan.FromSeconds(30)));

    private async Task<int> ListModels(Uri management, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(management, "models"));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await _http.SendAsync(request);
        return (int)response.StatusCode;
    }

    private async Task Stop(IActorRef actor)
    {
        await WatchAsync(actor);
        Sys.Stop(actor);
        await ExpectTerminatedAsync(actor, TimeSpan.FromSeconds(30));
    }

    /// <summary>The node's readiness probe waits for the inference HTTP API: not ready while it starts, ready once it
    /// listens (naming the prediction address), not ready again once the actor has stopped.</summary>
    [Fact]
    public async Task The_readiness_probe_names_the_inference_api_ready_once_it_listens_and_not_after_it_stopped()
    {
        var actor = Start(Settings(Path.Combine(_dir, "ready", ManagementAuth.FileName)));
        var started = await Addresses(actor);
        var check = new GraphActors.Cluster.Health.NodePartsReadyCheck(Sys);
        var ready = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, ready.Status);
        Assert.Contains($"inference ready: predictions on {started.Inference}", ready.Description);
        await Stop(actor);
        var stopped = await check.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, stopped.Status);
        Assert.Contains("inference not ready: failed: the inference actor stopped", stopped.Description);
    }

    [Fact]
    public async Task A_node_without_a_token_generates_one_logs_where_it_is_and_reuses_it_after_a_restart()
    {
        var file = Path.Combine(_dir, "node", ManagementAuth.FileName);
        IActorRef? actor = null;
        await EventFilter.Info(contains: $"management API token generated into {file}").ExpectOneAsync(async () =>
        {
            actor = Start(Settings(file));
            await Addresses(actor);
        });
        var token = File.ReadAllText(file).Trim();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        var started = await Addresses(actor!);
        Assert.Equal(401, await ListModels(started.Management, null));
        Assert.Equal(200, await ListModels(started.Management, token));
        await Stop(actor!);

        await EventFilter.Info(contains: $"management API token read from {file}: {token}").ExpectOneAsync(async () =>
        {
            actor = Start(Settings(file));
            started = await Addresses(actor);
        });
        Assert.Equal(200, await ListModels(started.Management, token));
        Assert.Equal(403, await ListModels(started.Management, ManagementAuth.NewToken()));
        await Stop(actor!);
    }

    [Fact]
    public async Task Management_token_off_opens_the_API_and_says_so_as_a_warning_at_start()
    {
        IActorRef? actor = null;
        await EventFilter.Warning(contains: "requires no token").ExpectOneAsync(async () =>
        {
            actor = Start(Settings(tokenFile: null, off: true));
            await Addresses(actor);
        });
        var started = await Addresses(actor!);
        Assert.Equal(200, await ListModels(started.Management, null));
        Assert.False(Directory.Exists(Path.Combine(_dir, "node")));
        await Stop(actor!);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        _http.Dispose();
        _store.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
