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
        var shape = values.shape.ToArray();
        shape[0] = rows;
        if (values.dim() == 1)
            return zeros(shape, dtype: values.dtype, device: values.device).scatter_add(0, index, values);

        using var scope = NewDisposeScope();
        // From the trailing dimensions, not numel / rows: with no edges numel is 0 and the width would come out 0.
        long width = 1;
        for (var d = 1; d < values.dim(); d++) width *= values.shape[d];
        var flat = values.reshape(values.shape[0], width);
        var expanded = index.unsqueeze(1).expand(index.shape[0], width);
        var summed = zeros(rows, width, dtype: values.dtype, device: values.device).scatter_add(0, expanded, flat);
        return summed.view(shape).MoveToOuterDisposeScope();
    }

    /// <summary>Number of entries of <paramref name="index"/> equal to each of 0..rows-1, as <paramref name="dtype"/>.</summary>
    public static Tensor Count(Tensor index, long rows, ScalarType dtype)
    {
        if (index.shape[0] == 0)
            return zeros(rows, dtype: dtype, device: index.device);
        using var counts = bincount(index, minlength: rows);
        return counts.to_type(dtype);
    }
}
