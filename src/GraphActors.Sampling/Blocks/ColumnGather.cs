// GraphLearn's columns out of a loaded partition or graph, and the pieces of one call put back in the caller's order.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Storage;

namespace GraphActors.Sampling;

/// <summary>
/// Gathers <see cref="ElementColumns"/> from where they live: a partition's node rows or CSR positions (the partitioned
/// store and the cluster's partition server share this), or an in-memory graph's element data.
/// </summary>
public static class ColumnGather
{
    /// <summary>The <paramref name="present"/> columns of a partition's nodes at local <paramref name="rows"/>.</summary>
    public static ElementColumns Nodes(PartitionNodes nodes, ReadOnlySpan<int> rows, ColumnSet present)
    {
        var n = rows.Length;
        var c = nodes.Columns;
        var ki = Width(present, ColumnSet.Ints, c.Columns.IntCount);
        var kf = Width(present, ColumnSet.Floats, nodes.Features.Dim);
        var ks = Width(present, ColumnSet.Strings, c.Columns.StringCount);
        var weights = Has(present, ColumnSet.Weights) ? Pick(c.Weights.Span, rows) : [];
        var labels = Has(present, ColumnSet.Labels) ? Pick(nodes.Labels.Span, rows) : [];
        var ints = Rows(c.Ints.Span, rows, ki);
        var floats = new float[(long)n * kf];
        if (kf > 0) nodes.Features.Gather(rows, floats);
        var (offsets, bytes) = Strings(c.Strings, rows, ks);
        return new ElementColumns(n, present, [], weights, labels, ints, ki, floats, kf, offsets, bytes, ks);
    }

    /// <summary>The <paramref name="present"/> columns of one direction's edges at CSR <paramref name="positions"/> (weights are the CSR's).</summary>
    public static ElementColumns Edges(EdgeColumnData c, ReadOnlySpan<float> csrWeights, ReadOnlySpan<int> positions, ColumnSet present)
    {
        var n = positions.Length;
        var ki = Width(present, ColumnSet.Ints, c.Columns.IntCount);
        var kf = Width(present, ColumnSet.Floats, c.Columns.FloatCount);
        var ks = Width(present, ColumnSet.Strings, c.Columns.StringCount);
        float[] weights = [];
        if (Has(present, ColumnSet.Weights))
        {
            weights = new float[n];
            for (var i = 0; i < n; i++) weights[i] = csrWeights.IsEmpty ? 1f : csrWeights[positions[i]];
        }
        var (offsets, bytes) = Strings(c.Strings, positions, ks);
        return new ElementColumns(n, present,
            Has(present, ColumnSet.EdgeIds) ? Pick(c.Ids.Span, positions) : [],
            weights,
            Has(present, ColumnSet.Labels) ? Pick(c.Labels.Span, positions) : [],
            Rows(c.Ints.Span, positions, ki), ki, Rows(c.Floats.Span, positions, kf), kf, offsets, bytes, ks);
    }

    /// <summary>
    /// The <paramref name="present"/> columns of an in-memory graph's elements at <paramref name="rows"/> (dense node ids,
    /// or edge ids, which are also what <see cref="ColumnSet.EdgeIds"/> answers).
    /// </summary>
    public static ElementColumns Elements(ElementData data, ReadOnlySpan<int> rows, ColumnSet present)
    {
        var n = rows.Length;
        var a = data.Schema;
        var ki = Width(present, ColumnSet.Ints, a.IntCount);
        var kf = Width(present, ColumnSet.Floats, a.FloatCount);
        var ks = Width(present, ColumnSet.Strings, a.StringCount);
        long[] ids = [];
        if (Has(present, ColumnSet.EdgeIds))
        {
            ids = new long[n];
            for (var i = 0; i < n; i++) ids[i] = rows[i];
        }
        float[] weights = [];
        if (Has(present, ColumnSet.Weights))
        {
            weights = new float[n];
            for (var i = 0; i < n; i++) weights[i] = data.Weight(rows[i]);
        }
        var floats = new float[(long)n * kf];
        if (kf > 0) data.Floats.Gather(rows, floats);
        var offsets = new int[(long)n * ks + 1];
        var strings = data.Strings.Span;
        long total = 0;
        for (var i = 0; i < n; i++)
            for (var k = 0; k < ks; k++)
            {
                total += System.Text.Encoding.UTF8.GetByteCount(strings[rows[i] * ks + k]);
                offsets[i * ks + k + 1] = checked((int)total);
            }
        var bytes = new byte[total];
        for (var i = 0; i < n; i++)
            for (var k = 0; k < ks; k++)
                System.Text.Encoding.UTF8.GetBytes(strings[rows[i] * ks + k], bytes.AsSpan(offsets[i * ks + k]));
        return new ElementColumns(n, present, ids, weights, Has(present, ColumnSet.Labels) ? Pick(data.Labels.Span, rows) : [],
            Rows(data.Ints.Span, rows, ki), ki, floats, kf, offsets, bytes, ks);
    }

    private static bool Has(ColumnSet present, ColumnSet column) => (present & column) != 0;

    private static int Width(ColumnSet present, ColumnSet column, int width) => Has(present, column) ? width : 0;

    private static T[] Pick<T>(ReadOnlySpan<T> column, ReadOnlySpan<int> rows)
    {
        var result = new T[rows.Length];
        for (var i = 0; i < rows.Length; i++) result[i] = column[rows[i]];
        return result;
    }

    private static T[] Rows<T>(ReadOnlySpan<T> column, ReadOnlySpan<int> rows, int width)
    {
        if (width == 0) return [];
        var result = new T[(long)rows.Length * width];
        for (var i = 0; i < rows.Length; i++) column.Slice(rows[i] * width, width).CopyTo(result.AsSpan(i * width, width));
        return result;
    }

    // A row's values are adjacent in the stored blob, so each row is one copy and its offsets one shift.
    private static (int[] Offsets, byte[] Bytes) Strings(StoredStrings strings, ReadOnlySpan<int> rows, int width)
    {
        var offsets = new int[(long)rows.Length * width + 1];
        if (width == 0) return (offsets, []);
        var stored = strings.Offsets.Span;
        long total = 0;
        for (var i = 0; i < rows.Length; i++)
        {
            var first = rows[i] * width;
            for (var k = 0; k < width; k++)
            {
                total += stored[first + k + 1] - stored[first + k];
                if (total > Array.MaxLength) throw new InvalidOperationException($"{rows.Length} rows of strings take more than {Array.MaxLength:N0} bytes; ask for fewer at once.");
                offsets[i * width + k + 1] = (int)total;
            }
        }
        var bytes = new byte[total];
        for (var i = 0; i < rows.Length; i++) strings.RowBytes(rows[i], out _).CopyTo(bytes.AsSpan(offsets[i * width]));
        return (offsets, bytes);
    }
}

/// <summary>
/// Puts the answers of one call back together: each piece (a partition's answer, or part of one) holds the values of
/// some positions of the caller's batch; the result holds every position in order. Positions no piece covers keep
/// GraphLearn's defaults (weight 0, label −1, zero ints and floats, empty strings, edge id −1). Strings take two steps
/// (lengths as pieces arrive, bytes at <see cref="Build"/>), so each piece's positions are kept until then.
/// </summary>
public sealed class ElementColumnsBuilder
{
    private readonly int _count;
    private readonly ColumnSet _present;
    private readonly int _ki, _kf, _ks;
    private readonly long[] _ids;
    private readonly float[] _weights;
    private readonly int[] _labels;
    private readonly long[] _ints;
    private readonly float[] _floats;
    private readonly long[] _lengths;
    private readonly List<(int[] Positions, ElementColumns Piece)> _strings = [];

    public ElementColumnsBuilder(int count, ColumnSet present, int intCount, int floatCount, int stringCount)
    {
        _count = count;
        _present = present;
        _ki = (present & ColumnSet.Ints) != 0 ? intCount : 0;
        _kf = (present & ColumnSet.Floats) != 0 ? floatCount : 0;
        _ks = (present & ColumnSet.Strings) != 0 ? stringCount : 0;
        _ids = (present & ColumnSet.EdgeIds) != 0 ? Filled(count, -1L) : [];
        _weights = (present & ColumnSet.Weights) != 0 ? new float[count] : [];
        _labels = (present & ColumnSet.Labels) != 0 ? Filled(count, -1) : [];
        _ints = new long[(long)count * _ki];
        _floats = new float[(long)count * _kf];
        _lengths = new long[(long)count * _ks + 1];
    }

    /// <summary>The builder for <paramref name="count"/> nodes of <paramref name="type"/> asked for <paramref name="columns"/>.</summary>
    public static ElementColumnsBuilder For(StoreNodeType type, int count, ColumnSet columns) =>
        new(count, type.Answered(columns), type.Columns.IntCount, type.FeatureDim, type.Columns.StringCount);

    /// <summary>The builder for <paramref name="count"/> edges of <paramref name="type"/> asked for <paramref name="columns"/>.</summary>
    public static ElementColumnsBuilder For(StoreEdgeType type, int count, ColumnSet columns) =>
        new(count, type.Answered(columns), type.Columns.IntCount, type.Columns.FloatCount, type.Columns.StringCount);

    public ColumnSet Present => _present;

    private static T[] Filled<T>(int n, T value)
    {
        var a = new T[n];
        Array.Fill(a, value);
        return a;
    }

    /// <summary>Value i of <paramref name="piece"/> goes to position <paramref name="positions"/>[i].</summary>
    public void Add(ReadOnlySpan<int> positions, ElementColumns piece)
    {
        if (piece.Count != positions.Length || piece.Present != _present || piece.IntCount != _ki || piece.FloatCount != _kf || piece.StringCount != _ks)
            throw new InvalidOperationException(
                $"An answer of {piece.Count} values with columns {piece.Present} ({piece.IntCount} ints, {piece.FloatCount} floats, {piece.StringCount} strings) " +
                $"does not fit {positions.Length} values with {_present} ({_ki}, {_kf}, {_ks}): the store's partitions disagree on the schema.");
        for (var i = 0; i < positions.Length; i++)
        {
            var at = positions[i];
            if (_ids.Length > 0) _ids[at] = piece.EdgeIds[i];
            if (_weights.Length > 0) _weights[at] = piece.Weights[i];
            if (_labels.Length > 0) _labels[at] = piece.Labels[i];
            if (_ki > 0) piece.Ints.AsSpan(i * _ki, _ki).CopyTo(_ints.AsSpan(at * _ki, _ki));
            if (_kf > 0) piece.Floats.AsSpan(i * _kf, _kf).CopyTo(_floats.AsSpan(at * _kf, _kf));
            for (var k = 0; k < _ks; k++)
                _lengths[at * _ks + k + 1] = piece.StringOffsets[i * _ks + k + 1] - piece.StringOffsets[i * _ks + k];
        }
        if (_ks > 0) _strings.Add((positions.ToArray(), piece));
    }

    public ElementColumns Build()
    {
        var offsets = new int[_lengths.Length];
        long total = 0;
        for (var v = 1; v < _lengths.Length; v++)
        {
            total += _lengths[v];
            if (total > Array.MaxLength) throw new InvalidOperationException($"{_count} values' strings take more than {Array.MaxLength:N0} bytes; ask for fewer at once.");
            offsets[v] = (int)total;
        }
        var bytes = new byte[total];
        foreach (var (positions, piece) in _strings)
            for (var i = 0; i < positions.Length; i++)
            {
                // A row's values are adjacent on both sides: one copy per row.
                var from = piece.StringOffsets[i * _ks];
                var length = piece.StringOffsets[(i + 1) * _ks] - from;
                piece.StringBytes.AsSpan(from, length).CopyTo(bytes.AsSpan(offsets[positions[i] * _ks]));
            }
        return new ElementColumns(_count, _present, _ids, _weights, _labels, _ints, _ki, _floats, _kf, offsets, bytes, _ks);
    }

    /// <summary>
    /// Value j of the result is <paramref name="source"/>'s value <paramref name="indexes"/>[j], or GraphLearn's default
    /// where the index is −1 (a padding slot): how a sample's values are laid out in a padded or capped result.
    /// </summary>
    public static ElementColumns Pick(ElementColumns source, ReadOnlySpan<int> indexes)
    {
        var n = indexes.Length;
        var (ki, kf, ks) = (source.IntCount, source.FloatCount, source.StringCount);
        var ids = source.Has(ColumnSet.EdgeIds) ? new long[n] : [];
        var weights = source.Has(ColumnSet.Weights) ? new float[n] : [];
        var labels = source.Has(ColumnSet.Labels) ? new int[n] : [];
        var ints = new long[(long)n * ki];
        var floats = new float[(long)n * kf];
        var offsets = new int[(long)n * ks + 1];
        long total = 0;
        for (var j = 0; j < n; j++)
        {
            var i = indexes[j];
            if (i >= 0) total += source.StringOffsets[(i + 1) * ks] - source.StringOffsets[i * ks];
            if (total > Array.MaxLength) throw new InvalidOperationException($"{n} values' strings take more than {Array.MaxLength:N0} bytes.");
        }
        var bytes = new byte[total];
        var at = 0;
        for (var j = 0; j < n; j++)
        {
            var i = indexes[j];
            if (i < 0)
            {
                if (ids.Length > 0) ids[j] = -1;
                if (labels.Length > 0) labels[j] = -1;
                offsets.AsSpan(j * ks + 1, ks).Fill(at);
                continue;
            }
            if (ids.Length > 0) ids[j] = source.EdgeIds[i];
            if (weights.Length > 0) weights[j] = source.Weights[i];
            if (labels.Length > 0) labels[j] = source.Labels[i];
            source.Ints.AsSpan(i * ki, ki).CopyTo(ints.AsSpan(j * ki, ki));
            source.Floats.AsSpan(i * kf, kf).CopyTo(floats.AsSpan(j * kf, kf));
            for (var k = 0; k < ks; k++)
            {
                var value = source.StringValue(i * ks + k);
                value.CopyTo(bytes.AsSpan(at));
                at += value.Length;
                offsets[j * ks + k + 1] = at;
            }
        }
        return new ElementColumns(n, source.Present, ids, weights, labels, ints, ki, floats, kf, offsets, bytes, ks);
    }

    /// <summary>
    /// Where the entries of ragged rows land: row i of a piece (its entries <paramref name="pieceOffsets"/>[i] ..
    /// [i + 1]) is the caller's row <paramref name="rowPositions"/>[i], which starts at <paramref name="offsets"/>[row].
    /// </summary>
    public static int[] EntryPositions(ReadOnlySpan<int> rowPositions, ReadOnlySpan<int> pieceOffsets, ReadOnlySpan<int> offsets)
    {
        var result = new int[pieceOffsets[rowPositions.Length] - pieceOffsets[0]];
        for (var i = 0; i < rowPositions.Length; i++)
        {
            var start = offsets[rowPositions[i]];
            for (int j = pieceOffsets[i], k = 0; j < pieceOffsets[i + 1]; j++, k++) result[j - pieceOffsets[0]] = start + k;
        }
        return result;
    }
}
