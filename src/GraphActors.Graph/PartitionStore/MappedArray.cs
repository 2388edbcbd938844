// A store file mapped read-only and exposed as ReadOnlyMemory<T> pointing straight into the mapping.
using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace GraphActors.Graph.Storage;

/// <summary>
/// Maps one store file and hands out its elements as <see cref="Memory{T}"/> over the mapped pages (no copy, no parse).
/// The page cache is shared by every process and every load that maps the same file. Dispose unmaps; memory taken
/// from it must not be used afterwards.
/// </summary>
internal sealed unsafe class MappedArray<T> : MemoryManager<T> where T : unmanaged
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly T* _data;
    private readonly int _length;
    private bool _disposed;

    private MappedArray(MemoryMappedFile file, MemoryMappedViewAccessor view, T* data, int length, int rowWidth)
    {
        _file = file;
        _view = view;
        _data = data;
        _length = length;
        RowWidth = rowWidth;
    }

    public int Length => _length;
    public int RowWidth { get; }

    public static MappedArray<T> Open(string path)
    {
        if (!File.Exists(path)) throw new PartitionStoreException(path, "is missing.");
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            var length = fs.Length;
            var header = new byte[StoreFile.HeaderSize];
            fs.ReadAtLeast(header, (int)Math.Min(length, StoreFile.HeaderSize), throwOnEndOfStream: false);
            var (count, rowWidth) = StoreFile.Validate<T>(path, header, length);
            file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            p += view.PointerOffset;
            return new MappedArray<T>(file, view, (T*)(p + StoreFile.HeaderSize), (int)count, rowWidth);
        }
        catch (Exception e) when (e is not PartitionStoreException)
        {
            view?.Dispose();
            file?.Dispose();
            fs.Dispose();
            throw new PartitionStoreException(path, $"cannot be mapped: {e.Message}", e);
        }
        catch
        {
            view?.Dispose();
            file?.Dispose();
            fs.Dispose();
            throw;
        }
    }

    /// <summary>Reads a store file into a managed array (for comparison with mapping, and for tools).</summary>
    public static (T[] Data, int RowWidth) ReadAll(string path)
    {
        if (!File.Exists(path)) throw new PartitionStoreException(path, "is missing.");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = new byte[StoreFile.HeaderSize];
        fs.ReadAtLeast(header, (int)Math.Min(fs.Length, StoreFile.HeaderSize), throwOnEndOfStream: false);
        var (count, rowWidth) = StoreFile.Validate<T>(path, header, fs.Length);
        var data = new T[count];
        fs.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        return (data, rowWidth);
    }

    public override Span<T> GetSpan()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Span<T>(_data, _length);
    }

    public override MemoryHandle Pin(int elementIndex = 0) => new(_data + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
