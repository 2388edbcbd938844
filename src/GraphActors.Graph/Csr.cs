using System.Runtime.CompilerServices;

namespace GraphActors.Graph;

/// <summary>
/// Compressed sparse rows for one edge type in one direction.
/// Layout: <c>offsets</c> int64[rows + 1]; <c>neighbors</c> int32[E], each row sorted ascending
/// (ties in input order); <c>edgeIds</c> int32[E] naming each entry's edge (its position in the out-CSR,
/// where edge weights and attributes live), empty when the position is the edge id (the out-CSR itself).
/// So a direction costs 8 bytes per node plus 4 bytes per edge (out) or 8 (in); weights add 4 per edge.
/// One CSR holds at most 2^31 - 1 edges (a partition's share of one edge type).
/// </summary>
public sealed class Csr
{
    public Csr(int rows, ReadOnlyMemory<long> offsets, ReadOnlyMemory<int> neighbors, ReadOnlyMemory<int> edgeIds)
    {
        if (offsets.Length != rows + 1)
            throw new ArgumentException($"CSR with {rows} rows needs {rows + 1} offsets, got {offsets.Length}.", nameof(offsets));
        var last = offsets.Span[rows];
        if (last != neighbors.Length)
            throw new ArgumentException($"Last offset {last} disagrees with {neighbors.Length} neighbours.", nameof(neighbors));
        if (!edgeIds.IsEmpty && edgeIds.Length != neighbors.Length)
            throw new ArgumentException("Edge ids must be empty or one per neighbour.", nameof(edgeIds));
        RowCount = rows;
        OffsetsMemory = offsets;
        NeighborsMemory = neighbors;
        EdgeIdsMemory = edgeIds;
    }

    public int RowCount { get; }
    public int EdgeCount => NeighborsMemory.Length;
    public ReadOnlyMemory<long> OffsetsMemory { get; }
    public ReadOnlyMemory<int> NeighborsMemory { get; }
    public ReadOnlyMemory<int> EdgeIdsMemory { get; }
    public ReadOnlySpan<long> Offsets => OffsetsMemory.Span;
    public ReadOnlySpan<int> Neighbors => NeighborsMemory.Span;

    /// <summary>Empty when an entry's position is its edge id.</summary>
    public ReadOnlySpan<int> EdgeIds => EdgeIdsMemory.Span;

    public bool HasEdgeIds => !EdgeIdsMemory.IsEmpty;

    public long ByteSize => OffsetsMemory.Length * 8L + NeighborsMemory.Length * 4L + EdgeIdsMemory.Length * 4L;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Degree(int row)
    {
        var o = Offsets;
        return (int)(o[row + 1] - o[row]);
    }

    public ReadOnlySpan<int> Row(int row)
    {
        var o = Offsets;
        return Neighbors.Slice((int)o[row], (int)(o[row + 1] - o[row]));
    }

    /// <summary>The edge id of the entry at <paramref name="position"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int EdgeIdAt(int position) => EdgeIdsMemory.IsEmpty ? position : EdgeIdsMemory.Span[position];

    /// <summary>The row whose entries hold <paramref name="position"/> (0 ≤ position &lt; <see cref="EdgeCount"/>): the out-CSR source of an edge id.</summary>
    public int RowOfEntry(long position)
    {
        // The last row starting at or before the position: an upper bound on the offsets, minus one (skips empty rows).
        var offsets = Offsets;
        int lo = 0, hi = offsets.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (offsets[mid] <= position) lo = mid + 1; else hi = mid;
        }
        return lo - 1;
    }

    /// <summary>Whether <paramref name="row"/> has <paramref name="neighbor"/> (binary search in the sorted row).</summary>
    public bool Contains(int row, int neighbor) => Row(row).BinarySearch(neighbor) >= 0;
}
