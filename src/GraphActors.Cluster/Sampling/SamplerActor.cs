// Samples an epoch's share of seeds into a stream of mini-batches and hands the trainer a SourceRef to it.
using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Event;
using Akka.Streams;
using Akka.Streams.Dsl;
using GraphActors.Cluster.Metrics;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Sampling;

/// <summary>Hooks for measuring the pipeline (tests, metrics); called from stream threads, so implementations must be thread-safe.</summary>
public interface ISamplerObserver
{
    /// <summary>Batch <paramref name="index"/> of <paramref name="epoch"/> entered the sampling stage.</summary>
    void BatchStarted(int epoch, int index);
    /// <summary>Batch <paramref name="index"/> has its blocks and features and enters the prefetch buffer.</summary>
    void BatchReady(int epoch, int index, long payloadBytes);
}

/// <summary>
/// On <see cref="SampleEpoch"/> it materialises, per epoch, the pipeline
/// <c>seed batches → SelectAsync(parallelism) sample blocks → SelectAsync(parallelism) gather input features →
/// Buffer(prefetch, backpressure) → parts (the batch itself, or chunks of it for a requester on another node,
/// <see cref="MiniBatchWire.Parts"/>) → StreamRefs.SourceRef</c> and answers the requester with
/// <see cref="EpochStreamReady"/> (or <see cref="EpochRejected"/>). The store calls happen in the stream (no Ask in
/// this actor); the requester runs the SourceRef into an ack-based sink (<see cref="MiniBatchWire.RunInto"/>), so the
/// sampler runs at most <see cref="SamplerSettings.InFlightBound"/> batches ahead of the trainer. The streams run on
/// this actor's materializer: stopping the actor stops its epochs.
/// </summary>
public sealed class SamplerActor : ReceiveActor
{
    private readonly IGraphStore _store;
    private readonly SamplerSettings _settings;
    private readonly WireSettings _wire;
    private readonly ISamplerObserver? _observer;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private IMaterializer _materializer = null!;
    private ((CanonicalEdgeType, double, double, ulong, IGraphStore) Key, Task<EdgeSplit> Split)? _split;
    // Stream stages of one epoch ask for the epoch's order concurrently (SelectAsync).
    private readonly object _orderLock = new();
    private ((int Count, ulong Seed, int Epoch) Key, int[] Order)? _order;
    private readonly SampleEpochChunks _epochChunks = new();

    public SamplerActor(IGraphStore store, SamplerSettings settings, ISamplerObserver? observer)
    {
        _store = store;
        _settings = settings;
        _wire = WireSettings.Create(Context.System);
        _observer = observer;
        Receive<SampleEpoch>(Start);
        Receive<SampleEpochChunk>(OnEpochChunk);
    }

    public static Props Props(IGraphStore store, SamplerSettings settings, ISamplerObserver? observer = null) =>
        Akka.Actor.Props.Create(() => new SamplerActor(store, settings, observer));

    protected override void PreStart() => _materializer = Context.Materializer();

    /// <summary>A part of an epoch too large for one frame (from a SamplerRouter): the whole one is handled as if it had come so.</summary>
    private void OnEpochChunk(SampleEpochChunk c)
    {
        try
        {
            if (_epochChunks.Add(Sender, c, Context.System) is { } epoch) Self.Tell(epoch, Sender);
        }
        catch (InvalidDataException e)
        {
            _log.Warning("Sampler dropped epoch request {0} from {1}: {2}", c.RequestId, Sender, e.Message);
        }
    }

    private void Start(SampleEpoch m)
    {
        var replyTo = Sender;
        if (Validate(m) is { } problem)
        {
            _log.Warning("Sampler refused epoch {0} (request {1}): {2}", m.Epoch, m.RequestId, problem);
            replyTo.Tell(new EpochRejected(m.RequestId, m.Epoch, problem));
            return;
        }
        // Given batches (the coordinator's pieces of global batches) are sampled as they are; otherwise shuffle and cut.
        var given = m.BatchOffsets is not null;
        var order = given ? m.Seeds : EpochPlan.Shuffle(m.Seeds, m.Seed, m.Epoch);
        var batches = given ? m.BatchOffsets!.Length - 1 : EpochPlan.BatchCount(order.Length, m.BatchSize, m.DropLast);
        var options = new BlockSamplerOptions(m.Fanouts)
        {
            Strategy = PartitionServer.ToKernel(m.Strategy),
            GatherFeatures = false,
            ReverseEdges = m.ReverseEdges switch
            {
                ReverseEdgeMode.AddReverse => ReverseEdges.AddReverse,
                ReverseEdgeMode.Bidirected => ReverseEdges.Bidirected,
                _ => ReverseEdges.None,
            },
        };
        // BlockSampler is single-threaded: each in-flight batch borrows one (at most `parallelism` exist per epoch).
        var samplers = new ConcurrentBag<BlockSampler>();
        // One store version for the whole epoch (a reload is refused while a job runs; this holds even if one raced it).
        var store = _store is IVersionedGraphStore versioned ? versioned.Pin() : _store;
        var observer = _observer;
        var link = m.Link;
        var split = link is null ? null : Split(link, store);
        var metrics = NodeMetrics.Get(Context.System);

        var ready = Source.From(Enumerable.Range(0, batches))
            .SelectAsync(_settings.Parallelism, async b =>
            {
                observer?.BatchStarted(m.Epoch, b);
                var started = Stopwatch.GetTimestamp();
                metrics.SamplerInFlight.Inc();
                if (!samplers.TryTake(out var sampler)) sampler = new BlockSampler(store, options);
                try
                {
                    var batchSeed = given ? m.BatchSeeds![b] : EpochPlan.BatchSeed(m.Seed, m.Epoch, b);
                    var batchSeeds = given ? order.AsMemory(m.BatchOffsets![b], m.BatchOffsets[b + 1] - m.BatchOffsets[b]) : EpochPlan.Batch(order, m.BatchSize, b);
                    if (link is null)
                    {
                        var seeds = new Dictionary<NodeType, int[]> { [m.NodeType] = batchSeeds.ToArray() };
                        var sampled = await sampler.SampleAsync(seeds, batchSeed).ConfigureAwait(false);
                        metrics.SamplerPhaseSeconds.WithLabels("structure").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                        return (Index: b, Batch: sampled, Link: (LinkBatch?)null, Started: started);
                    }
                    var edgeSplit = await split!.ConfigureAwait(false);
                    var edges = edgeSplit.Train;
                    var positions = batchSeeds.Span;
                    var src = new int[positions.Length];
                    var dst = new int[positions.Length];
                    for (var i = 0; i < positions.Length; i++)
                    {
                        var e = positions[i];
                        if ((uint)e >= (uint)edges.Count)
                            throw new ArgumentOutOfRangeException(nameof(m), $"seed {e} of epoch {m.Epoch} is no position among the {edges.Count} training edges of {link.Type}.");
                        src[i] = edges.Src[e];
                        dst[i] = edges.Dst[e];
                    }
                    var (batchSrc, batchDst) = (src, dst);
                    if (m.BatchSteps is { } steps)
                    {
                        // A piece of a global batch: local mode keeps the whole batch's edges out of message passing.
                        var order = EpochOrder(edges.Count, m.Seed, m.Epoch);
                        var (start, count) = (steps[b] * m.BatchSize, Math.Min(m.BatchSize, edges.Count - steps[b] * m.BatchSize));
                        batchSrc = new int[count];
                        batchDst = new int[count];
                        for (var i = 0; i < count; i++)
                        {
                            batchSrc[i] = edges.Src[order[start + i]];
                            batchDst[i] = edges.Dst[order[start + i]];
                        }
                    }
                    var pairs = await LinkSampler(sampler, link, edgeSplit).SampleAsync(src, dst, batchSeed, batchSrc, batchDst).ConfigureAwait(false);
                    metrics.SamplerPhaseSeconds.WithLabels("structure").Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                    return (Index: b, Batch: pairs.Graph, Link: pairs, Started: started);
                }
                finally
                {
                    samplers.Add(sampler);
                    metrics.SamplerInFlight.Dec();
                }
            })
            .SelectAsync(_settings.Parallelism, async x =>
            {
                var gathering = Stopwatch.GetTimestamp();
                var batch = await GatherFeatures(store, x.Batch).ConfigureAwait(false);
                metrics.SamplerPhaseSeconds.WithLabels("features").Observe(Stopwatch.GetElapsedTime(gathering).TotalSeconds);
                var data = x.Link is { } l
                    ? new LinkBatch(l.Type, batch, l.PosSrc, l.PosDst, l.NegSrc, l.NegDst, l.NegativesPerPositive, l.NegativeStats).ToData(m.RequestId, m.Epoch, x.Index)
                    : batch.ToData(m.RequestId, m.Epoch, x.Index);
                observer?.BatchReady(m.Epoch, x.Index, data.PayloadBytes);
                metrics.SamplerBatchSeconds.Observe(Stopwatch.GetElapsedTime(x.Started).TotalSeconds);
                metrics.SamplerBatches.Inc();
                metrics.SamplerBatchBytes.Inc(data.PayloadBytes);
                return data;
            })
            .Buffer(_settings.Prefetch, OverflowStrategy.Backpressure)
            // A trainer on another node gets each batch as chunks of its serialized form; one on this node the batch itself.
            .Via(MiniBatchWire.Parts(crossesNodes: !replyTo.Path.Address.HasLocalScope, Context.System, _wire))
            .RunWith(StreamRefs.SourceRef<IMiniBatchPart>()
                .WithAttributes(StreamRefAttributes.CreateSubscriptionTimeout(_settings.SubscriptionTimeout)), _materializer);

        ready.PipeTo(replyTo,
            success: sourceRef => new EpochStreamReady(m.RequestId, m.Epoch, batches, sourceRef),
            failure: e => new EpochRejected(m.RequestId, m.Epoch, $"the epoch's stream could not be materialised: {e.GetBaseException().Message}"));
        _log.Info("Sampler offers epoch {0} (request {1}): {2} batch(es) of up to {3} {4} seeds, fanouts [{5}]",
            m.Epoch, m.RequestId, batches, m.BatchSize, link is null ? $"'{m.NodeType}'" : $"{link.Type} edge", string.Join(", ", m.Fanouts));
    }

    /// <summary>
    /// The job's edge split, computed once per (type, fractions, seed) the way every trainer and the coordinator compute
    /// it (an epoch's seeds are positions into its <see cref="EdgeSplit.Train"/>). It reads the edge list from the
    /// store's files (RemoteGraphStore's store path), off the actor's thread; the epoch's first batches wait for it.
    /// </summary>
    private Task<EdgeSplit> Split(LinkSampling link, IGraphStore store)
    {
        var key = (link.Type, link.ValFraction, link.TestFraction, link.SplitSeed, store);
        if (_split is { } cached && cached.Key == key && !cached.Split.IsFaulted) return cached.Split; // a failed read is tried again
        var task = Task.Run(async () => await EdgeSplit.CreateAsync(store, link.Type, link.ValFraction, link.TestFraction, link.SplitSeed).ConfigureAwait(false));
        _split = (key, task);
        return task;
    }

    /// <summary>
    /// The epoch's shuffled training-edge positions, as local mode's LinkBatchLoader and the coordinator shuffle them
    /// (global batch s is its s-th cut of batch_size): computed once per (epoch, seed, count) and shared by the epoch's batches.
    /// </summary>
    private int[] EpochOrder(int count, ulong seed, int epoch)
    {
        lock (_orderLock)
        {
            if (_order is { } o && o.Key == (count, seed, epoch)) return o.Order;
            var positions = new int[count];
            for (var i = 0; i < count; i++) positions[i] = i;
            var order = EpochPlan.Shuffle(positions, seed, epoch);
            _order = ((count, seed, epoch), order);
            return order;
        }
    }

    private static LinkBatchSampler LinkSampler(BlockSampler blocks, LinkSampling link, EdgeSplit split) =>
        new(blocks, new LinkBatchOptions(link.Type, link.Negatives)
        {
            NegativeStrategy = link.NegativeStrategy == NegativeMode.InDegree ? NegativeStrategy.SmoothedInDegree : NegativeStrategy.Random,
            Exclude = link.Exclude switch
            {
                ExclusionMode.None => LinkExclusion.None,
                ExclusionMode.Self => LinkExclusion.Self,
                _ => LinkExclusion.SelfAndReverse,
            },
            AlwaysExcluded = split.HeldOut,
        });

    private string? Validate(SampleEpoch m)
    {
        if (m.BatchSize < 1) return $"batch size {m.BatchSize} must be at least 1.";
        if (m.Fanouts.Length == 0) return "fanouts are empty: need one entry per layer.";
        if (m.Fanouts.Any(f => f < -1)) return $"fanouts [{string.Join(", ", m.Fanouts)}] must be -1 (all), 0 (skip) or positive.";
        if (m.BatchOffsets is { } offsets)
        {
            if (offsets.Length < 1 || offsets[0] != 0 || offsets[^1] != m.Seeds.Length || m.BatchSeeds is null || m.BatchSeeds.Length != offsets.Length - 1)
                return $"the given batches do not cover the {m.Seeds.Length} seeds: offsets [{offsets.FirstOrDefault()}..{offsets.LastOrDefault()}] " +
                    $"of {offsets.Length - 1} batch(es), {m.BatchSeeds?.Length ?? 0} batch seed(s).";
            for (var b = 0; b + 1 < offsets.Length; b++)
                if (offsets[b + 1] <= offsets[b]) return $"given batch {b} is empty or runs backwards (offsets {offsets[b]}..{offsets[b + 1]}).";
            if (m.BatchSteps is { } steps && (steps.Length != offsets.Length - 1 || steps.Any(x => x < 0)))
                return $"{steps.Length} global step(s) for {offsets.Length - 1} given batch(es), or a negative one.";
        }
        if (m.Link is { } link)
        {
            try { _store.Schema.Edge(link.Type); }
            catch (KeyNotFoundException e) { return e.Message; }
            if (link.Negatives < 1) return $"negatives = {link.Negatives}: link batches need at least 1 per positive.";
            var positions = new HashSet<int>();
            foreach (var s in m.Seeds)
                if (s < 0 || !positions.Add(s)) return $"seed {s} is negative or appears twice; training-edge positions must be distinct.";
            return null;
        }
        try { _store.Schema.Node(m.NodeType); }
        catch (KeyNotFoundException e) { return e.Message; }
        var count = _store.Schema.Node(m.NodeType).Count;
        var seen = new HashSet<int>();
        foreach (var s in m.Seeds)
        {
            if ((uint)s >= (uint)count) return $"seed {s} of '{m.NodeType}' is outside 0..{count - 1}.";
            if (!seen.Add(s)) return $"seed {s} appears twice; seeds must be distinct.";
        }
        return null;
    }

    /// <summary>Input features of every node type, the types asked in parallel (each call is one request per partition).</summary>
    private static async Task<MiniBatch> GatherFeatures(IGraphStore store, MiniBatch batch)
    {
        var schema = store.Schema;
        var features = new float[]?[batch.NodeTypes.Count];
        var calls = new List<Task>();
        for (var t = 0; t < features.Length; t++)
        {
            var info = schema.Node(batch.NodeTypes[t]);
            var input = batch.InputNodes[t];
            if (info.FeatureDim == 0 || input.Length == 0) continue;
            var f = GC.AllocateUninitializedArray<float>(input.Length * info.FeatureDim);
            features[t] = f;
            calls.Add(store.GatherFeaturesAsync(info.Type, input, f).AsTask());
        }
        await Task.WhenAll(calls).ConfigureAwait(false);
        return new MiniBatch(batch.Blocks, features, batch.FeatureDims, batch.Labels);
    }
}

/// <summary>Starts the SamplerActor of a node (role <c>trainer</c> or <c>sampler</c>).</summary>
public static class SamplerActorRegistration
{
    public static IActorRef StartSampler(this ActorSystem system, IGraphStore store, SamplerSettings? settings = null,
        ISamplerObserver? observer = null, string name = Names.Sampler) =>
        system.ActorOf(SamplerActor.Props(store, settings ?? SamplerSettings.Create(system), observer), name);
}
