// One partition at one store version as a sharded entity: Loading (stash) → Serving, or Unavailable when the store cannot be loaded in time.
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;
using GraphActors.Cluster.Metrics;
using GraphActors.Cluster.Wire;
using GraphActors.Graph.Storage;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.StoreProtocol;

namespace GraphActors.Cluster.Partitions;

/// <summary>
/// Hosts partition <c>i</c> of store version v: version 0 is the store named by <see cref="PartitionSettings.StorePath"/>,
/// a later one (entity <c>i@v</c>, loaded beside the current one by a reload) the path its <see cref="LoadStoreVersion"/>
/// names, or, for an entity started by a request (after its shard moved), the path <see cref="StoreVersions"/> knows or
/// asks the store-version singleton for. A <see cref="RetireStoreVersion"/> stops it in any state. The partition is
/// memory-mapped off the actor thread; requests wait in the stash meanwhile. A failed load is logged with the path and
/// retried with a doubling backoff; after <see cref="PartitionSettings.LoadTimeout"/> the waiting requests (and new
/// ones) get a <see cref="PartitionError"/> until a retry succeeds. Nothing survives a restart: the store is the state.
/// Answers too large for one frame go to requesters on other nodes as chunks (<see cref="ChunkedAnswers"/>).
/// </summary>
public sealed class PartitionActor : ReceiveActor, IWithStash, IWithTimers
{
    // Internal messages never leave this actor; they skip serialization checks (they hold a LoadedPartition or an exception).
    private sealed record Loaded(LoadedPartition Partition, string Path, int Attempt) : INoSerializationVerificationNeeded;
    private sealed record LoadFailed(Exception Cause, int Attempt) : INoSerializationVerificationNeeded;
    private sealed record RetryLoad : INoSerializationVerificationNeeded { public static readonly RetryLoad Instance = new(); }
    private sealed record LoadTimedOut : INoSerializationVerificationNeeded { public static readonly LoadTimedOut Instance = new(); }
    private sealed record SweepTransfers : INoSerializationVerificationNeeded { public static readonly SweepTransfers Instance = new(); }

    private const string RetryTimer = "retry-load";
    private const string LoadTimeoutTimer = "load-timeout";
    private const string SweepTimer = "sweep-transfers";

    private readonly int _partition;
    private readonly int _version;
    private readonly PartitionSettings _settings;
    private readonly StoreVersions _versions = StoreVersions.Get(Context.System);
    private readonly ChunkedAnswers _answers;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NodeMetrics _metrics = NodeMetrics.Get(Context.System);
    private readonly string _label;
    private PartitionServer? _server;
    private Task<(LoadedPartition Partition, string Path)>? _loading;
    // The store directory of this version: null until a load names it or the path is asked for.
    private string? _path;
    private int _attempt;
    private int _pathAsked = -1; // the attempt that asked for this version's path
    private int _stashed;
    private string _lastFailure = "not loaded yet";

    public PartitionActor(int partition, PartitionSettings settings, WireSettings? wire = null, int version = 0)
    {
        _partition = partition;
        _version = version;
        _label = partition.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _settings = settings;
        _path = version == 0 ? settings.StorePath : _versions.PathOf(version);
        _answers = new ChunkedAnswers(wire ?? WireSettings.Create(Context.System));
        Loading();
    }

    public IStash Stash { get; set; } = null!;
    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(int partition, PartitionSettings settings, WireSettings? wire = null, int version = 0) =>
        Akka.Actor.Props.Create(() => new PartitionActor(partition, settings, wire, version));

    /// <summary>The store this entity serves, for logs: its path, with the version when it is not the first.</summary>
    private string Store => _version == 0 ? $"[{_path}]" : $"[{_path ?? "path not known yet"}] (store version {_version})";

    protected override void PreStart()
    {
        Timers.StartSingleTimer(LoadTimeoutTimer, LoadTimedOut.Instance, _settings.LoadTimeout);
        // A later version's entity started by a reload gets its path from the load, its first message; one started
        // otherwise (a request after its shard moved, a StartEntity) asks for it, at once when a request waits.
        if (_path is not null) StartLoad();
        else Timers.StartSingleTimer(RetryTimer, RetryLoad.Instance, TimeSpan.FromMilliseconds(500));
    }

    // ---- behaviours ----

    private void Loading()
    {
        ReceiveRetire();
        ReceiveLoadOutcomes();
        // A reload's load names this version's path: the entity it started may not have known it.
        Receive<LoadStoreVersion>(m =>
        {
            if (_path is null)
            {
                _path = m.Path;
                _versions.Learn(_version, m.Path);
                Timers.Cancel(RetryTimer);
                if (_loading is null) StartLoad(); // else the path being asked for arrives too, or fails and is loaded at once
            }
            _stashed++;
            Stash.Stash();
        });
        Receive<LoadTimedOut>(_ =>
        {
            _log.Error("Partition {0} is still not loaded from {1} after {2}: answering {3} waiting request(s) with errors; last failure: {4}",
                _partition, Store, _settings.LoadTimeout, _stashed, _lastFailure);
            foreach (var envelope in Stash.ClearStash())
                if (envelope.Message is IPartitionRequest r) envelope.Sender.Tell(Unavailable(r), Self);
            _stashed = 0;
            Become(Unavailable);
        });
        Receive<IPartitionRequest>(r =>
        {
            if (_stashed >= _settings.MaxStashedRequests)
            {
                Sender.Tell(Unavailable(r));
                return;
            }
            _stashed++;
            Stash.Stash();
            if (_path is null && _loading is null && Timers.IsTimerActive(RetryTimer) && _attempt == 0)
            {
                Timers.Cancel(RetryTimer);
                StartLoad();
            }
        });
    }

    /// <summary>The store could not be loaded in time: still retrying, but nobody is kept waiting.</summary>
    private void Unavailable()
    {
        ReceiveRetire();
        ReceiveLoadOutcomes();
        Receive<IPartitionRequest>(r => Sender.Tell(Unavailable(r)));
    }

    private void Serving()
    {
        ReceiveRetire();
        Receive<LoadStoreVersion>(m => Sender.Tell(new StoreVersionLoaded(m.RequestId, _partition, _version, _server!.MappedBytes)));
        Receive<IPartitionRequest>(r =>
        {
            if (r.DeadlineUnixMs > 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > r.DeadlineUnixMs)
            {
                _server!.CountDropped();
                _metrics.PartitionDropped.WithLabels(_label).Inc();
                _log.Warning("Partition {0} dropped {1} {2} from {3}: its deadline passed {4} ms ago", _partition, r.GetType().Name,
                    r.RequestId, Sender, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - r.DeadlineUnixMs);
                return;
            }
            var expires = r.DeadlineUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(r.DeadlineUnixMs) : DateTimeOffset.UtcNow.Add(_settings.RequestTimeout);
            var (started, rows, wire) = (Stopwatch.GetTimestamp(), _server!.RowsServed, _answers.WireBytes);
            var answer = _server.Handle(r);
            var kind = Kind(r);
            _metrics.PartitionRequestSeconds.WithLabels(kind).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _metrics.PartitionRequests.WithLabels(_label, kind).Inc();
            if (_server.RowsServed > rows) _metrics.PartitionRows.WithLabels(_label).Inc(_server.RowsServed - rows);
            var chunks = _answers.Send(Sender, answer, Self, Context.System, expires);
            if (_answers.WireBytes > wire) _metrics.PartitionWireBytes.WithLabels(_label).Inc(_answers.WireBytes - wire);
            if (chunks > 1)
            {
                _log.Debug("Partition {0} answers {1} {2} to {3} in {4} chunks", _partition, r.GetType().Name, r.RequestId, Sender, chunks);
                if (!Timers.IsTimerActive(SweepTimer)) Timers.StartPeriodicTimer(SweepTimer, SweepTransfers.Instance, TimeSpan.FromSeconds(1));
            }
        });
        Receive<ChunkAck>(a => _answers.Acked(Sender, a, Self));
        Receive<SweepTransfers>(_ =>
        {
            var dropped = _answers.Expire(DateTimeOffset.UtcNow);
            if (dropped > 0) _log.Warning("Partition {0} dropped {1} chunked answer(s) whose requester stopped waiting before acknowledging every chunk", _partition, dropped);
            if (_answers.InProgress == 0) Timers.Cancel(SweepTimer);
        });
    }

    /// <summary>The version is no longer asked for (a reload switched past it, or failed): the entity stops, its files unmapped.</summary>
    private void ReceiveRetire() => Receive<RetireStoreVersion>(_ =>
    {
        _log.Info("Partition {0} of {1} retires", _partition, Store);
        Context.Parent.Tell(new Akka.Cluster.Sharding.Passivate(PoisonPill.Instance));
    });

    private void ReceiveLoadOutcomes()
    {
        Receive<Loaded>(m =>
        {
            _loading = null;
            _path = m.Path;
            _server = new PartitionServer(m.Partition, GraphActors.Sampling.DegreeTables.OfStore(m.Path));
            Timers.CancelAll();
            _log.Info("Partition {0} loaded from {1} (attempt {2}): {3:N0} bytes mapped; serving {4} waiting request(s)",
                _partition, Store, m.Attempt, _server.MappedBytes, _stashed);
            _stashed = 0;
            _metrics.PartitionsLoaded.Inc();
            Become(Serving);
            Stash.UnstashAll();
        });
        Receive<LoadFailed>(m =>
        {
            _loading = null;
            if (_path is not null && m.Attempt == _pathAsked)
            {
                // The path was asked for while a reload's load named it (the singleton knows only versions already served).
                StartLoad();
                return;
            }
            _metrics.PartitionLoadFailures.WithLabels(_label).Inc();
            _lastFailure = m.Cause.Message;
            var delay = Backoff(m.Attempt);
            _log.Error(m.Cause, "Partition {0} failed to load from {1} (attempt {2}): {3}; retrying in {4}",
                _partition, Store, m.Attempt, m.Cause.Message, delay);
            Timers.StartSingleTimer(RetryTimer, RetryLoad.Instance, delay);
        });
        Receive<RetryLoad>(_ => StartLoad());
    }

    // ---- loading ----

    private void StartLoad()
    {
        var attempt = ++_attempt;
        var (path, version, partition, versions, timeout) = (_path, _version, _partition, _versions, _settings.LoadTimeout);
        if (path is null) _pathAsked = attempt;
        _loading = Task.Run(async () =>
        {
            // A later version's path: known here, named by the load, or asked of the store-version singleton.
            path ??= await versions.PathOfAsync(version, timeout).ConfigureAwait(false);
            if (string.IsNullOrWhiteSpace(path))
                throw new InvalidOperationException("graphactors.partitions.store-path is empty (set it in HOCON or GA_STORE).");
            return (PartitionStore.Open(path).LoadPartition(partition), path);
        });
        _loading.PipeTo(Self, success: p => new Loaded(p.Partition, p.Path, attempt), failure: e => new LoadFailed(e.GetBaseException(), attempt));
    }

    private TimeSpan Backoff(int attempt)
    {
        var ticks = _settings.LoadRetryMinBackoff.Ticks * Math.Pow(2, Math.Min(attempt - 1, 20));
        return TimeSpan.FromTicks((long)Math.Min(ticks, _settings.LoadRetryMaxBackoff.Ticks));
    }

    private PartitionError Unavailable(IPartitionRequest r) => new(r.RequestId, _partition,
        $"partition {_partition} is not loaded: store {Store} failed to load within {_settings.LoadTimeout}: {_lastFailure}");

    /// <summary>The metrics label of a request's kind.</summary>
    private static string Kind(IPartitionRequest r) => r switch
    {
        GetNeighbors => "neighbors",
        GetFeatures => "features",
        GetDegrees => "degrees",
        GetIds => "ids",
        GetNegatives => "negatives",
        GetLabels => "labels",
        Contracts.Protocols.ColumnProtocol.GetNodeColumns => "node_columns",
        Contracts.Protocols.ColumnProtocol.GetNeighborEdges => "neighbor_edges",
        GetPartitionInfo => "info",
        Contracts.Protocols.EmbeddingProtocol.GetEmbeddingRows => "embedding_rows",
        Contracts.Protocols.EmbeddingProtocol.PushEmbeddingGradients => "embedding_gradients",
        Contracts.Protocols.EmbeddingProtocol.OpenEmbeddings or Contracts.Protocols.EmbeddingProtocol.WriteEmbeddings => "embedding_tables",
        LoadStoreVersion or RetireStoreVersion => "store_version",
        _ => "other",
    };

    protected override void PostStop()
    {
        try
        {
            // The partition is moving (rebalance, its node leaving) or stopping: the embedding rows of a running job go to
            // its hand-off file, which the next host takes over when a trainer reopens the tables there.
            _server?.HandOffEmbeddings();
        }
        catch (Exception e)
        {
            _log.Error(e, "Partition {0} could not hand its embedding tables off: a job training them fails when it reads them on the next host", _partition);
        }
        if (_server is not null) _metrics.PartitionsLoaded.Dec();
        _server?.Dispose();
        // A load still in flight would otherwise leave its mappings open after the entity stopped (rebalance, shutdown).
        _loading?.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Partition.Dispose(); }, TaskScheduler.Default);
        base.PostStop();
    }
}

/// <summary>Registers the partition shard region (role <c>partition</c>) or a proxy to it (every other role).</summary>
public static class PartitionActorRegistration
{
    /// <summary>Starts the region hosting PartitionActors on this node. Call only on nodes with the partition role.</summary>
    public static IActorRef StartPartitionSharding(this ActorSystem system, PartitionSettings settings)
    {
        var sharding = ClusterSharding.Get(system);
        var shardingConfig = PartitionSettings.ShardingConfig(system);
        var shardingSettings = ClusterShardingSettings
            .Create(shardingConfig, system.Settings.Config.GetConfig(shardingConfig.GetString("coordinator-singleton")))
            .WithRole(settings.Role);
        var wire = WireSettings.Create(system);
        return sharding.Start(
            Names.PartitionShard,
            entityId => PartitionActor.Props(PartitionMessageExtractor.PartitionOf(entityId), settings, wire, PartitionMessageExtractor.VersionOf(entityId)),
            shardingSettings,
            PartitionMessageExtractor.Instance,
            new PartitionAllocationStrategy(settings.Role, settings.RebalanceMaxSimultaneous),
            PoisonPill.Instance);
    }

    /// <summary>
    /// Starts the <see cref="PartitionStarterActor"/> next to the region: every partition started when this node is up,
    /// and re-homed at once (from the oldest partition node) when a partition node is removed.
    /// </summary>
    public static IActorRef StartPartitionStarter(this ActorSystem system, PartitionSettings settings) =>
        system.ActorOf(PartitionStarterActor.Props(system.PartitionRegion(), settings), Names.PartitionStarter);

    /// <summary>A proxy to the partition region for nodes without the partition role (trainers, inference).</summary>
    public static IActorRef StartPartitionShardingProxy(this ActorSystem system, PartitionSettings settings) =>
        ClusterSharding.Get(system).StartProxy(Names.PartitionShard, settings.Role, PartitionMessageExtractor.Instance);

    /// <summary>
    /// Asks the region to start every partition of the store now (each goes to its home node), so partitions map
    /// their files before the first request. Returns the partition count, or 0 when the store cannot be read.
    /// </summary>
    public static int StartAllPartitions(this ActorSystem system, PartitionSettings settings)
    {
        var parts = PartitionStore.Open(settings.StorePath).Parts;
        var region = system.PartitionRegion();
        var version = StoreVersions.Get(system).Current.Version;
        for (var i = 0; i < parts; i++) region.Tell(new ShardRegion.StartEntity(PartitionMessageExtractor.IdOf(i, version)));
        return parts;
    }

    /// <summary>The region or proxy started earlier on this node.</summary>
    public static IActorRef PartitionRegion(this ActorSystem system) => ClusterSharding.Get(system).ShardRegion(Names.PartitionShard);
}
