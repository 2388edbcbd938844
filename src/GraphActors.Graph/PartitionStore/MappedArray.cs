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

    /// <summary>
    /// Maps a file of rows that may hold more elements than one span can address (a large partition's feature slab): the
    /// whole file in one view, handed out as segments of whole rows, each at most <paramref name="maxElementsPerSegment"/>
    /// elements (at least one row). The pages are advised as read at random (MADV_RANDOM: no readahead), as feature rows
    /// are. Disposing the returned mapping unmaps every segment.
    /// </summary>
    public static (IDisposable Mapping, ReadOnlyMemory<T>[] Segments, int RowsPerSegment, long Count, int RowWidth) OpenSegmented(string path, int maxElementsPerSegment)
    {
        if (!File.Exists(path)) throw new PartitionStoreException(path, "is missing.");
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        var acquired = false;
        try
        {
            var length = fs.Length;
            var header = new byte[StoreFile.HeaderSize];
            fs.ReadAtLeast(header, (int)Math.Min(length, StoreFile.HeaderSize), throwOnEndOfStream: false);
            var (count, rowWidth) = StoreFile.Validate<T>(path, header, length, segmented: true);
            file = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            acquired = true;
            // Rows are fetched at random (a batch's input nodes): no readahead (see PageAdvice.Random).
            PageAdvice.Random(p, length + view.PointerOffset);
            p += view.PointerOffset;
            var data = (nint)(p + StoreFile.HeaderSize);
            var (segments, rowsPerSegment) = Cut(count, rowWidth, maxElementsPerSegment, (offset, n) => new Window((T*)data + offset, n).Memory);
            return (new Region(file, view), segments, rowsPerSegment, count, rowWidth);
        }
        catch (Exception e)
        {
            if (acquired) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            file?.Dispose();
            fs.Dispose();
            if (e is PartitionStoreException) throw;
            throw new PartitionStoreException(path, $"cannot be mapped: {e.Message}", e);
        }
    }

    /// <summary><see cref="ReadAll"/> for a file that may exceed one array: managed arrays of whole rows, cut as <see cref="OpenSegmented"/> cuts.</summary>
    public static (ReadOnlyMemory<T>[] Segments, int RowsPerSegment, long Count, int RowWidth) ReadAllSegmented(string path, int maxElementsPerSegment)
    {
        if (!File.Exists(path)) throw new PartitionStoreException(path, "is missing.");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = new byte[StoreFile.HeaderSize];
        fs.ReadAtLeast(header, (int)Math.Min(fs.Length, StoreFile.HeaderSize), throwOnEndOfStream: false);
        var (count, rowWidth) = StoreFile.Validate<T>(path, header, fs.Length, segmented: true);
        var (segments, rowsPerSegment) = Cut(count, rowWidth, maxElementsPerSegment, (_, n) =>
        {
            var array = new T[n];
            fs.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(array.AsSpan()));
            return array;
        });
        return (segments, rowsPerSegment, count, rowWidth);
    }

    /// <summary>Cuts <paramref name="count"/> elements of rows of <paramref name="rowWidth"/> into segments of whole rows, in order.</summary>
    private static (ReadOnlyMemory<T>[] Segments, int RowsPerSegment) Cut(long count, int rowWidth, int maxElementsPerSegment, Func<long, int, ReadOnlyMemory<T>> segment)
    {
        var width = Math.Max(rowWidth, 1);
        var rowsPerSegment = Math.Max(1, maxElementsPerSegment / width);
        var perSegment = (long)rowsPerSegment * width;
        if (perSegment > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(maxElementsPerSegment), $"A segment of {perSegment} elements exceeds one span.");
        var n = count == 0 ? 1 : (int)((count + perSegment - 1) / perSegment);
        var segments = new ReadOnlyMemory<T>[n];
        for (var s = 0; s < n; s++)
        {
            var offset = s * perSegment;
            segments[s] = segment(offset, (int)Math.Min(perSegment, count - offset));
        }
        return (segments, rowsPerSegment);
    }

    /// <summary>The mapping behind a file's segments.</summary>
    private sealed class Region(MemoryMappedFile file, MemoryMappedViewAccessor view) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.Dispose();
            file.Dispose();
        }
    }

    /// <summary>One segment: a span over part of a <see cref="Region"/>, which owns the mapping.</summary>
    private sealed class Window(T* data, int length) : MemoryManager<T>
    {
        public override Span<T> GetSpan() => new(data, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(data + elementIndex);

        public override void Unpin() { }

        protected override void Dispose(bool disposing) { }
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
