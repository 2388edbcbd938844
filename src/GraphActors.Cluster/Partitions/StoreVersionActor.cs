// The cluster's store version: a persistent singleton that runs rolling reloads (load beside, switch every view, drain, retire).
using System.Globalization;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Cluster.Tools.Singleton;
using Akka.Event;
using Akka.Pattern;
using Akka.Persistence;
using GraphActors.Cluster.Coordination;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph.Storage;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.StoreProtocol;

namespace GraphActors.Cluster.Partitions;

/// <summary>
/// Holds the version every node reads (0: the store-path its nodes started with) and runs <see cref="ReloadStore"/>:
/// <list type="number">
/// <item>checks the new store: it opens, has the current store's partition count, and was brought up to date from
/// the current store (<c>partition --update</c>), so every id names the same node in both and a node may read either;</item>
/// <item>refuses while a training job runs (its epochs would mix versions) or another reload does;</item>
/// <item>asks every partition to load the new version beside the one it serves (entity <c>p@v</c> in shard p, so on
/// the same node); a partition that fails or stays silent past the timeout fails the reload, and the partitions that
/// did load unload again: nothing changed;</item>
/// <item>persists the switch, then publishes it: each node's graph stores switch their view (a prediction already
/// running finishes on the version it pinned);</item>
/// <item>after <see cref="StoreVersionSettings.Drain"/> retires the previous version's partitions.</item>
/// </list>
/// </summary>
public sealed class StoreVersionActor : ReceivePersistentActor, IWithTimers
{
    private sealed record JobChecked(string? Refusal) : INoSerializationVerificationNeeded;
    private sealed record LoadTimedOut(int Version) : INoSerializationVerificationNeeded;
    private sealed record Retire(int Version, int Parts) : INoSerializationVerificationNeeded;
    private sealed record StartOver(string Why) : INoSerializationVerificationNeeded;
    private sealed record RetireEarlier(int Version) : INoSerializationVerificationNeeded;

    private sealed class Reload(ReloadStore request, IActorRef replyTo, int version, string path, int parts)
    {
        public ReloadStore Request { get; } = request;
        public IActorRef ReplyTo { get; } = replyTo;
        public int Version { get; } = version;
        public string Path { get; } = path;
        public int Parts { get; } = parts;
        public HashSet<int> Waiting { get; } = [.. Enumerable.Range(0, parts)];
        public Dictionary<long, int> Requests { get; } = new();
        public bool Loading { get; set; }
    }

    private static long _nextRequestId = DateTime.UtcNow.Ticks;

    private readonly StoreVersionSettings _settings;
    private readonly IActorRef _region;
    private readonly ICanTell _coordinator;
    private readonly string _coordinatorRole;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _initialPath;
    private StoreVersionChanged _current;
    private Reload? _reload;

    public StoreVersionActor(StoreVersionSettings settings, string initialPath, IActorRef region, ICanTell coordinator, string coordinatorRole)
    {
        _settings = settings;
        _region = region;
        _coordinator = coordinator;
        _coordinatorRole = coordinatorRole;
        _initialPath = initialPath;
        _current = new StoreVersionChanged(0, initialPath, -1, "");
        JournalPluginId = settings.JournalPlugin;
        SnapshotPluginId = settings.SnapshotPlugin;

        Recover<StoreVersionSwitched>(Apply);
        Recover<RecoveryCompleted>(_ =>
        {
            // The journal speaks of another cluster when its current store does not descend from the store this
            // cluster's nodes were started on (a new deployment on an old data directory): version 0 is then this store.
            if (_current.Version > 0 && Unrelated(_current.Path, initialPath) is { } why)
            {
                Self.Tell(new StartOver(why));
                return;
            }
            _log.Info("Store versions recovered: version {0} at [{1}]", _current.Version, _current.Path);
            // Nodes that started before this singleton (or while it moved) learn the version now.
            Publish();
            // Partition nodes that came up before hearing it started their partitions at version 0, and a move during a
            // drain leaves the previous version's: both retire after the drain (an entity not running starts and stops).
            if (_current.Version > 0) Self.Tell(new RetireEarlier(_current.Version));
        });
        Command<RetireEarlier>(m =>
        {
            if (m.Version != _current.Version) return;
            foreach (var earlier in new[] { 0, _current.Previous }.Where(v => v >= 0 && v < _current.Version).Distinct())
                Timers.StartSingleTimer("retire-" + earlier.ToString(CultureInfo.InvariantCulture), new Retire(earlier, Parts()), _settings.Drain);
        });
        Command<StartOver>(m => Persist(new StoreVersionSwitched(0, _initialPath, -1, ""), e =>
        {
            _log.Warning("Store versions start over at version 0 [{0}]: {1}", _initialPath, m.Why);
            Apply(e);
            Publish();
        }));

        Command<GetStoreVersion>(_ => Sender.Tell(_current));
        Command<ReloadStore>(Start);
        Command<JobChecked>(Checked);
        Command<StoreVersionLoaded>(Loaded);
        Command<PartitionError>(Failed);
        Command<LoadTimedOut>(t =>
        {
            if (_reload is { } r && r.Version == t.Version)
                Abort($"{r.Waiting.Count} partition(s) did not load it within {TimeSpan.FromMilliseconds(r.Request.TimeoutMs)}: " +
                      string.Join(", ", r.Waiting.Order()));
        });
        Command<Retire>(r => RetireVersion(r.Version, r.Parts, "drained"));
    }

    public override string PersistenceId => Names.StoreVersionsPersistenceId;
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(StoreVersionSettings settings, string initialPath, IActorRef region, ICanTell coordinator, string coordinatorRole) =>
        Akka.Actor.Props.Create(() => new StoreVersionActor(settings, initialPath, region, coordinator, coordinatorRole));

    // The current store's partition count (0 when it cannot be read here: nothing to retire then).
    private int Parts()
    {
        try
        {
            return PartitionStore.Open(_current.Path).Parts;
        }
        catch (Exception e)
        {
            _log.Warning("Store version {0} [{1}] does not open on this node: {2}", _current.Version, _current.Path, e.Message);
            return 0;
        }
    }

    private void Apply(StoreVersionSwitched e) => _current = new StoreVersionChanged(e.Version, e.Path, e.Previous, e.PreviousPath);

    private void Publish() => DistributedPubSub.Get(Context.System).Mediator.Tell(new Publish(Names.StoreVersionsTopic, _current));

    // ---- 1, 2: checks ----

    private void Start(ReloadStore m)
    {
        if (_reload is { } running)
        {
            Sender.Tell(new StoreReloaded(false, _current.Version, _current.Path,
                $"a reload to [{running.Path}] (version {running.Version}) is running; try again when it ends"));
            return;
        }
        if (Check(m.Path, out var parts) is { } problem)
        {
            _log.Warning("Store reload to [{0}] refused: {1}", m.Path, problem.Message);
            Sender.Tell(new StoreReloaded(false, _current.Version, _current.Path, problem.Message));
            return;
        }
        var path = System.IO.Path.GetFullPath(m.Path);
        var timeout = m.TimeoutMs > 0 ? m.TimeoutMs : (long)_settings.ReloadTimeout.TotalMilliseconds;
        _reload = new Reload(m with { TimeoutMs = timeout }, Sender, _current.Version + 1, path, parts);
        _log.Info("Store reload to [{0}] as version {1}: checking that no training job runs", path, _reload.Version);
        CheckNoJob().PipeTo(Self, success: refusal => new JobChecked(refusal), failure: e => new JobChecked(
            $"cannot tell whether a training job runs (the training coordinator did not answer: {e.GetBaseException().Message}); try again"));
    }

    private Exception? Check(string path, out int parts)
    {
        parts = 0;
        if (string.IsNullOrWhiteSpace(path)) return new ArgumentException("no store path given");
        string full;
        try
        {
            full = System.IO.Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return new ArgumentException($"'{path}' is not a path: {e.Message}");
        }
        if (PartitionStore.SameDirectory(full, _current.Path)) return new ArgumentException($"[{full}] is already the current store (version {_current.Version})");
        PartitionStore next, current;
        try
        {
            next = PartitionStore.Open(full);
        }
        catch (Exception e)
        {
            return new ArgumentException($"[{full}] does not open as a partition store: {e.Message}");
        }
        try
        {
            current = PartitionStore.Open(_current.Path);
        }
        catch (Exception e)
        {
            return new InvalidOperationException($"the current store [{_current.Path}] does not open on this node ({e.Message}), so [{full}] cannot be checked against it");
        }
        if (next.Parts != current.Parts)
            return new ArgumentException($"[{full}] has {next.Parts} partitions; the current store [{current.Root}] has {current.Parts}: a reload keeps the partitions (repartitioning needs a restart)");
        if (!next.Lineage.Any(l => PartitionStore.SameDirectory(l, current.Root)))
            return new ArgumentException(
                $"[{full}] was not brought up to date from the current store [{current.Root}] (it descends from {string.Join(" → ", next.Lineage.Select(l => $"[{l}]"))}): " +
                $"the same ids would name other nodes; write it with `graphactors partition --update {current.Root} --cgdf DAY --out NEW`");
        parts = next.Parts;
        return null;
    }

    /// <summary>Null when the store at <paramref name="current"/> is <paramref name="initial"/> or was brought up to date from it; else why not.</summary>
    private static string? Unrelated(string current, string initial)
    {
        if (string.IsNullOrWhiteSpace(initial) || PartitionStore.SameDirectory(current, initial)) return null;
        try
        {
            var lineage = PartitionStore.Open(current).Lineage;
            return lineage.Any(l => PartitionStore.SameDirectory(l, initial)) ? null
                : $"the journal's current store [{current}] does not descend from this cluster's store-path [{initial}]";
        }
        catch (Exception e)
        {
            return $"the journal's current store [{current}] does not open ({e.Message})";
        }
    }

    /// <summary>Null when no job runs (or the cluster has no member that could host the coordinator), else why not.</summary>
    private async Task<string?> CheckNoJob()
    {
        var cluster = Akka.Cluster.Cluster.Get(Context.System);
        if (!cluster.State.Members.Any(m => m.Status == Akka.Cluster.MemberStatus.Up && m.HasRole(_coordinatorRole))) return null;
        var status = await ((ActorSelection)_coordinator).Ask<TrainingProtocol.JobStatus>(new TrainingProtocol.GetJobStatus(), TimeSpan.FromSeconds(10))
            .ConfigureAwait(false);
        return status.State == JobState.Running
            ? $"training job '{status.JobId}' is running (epoch {status.Epoch}): its epochs would read two versions; reload when it ends, or stop it first"
            : null;
    }

    // ---- 3: load beside ----

    private void Checked(JobChecked m)
    {
        if (_reload is not { Loading: false } r) return;
        if (m.Refusal is { } refusal)
        {
            _log.Warning("Store reload to [{0}] refused: {1}", r.Path, refusal);
            r.ReplyTo.Tell(new StoreReloaded(false, _current.Version, _current.Path, refusal));
            _reload = null;
            return;
        }
        r.Loading = true;
        var deadline = DateTimeOffset.UtcNow.AddMilliseconds(r.Request.TimeoutMs).ToUnixTimeMilliseconds();
        for (var p = 0; p < r.Parts; p++)
        {
            var id = Interlocked.Increment(ref _nextRequestId);
            r.Requests[id] = p;
            _region.Tell(new VersionedRequest(r.Version, new LoadStoreVersion(id, p, r.Version, r.Path, deadline)), Self);
        }
        Timers.StartSingleTimer("load", new LoadTimedOut(r.Version), TimeSpan.FromMilliseconds(r.Request.TimeoutMs));
        _log.Info("Store reload to [{0}]: {1} partition(s) loading version {2} beside version {3}", r.Path, r.Parts, r.Version, _current.Version);
    }

    private void Loaded(StoreVersionLoaded m)
    {
        if (_reload is not { Loading: true } r || m.Version != r.Version || !r.Requests.ContainsKey(m.RequestId)) return;
        r.Waiting.Remove(m.Partition);
        _log.Info("Store version {0}: partition {1} loaded ({2:N0} bytes mapped), {3} to go", m.Version, m.Partition, m.MappedBytes, r.Waiting.Count);
        if (r.Waiting.Count > 0) return;
        Timers.Cancel("load");
        var previous = _current;
        Persist(new StoreVersionSwitched(r.Version, r.Path, previous.Version, previous.Path), e =>
        {
            Apply(e);
            _reload = null;
            // 4: every node switches its view; this node's too, at once.
            StoreVersions.Get(Context.System).Observe(_current);
            Publish();
            _log.Info("Store version {0} [{1}] is current; version {2} retires in {3}", e.Version, e.Path, e.Previous, _settings.Drain);
            r.ReplyTo.Tell(new StoreReloaded(true, e.Version, e.Path,
                $"every node now reads version {e.Version} [{e.Path}] ({r.Parts} partition(s)); version {e.Previous} [{e.PreviousPath}] retires in {_settings.Drain}"));
            // 5: the previous version unloads once requests that pinned it have finished.
            Timers.StartSingleTimer("retire-" + e.Previous.ToString(CultureInfo.InvariantCulture), new Retire(e.Previous, r.Parts), _settings.Drain);
        });
    }

    private void Failed(PartitionError m)
    {
        if (_reload is not { Loading: true } r || !r.Requests.ContainsKey(m.RequestId)) return;
        Abort($"partition {m.Partition} could not load it: {m.Problem}");
    }

    private void Abort(string why)
    {
        var r = _reload!;
        _reload = null;
        Timers.Cancel("load");
        _log.Error("Store reload to [{0}] (version {1}) failed: {2}; version {3} stays current", r.Path, r.Version, why, _current.Version);
        RetireVersion(r.Version, r.Parts, "reload failed");
        r.ReplyTo.Tell(new StoreReloaded(false, _current.Version, _current.Path,
            $"version {r.Version} [{r.Path}] was not switched to: {why}; version {_current.Version} [{_current.Path}] is still served"));
    }

    private void RetireVersion(int version, int parts, string why)
    {
        _log.Info("Store version {0}: retiring its {1} partition(s) ({2})", version, parts, why);
        for (var p = 0; p < parts; p++)
        {
            var retire = new RetireStoreVersion(Interlocked.Increment(ref _nextRequestId), p, version, 0);
            _region.Tell(version == 0 ? retire : new VersionedRequest(version, retire), ActorRefs.NoSender);
        }
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        _log.Error(cause, "The journal rejected {0}: the store version did not change", @event.GetType().Name);
        if (_reload is { } r) Abort($"the journal rejected the switch: {cause.Message}");
        base.OnPersistRejected(cause, @event, sequenceNr);
    }
}

/// <summary>Starts the store-version singleton (partition-role nodes), its proxy and this node's follower (every node).</summary>
public static class StoreVersionRegistration
{
    /// <summary>
    /// On a partition-role node, the singleton manager (the oldest such node hosts it, restarted with a back-off
    /// should its journal fail); on every node, the proxy and the <see cref="StoreVersionFollower"/>.
    /// </summary>
    public static void StartStoreVersions(this ActorSystem system, PartitionSettings partitions, CoordinatorSettings coordinator)
    {
        var settings = StoreVersionSettings.Create(system.Settings.Config);
        var journal = settings.JournalPlugin.Length > 0 ? settings.JournalPlugin : system.Settings.Config.GetString("akka.persistence.journal.plugin", "");
        var hosts = Akka.Cluster.Cluster.Get(system).SelfRoles.Contains(partitions.Role);
        if (hosts && journal.Length == 0)
            Logging.GetLogger(system, typeof(StoreVersionRegistration)).Warning(
                "No journal is configured (graphactors.persistence, or graphactors.store-versions.journal-plugin): this partition node does not host " +
                "the store-version singleton, so `ctl store reload` is not answered unless another partition node hosts it");
        if (hosts && journal.Length > 0)
        {
            CoordinatorPersistence.EnsureStorage(system.Settings.Config);
            var actor = BackoffSupervisor.Props(Backoff.OnStop(
                StoreVersionActor.Props(settings, partitions.StorePath, system.PartitionRegion(),
                    system.ActorSelection("/user/" + Names.TrainingCoordinatorProxy), coordinator.Role),
                "store-versions", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, maxNrOfRetries: -1));
            system.ActorOf(ClusterSingletonManager.Props(actor, PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(partitions.Role).WithSingletonName("versions")), Names.StoreVersionsSingleton);
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props($"/user/{Names.StoreVersionsSingleton}",
            ClusterSingletonProxySettings.Create(system).WithRole(partitions.Role).WithSingletonName("versions")
                .WithLogSingletonIdentificationFailure(false)), Names.StoreVersionsProxy);
        system.ActorOf(StoreVersionFollower.Props(proxy, settings.PollInterval), Names.StoreVersionsFollower);
    }
}
