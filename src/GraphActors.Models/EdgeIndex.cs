// A relation's edges sorted both ways (CSR by destination and by source), for aggregation without per-edge messages.
using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// The edges of one relation of a block as two compressed-sparse-row indexes: by destination (what a forward
/// aggregation walks) and by source (what its backward walks). Edges keep their original order within a row, and each
/// entry remembers its edge number so that per-edge weights can be read. The destination side is built with the index
/// (one counting sort, O(E)); the source side on first use, which is the first backward pass: an inference forward
/// pass under no_grad never needs it, and so never allocates its three arrays. The arrays are the garbage collector's,
/// not pooled: the autograd graph may hold the index past its block, and a backward pass that found its arrays reused
/// would compute wrong gradients silently.
/// </summary>
public sealed class EdgeIndex
{
    private readonly int[] _dstPtr, _dstSrc, _dstEdge;
    private BySource? _bySource;

    /// <summary>The source side: row starts by source, each entry's destination and edge number.</summary>
    private sealed record BySource(int[] Ptr, int[] Dst, int[] Edge);

    private EdgeIndex(int numSrc, int numDst, int numEdges)
    {
        NumSrc = numSrc;
        NumDst = numDst;
        NumEdges = numEdges;
        _dstPtr = new int[numDst + 1];
        _dstSrc = GC.AllocateUninitializedArray<int>(numEdges);
        _dstEdge = GC.AllocateUninitializedArray<int>(numEdges);
    }

    public int NumSrc { get; }
    public int NumDst { get; }
    public int NumEdges { get; }

    /// <summary>Row starts by destination ([NumDst + 1]).</summary>
    internal ReadOnlySpan<int> DstPtr => _dstPtr.AsSpan(0, NumDst + 1);
    /// <summary>The source of each edge, in destination order.</summary>
    internal ReadOnlySpan<int> DstSrc => _dstSrc.AsSpan(0, NumEdges);
    /// <summary>The edge number of each entry, in destination order.</summary>
    internal ReadOnlySpan<int> DstEdge => _dstEdge.AsSpan(0, NumEdges);
    /// <summary>Row starts by source ([NumSrc + 1]).</summary>
    internal ReadOnlySpan<int> SrcPtr => Source().Ptr.AsSpan(0, NumSrc + 1);
    /// <summary>The destination of each edge, in source order.</summary>
    internal ReadOnlySpan<int> SrcDst => Source().Dst.AsSpan(0, NumEdges);
    /// <summary>The edge number of each entry, in source order.</summary>
    internal ReadOnlySpan<int> SrcEdge => Source().Edge.AsSpan(0, NumEdges);
    /// <summary>Whether the source side has been built (tests: a forward pass alone never builds it).</summary>
    internal bool HasSourceSide => Volatile.Read(ref _bySource) is not null;

    /// <summary>Indexes <c>[E]</c> int64 source and destination tensors (CPU, values checked against the counts).</summary>
    public static unsafe EdgeIndex FromTensors(Tensor edgeSrc, Tensor edgeDst, long numSrc, long numDst)
    {
        if (edgeSrc.dtype != ScalarType.Int64 || edgeDst.dtype != ScalarType.Int64 || edgeSrc.device_type != DeviceType.CPU || edgeDst.device_type != DeviceType.CPU)
            throw new ArgumentException("Edge indices must be int64 CPU tensors.");
        var e = edgeSrc.size(0);
        if (edgeDst.size(0) != e)
            throw new ArgumentException($"{e} edge sources for {edgeDst.size(0)} edge destinations.");
        if (e > int.MaxValue - 1 || numSrc > int.MaxValue - 1 || numDst > int.MaxValue - 1)
            throw new ArgumentOutOfRangeException(nameof(edgeSrc), $"A block relation of {e} edges over {numSrc} sources and {numDst} destinations does not fit an int32 index; sample smaller blocks.");
        using var s = edgeSrc.contiguous();
        using var d = edgeDst.contiguous();
        var src = e == 0 ? ReadOnlySpan<long>.Empty : new ReadOnlySpan<long>(NativeTensors.Data(s), (int)e);
        var dst = e == 0 ? ReadOnlySpan<long>.Empty : new ReadOnlySpan<long>(NativeTensors.Data(d), (int)e);
        return Build(src, dst, (int)numSrc, (int)numDst);
    }

    private static EdgeIndex Build(ReadOnlySpan<long> src, ReadOnlySpan<long> dst, int numSrc, int numDst)
    {
        // Both ends are checked now, though the source side is sorted only when a backward pass asks for it.
        for (var e = 0; e < src.Length; e++)
            if ((ulong)src[e] >= (ulong)numSrc) throw new ArgumentOutOfRangeException(nameof(src), $"Edge {e} has source {src[e]}, outside [0, {numSrc}).");
        var index = new EdgeIndex(numSrc, numDst, src.Length);
        Sort(dst, src, numDst, index._dstPtr, index._dstSrc, index._dstEdge, "destination");
        return index;
    }

    private BySource Source() => Volatile.Read(ref _bySource) ?? BuildSource();

    /// <summary>
    /// The source side from the destination side: each edge's ends put back in edge order, then the same stable counting
    /// sort as the destination side, so the arrays equal what sorting the original edges by source gives.
    /// </summary>
    private BySource BuildSource()
    {
        var n = Math.Max(1, NumEdges);
        var src = ArrayPool<long>.Shared.Rent(n);
        var dst = ArrayPool<long>.Shared.Rent(n);
        try
        {
            for (var row = 0; row < NumDst; row++)
                for (var k = _dstPtr[row]; k < _dstPtr[row + 1]; k++)
                {
                    var edge = _dstEdge[k];
                    src[edge] = _dstSrc[k];
                    dst[edge] = row;
                }
            var side = new BySource(new int[NumSrc + 1], GC.AllocateUninitializedArray<int>(NumEdges), GC.AllocateUninitializedArray<int>(NumEdges));
            Sort(src.AsSpan(0, NumEdges), dst.AsSpan(0, NumEdges), NumSrc, side.Ptr, side.Dst, side.Edge, "source");
            return Interlocked.CompareExchange(ref _bySource, side, null) ?? side;
        }
        finally
        {
            ArrayPool<long>.Shared.Return(src);
            ArrayPool<long>.Shared.Return(dst);
        }
    }

    // Counting sort of the edges by key (stable): ptr[k]..ptr[k+1] are key k's edges, other[] their other end.
    private static void Sort(ReadOnlySpan<long> key, ReadOnlySpan<long> other, int rows, int[] ptr, int[] otherOut, int[] edgeOut, string end)
    {
        for (var e = 0; e < key.Length; e++)
        {
            var k = key[e];
            if ((ulong)k >= (ulong)rows) throw new ArgumentOutOfRangeException(nameof(key), $"Edge {e} has {end} {k}, outside [0, {rows}).");
            ptr[k + 1]++;
        }
        for (var r = 0; r < rows; r++) ptr[r + 1] += ptr[r];
        var next = ArrayPool<int>.Shared.Rent(Math.Max(1, rows));
        try
        {
            Array.Copy(ptr, next, rows);
            for (var e = 0; e < key.Length; e++)
            {
                var at = next[key[e]]++;
                otherOut[at] = (int)other[e];
                edgeOut[at] = e;
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(next);
        }
    }
}
