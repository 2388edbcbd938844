// What a GSL batch hands back per alias: ids, shape, and (gathered on first use) weights, labels and attributes.
using GraphActors.Contracts;
using GraphActors.Graph;

namespace GraphActors.Sampling;

/// <summary>
/// The result of one aliased step. Values are flattened row-major: a source step has shape [batch]; a fixed-size hop
/// [rows, k] where rows is the parent's flattened count (GraphLearn's [batch * k1, k2]); a <c>full</c> hop is ragged,
/// row i spanning <see cref="Offsets"/>[i] .. Offsets[i + 1] (GraphLearn's <c>SparseNodes</c>/<c>SparseEdges</c>, whose
/// per-row counts are <see cref="Lens"/> and whose <c>dense_shape</c> is <see cref="DenseShape"/>).
/// </summary>
public abstract class AliasResult
{
    private readonly int _cap;
    private int[]? _lens;
    private int[]? _denseShape;
    private int[]? _indices;

    private protected AliasResult(string alias, int rows, int width, int[]? offsets, int count, int cap)
    {
        Alias = alias;
        Rows = rows;
        Width = width;
        Offsets = offsets;
        Count = count;
        _cap = cap;
    }

    public string Alias { get; }

    /// <summary>Rows: the batch size for a source, the parent's flattened count for a hop.</summary>
    public int Rows { get; }

    /// <summary>k for a fixed-size hop, 0 for a 1-D source result, -1 when ragged.</summary>
    public int Width { get; }

    public bool IsRagged => Offsets is not null;

    /// <summary>
    /// Row boundaries (Rows + 1, cumulative) of a ragged result; null otherwise. GraphLearn's <c>offsets</c> are the
    /// per-row counts instead: those are <see cref="Lens"/>.
    /// </summary>
    public int[]? Offsets { get; }

    /// <summary>Number of values (the product of the shape, or the ragged total).</summary>
    public int Count { get; }

    /// <summary>GraphLearn's shape: [Rows] for a source, [Rows, k] for a fixed hop, [Rows, -1] for a ragged one.</summary>
    public int[] Shape => Width == 0 ? [Rows] : [Rows, Width];

    /// <summary>
    /// Values per row of a ragged result (GraphLearn's <c>SparseNodes.offsets</c>: "the number of values on each line");
    /// they sum to <see cref="Count"/>. Null when the result is not ragged.
    /// </summary>
    public int[]? Lens
    {
        get
        {
            if (Offsets is not { } offsets) return null;
            if (_lens is null)
            {
                var lens = new int[Rows];
                for (var i = 0; i < lens.Length; i++) lens[i] = offsets[i + 1] - offsets[i];
                _lens = lens;
            }
            return _lens;
        }
    }

    /// <summary>
    /// GraphLearn's <c>dense_shape</c>: the 2-D shape the ragged rows fill when padded, [Rows, k] after
    /// <c>Sample(k).By("full")</c> and [Rows, longest row] after <c>By("full")</c> alone. For a result that is not
    /// ragged it is <see cref="Shape"/>.
    /// </summary>
    public int[] DenseShape
    {
        get
        {
            if (Offsets is null) return Shape;
            if (_denseShape is null)
            {
                var width = _cap;
                if (width <= 0)
                    foreach (var len in Lens!) width = Math.Max(width, len);
                _denseShape = [Rows, width];
            }
            return _denseShape;
        }
    }

    /// <summary>
    /// GraphLearn's <c>indices</c> of a ragged result: the [row, column] of every value in <see cref="DenseShape"/>,
    /// flattened (value j at 2j, 2j + 1), ready for a sparse tensor. Null when the result is not ragged.
    /// </summary>
    public int[]? Indices
    {
        get
        {
            if (Offsets is not { } offsets) return null;
            if (_indices is null)
            {
                var indices = new int[Count * 2];
                for (var row = 0; row < Rows; row++)
                    for (int j = offsets[row], column = 0; j < offsets[row + 1]; j++, column++)
                    {
                        indices[2 * j] = row;
                        indices[2 * j + 1] = column;
                    }
                _indices = indices;
            }
            return _indices;
        }
    }

    /// <summary>The cap a <c>full</c> hop's rows were cut to (its Sample(k)), 0 when uncapped; endpoints inherit it.</summary>
    internal int Cap => _cap;
}

/// <summary>Columns of the elements named by dense row ids; a row of -1 (padding) gets weight 0, label -1, zero / empty attributes.</summary>
public abstract class ElementColumnsView
{
    private readonly ElementData _data;
    private readonly int[] _rows;
    private float[]? _weights;
    private int[]? _labels;
    private long[]? _ints;
    private float[]? _floats;
    private string[]? _strings;

    private protected ElementColumnsView(ElementData data, int[] rows)
    {
        _data = data;
        _rows = rows;
    }

    public int IntAttrCount => _data.Schema.IntCount;
    public int FloatAttrCount => _data.Schema.FloatCount;
    public int StringAttrCount => _data.Schema.StringCount;

    /// <summary>One weight per value, or null when the type has no weight column.</summary>
    public float[]? Weights => _data.HasWeights ? _weights ??= GatherScalar(_data.Weights.Span, 0f) : null;

    /// <summary>One label per value, or null when the type has no label column.</summary>
    public int[]? Labels => _data.HasLabels ? _labels ??= GatherScalar(_data.Labels.Span, -1) : null;

    /// <summary>[Count, IntAttrCount] row-major.</summary>
    public long[] IntAttrs => _ints ??= GatherRows(_data.Ints.Span, IntAttrCount, 0L);

    /// <summary>[Count, FloatAttrCount] row-major.</summary>
    public float[] FloatAttrs => _floats ??= GatherRows(_data.Floats.Data.Span, FloatAttrCount, 0f);

    /// <summary>[Count, StringAttrCount] row-major.</summary>
    public string[] StringAttrs => _strings ??= GatherRows(_data.Strings.Span, StringAttrCount, "");

    private T[] GatherScalar<T>(ReadOnlySpan<T> column, T missing)
    {
        var result = new T[_rows.Length];
        for (var i = 0; i < _rows.Length; i++) result[i] = _rows[i] >= 0 ? column[_rows[i]] : missing;
        return result;
    }

    private T[] GatherRows<T>(ReadOnlySpan<T> column, int width, T missing)
    {
        if (width == 0) return [];
        var result = new T[_rows.Length * width];
        for (var i = 0; i < _rows.Length; i++)
        {
            var dst = result.AsSpan(i * width, width);
            if (_rows[i] >= 0) column.Slice(_rows[i] * width, width).CopyTo(dst);
            else dst.Fill(missing);
        }
        return result;
    }
}

/// <summary>Nodes of one type (GraphLearn's <c>Nodes</c>, or <c>SparseNodes</c> when ragged).</summary>
public sealed class NodeResult : AliasResult
{
    private readonly NodeTypeData _nodes;
    private NodeColumns? _columns;

    internal NodeResult(string alias, NodeTypeData nodes, int[] denseIds, long defaultId, int rows, int width, int[]? offsets,
        NegativeSampleStats? negatives = null, long[]? businessIds = null, int cap = 0)
        : base(alias, rows, width, offsets, denseIds.Length, cap)
    {
        _nodes = nodes;
        DenseIds = denseIds;
        Ids = businessIds ?? BusinessIds(nodes, denseIds, defaultId);
        Negatives = negatives;
    }

    public NodeType Type => _nodes.Type;

    /// <summary>Business ids; a padding slot holds the default neighbour id.</summary>
    public long[] Ids { get; }

    /// <summary>Dense ids (rows of the node type's columns); a padding slot holds -1.</summary>
    public int[] DenseIds { get; }

    /// <summary>For a negative sampling step: how many draws were redrawn and how many stayed true neighbours.</summary>
    public NegativeSampleStats? Negatives { get; }

    public float[]? Weights => Columns.Weights;
    public int[]? Labels => Columns.Labels;
    public long[] IntAttrs => Columns.IntAttrs;
    public float[] FloatAttrs => Columns.FloatAttrs;
    public string[] StringAttrs => Columns.StringAttrs;
    public ElementColumnsView Columns => _columns ??= new NodeColumns(_nodes.Data, DenseIds);

    internal static long[] BusinessIds(NodeTypeData nodes, int[] dense, long defaultId)
    {
        var ids = new long[dense.Length];
        var map = nodes.Ids;
        for (var i = 0; i < dense.Length; i++) ids[i] = dense[i] >= 0 ? map.ToBusiness(dense[i]) : defaultId;
        return ids;
    }

    private sealed class NodeColumns(ElementData data, int[] rows) : ElementColumnsView(data, rows);
}

/// <summary>
/// Edges of one canonical type (GraphLearn's <c>Edges</c>). Src is the end the walk came from and Dst the end it
/// reached; <see cref="Reversed"/> says the walk went against the edge's direction (an inE step), in which case
/// Src is the canonical destination. <see cref="EdgeIds"/> index the canonical edge data; -1 in a padding slot.
/// </summary>
public sealed class EdgeResult : AliasResult
{
    private readonly EdgeTypeData _edges;
    private EdgeColumns? _columns;

    internal EdgeResult(string alias, EdgeTypeData edges, bool reversed, int[] srcDense, int[] dstDense, int[] edgeIds,
        NodeTypeData srcNodes, NodeTypeData dstNodes, long defaultId, int rows, int width, int[]? offsets, int cap = 0)
        : base(alias, rows, width, offsets, edgeIds.Length, cap)
    {
        _edges = edges;
        Reversed = reversed;
        SrcDenseIds = srcDense;
        DstDenseIds = dstDense;
        EdgeIds = edgeIds;
        SrcIds = NodeResult.BusinessIds(srcNodes, srcDense, defaultId);
        DstIds = NodeResult.BusinessIds(dstNodes, dstDense, defaultId);
    }

    public CanonicalEdgeType Type => _edges.Type;
    public bool Reversed { get; }
    public long[] SrcIds { get; }
    public long[] DstIds { get; }
    public int[] SrcDenseIds { get; }
    public int[] DstDenseIds { get; }
    public int[] EdgeIds { get; }

    public float[]? Weights => Columns.Weights;
    public int[]? Labels => Columns.Labels;
    public long[] IntAttrs => Columns.IntAttrs;
    public float[] FloatAttrs => Columns.FloatAttrs;
    public string[] StringAttrs => Columns.StringAttrs;
    public ElementColumnsView Columns => _columns ??= new EdgeColumns(_edges.Data, EdgeIds);

    private sealed class EdgeColumns(ElementData data, int[] rows) : ElementColumnsView(data, rows);
}

/// <summary>One batch: a result per alias.</summary>
public sealed class GslBatch
{
    private readonly Dictionary<string, AliasResult> _results;

    internal GslBatch(int epoch, int index, Dictionary<string, AliasResult> results)
    {
        Epoch = epoch;
        Index = index;
        _results = results;
    }

    public int Epoch { get; }
    public int Index { get; }
    public IReadOnlyCollection<string> Aliases => _results.Keys;

    public AliasResult this[string alias] =>
        _results.TryGetValue(alias, out var r) ? r
            : throw new KeyNotFoundException($"No alias '{alias}' in this query. Known: {string.Join(", ", _results.Keys)}.");

    public NodeResult Nodes(string alias) =>
        this[alias] as NodeResult ?? throw new InvalidOperationException($"Alias '{alias}' holds edges, not nodes.");

    public EdgeResult Edges(string alias) =>
        this[alias] as EdgeResult ?? throw new InvalidOperationException($"Alias '{alias}' holds nodes, not edges.");
}

/// <summary>Past the last batch of an epoch (GraphLearn's <c>OutOfRangeError</c>); the next call starts a new epoch.</summary>
public sealed class OutOfRangeException(string message) : InvalidOperationException(message);
