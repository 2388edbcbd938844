// What a prediction asks and answers, as plain records (the HTTP layer and the inference actor both speak them).
namespace GraphActors.Serving;

public abstract record PredictionRequest
{
    public required string Model { get; init; }
    /// <summary>Null: the model's default version.</summary>
    public string? Version { get; init; }
    /// <summary>Null: the model's fanouts (or the engine default); true: every neighbour at every hop.</summary>
    public bool? FullNeighborhood { get; init; }
}

/// <summary>Node classification (or embeddings) for business ids of one node type.</summary>
public sealed record NodePredictionRequest : PredictionRequest
{
    public required string NodeType { get; init; }
    public required long[] Ids { get; init; }
    /// <summary>Return the model's output rows instead of probabilities and labels.</summary>
    public bool Embeddings { get; init; }
}

/// <summary>Link prediction: pair i is (<see cref="Src"/>[i] of <see cref="SrcType"/>, <see cref="Dst"/>[i] of <see cref="DstType"/>).</summary>
public sealed record LinkPredictionRequest : PredictionRequest
{
    public required string SrcType { get; init; }
    public required string DstType { get; init; }
    public required long[] Src { get; init; }
    public required long[] Dst { get; init; }
}

/// <summary>
/// TorchServe's explanations for node classification: for each id, which of its own input features and which input
/// nodes of its sampled neighbourhood moved the score of <see cref="Target"/> (default: the predicted class).
/// </summary>
public sealed record NodeExplanationRequest : PredictionRequest
{
    public required string NodeType { get; init; }
    public required long[] Ids { get; init; }
    /// <summary>The class whose score is explained; null: each node's predicted class.</summary>
    public int? Target { get; init; }
    /// <summary>How many input nodes (the node itself excluded) to name, by the size of their attribution.</summary>
    public int TopNeighbors { get; init; } = 10;
}

public abstract record PredictionResult(string Model, string Version);

/// <summary>An input node of the explained node's neighbourhood and the sum of its features' attributions.</summary>
public sealed record NeighborAttribution(string NodeType, long Id, float Attribution);

/// <summary>
/// One node's explanation: the class explained and its probability, the input × gradient attribution of each of the
/// node's own input features (empty when its type has none), and the input nodes with the largest total attribution.
/// </summary>
public sealed record NodeExplanation(long Id, int Target, float Probability, float[] FeatureAttributions, IReadOnlyList<NeighborAttribution> Neighbors);

public sealed record NodeExplanationResult(string Model, string Version, string NodeType, string Method, IReadOnlyList<NodeExplanation> Explanations)
    : PredictionResult(Model, Version);

/// <summary>One node's answer: label and probabilities, or the embedding.</summary>
public sealed record NodePrediction(long Id, int? Label, float[]? Probabilities, float[]? Embedding);

public sealed record NodePredictionResult(string Model, string Version, string NodeType, IReadOnlyList<NodePrediction> Predictions)
    : PredictionResult(Model, Version);

/// <summary>Score is the dot product of the two embeddings (a logit); Probability its sigmoid.</summary>
public sealed record LinkPrediction(long Src, long Dst, float Score, float Probability);

public sealed record LinkPredictionResult(string Model, string Version, string SrcType, string DstType, IReadOnlyList<LinkPrediction> Predictions)
    : PredictionResult(Model, Version);

public sealed record HealthReport(bool Healthy, string? Reason, int ModelsLoaded, bool GraphStoreReachable, string FeatureCache, string? FeatureCacheError);

public sealed record InferenceOptions
{
    /// <summary>Most business ids (or pairs) one request may carry; more is a 413.</summary>
    public int MaxIdsPerRequest { get; init; } = 1024;
    /// <summary>Most predictions in progress at once; one more is refused with 503 at once, not queued.</summary>
    public int MaxInFlight { get; init; } = 64;
    /// <summary>Torch worker threads.</summary>
    public int Workers { get; init; } = 1;
    /// <summary>Intra-op threads of each worker (torch.set_num_threads; libtorch treats it as process-wide); 0 = libtorch's default.</summary>
    public int TorchThreads { get; init; } = 1;
    /// <summary>Full neighbourhoods for models whose loader gave no fanouts, and for requests that do not say.</summary>
    public bool FullNeighborhoodByDefault { get; init; }
    /// <summary>Mixed with the request's ids into the sampling seed, so the same request samples the same neighbours.</summary>
    public ulong SamplingSeed { get; init; } = 0x5EED;
    /// <summary>How long /ping waits for the graph store.</summary>
    public TimeSpan StoreProbeTimeout { get; init; } = TimeSpan.FromSeconds(2);
}
