// Tensors filled from .NET spans with one copy into memory libtorch allocates: no pinned managed array behind them.
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// <c>torch.tensor(array)</c> in TorchSharp 0.107 pins the array (a GCHandle and a deleter delegate per tensor) until
/// the tensor is freed, so every in-flight batch keeps young arrays pinned in gen0 and adds three objects per tensor;
/// under serving load that was a fifth of all allocation and lengthened every gen0 collection. These build the tensor
/// with <c>empty</c> and copy (or widen int32 → int64) straight into its storage, so the source can be a pooled or
/// reused buffer and nothing stays pinned. CPU tensors only; the result belongs to the dispose scope active at creation.
/// </summary>
public static unsafe class NativeTensors
{
    /// <summary>A [rows, cols] float32 tensor holding the first rows × cols values of <paramref name="values"/>.</summary>
    public static Tensor Float32(ReadOnlySpan<float> values, long rows, long cols)
    {
        var n = checked(rows * cols);
        if (values.Length < n) throw new ArgumentException($"{values.Length} values for {rows} rows of {cols}.", nameof(values));
        var t = empty(rows, cols, ScalarType.Float32);
        Copy(values[..(int)n], t);
        return t;
    }

    /// <summary>
    /// As <see cref="Float32(ReadOnlySpan{float}, long, long)"/> with each row divided by its sum (clamped to 1e-12, as
    /// <c>x / x.sum(1).clamp_min(1e-12)</c>), in the one pass that copies it: DGL's row-normalised Cora features
    /// without two more passes over a wide batch.
    /// </summary>
    public static Tensor Float32RowNormalised(ReadOnlySpan<float> values, long rows, long cols)
    {
        var n = checked(rows * cols);
        if (values.Length < n) throw new ArgumentException($"{values.Length} values for {rows} rows of {cols}.", nameof(values));
        var t = empty(rows, cols, ScalarType.Float32);
        if (n == 0) return t;
        var dst = new Span<float>(Data(t), (int)n);
        var width = (int)cols;
        for (var r = 0; r < rows; r++)
        {
            var src = values.Slice(r * width, width);
            var sum = Math.Max(Sum(src), 1e-12f);
            Divide(src, sum, dst.Slice(r * width, width));
        }
        return t;
    }

    private static float Sum(ReadOnlySpan<float> x)
    {
        var acc = System.Numerics.Vector<float>.Zero;
        var w = System.Numerics.Vector<float>.Count;
        var i = 0;
        for (; i + w <= x.Length; i += w) acc += new System.Numerics.Vector<float>(x.Slice(i, w));
        var sum = System.Numerics.Vector.Sum(acc);
        for (; i < x.Length; i++) sum += x[i];
        return sum;
    }

    private static void Divide(ReadOnlySpan<float> x, float by, Span<float> into)
    {
        var d = new System.Numerics.Vector<float>(by);
        var w = System.Numerics.Vector<float>.Count;
        var i = 0;
        for (; i + w <= x.Length; i += w) (new System.Numerics.Vector<float>(x.Slice(i, w)) / d).CopyTo(into.Slice(i, w));
        for (; i < x.Length; i++) into[i] = x[i] / by;
    }

    /// <summary>A 1-D float32 tensor of <paramref name="values"/>.</summary>
    public static Tensor Float32(ReadOnlySpan<float> values)
    {
        var t = empty(values.Length, ScalarType.Float32);
        Copy(values, t);
        return t;
    }

    /// <summary>A 1-D int64 tensor of <paramref name="values"/>.</summary>
    public static Tensor Int64(ReadOnlySpan<long> values)
    {
        var t = empty(values.Length, ScalarType.Int64);
        Copy(values, t);
        return t;
    }

    /// <summary>A 1-D int64 tensor of <paramref name="values"/> widened from int32 (index tensors: torch indexes by int64).</summary>
    public static Tensor Int64(ReadOnlySpan<int> values)
    {
        var t = empty(values.Length, ScalarType.Int64);
        if (values.Length == 0) return t;
        var dst = new Span<long>(Data(t), values.Length);
        for (var i = 0; i < values.Length; i++) dst[i] = values[i];
        return t;
    }

    private static void Copy<T>(ReadOnlySpan<T> values, Tensor t) where T : unmanaged
    {
        if (values.Length == 0) return;
        values.CopyTo(new Span<T>(Data(t), values.Length));
    }

    /// <summary>
    /// The values of a contiguous float32 CPU tensor, read in place (no copy); valid while the tensor is alive and
    /// unchanged.
    /// </summary>
    public static ReadOnlySpan<float> Float32Values(Tensor t) => Values<float>(t, ScalarType.Float32, "float32");

    /// <summary>
    /// The values of a contiguous int32 CPU tensor, read in place (no copy); valid while the tensor is alive and unchanged.
    /// </summary>
    public static ReadOnlySpan<int> Int32Values(Tensor t) => Values<int>(t, ScalarType.Int32, "int32");

    private static ReadOnlySpan<T> Values<T>(Tensor t, ScalarType dtype, string kind) where T : unmanaged
    {
        if (t.dtype != dtype || t.device_type != DeviceType.CPU || !t.is_contiguous())
            throw new ArgumentException($"Expected a contiguous {kind} CPU tensor, got {t.dtype} on {t.device_type}.", nameof(t));
        var n = t.numel();
        if (n > int.MaxValue) throw new ArgumentException($"{n} values do not fit one span.", nameof(t));
        return n == 0 ? ReadOnlySpan<T>.Empty : new ReadOnlySpan<T>(Data(t), (int)n);
    }

    /// <summary>
    /// The sizes of <paramref name="t"/>, read dimension by dimension. TorchSharp 0.107's <c>shape</c>, <c>size()</c> and
    /// <c>stride()</c> (and so <c>data&lt;T&gt;()</c>, which reads the strides) each create a finalizable PinnedArray that
    /// is never suppressed: every one survives a gen0 collection to have its finalizer run. Under serving load that was
    /// six a prediction, 4,000 objects promoted and finalized per collection.
    /// </summary>
    public static long[] Shape(Tensor t)
    {
        var shape = new long[t.dim()];
        for (var d = 0; d < shape.Length; d++) shape[d] = t.size(d);
        return shape;
    }

    /// <summary>The storage of a CPU tensor (its first element).</summary>
    internal static void* Data(Tensor t)
    {
        var p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero) throw new InvalidOperationException("libtorch gave no data pointer for a new CPU tensor.");
        return (void*)p;
    }

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr tensor);
}
