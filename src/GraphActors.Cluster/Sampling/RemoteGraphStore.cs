// IGraphStore over the cluster: one request per partition per call, all partitions at once, answers scattered back in order.
using Akka.Actor;
using Akka.Event;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Contracts.Serialization;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Sampling;

/// <summary>A partition did not answer a request within its deadline, even after one retry.</summary>
public sealed class PartitionTimeoutException(int partition, string message) : TimeoutException(message)
{
    public int Partition { get; } = partition;
}

/// <summary>A partition answered a request with a <see cref="PartitionError"/>.</summary>
public sealed class PartitionRequestException(int partition, string message) : InvalidOperationException(message)
{
    public int Partition { get; } = partition;
}

/// <summary>
/// The cluster's graph store: ids are grouped by owner through the partition book (<see cref="OwnerGrouping"/>), each
/// partition gets ONE request per call through the shard region (or proxy), all partitions are asked in parallel, and
/// the answers are scattered back into the caller's order. A request is split only when it must be: when its ids would
/// not fit one chunk (<see cref="WireSettings.ChunkSize"/>: GetIds sends every business id to every partition), or when
/// its answer could not be one message (<see cref="WireSettings.MaxMessageBytes"/>: feature rows × dim, negatives × k).
/// <para>
/// Asking: each request is told to the region with this store's <see cref="ReplyCollectorActor"/> as the sender, after
/// registering its id and deadline there (no Ask: an Ask's temporary actor takes one reply, and an answer too large for
/// one frame arrives as several <see cref="ResponseChunk"/>s, which the collector reassembles; this store deserializes
/// them on the caller's thread). A missing or late answer is retried ONCE with a fresh request id and deadline, through
/// the region again (so it reaches the entity wherever the shard lives now); then the call fails with a
/// <see cref="PartitionTimeoutException"/> naming the partition, the request and the deadline. A <see cref="PartitionError"/>
/// is an answer, not a loss: it fails the call at once with a <see cref="PartitionRequestException"/>. Called from stream
/// stages (<c>SelectAsync</c>), the inference engine and tests; never awaited inside an actor's receive.
/// </para>
/// <para>
/// The partition book and schema come from the store's <c>partitions.json</c> (<see cref="FromStore"/>): every node
/// that samples must see the store directory (as every partition node already does). Whole-graph listings that have no
/// per-partition request (train/val/test splits, edge lists, business ids of ids) are read from the same directory,
/// memory-mapped, on first use.
/// </para>
/// <para>
/// Determinism: every partition samples neighbours with the call's own seed, and each row draws from its node's stream
/// (<see cref="KernelRandom.PerNode"/>), so neighbour samples equal <see cref="PartitionedGraphStore"/>'s exactly for
/// every strategy, also when a request is split in pieces. Negatives go out with the call's seed too (keyed per source
/// and occurrence); the k-th piece of a split negatives request gets <c>StreamSeed(rngSeed, 1, k)</c>, so a source that
/// occurs in two pieces still draws two independent sets.
/// </para>
/// </summary>
public sealed partial class RemoteGraphStore : IVersionedGraphStore, IDisposable
{
    private static long _nextRequestId = DateTime.UtcNow.Ticks;
    private static int _stores;

    /// <summary>One store version as this store reads it: its number, directory, book and schema, and the directory's listings.</summary>
    private sealed class View
    {
        public View(int version, string? path, PartitionBook book, GraphStoreSchema schema)
        {
            Version = version;
            Path = path;
            Book = book;
            Schema = schema;
            if (path is not null) Local = new(() => new PartitionedGraphStore(PartitionStore.Open(path)));
        }

        public int Version { get; }
        public string? Path { get; }
        public PartitionBook Book { get; }
        public GraphStoreSchema Schema { get; }
        public Lazy<PartitionedGraphStore>? Local { get; }

        // The store pinned to this version: one per version, so whatever a caller keys by store (pooled samplers) is reused.
        public RemoteGraphStore? Pinned;
    }

    private readonly ActorSystem _system;
    private readonly IActorRef _region;
    private readonly IActorRef _collector;
    private readonly TimeSpan _timeout;
    private readonly WireSettings _wire;
    // Null for a pinned store (it shares its parent's collector and views); the store following versions owns them.
    private readonly RemoteGraphStore? _parent;
    private volatile View _view;
    private readonly object _switching = new();
    private StoreVersions? _following;

    /// <param name="system">Where this store's <see cref="ReplyCollectorActor"/> runs (stopped on <see cref="Dispose"/>).</param>
    /// <param name="wire">Chunking settings; null: <c>graphactors.wire</c> of <paramref name="system"/>.</param>
    public RemoteGraphStore(ActorSystem system, IActorRef region, PartitionBook book, GraphStoreSchema schema, TimeSpan requestTimeout,
        string? storePath = null, WireSettings? wire = null)
    {
        if (requestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(requestTimeout), requestTimeout, "A request needs a positive deadline.");
        _system = system;
        _region = region;
        _view = new View(0, storePath, book, schema);
        _timeout = requestTimeout;
        _wire = wire ?? WireSettings.Create(system);
        _collector = system.ActorOf(ReplyCollectorActor.Props(), $"graph-store-replies-{Interlocked.Increment(ref _stores)}");
    }

    // A pinned store: the parent's collector and region, one version for good.
    private RemoteGraphStore(RemoteGraphStore parent, View view)
    {
        (_system, _region, _collector, _timeout, _wire) = (parent._system, parent._region, parent._collector, parent._timeout, parent._wire);
        _parent = parent;
        _view = view;
    }

    /// <summary>The store at <paramref name="storePath"/> served by the partition region (or proxy) started on <paramref name="system"/>.</summary>
    public static RemoteGraphStore FromStore(ActorSystem system, string storePath, TimeSpan? requestTimeout = null)
    {
        var store = PartitionStore.Open(storePath);
        var remote = new RemoteGraphStore(system, system.PartitionRegion(), store.Book, PartitionedGraphStore.SchemaOf(store.Manifest),
            requestTimeout ?? PartitionSettings.Create(system).RequestTimeout, storePath);
        // The cluster's own store follows its versions (a reload); any other store stays as it is.
        var versions = StoreVersions.Get(system);
        if (versions.PathOf(0) is { } first && PartitionStore.SameDirectory(first, storePath)) remote.Follow(versions);
        return remote;
    }

    public GraphStoreSchema Schema => _view.Schema;
    public PartitionBook Book => _view.Book;

    /// <summary>The store version the next call reads (0 until a reload switches it).</summary>
    public int StoreVersion => _view.Version;

    /// <summary>The directory of that version.</summary>
    public string? StorePath => _view.Path;

    /// <summary>
    /// This store at the version it reads now, for good: a caller that makes several calls for one answer (a
    /// prediction, a mini-batch) pins one, so a reload switching versions meanwhile never mixes two in it. Disposing
    /// a pinned store does nothing (the store it came from owns the resources).
    /// </summary>
    public IGraphStore Pin()
    {
        var view = _view;
        if (view.Pinned is { } pinned) return pinned;
        var made = new RemoteGraphStore(_parent ?? this, view);
        return Interlocked.CompareExchange(ref view.Pinned, made, null) ?? made;
    }

    // ---- store versions ----

    /// <summary>Switches to each newer version <paramref name="versions"/> learns of (and to the current one now).</summary>
    private void Follow(StoreVersions versions)
    {
        _following = versions;
        versions.Changed += OnVersion;
        if (versions.Current.Version > 0) OnVersion(versions.Current);
    }

    private void OnVersion(StoreProtocol.StoreVersionChanged m)
    {
        // Opening the new version's book reads its partitions.json: off the thread that heard the news.
        _ = Task.Run(() =>
        {
            var log = Logging.GetLogger(_system, typeof(RemoteGraphStore));
            try
            {
                var store = PartitionStore.Open(m.Path);
                var next = new View(m.Version, m.Path, store.Book, PartitionedGraphStore.SchemaOf(store.Manifest));
                View old;
                lock (_switching)
                {
                    if (_view.Version >= m.Version) return;
                    old = _view;
                    _view = next;
                }
                log.Info("Graph store switched from version {0} to version {1} [{2}]", old.Version, next.Version, next.Path);
                // Calls that pinned the old version may still read its listings: closed after the drain.
                if (old.Local is { IsValueCreated: true } local)
                    _ = Task.Delay(StoreVersionSettings.Create(_system.Settings.Config).Drain).ContinueWith(_ => local.Value.Dispose(), TaskScheduler.Default);
            }
            catch (Exception e)
            {
                log.Error(e, "Graph store could not switch to store version {0} [{1}]: it keeps reading version {2}", m.Version, m.Path, _view.Version);
            }
        });
    }

    public TimeSpan RequestTimeout => _timeout;
    public WireSettings Wire => _wire;

    // ---- per-node calls: one request per owning partition ----

    public async ValueTask<NeighborSample> SampleNeighborsAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, bool withWeights = false, CancellationToken cancellationToken = default)
    {
        var view = _view;
        var grouping = Group(view, incoming ? type.Dst : type.Src, seeds.Span);
        var direction = incoming ? EdgeDirection.In : EdgeDirection.Out;
        var kind = ToProtocol(strategy);
        var answers = await AskAll<NeighborsResult>(view, grouping, seeds.Span, _wire.MaxIdsPerRequest(sizeof(int)), (p, piece, ids) => (id, deadline) =>
            new GetNeighbors(id, p, type, direction, ids, Math.Max(1, fanout), kind, rngSeed, deadline),
            cancellationToken).ConfigureAwait(false);
        return Scatter(grouping, seeds.Length, answers, a => (a.Offsets, a.Neighbors, a.Weights), withWeights);
    }

    public async ValueTask GatherFeaturesAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<float> destination, CancellationToken cancellationToken = default)
    {
        var view = _view;
        var dim = view.Schema.Node(type).FeatureDim;
        if (destination.Length < (long)ids.Length * dim)
            throw new ArgumentException($"Destination holds {destination.Length} floats; {ids.Length} rows of {dim} need {(long)ids.Length * dim}.", nameof(destination));
        if (dim == 0 || ids.Length == 0) return;
        var grouping = Group(view, type, ids.Span);
        // Rows per request: as many as fit a chunk of ids, and no more than one answer may hold.
        var rows = (int)Math.Min(_wire.MaxIdsPerRequest(sizeof(int)), Math.Max(1, (_wire.MaxMessageBytes - 1024) / (dim * (long)sizeof(float))));
        var answers = await AskAll<FeaturesResult>(view, grouping, ids.Span, rows, (p, _, part) => (id, deadline) => new GetFeatures(id, p, type, part, deadline),
            cancellationToken).ConfigureAwait(false);
        foreach (var a in answers)
        {
            if (a.Answer.Dim != dim)
                throw new PartitionRequestException(a.Partition, $"Partition {a.Partition} answered features of '{type}' with dim {a.Answer.Dim}; the store says {dim}.");
            OwnerGrouping.ScatterFixed<float>(Positions(grouping, a), a.Answer.Data, dim, destination.Span);
        }
    }

    public async ValueTask GatherLabelsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) return;
        var view = _view;
        var grouping = Group(view, type, ids.Span);
        var answers = await AskAll<LabelsResult>(view, grouping, ids.Span, _wire.MaxIdsPerRequest(sizeof(int)),
            (p, _, part) => (id, deadline) => new GetLabels(id, p, type, part, deadline), cancellationToken).ConfigureAwait(false);
        foreach (var a in answers) OwnerGrouping.ScatterFixed<int>(Positions(grouping, a), a.Answer.Labels, 1, destination.Span);
    }

    public async ValueTask GetDegreesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) return;
        var view = _view;
        var grouping = Group(view, incoming ? type.Dst : type.Src, ids.Span);
        var direction = incoming ? EdgeDirection.In : EdgeDirection.Out;
        var answers = await AskAll<DegreesResult>(view, grouping, ids.Span, _wire.MaxIdsPerRequest(sizeof(int)),
            (p, _, part) => (id, deadline) => new GetDegrees(id, p, type, direction, part, deadline), cancellationToken).ConfigureAwait(false);
        foreach (var a in answers) OwnerGrouping.ScatterFixed<int>(Positions(grouping, a), a.Answer.Degrees, 1, destination.Span);
    }

    /// <summary>Each source's owner draws its k negatives (it holds the source's out-CSR for the true-neighbour check).</summary>
    public async ValueTask<NegativeSampleStats> SampleNegativesAsync(CanonicalEdgeType type, ReadOnlyMemory<int> sources, int k, NegativeStrategy strategy,
        bool excludeNeighbors, ulong rngSeed, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "The number of negatives must be positive.");
        if (destination.Length < (long)sources.Length * k) throw new ArgumentException($"Destination holds {destination.Length} ids; {sources.Length} × {k} needed.", nameof(destination));
        if (sources.Length == 0) return new NegativeSampleStats(0, 0, 0);
        var view = _view;
        var grouping = Group(view, type.Src, sources.Span);
        var kind = strategy switch
        {
            NegativeStrategy.Random => NegativeStrategyKind.Random,
            NegativeStrategy.SmoothedInDegree => NegativeStrategyKind.InDegree,
            NegativeStrategy.InDegree => NegativeStrategyKind.RawInDegree,
            NegativeStrategy.RandomReached => NegativeStrategyKind.RandomReached,
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown negative strategy."),
        };
        var perRequest = (int)Math.Min(_wire.MaxIdsPerRequest(sizeof(int)), Math.Max(1, (_wire.MaxMessageBytes - 1024) / (k * (long)sizeof(int))));
        var answers = await AskAll<NegativesResult>(view, grouping, sources.Span, perRequest, (p, piece, part) => (id, deadline) =>
            new GetNegatives(id, p, type, part, k, kind, excludeNeighbors, piece == 0 ? rngSeed : BlockSampler.StreamSeed(rngSeed, 1, (ulong)piece), deadline),
            cancellationToken).ConfigureAwait(false);
        var stats = new NegativeSampleStats(0, 0, 0);
        foreach (var a in answers)
        {
            OwnerGrouping.ScatterFixed<int>(Positions(grouping, a), a.Answer.Negatives, k, destination.Span);
            stats = stats.Add(new NegativeSampleStats(a.Answer.Requested, a.Answer.Redrawn, a.Answer.Unresolved));
        }
        return stats;
    }

    /// <summary>
    /// Business ids carry no owner, so every partition is asked (in parallel) and each answers for those it owns; more
    /// ids than fit a chunk go as several requests per partition, each with its slice of the ids.
    /// </summary>
    public async ValueTask LookupIdsAsync(NodeType type, ReadOnlyMemory<long> businessIds, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        var view = _view;
        var perRequest = _wire.MaxIdsPerRequest(sizeof(long));
        var slices = new List<(int Start, long[] Ids)>();
        for (var start = 0; start < businessIds.Length; start += perRequest)
            slices.Add((start, businessIds.Slice(start, Math.Min(perRequest, businessIds.Length - start)).ToArray()));
        var tasks = new List<(int Start, Task<IdsResult> Answer)>();
        for (var p = 0; p < view.Book.Parts; p++)
        {
            var part = p;
            foreach (var (start, ids) in slices)
                tasks.Add((start, RequestAsync<IdsResult>(view, part, ids.Length, (id, deadline) => new GetIds(id, part, type, ids, deadline), cancellationToken)));
        }
        await Task.WhenAll(tasks.Select(t => t.Answer)).ConfigureAwait(false);
        var dst = destination.Span;
        dst[..businessIds.Length].Fill(-1);
        foreach (var (start, task) in tasks)
        {
            var found = task.Result.Ids;
            for (var i = 0; i < found.Length; i++)
                if (found[i] >= 0) dst[start + i] = found[i];
        }
    }

    // ---- whole-graph listings: read from the store directory ----

    public ValueTask<int[]> GetSplitAsync(NodeType type, SplitKind split, CancellationToken cancellationToken = default) =>
        Local(_view).GetSplitAsync(type, split, cancellationToken);

    public ValueTask<EdgeList> GetEdgesAsync(CanonicalEdgeType type, CancellationToken cancellationToken = default) =>
        Local(_view).GetEdgesAsync(type, cancellationToken);

    public ValueTask GetBusinessIdsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<long> destination, CancellationToken cancellationToken = default) =>
        Local(_view).GetBusinessIdsAsync(type, ids, destination, cancellationToken);

    private static PartitionedGraphStore Local(View view) => view.Local?.Value ?? throw new InvalidOperationException(
        "This RemoteGraphStore was built without a store path: splits, edge lists and business ids are read from the store directory.");

    // ---- learnable embeddings, held by the partitions owning the rows (EmbeddingProtocol) ----

    /// <summary>
    /// Opens the job's tables on every partition at <paramref name="clock"/> (fresh, or from <paramref name="restoreDirectory"/>);
    /// with <paramref name="rehome"/>, a partition that moved takes over its previous host's hand-off instead.
    /// </summary>
    public async Task OpenEmbeddingsAsync(string jobId, TrainingProtocol.TrainingConfig config, long clock, long attempt, string restoreDirectory,
        bool rehome = false, string warmFrom = "", CancellationToken cancellationToken = default)
    {
        var view = _view;
        var asked = new List<Task<EmbeddingProtocol.EmbeddingsOpened>>();
        for (var p = 0; p < view.Book.Parts; p++)
        {
            var partition = p;
            asked.Add(RequestAsync<EmbeddingProtocol.EmbeddingsOpened>(view, partition, 0, (id, deadline) =>
                new EmbeddingProtocol.OpenEmbeddings(id, partition, jobId, config, clock, attempt, restoreDirectory, rehome, deadline, warmFrom), cancellationToken));
        }
        await Task.WhenAll(asked).ConfigureAwait(false);
    }

    /// <summary>The rows of <paramref name="ids"/> as they are before step <paramref name="clock"/>, row-major into <paramref name="destination"/>.</summary>
    public async Task GatherEmbeddingsAsync(string jobId, string type, int dim, long clock, long attempt, long attemptFrom, int[] ids,
        float[] destination, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) return;
        var view = _view;
        var grouping = Group(view, new NodeType(type), ids);
        var rows = RowsPerRequest(dim);
        var answers = await AskAll<FeaturesResult>(view, grouping, ids, rows, (p, _, part) => (id, deadline) =>
            new EmbeddingProtocol.GetEmbeddingRows(id, p, jobId, type, clock, attempt, attemptFrom, part, deadline), cancellationToken).ConfigureAwait(false);
        foreach (var a in answers)
        {
            if (a.Answer.Dim != dim)
                throw new PartitionRequestException(a.Partition, $"Partition {a.Partition} answered embedding rows of '{type}' with dim {a.Answer.Dim}; the job says {dim}.");
            OwnerGrouping.ScatterFixed<float>(Positions(grouping, a), a.Answer.Data, dim, destination);
        }
    }

    /// <summary>
    /// Sends each owner its rows' gradients of step <paramref name="clock"/> (piece <paramref name="piece"/>), in parts that
    /// fit a frame; returns once every owner holds them.
    /// </summary>
    public async Task PushEmbeddingGradientsAsync(string jobId, string type, int dim, long clock, long attempt, long attemptFrom, int piece,
        int[] ids, float[] gradients, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) return;
        var view = _view;
        var grouping = Group(view, new NodeType(type), ids);
        var perRequest = RowsPerRequest(dim);
        // The gradients in the grouping's order, partition after partition: each request's part is then one slice.
        var grouped = new float[(long)ids.Length * dim];
        var starts = new int[grouping.Parts];
        for (int p = 0, row = 0; p < grouping.Parts; p++)
        {
            starts[p] = row;
            foreach (var at in grouping.BatchPositions(p)) Array.Copy(gradients, (long)at * dim, grouped, (long)row++ * dim, dim);
        }
        await AskAll<EmbeddingProtocol.EmbeddingGradientsTaken>(view, grouping, ids, perRequest, (p, part, partIds) =>
        {
            var partGradients = grouped.AsSpan((starts[p] + part * perRequest) * dim, partIds.Length * dim).ToArray();
            return (id, deadline) => new EmbeddingProtocol.PushEmbeddingGradients(id, p, jobId, type, clock, attempt, attemptFrom, piece, part, partIds,
                partGradients, deadline);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Every partition writes its slabs, as after the steps below <paramref name="clock"/>, into <paramref name="directory"/>
    /// (and with <paramref name="release"/> then drops them).
    /// </summary>
    public async Task<List<EmbeddingProtocol.EmbeddingsWritten>> WriteEmbeddingsAsync(string jobId, long clock, long attempt, long attemptFrom,
        string directory, bool release = false, CancellationToken cancellationToken = default)
    {
        var view = _view;
        var asked = new List<Task<EmbeddingProtocol.EmbeddingsWritten>>();
        for (var p = 0; p < view.Book.Parts; p++)
        {
            var partition = p;
            asked.Add(RequestAsync<EmbeddingProtocol.EmbeddingsWritten>(view, partition, 0, (id, deadline) =>
                new EmbeddingProtocol.WriteEmbeddings(id, partition, jobId, clock, attempt, attemptFrom, directory, release, deadline), cancellationToken));
        }
        return [.. await Task.WhenAll(asked).ConfigureAwait(false)];
    }

    // Rows of dim floats per request or answer: as many as fit a chunk of ids, and no more than one message may hold.
    private int RowsPerRequest(int dim) =>
        (int)Math.Min(_wire.MaxIdsPerRequest(sizeof(int)), Math.Max(1, (_wire.MaxMessageBytes - 1024) / ((long)dim * sizeof(float) + sizeof(int))));

    // ---- requests ----

    private static OwnerGrouping Group(View view, NodeType type, ReadOnlySpan<int> ids)
    {
        // One grouping per call: calls run concurrently (SelectAsync), and the scatter happens after the awaits.
        var grouping = new OwnerGrouping();
        grouping.Group(view.Book, type, ids);
        return grouping;
    }

    /// <summary>One answer of a call: partition <see cref="Partition"/>'s rows <see cref="Start"/>..+<see cref="Count"/> of its grouped ids.</summary>
    private readonly record struct Piece<TResult>(int Partition, int Start, int Count, TResult Answer);

    private static ReadOnlySpan<int> Positions<TResult>(OwnerGrouping grouping, Piece<TResult> piece) =>
        grouping.BatchPositions(piece.Partition).Slice(piece.Start, piece.Count);

    /// <summary>
    /// Sends every partition owning some of <paramref name="ids"/> its ids, all partitions at once: one request each, or
    /// consecutive pieces of at most <paramref name="perRequest"/> ids (the request factory gets the piece number).
    /// </summary>
    private Task<List<Piece<TResult>>> AskAll<TResult>(View view, OwnerGrouping grouping, ReadOnlySpan<int> ids, int perRequest,
        Func<int, int, int[], Func<long, long, IPartitionRequest>> request, CancellationToken cancellationToken) where TResult : class, IPartitionResponse
    {
        var asked = new List<(int Partition, int Start, int Count, Task<TResult> Answer)>();
        for (var p = 0; p < grouping.Parts; p++)
        {
            var count = grouping.CountOf(p);
            var positions = grouping.BatchPositions(p);
            for (int start = 0, piece = 0; start < count; start += perRequest, piece++)
            {
                var n = Math.Min(perRequest, count - start);
                var partIds = new int[n];
                for (var j = 0; j < n; j++) partIds[j] = ids[positions[start + j]];
                asked.Add((p, start, n, RequestAsync<TResult>(view, p, n, request(p, piece, partIds), cancellationToken)));
            }
        }
        return Collect(asked);
    }

    private static async Task<List<Piece<TResult>>> Collect<TResult>(List<(int Partition, int Start, int Count, Task<TResult> Answer)> asked)
    {
        await Task.WhenAll(asked.Select(a => a.Answer)).ConfigureAwait(false);
        return asked.Select(a => new Piece<TResult>(a.Partition, a.Start, a.Count, a.Answer.Result)).ToList();
    }

    private async Task<TResult> RequestAsync<TResult>(View view, int partition, int count, Func<long, long, IPartitionRequest> make,
        CancellationToken cancellationToken) where TResult : class, IPartitionResponse
    {
        var first = 0L;
        for (var attempt = 1; ; attempt++)
        {
            var id = Interlocked.Increment(ref _nextRequestId);
            if (attempt == 1) first = id;
            var deadline = DateTimeOffset.UtcNow.Add(_timeout);
            var request = make(id, deadline.ToUnixTimeMilliseconds());
            var answer = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
            // Registered before the request leaves, so the collector knows the id whatever arrives first.
            _collector.Tell(new ReplyCollectorActor.Expect(id, answer, _timeout));
            // A later store version's entity (p@v) answers for it; version 0's requests go bare, as they always did.
            _region.Tell(view.Version == 0 ? request : new StoreProtocol.VersionedRequest(view.Version, request), _collector);
            object reply;
            using (cancellationToken.Register(() =>
                   {
                       _collector.Tell(new ReplyCollectorActor.Forget(id));
                       answer.TrySetCanceled(cancellationToken);
                   }))
            {
                try
                {
                    // The collector's timer fails the task at the deadline; the local bound only guards against a collector
                    // that is gone (the node stopping), whose timer would never fire.
                    reply = await answer.Task.WaitAsync(_timeout + TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
                }
                catch (TimeoutException) when (attempt == 1)
                {
                    continue; // once more, through the region: the shard may have moved since
                }
                catch (TimeoutException)
                {
                    throw new PartitionTimeoutException(partition,
                        $"Partition {partition} did not answer {request.GetType().Name} for {count} id(s): request {first} and its retry {id} " +
                        $"each waited their deadline of {_timeout.TotalMilliseconds:0} ms (the last one {deadline:HH:mm:ss.fff} UTC).");
                }
            }
            if (reply is ReplyCollectorActor.Assembled assembled) reply = Reassembled(assembled, request);
            switch (reply)
            {
                case TResult r when r.RequestId == id && r.Partition == partition:
                    return r;
                case PartitionError e:
                    throw new PartitionRequestException(partition, $"Partition {partition} refused {request.GetType().Name} {id}: {e.Problem}");
                default:
                    throw new PartitionRequestException(partition,
                        $"Partition {partition} answered {request.GetType().Name} {id} with an unexpected {reply.GetType().Name}.");
            }
        }
    }

    private object Reassembled(ReplyCollectorActor.Assembled a, IPartitionRequest request)
    {
        try
        {
            return WireChunks.Deserialize(_system, a.Manifest, a.Bytes);
        }
        catch (Exception e) when (e is System.Runtime.Serialization.SerializationException or InvalidDataException)
        {
            throw new PartitionRequestException(a.Partition,
                $"Partition {a.Partition}'s answer to {request.GetType().Name} {request.RequestId} ({a.Chunks} chunks, {a.Bytes.Length:N0} bytes) does not read back: {e.Message}");
        }
    }

    private static NeighborStrategy ToProtocol(SamplingStrategy s) => s switch
    {
        SamplingStrategy.Random => NeighborStrategy.Random,
        SamplingStrategy.RandomWithoutReplacement => NeighborStrategy.RandomWithoutReplacement,
        SamplingStrategy.EdgeWeight => NeighborStrategy.EdgeWeight,
        SamplingStrategy.TopK => NeighborStrategy.TopK,
        SamplingStrategy.Full => NeighborStrategy.Full,
        SamplingStrategy.InDegree => NeighborStrategy.InDegree,
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "Unknown sampling strategy."),
    };

    public void Dispose()
    {
        if (_parent is not null) return;
        if (_following is not null) _following.Changed -= OnVersion;
        _collector.Tell(PoisonPill.Instance);
        if (_view.Local is { IsValueCreated: true } local) local.Value.Dispose();
    }
}
