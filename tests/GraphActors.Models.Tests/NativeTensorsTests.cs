using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

public sealed class NativeTensorsTests
{
    [Fact]
    public void Float_rows_are_copied_so_the_source_buffer_can_be_reused_at_once()
    {
        using var scope = NewDisposeScope();
        var buffer = new float[] { 1, 2, 3, 4, 5, 6, 99, 99 }; // a pooled buffer is longer than its rows
        var t = NativeTensors.Float32(buffer, rows: 3, cols: 2);
        Array.Fill(buffer, -1f);
        Assert.Equal(new long[] { 3, 2 }, t.shape);
        Assert.Equal(ScalarType.Float32, t.dtype);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, t.data<float>().ToArray());
    }

    [Fact]
    public void Int32_indices_are_widened_to_int64_with_their_sign()
    {
        using var scope = NewDisposeScope();
        var t = NativeTensors.Int64(new[] { 0, 7, -3, int.MaxValue, int.MinValue });
        Assert.Equal(ScalarType.Int64, t.dtype);
        Assert.Equal(new long[] { 0, 7, -3, int.MaxValue, int.MinValue }, t.data<long>().ToArray());
    }

    [Fact]
    public void Empty_sources_give_empty_tensors_of_the_right_kind()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(0, NativeTensors.Int64(ReadOnlySpan<int>.Empty).numel());
        Assert.Equal(0, NativeTensors.Int64(ReadOnlySpan<long>.Empty).numel());
        var rows = NativeTensors.Float32(ReadOnlySpan<float>.Empty, 0, 16);
        Assert.Equal(new long[] { 0, 16 }, rows.shape);
    }

    [Fact]
    public void Too_few_values_for_the_shape_are_refused_naming_both()
    {
        var e = Assert.Throws<ArgumentException>(() => NativeTensors.Float32(new float[5], 3, 2));
        Assert.Contains("5 values for 3 rows of 2", e.Message);
    }

    [Fact]
    public void Long_and_float_vectors_round_trip()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(new long[] { long.MinValue, 0, long.MaxValue }, NativeTensors.Int64(new[] { long.MinValue, 0, long.MaxValue }).data<long>().ToArray());
        Assert.Equal(new[] { 0.5f, -2f }, NativeTensors.Float32(new[] { 0.5f, -2f }).data<float>().ToArray());
    }
}
