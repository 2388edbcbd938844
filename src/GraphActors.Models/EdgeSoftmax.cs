// Softmax over each destination's incoming edges, and the per-destination maximum it shifts by.
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// DGL's <c>edge_softmax</c>: for every destination node, a softmax over the scores of its incoming
/// edges, computed with index ops only.
/// </summary>
/// <remarks>
/// For numerical stability each score is shifted by the maximum over its destination's edges. TorchSharp
/// 0.107 has no usable scatter_reduce/index_reduce (index_reduce is marked "not implemented"), so that
/// maximum comes from a sorted-segment scan: edges are sorted by destination, destination <c>k</c>'s
/// scores are lifted by <c>k·span</c> (span exceeds the range of all scores) so that segments are
/// strictly increasing, and a running maximum (<c>cummax</c>) read at each segment's last edge is the
/// segment's maximum. This costs O(E log E) time and O(E·heads) memory whatever the degree skew,
/// unlike a dense [numDst, maxDegree] grid, which a single hub makes huge. The scan runs in float64 so
/// the lift loses no useful precision. Subtracting a global maximum instead would be equally exact in
/// exact arithmetic, but a destination whose scores all lie ~90 below the global maximum would
/// underflow to 0/0 in float32. The shift carries no gradient, and needs none: softmax is invariant to
/// it.
/// </remarks>
public static class EdgeSoftmax
{
    /// <param name="scores">[E] or [E, heads] edge scores.</param>
    /// <param name="edgeDst">[E] int64 destination of each edge.</param>
    /// <param name="numDst">Number of destination nodes.</param>
    /// <returns>Same shape as <paramref name="scores"/>; the values of each destination's edges sum to 1 per head.</returns>
    public static Tensor Compute(Tensor scores, Tensor edgeDst, long numDst)
    {
        if (scores.size(0) != edgeDst.size(0))
            throw new ArgumentException($"{scores.size(0)} scores for {edgeDst.size(0)} edges.");
        using var scope = NewDisposeScope();
        var max = SegmentMaxPerEdge(scores, edgeDst, numDst);
        var exp = (scores - max).exp();
        var sums = IndexOps.SumInto(exp, edgeDst, numDst);
        return (exp / sums.index_select(0, edgeDst)).MoveToOuterDisposeScope();
    }

    /// <summary>For every edge, the maximum of <paramref name="values"/> over the edges sharing its destination (no gradient).</summary>
    public static Tensor SegmentMaxPerEdge(Tensor values, Tensor edgeDst, long numDst)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var numEdges = values.size(0);
        if (numEdges == 0)
            return zeros_like(values).MoveToOuterDisposeScope();

        var v = values.detach().to_type(ScalarType.Float64);
        var low = v.min();
        var span = (v.max() - low).Plus(PinnedScalars.OneDouble);

        var (sortedDst, order) = edgeDst.sort(stable: true);
        var lift = sortedDst.to_type(ScalarType.Float64) * span;
        var sortedValues = v.index_select(0, order) - low;
        var lifted = v.dim() == 1 ? sortedValues.Plus(lift) : sortedValues.Plus(lift.unsqueeze(1));
        var (runningMax, _) = lifted.cummax(0);

        var counts = bincount(edgeDst, minlength: numDst);
        var segmentEnd = counts.cumsum(0).sub(PinnedScalars.One);
        var endOfMySegment = segmentEnd.index_select(0, sortedDst);
        var segmentMax = runningMax.index_select(0, endOfMySegment);
        var unlifted = (v.dim() == 1 ? segmentMax - lift : segmentMax - lift.unsqueeze(1)).Plus(low);

        var perEdge = zeros_like(v).index_copy(0, order, unlifted);
        return perEdge.to_type(values.dtype).MoveToOuterDisposeScope();
    }
}
