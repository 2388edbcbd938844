// The binary layout of our messages: little-endian scalars, length-prefixed UTF-8 strings, arrays as a count plus raw bytes.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace GraphActors.Contracts.Serialization;

/// <summary>
/// What a message's write code talks to. Two implementations share one write routine per message: <see cref="WireSizer"/>
/// counts bytes so that <see cref="WireWriter"/> can fill an exactly sized array (no copy of multi-megabyte payloads).
/// </summary>
internal interface IWire
{
    void Byte(byte v);
    void Int(int v);
    void Long(long v);
    void ULong(ulong v);
    void String(string v);
    void Ints(ReadOnlySpan<int> v);
    void Longs(ReadOnlySpan<long> v);
    void Floats(ReadOnlySpan<float> v);
    void Bytes(ReadOnlySpan<byte> v);
}

// A long, so that a message too large for one array (a 2 GiB feature block) can still be measured and refused by name.
internal struct WireSizer : IWire
{
    public long Size;
    public void Byte(byte v) => Size += 1;
    public void Int(int v) => Size += 4;
    public void Long(long v) => Size += 8;
    public void ULong(ulong v) => Size += 8;
    public void String(string v) => Size += 4 + Encoding.UTF8.GetByteCount(v);
    public void Ints(ReadOnlySpan<int> v) => Size += 4 + v.Length * 4L;
    public void Longs(ReadOnlySpan<long> v) => Size += 4 + v.Length * 8L;
    public void Floats(ReadOnlySpan<float> v) => Size += 4 + v.Length * 4L;
    public void Bytes(ReadOnlySpan<byte> v) => Size += 4 + v.Length;
}

internal struct WireWriter(byte[] buffer) : IWire
{
    private int _pos;
    public readonly int Position => _pos;
    private Span<byte> Take(int n) { var s = buffer.AsSpan(_pos, n); _pos += n; return s; }
    public void Byte(byte v) => buffer[_pos++] = v;
    public void Int(int v) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), v);
    public void Long(long v) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), v);
    public void ULong(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), v);

    public void String(string v)
    {
        var n = Encoding.UTF8.GetByteCount(v);
        Int(n);
        Encoding.UTF8.GetBytes(v, Take(n));
    }

    public void Ints(ReadOnlySpan<int> v) { Int(v.Length); Raw(v, Take(v.Length * 4)); }
    public void Longs(ReadOnlySpan<long> v) { Int(v.Length); Raw(v, Take(v.Length * 8)); }
    public void Floats(ReadOnlySpan<float> v) { Int(v.Length); Raw(v, Take(v.Length * 4)); }
    public void Bytes(ReadOnlySpan<byte> v) { Int(v.Length); v.CopyTo(Take(v.Length)); }

    private static void Raw<T>(ReadOnlySpan<T> v, Span<byte> dst) where T : unmanaged
    {
        if (BitConverter.IsLittleEndian) { MemoryMarshal.AsBytes(v).CopyTo(dst); return; }
        // A big-endian host swaps element by element; the wire stays little-endian.
        var src = MemoryMarshal.AsBytes(v);
        var w = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        for (var i = 0; i < src.Length; i += w)
            for (var b = 0; b < w; b++) dst[i + b] = src[i + w - 1 - b];
    }
}

/// <summary>Reads what <see cref="WireWriter"/> wrote; every length is checked against what is left, so a torn frame fails with a message.</summary>
internal ref struct WireReader(ReadOnlySpan<byte> data, string manifest)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    private ReadOnlySpan<byte> Take(long n)
    {
        if (n < 0 || _pos + n > _data.Length)
            throw new System.Runtime.Serialization.SerializationException(
                $"GraphActors message '{manifest}' is truncated: needs {n} more bytes at offset {_pos} of {_data.Length}.");
        var s = _data.Slice(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    public byte Byte() => Take(1)[0];
    public int Int() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public ulong ULong() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public string String() => Encoding.UTF8.GetString(Take(Int()));
    public int[] Ints() => Array<int>(4);
    public long[] Longs() => Array<long>(8);
    public float[] Floats() => Array<float>(4);
    public byte[] Bytes() => Take(Int()).ToArray();

    /// <summary>The offset of the next byte: a chunk's payload is handed out as a slice of the frame from here, not copied.</summary>
    public readonly int Position => _pos;

    /// <summary>Reads a byte array's count and steps over its bytes, returning where they start and how many there are.</summary>
    public (int Start, int Length) SkipBytes()
    {
        var n = Int();
        var start = _pos;
        Take(n);
        return (start, n);
    }

    /// <summary>True while bytes remain: lets a reader accept an older, shorter form of a persisted message.</summary>
    public bool HasMore => _pos < _data.Length;

    public void End()
    {
        if (_pos != _data.Length)
            throw new System.Runtime.Serialization.SerializationException(
                $"GraphActors message '{manifest}' has {_data.Length - _pos} trailing bytes: writer and reader disagree.");
    }

    private T[] Array<T>(int width) where T : unmanaged
    {
        var n = Int();
        var bytes = Take((long)n * width);
        var result = n == 0 ? [] : GC.AllocateUninitializedArray<T>(n);
        var dst = MemoryMarshal.AsBytes(result.AsSpan());
        if (BitConverter.IsLittleEndian) bytes.CopyTo(dst);
        else
            for (var i = 0; i < bytes.Length; i += width)
                for (var b = 0; b < width; b++) dst[i + b] = bytes[i + width - 1 - b];
        return result;
    }
}
