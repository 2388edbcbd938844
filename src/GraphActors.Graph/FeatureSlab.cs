namespace GraphActors.Graph;

/// <summary>
/// Row-major float32 matrix, one row per node (or edge): exactly rows × dim × 4 bytes, no per-row objects.
/// The memory may be an array or a memory-mapped file.
/// </summary>
public sealed class FeatureSlab
{
    public static readonly FeatureSlab Empty = new(0, 0, ReadOnlyMemory<float>.Empty);

    public FeatureSlab(int rows, int dim, ReadOnlyMemory<float> data)
    {
        if (rows < 0 || dim < 0) throw new ArgumentOutOfRangeException(nameof(rows), "Rows and dim must be non-negative.");
        if ((long)rows * dim != data.Length)
            throw new ArgumentException($"A {rows}×{dim} slab needs {(long)rows * dim} floats, got {data.Length}.", nameof(data));
        Rows = rows;
        Dim = dim;
        Data = data;
    }

    public int Rows { get; }
    public int Dim { get; }
    public ReadOnlyMemory<float> Data { get; }
    public long ByteSize => (long)Rows * Dim * sizeof(float);

    public ReadOnlySpan<float> Row(int row) => Data.Span.Slice(row * Dim, Dim);

    /// <summary>Copies the rows named by <paramref name="ids"/> into <paramref name="destination"/> (ids.Length × Dim).</summary>
    public void Gather(ReadOnlySpan<int> ids, Span<float> destination)
    {
        if (destination.Length < ids.Length * Dim)
            throw new ArgumentException($"Destination holds {destination.Length} floats; {ids.Length} rows of {Dim} need {ids.Length * Dim}.");
        var src = Data.Span;
        var dim = Dim;
        for (var i = 0; i < ids.Length; i++)
            src.Slice(ids[i] * dim, dim).CopyTo(destination.Slice(i * dim, dim));
    }
}
