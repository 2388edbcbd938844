// GraphLearn's conditional negative sampler: negatives that share chosen attributes with their row's positive.
using GraphActors.Graph;

namespace GraphActors.Sampling;

/// <summary>
/// The kernel behind <c>outNeg(t).sample(k).by(s).where(target, condition)</c>, after GraphLearn's
/// ConditionalNegativeSampler. Candidates are the ids the edge type reaches (as for plain GSL negatives), weighted by
/// the strategy (uniform, in-degree, in-degree^0.75). For each selected column a table maps an attribute value to the
/// candidates holding it, with an alias table over their weights, built once. A row first takes its share of every
/// column from the candidates that hold the positive's value (a value no candidate holds, or a padding positive,
/// gives nothing, as in GraphLearn), then fills the rest by the strategy alone.
/// A draw is refused when it is the row's positive or a true neighbour of the row's source (with batch_share: any
/// positive of the batch) or, with unique, already taken; a column gives up after its retries (the rest falls to the
/// strategy), and a strategy slot keeps its last draw after its retries, counted as unresolved, so the shape holds.
/// GraphLearn lets the refused set grow from row to row within a batch; here each row refuses its own source's
/// neighbours and its own positive, the documented meaning. One instance per query step; not thread-safe.
/// </summary>
internal sealed class ConditionalNegativeSampler
{
    private readonly Csr? _adjacency;
    private readonly AliasTable _all;
    private readonly ColumnGroups[] _columns;
    private readonly float[] _props;
    private readonly bool _batchShare;
    private readonly bool _unique;
    private readonly HashSet<int> _picked = [];
    private readonly HashSet<int> _batchTargets = [];

    /// <summary>Over a local graph: candidates and their columns from the graph, true neighbours from the walked CSR.</summary>
    public ConditionalNegativeSampler(EdgeTypeData edges, bool incoming, NegativeStrategy strategy, NodeTypeData candidates, NegativeCondition condition)
        : this(CandidateWeights(edges.Direction(!incoming), strategy, edges.Type.ToString()), condition,
            col => candidates.Data.Ints.Span[col.Node * candidates.Data.Schema.IntCount + col.Column],
            col => candidates.Data.Floats.Row(col.Node)[col.Column],
            col => candidates.Data.Strings.Span[col.Node * candidates.Data.Schema.StringCount + col.Column])
    {
        _adjacency = edges.Direction(incoming);
    }

    /// <summary>
    /// From arrays (a graph store's candidates): <paramref name="weights"/> is each candidate's weight by the strategy (0:
    /// not a candidate, the edge type never reaches it), the value getters read column c of candidate n. True neighbours
    /// come with each call (<see cref="Sample"/>'s adjacency).
    /// </summary>
    public ConditionalNegativeSampler(double[] weights, NegativeCondition condition, Func<(int Node, int Column), long> intOf,
        Func<(int Node, int Column), float> floatOf, Func<(int Node, int Column), string> stringOf)
    {
        _all = new AliasTable(weights);
        // GraphLearn's order: int columns, then float, then string.
        var columns = new List<ColumnGroups>();
        var props = new List<float>();
        for (var j = 0; j < condition.IntCols.Count; j++)
        {
            var col = condition.IntCols[j];
            columns.Add(new ColumnGroups<long>(weights, node => intOf((node, col)), null));
            props.Add(condition.IntProps[j]);
        }
        for (var j = 0; j < condition.FloatCols.Count; j++)
        {
            var col = condition.FloatCols[j];
            columns.Add(new ColumnGroups<float>(weights, node => floatOf((node, col)), null));
            props.Add(condition.FloatProps[j]);
        }
        for (var j = 0; j < condition.StrCols.Count; j++)
        {
            var col = condition.StrCols[j];
            columns.Add(new ColumnGroups<string>(weights, node => stringOf((node, col)), StringComparer.Ordinal));
            props.Add(condition.StrProps[j]);
        }
        _columns = columns.ToArray();
        _props = props.ToArray();
        _batchShare = condition.BatchShare;
        _unique = condition.Unique;
    }

    /// <summary>
    /// Each candidate's weight by the strategy from its degree towards the sources (<paramref name="reached"/>'s rows, or
    /// <paramref name="degrees"/>): 0 for a node the edge type never reaches. Refused when no candidate is reached.
    /// </summary>
    public static double[] CandidateWeights(Csr reached, NegativeStrategy strategy, string edgeType)
    {
        var degrees = new int[reached.RowCount];
        for (var i = 0; i < degrees.Length; i++) degrees[i] = reached.Degree(i);
        return CandidateWeights(degrees, strategy, edgeType);
    }

    public static double[] CandidateWeights(ReadOnlySpan<int> degrees, NegativeStrategy strategy, string edgeType)
    {
        var weights = new double[degrees.Length];
        var any = false;
        for (var i = 0; i < weights.Length; i++)
        {
            var d = degrees[i];
            any |= d > 0;
            weights[i] = d == 0 ? 0 : strategy switch
            {
                NegativeStrategy.InDegree => d,
                NegativeStrategy.SmoothedInDegree => Math.Pow(d, NegativeSampler.DegreePower),
                _ => 1,
            };
        }
        if (!any) throw new InvalidOperationException($"{edgeType}: no node has an edge, so {strategy.Name()} negatives have nothing to draw from.");
        return weights;
    }

    /// <param name="sources">Dense ids of the negatives' sources (a row's source; -1 for padding).</param>
    /// <param name="targets">Dense ids of the positives, one per source (-1 for padding).</param>
    /// <param name="output">sources.Length × k dense ids, row-major.</param>
    /// <param name="adjacency">The sources' true neighbours (rows named by <paramref name="sources"/>); null: the walked CSR of a local graph.</param>
    public NegativeSampleStats Sample(ReadOnlySpan<int> sources, ReadOnlySpan<int> targets, int k, ref Xoshiro256 rng, Span<int> output, int maxRetries,
        Csr? adjacency = null)
    {
        adjacency ??= _adjacency ?? throw new ArgumentNullException(nameof(adjacency), "A sampler built from arrays takes the sources' adjacency with each call.");
        _picked.Clear();
        _batchTargets.Clear();
        if (_batchShare)
            foreach (var t in targets) if (t >= 0) _batchTargets.Add(t);
        int redrawn = 0, unresolved = 0;
        for (var row = 0; row < sources.Length; row++)
        {
            if (!_batchShare) _picked.Clear();
            var src = sources[row];
            var target = targets[row];
            var slots = output.Slice(row * k, k);
            var filled = 0;
            for (var j = 0; j < _columns.Length && target >= 0; j++)
            {
                // GraphLearn multiplies in float and truncates: k = 10, prop 0.25 gives 2.
                var share = Math.Min(k - filled, (int)(k * _props[j]));
                var group = share > 0 ? _columns[j].GroupOf(target) : -1;
                if (group < 0) continue;
                // A column gives up after its retries; what it could not find falls to the strategy below.
                for (int taken = 0, budget = share * (maxRetries + 1); taken < share && budget > 0; budget--)
                {
                    var c = _columns[j].Draw(group, ref rng);
                    if (Refused(c, src, target, adjacency)) { redrawn++; continue; }
                    Take(c, slots, ref filled);
                    taken++;
                }
            }
            while (filled < k)
            {
                var c = _all.Next(ref rng);
                var tries = 0;
                while (Refused(c, src, target, adjacency) && tries < maxRetries)
                {
                    c = _all.Next(ref rng);
                    tries++;
                }
                redrawn += tries;
                if (tries == maxRetries && Refused(c, src, target, adjacency)) unresolved++;
                Take(c, slots, ref filled);
            }
        }
        return new NegativeSampleStats(sources.Length * k, redrawn, unresolved);
    }

    private void Take(int c, Span<int> slots, ref int filled)
    {
        slots[filled++] = c;
        if (_unique) _picked.Add(c);
    }

    private bool Refused(int c, int src, int target, Csr adjacency)
    {
        if (_unique && _picked.Contains(c)) return true;
        if (_batchShare) return _batchTargets.Contains(c);
        return c == target || (src >= 0 && adjacency.Contains(src, c));
    }

    /// <summary>The candidates of one attribute column grouped by value, each group with an alias table over its weights.</summary>
    private abstract class ColumnGroups
    {
        protected int[][] Members = [];
        protected AliasTable[] Tables = [];

        /// <summary>The group of <paramref name="node"/>'s value; -1 when no candidate holds it.</summary>
        public abstract int GroupOf(int node);

        public int Draw(int group, ref Xoshiro256 rng) => Members[group][Tables[group].Next(ref rng)];
    }

    private sealed class ColumnGroups<T> : ColumnGroups where T : notnull
    {
        private readonly Dictionary<T, int> _groupOf;
        private readonly Func<int, T> _valueOf;

        public ColumnGroups(double[] weights, Func<int, T> valueOf, IEqualityComparer<T>? comparer)
        {
            _valueOf = valueOf;
            _groupOf = new Dictionary<T, int>(comparer);
            var members = new List<List<int>>();
            var groupWeights = new List<List<double>>();
            for (var c = 0; c < weights.Length; c++)
            {
                if (weights[c] <= 0) continue; // not a candidate: the edge type never reaches it
                var value = valueOf(c);
                if (!_groupOf.TryGetValue(value, out var g))
                {
                    g = members.Count;
                    _groupOf.Add(value, g);
                    members.Add([]);
                    groupWeights.Add([]);
                }
                members[g].Add(c);
                groupWeights[g].Add(weights[c]);
            }
            Members = new int[members.Count][];
            Tables = new AliasTable[members.Count];
            for (var g = 0; g < members.Count; g++)
            {
                Members[g] = members[g].ToArray();
                Tables[g] = new AliasTable(groupWeights[g].ToArray());
            }
        }

        public override int GroupOf(int node) => _groupOf.TryGetValue(_valueOf(node), out var g) ? g : -1;
    }
}
