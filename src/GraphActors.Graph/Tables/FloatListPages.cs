// Decodes LIST<FLOAT> column chunks straight from their pages: levels and values of each page go into the row offsets
// and the value array in one pass, instead of a generic read's two int arrays per value (repetition and definition
// levels, 8 bytes beside every 4-byte float) and its copies of every page. At 500-d and 65,536-row groups that is
// ~260 MB of fresh level arrays per row group that the kernel has to fault in and the GC to collect.
using System.Numerics;
using System.Runtime.CompilerServices;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace GraphActors.Graph.Tables;

/// <summary>
/// Reads the LIST&lt;FLOAT&gt; columns of one open Parquet file page by page. Handles what Parquet.Net, Spark (parquet-mr)
/// and DuckDB write in such columns by default: data pages v1 with PLAIN, dictionary (PLAIN_DICTIONARY / RLE_DICTIONARY)
/// or BYTE_STREAM_SPLIT values, RLE/bit-packed levels, and the UNCOMPRESSED, SNAPPY, GZIP, ZSTD and LZ4_RAW codecs. A
/// chunk using anything else (data pages v2, an encrypted or external chunk, the legacy BIT_PACKED levels, another
/// codec) is read by Parquet.Net as before.
/// Buffers grow to the largest page seen and are kept for the next row group.
/// </summary>
internal sealed class FloatListPages(string path, PageBuffers? buffers = null) : ParquetPages(path, buffers)
{
    /// <summary>
    /// Reads the LIST&lt;FLOAT&gt; column <paramref name="item"/> (the list's leaf) of one row group of <paramref name="rows"/>
    /// rows. With <paramref name="reuseValues"/> the returned values live in the shared buffers (longer than the values:
    /// use the offsets) and are overwritten by the next read; otherwise they are a fresh array of exact length.
    /// </summary>
    public FloatLists Read(ParquetRowGroupReader rg, DataField item, int rows, bool reuseValues)
    {
        var chunk = rg.GetMetadata(item);
        var meta = chunk?.MetaData;
        if (chunk is null || meta is null || !Decodable(chunk, meta, item))
            return ParquetColumns.ReadFloatListsAsync(rg, item, rows).GetAwaiter().GetResult();
        var lists = ReadChunk(Start(meta), meta.TotalCompressedSize, (int)meta.NumValues, meta.Codec, item, rows, reuseValues);
        if (lists is null) return ParquetColumns.ReadFloatListsAsync(rg, item, rows).GetAwaiter().GetResult();
        ChunksDecoded++;
        return lists.Value;
    }

    private static bool Decodable(ColumnChunk chunk, ColumnMetaData meta, DataField item) =>
        Walkable(chunk, meta) && meta.Type == Parquet.Meta.Type.FLOAT && item.MaxRepetitionLevel == 1 && item.MaxDefinitionLevel is >= 1 and <= 255;

    /// <summary>
    /// The column chunk of <paramref name="total"/> values stored at [<paramref name="start"/>, + <paramref name="length"/>)
    /// of the file; null when a page uses something this reader does not decode (the caller falls back).
    /// </summary>
    internal FloatLists? ReadChunk(long start, long length, int total, CompressionCodec codec, DataField item, int rows, bool reuseValues)
    {
        var maxDef = item.MaxDefinitionLevel;
        var defWidth = 32 - BitOperations.LeadingZeroCount((uint)maxDef);
        float[] values;
        if (reuseValues)
        {
            if (_buffers.Values.Length < total) _buffers.Values = GC.AllocateUninitializedArray<float>(total);
            values = _buffers.Values;
        }
        else values = GC.AllocateUninitializedArray<float>(total);
        var offsets = new int[rows + 1];
        var isNull = new bool[rows];
        var row = -1;
        var v = 0;
        var walked = Walk(start, length, total, codec, item, (PageType type, Encoding encoding, int n, ReadOnlySpan<byte> body) =>
        {
            if (type == PageType.DICTIONARY_PAGE)
            {
                if (encoding is not (Encoding.PLAIN or Encoding.PLAIN_DICTIONARY)) return false;
                if (_buffers.Dictionary.Length < n) _buffers.Dictionary = new float[n];
                Plain(body, _buffers.Dictionary.AsSpan(0, n), item);
                return true;
            }
            var at = 0;
            var repBytes = LengthPrefixed(body, ref at, item);
            var defBytes = LengthPrefixed(body, ref at, item);
            return Page(body[at..], encoding, repBytes, defBytes, n, maxDef, defWidth, rows, offsets, isNull, values, ref row, ref v, item);
        });
        if (!walked) return null;
        if (row != rows - 1) throw new InvalidDataException($"Column '{item.Path}' holds {row + 1} lists for {rows} rows.");
        offsets[rows] = v;
        if (!reuseValues && v < values.Length) Array.Resize(ref values, v);
        return new FloatLists(values, offsets, isNull);
    }

    /// <summary>One data page: levels into row offsets and null marks, the present values appended at <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // a loop over every value of a table: no tier-0 start
    private bool Page(ReadOnlySpan<byte> data, Encoding encoding, ReadOnlySpan<byte> repBytes, ReadOnlySpan<byte> defBytes, int n,
        int maxDef, int defWidth, int rows, int[] offsets, bool[] isNull, float[] values, ref int row, ref int v, DataField item)
    {
        if (encoding is not (Encoding.PLAIN or Encoding.PLAIN_DICTIONARY or Encoding.RLE_DICTIONARY or Encoding.BYTE_STREAM_SPLIT)) return false;
        Seen.Add(encoding.ToString());
        if (_buffers.Rep.Length < n) { _buffers.Rep = new byte[n]; _buffers.Def = new byte[n]; }
        var rep = _buffers.Rep.AsSpan(0, n);
        var def = _buffers.Def.AsSpan(0, n);
        Hybrid(repBytes, 1, rep, item, "repetition");
        Hybrid(defBytes, defWidth, def, item, "definition");
        var first = v;
        var r = row;
        var md = (byte)maxDef;
        var nullable = maxDef >= 2;
        for (var i = 0; i < n; i++)
        {
            if (rep[i] == 0)
            {
                if (++r >= rows) throw new InvalidDataException($"Column '{item.Path}' holds more lists than the row group's {rows} rows.");
                offsets[r] = v;
                // def 0 on the first entry of a row: the list itself is null (maxDef - 1 is an empty list).
                if (nullable && def[i] == 0) isNull[r] = true;
            }
            else if (r < 0) throw new InvalidDataException($"Column '{item.Path}': the first value continues a list (repetition level {rep[i]}).");
            if (def[i] == md) v++;
            else if (def[i] > md) throw new InvalidDataException($"Column '{item.Path}': definition level {def[i]} above the column's {maxDef}.");
        }
        row = r;
        var present = v - first;
        var target = values.AsSpan(first, present);
        switch (encoding)
        {
            case Encoding.PLAIN:
                Plain(data, target, item);
                break;
            case Encoding.BYTE_STREAM_SPLIT:
                ByteStreamSplit(data, target, item);
                break;
            default:
                var indices = Indices(data, present, item);
                var dict = _buffers.Dictionary;
                for (var j = 0; j < present; j++) target[j] = dict[indices[j]];
                break;
        }
        return true;
    }


}
