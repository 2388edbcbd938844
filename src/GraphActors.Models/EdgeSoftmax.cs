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

    /// <summary>
    /// The same softmax through a block's <see cref="EdgeIndex"/>: each destination's edges are visited in place (max,
    /// exp, sum, divide) by one thread, and the backward is <c>α·(g − Σ α·g)</c> per destination, with no sort, no
    /// float64 copy and no [E] index tensors. Scores are [E] or [E, heads] in the edges' original order.
    /// </summary>
    public static Tensor Compute(Tensor scores, EdgeIndex index)
    {
        if (scores.dtype != ScalarType.Float32 || scores.device_type != DeviceType.CPU || scores.dim() is < 1 or > 2)
            throw new ArgumentException($"Expected [E] or [E, heads] float32 CPU scores, got {scores.dtype} [{string.Join(", ", scores.shape)}].", nameof(scores));
        if (scores.size(0) != index.NumEdges)
            throw new ArgumentException($"{scores.size(0)} scores for {index.NumEdges} edges.", nameof(scores));
        if (!AutogradGate.RecordsGraph(scores))
        {
            using var s = scores.contiguous();
            return Kernel(s, null, index);
        }
        lock (AutogradGate.Lock) return IndexedFunction.apply(scores, index);
    }

    internal sealed class IndexedFunction : autograd.SingleTensorFunction<IndexedFunction>
    {
        public override string Name => "EdgeSoftmax";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var index = (EdgeIndex)vars[1];
            using var s = ((Tensor)vars[0]).contiguous();
            var alpha = Kernel(s, null, index);
            ctx.save_for_backward([alpha]);
            ctx.save_data("index", index);
            return alpha;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var alpha = ctx.get_saved_variables()[0];
            var index = (EdgeIndex)ctx.get_data("index");
            using var g = gradOutput.contiguous();
            return [Kernel(alpha, g, index), null!]; // no gradient for the index
        }
    }

    // Without a gradient: the softmax of x per destination. With one: α·(g − Σ α·g) per destination, x being α.
    private static unsafe Tensor Kernel(Tensor x, Tensor? grad, EdgeIndex index)
    {
        var result = empty_like(x);
        var heads = x.dim() == 1 ? 1 : (int)x.size(1);
        if (index.NumEdges == 0 || heads == 0) return result;
        nint xp = (nint)NativeTensors.Data(x), gp = grad is null ? 0 : (nint)NativeTensors.Data(grad), rp = (nint)NativeTensors.Data(result);
        fixed (int* ptr = index.DstPtr, edge = index.DstEdge)
        {
            var (p, e) = ((nint)ptr, (nint)edge);
            Gspmm.ForRows(ptr, index.NumDst, (from, to) =>
            {
                var xs = (float*)xp;
                var gs = (float*)gp;
                var rs = (float*)rp;
                for (var d = from; d < to; d++)
                {
                    int start = ((int*)p)[d], end = ((int*)p)[d + 1];
                    if (start == end) continue;
                    for (var h = 0; h < heads; h++)
                    {
                        if (gp == 0)
                        {
                            var max = float.NegativeInfinity;
                            for (var k = start; k < end; k++) max = MathF.Max(max, xs[(long)((int*)e)[k] * heads + h]);
                            var sum = 0f;
                            for (var k = start; k < end; k++)
                            {
                                var at = (long)((int*)e)[k] * heads + h;
                                var v = MathF.Exp(xs[at] - max);
                                rs[at] = v;
                                sum += v;
                            }
                            for (var k = start; k < end; k++) rs[(long)((int*)e)[k] * heads + h] /= sum;
                        }
                        else
                        {
                            var dot = 0f;
                            for (var k = start; k < end; k++)
                            {
                                var at = (long)((int*)e)[k] * heads + h;
                                dot += xs[at] * gs[at];
                            }
                            for (var k = start; k < end; k++)
                            {
                                var at = (long)((int*)e)[k] * heads + h;
                                rs[at] = xs[at] * (gs[at] - dot);
                            }
                        }
                    }
                }
            });
        }
        return result;
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
