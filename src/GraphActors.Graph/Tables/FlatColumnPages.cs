// Decodes flat (non-repeated) columns page by page into arrays the caller reuses: numbers with a null mark per row,
// and strings as codes into a table of the distinct values, so that an edge table's src_type/dst_type columns (one or
// two names over millions of rows) cost no string per row.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace GraphActors.Graph.Tables;

/// <summary>
/// Reads the flat columns of one open Parquet file: INT32, INT64, FLOAT and DOUBLE columns (PLAIN or dictionary
/// values) and BYTE_ARRAY columns (as <see cref="Categories"/> codes), required or optional, in data pages v1 with the
/// codecs <see cref="ParquetPages"/> has. Anything else (a logical type that converts, a column nested in a struct,
/// another encoding) is read by Parquet.Net.
/// </summary>
internal sealed class FlatColumnPages(string path, PageBuffers? buffers = null) : ParquetPages(path, buffers)
{
    /// <summary>Reads a numeric column of <paramref name="rows"/> rows: <paramref name="isNull"/>[i] marks a null (its value is 0).</summary>
    public void Read<T>(ParquetRowGroupReader rg, DataField field, int rows, T[] values, bool[] isNull) where T : unmanaged
    {
        var chunk = rg.GetMetadata(field);
        var meta = chunk?.MetaData;
        if (chunk is not null && meta is not null && Flat(chunk, meta, field) && meta.Type == Physical<T>() && field.ClrType == typeof(T)
            && Numbers(meta, field, rows, values, isNull))
        {
            ChunksDecoded++;
            return;
        }
        var read = ParquetColumns.ReadNullableAsync<T>(rg, field, rows).GetAwaiter().GetResult();
        for (var i = 0; i < rows; i++)
        {
            isNull[i] = read[i] is null;
            values[i] = read[i] ?? default;
        }
    }

    /// <summary>Reads a string column of <paramref name="rows"/> rows as codes into <paramref name="names"/> (−1 for null).</summary>
    public void ReadCategories(ParquetRowGroupReader rg, DataField field, int rows, int[] codes, Categories names)
    {
        var chunk = rg.GetMetadata(field);
        var meta = chunk?.MetaData;
        if (chunk is not null && meta is not null && Flat(chunk, meta, field) && meta.Type == Parquet.Meta.Type.BYTE_ARRAY
            && Strings(meta, field, rows, codes, names))
        {
            ChunksDecoded++;
            return;
        }
        var read = ParquetColumns.ReadStringsAsync(rg, field, rows).GetAwaiter().GetResult();
        for (var i = 0; i < rows; i++) codes[i] = read[i] is { } s ? names.Code(s) : -1;
    }

    private static bool Flat(ColumnChunk chunk, ColumnMetaData meta, DataField field) =>
        Walkable(chunk, meta) && field.MaxRepetitionLevel == 0 && field.MaxDefinitionLevel <= 1;

    private static Parquet.Meta.Type Physical<T>() =>
        typeof(T) == typeof(long) ? Parquet.Meta.Type.INT64
        : typeof(T) == typeof(int) ? Parquet.Meta.Type.INT32
        : typeof(T) == typeof(float) ? Parquet.Meta.Type.FLOAT
        : typeof(T) == typeof(double) ? Parquet.Meta.Type.DOUBLE
        : (Parquet.Meta.Type)(-1);

    private bool Numbers<T>(ColumnMetaData meta, DataField field, int rows, T[] values, bool[] isNull) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        var row = 0;
        var walked = Walk(meta, field, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (PageType type, Encoding encoding, int n, ReadOnlySpan<byte> body) =>
        {
            if (type == PageType.DICTIONARY_PAGE)
            {
                if (encoding is not (Encoding.PLAIN or Encoding.PLAIN_DICTIONARY) || (long)n * size > body.Length) return false;
                if (_buffers.DictionaryBytes.Length < n * size) _buffers.DictionaryBytes = new byte[n * size];
                body[..(n * size)].CopyTo(_buffers.DictionaryBytes);
                return true;
            }
            var at = 0;
            var present = Nulls(body, ref at, field, n, isNull.AsSpan(row, n));
            var data = body[at..];
            var target = values.AsSpan(row, n);
            switch (encoding)
            {
                case Encoding.PLAIN:
                    Plain(data, target[..present], field);
                    break;
                case Encoding.BYTE_STREAM_SPLIT:
                    ByteStreamSplit(data, target[..present], field);
                    break;
                case Encoding.PLAIN_DICTIONARY or Encoding.RLE_DICTIONARY:
                {
                    var dict = MemoryMarshal.Cast<byte, T>(_buffers.DictionaryBytes.AsSpan());
                    var indices = Indices(data, present, field);
                    for (var k = 0; k < present; k++) target[k] = dict[indices[k]];
                    break;
                }
                default:
                    return false;
            }
            Spread(target, isNull.AsSpan(row, n), present);
            Seen.Add(encoding.ToString());
            row += n;
            return true;
        });
        return walked && Rows(row, rows, field);
    }

    private bool Strings(ColumnMetaData meta, DataField field, int rows, int[] codes, Categories names)
    {
        var row = 0;
        var walked = Walk(meta, field, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (PageType type, Encoding encoding, int n, ReadOnlySpan<byte> body) =>
        {
            if (type == PageType.DICTIONARY_PAGE)
            {
                if (encoding is not (Encoding.PLAIN or Encoding.PLAIN_DICTIONARY)) return false;
                if (_buffers.DictionaryCodes.Length < n) _buffers.DictionaryCodes = new int[n];
                var p = 0;
                for (var k = 0; k < n; k++) _buffers.DictionaryCodes[k] = names.Code(NextBytes(body, ref p, field));
                return true;
            }
            var nulls = _buffers.Nulls.Length >= n ? _buffers.Nulls : _buffers.Nulls = new bool[n];
            var at = 0;
            var present = Nulls(body, ref at, field, n, nulls.AsSpan(0, n));
            var data = body[at..];
            var target = codes.AsSpan(row, n);
            switch (encoding)
            {
                case Encoding.PLAIN:
                {
                    var p = 0;
                    var (lastAt, lastLength, lastCode) = (0, 0, -1);
                    for (var k = 0; k < present; k++)
                    {
                        var from = p + 4;
                        var bytes = NextBytes(data, ref p, field);
                        // A type column repeats one value: compare with the previous before looking it up.
                        if (lastCode < 0 || !bytes.SequenceEqual(data.Slice(lastAt, lastLength)))
                            (lastAt, lastLength, lastCode) = (from, bytes.Length, names.Code(bytes));
                        target[k] = lastCode;
                    }
                    break;
                }
                case Encoding.PLAIN_DICTIONARY or Encoding.RLE_DICTIONARY:
                {
                    var indices = Indices(data, present, field);
                    var dict = _buffers.DictionaryCodes;
                    for (var k = 0; k < present; k++) target[k] = dict[indices[k]];
                    break;
                }
                default:
                    return false;
            }
            // Spread the present codes over the rows, −1 for nulls (from the back, so nothing is overwritten before it is moved).
            var j = present - 1;
            for (var i = n - 1; i >= 0; i--) target[i] = nulls[i] ? -1 : target[j--];
            Seen.Add(encoding.ToString());
            row += n;
            return true;
        });
        return walked && Rows(row, rows, field);
    }

    private static bool Rows(int read, int rows, DataField field) =>
        read == rows ? true : throw new InvalidDataException($"Column '{field.Path}' holds {read} values for {rows} rows.");

    /// <summary>A data page's definition levels as null marks; returns how many values are present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Nulls(ReadOnlySpan<byte> body, ref int at, DataField field, int n, Span<bool> isNull)
    {
        if (field.MaxDefinitionLevel == 0)
        {
            isNull.Clear();
            return n;
        }
        var defBytes = LengthPrefixed(body, ref at, field);
        if (_buffers.Def.Length < n) _buffers.Def = new byte[n];
        var def = _buffers.Def.AsSpan(0, n);
        Hybrid(defBytes, 1, def, field, "definition");
        var present = 0;
        for (var i = 0; i < n; i++)
        {
            var d = def[i];
            if (d > 1) throw new InvalidDataException($"Column '{field.Path}': definition level {d} above the column's 1.");
            isNull[i] = d == 0;
            present += d;
        }
        return present;
    }

    /// <summary>Moves the <paramref name="present"/> values at the front of <paramref name="values"/> to their rows (from the back).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Spread<T>(Span<T> values, ReadOnlySpan<bool> isNull, int present) where T : unmanaged
    {
        if (present == values.Length) return;
        var j = present - 1;
        for (var i = values.Length - 1; i >= 0; i--) values[i] = isNull[i] ? default : values[j--];
    }

    private static ReadOnlySpan<byte> NextBytes(ReadOnlySpan<byte> data, ref int p, DataField field)
    {
        if (data.Length - p < 4) throw new InvalidDataException($"Column '{field.Path}': a page ends inside a value's length.");
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(data[p..]);
        if (length < 0 || length > data.Length - p - 4) throw new InvalidDataException($"Column '{field.Path}': a value of {length} bytes runs past its page.");
        var bytes = data.Slice(p + 4, length);
        p += 4 + length;
        return bytes;
    }
}

/// <summary>
/// The distinct strings of a column, numbered as they first appear: a string column read as codes into this table
/// costs one string per distinct value instead of one per row.
/// </summary>
public sealed class Categories
{
    private readonly List<string> _names = [];
    private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);

    public string this[int code] => _names[code];

    public int Count => _names.Count;

    public int Code(string name)
    {
        if (_codes.TryGetValue(name, out var code)) return code;
        _codes.Add(name, code = _names.Count);
        _names.Add(name);
        return code;
    }

    /// <summary>The code of a UTF-8 value (invalid sequences read as U+FFFD, as a string read does).</summary>
    public int Code(ReadOnlySpan<byte> utf8)
    {
        var lookup = _codes.GetAlternateLookup<ReadOnlySpan<char>>();
        if (utf8.Length <= 256)
        {
            Span<char> chars = stackalloc char[256];
            var n = System.Text.Encoding.UTF8.GetChars(utf8, chars);
            if (lookup.TryGetValue(chars[..n], out var code)) return code;
            return Code(new string(chars[..n]));
        }
        return Code(System.Text.Encoding.UTF8.GetString(utf8));
    }
}
