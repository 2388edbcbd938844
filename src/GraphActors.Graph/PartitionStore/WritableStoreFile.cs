// A store file created at its final size and filled in place through a writable mapping (columns scattered by position).
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;

namespace GraphActors.Graph.Storage;

/// <summary>
/// Creates a store file of <c>count</c> zeroed elements (header written) and maps it for writing, so values can land
/// at any position without the whole array being resident: the page cache holds what is being written and the kernel
/// writes it back. Used for columns laid out in CSR order from runs in input order. At most one span of elements, as
/// every store file but a feature slab.
/// </summary>
internal sealed unsafe class WritableStoreFile<T> : IDisposable where T : unmanaged
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly T* _data;
    private bool _disposed;

    private WritableStoreFile(MemoryMappedFile file, MemoryMappedViewAccessor view, T* data, int count)
    {
        _file = file;
        _view = view;
        _data = data;
        Count = count;
    }

    public int Count { get; }
    public Span<T> Span => new(_data, Count);

    public static WritableStoreFile<T> Create(string path, long count, int rowWidth = 1)
    {
        if (count < 0 || count > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{path}: a store file holds at most {Array.MaxLength:N0} elements.");
        var length = StoreFile.HeaderSize + count * sizeof(T);
        using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
        {
            fs.Write(StoreFile.Header<T>(count, rowWidth));
            fs.SetLength(length);
        }
        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, length, MemoryMappedFileAccess.ReadWrite);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new WritableStoreFile<T>(file, view, (T*)(p + view.PointerOffset + StoreFile.HeaderSize), (int)count);
        }
        catch
        {
            view?.Dispose();
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.Flush();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}

/// <summary>A store file as <c>partitions.json</c> lists it: its length and the sha256 of its bytes (header included), lower-case hex.</summary>
public sealed record ManifestFile(long Bytes, string Sha256)
{
    public static ManifestFile Of(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return new ManifestFile(fs.Length, Convert.ToHexStringLower(SHA256.HashData(fs)));
    }
}
