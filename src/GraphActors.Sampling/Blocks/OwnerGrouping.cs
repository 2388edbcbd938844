// Groups a batch of ids by owning partition and scatters per-partition results back into the batch's order.
using GraphActors.Contracts;
using GraphActors.Graph.Storage;

namespace GraphActors.Sampling;

/// <summary>
/// The one-request-per-partition step of every batched store call: a counting sort of the ids by owner (through the
/// partition book), giving per partition the local rows to ask for and, for each, the position of
/// the id in the caller's batch; then the scatter of each partition's answer back into batch order. Local mode
/// (<see cref="PartitionedGraphStore"/>) and the cluster's remote store use the same piece. Buffers only grow, so a
/// grouping reused across calls stops allocating; not thread-safe (one per call in flight).
/// </summary>
public sealed class OwnerGrouping
{
    private int[] _owner = [];
    private int[] _order = [];
    private int[] _rows = [];
    private int[] _rowOf = [];
    private int[] _starts = [];

    public int Parts { get; private set; }
    public int Count { get; private set; }

    /// <summary>Where partition p's ids start in the grouped order, and how many it has.</summary>
    public int Start(int part) => _starts[part];
    public int CountOf(int part) => _starts[part + 1] - _starts[part];

    /// <summary>The local rows (<see cref="PartRows"/>) partition <paramref name="part"/> is asked for, in batch order.</summary>
    public ReadOnlySpan<int> LocalRows(int part) => _rows.AsSpan(_starts[part], CountOf(part));
    public ReadOnlyMemory<int> LocalRowsMemory(int part) => _rows.AsMemory(_starts[part], CountOf(part));

    /// <summary>For each of partition <paramref name="part"/>'s rows, the position of its id in the batch.</summary>
    public ReadOnlySpan<int> BatchPositions(int part) => _order.AsSpan(_starts[part], CountOf(part));

    public void Group(PartitionBook book, NodeType type, ReadOnlySpan<int> ids)
    {
        var nodeBook = book.For(type);
        var parts = book.Parts;
        var n = ids.Length;
        Parts = parts;
        Count = n;
        if (_owner.Length < n)
        {
            var size = Math.Max(n, _owner.Length * 3 / 2);
            _owner = new int[size]; _order = new int[size]; _rows = new int[size]; _rowOf = new int[size];
        }
        if (_starts.Length < parts + 2) _starts = new int[parts + 2];
        var starts = _starts.AsSpan(0, parts + 2);
        starts.Clear();
        var total = nodeBook.NodeCount;
        var owner = _owner.AsSpan(0, n);
        var rowOf = _rowOf.AsSpan(0, n);
        for (var i = 0; i < n; i++)
        {
            var id = ids[i];
            if ((uint)id >= (uint)total) throw new ArgumentOutOfRangeException(nameof(ids), id, $"Node {id} of '{type}' is outside 0..{total - 1}.");
            var p = nodeBook.LocateUnchecked(id, out rowOf[i]);
            owner[i] = p;
            starts[p + 2]++;
        }
        // starts[p + 1] becomes the insertion cursor of p; after placing, starts[p] is p's start.
        for (var p = 2; p < parts + 2; p++) starts[p] += starts[p - 1];
        for (var i = 0; i < n; i++)
        {
            var at = starts[owner[i] + 1]++;
            _order[at] = i;
            _rows[at] = rowOf[i];
        }
    }

    /// <summary>Records partition <paramref name="part"/>'s row lengths at <c>batchOffsets[position + 1]</c>; call for every partition, then <see cref="ToOffsets"/>.</summary>
    public void CountRows(int part, ReadOnlySpan<int> partOffsets, Span<int> batchOffsets) => CountRows(BatchPositions(part), partOffsets, batchOffsets);

    /// <summary>
    /// <see cref="CountRows(int, ReadOnlySpan{int}, Span{int})"/> for rows answered at <paramref name="positions"/> (a slice of
    /// <see cref="BatchPositions"/>, when one partition's rows were asked in several requests).
    /// </summary>
    public static void CountRows(ReadOnlySpan<int> positions, ReadOnlySpan<int> partOffsets, Span<int> batchOffsets)
    {
        for (var j = 0; j < positions.Length; j++) batchOffsets[positions[j] + 1] = partOffsets[j + 1] - partOffsets[j];
    }

    /// <summary>Turns row lengths at [1..n] into offsets (in place; [0] becomes 0).</summary>
    public static void ToOffsets(Span<int> batchOffsets)
    {
        batchOffsets[0] = 0;
        for (var i = 1; i < batchOffsets.Length; i++) batchOffsets[i] += batchOffsets[i - 1];
    }

    /// <summary>Copies partition <paramref name="part"/>'s ragged rows to their places in batch order.</summary>
    public void ScatterRows<T>(int part, ReadOnlySpan<int> partOffsets, ReadOnlySpan<T> partValues, ReadOnlySpan<int> batchOffsets, Span<T> batchValues) =>
        ScatterRows(BatchPositions(part), partOffsets, partValues, batchOffsets, batchValues);

    /// <summary>Copies ragged rows answered for <paramref name="positions"/> (a slice of <see cref="BatchPositions"/>) to their places in batch order.</summary>
    public static void ScatterRows<T>(ReadOnlySpan<int> positions, ReadOnlySpan<int> partOffsets, ReadOnlySpan<T> partValues, ReadOnlySpan<int> batchOffsets,
        Span<T> batchValues)
    {
        for (var j = 0; j < positions.Length; j++)
        {
            var from = partOffsets[j];
            var len = partOffsets[j + 1] - from;
            partValues.Slice(from, len).CopyTo(batchValues.Slice(batchOffsets[positions[j]], len));
        }
    }

    /// <summary>Copies partition <paramref name="part"/>'s fixed-width rows (width values each) to their places in batch order.</summary>
    public void ScatterFixed<T>(int part, ReadOnlySpan<T> partValues, int width, Span<T> batchValues) =>
        ScatterFixed(BatchPositions(part), partValues, width, batchValues);

    /// <summary>Copies fixed-width rows answered for <paramref name="positions"/> (a slice of <see cref="BatchPositions"/>) to their places in batch order.</summary>
    public static void ScatterFixed<T>(ReadOnlySpan<int> positions, ReadOnlySpan<T> partValues, int width, Span<T> batchValues)
    {
        for (var j = 0; j < positions.Length; j++)
            partValues.Slice(j * width, width).CopyTo(batchValues.Slice(positions[j] * width, width));
    }
}
