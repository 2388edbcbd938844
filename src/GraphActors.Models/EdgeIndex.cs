// A relation's edges sorted both ways (CSR by destination and by source), for aggregation without per-edge messages.
using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// The edges of one relation of a block as two compressed-sparse-row indexes: by destination (what a forward
/// aggregation walks) and by source (what its backward walks). Edges keep their original order within a row, and each
/// entry remembers its edge number so that per-edge weights can be read. Built once per block and relation in O(E)
/// (two counting sorts). The arrays are the garbage collector's, not pooled: the autograd graph may hold the index
/// past its block, and a backward pass that found its arrays reused would compute wrong gradients silently.
/// </summary>
public sealed class EdgeIndex
{
    private readonly int[] _dstPtr, _dstSrc, _dstEdge, _srcPtr, _srcDst, _srcEdge;

    private EdgeIndex(int numSrc, int numDst, int numEdges)
    {
        NumSrc = numSrc;
        NumDst = numDst;
        NumEdges = numEdges;
        _dstPtr = new int[numDst + 1];
        _srcPtr = new int[numSrc + 1];
        _dstSrc = GC.AllocateUninitializedArray<int>(numEdges);
        _dstEdge = GC.AllocateUninitializedArray<int>(numEdges);
        _srcDst = GC.AllocateUninitializedArray<int>(numEdges);
        _srcEdge = GC.AllocateUninitializedArray<int>(numEdges);
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
    internal ReadOnlySpan<int> SrcPtr => _srcPtr.AsSpan(0, NumSrc + 1);
    /// <summary>The destination of each edge, in source order.</summary>
    internal ReadOnlySpan<int> SrcDst => _srcDst.AsSpan(0, NumEdges);
    /// <summary>The edge number of each entry, in source order.</summary>
    internal ReadOnlySpan<int> SrcEdge => _srcEdge.AsSpan(0, NumEdges);

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
        var index = new EdgeIndex(numSrc, numDst, src.Length);
        Sort(dst, src, numDst, index._dstPtr, index._dstSrc, index._dstEdge, "destination");
        Sort(src, dst, numSrc, index._srcPtr, index._srcDst, index._srcEdge, "source");
        return index;
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
