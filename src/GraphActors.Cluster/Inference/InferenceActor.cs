// The inference role: one actor owns the graph store, the InferenceEngine (model registry) and the HTTP host.
using Akka.Actor;
using Akka.Event;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Status;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Serving;

namespace GraphActors.Cluster.Inference;

/// <summary>
/// Owns what an inference node serves with: the graph store (a RemoteGraphStore over the partition region, or a local
/// PartitionedGraphStore), the <see cref="InferenceEngine"/> with the configured models (loaded through
/// <see cref="TrainingCheckpointLoader"/>) and the <see cref="ServingHost"/>. Started in PreStart, stopped in PostStop.
/// HTTP handlers call the engine directly — the HTTP handler is the edge (STYLE 8); the engine's torch workers do the
/// forward passes. Runs on the pinned graphactors.inference.dispatcher (STYLE 7).
/// </summary>
public sealed class InferenceActor : ReceiveActor
{
    /// <summary>Asks for the bound addresses; answered with <see cref="Started"/> once the host is up, or <see cref="StartFailed"/>.</summary>
    public sealed class GetAddresses
    {
        public static readonly GetAddresses Instance = new();
        private GetAddresses() { }
    }

    public sealed record Started(Uri Inference, Uri Management, Uri Metrics, IReadOnlyList<string> Models);

    /// <summary>The answer to <see cref="GetAddresses"/> when the host could not start (a model failed to load, a port is taken).</summary>
    public sealed record StartFailed(string Reason);

    private readonly InferenceSettings _settings;
    private readonly IActorRef _region;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<IActorRef> _waiting = [];
    private IGraphStore? _store;
    private InferenceEngine? _engine;
    private Task<ServingHost>? _starting;
    private Started? _started;
    private StartFailed? _failed;

    public InferenceActor(InferenceSettings settings, IActorRef partitionRegion)
    {
        _settings = settings;
        _region = partitionRegion;
        Receive<Started>(s =>
        {
            _started = s;
            _log.Info("serving {0} on {1} (management {2}, metrics {3})", string.Join(", ", s.Models), s.Inference, s.Management, s.Metrics);
            foreach (var w in _waiting) w.Tell(s);
            _waiting.Clear();
        });
        // A bad model or a taken port will not fix itself on restart: say why, release the engine and the store, and
        // answer GetAddresses with the reason from now on (nothing listens).
        Receive<StartFailed>(f =>
        {
            _log.Error("inference: the HTTP host did not start: {0}", f.Reason);
            _failed = f;
            foreach (var w in _waiting) w.Tell(f);
            _waiting.Clear();
            _engine?.Dispose();
            _engine = null;
            (_store as IDisposable)?.Dispose();
            _store = null;
        });
        Receive<GetAddresses>(_ =>
        {
            if (_started is not null) Sender.Tell(_started);
            else if (_failed is not null) Sender.Tell(_failed);
            else _waiting.Add(Sender);
        });
    }

    public static Props Props(InferenceSettings settings, IActorRef partitionRegion) =>
        Akka.Actor.Props.Create(() => new InferenceActor(settings, partitionRegion)).WithDispatcher(InferenceSettings.DispatcherPath);

    protected override void PreStart()
    {
        if (string.IsNullOrWhiteSpace(_settings.StorePath))
            throw new InvalidOperationException("The inference role needs graphactors.inference.store-path (or graphactors.partitions.store-path).");
        _store = _settings.LocalStore
            ? new PartitionedGraphStore(PartitionStore.Open(_settings.StorePath))
            : RemoteGraphStore.FromStore(Context.System, _settings.StorePath, _settings.RequestTimeout);
        _engine = new InferenceEngine(_store, new TrainingCheckpointLoader(_store), features: null, _settings.Engine);
        var engine = _engine;
        var settings = _settings;
        // The status page (Status/) rides on the management port; its collector is a child, stopped with this actor.
        var status = StatusSettings.Create(Context.System);
        if (status.Enabled)
            settings = settings with { Serving = settings.Serving with { ConfigureManagement = StatusSource.Start(Context, engine, status).Map } };
        _starting = StartAsync(engine, settings);
        _starting.ContinueWith(t => t.IsCompletedSuccessfully
                ? (object)new Started(t.Result.InferenceAddress, t.Result.ManagementAddress, t.Result.MetricsAddress, settings.Models.Select(m => m.Name).ToList())
                : new StartFailed(t.Exception?.GetBaseException().Message ?? "cancelled"),
            TaskScheduler.Default).PipeTo(Self);
    }

    private static async Task<ServingHost> StartAsync(InferenceEngine engine, InferenceSettings settings)
    {
        foreach (var m in settings.Models) await engine.Models.RegisterAsync(m.Name, m.Url).ConfigureAwait(false);
        return await ServingHost.StartAsync(engine, settings.Serving).ConfigureAwait(false);
    }

    protected override void PostStop()
    {
        // Stop listening first, then release the models and the store (the host may still be starting: wait for it).
        try
        {
            if (_starting is not null && _starting.Wait(TimeSpan.FromSeconds(30)) && _starting.IsCompletedSuccessfully)
                _starting.Result.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
            // The start failed: nothing is listening.
        }
        _engine?.Dispose();
        (_store as IDisposable)?.Dispose();
        foreach (var w in _waiting) w.Tell(new StartFailed("The inference actor stopped."));
        base.PostStop();
    }
}

public static class InferenceExtensions
{
    public const string ActorName = "inference";

    /// <summary>Starts the inference actor (the node's HTTP serving) at /user/inference.</summary>
    public static IActorRef StartInference(this ActorSystem system, InferenceSettings settings) =>
        system.ActorOf(InferenceActor.Props(settings, system.PartitionRegion()), ActorName);
}
