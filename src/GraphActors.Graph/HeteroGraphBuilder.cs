// Collects nodes and edges, then lays them out as CSR and slabs in one Build() call.
using GraphActors.Contracts;

namespace GraphActors.Graph;

/// <summary>
/// Builds a <see cref="HeteroGraph"/>. Nodes are added by business id and get dense ids in arrival order;
/// edges are added by dense endpoint ids. <see cref="Build"/> sorts edges with stable counting sorts
/// (no comparison sort, no per-edge objects) and applies GraphLearn's undirected rules:
/// a same-type undirected edge type gains every reverse edge and is de-duplicated on (src, dst), keeping the
/// first occurrence; an undirected edge type between different node types gains a reverse type
/// <c>&lt;edge&gt;_reverse</c> (dst → src) holding the same edges with their weights and attributes.
/// Nothing is visible until Build() returns, so a failed load never yields a half-built graph.
/// </summary>
public sealed class HeteroGraphBuilder
{
    private readonly List<NodeTableBuilder> _nodes = [];
    private readonly List<EdgeTableBuilder> _edges = [];

    /// <summary>Declares a node type with its columns. Declaring a type twice is an error.</summary>
    public NodeTableBuilder AddNodeType(NodeType type, AttributeSchema attributes, bool weighted = false, bool labeled = false, int capacity = 16)
    {
        if (_nodes.Any(n => n.Type == type))
            throw new ArgumentException($"Node type '{type}' is declared twice.");
        var builder = new NodeTableBuilder(type, attributes, weighted, labeled, capacity);
        _nodes.Add(builder);
        return builder;
    }

    /// <summary>The builder of <paramref name="type"/>, declared or not; an undeclared type takes its nodes from edge endpoints.</summary>
    public NodeTableBuilder Nodes(NodeType type) =>
        _nodes.FirstOrDefault(n => n.Type == type) ?? AddImplicitNodeType(type);

    public bool HasNodeType(NodeType type) => _nodes.Any(n => n.Type == type);

    public EdgeTableBuilder AddEdgeType(CanonicalEdgeType type, AttributeSchema attributes, bool weighted = false, bool labeled = false,
        bool directed = true, int capacity = 16)
    {
        if (_edges.Any(e => e.Type.Relation == type.Relation))
            throw new ArgumentException($"Edge type '{type.Relation}' is declared twice.");
        if (!directed && type.Src != type.Dst && _edges.Any(e => e.Type.Relation == type.Relation + CanonicalEdgeType.ReverseSuffix))
            throw new ArgumentException($"Edge type '{type.Relation}{CanonicalEdgeType.ReverseSuffix}' already exists; undirected '{type.Relation}' needs that name.");
        var builder = new EdgeTableBuilder(type, attributes, weighted, labeled, directed, Nodes(type.Src), Nodes(type.Dst), capacity);
        _edges.Add(builder);
        return builder;
    }

    public HeteroGraph Build()
    {
        var nodeData = _nodes.Select(n => n.Build()).ToArray();
        var counts = nodeData.ToDictionary(n => n.Type, n => n.Count);
        var edgeData = new List<EdgeTypeData>();
        foreach (var e in _edges)
            edgeData.AddRange(e.Build(counts[e.Type.Src], counts[e.Type.Dst]));
        return new HeteroGraph(nodeData, edgeData);
    }

    private NodeTableBuilder AddImplicitNodeType(NodeType type)
    {
        var builder = new NodeTableBuilder(type, AttributeSchema.Empty, weighted: false, labeled: false, capacity: 16) { IsImplicit = true };
        _nodes.Add(builder);
        return builder;
    }
}

/// <summary>Per-element columns being filled; shared by node and edge tables.</summary>
internal sealed class ElementColumns
{
    private readonly GrowableArray<float>? _weights;
    private readonly GrowableArray<int>? _labels;
    private readonly GrowableArray<long> _ints;
    private readonly GrowableArray<float> _floats;
    private readonly GrowableArray<string> _strings;

    public ElementColumns(AttributeSchema schema, bool weighted, bool labeled, int capacity)
    {
        Schema = schema;
        _weights = weighted ? new GrowableArray<float>(capacity) : null;
        _labels = labeled ? new GrowableArray<int>(capacity) : null;
        _ints = new GrowableArray<long>(schema.IntCount == 0 ? 0 : capacity * schema.IntCount);
        _floats = new GrowableArray<float>(schema.FloatCount == 0 ? 0 : capacity * schema.FloatCount);
        _strings = new GrowableArray<string>(schema.StringCount == 0 ? 0 : capacity * schema.StringCount);
    }

    public AttributeSchema Schema { get; }
    public int Count { get; private set; }
    public bool Weighted => _weights is not null;
    public bool Labeled => _labels is not null;

    /// <summary>Throws unless the attribute spans fit the schema; callers check before touching any other column.</summary>
    public void CheckShape(ReadOnlySpan<long> ints, ReadOnlySpan<float> floats, ReadOnlySpan<string> strings)
    {
        if (ints.Length != Schema.IntCount || floats.Length != Schema.FloatCount || strings.Length != Schema.StringCount)
            throw new ArgumentException(
                $"Expected {Schema.IntCount} int, {Schema.FloatCount} float and {Schema.StringCount} string attributes; " +
                $"got {ints.Length}, {floats.Length} and {strings.Length}.");
    }

    public void Add(float weight, int label, ReadOnlySpan<long> ints, ReadOnlySpan<float> floats, ReadOnlySpan<string> strings)
    {
        CheckShape(ints, floats, strings);
        _weights?.Add(weight);
        _labels?.Add(label);
        _ints.AddRange(ints);
        _floats.AddRange(floats);
        _strings.AddRange(strings);
        Count++;
    }

    public int MaxLabel()
    {
        if (_labels is null) return -1;
        var max = -1;
        foreach (var l in _labels.AsSpan()) if (l > max) max = l;
        return max;
    }

    /// <summary>The columns as they are (rows in arrival order).</summary>
    public ElementData Build()
    {
        var count = Count;
        return new ElementData(count, Schema,
            _weights?.ToArrayAndRelease() ?? ReadOnlyMemory<float>.Empty,
            _labels?.ToArrayAndRelease() ?? ReadOnlyMemory<int>.Empty,
            _ints.ToArrayAndRelease(),
            Schema.FloatCount == 0 ? FeatureSlab.Empty : new FeatureSlab(count, Schema.FloatCount, _floats.ToArrayAndRelease()),
            _strings.ToArrayAndRelease());
    }

    /// <summary>The columns with rows taken in <paramref name="order"/> (each entry a row index; rows may repeat).</summary>
    public ElementData Build(ReadOnlySpan<int> order)
    {
        var n = order.Length;
        float[] weights = [];
        int[] labels = [];
        if (_weights is not null)
        {
            var src = _weights.AsSpan();
            weights = new float[n];
            for (var i = 0; i < n; i++) weights[i] = src[order[i]];
        }
        if (_labels is not null)
        {
            var src = _labels.AsSpan();
            labels = new int[n];
            for (var i = 0; i < n; i++) labels[i] = src[order[i]];
        }
        return new ElementData(n, Schema, weights, labels,
            Gather(_ints.AsSpan(), Schema.IntCount, order),
            Schema.FloatCount == 0 ? FeatureSlab.Empty : new FeatureSlab(n, Schema.FloatCount, Gather(_floats.AsSpan(), Schema.FloatCount, order)),
            Gather(_strings.AsSpan(), Schema.StringCount, order));
    }

    private static T[] Gather<T>(ReadOnlySpan<T> source, int width, ReadOnlySpan<int> order)
    {
        if (width == 0) return [];
        var result = new T[order.Length * width];
        for (var i = 0; i < order.Length; i++)
            source.Slice(order[i] * width, width).CopyTo(result.AsSpan(i * width, width));
        return result;
    }
}

/// <summary>The nodes of one type being collected.</summary>
public sealed class NodeTableBuilder
{
    private readonly ElementColumns _columns;
    private readonly IdMap _ids;

    internal NodeTableBuilder(NodeType type, AttributeSchema attributes, bool weighted, bool labeled, int capacity)
    {
        Type = type;
        _columns = new ElementColumns(attributes, weighted, labeled, capacity);
        _ids = new IdMap(capacity);
    }

    public NodeType Type { get; }
    public AttributeSchema Attributes => _columns.Schema;
    public bool Weighted => _columns.Weighted;
    public bool Labeled => _columns.Labeled;
    public int Count => _ids.Count;

    /// <summary>True when no node source declared the type: its nodes are the endpoints its edges name.</summary>
    public bool IsImplicit { get; internal init; }

    /// <summary>Adds a node; false when <paramref name="id"/> is already present (the existing dense id is returned).</summary>
    public bool TryAdd(long id, float weight, int label, ReadOnlySpan<long> ints, ReadOnlySpan<float> floats, ReadOnlySpan<string> strings, out int dense)
    {
        // Check first: an id added without its row would leave ids and columns out of step.
        _columns.CheckShape(ints, floats, strings);
        if (!_ids.TryAdd(id, out dense)) return false;
        _columns.Add(weight, label, ints, floats, strings);
        return true;
    }

    /// <summary>Adds a node that has only features (and optionally a label).</summary>
    public bool TryAdd(long id, ReadOnlySpan<float> features, int label, out int dense) =>
        TryAdd(id, 1f, label, [], features, [], out dense);

    public bool TryGetDense(long id, out int dense) => _ids.TryGetDense(id, out dense);

    /// <summary>The ids added so far, in the order they were added (their dense ids).</summary>
    internal ReadOnlySpan<long> BusinessIds => _ids.BusinessIds;

    /// <summary>For implicit node types: the dense id of an edge endpoint, adding the node on first sight.</summary>
    public int GetOrAddEndpoint(long id)
    {
        if (_ids.TryGetDense(id, out var dense)) return dense;
        TryAdd(id, 1f, -1, [], [], [], out dense);
        return dense;
    }

    /// <summary>
    /// The dense id of node <paramref name="id"/>, adding it with default values (weight, label, every attribute) when
    /// absent: GraphLearn's node of an edge that its node source does not list. True when it was added.
    /// </summary>
    public bool GetOrAddWithDefaults(long id, float weight, int label, long intValue, float floatValue, string stringValue, out int dense)
    {
        if (_ids.TryGetDense(id, out dense)) return false;
        var s = _columns.Schema;
        _defaultInts ??= Enumerable.Repeat(intValue, s.IntCount).ToArray();
        _defaultFloats ??= Enumerable.Repeat(floatValue, s.FloatCount).ToArray();
        _defaultStrings ??= Enumerable.Repeat(stringValue, s.StringCount).ToArray();
        TryAdd(id, weight, label, _defaultInts, _defaultFloats, _defaultStrings, out dense);
        return true;
    }

    private long[]? _defaultInts;
    private float[]? _defaultFloats;
    private string[]? _defaultStrings;

    internal NodeTypeData Build()
    {
        _ids.TrimExcess();
        var labelCount = _columns.MaxLabel() + 1;
        var schema = new NodeTypeSchema(Type, _columns.Schema, _columns.Weighted, _columns.Labeled, labelCount);
        return new NodeTypeData(schema, _ids, _columns.Build());
    }
}

/// <summary>The edges of one canonical type being collected, endpoints as dense ids.</summary>
public sealed class EdgeTableBuilder
{
    private readonly ElementColumns _columns;
    private readonly GrowableArray<int> _src;
    private readonly GrowableArray<int> _dst;

    internal EdgeTableBuilder(CanonicalEdgeType type, AttributeSchema attributes, bool weighted, bool labeled, bool directed,
        NodeTableBuilder srcNodes, NodeTableBuilder dstNodes, int capacity)
    {
        Type = type;
        Directed = directed;
        SrcNodes = srcNodes;
        DstNodes = dstNodes;
        _columns = new ElementColumns(attributes, weighted, labeled, capacity);
        _src = new GrowableArray<int>(capacity);
        _dst = new GrowableArray<int>(capacity);
    }

    public CanonicalEdgeType Type { get; }
    public bool Directed { get; }
    public NodeTableBuilder SrcNodes { get; }
    public NodeTableBuilder DstNodes { get; }
    public AttributeSchema Attributes => _columns.Schema;
    public bool Weighted => _columns.Weighted;
    public bool Labeled => _columns.Labeled;
    public int Count => _src.Count;

    public void Add(int src, int dst, float weight, int label, ReadOnlySpan<long> ints, ReadOnlySpan<float> floats, ReadOnlySpan<string> strings)
    {
        if (_src.Count == int.MaxValue) throw new InvalidOperationException($"Edge type {Type} exceeds 2^31 - 1 edges.");
        // Check first: endpoints added without their row would leave the CSR and the edge data out of step.
        _columns.CheckShape(ints, floats, strings);
        _src.Add(src);
        _dst.Add(dst);
        _columns.Add(weight, label, ints, floats, strings);
    }

    public void Add(int src, int dst, float weight = 1f) => Add(src, dst, weight, -1, [], [], []);

    internal IEnumerable<EdgeTypeData> Build(int srcCount, int dstCount)
    {
        var src = _src.ToArrayAndRelease();
        var dst = _dst.ToArrayAndRelease();
        var schema = new EdgeTypeSchema(Type, _columns.Schema, _columns.Weighted, _columns.Labeled, Directed);
        if (Directed)
            return [CsrLayout.Build(schema, src, dst, srcCount, dstCount, _columns, dedup: false)];
        if (Type.Src == Type.Dst)
        {
            // Row i ≥ E stands for edge i - E reversed; the stable sort keeps originals ahead of their reverses,
            // so de-duplication keeps an input edge over a reverse that coincides with it.
            var e = src.Length;
            var both = new int[2 * e];
            var bothDst = new int[2 * e];
            src.CopyTo(both, 0); dst.CopyTo(both, e);
            dst.CopyTo(bothDst, 0); src.CopyTo(bothDst, e);
            return [CsrLayout.Build(schema, both, bothDst, srcCount, dstCount, _columns, dedup: true, dataRows: e)];
        }
        var reverseSchema = schema with { Type = Type.Reverse(), ReverseOf = Type };
        return
        [
            CsrLayout.Build(schema, src, dst, srcCount, dstCount, _columns, dedup: false),
            CsrLayout.Build(reverseSchema, dst, src, dstCount, srcCount, _columns, dedup: false),
        ];
    }
}
