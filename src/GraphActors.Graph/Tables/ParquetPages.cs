// Walks the column chunks of a Parquet file page by page: Thrift page headers, codecs, RLE/bit-packed levels and the
// buffers the column decoders share.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Parquet;
using Parquet.Meta;
using Parquet.Schema;

namespace GraphActors.Graph.Tables;

/// <summary>
/// One open Parquet file read column chunk by column chunk, page by page, into <see cref="PageBuffers"/>: the page
/// headers, the codecs and the RLE/bit-packed levels that the column decoders (<see cref="FloatListPages"/>,
/// <see cref="FlatColumnPages"/>) share.
/// </summary>
internal abstract class ParquetPages : IDisposable
{
    private readonly SafeFileHandle _file;
    protected readonly long _fileLength;
    protected readonly PageBuffers _buffers;

    /// <param name="path">The Parquet file.</param>
    /// <param name="buffers">Buffers to decode into, shared with the readers of earlier files (one at a time).</param>
    protected ParquetPages(string path, PageBuffers? buffers)
    {
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        _fileLength = RandomAccess.GetLength(_file);
        _buffers = buffers ?? new PageBuffers();
    }

    /// <summary>Chunks read page by page so far (the rest went through Parquet.Net).</summary>
    public int ChunksDecoded { get; protected set; }

    /// <summary>Data pages decoded so far.</summary>
    public int PagesDecoded { get; protected set; }

    /// <summary>What the decoded pages used: page kinds, value encodings and codecs (so tests can tell what they covered).</summary>
    public HashSet<string> Seen { get; } = [];

    /// <summary>Whether a chunk is one this reader can walk: in this file, not encrypted, a codec it has.</summary>
    protected static bool Walkable(ColumnChunk chunk, ColumnMetaData meta) =>
        chunk.FilePath is null && chunk.CryptoMetadata is null && chunk.EncryptedColumnMetadata is null
        && meta.Codec is CompressionCodec.UNCOMPRESSED or CompressionCodec.SNAPPY or CompressionCodec.GZIP
            or CompressionCodec.ZSTD or CompressionCodec.LZ4_RAW
        && meta.NumValues is >= 0 and <= int.MaxValue;

    /// <summary>Values in the chunk's dictionary page (−1 before one is read).</summary>
    protected int DictionarySize { get; private set; } = -1;

    /// <summary>A dictionary page (its values' count) or a data page v1 (its entries' count), decompressed; false: not decodable here.</summary>
    protected delegate bool PageVisitor(PageType type, Encoding encoding, int values, ReadOnlySpan<byte> body);

    /// <summary>
    /// Hands every dictionary and data page of a chunk to <paramref name="visit"/>, in order; false when a page is of a
    /// kind this reader does not decode (data pages v2, levels in the legacy BIT_PACKED encoding) or the visitor refuses it.
    /// </summary>
    protected bool Walk(ColumnMetaData meta, DataField field, PageVisitor visit) =>
        Walk(Start(meta), meta.TotalCompressedSize, (int)meta.NumValues, meta.Codec, field, visit);

    /// <summary>As above for the chunk of <paramref name="total"/> values at [<paramref name="start"/>, + <paramref name="length"/>) of the file.</summary>
    protected bool Walk(long start, long length, int total, CompressionCodec codec, DataField field, PageVisitor visit)
    {
        var end = start + length;
        if (start < 0 || length < 0 || end > _fileLength)
            throw new InvalidDataException($"Column '{field.Path}': its chunk [{start}, {end}) lies outside the file's {_fileLength} bytes.");
        DictionarySize = -1;
        var pos = start;
        var seen = 0;
        while (seen < total)
        {
            if (pos >= end) throw new InvalidDataException($"Column '{field.Path}': the chunk ends after {seen} of its {total} values.");
            var header = ReadHeader(ref pos, end, field);
            var size = header.CompressedPageSize;
            if (size < 0 || pos + size > end) throw new InvalidDataException($"Column '{field.Path}': a page of {size} bytes runs past its chunk.");
            Seen.Add(header.Type.ToString());
            switch (header.Type)
            {
                case PageType.DICTIONARY_PAGE:
                {
                    var dict = header.DictionaryPageHeader ?? throw new InvalidDataException($"Column '{field.Path}': a dictionary page without its header.");
                    if (dict.NumValues < 0) throw new InvalidDataException($"Column '{field.Path}': a dictionary of {dict.NumValues} values.");
                    if (!visit(PageType.DICTIONARY_PAGE, dict.Encoding, dict.NumValues, Body(codec, pos, size, header.UncompressedPageSize, field))) return false;
                    DictionarySize = dict.NumValues;
                    break;
                }
                case PageType.DATA_PAGE:
                {
                    var h = header.DataPageHeader ?? throw new InvalidDataException($"Column '{field.Path}': a data page without its header.");
                    if ((field.MaxDefinitionLevel > 0 && h.DefinitionLevelEncoding != Encoding.RLE)
                        || (field.MaxRepetitionLevel > 0 && h.RepetitionLevelEncoding != Encoding.RLE)) return false;
                    var n = h.NumValues;
                    if (n < 0 || n > total - seen) throw new InvalidDataException($"Column '{field.Path}': a page of {n} values after {seen} of the chunk's {total}.");
                    if (!visit(PageType.DATA_PAGE, h.Encoding, n, Body(codec, pos, size, header.UncompressedPageSize, field))) return false;
                    seen += n;
                    PagesDecoded++;
                    break;
                }
                case PageType.DATA_PAGE_V2:
                    return false; // no writer at hand produces them to test against: Parquet.Net reads such chunks
                default:
                    break; // index pages carry no values
            }
            pos += size;
        }
        return true;
    }

    /// <summary>BYTE_STREAM_SPLIT values: byte b of value k is at b × count + k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected static void ByteStreamSplit<T>(ReadOnlySpan<byte> data, Span<T> target, DataField field) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        var count = target.Length;
        if (data.Length < count * size) throw Short(field, count, data.Length);
        var bytes = MemoryMarshal.AsBytes(target);
        for (var b = 0; b < size; b++)
        {
            var stream = data.Slice(b * count, count);
            for (var k = 0; k < count; k++) bytes[k * size + b] = stream[k];
        }
    }

    /// <summary>PLAIN values of a fixed size.</summary>
    protected static void Plain<T>(ReadOnlySpan<byte> data, Span<T> target, DataField field) where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        if (data.Length < target.Length * size) throw Short(field, target.Length, data.Length);
        MemoryMarshal.Cast<byte, T>(data)[..target.Length].CopyTo(target);
    }

    /// <summary>A dictionary-encoded page's indices (a width byte, then RLE/bit-packed), each checked against the dictionary's size.</summary>
    protected Span<int> Indices(ReadOnlySpan<byte> data, int present, DataField field)
    {
        if (DictionarySize < 0) throw new InvalidDataException($"Column '{field.Path}': a dictionary-encoded page without a dictionary page.");
        if (_buffers.Indices.Length < present) _buffers.Indices = new int[Math.Max(present, 1024)];
        var indices = _buffers.Indices.AsSpan(0, present);
        if (present == 0) return indices;
        if (data.Length < 1) throw Short(field, present, 0);
        var width = data[0];
        if (width > 32) throw new InvalidDataException($"Column '{field.Path}': dictionary index width {width}.");
        Hybrid(data[1..], width, indices, field, "dictionary index");
        var count = (uint)DictionarySize;
        foreach (var x in indices)
            if ((uint)x >= count) throw new InvalidDataException($"Column '{field.Path}': dictionary index {(uint)x} of a dictionary of {count}.");
        return indices;
    }

    protected static InvalidDataException Short(DataField field, int present, int bytes) =>
        new($"Column '{field.Path}': a page with {present} values holds {bytes} bytes of them.");

    /// <summary>Where a chunk starts: its dictionary page when it has one.</summary>
    protected static long Start(ColumnMetaData meta)
    {
        var dictionaryAt = meta.DictionaryPageOffset ?? 0;
        return dictionaryAt > 0 && dictionaryAt < meta.DataPageOffset ? dictionaryAt : meta.DataPageOffset;
    }

    /// <summary>A page's bytes, decompressed to <paramref name="uncompressed"/> bytes when the chunk is compressed.</summary>
    protected ReadOnlySpan<byte> Body(CompressionCodec codec, long pos, int size, int uncompressed, DataField item)
    {
        if (_buffers.Stored.Length < size) _buffers.Stored = GC.AllocateUninitializedArray<byte>(size);
        var stored = _buffers.Stored.AsSpan(0, size);
        ReadExactly(stored, pos, item);
        Seen.Add(codec.ToString());
        if (codec == CompressionCodec.UNCOMPRESSED) return stored;
        if (uncompressed < 0) throw new InvalidDataException($"Column '{item.Path}': a page of {uncompressed} bytes.");
        if (_buffers.Page.Length < uncompressed) _buffers.Page = GC.AllocateUninitializedArray<byte>(uncompressed);
        var page = _buffers.Page.AsSpan(0, uncompressed);
        int written;
        switch (codec)
        {
            case CompressionCodec.SNAPPY:
                written = Snappier.Snappy.Decompress(stored, page);
                break;
            case CompressionCodec.ZSTD:
                written = _buffers.Zstd.Unwrap(stored, page);
                break;
            case CompressionCodec.LZ4_RAW:
                written = K4os.Compression.LZ4.LZ4Codec.Decode(stored, page);
                break;
            default:
            {
                using var gz = new GZipStream(new MemoryStream(_buffers.Stored, 0, size, writable: false), CompressionMode.Decompress);
                written = 0;
                int got;
                while (written < page.Length && (got = gz.Read(page[written..])) > 0) written += got;
                break;
            }
        }
        if (written != page.Length)
            throw new InvalidDataException($"Column '{item.Path}': a page decompressed to {written} bytes; its header says {uncompressed}.");
        return page;
    }

    protected void ReadExactly(Span<byte> into, long pos, DataField item)
    {
        var done = 0;
        while (done < into.Length)
        {
            var got = RandomAccess.Read(_file, into[done..], pos + done);
            if (got <= 0) throw new InvalidDataException($"Column '{item.Path}': the file ends at byte {pos + done}.");
            done += got;
        }
    }

    /// <summary>A data page v1's level section: 4-byte little-endian length, then that many bytes.</summary>
    protected static ReadOnlySpan<byte> LengthPrefixed(ReadOnlySpan<byte> body, ref int at, DataField item)
    {
        if (body.Length - at < 4) throw new InvalidDataException($"Column '{item.Path}': a page ends inside its levels.");
        var length = BinaryPrimitives.ReadInt32LittleEndian(body[at..]);
        if (length < 0 || length > body.Length - at - 4) throw new InvalidDataException($"Column '{item.Path}': levels of {length} bytes in a page of {body.Length}.");
        var levels = body.Slice(at + 4, length);
        at += 4 + length;
        return levels;
    }

    /// <summary>
    /// RLE/bit-packed hybrid values of up to 32 bits: repetition and definition levels (1–8 bits, into bytes) and
    /// dictionary indices (into ints). Every level and index of a table passes here, so it starts fully optimised.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected static void Hybrid<T>(ReadOnlySpan<byte> src, int width, Span<T> into, DataField item, string what) where T : unmanaged, IBinaryInteger<T>
    {
        var i = 0;
        var p = 0;
        var valueBytes = (width + 7) / 8;
        var mask = width == 32 ? uint.MaxValue : (1UL << width) - 1;
        while (i < into.Length)
        {
            var header = VarUInt(src, ref p, item, what);
            var count = (int)Math.Min(header >> 1, (uint)(into.Length - i));
            if ((header & 1) == 0)
            {
                if (p + valueBytes > src.Length) throw Ended(item, what);
                var value = 0u;
                for (var b = 0; b < valueBytes; b++) value |= (uint)src[p + b] << (8 * b);
                p += valueBytes;
                into.Slice(i, count).Fill(T.CreateTruncating(value));
                i += count;
                continue;
            }
            var groups = (int)(header >> 1);
            var bytes = groups * width;
            if (p + bytes > src.Length) throw Ended(item, what);
            var packed = src.Slice(p, bytes);
            var take = (int)Math.Min((long)groups * 8, into.Length - i);
            ulong buffer = 0;
            var bits = 0;
            var q = 0;
            for (var k = 0; k < take; k++)
            {
                while (bits < width) { buffer |= (ulong)packed[q++] << bits; bits += 8; }
                into[i + k] = T.CreateTruncating(buffer & mask);
                buffer >>= width;
                bits -= width;
            }
            i += take;
            p += bytes;
        }
    }

    protected static InvalidDataException Ended(DataField item, string what) => new($"Column '{item.Path}': its {what} levels end early.");

    private static uint VarUInt(ReadOnlySpan<byte> src, ref int p, DataField item, string what)
    {
        uint result = 0;
        for (var shift = 0; shift < 35; shift += 7)
        {
            if (p >= src.Length) throw Ended(item, what);
            var b = src[p++];
            result |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException($"Column '{item.Path}': a malformed run header in its {what} levels.");
    }

    protected PageHeader ReadHeader(ref long pos, long end, DataField item)
    {
        // A header is a few dozen bytes; statistics can make it longer, so the window grows until it parses.
        for (var window = 256; ; window *= 4)
        {
            var length = (int)Math.Min(window, end - pos);
            if (_buffers.Stored.Length < length) _buffers.Stored = GC.AllocateUninitializedArray<byte>(Math.Max(length, 4096));
            var bytes = _buffers.Stored.AsSpan(0, length);
            ReadExactly(bytes, pos, item);
            var reader = new CompactReader(bytes);
            bool parsed;
            PageHeader header;
            try
            {
                parsed = ThriftPageHeader.TryRead(ref reader, out header);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"Column '{item.Path}': an unreadable page header at byte {pos}: {e.Message}", e);
            }
            if (parsed)
            {
                pos += reader.Position;
                return header;
            }
            if (length == end - pos)
                throw new InvalidDataException($"Column '{item.Path}': an unreadable page header at byte {pos}.");
        }
    }


    public void Dispose() => _file.Dispose();
}

/// <summary>
/// The growable buffers of <see cref="ParquetPages"/>: handed from one file's reader to the next so that a table of
/// many files (or a run over several tables) faults its page buffers in once. One reader uses them at a time.
/// </summary>
internal sealed class PageBuffers : IDisposable
{
    internal byte[] Stored = [];
    internal byte[] Page = [];
    internal byte[] Rep = [];
    internal byte[] Def = [];
    internal int[] Indices = [];
    internal float[] Dictionary = [];
    internal float[] Values = [];
    internal byte[] DictionaryBytes = [];
    internal int[] DictionaryCodes = [];
    internal bool[] Nulls = [];
    private ZstdSharp.Decompressor? _zstd;

    internal ZstdSharp.Decompressor Zstd => _zstd ??= new ZstdSharp.Decompressor();

    public void Dispose() => _zstd?.Dispose();
}

/// <summary>The fields of a Parquet page header this reader needs, from Thrift's compact protocol.</summary>
internal static class ThriftPageHeader
{
    public static bool TryRead(ref CompactReader r, out PageHeader header)
    {
        header = new PageHeader();
        try
        {
            short id = 0;
            while (r.Field(ref id, out var type))
            {
                switch (id, type)
                {
                    case (1, CompactReader.I32): header.Type = (PageType)r.ReadI32(); break;
                    case (2, CompactReader.I32): header.UncompressedPageSize = r.ReadI32(); break;
                    case (3, CompactReader.I32): header.CompressedPageSize = r.ReadI32(); break;
                    case (5, CompactReader.Struct): header.DataPageHeader = DataPage(ref r); break;
                    case (7, CompactReader.Struct): header.DictionaryPageHeader = Dictionary(ref r); break;
                    default: r.Skip(type); break;
                }
            }
            return true;
        }
        catch (IndexOutOfRangeException)
        {
            return false; // the header runs past the bytes read so far
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static DataPageHeader DataPage(ref CompactReader r)
    {
        var h = new DataPageHeader();
        short id = 0;
        while (r.Field(ref id, out var type))
        {
            switch (id, type)
            {
                case (1, CompactReader.I32): h.NumValues = r.ReadI32(); break;
                case (2, CompactReader.I32): h.Encoding = (Encoding)r.ReadI32(); break;
                case (3, CompactReader.I32): h.DefinitionLevelEncoding = (Encoding)r.ReadI32(); break;
                case (4, CompactReader.I32): h.RepetitionLevelEncoding = (Encoding)r.ReadI32(); break;
                default: r.Skip(type); break;
            }
        }
        return h;
    }

    private static DictionaryPageHeader Dictionary(ref CompactReader r)
    {
        var h = new DictionaryPageHeader();
        short id = 0;
        while (r.Field(ref id, out var type))
        {
            switch (id, type)
            {
                case (1, CompactReader.I32): h.NumValues = r.ReadI32(); break;
                case (2, CompactReader.I32): h.Encoding = (Encoding)r.ReadI32(); break;
                default: r.Skip(type); break;
            }
        }
        return h;
    }
}

/// <summary>Thrift's compact protocol over a span: field headers, zigzag varints, and skipping what is not needed.</summary>
internal ref struct CompactReader(ReadOnlySpan<byte> bytes)
{
    public const int True = 1, False = 2, Byte = 3, I16 = 4, I32 = 5, I64 = 6, Double = 7, Binary = 8, List = 9, Set = 10, Map = 11, Struct = 12;

    private readonly ReadOnlySpan<byte> _bytes = bytes;

    public int Position { get; private set; }

    /// <summary>The next field of the current struct (false at its stop byte); <paramref name="id"/> carries the previous id.</summary>
    public bool Field(ref short id, out int type)
    {
        var b = _bytes[Position++];
        type = b & 0x0F;
        if (type == 0) return false;
        var delta = b >> 4;
        id = delta != 0 ? (short)(id + delta) : (short)ZigZag(VarULong());
        return true;
    }

    public int ReadI32() => (int)ZigZag(VarULong());

    public void Skip(int type)
    {
        switch (type)
        {
            case True or False: break;
            case Byte: Position++; break;
            case I16 or I32 or I64: VarULong(); break;
            case Double: Position += 8; break;
            case Binary:
            {
                var length = checked((int)VarULong()); // read before Position: `Position += VarULong()` would add to the old position
                Position += length;
                break;
            }
            case List or Set:
            {
                var b = _bytes[Position++];
                var size = b >> 4 == 15 ? checked((int)VarULong()) : b >> 4;
                var element = b & 0x0F;
                for (var i = 0; i < size; i++) SkipElement(element);
                break;
            }
            case Map:
            {
                var size = checked((int)VarULong());
                if (size == 0) break;
                var kinds = _bytes[Position++];
                for (var i = 0; i < size; i++) { SkipElement(kinds >> 4); SkipElement(kinds & 0x0F); }
                break;
            }
            case Struct:
            {
                short id = 0;
                while (Field(ref id, out var t)) Skip(t);
                break;
            }
            default:
                throw new InvalidDataException($"Thrift compact type {type} is not known.");
        }
        if (Position > _bytes.Length) throw new IndexOutOfRangeException();
    }

    // Booleans inside lists take a byte each; elsewhere the type says all.
    private void SkipElement(int type)
    {
        if (type is True or False) Position++;
        else Skip(type);
    }

    private ulong VarULong()
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = _bytes[Position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException("A malformed Thrift varint.");
    }

    private static long ZigZag(ulong n) => (long)(n >> 1) ^ -(long)(n & 1);
}
