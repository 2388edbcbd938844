// What this node knows of the cluster's store versions: the current one, the paths of the recent ones, and who to tell when it changes.
using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Configuration;
using Akka.Event;
using static GraphActors.Contracts.Protocols.StoreProtocol;

namespace GraphActors.Cluster.Partitions;

/// <summary>The settings of <c>graphactors.store-versions</c> (Partitions/reference.conf).</summary>
public sealed record StoreVersionSettings(TimeSpan Drain, TimeSpan ReloadTimeout, TimeSpan PollInterval, string JournalPlugin, string SnapshotPlugin)
{
    public static StoreVersionSettings Create(Config config)
    {
        var c = config.WithFallback(PartitionSettings.DefaultConfig).GetConfig("graphactors.store-versions");
        var settings = new StoreVersionSettings(c.GetTimeSpan("drain"), c.GetTimeSpan("reload-timeout"), c.GetTimeSpan("poll-interval"),
            c.GetString("journal-plugin", ""), c.GetString("snapshot-plugin", ""));
        if (settings.Drain < TimeSpan.Zero) throw new ArgumentException($"graphactors.store-versions.drain must not be negative, got {settings.Drain}.");
        if (settings.ReloadTimeout <= TimeSpan.Zero) throw new ArgumentException($"graphactors.store-versions.reload-timeout must be positive, got {settings.ReloadTimeout}.");
        if (settings.PollInterval <= TimeSpan.Zero) throw new ArgumentException($"graphactors.store-versions.poll-interval must be positive, got {settings.PollInterval}.");
        return settings;
    }
}

/// <summary>
/// This node's view of the store versions (an ActorSystem extension). Until it hears otherwise, version 0 is the
/// node's <c>graphactors.partitions.store-path</c>. It learns a newer version from the singleton's broadcast at a
/// switch, from its own polls (<see cref="StoreVersionFollower"/>), and the path of a version being loaded from the
/// load itself; <see cref="Changed"/> fires once per newer version, in order of arrival (a node that missed one
/// jumps to the newest).
/// </summary>
public sealed class StoreVersions : IExtension
{
    private readonly ActorSystem _system;
    private readonly ConcurrentDictionary<int, string> _paths = new();
    private readonly object _gate = new();
    private StoreVersionChanged _current;

    public StoreVersions(ActorSystem system)
    {
        _system = system;
        var path = PartitionSettings.Create(system).StorePath;
        _current = new StoreVersionChanged(0, path, -1, "");
        if (!string.IsNullOrWhiteSpace(path)) _paths[0] = path;
    }

    public static StoreVersions Get(ActorSystem system) => system.WithExtension<StoreVersions, StoreVersionsProvider>();

    /// <summary>The version this node reads from now.</summary>
    public StoreVersionChanged Current
    {
        get { lock (_gate) return _current; }
    }

    /// <summary>Raised (on the thread that learned it) when a newer version becomes current.</summary>
    public event Action<StoreVersionChanged>? Changed;

    /// <summary>The path of <paramref name="version"/>, when this node has heard of it.</summary>
    public string? PathOf(int version) => _paths.TryGetValue(version, out var path) ? path : null;

    /// <summary>Records the path of a version (a load names it before the version is current).</summary>
    internal void Learn(int version, string path)
    {
        if (!string.IsNullOrEmpty(path)) _paths[version] = path;
    }

    /// <summary>Takes <paramref name="m"/> as current when it is newer than what this node has; true when it was.</summary>
    internal bool Observe(StoreVersionChanged m)
    {
        Learn(m.Version, m.Path);
        if (m.Previous >= 0) Learn(m.Previous, m.PreviousPath);
        lock (_gate)
        {
            if (m.Version <= _current.Version) return false;
            _current = m;
        }
        Changed?.Invoke(m);
        return true;
    }

    /// <summary>
    /// The path of <paramref name="version"/>: known here, or asked of the singleton (which answers the current version
    /// and the one before it). Fails with a message naming the version when neither knows it.
    /// </summary>
    public async Task<string> PathOfAsync(int version, TimeSpan timeout)
    {
        if (PathOf(version) is { } known) return known;
        var proxy = _system.ActorSelection("/user/" + Names.StoreVersionsProxy);
        var answer = await proxy.Ask<StoreVersionChanged>(GetStoreVersion.Instance, timeout).ConfigureAwait(false);
        Observe(answer);
        return PathOf(version) ?? throw new InvalidOperationException(
            $"store version {version} is neither the cluster's current one ({answer.Version}, [{answer.Path}]) nor the one before it ({answer.Previous})");
    }
}

public sealed class StoreVersionsProvider : ExtensionIdProvider<StoreVersions>
{
    public override StoreVersions CreateExtension(ExtendedActorSystem system) => new(system);
}

/// <summary>
/// Keeps <see cref="StoreVersions"/> up to date on every node: subscribed to the singleton's broadcast, and asking it
/// every 2 s until it first answers, then every <see cref="StoreVersionSettings.PollInterval"/>.
/// </summary>
public sealed class StoreVersionFollower : ReceiveActor, IWithTimers
{
    private sealed record Poll
    {
        public static readonly Poll Instance = new();
    }

    private readonly StoreVersions _versions = StoreVersions.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ICanTell _singleton;
    private readonly TimeSpan _pollInterval;
    private bool _answered;

    public StoreVersionFollower(ICanTell singleton, TimeSpan pollInterval)
    {
        _singleton = singleton;
        _pollInterval = pollInterval;
        Receive<StoreVersionChanged>(m =>
        {
            if (!_answered)
            {
                _answered = true;
                Timers.StartPeriodicTimer("poll", Poll.Instance, _pollInterval);
            }
            if (_versions.Observe(m))
                _log.Info("Store version {0} is current: [{1}] (after version {2})", m.Version, m.Path, m.Previous);
        });
        Receive<Poll>(_ => _singleton.Tell(GetStoreVersion.Instance, Self));
        Receive<SubscribeAck>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ICanTell singleton, TimeSpan pollInterval) => Akka.Actor.Props.Create(() => new StoreVersionFollower(singleton, pollInterval));

    protected override void PreStart()
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(Names.StoreVersionsTopic, Self));
        Timers.StartPeriodicTimer("poll", Poll.Instance, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }
}
