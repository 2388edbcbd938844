// The inference role: one actor owns the engine (model registry, graph store, feature cache), the HTTP host, and answers every prediction.
using Akka;
using Akka.Actor;
using Akka.Event;
using GraphActors.Cluster.Health;
using GraphActors.Cluster.Status;
using GraphActors.Serving;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Inference;

/// <summary>
/// Owns what an inference node serves with — an <see cref="InferenceBackend"/> (graph store, optional Redis feature
/// cache, <see cref="InferenceEngine"/> with the configured models) and the <see cref="ServingHost"/> — and answers
/// what the host hands it through <see cref="ActorInferenceDispatcher"/>: predictions and the management calls that
/// change the registry. Behaviours: starting (opening the backend, loading the models, binding the ports) → serving,
/// or → failed with the reason. It never waits for a prediction: the work runs on the thread pool and the engine's
/// torch workers, and the reply goes back with PipeTo. Runs on the pinned graphactors.inference.dispatcher (STYLE 8).
/// The CommandHandler of any node (`graphactors ctl model …`) reaches it too, with CommandProtocol's serving messages
/// over the wire: they call the same registry methods and rules (<see cref="ModelManagement"/>) as the management API,
/// and every answer is an <see cref="InferenceNodeAnswer"/> carrying the HTTP status the API would give.
/// </summary>
public sealed class InferenceActor : ReceiveActor
{
    /// <summary>Asks for the bound addresses; answered with <see cref="Started"/> once the host is up, or <see cref="StartFailed"/>.</summary>
    public sealed class GetAddresses : INoSerializationVerificationNeeded
    {
        public static readonly GetAddresses Instance = new();
        private GetAddresses() { }
    }

    public sealed record Started(Uri Inference, Uri Management, Uri Metrics, IReadOnlyList<string> Models) : INoSerializationVerificationNeeded;

    /// <summary>The answer to <see cref="GetAddresses"/> when the host could not start (a model failed to load, a port is taken).</summary>
    public sealed record StartFailed(string Reason) : INoSerializationVerificationNeeded;

    // The request messages below are Asked by the HTTP host in the same process (they carry the request's
    // cancellation), so they are never serialized.

    /// <summary>One admitted prediction → a <see cref="PredictionResult"/>, or Akka.Actor.Status.Failure with a <see cref="ServingException"/>.</summary>
    public sealed record Predict(PredictionRequest Request, CancellationToken Cancellation) : INoSerializationVerificationNeeded;

    /// <summary>Loads a checkpoint into the registry → the <see cref="ModelEntry"/>.</summary>
    public sealed record RegisterModel(string Name, string Url, string? Version, int? Workers, CancellationToken Cancellation) : INoSerializationVerificationNeeded;

    /// <summary>→ the removed <see cref="ModelEntry"/>.</summary>
    public sealed record UnregisterModel(string Name, string? Version) : INoSerializationVerificationNeeded;

    /// <summary>→ <see cref="Done"/>.</summary>
    public sealed record SetDefaultModel(string Name, string Version) : INoSerializationVerificationNeeded;

    /// <summary>→ <see cref="Stats"/>.</summary>
    public sealed class GetStats : INoSerializationVerificationNeeded
    {
        public static readonly GetStats Instance = new();
        private GetStats() { }
    }

    /// <summary>What this actor has handled: predictions it executed, registry changes it made, requests it refused.</summary>
    public sealed record Stats(long Predictions, long ModelChanges, long Refused) : INoSerializationVerificationNeeded;

    private sealed record Opened(InferenceBackend Backend, ServingHost Host, ManagementAuth Auth) : INoSerializationVerificationNeeded;

    private const string TokenKey = "graphactors.inference.management-token";

    /// <summary>This role's part in the node's readiness probe (<see cref="NodeReadiness"/>).</summary>
    public const string ReadinessPart = "inference";

    private readonly InferenceSettings _settings;
    private readonly Func<ActorSystem, InferenceSettings, Task<InferenceBackend>> _open;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly List<IActorRef> _waiting = [];
    private Task<(InferenceBackend Backend, ServingHost Host, ManagementAuth Auth)>? _starting;
    private InferenceEngine? _engine;
    private Started? _started;
    private StartFailed? _failed;
    private long _predictions, _modelChanges, _refused;

    public InferenceActor(InferenceSettings settings, Func<ActorSystem, InferenceSettings, Task<InferenceBackend>> open)
    {
        _settings = settings;
        _open = open;
        NodeReadiness.Get(Context.System).Pending(ReadinessPart, "the HTTP API is starting (loading its models)");
        Starting();
    }

    /// <summary>The node's inference actor: the backend <see cref="InferenceSettings"/> describes.</summary>
    public static Props Props(InferenceSettings settings) => Props(settings, InferenceBackend.OpenAsync);

    /// <summary>An inference actor over a backend the caller opens (`bench serve` wraps an in-memory graph).</summary>
    public static Props Props(InferenceSettings settings, Func<ActorSystem, InferenceSettings, Task<InferenceBackend>> open) =>
        Akka.Actor.Props.Create(() => new InferenceActor(settings, open)).WithDispatcher(InferenceSettings.DispatcherPath);

    private void Starting()
    {
        Receive<Opened>(o =>
        {
            _engine = o.Backend.Engine;
            _started = new Started(o.Host.InferenceAddress, o.Host.ManagementAddress, o.Host.MetricsAddress, _settings.Models.Select(m => m.Name).ToList());
            _log.Info("serving {0} on {1} (management {2}, metrics {3})", string.Join(", ", _started.Models), _started.Inference, _started.Management, _started.Metrics);
            // Printed at every start, as Jupyter does: whoever runs the node finds the token (and its file) in the log.
            var auth = o.Auth.Describe(_started.Management, TokenKey);
            if (o.Auth.Origin == ManagementTokenOrigin.Disabled) _log.Warning(auth);
            else _log.Info(auth);
            if (o.Auth.Warning is { } warning) _log.Warning(warning);
            NodeReadiness.Get(Context.System).Ready(ReadinessPart, $"predictions on {_started.Inference}");
            Answer(_started);
            Become(Serving);
        });
        // A bad model or a taken port will not fix itself on restart: say why (the backend is already released) and
        // answer with the reason from now on; nothing listens.
        Receive<StartFailed>(f =>
        {
            _log.Error("inference: the HTTP host did not start: {0}", f.Reason);
            NodeReadiness.Get(Context.System).Failed(ReadinessPart, f.Reason);
            _failed = f;
            Answer(f);
            Become(Failed);
        });
        Receive<GetAddresses>(_ => _waiting.Add(Sender));
        RefuseRequests(() => "The inference actor is still starting (loading its models).");
    }

    private void Serving()
    {
        Receive<GetAddresses>(_ => Sender.Tell(_started));
        Receive<Predict>(p =>
        {
            _predictions++;
            var engine = _engine!;
            // Task.Run: the engine's synchronous start (id lookup, sampling against a local store) must not run on
            // this pinned thread; the forward pass goes to the engine's torch workers.
            Task.Run(() => engine.ExecuteAsync(p.Request, p.Cancellation)).PipeTo(Sender);
        });
        Receive<RegisterModel>(r =>
        {
            _modelChanges++;
            _engine!.Models.RegisterAsync(r.Name, r.Url, r.Version, r.Cancellation, r.Workers).PipeTo(Sender);
        });
        Receive<UnregisterModel>(u => Reply(() =>
        {
            var entry = _engine!.Models.Unregister(u.Name, u.Version);
            _modelChanges++;
            return entry;
        }));
        Receive<SetDefaultModel>(d => Reply(() =>
        {
            _engine!.Models.SetDefault(d.Name, d.Version);
            _modelChanges++;
            return Done.Instance;
        }));
        Receive<GetStats>(_ => Sender.Tell(new Stats(_predictions, _modelChanges, _refused)));

        // ---- `ctl model …`, from a CommandHandler (the token was checked there) ----
        Receive<GetServedModels>(_ => Sender.Tell(CtlAnswer(() =>
        {
            var models = ServedModels(_engine!, _engine!.Models.All());
            return (200, $"{models.Length} model version(s)", models);
        })));
        Receive<RegisterServedModel>(r =>
        {
            var engine = _engine!;
            var node = NodeAddress;
            string name;
            int? workers;
            try
            {
                name = ModelManagement.NameFor(r.Url, r.Name);
                workers = ModelManagement.CheckWorkers(engine, "initial_workers", r.InitialWorkers < 0 ? null : r.InitialWorkers);
            }
            catch (ServingException e)
            {
                Sender.Tell(Refusal(node, e));
                return;
            }
            _modelChanges++;
            _log.Info("ctl: registering model '{0}' from {1}", name, r.Url);
            engine.Models.RegisterAsync(name, r.Url, r.Version.Length == 0 ? null : r.Version, workers: workers).ContinueWith(t =>
            {
                if (!t.IsCompletedSuccessfully) return Refusal(node, t.Exception!.GetBaseException());
                return new InferenceNodeAnswer(node, true, 200, ModelManagement.Registered(t.Result), ServedModels(engine, [t.Result]));
            }, TaskScheduler.Default).PipeTo(Sender);
        });
        Receive<UnregisterServedModel>(u => Sender.Tell(CtlAnswer(() =>
        {
            var entry = _engine!.Models.Unregister(u.Name, u.Version.Length == 0 ? null : u.Version);
            _modelChanges++;
            _log.Info("ctl: unregistered model '{0}' version {1}", entry.Name, entry.Version);
            return (200, ModelManagement.Unregistered(entry), ServedModels(_engine!, [entry]));
        })));
        Receive<ScaleServedModel>(m => Sender.Tell(CtlAnswer(() =>
        {
            var version = m.Version.Length == 0 ? null : m.Version;
            var entry = ModelManagement.Scale(_engine!, m.Name, version, m.MinWorkers, m.MaxWorkers);
            _modelChanges++;
            _log.Info("ctl: scaled model '{0}' version {1} to {2}..{3} workers", entry.Name, entry.Version, m.MinWorkers, m.MaxWorkers);
            return (200, ModelManagement.Scaled(m.Name, version, entry, m.MinWorkers), ServedModels(_engine!, [entry]));
        })));
    }

    private string NodeAddress => ((ExtendedActorSystem)Context.System).Provider.DefaultAddress.ToString();

    private static ServedModel[] ServedModels(InferenceEngine engine, IEnumerable<ModelEntry> entries) =>
        entries.OrderBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => e.Version, StringComparer.Ordinal)
            .Select(e => new ServedModel(e.Name, e.Version, engine.Models.DefaultVersion(e.Name) == e.Version, e.Workers.MinWorkers, e.Workers.MaxWorkers,
                ModelManagement.Status(e), e.Url))
            .ToArray();

    private InferenceNodeAnswer CtlAnswer(Func<(int Code, string Message, ServedModel[] Models)> work)
    {
        try
        {
            var (code, message, models) = work();
            return new InferenceNodeAnswer(NodeAddress, true, code, message, models);
        }
        catch (Exception e)
        {
            return Refusal(NodeAddress, e);
        }
    }

    // The management API's status and text for a refusal (500 for anything that is not a ServingException, as its guard does).
    private static InferenceNodeAnswer Refusal(string node, Exception e) => e is ServingException s
        ? new InferenceNodeAnswer(node, false, s.Code, s.Message, [])
        : new InferenceNodeAnswer(node, false, 500, e.Message, []);

    private void Failed()
    {
        Receive<GetAddresses>(_ => Sender.Tell(_failed));
        RefuseRequests(() => $"The inference actor did not start: {_failed!.Reason}");
    }

    private void RefuseRequests(Func<string> why)
    {
        void Refuse() { _refused++; Sender.Tell(new Akka.Actor.Status.Failure(ServingException.Unavailable(why()))); }
        Receive<Predict>(_ => Refuse());
        Receive<RegisterModel>(_ => Refuse());
        Receive<UnregisterModel>(_ => Refuse());
        Receive<SetDefaultModel>(_ => Refuse());
        Receive<GetStats>(_ => Sender.Tell(new Stats(_predictions, _modelChanges, _refused)));
        void RefuseCtl() { _refused++; Sender.Tell(new InferenceNodeAnswer(NodeAddress, false, 503, why(), [])); }
        Receive<GetServedModels>(_ => RefuseCtl());
        Receive<RegisterServedModel>(_ => RefuseCtl());
        Receive<UnregisterServedModel>(_ => RefuseCtl());
        Receive<ScaleServedModel>(_ => RefuseCtl());
    }

    private void Reply(Func<object> change)
    {
        try
        {
            Sender.Tell(change());
        }
        catch (ServingException e)
        {
            Sender.Tell(new Akka.Actor.Status.Failure(e));
        }
    }

    private void Answer(object answer)
    {
        foreach (var w in _waiting) w.Tell(answer);
        _waiting.Clear();
    }

    protected override void PreStart()
    {
        var self = Self;
        // The status page (Status/) rides on the management port; its collector is a child, stopped with this actor.
        var status = StatusSettings.Create(Context.System);
        var collector = status.Enabled ? Context.ActorOf(StatusActor.Props(status), "status") : null;
        _starting = StartAsync(_open, Context.System, _settings, self, collector, status);
        _starting.PipeTo(self, success: r => new Opened(r.Backend, r.Host, r.Auth), failure: e => new StartFailed(e.GetBaseException().Message));
    }

    private static async Task<(InferenceBackend Backend, ServingHost Host, ManagementAuth Auth)> StartAsync(Func<ActorSystem, InferenceSettings, Task<InferenceBackend>> open,
        ActorSystem system, InferenceSettings settings, IActorRef self, IActorRef? statusCollector, StatusSettings status)
    {
        var backend = await open(system, settings).ConfigureAwait(false);
        if (statusCollector is not null)
            settings = settings with { Serving = settings.Serving with { ConfigureManagement = new StatusSource(statusCollector, backend.Engine, status).Map } };
        try
        {
            // No configured token: the one generated at the node's first start, from its file (made now if this is that start).
            var auth = ManagementAuth.Resolve(settings.Serving.ManagementTokenDisabled ? ManagementAuth.OffValues[0] : settings.Serving.ManagementToken,
                settings.ManagementTokenFile);
            var serving = settings.Serving with { ManagementToken = auth.Token };
            // The configured models load before anything listens, so nothing else touches the registry meanwhile. They
            // go through the engine's loader, confined to the model store like POST /models.
            foreach (var m in settings.Models) await backend.Engine.Models.RegisterAsync(m.Name, m.Url).ConfigureAwait(false);
            var dispatcher = new ActorInferenceDispatcher(self, settings.AskTimeout, settings.ModelLoadTimeout);
            var host = await ServingHost.StartAsync(backend.Engine, dispatcher, serving).ConfigureAwait(false);
            return (backend, host, auth);
        }
        catch
        {
            await backend.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override void PostStop()
    {
        // Stop listening first, then release the backend (the start may still be running: wait for it, bounded).
        if (_starting is not null)
        {
            try
            {
                if (!_starting.Wait(TimeSpan.FromSeconds(30)))
                    _log.Warning("inference: the HTTP host was still starting 30 s after the actor stopped; its ports may stay bound until the process exits.");
                else if (_starting.IsCompletedSuccessfully)
                {
                    var (backend, host, _) = _starting.Result;
                    if (!host.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30)))
                        _log.Warning("inference: the HTTP host did not stop within 30 s.");
                    if (!backend.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(30)))
                        _log.Warning("inference: releasing the engine and the graph store took more than 30 s.");
                }
            }
            catch (AggregateException)
            {
                // The start failed: nothing is listening and the backend was released by StartAsync.
            }
        }
        NodeReadiness.Get(Context.System).Failed(ReadinessPart, "the inference actor stopped");
        Answer(new StartFailed("The inference actor stopped."));
        base.PostStop();
    }
}

public static class InferenceExtensions
{
    public const string ActorName = "inference";

    /// <summary>Starts the inference actor (the node's HTTP serving) at /user/inference.</summary>
    public static IActorRef StartInference(this ActorSystem system, InferenceSettings settings) =>
        system.ActorOf(InferenceActor.Props(settings), ActorName);
}
