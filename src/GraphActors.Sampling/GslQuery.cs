// GraphLearn's Graph Sampling Language (GSL) over a HeteroGraph: g.V("user").Batch(64).OutV("u2i").Sample(10).By("random")...
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.GraphLearn;

namespace GraphActors.Sampling;

/// <summary>The GSL entry points (GraphLearn's SOURCE operations).</summary>
public static class GslExtensions
{
    /// <summary>Traverses the nodes of <paramref name="nodeType"/> (GraphLearn's <c>g.V(type)</c>).</summary>
    public static GslQuery V(this HeteroGraph graph, string nodeType)
    {
        var nodes = graph.Nodes(nodeType);
        return GslQuery.Source(graph, StepKind.SourceNodes, null, nodes.Type);
    }

    /// <summary>
    /// Traverses the edges of <paramref name="edgeType"/> (GraphLearn's <c>g.E(type, reverse)</c>); <c>reverse</c>
    /// picks the <c>_reverse</c> type of an undirected edge between two node types, which can also be named directly
    /// (<c>"u2i_reverse"</c>). As in GraphLearn, a directed edge type has no reverse, nor has an undirected one within
    /// one node type (its edges already run both ways).
    /// </summary>
    public static GslQuery E(this HeteroGraph graph, string edgeType, bool reverse = false)
    {
        if (reverse && graph.TryGetEdges(edgeType, out var forward))
        {
            var t = forward.Type;
            if (forward.Schema.ReverseOf is { } of)
                throw new InvalidOperationException(
                    $"E(\"{edgeType}\", reverse: true): {t} is already the reverse of '{of.Relation}'; traverse its edges with E(\"{of.Relation}\").");
            if (forward.Schema.Directed)
                throw new InvalidOperationException(
                    $"E(\"{edgeType}\", reverse: true): {t} is directed, so it has no reverse edges; load it with directed: false, or use E(\"{edgeType}\").");
            if (t.Src == t.Dst)
                throw new InvalidOperationException(
                    $"E(\"{edgeType}\", reverse: true): {t} is undirected within {t.Src}, so its edges already hold both directions; use E(\"{edgeType}\").");
        }
        var edges = graph.Edges(edgeType, reverse);
        return GslQuery.Source(graph, StepKind.SourceEdges, edges, edges.Type.Src);
    }

    /// <summary>
    /// GraphLearn's <c>g.V(type, feed=ids)</c>: the sources are the given business ids, in their order, instead of the
    /// node table. Without <c>Batch(n)</c> they are one batch (GraphLearn hands the fed array over whole); with it,
    /// batches of n in order. An id the graph does not hold is kept as given: its attributes are the defaults and it has
    /// no neighbours (its hops are padding), as GraphLearn answers lookups of absent nodes.
    /// </summary>
    public static GslQuery V(this HeteroGraph graph, string nodeType, long[] feed)
    {
        ArgumentNullException.ThrowIfNull(feed);
        var nodes = graph.Nodes(nodeType);
        var query = FromIds(graph, nodes, feed, $"V({nodes.Type}, feed: {feed.Length} ids)");
        query.Plan.BatchSize = Math.Max(1, feed.Length);
        return query;
    }

    // Sources given as business ids, kept as given: an id the graph lacks walks with defaults and padding.
    private static GslQuery FromIds(HeteroGraph graph, NodeTypeData nodes, IReadOnlyList<long> ids, string description)
    {
        var dense = new int[ids.Count];
        var business = new long[ids.Count];
        for (var i = 0; i < dense.Length; i++)
        {
            business[i] = ids[i];
            dense[i] = nodes.Ids.TryGetDense(ids[i], out var d) ? d : -1;
        }
        var query = GslQuery.Source(graph, StepKind.SourceNodes, null, nodes.Type, description);
        query.Plan.SourceSet = dense;
        query.Plan.SourceIds = business;
        return query;
    }

    /// <summary>
    /// GraphLearn's <c>g.V(edge_type, node_from=gl.EDGE_SRC|gl.EDGE_DST)</c>: the distinct nodes that are a source (or a
    /// destination) of at least one edge of <paramref name="edgeType"/>, in id order, as the node sources of the query.
    /// </summary>
    public static GslQuery V(this HeteroGraph graph, string edgeType, NodeFrom nodeFrom)
    {
        var edges = graph.Edges(edgeType);
        var type = nodeFrom == NodeFrom.EdgeSrc ? edges.Type.Src : edges.Type.Dst;
        var csr = nodeFrom == NodeFrom.EdgeSrc ? edges.Out : edges.In;
        var offsets = csr.Offsets;
        var count = 0;
        for (var r = 0; r + 1 < offsets.Length; r++) if (offsets[r + 1] > offsets[r]) count++;
        var set = new int[count];
        for (int r = 0, k = 0; r + 1 < offsets.Length; r++) if (offsets[r + 1] > offsets[r]) set[k++] = r;
        var query = GslQuery.Source(graph, StepKind.SourceNodes, null, type,
            $"V({edges.Type.Relation}, node_from: {(nodeFrom == NodeFrom.EdgeSrc ? "EDGE_SRC" : "EDGE_DST")})");
        query.Plan.SourceSet = set;
        return query;
    }

    /// <summary><c>g.V(type)</c> on a GraphLearn <see cref="Graph.GraphLearn.Graph"/> after <c>Init()</c>.</summary>
    public static GslQuery V(this Graph.GraphLearn.Graph graph, string nodeType) => graph.Store.V(nodeType);

    /// <summary><c>g.V(type, feed=ids)</c> on a GraphLearn <see cref="Graph.GraphLearn.Graph"/> after <c>Init()</c>.</summary>
    public static GslQuery V(this Graph.GraphLearn.Graph graph, string nodeType, long[] feed) => graph.Store.V(nodeType, feed);

    /// <summary>
    /// GraphLearn's <c>g.V(type, mask=gl.Mask.TRAIN|TEST|VAL)</c>: walks the ids of the node source registered under
    /// <paramref name="mask"/> (<c>g.Node(source, type, decoder, Mask.Train)</c>), in file order, as nodes of
    /// <paramref name="nodeType"/> (their attributes, labels and neighbours are the type's); batch, shuffle and the
    /// hops as for <c>V(type)</c>. <see cref="Mask.None"/> walks the whole type.
    /// </summary>
    public static GslQuery V(this Graph.GraphLearn.Graph graph, string nodeType, Mask mask)
    {
        if (mask == Mask.None) return graph.V(nodeType);
        var ids = graph.MaskedNodeIds(nodeType, mask);
        var store = graph.Store;
        var nodes = store.Nodes(nodeType);
        return FromIds(store, nodes, ids, $"V({nodes.Type}, mask: {Graph.GraphLearn.Graph.MaskName(mask)})");
    }

    /// <summary><c>g.V(edge_type, node_from=…)</c> on a GraphLearn <see cref="Graph.GraphLearn.Graph"/> after <c>Init()</c>.</summary>
    public static GslQuery V(this Graph.GraphLearn.Graph graph, string edgeType, NodeFrom nodeFrom) => graph.Store.V(edgeType, nodeFrom);

    /// <summary><c>g.E(type, reverse)</c> on a GraphLearn <see cref="Graph.GraphLearn.Graph"/> after <c>Init()</c>.</summary>
    public static GslQuery E(this Graph.GraphLearn.Graph graph, string edgeType, bool reverse = false) => graph.Store.E(edgeType, reverse);
}

/// <summary>GraphLearn's <c>gl.EDGE_SRC</c> / <c>gl.EDGE_DST</c>: which end of an edge type <c>V(edge_type, node_from)</c> traverses.</summary>
public enum NodeFrom { EdgeSrc, EdgeDst }

internal enum StepKind { SourceNodes, SourceEdges, HopNodes, HopEdges, Negative, NodeNegative, Endpoint }

/// <summary>How a source step picks its batches.</summary>
internal enum SourceOrder
{
    /// <summary>In id order, every source once per epoch (GraphLearn without <c>shuffle</c>).</summary>
    Sequential,

    /// <summary>A fresh random order each epoch, every source once (<c>shuffle(traverse=True)</c>).</summary>
    Traverse,

    /// <summary>Every batch drawn uniformly with replacement, without end (<c>shuffle()</c>, <c>shuffle(traverse=False)</c>).</summary>
    WithReplacement,
}

/// <summary>Graph-wide settings GraphLearn keeps as globals; here they belong to one dataset.</summary>
public sealed record GslOptions
{
    public static readonly GslOptions Default = new();

    /// <summary>Seeds every draw; the same seed gives the same batches, epoch by epoch.</summary>
    public ulong Seed { get; init; }

    /// <summary>GraphLearn's <c>set_padding_mode</c>.</summary>
    public PaddingMode Padding { get; init; } = PaddingMode.Replicate;

    /// <summary>GraphLearn's <c>set_default_neighbor_id</c>: the business id reported in a padding slot (its dense id is -1).</summary>
    public long DefaultNeighborId { get; init; }

    /// <summary>Draws a negative may take before it is kept although it is a true neighbour (and counted as unresolved).</summary>
    public int MaxNegativeRetries { get; init; } = NegativeSampler.DefaultMaxRetries;

    /// <summary>
    /// GraphLearn's <c>gl.Dataset(query, window=N)</c>: how many batches a background task builds ahead of the reader.
    /// 0 (the default here; GraphLearn's is 10) builds each batch when it is asked for, on the reader's thread.
    /// </summary>
    public int Window { get; init; }

    /// <summary>How long a reader waits for the prefetch task to build a batch, and Dispose for the task to stop.</summary>
    public TimeSpan PrefetchTimeout { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// One operation of a GSL query; every call that walks further returns a new step, so a step held in a variable can
/// be continued more than once (GraphLearn's multiplexed downstream). <see cref="Values"/> on any step runs the whole tree.
/// </summary>
public sealed class GslQuery
{
    private readonly QueryPlan _plan;

    private GslQuery(QueryPlan plan, GslQuery? parent, StepKind kind, EdgeTypeData? edges, bool incoming, NodeType nodeType, string description,
        CanonicalEdgeType? edgeType = null)
    {
        _plan = plan;
        Parent = parent;
        Kind = kind;
        EdgeData = edges;
        EdgeType = edges?.Type ?? edgeType;
        Incoming = incoming;
        NodeType = nodeType;
        Description = description;
        Index = plan.Steps.Count;
        plan.Steps.Add(this);
    }

    internal GslQuery? Parent { get; }
    internal StepKind Kind { get; }
    /// <summary>The walked edge type's data (local graphs only); null for a node source, an endpoint and a node-table negative.</summary>
    internal EdgeTypeData? EdgeData { get; }
    /// <summary>The walked edge type, local or in a store; null where <see cref="EdgeData"/> would be.</summary>
    internal CanonicalEdgeType? EdgeType { get; }
    /// <summary>Hops: walk the in-CSR. Endpoints: take the walked edge's far end (inV) rather than its near end (outV).</summary>
    internal bool Incoming { get; }
    /// <summary>The node type of a node step; for an edge step, the type of the walked edge's near end.</summary>
    internal NodeType NodeType { get; }
    internal string Description { get; }
    internal int Index { get; }
    internal int K { get; private set; } = -1;
    internal string? StrategyName { get; private set; }
    internal string? AliasName { get; private set; }
    internal bool? ExcludeNeighbors { get; private set; }
    /// <summary>The positives a conditioned negative step pairs its rows with (GraphLearn's <c>where</c> target).</summary>
    internal GslQuery? WhereTarget { get; private set; }
    internal NegativeCondition? Condition { get; private set; }
    internal QueryPlan Plan => _plan;

    internal bool ProducesEdges => Kind is StepKind.SourceEdges or StepKind.HopEdges;

    internal static GslQuery Source(HeteroGraph graph, StepKind kind, EdgeTypeData? edges, NodeType type, string? description = null) =>
        new(new QueryPlan(graph), null, kind, edges, false, type,
            description ?? (kind == StepKind.SourceNodes ? $"V({type})" : $"E({edges!.Type.Relation})"));

    /// <summary>The source step of a query over a graph store (<see cref="GslStore"/>).</summary>
    internal static GslQuery Source(GslStore store, StepKind kind, CanonicalEdgeType? edgeType, NodeType type, string description) =>
        new(new QueryPlan(store), null, kind, null, false, type, description, edgeType);

    /// <summary>How many sources each batch takes (GraphLearn's <c>batch</c>); the last batch of an epoch may be smaller.</summary>
    public GslQuery Batch(int size)
    {
        RequireSource("Batch");
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "A batch needs at least one source.");
        _plan.BatchSize = size;
        return this;
    }

    /// <summary>
    /// Random sources, as GraphLearn's <c>shuffle(traverse)</c>. By default (<c>traverse: false</c>, GraphLearn's default)
    /// every batch draws its sources uniformly with replacement and the dataset never ends: no epoch, no
    /// <see cref="OutOfRangeException"/>, every batch full. <c>traverse: true</c> visits every source once per epoch in a
    /// fresh random order, the last batch of an epoch possibly smaller, then reports the end of the epoch.
    /// </summary>
    public GslQuery Shuffle(bool traverse = false)
    {
        RequireSource("Shuffle");
        _plan.Order = traverse ? SourceOrder.Traverse : SourceOrder.WithReplacement;
        return this;
    }

    public GslQuery Alias(string name)
    {
        Mutable();
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("An alias needs a name.", nameof(name));
        AliasName = name;
        return this;
    }

    /// <summary>From nodes: neighbours along out-edges of <paramref name="edgeType"/>. From edges (no argument): the edge's source end.</summary>
    public GslQuery OutV(string edgeType) => Hop(StepKind.HopNodes, edgeType, incoming: false, "outV");

    /// <summary>Neighbours along in-edges; as in GraphLearn, only an undirected edge type has them.</summary>
    public GslQuery InV(string edgeType) => Hop(StepKind.HopNodes, edgeType, incoming: true, "inV");
    public GslQuery OutE(string edgeType) => Hop(StepKind.HopEdges, edgeType, incoming: false, "outE");

    /// <summary>Edges along in-edges; as in GraphLearn, only an undirected edge type has them.</summary>
    public GslQuery InE(string edgeType) => Hop(StepKind.HopEdges, edgeType, incoming: true, "inE");

    /// <summary>
    /// Negatives along out-edges (GraphLearn's <c>outNeg</c>): drawn from the ids the edge type reaches (its destination
    /// ids), preferably not out-neighbours of the source.
    /// </summary>
    public GslQuery OutNeg(string edgeType) => Hop(StepKind.Negative, edgeType, incoming: false, "outNeg");

    /// <summary>Negatives along in-edges, from the edge type's source ids; as in GraphLearn, only an undirected edge type has them.</summary>
    public GslQuery InNeg(string edgeType) => Hop(StepKind.Negative, edgeType, incoming: true, "inNeg");

    /// <summary>
    /// Negatives from the node table of <paramref name="nodeType"/> (GraphLearn's <c>Neg(node_type)</c>, whose one
    /// strategy is <c>node_weight</c>): nodes drawn ∝ their weight, preferably none of the batch's source ids.
    /// </summary>
    public GslQuery Neg(string nodeType)
    {
        Mutable();
        if (ProducesEdges)
            throw new InvalidOperationException($"Neg({nodeType}) draws for nodes; after {Description} take an end first with outV() or inV().");
        if (_plan.Store is { } store)
        {
            var type = store.Node(nodeType);
            if (!store.Store.Schema.Node(type).Columns.Weighted)
                throw new NotSupportedException(
                    $"Neg({nodeType}) draws by node_weight, and the graph store holds no weights of {nodeType} nodes: its source was unweighted, or the " +
                    "store came from CGDF (which keeps features and labels only). Load the nodes with a weighted decoder, or draw along an edge type with outNeg(edgeType).");
            return new GslQuery(_plan, this, StepKind.NodeNegative, null, false, type, $"Neg({nodeType})");
        }
        var nodes = _plan.Graph.Nodes(nodeType);
        if (!nodes.Data.HasWeights)
            throw new InvalidOperationException(
                $"Neg({nodeType}) draws by node_weight, but {nodeType} nodes carry no weight; load them with a weighted decoder.");
        return new GslQuery(_plan, this, StepKind.NodeNegative, null, false, nodes.Type, $"Neg({nodeType})");
    }

    /// <summary>The source end of the edges of this step (as walked: the node the walk came from).</summary>
    public GslQuery OutV() => Endpoint(farEnd: false);

    /// <summary>The destination end of the edges of this step (as walked: the node the walk reached).</summary>
    public GslQuery InV() => Endpoint(farEnd: true);

    /// <summary>
    /// k per source. After <c>By("full")</c> k is a cap, as in GraphLearn: a row keeps its first k neighbours (in row
    /// order) and a shorter row stays short; without Sample(k), full returns every neighbour.
    /// </summary>
    public GslQuery Sample(int k)
    {
        Mutable();
        if (Kind is not (StepKind.HopNodes or StepKind.HopEdges or StepKind.Negative or StepKind.NodeNegative))
            throw new InvalidOperationException($"Sample() follows a hop (outV/inV/outE/inE/outNeg/inNeg/Neg), not {Description}.");
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "Sample(k) needs k > 0.");
        K = k;
        return this;
    }

    /// <summary>
    /// The strategy by GraphLearn name: random, random_without_replacement, edge_weight, topk, full, in_degree; for
    /// outNeg/inNeg random, in_degree or in_degree_pow0.75; for Neg(nodeType) node_weight.
    /// </summary>
    public GslQuery By(string strategy)
    {
        Mutable();
        if (Kind == StepKind.Negative) StrategyNames.ParseNegative(strategy);
        else if (Kind is StepKind.HopNodes or StepKind.HopEdges) StrategyNames.ParseNeighbor(strategy);
        else if (Kind == StepKind.NodeNegative)
        {
            if (strategy != StrategyNames.NodeWeight)
                throw new ArgumentException($"{Description} draws from a node table by node_weight only, not '{strategy}'; for {strategy} negatives along an edge type use outNeg(edgeType).", nameof(strategy));
        }
        else throw new InvalidOperationException($"By() follows Sample(), not {Description}.");
        StrategyName = strategy;
        return this;
    }

    /// <summary>
    /// Whether negatives must avoid true neighbours of their source. Unset, GraphLearn's documented defaults hold:
    /// <c>random</c> is not guaranteed true-negative, <c>in_degree</c> is (and so is <c>in_degree_pow0.75</c>).
    /// </summary>
    public GslQuery ExcludeTrueNeighbors(bool exclude = true)
    {
        Mutable();
        if (Kind != StepKind.Negative) throw new InvalidOperationException("ExcludeTrueNeighbors() applies to outNeg/inNeg steps.");
        ExcludeNeighbors = exclude;
        return this;
    }

    /// <summary>
    /// GraphLearn's conditional negatives, <c>outNeg(t).sample(k).by(s).where(target, condition)</c>: row i of these
    /// negatives pairs with node i of the step aliased <paramref name="target"/> (the positive, e.g. the destination of
    /// a walked edge), and the <paramref name="condition"/> says which attributes of the positive a share of the
    /// negatives must hold and what they must avoid (see <see cref="NegativeCondition"/>). Strategies random, in_degree
    /// and in_degree_pow0.75. The target must already carry its alias, yield nodes of this step's type and have one
    /// node per source of this step.
    /// </summary>
    public GslQuery Where(string target, NegativeCondition? condition = null)
    {
        Mutable();
        var where = $"{Description}.Where(\"{target}\")";
        if (Kind != StepKind.Negative)
            throw new InvalidOperationException($"{where}: Where() conditions the negatives of outNeg/inNeg, not {Description}.");
        if (WhereTarget is not null)
            throw new InvalidOperationException($"{where}: {Description} already has Where(\"{WhereTarget.AliasName}\"); a negative step takes one condition.");
        ArgumentException.ThrowIfNullOrWhiteSpace(target);
        GslQuery? positive = null;
        foreach (var s in _plan.Steps)
            if (s.AliasName == target) positive = s;
        if (positive is null)
            throw new ArgumentException(
                $"{where}: no step is aliased '{target}' yet; alias the positive step before Where(). Aliases so far: {string.Join(", ", _plan.Aliases())}.",
                nameof(target));
        if (positive.ProducesEdges)
            throw new ArgumentException(
                $"{where}: '{target}' is {positive.Description}, which holds edges; the target is the positive nodes, e.g. an edge step's InV().", nameof(target));
        if (positive.IsSelfOrDescendantOf(this))
            throw new ArgumentException($"{where}: '{target}' is this step or walks on from it; the target is the positives the negatives are drawn against.", nameof(target));
        if (positive.NodeType != NodeType)
            throw new ArgumentException(
                $"{where}: '{target}' yields {positive.NodeType} nodes but {Description} draws {NodeType} nodes; the condition compares attributes within one node type.",
                nameof(target));
        condition ??= new NegativeCondition();
        if (_plan.Store is { } graphStore)
        {
            var schema = graphStore.Store.Schema.Node(NodeType);
            condition.Validate(NodeType.Name, schema.Columns.IntCount, schema.FeatureDim, schema.Columns.StringCount, where);
        }
        else condition.Validate(_plan.Graph.Nodes(NodeType), where);
        WhereTarget = positive;
        Condition = condition;
        return this;
    }

    /// <summary>
    /// <see cref="Where(string, NegativeCondition)"/> with GraphLearn's dictionary, keys <c>batch_share</c>, <c>unique</c>,
    /// <c>int_cols</c>, <c>int_props</c>, <c>float_cols</c>, <c>float_props</c>, <c>str_cols</c>, <c>str_props</c>.
    /// </summary>
    public GslQuery Where(string target, IReadOnlyDictionary<string, object> condition) => Where(target, NegativeCondition.FromGraphLearn(condition));

    /// <summary>
    /// GraphLearn's <c>each(lambda v: (branch, branch, …))</c>: continues this step along several sub-queries at once.
    /// Each branch is given this step and returns the step it ends with; every step of every branch lands in the batch
    /// under its alias, with the shape it would have as a single chain. Returns this step, as GraphLearn's <c>each</c>
    /// does, so the query may go on or end with <see cref="Values"/>.
    /// </summary>
    public GslQuery Each(params Func<GslQuery, GslQuery>[] branches)
    {
        Mutable();
        ArgumentNullException.ThrowIfNull(branches);
        if (branches.Length == 0) throw new ArgumentException($"Each() on {Description} needs at least one branch.", nameof(branches));
        for (var i = 0; i < branches.Length; i++)
        {
            var branch = branches[i] ?? throw new ArgumentNullException(nameof(branches), $"Branch {i} of Each() on {Description} is null.");
            var end = branch(this)
                ?? throw new InvalidOperationException($"Branch {i} of Each() on {Description} returned null; return the step the branch ends with.");
            if (!end.IsSelfOrDescendantOf(this))
                throw new InvalidOperationException(
                    $"Branch {i} of Each() on {Description} ends with {end.Description}, which does not continue {Description}; a branch walks on from the step it is given.");
        }
        return this;
    }

    /// <summary>Ends the query (GraphLearn's <c>values()</c>): a dataset whose enumeration is one epoch of batches.</summary>
    public GslDataset Values(GslOptions? options = null)
    {
        _plan.Validate();
        _plan.Frozen = true;
        return new GslDataset(_plan, options ?? GslOptions.Default);
    }

    private GslQuery Hop(StepKind kind, string edgeType, bool incoming, string verb)
    {
        Mutable();
        if (ProducesEdges)
            throw new InvalidOperationException($"{verb}({edgeType}) walks from nodes; after {Description} take an end first with outV() or inV().");
        if (_plan.Store is { } store)
        {
            var t = store.Edge(edgeType);
            if (incoming) store.RequireInDirection(t, verb);
            var from = incoming ? t.Dst : t.Src;
            if (from != NodeType)
                throw new InvalidOperationException($"{verb}({edgeType}) starts from {from} nodes, but {Description} yields {NodeType} nodes. Edge type {t}.");
            var to = incoming ? t.Src : t.Dst;
            return new GslQuery(_plan, this, kind, null, incoming, kind == StepKind.HopEdges ? from : to, $"{verb}({edgeType})", t);
        }
        var edges = _plan.Graph.Edges(edgeType);
        if (incoming) RequireInDirection(edges, verb);
        var near = incoming ? edges.Type.Dst : edges.Type.Src;
        if (near != NodeType)
            throw new InvalidOperationException(
                $"{verb}({edgeType}) starts from {near} nodes, but {Description} yields {NodeType} nodes. Edge type {edges.Type}.");
        var far = incoming ? edges.Type.Src : edges.Type.Dst;
        return new GslQuery(_plan, this, kind, edges, incoming, kind == StepKind.HopEdges ? near : far, $"{verb}({edgeType})");
    }

    // GraphLearn walks an edge type backwards only through the reverse edges an undirected type loads.
    private static void RequireInDirection(EdgeTypeData edges, string verb)
    {
        var t = edges.Type;
        var outVerb = "out" + verb[2..];
        if (edges.Schema.ReverseOf is { } of)
            throw new InvalidOperationException(
                $"{verb}({t.Relation}): {t} is the reverse of '{of.Relation}' and has no reverse of its own; walk it backwards with {outVerb}(\"{of.Relation}\").");
        if (edges.Schema.Directed)
            throw new InvalidOperationException(
                $"{verb}({t.Relation}): {t} is directed, so it has no in-direction; walk it with {outVerb}(\"{t.Relation}\") from its {t.Src} end, or load it with directed: false.");
    }

    private GslQuery Endpoint(bool farEnd)
    {
        Mutable();
        if (!ProducesEdges)
            throw new InvalidOperationException($"{(farEnd ? "inV" : "outV")}() without an edge type follows an edge step; {Description} yields nodes.");
        var t = EdgeType!.Value;
        var walkedBackwards = Kind == StepKind.HopEdges && Incoming;
        var type = farEnd ^ walkedBackwards ? t.Dst : t.Src;
        return new GslQuery(_plan, this, StepKind.Endpoint, null, farEnd, type, farEnd ? "inV()" : "outV()");
    }

    internal bool IsSelfOrDescendantOf(GslQuery ancestor)
    {
        for (var s = this; s is not null; s = s.Parent)
            if (ReferenceEquals(s, ancestor)) return true;
        return false;
    }

    private void RequireSource(string what)
    {
        Mutable();
        if (Parent is not null) throw new InvalidOperationException($"{what}() belongs right after V() or E(), not after {Description}.");
    }

    private void Mutable()
    {
        if (_plan.Frozen) throw new InvalidOperationException("This query already ended with Values(); build a new query to change it.");
    }
}

/// <summary>The steps of one query tree, in the order they were written (parents before children).</summary>
internal sealed class QueryPlan
{
    private readonly HeteroGraph? _graph;

    public QueryPlan(HeteroGraph graph) => _graph = graph;

    public QueryPlan(GslStore store) => Store = store;

    /// <summary>The local graph the query walks; a query over a graph store has none.</summary>
    public HeteroGraph Graph => _graph ?? throw new InvalidOperationException("This query runs over a graph store, not a local graph.");

    /// <summary>The graph store the query walks (worker and server mode), or null over a local graph.</summary>
    public GslStore? Store { get; }
    public List<GslQuery> Steps { get; } = [];
    public int BatchSize { get; set; } = 64;
    public SourceOrder Order { get; set; }
    /// <summary>The source step's dense ids when they are not the whole node table (feed, node_from); -1 for a fed id the graph lacks.</summary>
    public int[]? SourceSet { get; set; }
    /// <summary>The fed business ids, parallel to <see cref="SourceSet"/> (feed only).</summary>
    public long[]? SourceIds { get; set; }
    /// <summary>Over a graph store: the sources are a chosen set of the type's nodes (a mask's, or node_from's), not all of them.</summary>
    public ChosenSources? ChosenSources { get; set; }
    public bool Frozen { get; set; }

    public IEnumerable<string> Aliases()
    {
        foreach (var s in Steps)
            if (s.AliasName is not null) yield return s.AliasName;
    }

    /// <summary>
    /// Step indices in an order that computes every step after its parent and after its <c>Where</c> target (a target
    /// may have been written after the negatives it conditions, in another branch).
    /// </summary>
    public int[] ExecutionOrder()
    {
        var order = new List<int>(Steps.Count);
        var state = new byte[Steps.Count]; // 0 unvisited, 1 on the path, 2 done
        foreach (var s in Steps) Visit(s);
        return order.ToArray();

        void Visit(GslQuery s)
        {
            if (state[s.Index] == 2) return;
            if (state[s.Index] == 1)
                throw new InvalidOperationException($"Step {s.Description} ('{s.AliasName}') depends on itself through Where() targets.");
            state[s.Index] = 1;
            if (s.Parent is not null) Visit(s.Parent);
            if (s.WhereTarget is not null) Visit(s.WhereTarget);
            state[s.Index] = 2;
            order.Add(s.Index);
        }
    }

    /// <summary>How many values a step yields per source of the batch; null when a full hop makes it ragged.</summary>
    private static long? PerSource(GslQuery s) => s.Kind switch
    {
        StepKind.SourceNodes or StepKind.SourceEdges => 1,
        StepKind.Endpoint => PerSource(s.Parent!),
        StepKind.HopNodes or StepKind.HopEdges when StrategyNames.ParseNeighbor(s.StrategyName!) == SamplingStrategy.Full => null,
        _ => PerSource(s.Parent!) * s.K,
    };

    public void Validate()
    {
        var aliases = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in Steps)
        {
            if (s.AliasName is null)
                throw new InvalidOperationException($"Step {s.Description} has no alias; GSL names every step with Alias() to read its result.");
            if (!aliases.Add(s.AliasName)) throw new InvalidOperationException($"Alias '{s.AliasName}' is used twice.");
            if (s.Kind is StepKind.HopNodes or StepKind.HopEdges or StepKind.Negative or StepKind.NodeNegative)
            {
                if (s.StrategyName is null) throw new InvalidOperationException($"Step {s.Description} ('{s.AliasName}') needs By(strategy).");
                var full = s.Kind is StepKind.HopNodes or StepKind.HopEdges && StrategyNames.ParseNeighbor(s.StrategyName) == SamplingStrategy.Full;
                if (s.K <= 0 && !full) throw new InvalidOperationException($"Step {s.Description} ('{s.AliasName}') needs Sample(k).");
            }
        }
        foreach (var s in Steps)
        {
            if (s.WhereTarget is not { } target) continue;
            var where = $"{s.Description}.Where(\"{target.AliasName}\")";
            if (s.ExcludeNeighbors is not null)
                throw new InvalidOperationException(
                    $"{where} ('{s.AliasName}'): Where() decides what the negatives avoid (the source's neighbours and the positive, or with batch_share the batch's positives); drop ExcludeTrueNeighbors().");
            // GraphLearn pairs source i with positive i, so both must come as many per batch source.
            if (PerSource(s.Parent!) is { } sources && PerSource(target) is { } positives && sources != positives)
                throw new InvalidOperationException(
                    $"{where} ('{s.AliasName}'): the negatives' sources '{s.Parent!.AliasName}' come {sources} per batch source but the positives '{target.AliasName}' " +
                    $"{positives}; row i of the negatives pairs source i with positive i, so they must line up.");
        }
    }
}
