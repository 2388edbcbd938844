// GraphLearn's Graph object: declare node and edge sources, then Init() loads them into a HeteroGraph.
using GraphActors.Contracts;

namespace GraphActors.Graph.GraphLearn;

/// <summary>A node's columns, looked up by business id; the spans view the store, nothing is copied.</summary>
public readonly record struct NodeRecord(
    string NodeType, long Id, int DenseId, float Weight, int Label,
    ReadOnlyMemory<long> IntAttributes, ReadOnlyMemory<float> FloatAttributes, ReadOnlyMemory<string> StringAttributes)
{
    /// <summary>The feature vector: the float attributes, a row of the node type's feature slab.</summary>
    public ReadOnlySpan<float> Features => FloatAttributes.Span;
}

/// <summary>
/// The GraphLearn graph-building API: <c>g.Node(...).Edge(...).Init()</c>, with GraphLearn's argument order
/// (edge types as <c>(src_type, dst_type, edge_type)</c>) and its undirected semantics.
/// <para>
/// <see cref="Init()"/> runs in local mode: this process holds the whole graph. It reads every node source, then
/// every edge source, and publishes <see cref="Store"/> only when everything has loaded. On any error it throws and
/// the graph stays un-initialised with nothing kept, so Init may be called again once the input is fixed. After a
/// successful Init the graph is fixed: further Node, Edge or Init calls throw. Worker and server modes are
/// <c>InitAsync(WorkerMode)</c> and <c>InitAsync(ServerMode)</c> in GraphActors.Cluster.GraphLearn (they start a cluster node).
/// </para>
/// </summary>
public sealed class Graph
{
    private readonly List<NodeSource> _nodeSources = [];
    private readonly List<EdgeSource> _edgeSources = [];
    private HeteroGraph? _store;
    private Dictionary<(string NodeType, Mask Mask), long[]> _masked = [];
    private bool _closed;

    private sealed record NodeSource(string Source, string NodeType, Decoder Decoder, Mask Mask);

    private sealed record EdgeSource(string Source, (string SrcType, string DstType, string EdgeType) EdgeType, Decoder Decoder, bool Directed);

    /// <summary>
    /// Adds a node source of <paramref name="nodeType"/>; each node type has at most one. With a <paramref name="mask"/>
    /// (GraphLearn's <c>mask=gl.Mask.TRAIN</c>, TEST, VAL) the source is not the type's nodes but one of its sets:
    /// its ids, in file order, are what <c>g.V(nodeType, mask)</c> walks, while their attributes, neighbours and labels
    /// stay those of the type's nodes (an id the type does not hold is walked with the defaults and no neighbours, as
    /// GraphLearn's lookups answer for it). Its decoder only reads the file (GraphLearn's examples give TRAIN tables
    /// <c>Decoder(weighted=True)</c>). A type takes one source per mask; the sets may overlap, as GraphLearn does not check.
    /// </summary>
    public Graph Node(string source, string nodeType, Decoder decoder, Mask mask = Mask.None)
    {
        ThrowIfInitialized();
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeType);
        ArgumentNullException.ThrowIfNull(decoder);
        if (!Enum.IsDefined(mask)) throw new ArgumentOutOfRangeException(nameof(mask), mask, "A mask is None, Train, Test or Val.");
        foreach (var n in _nodeSources)
            if (n.NodeType == nodeType && n.Mask == mask)
                throw new ArgumentException(mask == Mask.None
                    ? $"Node type '{nodeType}' already has a source ('{n.Source}'); each node type takes one."
                    : $"Node type '{nodeType}' already has a {MaskName(mask)} source ('{n.Source}'); each node type takes one per mask.", nameof(nodeType));
        _nodeSources.Add(new NodeSource(source, nodeType, decoder, mask));
        return this;
    }

    /// <summary>
    /// Adds an edge source of type <c>(src_type, dst_type, edge_type)</c>. With <paramref name="directed"/> false,
    /// a same-type edge also gets every reverse edge (then (src, dst) pairs are de-duplicated); an edge between
    /// different types also gets a type <c>&lt;edge_type&gt;_reverse</c> from dst_type to src_type. Reverse edges
    /// keep their edge's weight, label and attributes.
    /// </summary>
    public Graph Edge(string source, (string SrcType, string DstType, string EdgeType) edgeType, Decoder decoder, bool directed = true)
    {
        ThrowIfInitialized();
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        ArgumentNullException.ThrowIfNull(decoder);
        if (string.IsNullOrWhiteSpace(edgeType.SrcType) || string.IsNullOrWhiteSpace(edgeType.DstType) || string.IsNullOrWhiteSpace(edgeType.EdgeType))
            throw new ArgumentException("An edge type needs (src_type, dst_type, edge_type), all non-empty.", nameof(edgeType));
        var name = edgeType.EdgeType;
        var reverse = !directed && edgeType.SrcType != edgeType.DstType ? name + CanonicalEdgeType.ReverseSuffix : null;
        foreach (var e in _edgeSources)
        {
            if (EdgeTypeNames(e).Contains(name) || (reverse is not null && EdgeTypeNames(e).Contains(reverse)))
                throw new ArgumentException(
                    $"Edge type '{reverse ?? name}' is already declared by source '{e.Source}'; GraphLearn addresses edge types by name.", nameof(edgeType));
        }
        _edgeSources.Add(new EdgeSource(source, edgeType, decoder, directed));
        return this;
    }

    /// <summary>Loads every source in local mode (this process holds the whole graph). Atomic: see the class remarks.</summary>
    public Graph Init()
    {
        ThrowIfInitialized();
        // A set of nodes of a type the graph will not hold would walk nothing but defaults: refuse it before reading files.
        var types = NodeTypes;
        foreach (var n in _nodeSources)
            if (n.Mask != Mask.None && !types.Contains(n.NodeType))
                throw new InvalidOperationException(
                    $"The {MaskName(n.Mask)} source '{n.Source}' lists '{n.NodeType}' nodes, but no node source or edge declares that type. " +
                    $"Declared node types: {string.Join(", ", types)}.");
        var builder = new HeteroGraphBuilder();
        foreach (var n in _nodeSources)
        {
            if (n.Mask != Mask.None) continue;
            var nodes = builder.AddNodeType(n.NodeType, n.Decoder.Attributes, n.Decoder.Weighted, n.Decoder.Labeled);
            LocalFileSource.LoadNodes(n.Source, n.Decoder, nodes);
        }
        // Node types are all declared by now, so an edge's endpoint type without a node source is implicit.
        var defaults = Defaults;
        var defaulted = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var e in _edgeSources)
        {
            var edges = builder.AddEdgeType(CanonicalEdgeType.FromGraphLearn(e.EdgeType), e.Decoder.Attributes,
                e.Decoder.Weighted, e.Decoder.Labeled, e.Directed);
            var (src, dst) = LocalFileSource.LoadEdges(e.Source, e.Decoder, edges, defaults);
            if (src > 0) defaulted[e.EdgeType.SrcType] = defaulted.GetValueOrDefault(e.EdgeType.SrcType) + src;
            if (dst > 0) defaulted[e.EdgeType.DstType] = defaulted.GetValueOrDefault(e.EdgeType.DstType) + dst;
        }
        // A masked source is read like a node source (same checks, a repeated id is an error), but only its ids are kept.
        var masked = new Dictionary<(string NodeType, Mask Mask), long[]>();
        foreach (var n in _nodeSources)
        {
            if (n.Mask == Mask.None) continue;
            var set = new HeteroGraphBuilder().AddNodeType(n.NodeType, n.Decoder.Attributes, n.Decoder.Weighted, n.Decoder.Labeled);
            LocalFileSource.LoadNodes(n.Source, n.Decoder, set);
            masked[(n.NodeType, n.Mask)] = set.BusinessIds.ToArray();
        }
        _store = builder.Build();
        _masked = masked;
        NodesWithDefaults = defaulted;
        return this;
    }

    /// <summary>
    /// The ids of the <paramref name="mask"/> source of <paramref name="nodeType"/>, in file order: the nodes GraphLearn's
    /// <c>g.V(type, mask=…)</c> walks.
    /// </summary>
    public IReadOnlyList<long> MaskedNodeIds(string nodeType, Mask mask)
    {
        _ = Store;
        if (mask == Mask.None)
            throw new ArgumentException("Mask.None is the whole node type; walk it with V(type).", nameof(mask));
        if (_masked.TryGetValue((nodeType, mask), out var ids)) return ids;
        var declared = _masked.Keys.Select(k => $"{k.NodeType} {MaskName(k.Mask)}").ToArray();
        throw new KeyNotFoundException(
            $"Node type '{nodeType}' has no {MaskName(mask)} source; declare one with g.Node(source, \"{nodeType}\", decoder, Mask.{mask}). " +
            (declared.Length == 0 ? "The graph has no masked sources." : $"Masked sources: {string.Join(", ", declared)}."));
    }

    /// <summary>Whether <paramref name="nodeType"/> has a <paramref name="mask"/> source (after <see cref="Init()"/>).</summary>
    public bool HasMaskedSource(string nodeType, Mask mask)
    {
        _ = Store;
        return _masked.ContainsKey((nodeType, mask));
    }

    /// <summary>GraphLearn's spelling of a mask (gl.Mask.TRAIN).</summary>
    public static string MaskName(Mask mask) => mask.ToString().ToUpperInvariant();

    /// <summary>
    /// GraphLearn's default values (<c>gl.set_default_*</c>): the weight, label and attributes of a node an edge names
    /// but its node source does not list (set before <see cref="Init()"/>), and what <see cref="GetNode"/> answers for an
    /// id the graph does not hold.
    /// </summary>
    public AttributeDefaults Defaults { get; set; } = new();

    /// <summary>
    /// After <see cref="Init()"/>, per node type with a node source: how many nodes only edges named, which hold
    /// <see cref="Defaults"/> (GraphLearn keeps them silently; here they are counted so that a join gone wrong shows).
    /// </summary>
    public IReadOnlyDictionary<string, int> NodesWithDefaults { get; private set; } = new Dictionary<string, int>();

    public bool IsInitialized => _store is not null;

    /// <summary>
    /// GraphLearn's <c>g.close()</c>: lets go of the loaded graph (its memory is the collector's once nothing else holds
    /// <see cref="Store"/>). Every later use of the graph is an error naming the call; closing twice is allowed.
    /// </summary>
    public void Close()
    {
        _store = null;
        _masked = [];
        _closed = true;
    }

    /// <summary>The loaded graph: CSR per edge type, feature slab and id map per node type.</summary>
    public HeteroGraph Store => _store ?? throw new InvalidOperationException(_closed
        ? "The graph is closed (Close() was called); declare a new Graph to load one again."
        : "The graph is not initialised: call Init() after declaring its Node(...) and Edge(...) sources.");

    /// <summary>The declared node types, then the types only edges name, in declaration order.</summary>
    public IReadOnlyList<string> NodeTypes
    {
        get
        {
            var types = new List<string>();
            foreach (var n in _nodeSources)
                if (n.Mask == Mask.None) types.Add(n.NodeType);
            foreach (var e in _edgeSources)
            {
                if (!types.Contains(e.EdgeType.SrcType)) types.Add(e.EdgeType.SrcType);
                if (!types.Contains(e.EdgeType.DstType)) types.Add(e.EdgeType.DstType);
            }
            return types;
        }
    }

    /// <summary>Every edge type name, each undirected heterogeneous type followed by its <c>_reverse</c>.</summary>
    public IReadOnlyList<string> EdgeTypes
    {
        get
        {
            var names = new List<string>();
            foreach (var e in _edgeSources) names.AddRange(EdgeTypeNames(e));
            return names;
        }
    }

    /// <summary>GraphLearn's topology of an edge type: <c>(src_type, dst_type, edge_type)</c>; a reverse type is swapped.</summary>
    public (string SrcType, string DstType, string EdgeType) GetEdgeType(string edgeType)
    {
        var (source, reversed) = FindEdgeSource(edgeType);
        var t = source.EdgeType;
        return reversed ? (t.DstType, t.SrcType, edgeType) : t;
    }

    /// <summary>Whether the edge type is directed (a <c>_reverse</c> type shares its forward type's answer).</summary>
    public bool IsDirected(string edgeType) => FindEdgeSource(edgeType).Source.Directed;

    /// <summary>The decoder of a node type's source, or of its <paramref name="mask"/> source.</summary>
    public Decoder GetNodeDecoder(string nodeType, Mask mask = Mask.None)
    {
        foreach (var n in _nodeSources)
            if (n.NodeType == nodeType && n.Mask == mask) return n.Decoder;
        throw new KeyNotFoundException(
            $"Node type '{nodeType}' has no {(mask == Mask.None ? "node" : MaskName(mask))} source. Node sources: " +
            string.Join(", ", _nodeSources.Select(n => n.Mask == Mask.None ? n.NodeType : $"{n.NodeType} {MaskName(n.Mask)}")) + ".");
    }

    /// <summary>The decoder of an edge type; a <c>_reverse</c> type reads its forward type's source.</summary>
    public Decoder GetEdgeDecoder(string edgeType) => FindEdgeSource(edgeType).Source.Decoder;

    public int NodeCount(string nodeType) => Store.Nodes(nodeType).Count;

    /// <summary>Edges of a type as loaded: an undirected same-type edge counts its reverses, after de-duplication.</summary>
    public int EdgeCount(string edgeType) => Store.Edges(edgeType).Count;

    /// <summary>
    /// A node's weight, label and attributes by business id; for an id the graph does not hold, GraphLearn's answer:
    /// <see cref="Defaults"/> in every column (DenseId −1). <see cref="TryGetNode"/> tells the two apart.
    /// </summary>
    public NodeRecord GetNode(string nodeType, long id)
    {
        if (TryGetNode(nodeType, id, out var node)) return node;
        var s = Store.Nodes(nodeType).Data.Schema;
        var d = Defaults;
        return new NodeRecord(nodeType, id, -1, d.Weight, d.Label,
            Enumerable.Repeat(d.Int, s.IntCount).ToArray(), Enumerable.Repeat(d.Float, s.FloatCount).ToArray(),
            Enumerable.Repeat(d.String, s.StringCount).ToArray());
    }

    public bool TryGetNode(string nodeType, long id, out NodeRecord node)
    {
        var nodes = Store.Nodes(nodeType);
        if (!nodes.Ids.TryGetDense(id, out var dense))
        {
            node = default;
            return false;
        }
        var data = nodes.Data;
        var s = data.Schema;
        node = new NodeRecord(nodeType, id, dense, data.Weight(dense), data.Label(dense),
            data.Ints.Slice(dense * s.IntCount, s.IntCount),
            s.FloatCount == 0 ? ReadOnlyMemory<float>.Empty : data.Floats.Data.Slice(dense * s.FloatCount, s.FloatCount),
            data.Strings.Slice(dense * s.StringCount, s.StringCount));
        return true;
    }

    /// <summary>A node's feature vector (its float attributes) by business id; defaults for an id the graph does not hold.</summary>
    public ReadOnlySpan<float> GetFeatures(string nodeType, long id) => GetNode(nodeType, id).Features;

    private static IEnumerable<string> EdgeTypeNames(EdgeSource e)
    {
        yield return e.EdgeType.EdgeType;
        if (!e.Directed && e.EdgeType.SrcType != e.EdgeType.DstType) yield return e.EdgeType.EdgeType + CanonicalEdgeType.ReverseSuffix;
    }

    private (EdgeSource Source, bool Reversed) FindEdgeSource(string edgeType)
    {
        foreach (var e in _edgeSources)
        {
            if (e.EdgeType.EdgeType == edgeType) return (e, false);
            if (!e.Directed && e.EdgeType.SrcType != e.EdgeType.DstType && e.EdgeType.EdgeType + CanonicalEdgeType.ReverseSuffix == edgeType)
                return (e, true);
        }
        throw new KeyNotFoundException($"No edge type '{edgeType}'. Known: {string.Join(", ", EdgeTypes)}.");
    }

    private void ThrowIfInitialized()
    {
        if (_closed) throw new InvalidOperationException("The graph is closed (Close() was called); declare a new Graph to load one again.");
        if (_store is not null)
            throw new InvalidOperationException("The graph is already initialised; declare sources and call Init() on a new Graph to load another.");
    }
}
