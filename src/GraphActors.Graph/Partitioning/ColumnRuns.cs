// Per-element columns on their way into partitions: appended in input order as elements stream by, then laid out in each partition's row order.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Partitioning;

/// <summary>
/// Which columns one record carries. The fixed part holds, in this order, the edge id (int64), the int attributes
/// (int64 × <see cref="IntCount"/>), the float attributes (float32 × <see cref="FloatCount"/>), the weight (float32) and
/// the label (int32); the string part holds <see cref="StringCount"/> strings, each an int32 byte length and its UTF-8 bytes.
/// </summary>
internal sealed record ColumnLayout(bool Ids, bool Weights, bool Labels, int IntCount, int FloatCount, int StringCount)
{
    public static ColumnLayout Of(NodeColumns c) => new(false, c.Weighted, false, c.IntCount, 0, c.StringCount);
    public static ColumnLayout Of(EdgeColumns c) => new(c.EdgeIds, false, c.Labeled, c.IntCount, c.FloatCount, c.StringCount);

    public int FixedBytes => (Ids ? 8 : 0) + 8 * IntCount + 4 * FloatCount + (Weights ? 4 : 0) + (Labels ? 4 : 0);
    public bool Any => FixedBytes > 0 || StringCount > 0;
}

/// <summary>
/// The columns of one element type on their way to <c>slots</c> partitions (of one direction, for edges): each record
/// is appended to its slot's two run files (fixed-width values, strings) in input order, beside the structure run that
/// says where its element lands. <see cref="Scatter"/> then writes one slot's columns as store files in the partition's
/// own order, given each record's position: the output files are mapped for writing and filled in place, so neither the
/// columns nor the strings are ever resident as arrays or .NET strings; the runs are read sequentially (strings twice:
/// lengths, then bytes). Buffers are bounded by the budget given.
/// </summary>
internal sealed class ColumnRuns : IDisposable
{
    private const int BlockRecords = 1 << 14;
    private readonly ColumnLayout _layout;
    private readonly string[] _paths;
    private readonly FileStream?[] _streams;
    private readonly byte[][] _buffers;
    private readonly int[] _filled;
    private readonly long[] _records;

    public ColumnRuns(ColumnLayout layout, string runDir, string name, int slots, long bufferBudget)
    {
        _layout = layout;
        _paths = new string[2 * slots];
        _streams = new FileStream?[2 * slots];
        _buffers = new byte[2 * slots][];
        _filled = new int[2 * slots];
        _records = new long[slots];
        var bytes = (int)Math.Clamp(bufferBudget / Math.Max(1, 2L * slots), 4096, 1 << 20);
        bytes = Math.Max(bytes, layout.FixedBytes);
        for (var i = 0; i < _paths.Length; i++)
        {
            _paths[i] = Path.Combine(runDir, $"{name}-{i / 2}.{(i % 2 == 0 ? "cols" : "strs")}");
            _streams[i] = new FileStream(_paths[i], FileMode.Create, FileAccess.Write, FileShare.None, 0);
            _buffers[i] = new byte[bytes];
        }
    }

    public ColumnLayout Layout => _layout;

    /// <summary>Records appended to <paramref name="slot"/> so far.</summary>
    public long Records(int slot) => _records[slot];

    /// <summary>
    /// Appends one element's columns to <paramref name="slot"/>: <paramref name="ints"/>, <paramref name="floats"/> are
    /// its rows of the chunk's columns; its strings are <paramref name="strings"/>' values from <paramref name="firstString"/> on.
    /// </summary>
    public void Append(int slot, long id, ReadOnlySpan<long> ints, ReadOnlySpan<float> floats, float weight, int label, in Utf8Column strings, int firstString)
    {
        _records[slot]++;
        var l = _layout;
        var f = 2 * slot;
        if (l.FixedBytes > 0)
        {
            if (_filled[f] + l.FixedBytes > _buffers[f].Length) Flush(f);
            var dst = _buffers[f].AsSpan(_filled[f], l.FixedBytes);
            var at = 0;
            if (l.Ids) { BinaryPrimitives.WriteInt64LittleEndian(dst, id); at = 8; }
            MemoryMarshal.AsBytes(ints).CopyTo(dst[at..]);
            at += 8 * l.IntCount;
            MemoryMarshal.AsBytes(floats).CopyTo(dst[at..]);
            at += 4 * l.FloatCount;
            if (l.Weights) { BinaryPrimitives.WriteSingleLittleEndian(dst[at..], weight); at += 4; }
            if (l.Labels) BinaryPrimitives.WriteInt32LittleEndian(dst[at..], label);
            _filled[f] += l.FixedBytes;
        }
        var s = f + 1;
        for (var c = 0; c < l.StringCount; c++)
        {
            var value = strings.Value(firstString + c);
            if (_filled[s] + 4 > _buffers[s].Length) Flush(s);
            BinaryPrimitives.WriteInt32LittleEndian(_buffers[s].AsSpan(_filled[s]), value.Length);
            _filled[s] += 4;
            if (_filled[s] + value.Length > _buffers[s].Length)
            {
                Flush(s);
                if (value.Length > _buffers[s].Length)
                {
                    _streams[s]!.Write(value);
                    continue;
                }
            }
            value.CopyTo(_buffers[s].AsSpan(_filled[s]));
            _filled[s] += value.Length;
        }
    }

    private void Flush(int i)
    {
        if (_filled[i] == 0) return;
        _streams[i]!.Write(_buffers[i].AsSpan(0, _filled[i]));
        _filled[i] = 0;
    }

    /// <summary>Flushes and closes every run; call once all records are appended.</summary>
    public void Close()
    {
        for (var i = 0; i < _streams.Length; i++)
        {
            if (_streams[i] is null) continue;
            Flush(i);
            _streams[i]!.Dispose();
            _streams[i] = null;
        }
    }

    /// <summary>
    /// Writes slot <paramref name="slot"/>'s columns into <paramref name="dir"/> (file names <paramref name="prefix"/> +
    /// the column's name), record i at position <paramref name="positionOf"/>[i], and lists each file with its sha256 in
    /// <paramref name="files"/> under its path relative to <paramref name="partDir"/>. Every position 0 ..
    /// positionOf.Length − 1 receives exactly one record. Deletes the slot's runs. <paramref name="where"/> names the
    /// element type in errors.
    /// </summary>
    public void Scatter(int slot, ReadOnlySpan<int> positionOf, string dir, string prefix, string partDir, IDictionary<string, ManifestFile> files, string where)
    {
        var l = _layout;
        var n = positionOf.Length;
        if (_records[slot] != n) throw new InvalidOperationException($"{where}: {_records[slot]} column records for {n} positions.");
        string Name(string column) => Path.Combine(dir, prefix + column);
        var written = new List<string>();
        if (l.FixedBytes > 0)
        {
            CheckSpan(where, (long)n * Math.Max(l.IntCount, l.FloatCount), "values of one attribute kind");
            using var ids = l.Ids ? WritableStoreFile<long>.Create(Track(Name(StoreLayout.EdgeIds)), n) : null;
            using var ints = l.IntCount > 0 ? WritableStoreFile<long>.Create(Track(Name(StoreLayout.Ints)), (long)n * l.IntCount, l.IntCount) : null;
            using var floats = l.FloatCount > 0 ? WritableStoreFile<float>.Create(Track(Name(StoreLayout.Floats)), (long)n * l.FloatCount, l.FloatCount) : null;
            using var weights = l.Weights ? WritableStoreFile<float>.Create(Track(Name(StoreLayout.NodeWeights)), n) : null;
            using var labels = l.Labels ? WritableStoreFile<int>.Create(Track(Name(StoreLayout.EdgeLabels)), n) : null;
            var block = new byte[BlockRecords * l.FixedBytes];
            using var fs = new FileStream(_paths[2 * slot], FileMode.Open, FileAccess.Read, FileShare.None, 0);
            var record = 0;
            int got;
            while ((got = ReadBlock(fs, block, l.FixedBytes)) > 0)
            {
                for (var i = 0; i < got; i++, record++)
                {
                    var src = block.AsSpan(i * l.FixedBytes, l.FixedBytes);
                    var pos = positionOf[record];
                    var at = 0;
                    if (ids is not null) { ids.Span[pos] = BinaryPrimitives.ReadInt64LittleEndian(src); at = 8; }
                    if (ints is not null)
                    {
                        MemoryMarshal.Cast<byte, long>(src.Slice(at, 8 * l.IntCount)).CopyTo(ints.Span.Slice(pos * l.IntCount, l.IntCount));
                        at += 8 * l.IntCount;
                    }
                    if (floats is not null)
                    {
                        MemoryMarshal.Cast<byte, float>(src.Slice(at, 4 * l.FloatCount)).CopyTo(floats.Span.Slice(pos * l.FloatCount, l.FloatCount));
                        at += 4 * l.FloatCount;
                    }
                    if (weights is not null) { weights.Span[pos] = BinaryPrimitives.ReadSingleLittleEndian(src[at..]); at += 4; }
                    if (labels is not null) labels.Span[pos] = BinaryPrimitives.ReadInt32LittleEndian(src[at..]);
                }
            }
        }
        File.Delete(_paths[2 * slot]);

        if (l.StringCount > 0)
        {
            var k = l.StringCount;
            CheckSpan(where, (long)n * k + 1, "string values");
            using (var offsets = WritableStoreFile<long>.Create(Track(Name(StoreLayout.StringOffsets)), (long)n * k + 1))
            {
                // Lengths first, each at its value's slot + 1; then the running sum makes them offsets.
                var o = offsets.Span;
                using (var lengths = new RunReader(_paths[2 * slot + 1]))
                    for (var record = 0; record < n; record++)
                    {
                        var first = positionOf[record] * k + 1;
                        for (var c = 0; c < k; c++)
                        {
                            var len = lengths.Int();
                            lengths.Skip(len);
                            o[first + c] = len;
                        }
                    }
                for (var i = 1; i < o.Length; i++) o[i] += o[i - 1];
                var total = o[^1];
                if (total > Array.MaxLength)
                    throw new BadInputException(
                        $"{where}: one partition's string attributes take {total:N0} bytes; a partition holds at most {Array.MaxLength:N0} per element type and direction. Use more --parts.");
                using var blob = WritableStoreFile<byte>.Create(Track(Name(StoreLayout.Strings)), total);
                using var bytes = new RunReader(_paths[2 * slot + 1]);
                for (var record = 0; record < n; record++)
                {
                    var first = positionOf[record] * k;
                    for (var c = 0; c < k; c++)
                    {
                        var len = bytes.Int();
                        bytes.Read(blob.Span.Slice((int)o[first + c], len));
                    }
                }
            }
        }
        File.Delete(_paths[2 * slot + 1]);
        foreach (var path in written) files[StoreLayout.FileKey(partDir, path)] = ManifestFile.Of(path);

        string Track(string path)
        {
            written.Add(path);
            return path;
        }
    }

    private static void CheckSpan(string where, long count, string what)
    {
        if (count > Array.MaxLength)
            throw new BadInputException($"{where}: one partition would hold {count:N0} {what}; a store file holds at most {Array.MaxLength:N0}. Use more --parts.");
    }

    private static int ReadBlock(FileStream fs, byte[] block, int recordBytes)
    {
        var total = 0;
        while (total < block.Length)
        {
            var got = fs.Read(block, total, block.Length - total);
            if (got == 0) break;
            total += got;
        }
        if (total % recordBytes != 0) throw new IOException($"{fs.Name}: column run ends inside a record.");
        return total / recordBytes;
    }

    public void Dispose()
    {
        foreach (var s in _streams) s?.Dispose();
    }

    /// <summary>Reads a string run front to back through one buffer.</summary>
    private sealed class RunReader(string path) : IDisposable
    {
        private readonly FileStream _fs = new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0);
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _at;
        private int _end;

        public int Int()
        {
            Span<byte> four = stackalloc byte[4];
            Read(four);
            return BinaryPrimitives.ReadInt32LittleEndian(four);
        }

        public void Skip(int n)
        {
            var inBuffer = Math.Min(n, _end - _at);
            _at += inBuffer;
            if (n > inBuffer) _fs.Seek(n - inBuffer, SeekOrigin.Current);
        }

        public void Read(Span<byte> destination)
        {
            while (!destination.IsEmpty)
            {
                if (_at == _end)
                {
                    if (destination.Length >= _buffer.Length)
                    {
                        _fs.ReadExactly(destination);
                        return;
                    }
                    _end = _fs.Read(_buffer, 0, _buffer.Length);
                    _at = 0;
                    if (_end == 0) throw new IOException($"{_fs.Name}: string run ends inside a value.");
                }
                var n = Math.Min(destination.Length, _end - _at);
                _buffer.AsSpan(_at, n).CopyTo(destination);
                _at += n;
                destination = destination[n..];
            }
        }

        public void Dispose() => _fs.Dispose();
    }
}
