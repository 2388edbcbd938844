// IGraphStore over the cluster: one request per partition per call, all partitions at once, answers scattered back in order.
using Akka.Actor;
using GraphActors.Cluster.Partitions;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
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
/// the answers are scattered back into the caller's order.
/// <para>
/// Asking: this is an edge of the actor world (it is called from stream stages, inside <c>SelectAsync</c>, and from
/// tests; never from an actor's receive), so each request is an <c>Ask</c> whose timeout equals the request's deadline.
/// A missing or late reply is retried ONCE with a fresh request id and deadline, through the region again (so it
/// reaches the entity wherever the shard lives now); then the call fails with a <see cref="PartitionTimeoutException"/>
/// naming the partition, the request and the deadline. A <see cref="PartitionError"/> is an answer, not a loss: it
/// fails the call at once with a <see cref="PartitionRequestException"/>.
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
/// every strategy. Negatives still go out with a seed per partition, so they have the same distribution but other draws.
/// </para>
/// </summary>
public sealed class RemoteGraphStore : IGraphStore, IDisposable
{
    private static long _nextRequestId = DateTime.UtcNow.Ticks;

    private readonly IActorRef _region;
    private readonly PartitionBook _book;
    private readonly TimeSpan _timeout;
    private readonly string? _storePath;
    private readonly Lazy<PartitionedGraphStore>? _local;

    public RemoteGraphStore(IActorRef region, PartitionBook book, GraphStoreSchema schema, TimeSpan requestTimeout, string? storePath = null)
    {
        if (requestTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(requestTimeout), requestTimeout, "A request needs a positive deadline.");
        _region = region;
        _book = book;
        Schema = schema;
        _timeout = requestTimeout;
        _storePath = storePath;
        if (storePath is not null) _local = new(() => new PartitionedGraphStore(PartitionStore.Open(storePath)));
    }

    /// <summary>The store at <paramref name="storePath"/> served by the partition region (or proxy) started on <paramref name="system"/>.</summary>
    public static RemoteGraphStore FromStore(ActorSystem system, string storePath, TimeSpan? requestTimeout = null)
    {
        var store = PartitionStore.Open(storePath);
        return new RemoteGraphStore(system.PartitionRegion(), store.Book, PartitionedGraphStore.SchemaOf(store.Manifest),
            requestTimeout ?? PartitionSettings.Create(system).RequestTimeout, storePath);
    }

    public GraphStoreSchema Schema { get; }
    public PartitionBook Book => _book;
    public TimeSpan RequestTimeout => _timeout;

    // ---- per-node calls: one request per owning partition ----

    public async ValueTask<NeighborSample> SampleNeighborsAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, bool withWeights = false, CancellationToken cancellationToken = default)
    {
        var grouping = Group(incoming ? type.Dst : type.Src, seeds.Span);
        var direction = incoming ? EdgeDirection.In : EdgeDirection.Out;
        var kind = ToProtocol(strategy);
        var answers = await AskAll<NeighborsResult>(grouping, seeds.Span, (p, ids) => (id, deadline) =>
            new GetNeighbors(id, p, type, direction, ids, Math.Max(1, fanout), kind, rngSeed, deadline),
            cancellationToken).ConfigureAwait(false);
        var total = 0;
        foreach (var a in answers) total += a?.Neighbors.Length ?? 0;
        var result = NeighborSample.Rent(seeds.Length, total, withWeights);
        var offsets = result.OffsetArray.AsSpan(0, seeds.Length + 1);
        for (var p = 0; p < answers.Length; p++)
            if (answers[p] is { } a) grouping.CountRows(p, a.Offsets, offsets);
        OwnerGrouping.ToOffsets(offsets);
        for (var p = 0; p < answers.Length; p++)
        {
            if (answers[p] is not { } a) continue;
            grouping.ScatterRows<int>(p, a.Offsets, a.Neighbors, offsets, result.NeighborArray.AsSpan(0, total));
            if (withWeights) grouping.ScatterRows<float>(p, a.Offsets, a.Weights, offsets, result.WeightArray.AsSpan(0, total));
        }
        return result;
    }

    public async ValueTask GatherFeaturesAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<float> destination, CancellationToken cancellationToken = default)
    {
        var dim = Schema.Node(type).FeatureDim;
        if (destination.Length < (long)ids.Length * dim)
            throw new ArgumentException($"Destination holds {destination.Length} floats; {ids.Length} rows of {dim} need {(long)ids.Length * dim}.", nameof(destination));
        if (dim == 0 || ids.Length == 0) return;
        var grouping = Group(type, ids.Span);
        var answers = await AskAll<FeaturesResult>(grouping, ids.Span, (p, part) => (id, deadline) => new GetFeatures(id, p, type, part, deadline),
            cancellationToken).ConfigureAwait(false);
        for (var p = 0; p < answers.Length; p++)
        {
            if (answers[p] is not { } a) continue;
            if (a.Dim != dim) throw new PartitionRequestException(p, $"Partition {p} answered features of '{type}' with dim {a.Dim}; the store says {dim}.");
            grouping.ScatterFixed<float>(p, a.Data, dim, destination.Span);
        }
    }

    public async ValueTask GatherLabelsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) return;
        var grouping = Group(type, ids.Span);
        var answers = await AskAll<LabelsResult>(grouping, ids.Span, (p, part) => (id, deadline) => new GetLabels(id, p, type, part, deadline),
            cancellationToken).ConfigureAwait(false);
        for (var p = 0; p < answers.Length; p++)
            if (answers[p] is { } a) grouping.ScatterFixed<int>(p, a.Labels, 1, destination.Span);
    }

    public async ValueTask GetDegreesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        if (ids.Length == 0) return;
        var grouping = Group(incoming ? type.Dst : type.Src, ids.Span);
        var direction = incoming ? EdgeDirection.In : EdgeDirection.Out;
        var answers = await AskAll<DegreesResult>(grouping, ids.Span, (p, part) => (id, deadline) => new GetDegrees(id, p, type, direction, part, deadline),
            cancellationToken).ConfigureAwait(false);
        for (var p = 0; p < answers.Length; p++)
            if (answers[p] is { } a) grouping.ScatterFixed<int>(p, a.Degrees, 1, destination.Span);
    }

    /// <summary>Each source's owner draws its k negatives (it holds the source's out-CSR for the true-neighbour check).</summary>
    public async ValueTask<NegativeSampleStats> SampleNegativesAsync(CanonicalEdgeType type, ReadOnlyMemory<int> sources, int k, NegativeStrategy strategy,
        bool excludeNeighbors, ulong rngSeed, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "The number of negatives must be positive.");
        if (destination.Length < (long)sources.Length * k) throw new ArgumentException($"Destination holds {destination.Length} ids; {sources.Length} × {k} needed.", nameof(destination));
        if (sources.Length == 0) return new NegativeSampleStats(0, 0, 0);
        var grouping = Group(type.Src, sources.Span);
        var kind = strategy == NegativeStrategy.InDegree ? NegativeStrategyKind.InDegree : NegativeStrategyKind.Random;
        var answers = await AskAll<NegativesResult>(grouping, sources.Span, (p, part) => (id, deadline) =>
            new GetNegatives(id, p, type, part, k, kind, excludeNeighbors, rngSeed, deadline),
            cancellationToken).ConfigureAwait(false);
        var stats = new NegativeSampleStats(0, 0, 0);
        for (var p = 0; p < answers.Length; p++)
        {
            if (answers[p] is not { } a) continue;
            grouping.ScatterFixed<int>(p, a.Negatives, k, destination.Span);
            stats = stats.Add(new NegativeSampleStats(a.Requested, a.Redrawn, a.Unresolved));
        }
        return stats;
    }

    /// <summary>Business ids carry no owner, so every partition is asked (in parallel) and each answers for those it owns.</summary>
    public async ValueTask LookupIdsAsync(NodeType type, ReadOnlyMemory<long> businessIds, Memory<int> destination, CancellationToken cancellationToken = default)
    {
        var all = businessIds.ToArray();
        var tasks = new Task<IdsResult>[_book.Parts];
        for (var p = 0; p < tasks.Length; p++)
        {
            var part = p;
            tasks[p] = RequestAsync<IdsResult>(part, all.Length, (id, deadline) => new GetIds(id, part, type, all, deadline), cancellationToken);
        }
        var answers = await Task.WhenAll(tasks).ConfigureAwait(false);
        var dst = destination.Span;
        dst[..all.Length].Fill(-1);
        foreach (var a in answers)
            for (var i = 0; i < all.Length; i++)
                if (a.Ids[i] >= 0) dst[i] = a.Ids[i];
    }

    // ---- whole-graph listings: read from the store directory ----

    public ValueTask<int[]> GetSplitAsync(NodeType type, SplitKind split, CancellationToken cancellationToken = default) =>
        Local().GetSplitAsync(type, split, cancellationToken);

    public ValueTask<EdgeList> GetEdgesAsync(CanonicalEdgeType type, CancellationToken cancellationToken = default) =>
        Local().GetEdgesAsync(type, cancellationToken);

    public ValueTask GetBusinessIdsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<long> destination, CancellationToken cancellationToken = default) =>
        Local().GetBusinessIdsAsync(type, ids, destination, cancellationToken);

    private PartitionedGraphStore Local() => _local?.Value ?? throw new InvalidOperationException(
        "This RemoteGraphStore was built without a store path: splits, edge lists and business ids are read from the store directory.");

    // ---- requests ----

    private OwnerGrouping Group(NodeType type, ReadOnlySpan<int> ids)
    {
        // One grouping per call: calls run concurrently (SelectAsync), and the scatter happens after the awaits.
        var grouping = new OwnerGrouping();
        grouping.Group(_book, type, ids);
        return grouping;
    }

    /// <summary>Sends one request to every partition owning some of <paramref name="ids"/>, all at once; null where a partition owns none.</summary>
    private Task<TResult?[]> AskAll<TResult>(OwnerGrouping grouping, ReadOnlySpan<int> ids,
        Func<int, int[], Func<long, long, IPartitionRequest>> request, CancellationToken cancellationToken) where TResult : class, IPartitionResponse
    {
        var tasks = new Task<TResult>?[grouping.Parts];
        for (var p = 0; p < tasks.Length; p++)
        {
            var count = grouping.CountOf(p);
            if (count == 0) continue;
            var positions = grouping.BatchPositions(p);
            var partIds = new int[count];
            for (var j = 0; j < count; j++) partIds[j] = ids[positions[j]];
            tasks[p] = RequestAsync<TResult>(p, count, request(p, partIds), cancellationToken);
        }
        return WhenAll(tasks);
    }

    private static async Task<TResult?[]> WhenAll<TResult>(Task<TResult>?[] tasks) where TResult : class
    {
        await Task.WhenAll(tasks.Where(t => t is not null).Cast<Task<TResult>>()).ConfigureAwait(false);
        return tasks.Select(t => t?.Result).ToArray();
    }

    private async Task<TResult> RequestAsync<TResult>(int partition, int count, Func<long, long, IPartitionRequest> make,
        CancellationToken cancellationToken) where TResult : class, IPartitionResponse
    {
        var first = 0L;
        for (var attempt = 1; ; attempt++)
        {
            var id = Interlocked.Increment(ref _nextRequestId);
            if (attempt == 1) first = id;
            var deadline = DateTimeOffset.UtcNow.Add(_timeout);
            var request = make(id, deadline.ToUnixTimeMilliseconds());
            object reply;
            try
            {
                reply = await _region.Ask<object>(request, _timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException) when (attempt == 1)
            {
                continue; // once more, through the region: the shard may have moved since
            }
            catch (AskTimeoutException)
            {
                throw new PartitionTimeoutException(partition,
                    $"Partition {partition} did not answer {request.GetType().Name} for {count} id(s): request {first} and its retry {id} " +
                    $"each waited their deadline of {_timeout.TotalMilliseconds:0} ms (the last one {deadline:HH:mm:ss.fff} UTC).");
            }
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

    private static NeighborStrategy ToProtocol(SamplingStrategy s) => s switch
    {
        SamplingStrategy.Random => NeighborStrategy.Random,
        SamplingStrategy.RandomWithoutReplacement => NeighborStrategy.RandomWithoutReplacement,
        SamplingStrategy.EdgeWeight => NeighborStrategy.EdgeWeight,
        SamplingStrategy.TopK => NeighborStrategy.TopK,
        SamplingStrategy.Full => NeighborStrategy.Full,
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "Unknown sampling strategy."),
    };

    public void Dispose()
    {
        if (_local is { IsValueCreated: true }) _local.Value.Dispose();
    }
}
