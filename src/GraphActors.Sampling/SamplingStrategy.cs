// The sampling strategies by their GraphLearn names.
namespace GraphActors.Sampling;

/// <summary>How a neighbour sampling step picks neighbours (GraphLearn's <c>.by(...)</c> names).</summary>
public enum SamplingStrategy
{
    /// <summary><c>random</c>: k uniform draws with replacement (GraphLearn's meaning of "random").</summary>
    Random,

    /// <summary><c>random_without_replacement</c>: k distinct neighbours; all of them when the degree is at most k (DGL's default).</summary>
    RandomWithoutReplacement,

    /// <summary><c>edge_weight</c>: k draws with replacement, each neighbour with probability proportional to its edge weight.</summary>
    EdgeWeight,

    /// <summary><c>topk</c>: the k heaviest edges, heaviest first, ties broken by position in the row.</summary>
    TopK,

    /// <summary><c>full</c>: every neighbour; the result is ragged. GSL truncates a row to its first k when Sample(k) is given.</summary>
    Full,

    /// <summary><c>in_degree</c>: k draws with replacement, each neighbour with probability proportional to its in-degree in the walked edge type.</summary>
    InDegree,
}

/// <summary>How negatives are drawn (GraphLearn's negative <c>.by(...)</c> names).</summary>
public enum NegativeStrategy
{
    /// <summary><c>random</c>: uniform over the candidates (in GSL, the ids the edge type reaches; in the block samplers, every node of the type).</summary>
    Random,

    /// <summary><c>in_degree</c>: proportional to the candidate's in-degree in the edge type, as GraphLearn draws; an alias table built once per edge type.</summary>
    InDegree,

    /// <summary>
    /// <c>in_degree_pow0.75</c>: proportional to in-degree^0.75 (word2vec's smoothing, which gives rare nodes more negatives
    /// than raw in-degree does); not a GraphLearn strategy, kept for the block samplers and the cluster.
    /// </summary>
    SmoothedInDegree,

    /// <summary>
    /// GSL's <c>random</c> over a graph store: uniform among the ids the edge type reaches (its destinations with an
    /// edge), where a store's <see cref="Random"/> draws among every node of the type as the block samplers do.
    /// </summary>
    RandomReached,
}

public static class StrategyNames
{
    /// <summary>GraphLearn's vertex-table negative strategy, which belongs to <c>Neg(node_type)</c> only.</summary>
    public const string NodeWeight = "node_weight";

    public const string SmoothedInDegree = "in_degree_pow0.75";

    public static SamplingStrategy ParseNeighbor(string name) => name switch
    {
        "random" => SamplingStrategy.Random,
        "random_without_replacement" => SamplingStrategy.RandomWithoutReplacement,
        "edge_weight" => SamplingStrategy.EdgeWeight,
        "topk" => SamplingStrategy.TopK,
        "full" => SamplingStrategy.Full,
        "in_degree" => SamplingStrategy.InDegree,
        _ => throw new ArgumentException(
            $"Unknown neighbour sampling strategy '{name}'. Known: random, random_without_replacement, edge_weight, topk, full, in_degree.", nameof(name)),
    };

    public static NegativeStrategy ParseNegative(string name) => name switch
    {
        "random" => NegativeStrategy.Random,
        "in_degree" => NegativeStrategy.InDegree,
        SmoothedInDegree => NegativeStrategy.SmoothedInDegree,
        NodeWeight => throw new ArgumentException(
            "node_weight draws from a node type's table, not along an edge type: write Neg(nodeType).Sample(k).By(\"node_weight\").", nameof(name)),
        _ => throw new ArgumentException($"Unknown negative sampling strategy '{name}'. Known: random, in_degree, {SmoothedInDegree}.", nameof(name)),
    };

    public static string Name(this SamplingStrategy s) => s switch
    {
        SamplingStrategy.Random => "random",
        SamplingStrategy.RandomWithoutReplacement => "random_without_replacement",
        SamplingStrategy.EdgeWeight => "edge_weight",
        SamplingStrategy.TopK => "topk",
        SamplingStrategy.Full => "full",
        SamplingStrategy.InDegree => "in_degree",
        _ => s.ToString(),
    };

    public static string Name(this NegativeStrategy s) => s switch
    {
        NegativeStrategy.Random or NegativeStrategy.RandomReached => "random",
        NegativeStrategy.InDegree => "in_degree",
        NegativeStrategy.SmoothedInDegree => SmoothedInDegree,
        _ => s.ToString(),
    };
}
