namespace GraphActors.Graph;

/// <summary>
/// Row-major float32 matrix, one row per node (or edge): exactly rows × dim × 4 bytes, no per-row objects.
/// The memory may be an array or a memory-mapped file. A slab larger than one span can address (2^31 floats, 8 GiB: a
/// partition of 4.3M nodes at 500-d) is held in segments of whole rows, each a span of its own; <see cref="Row"/> and
/// <see cref="Gather"/> read either kind the same way.
/// </summary>
public sealed class FeatureSlab
{
    public static readonly FeatureSlab Empty = new(0, 0, ReadOnlyMemory<float>.Empty);

    private readonly ReadOnlyMemory<float>[] _segments;
    private readonly int _rowsPerSegment;

    public FeatureSlab(int rows, int dim, ReadOnlyMemory<float> data)
    {
        if (rows < 0 || dim < 0) throw new ArgumentOutOfRangeException(nameof(rows), "Rows and dim must be non-negative.");
        if ((long)rows * dim != data.Length)
            throw new ArgumentException($"A {rows}×{dim} slab needs {(long)rows * dim} floats, got {data.Length}.", nameof(data));
        Rows = rows;
        Dim = dim;
        _segments = [data];
        _rowsPerSegment = Math.Max(rows, 1);
    }

    /// <summary>
    /// A slab in <paramref name="segments"/>: each holds <paramref name="rowsPerSegment"/> rows (× <paramref name="dim"/>
    /// floats), the last one the rest.
    /// </summary>
    public FeatureSlab(int rows, int dim, IReadOnlyList<ReadOnlyMemory<float>> segments, int rowsPerSegment)
    {
        if (rows < 0 || dim < 0) throw new ArgumentOutOfRangeException(nameof(rows), "Rows and dim must be non-negative.");
        if (rowsPerSegment < 1) throw new ArgumentOutOfRangeException(nameof(rowsPerSegment), "A segment holds at least one row.");
        var expected = rows == 0 ? 1 : (rows + (long)rowsPerSegment - 1) / rowsPerSegment;
        if (segments.Count != expected)
            throw new ArgumentException($"{rows} rows in segments of {rowsPerSegment} make {expected} segment(s), got {segments.Count}.", nameof(segments));
        for (var s = 0; s < segments.Count; s++)
        {
            var segmentRows = Math.Min(rowsPerSegment, rows - (long)s * rowsPerSegment);
            if (segments[s].Length != segmentRows * dim)
                throw new ArgumentException($"Segment {s} of a {rows}×{dim} slab needs {segmentRows * dim} floats, got {segments[s].Length}.", nameof(segments));
        }
        Rows = rows;
        Dim = dim;
        _segments = [.. segments];
        _rowsPerSegment = rowsPerSegment;
    }

    public int Rows { get; }
    public int Dim { get; }
    public long ByteSize => (long)Rows * Dim * sizeof(float);

    /// <summary>The memory of every row, in order: one segment, or several of whole rows when the slab is larger than a span.</summary>
    public IReadOnlyList<ReadOnlyMemory<float>> Segments => _segments;

    /// <summary>Every row in one span; only a slab in one segment has it (the in-memory graphs' always are).</summary>
    public ReadOnlyMemory<float> Data => _segments.Length == 1 ? _segments[0]
        : throw new InvalidOperationException($"This {Rows}×{Dim} slab is held in {_segments.Length} segments (it exceeds one span): read it by Row, Gather or Segments.");

    public ReadOnlySpan<float> Row(int row)
    {
        if (_segments.Length == 1) return _segments[0].Span.Slice(row * Dim, Dim);
        var segment = row / _rowsPerSegment;
        return _segments[segment].Span.Slice((row - segment * _rowsPerSegment) * Dim, Dim);
    }

    /// <summary>Copies the rows named by <paramref name="ids"/> into <paramref name="destination"/> (ids.Length × Dim).</summary>
    public void Gather(ReadOnlySpan<int> ids, Span<float> destination)
    {
        if (destination.Length < (long)ids.Length * Dim)
            throw new ArgumentException($"Destination holds {destination.Length} floats; {ids.Length} rows of {Dim} need {(long)ids.Length * Dim}.");
        var dim = Dim;
        if (_segments.Length == 1)
        {
            var src = _segments[0].Span;
            for (var i = 0; i < ids.Length; i++)
                src.Slice(ids[i] * dim, dim).CopyTo(destination.Slice(i * dim, dim));
            return;
        }
        for (var i = 0; i < ids.Length; i++) Row(ids[i]).CopyTo(destination.Slice(i * dim, dim));
    }
}
