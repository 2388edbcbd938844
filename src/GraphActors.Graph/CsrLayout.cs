// Lays out one edge type as out- and in-CSR with stable counting sorts.
namespace GraphActors.Graph;

internal static class CsrLayout
{
    /// <summary>
    /// <paramref name="src"/>/<paramref name="dst"/> give each input edge's dense endpoints. With
    /// <paramref name="dataRows"/> ≥ 0, edge i takes its data from row i mod dataRows (the reversed copies of
    /// an undirected same-type edge share their original's row).
    /// </summary>
    public static EdgeTypeData Build(EdgeTypeSchema schema, int[] src, int[] dst, int srcCount, int dstCount,
        ElementColumns columns, bool dedup, int dataRows = -1)
    {
        CheckRange(schema, src, srcCount, "source");
        CheckRange(schema, dst, dstCount, "destination");

        // Sorting by dst, then stably by src, leaves each out-row sorted by neighbour with ties in input order.
        var byDst = SortedIndices(null, dst, dstCount, out _);
        var order = SortedIndices(byDst, src, srcCount, out var outOffsets);
        byDst = null;

        var count = order.Length;
        if (dedup) count = Deduplicate(order, src, dst, outOffsets);

        var neighbors = new int[count];
        var dataOrder = new int[count];
        for (var i = 0; i < count; i++)
        {
            var e = order[i];
            neighbors[i] = dst[e];
            dataOrder[i] = dataRows >= 0 && e >= dataRows ? e - dataRows : e;
        }
        var srcOfPosition = new int[count];
        for (var row = 0; row < srcCount; row++)
            srcOfPosition.AsSpan((int)outOffsets[row], (int)(outOffsets[row + 1] - outOffsets[row])).Fill(row);
        order = null;

        // In-CSR: out positions (already in src order) stably sorted by destination.
        var inOrder = SortedIndices(null, neighbors.AsSpan(0, count), dstCount, out var inOffsets);
        var inNeighbors = new int[count];
        for (var j = 0; j < count; j++) inNeighbors[j] = srcOfPosition[inOrder[j]];

        var data = columns.Build(dataOrder);
        return new EdgeTypeData(schema,
            new Csr(srcCount, outOffsets, neighbors, ReadOnlyMemory<int>.Empty),
            new Csr(dstCount, inOffsets, inNeighbors, inOrder),
            data);
    }

    /// <summary>
    /// Stable counting sort of <paramref name="order"/> (or 0..n-1 when null) by <c>keys[order[i]]</c>;
    /// <paramref name="offsets"/> receives the start of each key's run (keyCount + 1 entries).
    /// </summary>
    internal static int[] SortedIndices(int[]? order, ReadOnlySpan<int> keys, int keyCount, out long[] offsets)
    {
        var n = order?.Length ?? keys.Length;
        offsets = new long[keyCount + 1];
        for (var i = 0; i < keys.Length; i++) offsets[keys[i] + 1]++;
        for (var k = 0; k < keyCount; k++) offsets[k + 1] += offsets[k];
        var next = new int[keyCount];
        for (var k = 0; k < keyCount; k++) next[k] = (int)offsets[k];
        var result = new int[n];
        if (order is null)
        {
            for (var i = 0; i < n; i++) result[next[keys[i]]++] = i;
        }
        else
        {
            for (var i = 0; i < n; i++)
            {
                var e = order[i];
                result[next[keys[e]]++] = e;
            }
        }
        return result;
    }

    /// <summary>Drops repeated (src, dst) pairs inside each row, keeping the first; rewrites offsets; returns the new count.</summary>
    private static int Deduplicate(int[] order, int[] src, int[] dst, long[] offsets)
    {
        var write = 0;
        var rows = offsets.Length - 1;
        long start = 0;
        for (var row = 0; row < rows; row++)
        {
            var end = offsets[row + 1];
            var rowStart = write;
            for (var i = start; i < end; i++)
            {
                var e = order[i];
                if (write > rowStart && dst[order[write - 1]] == dst[e]) continue;
                order[write++] = e;
            }
            offsets[row] = rowStart;
            start = end;
        }
        offsets[rows] = write;
        return write;
    }

    private static void CheckRange(EdgeTypeSchema schema, int[] ids, int count, string end)
    {
        for (var i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)count)
                throw new ArgumentOutOfRangeException(nameof(ids),
                    $"Edge {i} of {schema.Type} has {end} dense id {ids[i]}, outside 0..{count - 1}.");
        }
    }
}
