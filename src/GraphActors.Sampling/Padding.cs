// GraphLearn's padding rules: how a ragged sample becomes a fixed [rows, k] block.
namespace GraphActors.Sampling;

/// <summary>GraphLearn's padding modes (<c>gl.set_padding_mode</c>).</summary>
public enum PaddingMode
{
    /// <summary>GraphLearn's default (REPLICATE): the shortfall takes the default neighbour id and edge id -1.</summary>
    Replicate,

    /// <summary>CIRCULAR: the row's own samples are repeated in order; a row with none takes the default.</summary>
    Circular,
}

public static class Padding
{
    /// <summary>
    /// Lays <paramref name="sample"/> out as SeedCount × <paramref name="k"/>, row-major. A padding slot gets
    /// <paramref name="padNeighbor"/> (the GSL layer passes -1 as a dense id and reports the default business id) and edge id -1.
    /// Rows longer than k are cut to k.
    /// </summary>
    public static void ToFixedWidth(SampleBuffer sample, int k, PaddingMode mode, int padNeighbor, Span<int> neighbors, Span<int> edgeIds)
    {
        var rows = sample.SeedCount;
        if (neighbors.Length < (long)rows * k || edgeIds.Length < (long)rows * k)
            throw new ArgumentException($"{rows} rows × {k} need {(long)rows * k} slots.");
        var offsets = sample.Offsets;
        for (var i = 0; i < rows; i++)
        {
            var count = Math.Min(offsets[i + 1] - offsets[i], k);
            PadRow(sample.Neighbors.Slice(offsets[i], count), sample.EdgeIds.Slice(offsets[i], count), mode, padNeighbor,
                neighbors.Slice(i * k, k), edgeIds.Slice(i * k, k));
        }
    }

    /// <summary>One row: copies up to dst.Length samples, then pads the rest by <paramref name="mode"/>.</summary>
    public static void PadRow(ReadOnlySpan<int> sampled, ReadOnlySpan<int> sampledEdges, PaddingMode mode, int padNeighbor,
        Span<int> dst, Span<int> dstEdges)
    {
        var k = dst.Length;
        var count = Math.Min(sampled.Length, k);
        sampled[..count].CopyTo(dst);
        sampledEdges[..count].CopyTo(dstEdges);
        if (count == k) return;
        if (mode == PaddingMode.Circular && count > 0)
        {
            for (var j = count; j < k; j++)
            {
                dst[j] = dst[j - count];
                dstEdges[j] = dstEdges[j - count];
            }
        }
        else
        {
            dst[count..].Fill(padNeighbor);
            dstEdges[count..].Fill(-1);
        }
    }
}
