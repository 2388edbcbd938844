// Negative sampling along an edge type: nodes of the far end's type that are (preferably) not neighbours.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GraphActors.Graph;

namespace GraphActors.Sampling;

/// <summary>What a negative sampling call did: how many draws hit a true neighbour and were redrawn, and how many
/// samples are still true neighbours because every retry hit one (kept, so the output shape holds).</summary>
public readonly record struct NegativeSampleStats(int Requested, int Redrawn, int Unresolved)
{
    public NegativeSampleStats Add(NegativeSampleStats o) => new(Requested + o.Requested, Redrawn + o.Redrawn, Unresolved + o.Unresolved);
}

/// <summary>
/// Draws k negatives per source. Outgoing (GraphLearn's <c>outNeg</c>): candidates are destination-type nodes and a
/// true neighbour is an out-neighbour of the source; incoming (<c>inNeg</c>): source-type nodes and in-neighbours.
/// <c>in_degree</c> weighs a candidate by its degree towards the source side (in-degree for outNeg), GraphLearn's rule;
/// <c>in_degree_pow0.75</c> by that degree to the power 0.75. Their alias tables are built once per CSR and cached for
/// the life of the graph. <c>random</c> is uniform over every node of the candidates' type here (DGL's candidates);
/// GSL narrows it to the nodes the edge type reaches with <see cref="EdgeEndTable"/>.
/// With <see cref="KernelRandom.PerNode"/> the k negatives of a source come from the stream of (seed, source id, how
/// many times the source appeared earlier in the call): a source's negatives then do not depend on the other sources
/// or on which partition draws them, while a source listed twice (two positive edges) still gets two independent sets.
/// </summary>
public static class NegativeSampler
{
    public const double DegreePower = 0.75;
    public const int DefaultMaxRetries = 32;

    private static readonly ConditionalWeakTable<Csr, AliasTable> DegreeTables = new();
    private static readonly ConditionalWeakTable<Csr, AliasTable> RawDegreeTables = new();
    private static readonly ConditionalWeakTable<Csr, AliasTable> EdgeEndTables = new();
    private static readonly ConditionalWeakTable<NodeTypeData, AliasTable> NodeWeightTables = new();

    /// <param name="sources">Dense ids of the sources; a negative id (a padding slot) has no neighbours to exclude.</param>
    /// <param name="output">sources.Length × k dense ids, row-major.</param>
    public static NegativeSampleStats Sample(EdgeTypeData edges, bool incoming, ReadOnlySpan<int> sources, int k,
        NegativeStrategy strategy, bool excludeNeighbors, ref KernelRandom random, Span<int> output, int maxRetries = DefaultMaxRetries)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "The number of negatives must be positive.");
        if (output.Length < (long)sources.Length * k)
            throw new ArgumentException($"Output holds {output.Length} ids; {sources.Length} sources × {k} need {(long)sources.Length * k}.", nameof(output));
        var adjacency = edges.Direction(incoming);   // rows = sources, to test "is a true neighbour"
        var candidates = edges.Direction(!incoming); // rows = candidates, their degree towards the sources
        var n = candidates.RowCount;
        if (n == 0) throw new InvalidOperationException($"{edges.Type}: no candidate nodes to draw negatives from.");
        foreach (var src in sources)
            if (src >= adjacency.RowCount) throw new ArgumentOutOfRangeException(nameof(sources), src, $"Source {src} is outside 0..{adjacency.RowCount - 1}.");
        var table = strategy switch
        {
            NegativeStrategy.Random => null,
            NegativeStrategy.InDegree => RawDegreeTable(candidates, edges),
            NegativeStrategy.SmoothedInDegree => DegreeTable(candidates, edges),
            NegativeStrategy.RandomReached => EdgeEndTable(candidates, edges),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown negative strategy."),
        };
        return Sample(adjacency, sources, n, table, k, excludeNeighbors, ref random, output, maxRetries);
    }

    /// <summary>
    /// The kernel over one CSR, for callers that hold only part of a graph (a partition): <paramref name="rows"/> are
    /// the sources' rows of <paramref name="adjacency"/> (a negative row has nothing to exclude), candidates are
    /// 0 .. <paramref name="candidateCount"/> − 1 drawn uniformly, or from <paramref name="degreeTable"/> when given.
    /// The adjacency's neighbour ids must be in the candidates' id space (global ids for a partition's CSR); a per-node
    /// <paramref name="random"/> must carry the first id of the rows' type (a partition's range start) as its first id.
    /// </summary>
    public static NegativeSampleStats Sample(Csr adjacency, ReadOnlySpan<int> rows, int candidateCount, AliasTable? degreeTable, int k,
        bool excludeNeighbors, ref KernelRandom random, Span<int> output, int maxRetries = DefaultMaxRetries)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "The number of negatives must be positive.");
        if (output.Length < (long)rows.Length * k)
            throw new ArgumentException($"Output holds {output.Length} ids; {rows.Length} sources × {k} need {(long)rows.Length * k}.", nameof(output));
        var n = degreeTable?.Count ?? candidateCount;
        if (n == 0) throw new InvalidOperationException("No candidate nodes to draw negatives from.");
        var r = random.State;
        var seen = random.IsPerNode && rows.Length > 1 ? new Dictionary<int, int>(rows.Length) : null;
        int redrawn = 0, unresolved = 0;
        var w = 0;
        foreach (var src in rows)
        {
            if (src >= adjacency.RowCount) throw new ArgumentOutOfRangeException(nameof(rows), src, $"Row {src} is outside 0..{adjacency.RowCount - 1}.");
            if (random.IsPerNode) r = Xoshiro256.ForNode(random.NodeSeed, random.IdOf(src), Occurrence(seen, src));
            var check = excludeNeighbors && src >= 0 && adjacency.Degree(src) > 0;
            DrawRow(check ? adjacency : null, src, n, degreeTable, ref r, output.Slice(w, k), maxRetries, ref redrawn, ref unresolved);
            w += k;
        }
        random.State = r;
        return new NegativeSampleStats(rows.Length * k, redrawn, unresolved);
    }

    /// <summary>
    /// One source's negatives into <paramref name="output"/> (its length is k): uniform over 0 .. n − 1 or from the
    /// degree table; with an <paramref name="adjacency"/>, a draw that is a neighbour of <paramref name="row"/> is redrawn.
    /// </summary>
    internal static void DrawRow(Csr? adjacency, int row, int n, AliasTable? table, ref Xoshiro256 r, Span<int> output, int maxRetries,
        ref int redrawn, ref int unresolved)
    {
        for (var j = 0; j < output.Length; j++)
        {
            var c = table is null ? r.NextInt(n) : table.Next(ref r);
            if (adjacency is not null)
            {
                var tries = 0;
                while (adjacency.Contains(row, c) && tries < maxRetries)
                {
                    c = table is null ? r.NextInt(n) : table.Next(ref r);
                    tries++;
                }
                redrawn += tries;
                if (tries == maxRetries && adjacency.Contains(row, c)) unresolved++;
            }
            output[j] = c;
        }
    }

    /// <summary>How many times <paramref name="id"/> was seen before in this call (0 the first time); null counts nothing.</summary>
    internal static int Occurrence(Dictionary<int, int>? seen, int id)
    {
        if (seen is null) return 0;
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(seen, id, out _);
        return count++;
    }

    /// <summary>The cached in_degree_pow0.75 table of <paramref name="candidates"/> (row degree^0.75).</summary>
    public static AliasTable DegreeTable(Csr candidates, EdgeTypeData edges) =>
        DegreeTables.GetValue(candidates, c => ByDegree(c, edges, d => Math.Pow(d, DegreePower), StrategyNames.SmoothedInDegree));

    /// <summary>The cached in_degree table of <paramref name="candidates"/> (row degree, GraphLearn's weighting).</summary>
    public static AliasTable RawDegreeTable(Csr candidates, EdgeTypeData edges) =>
        RawDegreeTables.GetValue(candidates, c => ByDegree(c, edges, d => d, "in_degree"));

    /// <summary>
    /// The cached table that draws uniformly among the rows of <paramref name="candidates"/> with at least one edge: the
    /// ids the edge type reaches (its destination ids for outNeg), which is GraphLearn's candidate set for random negatives.
    /// </summary>
    public static AliasTable EdgeEndTable(Csr candidates, EdgeTypeData edges) =>
        EdgeEndTables.GetValue(candidates, c => ByDegree(c, edges, _ => 1, "random"));

    /// <summary>The cached table of a node type by node weight (GraphLearn's node_weight; a weight ≤ 0 is never drawn).</summary>
    public static AliasTable NodeWeightTable(NodeTypeData nodes) =>
        NodeWeightTables.GetValue(nodes, n =>
        {
            if (!n.Data.HasWeights)
                throw new InvalidOperationException($"node_weight negatives need weighted {n.Type} nodes; load them with a weighted decoder.");
            var source = n.Data.Weights.Span;
            var weights = new double[source.Length];
            var any = false;
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = source[i] > 0 && float.IsFinite(source[i]) ? source[i] : 0;
                any |= weights[i] > 0;
            }
            if (!any) throw new InvalidOperationException($"No {n.Type} node has a positive weight, so node_weight negatives have nothing to draw from.");
            return new AliasTable(weights);
        });

    private static AliasTable ByDegree(Csr c, EdgeTypeData edges, Func<int, double> weight, string strategy)
    {
        var weights = new double[c.RowCount];
        var any = false;
        for (var i = 0; i < weights.Length; i++)
        {
            var d = c.Degree(i);
            weights[i] = d == 0 ? 0 : weight(d);
            any |= d > 0;
        }
        if (!any) throw new InvalidOperationException($"{edges.Type}: no node has an edge, so {strategy} negatives have nothing to draw from.");
        return new AliasTable(weights);
    }
}
