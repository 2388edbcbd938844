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

    /// <summary><c>full</c>: every neighbour; the result is ragged.</summary>
    Full,
}

/// <summary>How negatives are drawn (GraphLearn's negative <c>.by(...)</c> names).</summary>
public enum NegativeStrategy
{
    /// <summary><c>random</c>: uniform over the nodes of the far end's type.</summary>
    Random,

    /// <summary><c>in_degree</c>: proportional to in-degree^0.75 (word2vec's smoothing), through an alias table built once per edge type.</summary>
    InDegree,
}

public static class StrategyNames
{
    public static SamplingStrategy ParseNeighbor(string name) => name switch
    {
        "random" => SamplingStrategy.Random,
        "random_without_replacement" => SamplingStrategy.RandomWithoutReplacement,
        "edge_weight" => SamplingStrategy.EdgeWeight,
        "topk" => SamplingStrategy.TopK,
        "full" => SamplingStrategy.Full,
        "in_degree" => throw new NotSupportedException(
            "Neighbour sampling by in_degree is not implemented; use random, random_without_replacement, edge_weight, topk or full."),
        _ => throw new ArgumentException(
            $"Unknown neighbour sampling strategy '{name}'. Known: random, random_without_replacement, edge_weight, topk, full.", nameof(name)),
    };

    public static NegativeStrategy ParseNegative(string name) => name switch
    {
        "random" => NegativeStrategy.Random,
        "in_degree" => NegativeStrategy.InDegree,
        _ => throw new ArgumentException($"Unknown negative sampling strategy '{name}'. Known: random, in_degree.", nameof(name)),
    };

    public static string Name(this SamplingStrategy s) => s switch
    {
        SamplingStrategy.Random => "random",
        SamplingStrategy.RandomWithoutReplacement => "random_without_replacement",
        SamplingStrategy.EdgeWeight => "edge_weight",
        SamplingStrategy.TopK => "topk",
        SamplingStrategy.Full => "full",
        _ => s.ToString(),
    };
}
