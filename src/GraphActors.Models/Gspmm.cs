// Sum or mean of source rows over in-edges as one fused kernel (DGL's gspmm copy_u/u_mul_e + sum), with its own backward.
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// <c>out[d] = Σ_e c_e · h[src_e]</c> over the in-edges e of each destination d, where c_e is the edge's weight (1
/// without weights), divided by d's in-degree for the mean. Gathering messages with <c>index_select</c> and summing
/// them with <c>scatter_add</c> writes and reads an [E, F] tensor (a 1M-edge block at 256 wide is 1 GB) and its
/// backward scatters again; here each output row is summed in place from the rows it reads, through the
/// <see cref="EdgeIndex"/> by destination, and the backward does the same by source.
/// <para>Rows are split between torch's intra-op thread count by edge count; every row is summed by one thread in
/// edge order, so results do not depend on the thread count or the machine's load.</para>
/// </summary>
public static class Gspmm
{
    /// <param name="h">[numSrc, F] float32 (any trailing shape; it is summed as flat rows).</param>
    /// <param name="index">The relation's edges; <c>index.NumSrc</c> must equal h's rows.</param>
    /// <param name="weight">Optional [E] float32 per-edge weights that need no gradient.</param>
    /// <param name="mean">Divide each destination's sum by its in-degree (at least 1).</param>
    /// <returns>[numDst, …] like h.</returns>
    public static Tensor Sum(Tensor h, EdgeIndex index, Tensor? weight, bool mean)
    {
        if (h.dtype != ScalarType.Float32 || h.device_type != DeviceType.CPU)
            throw new ArgumentException($"Gspmm sums float32 CPU rows, got {h.dtype} on {h.device_type}.", nameof(h));
        if (h.size(0) != index.NumSrc)
            throw new ArgumentException($"{h.size(0)} source rows for an edge index over {index.NumSrc} sources.", nameof(h));
        if (weight is not null && (weight.dtype != ScalarType.Float32 || weight.dim() != 1 || weight.size(0) != index.NumEdges))
            throw new ArgumentException($"Edge weights must be [{index.NumEdges}] float32.", nameof(weight));
        if (weight is not null && weight.requires_grad)
            throw new ArgumentException("Gspmm's edge weights are constants; a weight that needs a gradient goes through index_select and scatter_add.", nameof(weight));
        var args = new Args(index, weight is null ? null : Copy(weight), mean);
        if (!AutogradGate.RecordsGraph(h)) return Kernel(h, args, byDestination: true);
        lock (AutogradGate.Lock) return SumFunction.apply(h, args);
    }

    // The weights are copied out: the backward pass may run after their tensor's owner let it go.
    private static unsafe float[] Copy(Tensor weight)
    {
        using var w = weight.contiguous();
        var copy = GC.AllocateUninitializedArray<float>((int)w.size(0));
        if (copy.Length > 0) new ReadOnlySpan<float>(NativeTensors.Data(w), copy.Length).CopyTo(copy);
        return copy;
    }

    internal sealed record Args(EdgeIndex Index, float[]? Weight, bool Mean);

    /// <summary>
    /// <c>out[d, h] = Σ_e α[e, h] · z[src_e, h]</c> over the in-edges of each destination: GAT's aggregation (DGL's
    /// u_mul_e + sum) with gradients for both z and the attention α, and no [E, heads, D] message tensor.
    /// </summary>
    /// <param name="z">[numSrc, heads, D] float32.</param>
    /// <param name="alpha">[E, heads] float32, in the edges' original order.</param>
    /// <returns>[numDst, heads, D].</returns>
    public static Tensor WeightedSum(Tensor z, Tensor alpha, EdgeIndex index)
    {
        if (z.dtype != ScalarType.Float32 || alpha.dtype != ScalarType.Float32 || z.device_type != DeviceType.CPU || alpha.device_type != DeviceType.CPU)
            throw new ArgumentException("Gspmm sums float32 CPU tensors.");
        if (z.dim() != 3 || z.size(0) != index.NumSrc)
            throw new ArgumentException($"Expected z of shape [{index.NumSrc}, heads, D], got [{string.Join(", ", z.shape)}].", nameof(z));
        if (alpha.dim() != 2 || alpha.size(0) != index.NumEdges || alpha.size(1) != z.size(1))
            throw new ArgumentException($"Expected attention of shape [{index.NumEdges}, {z.size(1)}], got [{string.Join(", ", alpha.shape)}].", nameof(alpha));
        if (!AutogradGate.RecordsGraph(z, alpha))
        {
            using var zc = z.contiguous();
            using var ac = alpha.contiguous();
            return WeightedForward(zc, ac, index);
        }
        lock (AutogradGate.Lock) return WeightedSumFunction.apply(z, alpha, index);
    }

    internal sealed class WeightedSumFunction : autograd.SingleTensorFunction<WeightedSumFunction>
    {
        public override string Name => "GspmmWeightedSum";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var z = ((Tensor)vars[0]).contiguous();
            var alpha = ((Tensor)vars[1]).contiguous();
            var index = (EdgeIndex)vars[2];
            ctx.save_for_backward([z, alpha]);
            ctx.save_data("index", index);
            return WeightedForward(z, alpha, index);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var saved = ctx.get_saved_variables();
            var index = (EdgeIndex)ctx.get_data("index");
            var (gradZ, gradAlpha) = WeightedBackward(saved[0], saved[1], gradOutput, index);
            return [gradZ, gradAlpha, null!]; // no gradient for the index
        }
    }

    private static unsafe Tensor WeightedForward(Tensor z, Tensor alpha, EdgeIndex index)
    {
        var heads = (int)z.size(1);
        var d = (int)z.size(2);
        var result = zeros(index.NumDst, heads, d, ScalarType.Float32);
        if (index.NumEdges == 0 || d == 0) return result;
        nint zp = (nint)NativeTensors.Data(z), ap = (nint)NativeTensors.Data(alpha), op = (nint)NativeTensors.Data(result);
        fixed (int* ptr = index.DstPtr, src = index.DstSrc, edge = index.DstEdge)
        {
            var (p, s, e) = ((nint)ptr, (nint)src, (nint)edge);
            ForRows(ptr, index.NumDst, (from, to) =>
            {
                for (var row = from; row < to; row++)
                {
                    var o = (float*)op + (long)row * heads * d;
                    for (var k = ((int*)p)[row]; k < ((int*)p)[row + 1]; k++)
                    {
                        var zs = (float*)zp + (long)((int*)s)[k] * heads * d;
                        var a = (float*)ap + (long)((int*)e)[k] * heads;
                        for (var h = 0; h < heads; h++) Job.Accumulate(o + h * d, zs + h * d, a[h], d);
                    }
                }
            });
        }
        return result;
    }

    private static unsafe (Tensor GradZ, Tensor GradAlpha) WeightedBackward(Tensor z, Tensor alpha, Tensor gradOutput, EdgeIndex index)
    {
        var heads = (int)z.size(1);
        var d = (int)z.size(2);
        using var g = gradOutput.contiguous();
        var gradZ = zeros(index.NumSrc, heads, d, ScalarType.Float32);
        var gradAlpha = zeros(index.NumEdges, heads, ScalarType.Float32);
        if (index.NumEdges == 0 || d == 0) return (gradZ, gradAlpha);
        nint zp = (nint)NativeTensors.Data(z), ap = (nint)NativeTensors.Data(alpha), gp = (nint)NativeTensors.Data(g);
        nint gzp = (nint)NativeTensors.Data(gradZ), gap = (nint)NativeTensors.Data(gradAlpha);
        fixed (int* ptr = index.SrcPtr, dst = index.SrcDst, edge = index.SrcEdge)
        {
            var (p, t, e) = ((nint)ptr, (nint)dst, (nint)edge);
            // By source: each z row's gradient and each edge's α gradient are written by one thread.
            ForRows(ptr, index.NumSrc, (from, to) =>
            {
                for (var row = from; row < to; row++)
                {
                    var gz = (float*)gzp + (long)row * heads * d;
                    var zs = (float*)zp + (long)row * heads * d;
                    for (var k = ((int*)p)[row]; k < ((int*)p)[row + 1]; k++)
                    {
                        var edgeNo = ((int*)e)[k];
                        var gd = (float*)gp + (long)((int*)t)[k] * heads * d;
                        var a = (float*)ap + (long)edgeNo * heads;
                        for (var h = 0; h < heads; h++)
                        {
                            Job.Accumulate(gz + h * d, gd + h * d, a[h], d);
                            ((float*)gap)[(long)edgeNo * heads + h] = Job.Dot(gd + h * d, zs + h * d, d);
                        }
                    }
                }
            });
        }
        return (gradZ, gradAlpha);
    }

    // Rows split between torch's intra-op threads by edge count, at row boundaries (see the class remarks).
    internal static unsafe void ForRows(int* ptr, int rows, Action<int, int> body)
    {
        var threads = Math.Max(1, Math.Min(torch.get_num_threads(), rows / 64 + 1));
        if (threads == 1)
        {
            body(0, rows);
            return;
        }
        var bounds = new int[threads + 1];
        var total = (long)ptr[rows];
        var r = 0;
        for (var t = 1; t < threads; t++)
        {
            var target = total * t / threads;
            while (r < rows && ptr[r] < target) r++;
            bounds[t] = r;
        }
        bounds[threads] = rows;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => body(bounds[t], bounds[t + 1]));
    }

    internal sealed class SumFunction : autograd.SingleTensorFunction<SumFunction>
    {
        public override string Name => "GspmmSum";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var h = (Tensor)vars[0];
            var args = (Args)vars[1];
            ctx.save_data("args", args);
            return Kernel(h, args, byDestination: true);
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            var args = (Args)ctx.get_data("args");
            return [Kernel(gradOutput, args, byDestination: false), null!]; // no gradient for the non-tensor argument
        }
    }

    // Forward: rows are destinations, summing the source rows of their in-edges. Backward: rows are sources, summing
    // the output gradients of their out-edges with the same coefficients.
    private static unsafe Tensor Kernel(Tensor input, Args args, bool byDestination)
    {
        var index = args.Index;
        var outRows = byDestination ? index.NumDst : index.NumSrc;
        using var x = input.contiguous();
        var shape = NativeTensors.Shape(x);
        shape[0] = outRows;
        var result = empty(shape, ScalarType.Float32);
        var width = outRows == 0 ? 0 : (int)(result.numel() / outRows);
        if (result.numel() == 0) return result;

        var ptr = byDestination ? index.DstPtr : index.SrcPtr;
        var dstPtr = index.DstPtr;
        var other = byDestination ? index.DstSrc : index.SrcDst;
        var edge = byDestination ? index.DstEdge : index.SrcEdge;
        var job = new Job
        {
            In = (float*)NativeTensors.Data(x),
            Out = (float*)NativeTensors.Data(result),
            Width = width,
            Mean = args.Mean,
            ByDestination = byDestination,
        };
        fixed (int* p = ptr, o = other, e = edge, dp = dstPtr)
        fixed (float* wp = args.Weight)
        {
            job.Weight = args.Weight is null ? null : wp;
            job.Ptr = p;
            job.Other = o;
            job.Edge = e;
            job.DstPtr = dp;
            var copy = job;
            ForRows(p, outRows, (from, to) => copy.Rows(from, to));
        }
        return result;
    }

    private unsafe struct Job
    {
        public float* In, Out, Weight;
        public int* Ptr, Other, Edge, DstPtr;
        public int Width;
        public bool Mean, ByDestination;

        public readonly void Rows(int from, int to)
        {
            for (var row = from; row < to; row++)
            {
                var o = Out + (long)row * Width;
                new Span<float>(o, Width).Clear();
                var start = Ptr[row];
                var end = Ptr[row + 1];
                if (ByDestination)
                {
                    for (var k = start; k < end; k++)
                        Accumulate(o, In + (long)Other[k] * Width, Weight is null ? 1f : Weight[Edge[k]], Width);
                    if (Mean && end - start > 1)
                        Scale(o, 1f / (end - start), Width);
                }
                else
                {
                    for (var k = start; k < end; k++)
                    {
                        var d = Other[k];
                        var c = Weight is null ? 1f : Weight[Edge[k]];
                        if (Mean) c /= Math.Max(1, DstPtr[d + 1] - DstPtr[d]);
                        Accumulate(o, In + (long)d * Width, c, Width);
                    }
                }
            }
        }

        public static float Dot(float* x, float* y, int width)
        {
            var j = 0;
            var sum = 0f;
            if (Vector256.IsHardwareAccelerated && width >= 8)
            {
                var acc = Vector256<float>.Zero;
                for (; j + 8 <= width; j += 8)
                    acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(y + j), acc);
                sum = Vector256.Sum(acc);
            }
            for (; j < width; j++) sum = MathF.FusedMultiplyAdd(x[j], y[j], sum);
            return sum;
        }

        public static void Accumulate(float* acc, float* row, float c, int width)
        {
            var j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                if (c == 1f)
                    for (; j + 8 <= width; j += 8)
                        Vector256.Store(Vector256.Load(acc + j) + Vector256.Load(row + j), acc + j);
                else
                {
                    var cv = Vector256.Create(c);
                    for (; j + 8 <= width; j += 8)
                        Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(row + j), cv, Vector256.Load(acc + j)), acc + j);
                }
            }
            for (; j < width; j++) acc[j] = MathF.FusedMultiplyAdd(row[j], c, acc[j]);
        }

        private static void Scale(float* acc, float c, int width)
        {
            var j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var cv = Vector256.Create(c);
                for (; j + 8 <= width; j += 8)
                    Vector256.Store(Vector256.Load(acc + j) * cv, acc + j);
            }
            for (; j < width; j++) acc[j] *= c;
        }
    }
}
