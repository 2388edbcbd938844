// Local-mode training over an IGraphStore: the step, evaluation, epochs with early stopping, checkpoints, curves.
using System.Diagnostics;
using GraphActors.Contracts;
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Training.Embeddings;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Training;

/// <summary>
/// Trains one node-classification or link-prediction job on a graph store in this process. The pieces the cluster's
/// trainer actor needs are public: <see cref="Step(MiniBatch)"/>/<see cref="Step(LinkBatch)"/> (one batch),
/// <see cref="RunStepsAsync"/> (K steps, continuing across epochs), <see cref="GetParameters"/>/<see cref="SetParameters"/>
/// (the flat vector for averaging) and <see cref="EvaluateAsync"/>. Not thread-safe: one thread drives it (torch's grad
/// mode and dispose scopes are per thread); sampling runs ahead on the prefetcher's background task.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly IGraphStore _store;
    private readonly TaskModel _model;
    private readonly PinnedAdam _optimizer;
    private readonly BlockSampler _trainSampler;
    private readonly BlockSampler _evalSampler;
    private readonly FeatureNormalization _norm;
    private readonly NodeType _targetNode;
    private readonly CanonicalEdgeType _targetEdge;
    private readonly NodeBatchLoader? _nodeLoader;
    private readonly LinkBatchLoader? _linkLoader;
    private readonly EdgeSplit? _edgeSplit;
    private IAsyncEnumerator<object>? _steps;
    private Dictionary<SplitKind, int[]> _nodeSplits = [];
    private EmbeddingTables? _embeddings;
    private int _stepEpoch;
    private int _stepBatch;

    private Trainer(IGraphStore store, TrainingConfig config, TaskModel model, BlockSampler train, BlockSampler eval,
        NodeType targetNode, CanonicalEdgeType targetEdge, NodeBatchLoader? nodeLoader, LinkBatchLoader? linkLoader, EdgeSplit? split)
    {
        _store = store;
        Config = config;
        _model = model;
        _trainSampler = train;
        _evalSampler = eval;
        _norm = config.FeatureNormKind;
        _targetNode = targetNode;
        _targetEdge = targetEdge;
        _nodeLoader = nodeLoader;
        _linkLoader = linkLoader;
        _edgeSplit = split;
        _optimizer = new PinnedAdam(model.parameters(), lr: config.LearningRate, weightDecay: config.WeightDecay);
    }

    public TrainingConfig Config { get; }
    public TaskModel Model => _model;
    public PinnedAdam Optimizer => _optimizer;
    public IGraphStore Store => _store;
    /// <summary>Epochs finished so far (the next epoch's number); restored by <see cref="ResumeAsync"/>.</summary>
    public int CompletedEpochs { get; private set; }
    public StepTimings Timings { get; } = new();
    public string MetricName => Config.TaskKind == TrainingTask.LinkPrediction ? "auc" : "accuracy";
    public EdgeSplit? EdgeSplit => _edgeSplit;
    /// <summary>The job's learnable node embeddings (training.embeddings), or null.</summary>
    public SparseEmbeddings? Embeddings => _embeddings as SparseEmbeddings;
    /// <summary>The job's embedding tables wherever they live (this process, or the partitions owning the rows), or null.</summary>
    public EmbeddingTables? EmbeddingTables => _embeddings;

    /// <summary>
    /// The partition stores this trainer's store descends from, itself last (partitions.json's updatedFrom, then its
    /// root); empty when unknown. Checkpoints record it, so that a later warm start can tell whether ids still name the
    /// same nodes (they do across <c>partition --update</c>, not across a new partitioning).
    /// </summary>
    public IReadOnlyList<string> StoreLineage { get; set; } = [];
    public int BatchesPerEpoch => _nodeLoader?.BatchCount ?? _linkLoader!.BatchCount;
    /// <summary>Best validation metric and its epoch so far (early stopping state; checkpoints carry it).</summary>
    public double BestValMetric { get; private set; } = double.NegativeInfinity;
    public int BestEpoch { get; private set; } = -1;

    /// <summary>
    /// Builds the samplers, loaders and model; the model's initial parameters are drawn right after seeding torch with
    /// <see cref="TrainingConfig.Seed"/>. The job's embedding tables are <paramref name="embeddings"/> when given (the
    /// cluster's, owned by the partitions), else held here (<see cref="SparseEmbeddings"/>).
    /// </summary>
    public static async Task<Trainer> CreateAsync(IGraphStore store, TrainingConfig config, CancellationToken cancellationToken = default,
        EmbeddingTables? embeddings = null)
    {
        config.Validate();
        if (config.TaskKind == TrainingTask.GraphClassification)
            throw new TrainingConfigException("task", "graph_classification trains on generated graph batches: use GraphClassification, not a graph store");
        NativeHeap.Configure();
        if (config.Threads > 0) torch.set_num_threads(config.Threads);
        var schema = store.Schema;
        var seed = (ulong)config.Seed;
        var layers = Math.Max(config.NumLayers, 1);
        var trainFanouts = config.NumLayers == 0 ? [0] : config.Fanouts;
        var evalFanouts = config.NumLayers == 0 ? [0] : config.EvalFanouts ?? Enumerable.Repeat(-1, layers).ToArray();
        var train = new BlockSampler(store, new BlockSamplerOptions(trainFanouts) { ReverseEdges = config.ReverseEdgesKind, FeaturePool = FeaturePool });
        var eval = new BlockSampler(store, new BlockSamplerOptions(evalFanouts) { ReverseEdges = config.ReverseEdgesKind, FeaturePool = FeaturePool });

        if (config.TaskKind == TrainingTask.NodeClassification)
        {
            var target = config.TargetNodeType(schema);
            var classes = schema.Node(target).LabelCount;
            var model = AutogradGate.Seeded(config.Seed, () => new TaskModel(config, schema, train.Relations, classes, target.Name));
            var splits = await NodeSplits(store, config, target, cancellationToken).ConfigureAwait(false);
            var loader = new NodeBatchLoader(train, target, splits[SplitKind.Train], config.BatchSize, dropLast: false, seed);
            if (loader.Seeds.Length == 0) throw new TrainingConfigException("target", $"node type '{target}' has no training nodes in the store");
            return new Trainer(store, config, model, train, eval, target, default, loader, null, null) { _nodeSplits = splits, _embeddings = embeddings ?? EmbeddingsFor(store, config) };
        }
        else
        {
            var target = config.TargetEdgeType(schema);
            var split = await EdgeSplit.CreateAsync(store, target, config.ValFraction, config.TestFraction, seed, cancellationToken).ConfigureAwait(false);
            // Drawn after the awaited split, atomically with its seed: two trainers of one process created at once
            // (an in-process cluster) must start from the same parameters, as separate processes do.
            var model = AutogradGate.Seeded(config.Seed, () => new TaskModel(config, schema, train.Relations, config.HiddenChannels, target.Src.Name));
            var links = new LinkBatchSampler(train, new LinkBatchOptions(target, config.Negatives)
            {
                NegativeStrategy = config.NegativeStrategyKind,
                Exclude = config.ExclusionKind,
                AlwaysExcluded = split.HeldOut,
            });
            var loader = new LinkBatchLoader(links, split.Train, config.BatchSize, dropLast: false, seed);
            return new Trainer(store, config, model, train, eval, target.Src, target, null, loader, split) { _embeddings = embeddings ?? EmbeddingsFor(store, config) };
        }
    }

    // The embedding tables, one slab per partition of a partitioned store (rows stay with their nodes' partitions).
    private static SparseEmbeddings? EmbeddingsFor(IGraphStore store, TrainingConfig config) =>
        config.Embeddings.Count == 0 ? null : new SparseEmbeddings(config.Embeddings, store.Schema, (store as PartitionedGraphStore)?.Book, (ulong)config.Seed);

    /// <summary>
    /// The train/val/test node ids of <paramref name="target"/> as this trainer uses them: the store's masks, or a seeded
    /// random split of the labelled nodes (DESIGN's "random 60/20/20" Cora figures). The cluster's coordinator plans its
    /// epochs over the same train ids, in the same (ascending) order, so its global batches are local mode's batches.
    /// </summary>
    public static Task<Dictionary<SplitKind, int[]>> NodeSplitsAsync(IGraphStore store, TrainingConfig config, NodeType target,
        CancellationToken cancellationToken = default) => NodeSplits(store, config, target, cancellationToken);

    private static async Task<Dictionary<SplitKind, int[]>> NodeSplits(IGraphStore store, TrainingConfig config, NodeType target, CancellationToken cancellationToken)
    {
        var result = new Dictionary<SplitKind, int[]>();
        if (config.NodeSplit == "store")
        {
            foreach (var k in new[] { SplitKind.Train, SplitKind.Val, SplitKind.Test })
                result[k] = await store.GetSplitAsync(target, k, cancellationToken).ConfigureAwait(false);
            return result;
        }
        var count = store.Schema.Node(target).Count;
        var all = Enumerable.Range(0, count).ToArray();
        var labels = new int[count];
        await store.GatherLabelsAsync(target, all, labels, cancellationToken).ConfigureAwait(false);
        var labelled = all.Where(i => labels[i] >= 0).ToArray();
        var order = EpochPlan.Shuffle(labelled, (ulong)config.Seed ^ 0x5B117UL, -1);
        var f = config.SplitFractions;
        var nTrain = (int)Math.Round(f[0] * order.Length);
        var nVal = (int)Math.Round(f[1] * order.Length);
        var nTest = Math.Min(order.Length - nTrain - nVal, (int)Math.Round(f[2] * order.Length));
        result[SplitKind.Train] = order[..nTrain].Order().ToArray();
        result[SplitKind.Val] = order[nTrain..(nTrain + nVal)].Order().ToArray();
        result[SplitKind.Test] = order[(nTrain + nVal)..(nTrain + nVal + nTest)].Order().ToArray();
        return result;
    }

    // Feature arrays of the samplers: the step copies them into tensors and hands them back, so an epoch allocates none.
    private static System.Buffers.ArrayPool<float> FeaturePool => System.Buffers.ArrayPool<float>.Shared;

    // Only batches of this trainer's own samplers are pooled: a batch handed to Step from outside (the cluster's
    // sampler stream) owns plain arrays, which the pool would reject.
    private BatchTensors Tensors(MiniBatch batch, bool pooled) => Tensors(batch, pooled, out _);

    // The batch's tensors with each embedded type's rows merged into its input (leaves needing a gradient when training).
    private BatchTensors Tensors(MiniBatch batch, bool pooled, out List<EmbeddingRows> rows)
    {
        var t = TensorsWithoutEmbeddings(batch, pooled);
        rows = [];
        if (_embeddings is null) return t;
        var training = is_grad_enabled();
        var types = batch.NodeTypes;
        for (var i = 0; i < types.Count; i++)
        {
            var type = types[i].Name;
            if (!_embeddings.Has(type)) continue;
            var ids = batch.InputNodes[i];
            (t.Features[type], var leaf) = _embeddings.Join(type, ids, t.Features[type], requiresGrad: training);
            rows.Add(new EmbeddingRows(type, ids, leaf));
        }
        return t;
    }

    /// <summary>
    /// The model's outputs for a sampled batch, learnable embeddings merged into the inputs as in training (call under
    /// no_grad inside a dispose scope; the batch's features are left to the caller).
    /// </summary>
    public Dictionary<string, Tensor> Encode(MiniBatch batch)
    {
        using var t = Tensors(batch, pooled: false);
        return _model.Encode(t.Blocks, t.Features);
    }

    // An averaged step (gradients out, the average back) cannot update tables held here: only owned tables keep the
    // rows' gradients for their owners, who add every piece's before applying.
    private void RequireLocalStep(bool optimizerStep)
    {
        if (!optimizerStep && _embeddings is SparseEmbeddings)
            throw new InvalidOperationException("training.embeddings: an averaged step's row gradients go to the tables' owners; this trainer holds its tables itself (local mode steps with Step, not Backward).");
    }

    private sealed record EmbeddingRows(string Type, int[] Ids, Tensor Leaf);

    // The sparse optimizer step of the batch's embedding rows, from their leaves' gradients (after backward).
    private void ApplyEmbeddingGradients(List<EmbeddingRows> rows)
    {
        foreach (var r in rows)
        {
            if (r.Leaf.grad is not { } grad) continue; // the rows did not reach the loss
            using (grad)
            using (var g = grad.contiguous())
                _embeddings!.Apply(r.Type, r.Ids, NativeTensors.Float32Values(g));
        }
    }

    private BatchTensors TensorsWithoutEmbeddings(MiniBatch batch, bool pooled)
    {
        try { return BatchTensors.From(batch, _norm); }
        finally { if (pooled) batch.ReturnFeatures(FeaturePool); }
    }

    // ---- the step ----

    /// <summary>
    /// The seed torch's generator gets before the step on a batch sampled with <paramref name="batchSeed"/> (dropout):
    /// local mode and the cluster derive it alike, so a step's random draws depend on the batch, never on timing.
    /// </summary>
    public static long StepRngSeed(ulong batchSeed) => (long)(BlockSampler.StreamSeed(batchSeed, 0xD50F, 0x7E) >> 1);

    /// <summary>One node-classification step: forward, cross entropy on the seeds, backward, optimizer step.</summary>
    public StepResult Step(MiniBatch batch) => Seeded(null, () => Step(batch, pooled: false));

    /// <summary>
    /// Forward and backward on one node-classification batch without the optimizer step: the cluster's synchronous
    /// data-parallel mode averages <see cref="GetGradients"/> across trainers, then calls <see cref="ApplyGradients"/>.
    /// With <paramref name="rngSeed"/> torch's generator is seeded first (see <see cref="StepRngSeed"/>).
    /// </summary>
    public StepResult Backward(MiniBatch batch, long? rngSeed = null) => Seeded(rngSeed, () => Step(batch, pooled: false, optimizerStep: false));

    /// <summary>One optimizer step on a batch, torch's generator seeded with <paramref name="rngSeed"/> first.</summary>
    public StepResult Step(MiniBatch batch, long rngSeed) => Seeded(rngSeed, () => Step(batch, pooled: false));

    /// <summary>One link-prediction optimizer step, torch's generator seeded with <paramref name="rngSeed"/> first.</summary>
    public StepResult Step(LinkBatch batch, long rngSeed) => Seeded(rngSeed, () => Step(batch, pooled: false));

    // Steps of trainers sharing a process take turns: torch's generator is process-wide (a step's draws must follow
    // its own seed), and a graph through the custom autograd functions lives under AutogradGate.Lock (see there).
    private static StepResult Seeded(long? rngSeed, Func<StepResult> step)
    {
        lock (AutogradGate.Lock)
        {
            if (rngSeed is { } seed) torch.random.manual_seed(seed);
            return step();
        }
    }

    /// <summary>The gradients the last <see cref="Backward"/> left on the parameters, flat in <see cref="ModelState.FlatOrder"/>.</summary>
    public float[] GetGradients() => ModelState.GradientsToVector(_model);

    /// <summary>Replaces the parameters' gradients with <paramref name="vector"/> (an average) and takes the optimizer step.</summary>
    public void ApplyGradients(ReadOnlySpan<float> vector)
    {
        ModelState.GradientsFromVector(_model, vector);
        _optimizer.step();
    }

    private StepResult Step(MiniBatch batch, bool pooled, bool optimizerStep = true)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        _model.train();
        _optimizer.zero_grad();
        RequireLocalStep(optimizerStep);
        using var t = Tensors(batch, pooled, out var rows);
        var labels = BatchTensors.Labels(batch, _targetNode);
        Timings.Convert += Lap(clock);
        var logits = _model.Encode(t.Blocks, t.Features)[_targetNode.Name];
        var loss = TaskLosses.NodeClassification(logits, labels);
        Timings.Forward += Lap(clock);
        loss.backward();
        Timings.Backward += Lap(clock);
        if (optimizerStep) _optimizer.step();
        if (optimizerStep || _embeddings is OwnedEmbeddings) ApplyEmbeddingGradients(rows);
        Timings.Optimizer += Lap(clock);
        Timings.Steps++;
        var predicted = NodeClassifier.Predict(logits);
        return new StepResult(loss.item<float>(), Metrics.Accuracy(predicted, batch.LabelsOf(_targetNode)), predicted.Length);
    }

    /// <summary>One link-prediction step: embeddings of the pair nodes, scores, binary cross entropy, backward, step.</summary>
    public StepResult Step(LinkBatch batch) => Seeded(null, () => Step(batch, pooled: false));

    /// <summary>Forward and backward of a link-prediction batch without the optimizer step (gradients for averaging, K = 1).</summary>
    public StepResult Backward(LinkBatch batch, long? rngSeed = null) => Seeded(rngSeed, () => Step(batch, pooled: false, optimizerStep: false));

    private StepResult Step(LinkBatch batch, bool pooled, bool optimizerStep = true)
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        _model.train();
        _optimizer.zero_grad();
        RequireLocalStep(optimizerStep);
        using var t = Tensors(batch.Graph, pooled, out var rows);
        Timings.Convert += Lap(clock);
        var (pos, neg) = Scores(t, batch);
        var loss = TaskLosses.LinkPrediction(pos, neg);
        Timings.Forward += Lap(clock);
        loss.backward();
        Timings.Backward += Lap(clock);
        if (optimizerStep) _optimizer.step();
        if (optimizerStep || _embeddings is OwnedEmbeddings) ApplyEmbeddingGradients(rows);
        Timings.Optimizer += Lap(clock);
        Timings.Steps++;
        var (p, n) = (ToDoubles(pos), ToDoubles(neg));
        return new StepResult(loss.item<float>(), Auc(p, n), p.Length);
    }

    private (Tensor Pos, Tensor Neg) Scores(BatchTensors t, LinkBatch batch)
    {
        var h = _model.Encode(t.Blocks, t.Features);
        var hs = h[_targetEdge.Src.Name];
        var hd = h[_targetEdge.Dst.Name];
        var pos = _model.Score(hs.index_select(0, Index(batch.PosSrc)), hd.index_select(0, Index(batch.PosDst)));
        var neg = _model.Score(hs.index_select(0, Index(batch.NegSrc)), hd.index_select(0, Index(batch.NegDst)));
        return (pos, neg);
    }

    private static Tensor Index(int[] local)
    {
        using var narrow = tensor(local);
        return narrow.to_type(ScalarType.Int64);
    }

    private static double[] ToDoubles(Tensor scores)
    {
        using var d = scores.detach().to_type(ScalarType.Float64).contiguous();
        return d.data<double>().ToArray();
    }

    private static double Auc(double[] pos, double[] neg)
    {
        if (pos.Length == 0 || neg.Length == 0) return double.NaN;
        var scores = pos.Concat(neg).ToArray();
        var labels = pos.Select(_ => true).Concat(neg.Select(_ => false)).ToArray();
        return Metrics.RocAuc(scores, labels);
    }

    private static double Lap(Stopwatch clock)
    {
        var s = clock.Elapsed.TotalSeconds;
        clock.Restart();
        return s;
    }

    // ---- epochs and K steps ----

    private IAsyncEnumerable<object> Batches(int epoch, CancellationToken cancellationToken) =>
        _nodeLoader is not null
            ? _nodeLoader.EpochAsync(epoch, cancellationToken).Prefetched(Config.Prefetch, cancellationToken).Select(b => (object)b)
            : _linkLoader!.EpochAsync(epoch, cancellationToken).Prefetched(Config.Prefetch, cancellationToken).Select(b => (object)b);

    // Batch b of an epoch: sampled with EpochPlan.BatchSeed(seed, epoch, b), its dropout seeded from that (as the cluster does).
    private StepResult StepAny(object batch, int epoch, int b) => Seeded(StepRngSeed(EpochPlan.BatchSeed((ulong)Config.Seed, epoch, b)),
        () => batch is MiniBatch m ? Step(m, pooled: true) : Step((LinkBatch)batch, pooled: true));

    /// <summary>Trains one epoch (number <see cref="CompletedEpochs"/>) over the prefetching loader.</summary>
    public async Task<EpochReport> TrainEpochAsync(CancellationToken cancellationToken = default)
    {
        var epoch = CompletedEpochs;
        var clock = Stopwatch.StartNew();
        double loss = 0, metric = 0;
        long examples = 0;
        var batches = 0;
        await foreach (var batch in Batches(epoch, cancellationToken).ConfigureAwait(false))
        {
            var r = StepAny(batch, epoch, batches);
            loss += r.Loss * r.Examples;
            if (!double.IsNaN(r.Metric)) metric += r.Metric * r.Examples;
            examples += r.Examples;
            batches++;
        }
        CompletedEpochs++;
        var seconds = clock.Elapsed.TotalSeconds;
        NativeHeap.Trim(); // outside the epoch's time

        return new EpochReport(epoch, loss / Math.Max(examples, 1), metric / Math.Max(examples, 1), null, seconds, batches / Math.Max(seconds, 1e-9), batches, MetricName);
    }

    /// <summary>
    /// Runs <paramref name="steps"/> steps, continuing where the last call stopped and rolling into the next epoch
    /// when one ends (the cluster's round: K local steps, then parameter averaging). Returns the mean loss.
    /// </summary>
    public async Task<StepResult> RunStepsAsync(int steps, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        double loss = 0, metric = 0;
        var examples = 0;
        for (var i = 0; i < steps; i++)
        {
            _steps ??= Batches(_stepEpoch, cancellationToken).GetAsyncEnumerator(cancellationToken);
            if (!await _steps.MoveNextAsync().ConfigureAwait(false))
            {
                await _steps.DisposeAsync().ConfigureAwait(false);
                _steps = null;
                _stepEpoch++;
                _stepBatch = 0;
                i--;
                continue;
            }
            var r = StepAny(_steps.Current, _stepEpoch, _stepBatch++);
            loss += r.Loss * r.Examples;
            metric += double.IsNaN(r.Metric) ? 0 : r.Metric * r.Examples;
            examples += r.Examples;
        }
        return new StepResult(loss / Math.Max(examples, 1), metric / Math.Max(examples, 1), examples);
    }

    /// <summary>The flat parameter vector (parameters, and float buffers when asked), in <see cref="ModelState.FlatOrder"/>.</summary>
    public float[] GetParameters(bool includeBuffers = false) => ModelState.ToVector(_model, includeBuffers);

    /// <summary>Overwrites the parameters from a vector made by <see cref="GetParameters"/> (e.g. the cluster's average).</summary>
    public void SetParameters(ReadOnlySpan<float> vector, bool includeBuffers = false) => ModelState.FromVector(_model, vector, includeBuffers);

    // ---- evaluation ----

    /// <summary>Scores a split under no_grad with the evaluation fanouts (every neighbour unless eval_fanouts is set).</summary>
    public async Task<EvaluationResult> EvaluateAsync(SplitKind split, CancellationToken cancellationToken = default)
    {
        _model.eval();
        try
        {
            return _nodeLoader is not null
                ? await EvaluateNodesAsync(split, cancellationToken).ConfigureAwait(false)
                : await EvaluateLinksAsync(split, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _model.train();
        }
    }

    private async Task<EvaluationResult> EvaluateNodesAsync(SplitKind split, CancellationToken cancellationToken)
    {
        var ids = _nodeSplits[split];
        await Task.CompletedTask.ConfigureAwait(false);
        var loader = new NodeBatchLoader(_evalSampler, _targetNode, ids, Math.Max(Config.BatchSize, 1024), dropLast: false, (ulong)Config.Seed ^ 0xE7A1UL);
        var predicted = new List<int>(ids.Length);
        var labels = new List<int>(ids.Length);
        await foreach (var batch in loader.EpochAsync(0, cancellationToken).Prefetched(Config.Prefetch, cancellationToken).ConfigureAwait(false))
        {
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            using var t = Tensors(batch, pooled: true);
            var logits = _model.Encode(t.Blocks, t.Features)[_targetNode.Name];
            predicted.AddRange(NodeClassifier.Predict(logits));
            labels.AddRange(batch.LabelsOf(_targetNode)!);
        }
        if (predicted.Count == 0) throw new InvalidOperationException($"The {split} split of '{_targetNode}' is empty.");
        var p = predicted.ToArray();
        var l = labels.ToArray();
        return new EvaluationResult(split, new Dictionary<string, double>
        {
            ["accuracy"] = Metrics.Accuracy(p, l),
            ["macro_f1"] = Metrics.MacroF1(p, l),
        }, "accuracy");
    }

    private async Task<EvaluationResult> EvaluateLinksAsync(SplitKind split, CancellationToken cancellationToken)
    {
        var edges = split switch
        {
            SplitKind.Val => _edgeSplit!.Val,
            SplitKind.Test => _edgeSplit!.Test,
            _ => _edgeSplit!.Train,
        };
        var k = Config.EvalNegatives;
        var links = new LinkBatchSampler(_evalSampler, new LinkBatchOptions(_targetEdge, k)
        {
            NegativeStrategy = NegativeStrategy.Random,
            Exclude = LinkExclusion.None, // held-out edges are excluded for good through AlwaysExcluded
            AlwaysExcluded = _edgeSplit!.HeldOut,
        });
        var loader = new LinkBatchLoader(links, edges, Math.Max(Config.BatchSize, 1024), dropLast: false, (ulong)Config.Seed ^ 0xE7A1UL);
        var pos = new List<double>();
        var firstNeg = new List<double>();
        var negs = new List<double[]>();
        await foreach (var batch in loader.EpochAsync(0, cancellationToken).Prefetched(Config.Prefetch, cancellationToken).ConfigureAwait(false))
        {
            using var scope = NewDisposeScope();
            using var grad = no_grad();
            using var t = Tensors(batch.Graph, pooled: true);
            var (p, n) = Scores(t, batch);
            var pd = ToDoubles(p);
            var nd = ToDoubles(n);
            pos.AddRange(pd);
            for (var i = 0; i < pd.Length; i++)
            {
                var row = nd.AsSpan(i * k, k).ToArray();
                negs.Add(row);
                firstNeg.Add(row[0]);
            }
        }
        if (pos.Count == 0) throw new InvalidOperationException($"The {split} split of {_targetEdge} has no edges.");
        var ps = pos.ToArray();
        return new EvaluationResult(split, new Dictionary<string, double>
        {
            ["auc"] = Auc(ps, firstNeg.ToArray()),
            ["mrr"] = Metrics.MeanReciprocalRank(ps, negs),
            ["hits@10"] = Metrics.HitsAtK(ps, negs, 10),
        }, "auc");
    }

    // ---- the run ----

    /// <summary>
    /// Trains to <see cref="TrainingConfig.Epochs"/> (from <see cref="CompletedEpochs"/>, so a resumed trainer
    /// continues), evaluating every eval_every epochs and stopping after patience epochs without a better validation
    /// metric; restores the best parameters and scores the test split. With a checkpoint_dir, writes best/ and last/
    /// checkpoints, metrics.csv and curve.svg / curve.png there.
    /// </summary>
    public async Task<TrainingResult> RunAsync(Action<EpochReport>? onEpoch = null, CancellationToken cancellationToken = default)
    {
        var history = new List<EpochReport>();
        var dir = Config.CheckpointDir;
        var log = dir is null ? null : new MetricsLog(dir, MetricName, append: CompletedEpochs > 0);
        if (log is not null) history.AddRange(log.Existing);
        float[]? best = null; // the best parameters of this call; an earlier best (before a resume) is in best/
        // And the embedding rows at that epoch: kept in memory only without a checkpoint_dir; with one, best/ holds them,
        // and a second copy of tables the size of the graph's node count would double the trainer's memory.
        Dictionary<string, float[][]>? bestEmbeddings = null;
        EvaluationResult? bestVal = null;
        var stopped = false;
        while (CompletedEpochs < Config.Epochs)
        {
            var report = await TrainEpochAsync(cancellationToken).ConfigureAwait(false);
            var epoch = report.Epoch;
            if ((epoch + 1) % Config.EvalEvery == 0 || epoch + 1 == Config.Epochs)
            {
                var val = await EvaluateAsync(SplitKind.Val, cancellationToken).ConfigureAwait(false);
                report = report with { ValMetric = val.Value };
                if (val.Value > BestValMetric)
                {
                    BestValMetric = val.Value;
                    BestEpoch = epoch;
                    bestVal = val;
                    best = GetParameters(includeBuffers: true);
                    if (dir is null) bestEmbeddings = Embeddings?.SnapshotWeights();
                    if (dir is not null) Checkpoints.Save(this, Path.Combine(dir, "best"), val.Metrics);
                }
                else if (Config.StopsEarlyAfter(epoch, BestEpoch))
                {
                    stopped = true;
                }
                if (dir is not null) Checkpoints.Save(this, Path.Combine(dir, "last"), val.Metrics);
            }
            history.Add(report);
            log?.Append(report);
            onEpoch?.Invoke(report);
            if (stopped) break;
        }
        if (best is not null)
        {
            SetParameters(best, includeBuffers: true);
            if (bestEmbeddings is not null) Embeddings!.RestoreWeights(bestEmbeddings);
            else if (_embeddings is not null && dir is not null)
            {
                var (manifest, bestDir) = Checkpoints.Read(Path.Combine(dir, "best"));
                Checkpoints.LoadModel(this, manifest, bestDir); // the same parameters, and the best epoch's rows
            }
        }
        else if (BestEpoch >= 0 && dir is not null && File.Exists(Path.Combine(dir, "best", Checkpoints.ManifestName)))
        {
            var (manifest, bestDir) = Checkpoints.Read(Path.Combine(dir, "best"));
            Checkpoints.LoadModel(this, manifest, bestDir);
        }
        var test = await EvaluateAsync(SplitKind.Test, cancellationToken).ConfigureAwait(false);
        bestVal ??= BestEpoch >= 0 ? await EvaluateAsync(SplitKind.Val, cancellationToken).ConfigureAwait(false) : null;
        if (dir is not null)
        {
            var metrics = new Dictionary<string, double>();
            foreach (var (key, v) in bestVal?.Metrics ?? new Dictionary<string, double>()) metrics["val_" + key] = v;
            foreach (var (key, v) in test.Metrics) metrics["test_" + key] = v;
            Checkpoints.Save(this, Path.Combine(dir, "best"), metrics, epochOverride: BestEpoch);
            TrainingCurve.Write(dir, history, MetricName, BestEpoch);
        }
        return new TrainingResult(CompletedEpochs, BestEpoch, bestVal, test, history, stopped);
    }

    /// <summary>
    /// A trainer restored from a checkpoint directory (or its manifest.json, or a run directory holding last/ and
    /// best/): config from the manifest, model and optimizer state, epoch and early-stopping state.
    /// </summary>
    public static async Task<Trainer> ResumeAsync(IGraphStore store, string checkpoint, Func<TrainingConfig, TrainingConfig>? adjust = null,
        bool preferBest = false, CancellationToken cancellationToken = default)
    {
        var (manifest, directory) = Checkpoints.Read(checkpoint, preferBest);
        var config = adjust is null ? manifest.Config : adjust(manifest.Config);
        var trainer = await CreateAsync(store, config, cancellationToken).ConfigureAwait(false);
        Checkpoints.LoadInto(trainer, manifest, directory);
        trainer.CompletedEpochs = manifest.Epoch + 1;
        trainer._stepEpoch = trainer.CompletedEpochs;
        trainer.BestEpoch = manifest.BestEpoch;
        trainer.BestValMetric = manifest.BestValMetric ?? double.NegativeInfinity;
        return trainer;
    }

    /// <summary>
    /// A new job on <paramref name="store"/> starting from an earlier job's model (<c>train --init-from</c>): the
    /// checkpoint's parameters and the embedding rows of the ids both stores hold (<see cref="Checkpoints.WarmStart"/>);
    /// epochs, optimizer and best-model record start anew, under <paramref name="config"/>.
    /// </summary>
    public static async Task<(Trainer Trainer, IReadOnlyDictionary<string, int> EmbeddingRows)> WarmStartAsync(IGraphStore store, TrainingConfig config,
        string checkpoint, IReadOnlyList<string>? storeLineage = null, CancellationToken cancellationToken = default)
    {
        var (manifest, directory) = Checkpoints.Read(checkpoint, preferBest: true);
        var trainer = await CreateAsync(store, config, cancellationToken).ConfigureAwait(false);
        trainer.StoreLineage = storeLineage ?? [];
        try
        {
            return (trainer, Checkpoints.WarmStart(trainer, manifest, directory));
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_steps is not null)
        {
            _steps.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _steps = null;
        }
        _optimizer.Dispose();
        _model.Dispose();
        _embeddings?.Dispose();
    }
}
