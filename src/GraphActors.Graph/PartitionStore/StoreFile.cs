// One array per file: a 64-byte header, then the raw little-endian elements, 64-byte aligned.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace GraphActors.Graph.Storage;

public enum StoreElementType : uint { Int32 = 1, Int64 = 2, Float32 = 3, UInt8 = 4 }

/// <summary>
/// Header (little-endian): bytes 0–7 magic <c>GAPSTORE</c>, 8–11 version (1), 12–15 element type, 16–23 element count,
/// 24–27 element size, 28–31 row width (the feature dim of a slab, else 1), 32–63 zero. Data starts at byte 64 and
/// runs to the end of the file: length = 64 + count × size exactly, so truncation is always detected.
/// </summary>
public static class StoreFile
{
    public const int HeaderSize = 64;
    public const uint Version = 1;
    public static ReadOnlySpan<byte> Magic => "GAPSTORE"u8;

    public static StoreElementType ElementTypeOf<T>() where T : unmanaged =>
        typeof(T) == typeof(int) ? StoreElementType.Int32
        : typeof(T) == typeof(long) ? StoreElementType.Int64
        : typeof(T) == typeof(float) ? StoreElementType.Float32
        : typeof(T) == typeof(byte) ? StoreElementType.UInt8
        : throw new NotSupportedException($"No store element type for {typeof(T)}.");

    public static byte[] Header<T>(long count, int rowWidth = 1) where T : unmanaged
    {
        var h = new byte[HeaderSize];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), (uint)ElementTypeOf<T>());
        BinaryPrimitives.WriteInt64LittleEndian(h.AsSpan(16), count);
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(24), Marshal.SizeOf<T>());
        BinaryPrimitives.WriteInt32LittleEndian(h.AsSpan(28), rowWidth);
        return h;
    }

    public static void Write<T>(string path, ReadOnlySpan<T> data, int rowWidth = 1) where T : unmanaged
    {
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        fs.Write(Header<T>(data.Length, rowWidth));
        fs.Write(MemoryMarshal.AsBytes(data));
    }

    /// <summary>Creates a file of <paramref name="count"/> zeroed elements to be filled at row offsets (feature slabs).</summary>
    public static SafeFileHandle CreateForRandomWrites<T>(string path, long count, int rowWidth = 1) where T : unmanaged
    {
        var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.None,
            HeaderSize + count * Marshal.SizeOf<T>());
        RandomAccess.Write(handle, Header<T>(count, rowWidth), 0);
        RandomAccess.SetLength(handle, HeaderSize + count * Marshal.SizeOf<T>());
        return handle;
    }

    /// <summary>Checks the header of <paramref name="path"/> against <typeparamref name="T"/> and the file length; returns the count and row width.</summary>
    /// <remarks>With <paramref name="segmented"/> the file may hold more elements than one span: its reader cuts it into segments.</remarks>
    public static (long Count, int RowWidth) Validate<T>(string path, ReadOnlySpan<byte> header, long fileLength, bool segmented = false) where T : unmanaged
    {
        if (fileLength < HeaderSize || header.Length < HeaderSize)
            throw new PartitionStoreException(path, $"is {fileLength} bytes, shorter than the {HeaderSize}-byte header (truncated?).");
        if (!header[..8].SequenceEqual(Magic))
            throw new PartitionStoreException(path, $"does not start with the magic '{Encoding.ASCII.GetString(Magic)}' (not a partition-store file, or corrupt).");
        var version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != Version) throw new PartitionStoreException(path, $"has format version {version}; this build reads version {Version}.");
        var type = (StoreElementType)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if (type != ElementTypeOf<T>()) throw new PartitionStoreException(path, $"holds {type}, expected {ElementTypeOf<T>()}.");
        var count = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        var size = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        var rowWidth = BinaryPrimitives.ReadInt32LittleEndian(header[28..]);
        if (count < 0 || size != Marshal.SizeOf<T>() || rowWidth < 0)
            throw new PartitionStoreException(path, "has a corrupt header (count, element size or row width).");
        var expected = HeaderSize + count * size;
        if (fileLength != expected)
            throw new PartitionStoreException(path, $"is {fileLength} bytes but its header promises {count} elements ({expected} bytes): truncated or corrupt.");
        if (count > Array.MaxLength && !segmented) throw new PartitionStoreException(path, $"holds {count} elements, more than one span can address.");
        return (count, rowWidth);
    }
}

/// <summary>A partition-store file or manifest that cannot be read; names the file.</summary>
public sealed class PartitionStoreException(string path, string problem, Exception? inner = null)
    : BadInputException($"{path}: {problem}", inner)
{
    public string FilePath { get; } = path;
}
