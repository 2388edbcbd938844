// What a training job is: the source system's fields (model_type, hidden_channels, …) plus task, schedule and output.
using System.Text.Json.Serialization;
using GraphActors.Contracts;
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Training.Embeddings;

namespace GraphActors.Training;

public enum TrainingTask { NodeClassification, LinkPrediction, GraphClassification }

public enum ScorerKind { Dot, Mlp }

public enum FeatureNormalization { None, Row }

/// <summary>
/// A training job as a plain record. Property names map to the snake_case keys of the HOCON file
/// (<c>ModelType</c> ↔ <c>model_type</c>); <see cref="Validate"/> names the bad key. Defaults are the source system's
/// (hidden 256, 3 layers, batch 1024, lr 0.001, fanouts [15, 10, 5] in DGL order: the last entry applies to the seeds).
/// </summary>
public sealed record TrainingConfig
{
    public string ModelType { get; init; } = "sage";
    public int HiddenChannels { get; init; } = 256;
    public int NumLayers { get; init; } = 3;
    public int BatchSize { get; init; } = 1024;
    public double LearningRate { get; init; } = 0.001;
    /// <summary>DGL order: index 0 is the input layer, the last entry applies to the seeds; -1 takes all neighbours.</summary>
    public IReadOnlyList<int> Fanouts { get; init; } = [15, 10, 5];
    /// <summary>Fanouts for evaluation; null = every neighbour (full neighbourhood).</summary>
    public IReadOnlyList<int>? EvalFanouts { get; init; }
    public double WeightDecay { get; init; }
    public double Dropout { get; init; } = 0.5;
    /// <summary>Dropout on the first layer's input (the features); null = <see cref="Dropout"/>. DGL's mini-batch GraphSAGE example uses 0.</summary>
    public double? InputDropout { get; init; }
    /// <summary>GAT's attention dropout; null = <see cref="Dropout"/>.</summary>
    public double? AttentionDropout { get; init; }
    /// <summary>GAT: each destination of a same-type relation also attends to itself (DGL's add_self_loop).</summary>
    public bool SelfLoops { get; init; }
    /// <summary>GraphSAGE aggregator: mean, gcn, pool.</summary>
    public string Aggregator { get; init; } = "mean";
    /// <summary>GAT heads of the hidden layers.</summary>
    public int Heads { get; init; } = 4;
    /// <summary>Activation between layers: relu, leaky_relu, elu, gelu.</summary>
    public string Activation { get; init; } = "relu";

    public string Task { get; init; } = "node_classification";
    /// <summary>Node classification: a node type. Link prediction: an edge type, "src,relation,dst" or a relation name.</summary>
    public string? Target { get; init; }
    public int Epochs { get; init; } = 10;
    public int Seed { get; init; } = 42;
    /// <summary>Evaluate on the validation split every this many epochs (and after the last).</summary>
    public int EvalEvery { get; init; } = 1;
    /// <summary>Stop after this many epochs without a better validation metric; 0 = never stop early.</summary>
    public int Patience { get; init; }

    /// <summary>Whether epoch <paramref name="epoch"/> (0-based) is validated: every <see cref="EvalEvery"/>-th, and the last.</summary>
    public bool Evaluates(int epoch) => (epoch + 1) % Math.Max(1, EvalEvery) == 0 || epoch + 1 == Epochs;

    /// <summary>
    /// Whether the job stops after epoch <paramref name="epoch"/> by <see cref="Patience"/>: it was validated and
    /// <paramref name="bestEpoch"/> (the best validated epoch so far, this one included) lies that many epochs back.
    /// One rule for local mode and the cluster's coordinator (and its trainers, which release embedding tables then).
    /// </summary>
    public bool StopsEarlyAfter(int epoch, int bestEpoch) =>
        Patience > 0 && Evaluates(epoch) && bestEpoch >= 0 && epoch - bestEpoch >= Patience && epoch + 1 < Epochs;
    /// <summary>Where checkpoints, metrics.csv and curve.svg go; null = no files.</summary>
    public string? CheckpointDir { get; init; }
    /// <summary>
    /// An earlier job's checkpoint (or its manifest or run directory, best/ first) whose model this job starts from
    /// (<c>train --init-from</c>, <see cref="Checkpoints.WarmStart"/>); null = the seed's fresh parameters.
    /// </summary>
    public string? InitFrom { get; init; }
    /// <summary>none, add_reverse (virtual (T, r_reverse, S) for every stored type without a reverse), or bidirected
    /// (as add_reverse, but a same-type relation is merged with its reverse: DGL's to_bidirected).</summary>
    public string ReverseEdges { get; init; } = "bidirected";
    /// <summary>none or row (each feature row divided by its sum, as DGL's and PyG's Cora).</summary>
    public string FeatureNorm { get; init; } = "none";

    /// <summary>store (the store's train/val/test masks) or random (a seeded split of the labelled nodes by split_fractions).</summary>
    public string NodeSplit { get; init; } = "store";
    public IReadOnlyList<double> SplitFractions { get; init; } = [0.6, 0.2, 0.2];

    // Link prediction.
    public int Negatives { get; init; } = 1;
    /// <summary>uniform, or degree (∝ in-degree^0.75).</summary>
    public string NegativeStrategy { get; init; } = "uniform";
    /// <summary>none, self, or self_and_reverse: which edges a batch keeps out of its own message passing.</summary>
    public string Exclusion { get; init; } = "self_and_reverse";
    public double ValFraction { get; init; } = 0.05;
    public double TestFraction { get; init; } = 0.1;
    /// <summary>dot or mlp.</summary>
    public string Scorer { get; init; } = "dot";
    /// <summary>Negatives per held-out positive in evaluation: AUC uses the first (equal counts), MRR and Hits@10 all of them.</summary>
    public int EvalNegatives { get; init; } = 20;

    // Graph classification.
    /// <summary>mean, sum or max.</summary>
    public string Readout { get; init; } = "mean";

    /// <summary>Torch intra-op threads; 0 leaves torch's default.</summary>
    public int Threads { get; init; }
    /// <summary>Mini-batches sampled ahead of the step on a background task.</summary>
    public int Prefetch { get; init; } = 2;
    /// <summary>Learnable per-node embeddings by node type (HOCON <c>embeddings { user { dim = 64, … } }</c>), held by the partitions, trained by sparse optimizers.</summary>
    public IReadOnlyDictionary<string, EmbeddingSpec> Embeddings { get; init; } = new Dictionary<string, EmbeddingSpec>();

    [JsonIgnore]
    public TrainingTask TaskKind => ParseTask(Task);
    [JsonIgnore]
    public ModelType ModelKind => ModelConfig.ParseName<ModelType>(ModelType);
    [JsonIgnore]
    public SageAggregator AggregatorKind => ModelConfig.ParseName<SageAggregator>(Aggregator);
    [JsonIgnore]
    public Activation ActivationKind => ModelConfig.ParseName<Activation>(Activation);
    [JsonIgnore]
    public ScorerKind ScorerKind => ModelConfig.ParseName<ScorerKind>(Scorer);
    [JsonIgnore]
    public ReadoutKind ReadoutKind => ModelConfig.ParseName<ReadoutKind>(Readout);
    [JsonIgnore]
    public FeatureNormalization FeatureNormKind => ModelConfig.ParseName<FeatureNormalization>(FeatureNorm);

    [JsonIgnore]
    public Sampling.ReverseEdges ReverseEdgesKind => ReverseEdges switch
    {
        "none" => Sampling.ReverseEdges.None,
        "add_reverse" => Sampling.ReverseEdges.AddReverse,
        "bidirected" => Sampling.ReverseEdges.Bidirected,
        _ => throw Bad(nameof(ReverseEdges), $"'{ReverseEdges}' is not one of none, add_reverse, bidirected"),
    };

    [JsonIgnore]
    public NegativeStrategy NegativeStrategyKind => NegativeStrategy switch
    {
        "uniform" => Sampling.NegativeStrategy.Random,
        "degree" => Sampling.NegativeStrategy.SmoothedInDegree,
        _ => throw Bad(nameof(NegativeStrategy), $"'{NegativeStrategy}' is not one of uniform, degree"),
    };

    [JsonIgnore]
    public LinkExclusion ExclusionKind => Exclusion switch
    {
        "none" => LinkExclusion.None,
        "self" => LinkExclusion.Self,
        "self_and_reverse" => LinkExclusion.SelfAndReverse,
        _ => throw Bad(nameof(Exclusion), $"'{Exclusion}' is not one of none, self, self_and_reverse"),
    };

    /// <summary>The HOCON key of a property: <c>HiddenChannels</c> → <c>hidden_channels</c>.</summary>
    public static string Key(string property) =>
        string.Concat(property.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));

    /// <summary>Throws a <see cref="TrainingConfigException"/> naming the first bad key.</summary>
    public TrainingConfig Validate()
    {
        Parse(nameof(ModelType), () => ModelKind);
        Parse(nameof(Task), () => TaskKind);
        Parse(nameof(Aggregator), () => AggregatorKind);
        Parse(nameof(Activation), () => ActivationKind);
        Parse(nameof(Scorer), () => ScorerKind);
        Parse(nameof(Readout), () => ReadoutKind);
        Parse(nameof(FeatureNorm), () => FeatureNormKind);
        _ = ReverseEdgesKind;
        _ = NegativeStrategyKind;
        _ = ExclusionKind;
        Require(nameof(HiddenChannels), HiddenChannels >= 1, "must be at least 1");
        Require(nameof(NumLayers), NumLayers >= 0, "must not be negative (0 = a features-only MLP baseline)");
        Require(nameof(BatchSize), BatchSize >= 1, "must be at least 1");
        Require(nameof(LearningRate), LearningRate > 0 && double.IsFinite(LearningRate), "must be positive");
        Require(nameof(WeightDecay), WeightDecay >= 0, "must not be negative");
        Require(nameof(Dropout), Dropout is >= 0 and < 1, "must lie in [0, 1)");
        Require(nameof(InputDropout), InputDropout is null or (>= 0 and < 1), "must lie in [0, 1)");
        Require(nameof(AttentionDropout), AttentionDropout is null or (>= 0 and < 1), "must lie in [0, 1)");
        Require(nameof(Heads), Heads >= 1, "must be at least 1");
        Require(nameof(Epochs), Epochs >= 0, "must not be negative");
        Require(nameof(EvalEvery), EvalEvery >= 1, "must be at least 1");
        Require(nameof(Patience), Patience >= 0, "must not be negative (0 = off)");
        Require(nameof(Negatives), Negatives >= 1, "must be at least 1");
        // Hits@10 ranks each held-out positive among its negatives: with fewer than 10 it is 1 by construction.
        Require(nameof(EvalNegatives), EvalNegatives >= 10 || TaskKind != TrainingTask.LinkPrediction,
            $"must be at least 10 for link prediction (Hits@10 ranks each positive among its {EvalNegatives} negatives: with fewer than 10 it is 1 by construction)");
        Require(nameof(ValFraction), ValFraction is > 0 and < 1, "must lie in (0, 1)");
        Require(nameof(TestFraction), TestFraction is > 0 and < 1 && ValFraction + TestFraction < 1, "must lie in (0, 1) with val_fraction + test_fraction < 1");
        Require(nameof(NodeSplit), NodeSplit is "store" or "random", $"'{NodeSplit}' is not one of store, random");
        Require(nameof(SplitFractions), SplitFractions is { Count: 3 } && SplitFractions.All(f => f >= 0) && SplitFractions.Sum() is > 0 and <= 1.000001,
            "must be three non-negative fractions (train, val, test) summing to at most 1");
        Require(nameof(Threads), Threads >= 0, "must not be negative (0 = torch's default)");
        Require(nameof(Prefetch), Prefetch >= 1, "must be at least 1");
        Require(nameof(Fanouts), Fanouts is not null && (Fanouts.Count == NumLayers || NumLayers == 0), $"must have one entry per layer ({NumLayers}), got {Fanouts?.Count ?? 0}");
        Require(nameof(Fanouts), Fanouts!.All(f => f >= -1), "entries are -1 (all), 0 (skip) or positive");
        Require(nameof(EvalFanouts), EvalFanouts is null || ((EvalFanouts.Count == NumLayers || NumLayers == 0) && EvalFanouts.All(f => f >= -1)), $"must be null or have {NumLayers} entries of -1 or more");
        Require(nameof(Target), TaskKind == TrainingTask.GraphClassification || !string.IsNullOrWhiteSpace(Target), "is required for node classification (a node type) and link prediction (an edge type)");
        foreach (var (type, spec) in Embeddings)
        {
            if (spec.Problem() is { } problem) throw new TrainingConfigException($"embeddings.{type}.{problem.Key}", problem.Reason);
            Require(nameof(Embeddings), NumLayers > 0, "need a GNN (num_layers ≥ 1): the features-only MLP baseline reads no embeddings");
            Require(nameof(Embeddings), TaskKind != TrainingTask.GraphClassification, "are per node of a stored graph; graph classification trains on generated graphs");
        }
        return this;
    }

    private static TrainingTask ParseTask(string task) => task switch
    {
        "node_classification" => TrainingTask.NodeClassification,
        "link_prediction" => TrainingTask.LinkPrediction,
        "graph_classification" => TrainingTask.GraphClassification,
        _ => throw Bad(nameof(Task), $"'{task}' is not one of node_classification, link_prediction, graph_classification"),
    };

    private static void Parse(string property, Func<object> parse)
    {
        try { parse(); }
        catch (TrainingConfigException) { throw; }
        catch (ArgumentException e) { throw Bad(property, e.Message); }
    }

    private static void Require(string property, bool ok, string message)
    {
        if (!ok) throw Bad(property, message);
    }

    private static TrainingConfigException Bad(string property, string message) => new(Key(property), message);

    /// <summary>The most classes a node-classification job takes (a 256-wide head over 1M classes is already 1 GB of weights and Adam state).</summary>
    public const int MaxClasses = 1_000_000;

    /// <summary>The node type this job classifies (node classification).</summary>
    public NodeType TargetNodeType(GraphStoreSchema schema)
    {
        var t = schema.NodeTypes.FirstOrDefault(n => n.Type.ToString() == Target)
            ?? throw Bad(nameof(Target), $"'{Target}' is not a node type of the store ({string.Join(", ", schema.NodeTypes.Select(n => n.Type))})");
        if (t.LabelCount < 1) throw Bad(nameof(Target), $"node type '{Target}' has no labels");
        if (t.LabelCount > MaxClasses)
            throw Bad(nameof(Target), $"node type '{Target}' has {t.LabelCount:N0} classes, more than {MaxClasses:N0}: its output layer alone would need hidden × classes weights; check the labels (etl --max-classes)");
        return t.Type;
    }

    /// <summary>The edge type this job predicts (link prediction): "src,relation,dst" or a relation name unique in the store.</summary>
    public CanonicalEdgeType TargetEdgeType(GraphStoreSchema schema)
    {
        var parts = (Target ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var matches = schema.EdgeTypes.Where(e => parts.Length == 3
            ? e.Type.Src.ToString() == parts[0] && e.Type.Relation == parts[1] && e.Type.Dst.ToString() == parts[2]
            : parts.Length == 1 && e.Type.Relation == parts[0]).ToList();
        return matches.Count == 1 ? matches[0].Type
            : throw Bad(nameof(Target), $"'{Target}' names {(matches.Count == 0 ? "no" : "more than one")} edge type of the store ({string.Join(", ", schema.EdgeTypes.Select(e => e.Type))})");
    }
}

/// <summary>A bad training setting; <see cref="Key"/> is its snake_case name as written in HOCON.</summary>
public sealed class TrainingConfigException(string key, string reason) : ArgumentException($"{key}: {reason}")
{
    public string Key { get; } = key;
    public string Reason { get; } = reason;
}
