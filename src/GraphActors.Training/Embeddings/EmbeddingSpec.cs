// training.embeddings.<type>: a learnable per-node embedding, how it meets the type's features, and its sparse optimizer.
using System.Text.Json.Serialization;

namespace GraphActors.Training.Embeddings;

/// <summary>How a node type's embedding row meets its input features.</summary>
public enum EmbeddingMode
{
    /// <summary>The row is the input (features, if any, are not used): DGL's featureless node types.</summary>
    Replace,
    /// <summary>Features then the row, side by side: the input is feature_dim + dim wide.</summary>
    Concat,
    /// <summary>Features plus the row (dim must equal the feature width).</summary>
    Add,
}

/// <summary>DGL's sparse optimizers for node embeddings: only the rows of a step's input nodes and their state change.</summary>
public enum SparseOptimizerKind
{
    SparseAdam,
    SparseAdagrad,
}

/// <summary>One node type's learnable embedding (HOCON <c>training.embeddings.&lt;type&gt; { … }</c>).</summary>
public sealed record EmbeddingSpec
{
    public int Dim { get; init; } = 64;
    /// <summary>replace, concat or add.</summary>
    public string Mode { get; init; } = "replace";
    /// <summary>sparse_adam or sparse_adagrad.</summary>
    public string Optimizer { get; init; } = "sparse_adam";
    /// <summary>The sparse optimizer's learning rate (DGL's examples: 0.01 for embeddings beside 0.001 dense).</summary>
    public double LearningRate { get; init; } = 0.01;
    /// <summary>Added to the denominator; null: DGL's default for the optimizer (1e-8 Adam, 1e-10 Adagrad).</summary>
    public double? Eps { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    /// <summary>Initial rows are uniform in [-init_range, init_range).</summary>
    public double InitRange { get; init; } = 1.0;

    [JsonIgnore]
    public EmbeddingMode ModeKind => Mode switch
    {
        "replace" => EmbeddingMode.Replace,
        "concat" => EmbeddingMode.Concat,
        "add" => EmbeddingMode.Add,
        _ => throw new ArgumentException($"mode '{Mode}' is not one of replace, concat, add"),
    };

    [JsonIgnore]
    public SparseOptimizerKind OptimizerKind => Optimizer switch
    {
        "sparse_adam" => SparseOptimizerKind.SparseAdam,
        "sparse_adagrad" => SparseOptimizerKind.SparseAdagrad,
        _ => throw new ArgumentException($"optimizer '{Optimizer}' is not one of sparse_adam, sparse_adagrad"),
    };

    [JsonIgnore]
    public double ResolvedEps => Eps ?? (OptimizerKind == SparseOptimizerKind.SparseAdam ? 1e-8 : 1e-10);

    /// <summary>The first problem with these settings (key and reason), or null.</summary>
    public (string Key, string Reason)? Problem()
    {
        try { _ = ModeKind; }
        catch (ArgumentException e) { return ("mode", e.Message); }
        try { _ = OptimizerKind; }
        catch (ArgumentException e) { return ("optimizer", e.Message); }
        if (Dim < 1) return ("dim", $"{Dim} must be at least 1");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) return ("learning_rate", $"{LearningRate} must be positive");
        if (Eps is { } eps && !(eps > 0)) return ("eps", $"{eps} must be positive");
        if (Beta1 is < 0 or >= 1) return ("beta1", $"{Beta1} must lie in [0, 1)");
        if (Beta2 is < 0 or >= 1) return ("beta2", $"{Beta2} must lie in [0, 1)");
        if (!(InitRange > 0) || !double.IsFinite(InitRange)) return ("init_range", $"{InitRange} must be positive");
        return null;
    }

    /// <summary>The store's share of a model input <paramref name="inputDim"/> wide (the inverse of <see cref="InputDim"/>).</summary>
    public int FeatureDim(int inputDim) => ModeKind switch
    {
        EmbeddingMode.Replace => 0,
        EmbeddingMode.Concat => inputDim - Dim,
        _ => inputDim,
    };

    /// <summary>The model's input width for a type whose features are <paramref name="featureDim"/> wide.</summary>
    public int InputDim(string type, int featureDim) => ModeKind switch
    {
        EmbeddingMode.Replace => Dim,
        EmbeddingMode.Concat => featureDim > 0 ? featureDim + Dim
            : throw new TrainingConfigException($"embeddings.{type}.mode", $"concat needs features, and '{type}' has none: use replace"),
        _ => featureDim == Dim ? featureDim
            : throw new TrainingConfigException($"embeddings.{type}.dim", $"add needs dim = the feature width of '{type}' ({featureDim}), got {Dim}"),
    };
}
