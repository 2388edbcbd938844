// The training coordinator: a persistent cluster singleton that persists what CoordinatorState decides, replies, tells trainers and snapshots.
using Akka.Actor;
using Akka.Cluster.Tools.Singleton;
using Akka.Pattern;
using Akka.Event;
using Akka.Persistence;
using GraphActors.Cluster.Metrics;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Coordination;

/// <summary>
/// Behaviours: <c>Idle</c> (no job) → <c>Running</c> (epochs planned, rounds averaged, checkpoints recorded) →
/// <c>Halted</c> (finished, failed or stopped; a new StartJob or ResumeJob runs again). All decisions are
/// <see cref="CoordinatorState"/>'s; this actor persists the events, then replies and tells trainers. One timer covers
/// the state's current wait (round, epoch finish, checkpoint), one the planning delay. Trainers are watched, and the
/// coordinator follows cluster membership: a trainer whose actor terminates, or whose node the failure detector marks
/// unreachable or the cluster removes, leaves the epoch in flight, whose open steps are planned again among the others.
/// Slowness alone never drops a trainer (only the long round-timeout safety bound, logged as an error).
/// </summary>
public sealed class TrainingCoordinatorActor : ReceivePersistentActor, IWithTimers
{
    private sealed record PlanNow;
    private sealed record LogWaiting;

    private readonly CoordinatorSettings _settings;
    private readonly ISeedSource _seedSource;
    private readonly CoordinatorState _state;
    private readonly Dictionary<string, IActorRef> _trainers = new();
    private readonly Dictionary<string, Address> _trainerNodes = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private (string JobId, SeedSet Seeds)? _seeds;
    private string _waitKey = "";
    private DateTime _lastNewTrainer = DateTime.MinValue;
    private int _sinceSnapshot;

    public TrainingCoordinatorActor(CoordinatorSettings settings, ISeedSource seedSource)
    {
        _settings = settings;
        _seedSource = seedSource;
        _state = new CoordinatorState(settings.Averaging);
        JournalPluginId = settings.JournalPlugin;
        SnapshotPluginId = settings.SnapshotPlugin;

        Recover<SnapshotOffer>(offer => { if (offer.Snapshot is CoordinatorSnapshot s) _state.Restore(s); });
        Recover<ITrainingEvent>(e => _state.Apply(e));
        Recover<RecoveryCompleted>(_ =>
        {
            _state.Recovered();
            ObserveJob();
            _log.Info("Training coordinator recovered: job '{0}' {1}, last completed epoch {2}, last checkpoint [{3}]",
                _state.JobId, _state.State, _state.LastCompletedEpoch, _state.LastCheckpointPath);
            BecomeFor(_state.State);
        });
    }

    public override string PersistenceId => Names.TrainingCoordinatorPersistenceId;

    protected override void PreStart()
    {
        base.PreStart();
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, Akka.Cluster.ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(Akka.Cluster.ClusterEvent.UnreachableMember), typeof(Akka.Cluster.ClusterEvent.MemberRemoved));
    }

    protected override void PostStop()
    {
        Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
        base.PostStop();
    }
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(CoordinatorSettings settings, ISeedSource seedSource) =>
        Akka.Actor.Props.Create(() => new TrainingCoordinatorActor(settings, seedSource));

    // ---- behaviours ----

    private void Idle()
    {
        Common();
        CommandAny(m => _log.Debug("No job: ignored {0} from {1}", m.GetType().Name, Sender));
    }

    private void Running()
    {
        Common();
        Command<PlanNow>(_ => Plan());
        Command<WaitTimedOut>(m => Handle(m, null));
        Command<LogWaiting>(_ => LogWaitingForTrainers());
        Command<ICoordinatorCommand>(m => Handle(m, TrainerId(Sender)));
    }

    private void Halted()
    {
        Common();
        Command<ICoordinatorCommand>(m => Handle(m, TrainerId(Sender)));
        CommandAny(m => _log.Debug("Job '{0}' is {1}: ignored {2}", _state.JobId, _state.State, m.GetType().Name));
    }

    private void Common()
    {
        Command<RegisterTrainer>(m =>
        {
            var id = IdOf(m.Trainer);
            if (_trainers.TryAdd(id, m.Trainer))
            {
                Context.Watch(m.Trainer);
                _trainerNodes[id] = NodeOf(m.Trainer);
                _lastNewTrainer = DateTime.UtcNow;
                _log.Info("Trainer {0} on {1} registered (local partitions [{2}])", id, m.NodeAddress, string.Join(", ", m.LocalPartitions));
            }
            else _trainers[id] = m.Trainer; // trainers register again periodically (the coordinator may have moved)
            Handle(m, id);
        });
        Command<Terminated>(t =>
        {
            var id = IdOf(t.ActorRef);
            if (Forget(id)) Handle(new TrainerLeft(id), null);
        });
        // Membership is what takes a trainer out of a round: its node unreachable (the failure detector) or removed.
        Command<Akka.Cluster.ClusterEvent.UnreachableMember>(m => NodeGone(m.Member.Address, "the failure detector marks its node unreachable"));
        Command<Akka.Cluster.ClusterEvent.MemberRemoved>(m => NodeGone(m.Member.Address, "its node was removed from the cluster"));
        Command<StartJob>(m => Handle(m, null));
        Command<ResumeJob>(m => Handle(m, null));
        Command<StopJob>(m => Handle(m, null));
        Command<GetJobStatus>(m => Handle(m, null));
        // `graphactors ctl checkpoints list` / `model export` find the job's checkpoint directory and metric here.
        Command<CommandProtocol.GetJobConfig>(_ => Sender.Tell(new CommandProtocol.JobConfigResult(_state.JobId, _state.State, _state.Config)));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "Snapshot of the training coordinator failed; recovery replays more events"));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "Deleting old coordinator snapshots failed"));
    }

    private void BecomeFor(JobState state)
    {
        switch (state)
        {
            case JobState.Idle: Become(Idle); break;
            case JobState.Running: Become(Running); break;
            default: Become(Halted); break;
        }
        SyncTimers();
    }

    // ---- handling ----

    // A trainer's id is its full path, address included also for a trainer on the coordinator's own node.
    private string IdOf(IActorRef trainer) => trainer.Path.ToStringWithAddress(
        trainer.Path.Address.HasLocalScope ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : trainer.Path.Address);

    private Address NodeOf(IActorRef trainer) =>
        trainer.Path.Address.HasLocalScope ? Akka.Cluster.Cluster.Get(Context.System).SelfAddress : trainer.Path.Address;

    private bool Forget(string id)
    {
        _trainerNodes.Remove(id);
        if (!_trainers.Remove(id, out var trainer)) return false;
        Context.Unwatch(trainer);
        return true;
    }

    private void NodeGone(Address node, string why)
    {
        foreach (var id in _trainerNodes.Where(kv => kv.Value == node).Select(kv => kv.Key).ToArray())
        {
            Forget(id);
            _log.Warning("Trainer {0} leaves: {1} ({2})", id, why, node);
            Handle(new TrainerLeft(id, $"{why}: {node}"), null);
        }
    }

    private string? TrainerId(IActorRef sender)
    {
        var id = IdOf(sender);
        return _trainers.ContainsKey(id) ? id : null;
    }

    private void Handle(object command, string? trainerId)
    {
        var decision = _state.ProcessCommand(command, trainerId, DateTime.UtcNow);
        var replyTo = Sender;
        if (decision.Events.Count == 0)
        {
            Complete(decision, replyTo);
            return;
        }
        var left = decision.Events.Count;
        PersistAll(decision.Events, e =>
        {
            _state.Apply(e);
            _log.Info("{0}", e);
            if (++_sinceSnapshot >= _settings.SnapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(_state.ToSnapshot());
            }
            if (--left == 0) Complete(decision, replyTo);
        });
    }

    // The trainer count the job gauges last showed; -1 before the first observation.
    private int _observedTrainers = -1;

    private void ObserveJob()
    {
        _observedTrainers = _state.Trainers.Count;
        NodeMetrics.Get(Context.System).ObserveJob(_state.Status("", DateTime.UtcNow));
    }

    private void Complete(Decision decision, IActorRef replyTo)
    {
        // The gauges follow what the journal records and the registered trainers, not every command: a star round's
        // contribution chunks and the step reports change neither.
        if (decision.Events.Count > 0 || _state.Trainers.Count != _observedTrainers) ObserveJob();
        foreach (var w in decision.Warnings)
            if (w.StartsWith("SAFETY BOUND", StringComparison.Ordinal) || w.Contains("SAFETY BOUND", StringComparison.Ordinal)) _log.Error("{0}", w);
            else _log.Warning("{0}", w);
        if (decision.Reply is not null && !replyTo.IsNobody()) replyTo.Tell(decision.Reply);
        foreach (var (trainer, message) in decision.Sends)
        {
            if (_trainers.TryGetValue(trainer, out var target)) target.Tell(message, Self);
            else _log.Warning("Not sent to {0} (no longer registered): {1}", trainer, message.GetType().Name);
        }
        BecomeFor(_state.State);
    }

    // One timer per concern, keyed by what it waits for: a changed wait re-arms it, a finished one cancels it.
    private void SyncTimers()
    {
        var (key, kind) = _state.Wait;
        if (key != _waitKey)
        {
            _waitKey = key;
            if (kind == WaitKind.None) Timers.Cancel("wait");
            else Timers.StartSingleTimer("wait", new WaitTimedOut(key), _settings.TimeoutOf(kind));
        }
        if (_state.ReadyToPlan(_settings.MinTrainers))
        {
            Timers.Cancel("waiting-log");
            // plan-delay after the last NEW trainer, so trainers starting together share the epoch; otherwise at once.
            var due = _lastNewTrainer + _settings.PlanDelay - DateTime.UtcNow;
            if (due > TimeSpan.Zero) Timers.StartSingleTimer("plan", new PlanNow(), due);
            else if (!Timers.IsTimerActive("plan")) Timers.StartSingleTimer("plan", new PlanNow(), TimeSpan.Zero);
        }
        else if (_state.State == JobState.Running && !_state.EpochInFlight)
        {
            if (!Timers.IsTimerActive("waiting-log"))
                Timers.StartPeriodicTimer("waiting-log", new LogWaiting(), TimeSpan.Zero, _settings.WaitingLogInterval);
        }
        else Timers.Cancel("waiting-log");
    }

    private void LogWaitingForTrainers() => _log.Warning(
        "Job '{0}' waits for trainers to plan epoch {1}: {2} registered, at least {3} needed (trainers send RegisterTrainer to {4})",
        _state.JobId, _state.NextEpoch, _state.Trainers.Count, _settings.MinTrainers, Names.TrainingCoordinatorProxy);

    private void Plan()
    {
        if (!_state.ReadyToPlan(_settings.MinTrainers)) return;
        SeedSet seeds;
        try
        {
            if (_seeds is not { } cached || cached.JobId != _state.JobId)
                _seeds = (_state.JobId, _seedSource.Load(_state.Config!));
            seeds = _seeds.Value.Seeds;
        }
        catch (Exception e)
        {
            Handle(new FailJob($"cannot load the seeds of job '{_state.JobId}' from [{_state.Config!.StorePath}]: {e.Message}"), null);
            return;
        }
        Handle(new PlanEpoch(seeds), null);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "The journal rejected {0} (sequence {1}): the coordinator's state and journal may differ", @event.GetType().Name, sequenceNr);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }
}

/// <summary>Registers the coordinator singleton (on nodes with its role) and the proxy every node uses to reach it.</summary>
public static class TrainingCoordinatorRegistration
{
    public static readonly TimeSpan CoordinatorRestartMinBackoff = TimeSpan.FromSeconds(1), CoordinatorRestartMaxBackoff = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts the ClusterSingletonManager of the coordinator (<c>/user/training-coordinator</c>). Call on every node that
    /// has <see cref="CoordinatorSettings.Role"/>; the oldest of them hosts the coordinator.
    /// </summary>
    public static IActorRef StartTrainingCoordinator(this ActorSystem system, CoordinatorSettings settings, ISeedSource? seeds = null)
    {
        CoordinatorPersistence.EnsureStorage(system.Settings.Config);
        // A persistent actor whose recovery fails (the journal is slow or unreachable: "Recovery timed out" on a
        // machine whose cores are busy starting many nodes) stops, and a singleton manager never starts its singleton
        // again while its node stays the oldest: no job could start until that node left. The back-off supervisor is
        // the singleton instead and starts the coordinator again (1 s, doubling to 30 s) after every stop; messages to
        // the singleton reach the coordinator through it, and the coordinator's replies come from the coordinator itself.
        var coordinator = BackoffSupervisor.Props(Backoff.OnStop(
            TrainingCoordinatorActor.Props(settings, seeds ?? new StoreSeedSource()), "coordinator",
            CoordinatorRestartMinBackoff, CoordinatorRestartMaxBackoff, 0.2, maxNrOfRetries: -1));
        return system.ActorOf(ClusterSingletonManager.Props(
                coordinator,
                PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(settings.Role).WithSingletonName("coordinator")),
            Names.TrainingCoordinatorSingleton);
    }

    /// <summary>
    /// A proxy to the coordinator, wherever it runs; it buffers messages while the singleton moves. Its own
    /// identification warning is replaced by a <see cref="CoordinatorProxyWatch"/> beside it (that warning fired at
    /// every healthy start).
    /// </summary>
    public static IActorRef StartTrainingCoordinatorProxy(this ActorSystem system, CoordinatorSettings settings)
    {
        var proxy = system.ActorOf(ClusterSingletonProxy.Props(
                $"/user/{Names.TrainingCoordinatorSingleton}",
                ClusterSingletonProxySettings.Create(system).WithRole(settings.Role).WithSingletonName("coordinator")
                    .WithLogSingletonIdentificationFailure(false)),
            Names.TrainingCoordinatorProxy);
        system.ActorOf(CoordinatorProxyWatch.Props(proxy, settings.Role), Names.TrainingCoordinatorProxy + "-watch");
        return proxy;
    }
}
