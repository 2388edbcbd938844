// Graph classification on generated small graphs: cycles vs trees, batched as one block-diagonal full-graph block.
using System.Diagnostics;
using GraphActors.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using ModelBlock = GraphActors.Models.Block;

namespace GraphActors.Training;

/// <summary>One small undirected graph: edges listed once per direction, node features row-major.</summary>
public sealed record SmallGraph(int Nodes, int[] Src, int[] Dst, float[] Features, int Label);

/// <summary>
/// Two balanced classes of the same size range (8–16 nodes) whose label is a structural property: 0 = a cycle, 1 = a
/// random tree (built by attaching each new node to a uniform earlier node of degree below 3, so degrees stay in 1–3
/// like the cycle's 2). Node features are [1, degree / 3]: only structure separates the classes, and a node's own
/// row alone cannot (most tree nodes have degree 2 too), so the model has to aggregate. Chance level: 0.5.
/// </summary>
public static class StructureGraphs
{
    public const int FeatureDim = 2;
    public const int Classes = 2;

    public static IReadOnlyList<SmallGraph> Generate(int count, int seed)
    {
        var rng = new Random(seed);
        var graphs = new List<SmallGraph>(count);
        for (var g = 0; g < count; g++)
        {
            var n = rng.Next(8, 17);
            var label = g % 2;
            var edges = new List<(int, int)>();
            if (label == 0)
                for (var i = 0; i < n; i++) edges.Add((i, (i + 1) % n));
            else
            {
                var degree = new int[n];
                for (var i = 1; i < n; i++)
                {
                    int p;
                    do p = rng.Next(i); while (degree[p] >= 3);
                    degree[p]++; degree[i]++;
                    edges.Add((p, i));
                }
            }
            var src = edges.SelectMany(e => new[] { e.Item1, e.Item2 }).ToArray();
            var dst = edges.SelectMany(e => new[] { e.Item2, e.Item1 }).ToArray();
            var deg = new int[n];
            foreach (var s in src) deg[s]++;
            var features = new float[n * FeatureDim];
            for (var i = 0; i < n; i++) { features[i * 2] = 1; features[i * 2 + 1] = deg[i] / 3f; }
            graphs.Add(new SmallGraph(n, src, dst, features, label));
        }
        return graphs.OrderBy(_ => rng.Next()).ToList();
    }
}

/// <summary>Trains a HeteroGnn (homogeneous "_N"/"_E") plus a readout classifier on batches of small graphs.</summary>
public sealed class GraphClassificationTrainer : IDisposable
{
    private const string N = "_N";
    private readonly HeteroGnn _gnn;
    private readonly GraphClassifier _head;
    private readonly Adam _optimizer;

    public GraphClassificationTrainer(TrainingConfig config)
    {
        config.Validate();
        Config = config;
        if (config.Threads > 0) torch.set_num_threads(config.Threads);
        var model = ModelConfig.Homogeneous(config.ModelKind, StructureGraphs.FeatureDim, config.HiddenChannels) with
        {
            HiddenChannels = config.HiddenChannels, NumLayers = Math.Max(1, config.NumLayers), Dropout = config.Dropout,
            Aggregator = config.AggregatorKind, Activation = config.ActivationKind, Heads = config.Heads,
        };
        (_gnn, _head) = AutogradGate.Seeded(config.Seed, () =>
            (ModelFactory.Create(model), new GraphClassifier(config.HiddenChannels, StructureGraphs.Classes, config.ReadoutKind)));
        _optimizer = optim.Adam(_gnn.parameters().Concat(_head.parameters()), lr: config.LearningRate, weight_decay: config.WeightDecay);
    }

    public TrainingConfig Config { get; }

    /// <summary>Trains config.Epochs epochs on <paramref name="train"/>; returns the accuracy on <paramref name="test"/> at the best validation epoch.</summary>
    public (double BestVal, double Test) Run(IReadOnlyList<SmallGraph> train, IReadOnlyList<SmallGraph> val, IReadOnlyList<SmallGraph> test, Action<EpochReport>? onEpoch = null)
    {
        double bestVal = -1, testAtBest = 0;
        for (var epoch = 0; epoch < Config.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var rng = new Random(Config.Seed * 7919 + epoch);
            var order = train.OrderBy(_ => rng.Next()).ToList();
            double loss = 0, correct = 0;
            var batches = 0;
            for (var b = 0; b < order.Count; b += Config.BatchSize)
            {
                var batch = order.Skip(b).Take(Config.BatchSize).ToList();
                lock (AutogradGate.Lock) // the graph is built and freed under the gate (see AutogradGate)
                {
                    using var scope = NewDisposeScope();
                    _gnn.train(); _head.train();
                    _optimizer.zero_grad();
                    var (logits, labels) = Forward(batch);
                    var l = TaskLosses.NodeClassification(logits, labels);
                    l.backward();
                    _optimizer.step();
                    loss += l.item<float>() * batch.Count;
                    correct += Metrics.Accuracy(NodeClassifier.Predict(logits), batch.Select(g => g.Label).ToArray()) * batch.Count;
                }
                batches++;
            }
            var v = Accuracy(val);
            if (v > bestVal) { bestVal = v; testAtBest = Accuracy(test); }
            var s = clock.Elapsed.TotalSeconds;
            onEpoch?.Invoke(new EpochReport(epoch, loss / train.Count, correct / train.Count, v, s, batches / s, batches, "accuracy"));
        }
        return (bestVal, testAtBest);
    }

    public double Accuracy(IReadOnlyList<SmallGraph> graphs)
    {
        using var scope = NewDisposeScope();
        using var grad = no_grad();
        _gnn.eval(); _head.eval();
        var (logits, _) = Forward(graphs);
        return Metrics.Accuracy(NodeClassifier.Predict(logits), graphs.Select(g => g.Label).ToArray());
    }

    // A batch of graphs is one graph: node ids offset per graph, so the block is block-diagonal and one full-graph
    // block serves every layer; graphIndex maps each node to its graph for the readout.
    private (Tensor Logits, Tensor Labels) Forward(IReadOnlyList<SmallGraph> graphs)
    {
        var total = graphs.Sum(g => g.Nodes);
        var edges = graphs.Sum(g => g.Src.Length);
        var src = new int[edges];
        var dst = new int[edges];
        var features = new float[total * StructureGraphs.FeatureDim];
        var graphIndex = new long[total];
        int offset = 0, e = 0;
        for (var i = 0; i < graphs.Count; i++)
        {
            var g = graphs[i];
            for (var j = 0; j < g.Src.Length; j++, e++) { src[e] = g.Src[j] + offset; dst[e] = g.Dst[j] + offset; }
            g.Features.CopyTo(features, offset * StructureGraphs.FeatureDim);
            graphIndex.AsSpan(offset, g.Nodes).Fill(i);
            offset += g.Nodes;
        }
        var counts = new Dictionary<string, long> { [N] = total };
        using var block = ModelBlock.CreateFromInt32(counts, counts, new Dictionary<RelationKey, RelationEdgesInt32> { [new RelationKey(N, "_E", N)] = new(src, dst) });
        var blocks = Enumerable.Repeat(block, _gnn.Config.NumLayers).ToList();
        var h = _gnn.forward(blocks, new Dictionary<string, Tensor> { [N] = tensor(features, [total, StructureGraphs.FeatureDim]) })[N];
        var logits = _head.forward(h, tensor(graphIndex), graphs.Count);
        return (logits, tensor(graphs.Select(g => (long)g.Label).ToArray()));
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _gnn.Dispose();
        _head.Dispose();
    }
}
