// What a model is made of; the cluster sends this (as JSON or HOCON) and ModelFactory builds from it.
namespace GraphActors.Models;

public enum ModelType
{
    Sage,
    Gat,
    Rgcn,
}

public enum Activation
{
    Relu,

    /// <summary>LeakyReLU with PyTorch's default slope 0.01.</summary>
    LeakyRelu,
    Elu,
    Gelu,
}

public enum Normalization
{
    None,

    /// <summary>BatchNorm1d per node type after every hidden layer.</summary>
    Batch,

    /// <summary>LayerNorm per node type after every hidden layer.</summary>
    Layer,
}

/// <summary>
/// Hyper-parameters of the three models. Node types with no input features (<see cref="InDims"/>
/// entry 0) get a learnable input of size <see cref="EmbeddingDim"/>: an embedding table indexed by
/// node id when <see cref="NumNodes"/> gives the type's node count (ids come from
/// <see cref="Block.SrcNodeIds"/>, or are the local rows for full-graph blocks), and otherwise one
/// learnable constant vector shared by every node of the type, so that such nodes still carry the
/// structure of the graph but nothing that tells them apart.
/// </summary>
public sealed record ModelConfig
{
    public ModelType ModelType { get; init; } = ModelType.Sage;

    /// <summary>Input feature size per node type; every node type of the graph is listed, 0 for featureless types.</summary>
    public required IReadOnlyDictionary<string, int> InDims { get; init; }

    /// <summary>The canonical edge types the model convolves over (a homogeneous graph has one).</summary>
    public required IReadOnlyList<RelationKey> Relations { get; init; }

    /// <summary>Node count per featureless type that should get an embedding table by node id.</summary>
    public IReadOnlyDictionary<string, long>? NumNodes { get; init; }

    /// <summary>Size of the learnable input of featureless types; defaults to <see cref="HiddenChannels"/>.</summary>
    public int? EmbeddingDim { get; init; }

    /// <summary>Hidden width; for GAT the width of each head (hidden layers emit HiddenChannels·Heads).</summary>
    public int HiddenChannels { get; init; } = 64;

    /// <summary>Number of graph layers, one per block.</summary>
    public int NumLayers { get; init; } = 2;

    public required int OutDim { get; init; }

    /// <summary>Dropout on the input and between layers (for GAT: feature dropout inside each layer).</summary>
    public double Dropout { get; init; } = 0.5;

    /// <summary>
    /// Dropout on the first layer's input (the node features, or R-GCN's projected input); defaults to
    /// <see cref="Dropout"/>. DGL's mini-batch GraphSAGE example uses none there, its full-graph one uses dropout.
    /// </summary>
    public double? InputDropout { get; init; }

    /// <summary>The dropout rate on the first layer's input.</summary>
    public double ResolvedInputDropout => InputDropout ?? Dropout;

    /// <summary>GAT attention dropout; defaults to <see cref="Dropout"/>.</summary>
    public double? AttentionDropout { get; init; }

    public Activation Activation { get; init; } = Activation.Relu;

    public Normalization Normalization { get; init; } = Normalization.None;

    /// <summary>GraphSAGE neighbour aggregator.</summary>
    public SageAggregator Aggregator { get; init; } = SageAggregator.Mean;

    /// <summary>How SAGE and GAT combine relations reaching one node type (R-GCN always sums).</summary>
    public CrossRelationAggregation CrossRelationAggregation { get; init; } = CrossRelationAggregation.Sum;

    /// <summary>GAT heads of the hidden layers (concatenated).</summary>
    public int Heads { get; init; } = 4;

    /// <summary>GAT heads of the output layer (averaged).</summary>
    public int OutputHeads { get; init; } = 1;

    /// <summary>GAT residual connections.</summary>
    public bool Residual { get; init; }

    /// <summary>
    /// GAT: every destination of a same-type relation also attends to itself (DGL's GAT example and PyG's GATConv
    /// add self-loops to the graph; without them a node's own features reach its output only through a residual).
    /// </summary>
    public bool SelfLoops { get; init; }

    /// <summary>R-GCN bases; 0 (or at least the relation count) means a free weight per relation.</summary>
    public int NumBases { get; init; }

    /// <summary>R-GCN self-loop weight.</summary>
    public bool SelfLoop { get; init; } = true;

    public int ResolvedEmbeddingDim => EmbeddingDim ?? HiddenChannels;

    /// <summary>A config for a homogeneous graph: node type <paramref name="nodeType"/>, one relation onto itself.</summary>
    public static ModelConfig Homogeneous(ModelType modelType, int inDim, int outDim, string nodeType = "_N", string relation = "_E") => new()
    {
        ModelType = modelType,
        InDims = new Dictionary<string, int> { [nodeType] = inDim },
        Relations = [new RelationKey(nodeType, relation, nodeType)],
        OutDim = outDim,
    };

    /// <summary>Parses the snake_case names used in configuration files ("leaky_relu", "rgcn", "layer", …) into any of the enums above.</summary>
    public static T ParseName<T>(string name) where T : struct, Enum =>
        Enum.TryParse<T>(name.Replace("_", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new ArgumentException($"'{name}' is not one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}.", nameof(name));

    /// <summary>Throws with a message naming the first inconsistent setting.</summary>
    public void Validate()
    {
        if (InDims is null || InDims.Count == 0)
            throw new ArgumentException("InDims must list every node type.");
        if (Relations is null || Relations.Count == 0)
            throw new ArgumentException("Relations must list at least one canonical edge type.");
        foreach (var (type, dim) in InDims)
        {
            if (dim < 0)
                throw new ArgumentException($"Node type '{type}' has negative input size {dim}.");
        }
        foreach (var r in Relations)
        {
            if (!InDims.ContainsKey(r.Src) || !InDims.ContainsKey(r.Dst))
                throw new ArgumentException($"Relation {r} uses a node type missing from InDims.");
        }
        if (NumNodes is not null)
        {
            foreach (var (type, count) in NumNodes)
            {
                if (count < 1)
                    throw new ArgumentException($"NumNodes['{type}'] must be positive, got {count}.");
            }
        }
        if (HiddenChannels < 1 || NumLayers < 1 || OutDim < 1 || ResolvedEmbeddingDim < 1)
            throw new ArgumentException("HiddenChannels, NumLayers, OutDim and EmbeddingDim must be positive.");
        if (Dropout is < 0 or >= 1 || AttentionDropout is < 0 or >= 1 || InputDropout is < 0 or >= 1)
            throw new ArgumentException("Dropout rates must lie in [0, 1).");
        if (Heads < 1 || OutputHeads < 1)
            throw new ArgumentException("Heads and OutputHeads must be positive.");
        if (NumBases < 0)
            throw new ArgumentException("NumBases must not be negative.");
    }
}
