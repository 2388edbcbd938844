// Business ids in, predictions out: lookup, K-hop sampling, features (cache first, store for misses), a forward pass.
using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using GraphActors.Contracts;
using GraphActors.Models;
using GraphActors.Sampling;
using TorchSharp;
using static TorchSharp.torch;
using ModelBlock = GraphActors.Models.Block;
using SampledBlock = GraphActors.Sampling.Block;

namespace GraphActors.Serving;

/// <summary>
/// The inference engine. Everything up to the forward pass (id lookup, sampling, feature reads) runs on the caller's
/// async flow against <see cref="IGraphStore"/> and <see cref="IFeatureSource"/>; tensors are made, used and disposed
/// only on the <see cref="TorchWorkerPool"/> threads, inside a dispose scope and under no_grad. Thread-safe.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly IGraphStore _store;
    private readonly IFeatureSource? _features;
    private readonly InferenceOptions _options;
    private readonly TorchWorkerPool _workers;
    private readonly ConcurrentDictionary<string, ConcurrentBag<BlockSampler>> _samplers = new();
    private readonly ConditionalWeakTable<ServableModel, SamplingPlan?[]> _plans = new();
    private static readonly ConditionalWeakTable<ModelConfig, HashSet<RelationKey>> RelationSets = new();
    private int _inFlight;

    /// <summary>Set in <see cref="Exception.Data"/> of refusals the engine has already counted in its metrics.</summary>
    public const string RecordedKey = "graphactors.recorded";

    public InferenceEngine(IGraphStore store, IModelLoader loader, IFeatureSource? features, InferenceOptions? options = null, ServingMetrics? metrics = null)
    {
        _store = store;
        _features = features;
        _options = options ?? new InferenceOptions();
        _workers = new TorchWorkerPool(_options.Workers, _options.MaxInFlight + 16, _options.TorchThreads);
        Metrics = metrics ?? new ServingMetrics();
        Models = new ModelRegistry(loader, _workers, store.Schema);
        Metrics.AddGauge("graphactors_inflight_requests", "Predictions in progress.", () => Volatile.Read(ref _inFlight));
        Metrics.AddGauge("graphactors_models_loaded", "Registered model versions.", () => Models.Count);
        Metrics.AddGauge("graphactors_torch_queue_length", "Work items waiting for a torch worker.", () => _workers.Queued);
        if (features is not null)
            Metrics.AddGauge("graphactors_redis_up", "1 when the feature cache answers, 0 while it is down (features then come from the graph store).", () => features.IsHealthy ? 1 : 0);
    }

    public ModelRegistry Models { get; }
    public ServingMetrics Metrics { get; }
    public IGraphStore Store => _store;
    public IFeatureSource? Features => _features;
    public InferenceOptions Options => _options;
    public int InFlight => Volatile.Read(ref _inFlight);
    /// <summary>The torch worker threads every model shares (GET /models/{name} lists them as its workers).</summary>
    public TorchWorkerPool Workers => _workers;

    /// <summary>Admits (or refuses with 503) and answers one request: <see cref="Admit"/> then <see cref="ExecuteAsync"/>.</summary>
    public async Task<PredictionResult> PredictAsync(PredictionRequest request, CancellationToken cancellationToken = default)
    {
        using var slot = Admit();
        return await ExecuteAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Claims one of the <see cref="InferenceOptions.MaxInFlight"/> slots, or throws the 503 at once (counted in the
    /// metrics). For callers of <see cref="PredictAsync"/>; the HTTP edge uses <see cref="TryAdmit"/>, which refuses
    /// without an exception. Dispose releases the slot.
    /// </summary>
    public InFlightSlot Admit()
    {
        if (TryAdmit(out var slot)) return slot;
        var busy = ServingException.Unavailable(BusyMessage);
        Metrics.RecordError(busy.Code, busy.Type);
        busy.Data[RecordedKey] = true;
        throw busy;
    }

    /// <summary>
    /// Claims one of the <see cref="InferenceOptions.MaxInFlight"/> slots if one is free. The HTTP edge claims it before
    /// it reads the request's body and hands it to whoever executes it (the inference actor, or this engine directly), so
    /// nothing waits in a mailbox or queue beyond the bound and a refusal costs no parsing. Records nothing: a refusal is
    /// the caller's to count (<see cref="ServingMetrics.RecordRejected"/>).
    /// </summary>
    public bool TryAdmit(out InFlightSlot slot)
    {
        if (Interlocked.Increment(ref _inFlight) > _options.MaxInFlight)
        {
            Interlocked.Decrement(ref _inFlight);
            slot = default;
            return false;
        }
        slot = new InFlightSlot(this);
        return true;
    }

    /// <summary>What a refused request is told (the 503's message).</summary>
    public string BusyMessage => $"Too many requests in flight (max {_options.MaxInFlight}); retry later.";

    internal void Release() => Interlocked.Decrement(ref _inFlight);

    /// <summary>
    /// Answers a request already admitted through <see cref="Admit"/>. Refusals are <see cref="ServingException"/>s
    /// (already counted in the metrics); any other failure becomes a 500.
    /// </summary>
    public async Task<PredictionResult> ExecuteAsync(PredictionRequest request, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        string? version = null;
        try
        {
            using var lease = Models.Acquire(request.Model, request.Version);
            version = lease.Entry.Version;
            lease.Entry.Workers.ThrowIfNone(request.Model, version); // TorchServe's 503 for a model scaled to no workers, before any work
            // One store version for the whole answer: a reload switching versions meanwhile never mixes two in it.
            var store = _store is IVersionedGraphStore versioned ? versioned.Pin() : _store;
            var (result, queued) = request switch
            {
                NodePredictionRequest n => await PredictNodesAsync(lease.Entry, n, store, cancellationToken).ConfigureAwait(false),
                LinkPredictionRequest l => await PredictLinksAsync(lease.Entry, l, store, cancellationToken).ConfigureAwait(false),
                NodeExplanationRequest x => await ExplainNodesAsync(lease.Entry, x, store, cancellationToken).ConfigureAwait(false),
                _ => throw ServingException.BadRequest($"Unknown request kind {request.GetType().Name}."),
            };
            Metrics.RecordRequest(request.Model, version, 200);
            Metrics.RecordLatency(request.Model, version, Stopwatch.GetElapsedTime(started).TotalMicroseconds, queued.TotalMicroseconds);
            return result;
        }
        catch (ServingException e)
        {
            if (version is not null) Metrics.RecordRequest(request.Model, version, e.Code);
            Metrics.RecordError(e.Code, e.Type);
            e.Data[RecordedKey] = true;
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (version is not null) Metrics.RecordRequest(request.Model, version, 500);
            Metrics.RecordError(500, "InternalServerException");
            throw new ServingException(500, "InternalServerException", $"Prediction failed: {e.Message}") { Data = { [RecordedKey] = true } };
        }
    }

    private async Task<(PredictionResult, TimeSpan)> PredictNodesAsync(ModelEntry entry, NodePredictionRequest r, IGraphStore store, CancellationToken ct)
    {
        var model = entry.Model;
        if (!r.Embeddings && model.Info.Task != ServingTask.NodeClassification)
            throw ServingException.BadRequest($"Model {entry.Name} is a {model.Info.Task} model: ask for \"embeddings\": true or send \"pairs\".");
        var type = ResolveType(r.NodeType, model, store);
        CheckCount(r.Ids.Length, "ids");
        var ids = await LookupAsync(type, r.Ids, store, ct).ConfigureAwait(false);
        var (unique, rowOf) = Distinct(ids);
        using var batch = await SampleAsync(model, new Dictionary<NodeType, int[]> { [type] = unique }, r.FullNeighborhood, store, ct).ConfigureAwait(false);
        var (rows, queued) = await RunOnLaneAsync(entry, () =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var output = Forward(model, batch)[type.Name];
            using var rowsTensor = r.Embeddings ? output.contiguous() : output.softmax(1).contiguous();
            return (Width: (int)rowsTensor.size(1), Values: NativeTensors.Float32Values(rowsTensor).ToArray());
        }, ct).ConfigureAwait(false);

        var predictions = new NodePrediction[r.Ids.Length];
        for (var i = 0; i < r.Ids.Length; i++)
        {
            var row = rows.Values.AsSpan(rowOf[i] * rows.Width, rows.Width).ToArray();
            predictions[i] = r.Embeddings
                ? new NodePrediction(r.Ids[i], null, null, row)
                : new NodePrediction(r.Ids[i], ArgMax(row), row, null);
        }
        return (new NodePredictionResult(entry.Name, entry.Version, type.Name, predictions), queued);
    }

    private async Task<(PredictionResult, TimeSpan)> PredictLinksAsync(ModelEntry entry, LinkPredictionRequest r, IGraphStore store, CancellationToken ct)
    {
        var model = entry.Model;
        if (model.Info.Task != ServingTask.LinkPrediction)
            throw ServingException.BadRequest($"Model {entry.Name} is a {model.Info.Task} model; it does not score pairs.");
        var srcType = ResolveType(r.SrcType, model, store);
        var dstType = ResolveType(r.DstType, model, store);
        if (r.Src.Length != r.Dst.Length) throw ServingException.BadRequest($"{r.Src.Length} sources for {r.Dst.Length} destinations.");
        CheckCount(r.Src.Length, "pairs");
        var src = await LookupAsync(srcType, r.Src, store, ct).ConfigureAwait(false);
        var dst = await LookupAsync(dstType, r.Dst, store, ct).ConfigureAwait(false);
        // One seed list per type: a pair of one type contributes both ends to the same list.
        var perType = new Dictionary<NodeType, List<int>>();
        void AddAll(NodeType t, int[] xs) { if (!perType.TryGetValue(t, out var l)) perType[t] = l = []; l.AddRange(xs); }
        AddAll(srcType, src);
        AddAll(dstType, dst);
        var seeds = new Dictionary<NodeType, int[]>();
        var rowMaps = new Dictionary<NodeType, Dictionary<int, int>>();
        foreach (var (t, list) in perType)
        {
            var map = new Dictionary<int, int>();
            var u = new List<int>();
            foreach (var id in list) if (map.TryAdd(id, u.Count)) u.Add(id);
            seeds[t] = u.ToArray();
            rowMaps[t] = map;
        }
        var srcRows = src.Select(id => (long)rowMaps[srcType][id]).ToArray();
        var dstRows = dst.Select(id => (long)rowMaps[dstType][id]).ToArray();
        using var batch = await SampleAsync(model, seeds, r.FullNeighborhood, store, ct).ConfigureAwait(false);
        var (scores, queued) = await RunOnLaneAsync(entry, () =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var h = Forward(model, batch);
            var hu = h[srcType.Name].index_select(0, NativeTensors.Int64(srcRows));
            var hv = h[dstType.Name].index_select(0, NativeTensors.Int64(dstRows));
            // DotProductScorer's formula: the score is a logit, its sigmoid the probability.
            using var score = (hu * hv).sum(-1).contiguous();
            return NativeTensors.Float32Values(score).ToArray();
        }, ct).ConfigureAwait(false);
        var predictions = new LinkPrediction[scores.Length];
        for (var i = 0; i < scores.Length; i++)
            predictions[i] = new LinkPrediction(r.Src[i], r.Dst[i], scores[i], 1f / (1f + MathF.Exp(-scores[i])));
        return (new LinkPredictionResult(entry.Name, entry.Version, srcType.Name, dstType.Name, predictions), queued);
    }

    /// <summary>Most ids one explanation request may carry: each costs a backward pass through the whole sampled batch.</summary>
    public const int MaxExplainedPerRequest = 64;

    /// <summary>What an explanation attributes with: Captum's InputXGradient, the attribution TorchServe's handlers default to being cheap.</summary>
    public const string ExplanationMethod = "input_x_gradient";

    /// <summary>
    /// Explanations (TorchServe's /explanations): the same sampled batch as a prediction of these ids, the forward pass
    /// with the input features as leaves, then per node one backward pass of the explained class's logit. A feature's
    /// attribution is its value times the logit's gradient by it; an input node's is the sum over its features. Types
    /// without input features (learned embeddings) get no attribution.
    /// </summary>
    private async Task<(PredictionResult, TimeSpan)> ExplainNodesAsync(ModelEntry entry, NodeExplanationRequest r, IGraphStore store, CancellationToken ct)
    {
        var model = entry.Model;
        if (model.Info.Task != ServingTask.NodeClassification)
            throw ServingException.BadRequest($"Model {entry.Name} is a {model.Info.Task} model: explanations explain node classification scores.");
        var type = ResolveType(r.NodeType, model, store);
        CheckCount(r.Ids.Length, "ids");
        if (r.Ids.Length > MaxExplainedPerRequest)
            throw ServingException.TooLarge($"{r.Ids.Length} ids to explain: each takes a backward pass, at most {MaxExplainedPerRequest} per request.");
        var ids = await LookupAsync(type, r.Ids, store, ct).ConfigureAwait(false);
        var (unique, rowOf) = Distinct(ids);
        using var batch = await SampleAsync(model, new Dictionary<NodeType, int[]> { [type] = unique }, r.FullNeighborhood, store, ct).ConfigureAwait(false);
        var (raw, queued) = await RunOnLaneAsync(entry, () => Explain(model, batch, type, unique, r.Target, r.TopNeighbors), ct).ConfigureAwait(false);

        // The named input nodes' business ids: one lookup per type.
        var types = batch.MiniBatch.NodeTypes;
        var business = new long[types.Count][];
        for (var t = 0; t < types.Count; t++)
        {
            var dense = new List<int>();
            foreach (var node in raw)
                foreach (var (nt, denseId, _) in node.Top) if (nt == t) dense.Add(denseId);
            if (dense.Count == 0) continue;
            business[t] = new long[dense.Count];
            await store.GetBusinessIdsAsync(types[t], dense.ToArray(), business[t], ct).ConfigureAwait(false);
        }
        var next = new int[types.Count];
        var named = new NodeExplanation[unique.Length];
        for (var u = 0; u < unique.Length; u++)
        {
            var top = raw[u].Top;
            var neighbors = new NeighborAttribution[top.Length];
            for (var k = 0; k < top.Length; k++) neighbors[k] = new NeighborAttribution(types[top[k].Type].Name, business[top[k].Type][next[top[k].Type]++], top[k].Value);
            named[u] = new NodeExplanation(0, raw[u].Target, raw[u].Probability, raw[u].Features, neighbors);
        }
        var explanations = new NodeExplanation[r.Ids.Length];
        for (var i = 0; i < r.Ids.Length; i++) explanations[i] = named[rowOf[i]] with { Id = r.Ids[i] };
        return (new NodeExplanationResult(entry.Name, entry.Version, type.Name, ExplanationMethod, explanations), queued);
    }

    private sealed record RawExplanation(int Target, float Probability, float[] Features, (int Type, int DenseId, float Value)[] Top);

    /// <summary>The torch side of <see cref="ExplainNodesAsync"/>; runs on a torch worker.</summary>
    private static RawExplanation[] Explain(ServableModel model, SampledBatch batch, NodeType type, int[] seeds, int? target, int topK)
    {
        // Gradients through the models' custom autograd functions: one explanation at a time in the process (see AutogradGate).
        lock (AutogradGate.Lock) return ExplainUnderGate(model, batch, type, seeds, target, topK);
    }

    private static RawExplanation[] ExplainUnderGate(ServableModel model, SampledBatch batch, NodeType type, int[] seeds, int? target, int topK)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var mb = batch.MiniBatch;
        var blocks = ToModelBlocks(mb, model.Config);
        try
        {
            // The input features as leaves; each leaf's index among the batch's node types.
            var features = InputFeatures(model, batch);
            var leafTypes = new List<int>(features.Count);
            var leaves = new List<Tensor>(features.Count);
            foreach (var (name, leaf) in features)
            {
                leaves.Add(leaf.requires_grad_(true));
                var t = 0;
                while (mb.NodeTypes[t].Name != name) t++;
                leafTypes.Add(t);
            }
            var logits = model.Forward(blocks, features, mb)[type.Name];
            var classes = (int)logits.size(1);
            if (target is { } asked && asked >= classes)
                throw ServingException.BadRequest($"\"target\" {asked} is not a class of the model: it has {classes} (0 to {classes - 1}).");
            float[] probabilities;
            using (no_grad())
            using (var p = logits.softmax(1).contiguous())
                probabilities = NativeTensors.Float32Values(p).ToArray();

            var seedType = mb.Blocks[0].IndexOf(type);
            var inputs = mb.InputNodes;
            var seedRowOf = new Dictionary<int, int>(inputs[seedType].Length);
            for (var i = 0; i < inputs[seedType].Length; i++) seedRowOf.TryAdd(inputs[seedType][i], i);
            var result = new RawExplanation[seeds.Length];
            for (var s = 0; s < seeds.Length; s++)
            {
                using var step = NewDisposeScope();
                var row = probabilities.AsSpan(s * classes, classes);
                var explained = target ?? ArgMax(row);
                var grads = torch.autograd.grad([logits[s, explained]], leaves, retain_graph: s < seeds.Length - 1, allow_unused: true);
                var own = Array.Empty<float>();
                var ownRow = seedRowOf.TryGetValue(seeds[s], out var r) ? r : -1;
                var candidates = new List<(int Type, int DenseId, float Value)>();
                for (var k = 0; k < leaves.Count; k++)
                {
                    var g = grads[k];
                    if (g is null || g.IsInvalid) continue; // this type's features do not reach the logit
                    using var attribution = (g * leaves[k].detach()).contiguous();
                    var t = leafTypes[k];
                    if (t == seedType && ownRow >= 0)
                        using (var ownAttr = attribution[ownRow].contiguous())
                            own = NativeTensors.Float32Values(ownAttr).ToArray();
                    using var perNode = attribution.sum(1).contiguous();
                    var sums = NativeTensors.Float32Values(perNode);
                    for (var i = 0; i < sums.Length; i++)
                    {
                        if (t == seedType && i == ownRow) continue;
                        var v = sums[i];
                        if (v != 0f) candidates.Add((t, inputs[t][i], v));
                    }
                }
                candidates.Sort((a, b) => MathF.Abs(b.Value).CompareTo(MathF.Abs(a.Value)));
                result[s] = new RawExplanation(explained, row[explained], own, candidates.Take(topK).ToArray());
            }
            return result;
        }
        finally
        {
            foreach (var b in blocks) b.Dispose();
        }
    }

    /// <summary>
    /// Torch work of one prediction under one of its model's lanes (<see cref="ModelWorkers"/>): the pool's worker claims
    /// the lane when it takes the work; the wait for a lane and for a worker is the queue time.
    /// </summary>
    private Task<(T Value, TimeSpan Queued)> RunOnLaneAsync<T>(ModelEntry entry, Func<T> work, CancellationToken ct) =>
        _workers.RunAsync(work, entry.Workers, ct);

    /// <summary>The forward pass of one sampled batch; runs on a torch worker inside the caller's dispose scope.</summary>
    private static Dictionary<string, Tensor> Forward(ServableModel model, SampledBatch batch)
    {
        var blocks = ToModelBlocks(batch.MiniBatch, model.Config);
        try
        {
            return model.Forward(blocks, InputFeatures(model, batch), batch.MiniBatch);
        }
        finally
        {
            foreach (var b in blocks) b.Dispose();
        }
    }

    /// <summary>The batch's input feature rows as tensors, by node type (in the caller's dispose scope).</summary>
    private static Dictionary<string, Tensor> InputFeatures(ServableModel model, SampledBatch batch)
    {
        var features = new Dictionary<string, Tensor>(batch.Features.Count);
        foreach (var (type, rows) in batch.Features)
        {
            var dim = model.FeatureWidth(type);
            features[type] = NativeTensors.Float32(rows.Values.AsSpan(0, rows.Length), rows.Length / dim, dim);
        }
        return features;
    }

    /// <summary>
    /// Sampling blocks (plain arrays) → model blocks (tensors), keeping only what the model knows. The int32 arrays are
    /// widened straight into torch's memory (<see cref="ModelBlock.CreateFromInt32"/>): no int64 copies, no pins.
    /// </summary>
    internal static ModelBlock[] ToModelBlocks(MiniBatch batch, ModelConfig config)
    {
        var relations = RelationSets.GetValue(config, c => c.Relations.ToHashSet());
        var blocks = new ModelBlock[batch.Blocks.Length];
        try
        {
            for (var l = 0; l < blocks.Length; l++)
            {
                var b = batch.Blocks[l];
                var numSrc = new Dictionary<string, long>(b.NodeTypes.Count);
                var numDst = new Dictionary<string, long>(b.NodeTypes.Count);
                Dictionary<string, int[]>? ids = null;
                for (var t = 0; t < b.NodeTypes.Count; t++)
                {
                    var name = b.NodeTypes[t].Name;
                    if (!config.InDims.TryGetValue(name, out var dim)) continue;
                    numSrc[name] = b.SrcNodes[t].Length;
                    numDst[name] = b.NumDst[t];
                    if (dim == 0) (ids ??= [])[name] = b.SrcNodes[t]; // embedding tables index by node id
                }
                var edges = new Dictionary<RelationKey, RelationEdgesInt32>(b.Edges.Length);
                foreach (var e in b.Edges)
                {
                    var key = new RelationKey(e.Type.Src.Name, e.Type.Relation, e.Type.Dst.Name);
                    if (relations.Contains(key)) edges[key] = new RelationEdgesInt32(e.SrcLocal, e.DstLocal, e.Weights);
                }
                blocks[l] = ModelBlock.CreateFromInt32(numSrc, numDst, edges, ids);
            }
            return blocks;
        }
        catch
        {
            foreach (var b in blocks) b?.Dispose();
            throw;
        }
    }

    /// <summary>Input feature rows of one node type in a buffer rented from the shared pool (longer than needed).</summary>
    private readonly record struct FeatureRows(float[] Values, int Length);

    /// <summary>A sampled batch and its feature rows; disposing it returns the rows' buffers to the pool.</summary>
    private sealed class SampledBatch(MiniBatch miniBatch, Dictionary<string, FeatureRows> features) : IDisposable
    {
        public MiniBatch MiniBatch => miniBatch;
        public Dictionary<string, FeatureRows> Features => features;

        public void Dispose()
        {
            foreach (var rows in features.Values) ArrayPool<float>.Shared.Return(rows.Values);
            features.Clear();
        }
    }

    private async Task<SampledBatch> SampleAsync(ServableModel model, Dictionary<NodeType, int[]> seeds, bool? fullRequested, IGraphStore store, CancellationToken ct)
    {
        var full = fullRequested ?? (_options.FullNeighborhoodByDefault || model.Info.Fanouts is null);
        var (options, pool) = Plan(model, full);
        // A pooled sampler reads the store version it was made for; one of an earlier version is let go.
        BlockSampler? sampler;
        while (pool.TryTake(out sampler) && !ReferenceEquals(sampler.Store, store)) { }
        sampler ??= new BlockSampler(store, options);
        MiniBatch batch;
        try
        {
            batch = await sampler.SampleAsync(seeds, RngSeed(seeds), cancellationToken: ct).ConfigureAwait(false);
        }
        finally
        {
            pool.Add(sampler);
        }
        var sampled = new SampledBatch(batch, new Dictionary<string, FeatureRows>());
        try
        {
            await GatherFeaturesAsync(batch, model, sampled.Features, store, ct).ConfigureAwait(false);
        }
        catch
        {
            sampled.Dispose(); // returns the rows rented so far
            throw;
        }
        return sampled;
    }

    /// <summary>A model's sampler options (fanouts, or all neighbours) and the pool of samplers that use them.</summary>
    private sealed record SamplingPlan(BlockSamplerOptions Options, ConcurrentBag<BlockSampler> Samplers);

    /// <summary>
    /// The sampling plan of <paramref name="model"/> (made once per model and neighbourhood kind, not per request: the
    /// options' sets and the pool's key are built from the schema and the model's relations). Samplers are pooled by
    /// the options' key, so two versions of a model with the same fanouts share them.
    /// </summary>
    private SamplingPlan Plan(ServableModel model, bool full)
    {
        var plans = _plans.GetValue(model, _ => new SamplingPlan?[2]);
        var i = full ? 1 : 0;
        if (Volatile.Read(ref plans[i]) is { } known) return known;
        var options = SamplerOptions(model, full);
        var made = new SamplingPlan(options, _samplers.GetOrAdd(Key(options), _ => []));
        return Interlocked.CompareExchange(ref plans[i], made, null) ?? made;
    }

    private BlockSamplerOptions SamplerOptions(ServableModel model, bool full)
    {
        var layers = model.Config.NumLayers;
        var fanouts = full || model.Info.Fanouts is null ? Enumerable.Repeat(-1, layers).ToArray() : model.Info.Fanouts.ToArray();
        var relations = model.Config.Relations.ToHashSet();
        // Edge types the model does not convolve over are skipped (fanout 0) rather than sampled and dropped.
        var perType = new Dictionary<CanonicalEdgeType, IReadOnlyList<int>>();
        foreach (var e in _store.Schema.EdgeTypes)
        {
            if (!relations.Contains(new RelationKey(e.Type.Src.Name, e.Type.Relation, e.Type.Dst.Name)))
                perType[e.Type] = new int[layers];
        }
        return new BlockSamplerOptions(fanouts)
        {
            EdgeTypeFanouts = perType, GatherFeatures = false, GatherLabels = false, ReverseEdges = model.Info.ReverseEdges,
        };
    }

    private static string Key(BlockSamplerOptions o) =>
        string.Join(',', o.Fanouts) + "|" + o.ReverseEdges + "|" + string.Join(';', o.EdgeTypeFanouts!.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal));

    private ulong RngSeed(Dictionary<NodeType, int[]> seeds)
    {
        var h = _options.SamplingSeed;
        foreach (var (t, ids) in seeds.OrderBy(kv => kv.Key.Name, StringComparer.Ordinal))
        {
            h = BlockSampler.StreamSeed(h, (ulong)t.Name.GetHashCode(StringComparison.Ordinal) & 0xFFFFFFFF, (ulong)ids.Length);
            foreach (var id in ids) h = BlockSampler.StreamSeed(h, (ulong)id, 1);
        }
        return h;
    }

    /// <summary>
    /// Input features per node type into <paramref name="result"/> (pooled buffers): the cache first, the graph store for
    /// every row it misses. Scratch arrays come from the shared pools too, so a prediction's feature path allocates
    /// nothing that outlives it.
    /// </summary>
    private async Task GatherFeaturesAsync(MiniBatch batch, ServableModel model, Dictionary<string, FeatureRows> result, IGraphStore store, CancellationToken ct)
    {
        for (var t = 0; t < batch.NodeTypes.Count; t++)
        {
            var type = batch.NodeTypes[t];
            var dim = model.FeatureWidth(type.Name);
            if (dim == 0) continue; // a featureless type, or one whose embedding replaces its features
            var ids = batch.InputNodes[t];
            var length = ids.Length * dim;
            var rows = ArrayPool<float>.Shared.Rent(length);
            result[type.Name] = new FeatureRows(rows, length);
            if (ids.Length == 0) continue;
            if (_features is null)
            {
                await store.GatherFeaturesAsync(type, ids, rows.AsMemory(0, length), ct).ConfigureAwait(false);
                Metrics.RecordStoreGather(ids.Length);
                continue;
            }
            var business = ArrayPool<long>.Shared.Rent(ids.Length);
            var found = ArrayPool<bool>.Shared.Rent(ids.Length);
            try
            {
                await store.GetBusinessIdsAsync(type, ids, business.AsMemory(0, ids.Length), ct).ConfigureAwait(false);
                Array.Clear(found, 0, ids.Length);
                var hits = await _features.GetAsync(type, dim, business.AsMemory(0, ids.Length), rows.AsMemory(0, length), found.AsMemory(0, ids.Length), ct).ConfigureAwait(false);
                Metrics.RecordCache(type.Name, hits, ids.Length - hits);
                if (hits == ids.Length) continue;
                var missing = new int[ids.Length - hits];
                var positions = new int[missing.Length];
                for (int i = 0, m = 0; i < ids.Length; i++)
                {
                    if (found[i]) continue;
                    missing[m] = ids[i];
                    positions[m++] = i;
                }
                var fetched = new float[missing.Length * dim];
                await store.GatherFeaturesAsync(type, missing, fetched, ct).ConfigureAwait(false);
                Metrics.RecordStoreGather(missing.Length);
                for (var m = 0; m < missing.Length; m++)
                    fetched.AsSpan(m * dim, dim).CopyTo(rows.AsSpan(positions[m] * dim, dim));
            }
            finally
            {
                ArrayPool<long>.Shared.Return(business);
                ArrayPool<bool>.Shared.Return(found);
            }
        }
    }

    private static NodeType ResolveType(string name, ServableModel model, IGraphStore store)
    {
        if (string.IsNullOrEmpty(name)) throw ServingException.BadRequest("The node type is missing.");
        var node = store.Schema.NodeTypes.FirstOrDefault(n => n.Type.Name == name)
            ?? throw ServingException.BadRequest($"Unknown node type '{name}'; the graph has {string.Join(", ", store.Schema.NodeTypes.Select(n => n.Type.Name))}.");
        if (!model.Config.InDims.ContainsKey(name))
            throw ServingException.BadRequest($"The model does not know node type '{name}'.");
        return node.Type;
    }

    private void CheckCount(int count, string what)
    {
        if (count == 0) throw ServingException.BadRequest($"No {what} given.");
        if (count > _options.MaxIdsPerRequest)
            throw ServingException.TooLarge($"{count} {what} in one request; the limit is {_options.MaxIdsPerRequest}.");
    }

    private static async Task<int[]> LookupAsync(NodeType type, long[] businessIds, IGraphStore store, CancellationToken ct)
    {
        var ids = new int[businessIds.Length];
        await store.LookupIdsAsync(type, businessIds, ids, ct).ConfigureAwait(false);
        List<long>? unknown = null;
        for (var i = 0; i < ids.Length; i++) if (ids[i] < 0) (unknown ??= []).Add(businessIds[i]);
        if (unknown is not null)
        {
            var shown = string.Join(", ", unknown.Distinct().Take(10));
            throw ServingException.NodeNotFound(
                $"Unknown {type.Name} id{(unknown.Count > 1 ? "s" : "")}: {shown}{(unknown.Count > 10 ? $" (and {unknown.Count - 10} more)" : "")}.");
        }
        return ids;
    }

    private static (int[] Unique, int[] RowOf) Distinct(int[] ids)
    {
        var map = new Dictionary<int, int>(ids.Length);
        var unique = new List<int>(ids.Length);
        var rowOf = new int[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            if (!map.TryGetValue(ids[i], out var row)) { row = unique.Count; map[ids[i]] = row; unique.Add(ids[i]); }
            rowOf[i] = row;
        }
        return (unique.ToArray(), rowOf);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    public async Task<HealthReport> CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var models = Models.Count;
        string? storeError = null;
        try
        {
            var first = _store.Schema.NodeTypes[0].Type;
            await _store.LookupIdsAsync(first, new long[] { 0 }, new int[1], cancellationToken).AsTask()
                .WaitAsync(_options.StoreProbeTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            storeError = e is TimeoutException ? $"the graph store did not answer within {_options.StoreProbeTimeout.TotalSeconds:0.#} s" : $"the graph store failed: {e.Message}";
        }
        var cache = _features is null ? "disabled" : _features.IsHealthy ? "up" : "down";
        var reason = models == 0 ? "no model is loaded" : storeError;
        return new HealthReport(reason is null, reason, models, storeError is null, cache, _features?.LastError);
    }

    public void Dispose()
    {
        Models.Clear();
        _workers.Dispose();
    }
}

/// <summary>One admitted request (<see cref="InferenceEngine.Admit"/>); disposing it frees the slot.</summary>
public readonly struct InFlightSlot(InferenceEngine engine) : IDisposable
{
    public void Dispose() => engine?.Release();
}
