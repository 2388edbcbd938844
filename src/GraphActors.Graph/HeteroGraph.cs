// The in-memory heterogeneous graph: one node store per node type, one edge store per canonical edge type.
using GraphActors.Contracts;

namespace GraphActors.Graph;

/// <summary>All nodes of one type: business ↔ dense ids, features (the float attributes), labels, other attributes.</summary>
public sealed class NodeTypeData
{
    public NodeTypeData(NodeTypeSchema schema, IdMap ids, ElementData data)
    {
        if (ids.Count != data.Count) throw new ArgumentException($"{schema.Type}: {ids.Count} ids but {data.Count} data rows.");
        Schema = schema;
        Ids = ids;
        Data = data;
    }

    public NodeTypeSchema Schema { get; }
    public NodeType Type => Schema.Type;
    public int Count => Data.Count;
    public IdMap Ids { get; }
    public ElementData Data { get; }
    public FeatureSlab Features => Data.Floats;
    public long MemoryBytes => Ids.MemoryBytes + Data.MemoryBytes;
}

/// <summary>All edges of one canonical type: out-CSR (rows = source dense ids), in-CSR (rows = destination dense ids) and edge data by edge id.</summary>
public sealed class EdgeTypeData
{
    public EdgeTypeData(EdgeTypeSchema schema, Csr @out, Csr @in, ElementData data)
    {
        if (@out.EdgeCount != @in.EdgeCount || @out.EdgeCount != data.Count)
            throw new ArgumentException($"{schema.Type}: out-CSR, in-CSR and edge data disagree on the edge count.");
        Schema = schema;
        Out = @out;
        In = @in;
        Data = data;
    }

    public EdgeTypeSchema Schema { get; }
    public CanonicalEdgeType Type => Schema.Type;
    public int Count => Data.Count;
    public Csr Out { get; }
    public Csr In { get; }
    public ElementData Data { get; }
    public long MemoryBytes => Out.ByteSize + In.ByteSize + Data.MemoryBytes;

    /// <summary>The CSR to hop along: out-edges (src → dst) or in-edges (dst → src).</summary>
    public Csr Direction(bool incoming) => incoming ? In : Out;
}

public sealed class HeteroGraph
{
    private readonly Dictionary<NodeType, NodeTypeData> _nodes;
    private readonly Dictionary<CanonicalEdgeType, EdgeTypeData> _edges;
    private readonly Dictionary<string, EdgeTypeData> _edgesByRelation;

    public HeteroGraph(IReadOnlyList<NodeTypeData> nodeTypes, IReadOnlyList<EdgeTypeData> edgeTypes)
    {
        NodeTypes = nodeTypes;
        EdgeTypes = edgeTypes;
        _nodes = nodeTypes.ToDictionary(n => n.Type);
        _edges = edgeTypes.ToDictionary(e => e.Type);
        _edgesByRelation = new Dictionary<string, EdgeTypeData>(StringComparer.Ordinal);
        foreach (var e in edgeTypes)
        {
            if (!_nodes.TryGetValue(e.Type.Src, out var src) || !_nodes.TryGetValue(e.Type.Dst, out var dst))
                throw new ArgumentException($"Edge type {e.Type} names a node type the graph does not have.");
            if (e.Out.RowCount != src.Count || e.In.RowCount != dst.Count)
                throw new ArgumentException($"Edge type {e.Type}: CSR rows disagree with the node counts ({src.Count}, {dst.Count}).");
            if (!_edgesByRelation.TryAdd(e.Type.Relation, e))
                throw new ArgumentException($"Edge type name '{e.Type.Relation}' is used twice; GraphLearn addresses edge types by name, so names must be unique.");
        }
        Schema = new GraphSchema(nodeTypes.Select(n => n.Schema).ToArray(), edgeTypes.Select(e => e.Schema).ToArray());
    }

    public GraphSchema Schema { get; }
    public IReadOnlyList<NodeTypeData> NodeTypes { get; }
    public IReadOnlyList<EdgeTypeData> EdgeTypes { get; }

    public NodeTypeData Nodes(NodeType type) =>
        _nodes.TryGetValue(type, out var n) ? n
            : throw new KeyNotFoundException($"No node type '{type}'. Known: {string.Join(", ", _nodes.Keys)}.");

    public EdgeTypeData Edges(CanonicalEdgeType type) =>
        _edges.TryGetValue(type, out var e) ? e
            : throw new KeyNotFoundException($"No edge type {type}. Known: {string.Join(", ", _edges.Keys)}.");

    /// <summary>An edge type by GraphLearn name; <paramref name="reverse"/> picks the <c>_reverse</c> type of an undirected heterogeneous edge.</summary>
    public EdgeTypeData Edges(string relation, bool reverse = false)
    {
        var name = reverse ? relation + CanonicalEdgeType.ReverseSuffix : relation;
        if (_edgesByRelation.TryGetValue(name, out var e)) return e;
        if (reverse && _edgesByRelation.TryGetValue(relation, out var forward) && forward.Type.Src == forward.Type.Dst && !forward.Schema.Directed)
            return forward; // an undirected same-type edge is its own reverse
        throw new KeyNotFoundException($"No edge type '{name}'. Known: {string.Join(", ", _edgesByRelation.Keys)}.");
    }

    public bool HasNodeType(NodeType type) => _nodes.ContainsKey(type);
    public bool TryGetEdges(string relation, out EdgeTypeData edges) => _edgesByRelation.TryGetValue(relation, out edges!);

    public long MemoryBytes => NodeTypes.Sum(n => n.MemoryBytes) + EdgeTypes.Sum(e => e.MemoryBytes);
}
