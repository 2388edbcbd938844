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

/// <summary>
/// The columns of a result's values. Over a local graph they are read from the type's columns by dense row (a row of
/// -1, padding, gets weight 0, label -1, zero / empty attributes). Over a graph store they are what the store holds,
/// gathered with the batch: what the store holds of each column (a store from GraphLearn sources holds them all; one
/// from CGDF only features as float attributes, labels, and edge weights).
/// </summary>
public abstract class ElementColumnsView
{
    private protected ElementColumnsView() { }

    public abstract int IntAttrCount { get; }
    public abstract int FloatAttrCount { get; }
    public abstract int StringAttrCount { get; }

    /// <summary>One weight per value, or null when the type has no weight column.</summary>
    public abstract float[]? Weights { get; }

    /// <summary>One label per value, or null when the type has no label column.</summary>
    public abstract int[]? Labels { get; }

    /// <summary>[Count, IntAttrCount] row-major.</summary>
    public abstract long[] IntAttrs { get; }

    /// <summary>[Count, FloatAttrCount] row-major.</summary>
    public abstract float[] FloatAttrs { get; }

    /// <summary>[Count, StringAttrCount] row-major.</summary>
    public abstract string[] StringAttrs { get; }
}

/// <summary>Columns of a local graph's elements named by dense row ids, gathered on first use.</summary>
internal sealed class ElementDataColumns(ElementData data, int[] rows) : ElementColumnsView
{
    private float[]? _weights;
    private int[]? _labels;
    private long[]? _ints;
    private float[]? _floats;
    private string[]? _strings;

    public override int IntAttrCount => data.Schema.IntCount;
    public override int FloatAttrCount => data.Schema.FloatCount;
    public override int StringAttrCount => data.Schema.StringCount;
    public override float[]? Weights => data.HasWeights ? _weights ??= GatherScalar(data.Weights.Span, 0f) : null;
    public override int[]? Labels => data.HasLabels ? _labels ??= GatherScalar(data.Labels.Span, -1) : null;
    public override long[] IntAttrs => _ints ??= GatherRows(data.Ints.Span, IntAttrCount, 0L);
    public override float[] FloatAttrs => _floats ??= GatherRows(data.Floats.Data.Span, FloatAttrCount, 0f);
    public override string[] StringAttrs => _strings ??= GatherRows(data.Strings.Span, StringAttrCount, "");

    private T[] GatherScalar<T>(ReadOnlySpan<T> column, T missing)
    {
        var result = new T[rows.Length];
        for (var i = 0; i < rows.Length; i++) result[i] = rows[i] >= 0 ? column[rows[i]] : missing;
        return result;
    }

    private T[] GatherRows<T>(ReadOnlySpan<T> column, int width, T missing)
    {
        if (width == 0) return [];
        var result = new T[rows.Length * width];
        for (var i = 0; i < rows.Length; i++)
        {
            var dst = result.AsSpan(i * width, width);
            if (rows[i] >= 0) column.Slice(rows[i] * width, width).CopyTo(dst);
            else dst.Fill(missing);
        }
        return result;
    }
}

/// <summary>
/// Columns gathered from a graph store with the batch (<see cref="ElementColumns"/>: what the store holds for the type).
/// Edge weights come from the sampled edges (<paramref name="weights"/>) unless the columns carry them.
/// <paramref name="weightsRefused"/>, when set, says why the values have no weights to give although their type may have
/// them (an <c>E()</c> source of a store that hands out no edge handles); reading <see cref="Weights"/> then throws rather
/// than answer null. Strings are decoded on first use.
/// </summary>
internal sealed class GatheredColumns(ElementColumns columns, float[]? weights = null, string? weightsRefused = null) : ElementColumnsView
{
    private string[]? _strings;

    public override int IntAttrCount => columns.IntCount;
    public override int FloatAttrCount => columns.FloatCount;
    public override int StringAttrCount => columns.StringCount;
    public override float[]? Weights => weightsRefused is not null ? throw new NotSupportedException(weightsRefused)
        : columns.Has(ColumnSet.Weights) ? columns.Weights : weights;
    public override int[]? Labels => columns.Has(ColumnSet.Labels) ? columns.Labels : null;
    public override long[] IntAttrs => columns.Ints;
    public override float[] FloatAttrs => columns.Floats;
    public override string[] StringAttrs => _strings ??= columns.DecodeStrings();
}

/// <summary>Nodes of one type (GraphLearn's <c>Nodes</c>, or <c>SparseNodes</c> when ragged).</summary>
public sealed class NodeResult : AliasResult
{
    private readonly NodeTypeData? _nodes;
    private ElementColumnsView? _columns;

    internal NodeResult(string alias, NodeTypeData nodes, int[] denseIds, long defaultId, int rows, int width, int[]? offsets,
        NegativeSampleStats? negatives = null, long[]? businessIds = null, int cap = 0)
        : base(alias, rows, width, offsets, denseIds.Length, cap)
    {
        _nodes = nodes;
        Type = nodes.Type;
        DenseIds = denseIds;
        Ids = businessIds ?? BusinessIds(nodes, denseIds, defaultId);
        Negatives = negatives;
    }

    /// <summary>Nodes served by a graph store: <paramref name="ids"/> are the store's ids, the columns gathered with the batch.</summary>
    internal NodeResult(string alias, NodeType type, int[] ids, long[] businessIds, ElementColumnsView columns, int rows, int width, int[]? offsets,
        NegativeSampleStats? negatives = null, int cap = 0)
        : base(alias, rows, width, offsets, ids.Length, cap)
    {
        Type = type;
        DenseIds = ids;
        Ids = businessIds;
        _columns = columns;
        Negatives = negatives;
    }

    public NodeType Type { get; }

    /// <summary>Business ids; a padding slot holds the default neighbour id.</summary>
    public long[] Ids { get; }

    /// <summary>
    /// Dense ids (rows of the node type's columns; over a graph store, the store's ids of the type); a padding slot holds -1.
    /// </summary>
    public int[] DenseIds { get; }

    /// <summary>For a negative sampling step: how many draws were redrawn and how many stayed true neighbours.</summary>
    public NegativeSampleStats? Negatives { get; }

    public float[]? Weights => Columns.Weights;
    public int[]? Labels => Columns.Labels;
    public long[] IntAttrs => Columns.IntAttrs;
    public float[] FloatAttrs => Columns.FloatAttrs;
    public string[] StringAttrs => Columns.StringAttrs;
    public ElementColumnsView Columns => _columns ??= new ElementDataColumns(_nodes!.Data, DenseIds);

    internal static long[] BusinessIds(NodeTypeData nodes, int[] dense, long defaultId)
    {
        var ids = new long[dense.Length];
        var map = nodes.Ids;
        for (var i = 0; i < dense.Length; i++) ids[i] = dense[i] >= 0 ? map.ToBusiness(dense[i]) : defaultId;
        return ids;
    }
}

/// <summary>
/// Edges of one canonical type (GraphLearn's <c>Edges</c>). Src is the end the walk came from and Dst the end it
/// reached; <see cref="Reversed"/> says the walk went against the edge's direction (an inE step), in which case
/// Src is the canonical destination. <see cref="EdgeIds"/> index the canonical edge data; -1 in a padding slot.
/// </summary>
public sealed class EdgeResult : AliasResult
{
    private readonly EdgeTypeData? _edges;
    private readonly int[]? _edgeIds;
    private ElementColumnsView? _columns;

    internal EdgeResult(string alias, EdgeTypeData edges, bool reversed, int[] srcDense, int[] dstDense, int[] edgeIds,
        NodeTypeData srcNodes, NodeTypeData dstNodes, long defaultId, int rows, int width, int[]? offsets, int cap = 0)
        : base(alias, rows, width, offsets, edgeIds.Length, cap)
    {
        _edges = edges;
        Type = edges.Type;
        Reversed = reversed;
        SrcDenseIds = srcDense;
        DstDenseIds = dstDense;
        _edgeIds = edgeIds;
        SrcIds = NodeResult.BusinessIds(srcNodes, srcDense, defaultId);
        DstIds = NodeResult.BusinessIds(dstNodes, dstDense, defaultId);
    }

    /// <summary>Edges served by a graph store: ends as the store's ids, columns gathered with the batch, edge ids when the store keeps them.</summary>
    internal EdgeResult(string alias, CanonicalEdgeType type, bool reversed, int[] src, int[] dst, long[] srcIds, long[] dstIds,
        ElementColumnsView columns, int rows, int width, int[]? offsets, int cap = 0, int[]? edgeIds = null)
        : base(alias, rows, width, offsets, src.Length, cap)
    {
        _edgeIds = edgeIds;
        Type = type;
        Reversed = reversed;
        SrcDenseIds = src;
        DstDenseIds = dst;
        SrcIds = srcIds;
        DstIds = dstIds;
        _columns = columns;
    }

    public CanonicalEdgeType Type { get; }
    public bool Reversed { get; }
    public long[] SrcIds { get; }
    public long[] DstIds { get; }
    public int[] SrcDenseIds { get; }
    public int[] DstDenseIds { get; }

    /// <summary>
    /// GraphLearn's edge ids: positions in the canonical edge data (local mode), and the same ids from a store written
    /// from GraphLearn sources. A store that keeps no edge ids (CGDF) throws <see cref="NotSupportedException"/>: identify
    /// an edge by its two ends.
    /// </summary>
    public int[] EdgeIds => _edgeIds ?? throw new NotSupportedException(
        $"Alias '{Alias}': this graph store keeps no edge ids (it was not written from GraphLearn sources); use SrcIds and DstIds.");

    public float[]? Weights => Columns.Weights;
    public int[]? Labels => Columns.Labels;
    public long[] IntAttrs => Columns.IntAttrs;
    public float[] FloatAttrs => Columns.FloatAttrs;
    public string[] StringAttrs => Columns.StringAttrs;
    public ElementColumnsView Columns => _columns ??= new ElementDataColumns(_edges!.Data, _edgeIds!);
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
