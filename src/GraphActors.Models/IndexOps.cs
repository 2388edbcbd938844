using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

internal static class IndexOps
{
    /// <summary>
    /// <c>out[index[i]] += values[i]</c> into <paramref name="rows"/> rows. Uses scatter_add with an
    /// expanded index: on CPU libtorch's index_add over wide rows was 5–20× slower here (Cora: 1433
    /// columns, 10k edges), and scatter_add's backward is a cheap gather.
    /// </summary>
    public static Tensor SumInto(Tensor values, Tensor index, long rows)
    {
        // Sizes by dimension (size(d)), not values.shape: every shape read leaves a finalizable object (NativeTensors.Shape).
        if (values.dim() == 1)
            return zeros(rows, dtype: values.dtype, device: values.device).scatter_add(0, index, values);
        if (values.dim() == 2)
        {
            // Temporaries disposed one by one rather than through a scope of their own (a scope per call is a set that
            // grows per tensor). Disposing a handle only drops a reference: autograd keeps what it saved.
            var columns = values.size(1);
            using var column = index.unsqueeze(1);
            using var along = column.expand(index.size(0), columns);
            using var zero = zeros(rows, columns, dtype: values.dtype, device: values.device);
            return zero.scatter_add(0, along, values);
        }
        using var scope = NewDisposeScope();
        var shape = NativeTensors.Shape(values);
        shape[0] = rows;
        // From the trailing dimensions, not numel / rows: with no edges numel is 0 and the width would come out 0.
        long width = 1;
        for (var d = 1; d < shape.Length; d++) width *= shape[d];
        var flat = values.reshape(values.size(0), width);
        var expanded = index.unsqueeze(1).expand(index.size(0), width);
        var summed = zeros(rows, width, dtype: values.dtype, device: values.device).scatter_add(0, expanded, flat);
        return summed.view(shape).MoveToOuterDisposeScope();
    }

    /// <summary>Number of entries of <paramref name="index"/> equal to each of 0..rows-1, as <paramref name="dtype"/>.</summary>
    public static Tensor Count(Tensor index, long rows, ScalarType dtype)
    {
        if (index.size(0) == 0)
            return zeros(rows, dtype: dtype, device: index.device);
        using var counts = bincount(index, minlength: rows);
        return counts.to_type(dtype);
    }
}
