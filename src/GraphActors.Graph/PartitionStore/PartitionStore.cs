// Opens a partition store: the manifest and book at once, each partition on demand by memory-mapping its files.
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Graph.Storage;

public enum PartitionLoadMode
{
    /// <summary>Memory-map every file; nothing is copied or parsed (what partition actors use).</summary>
    Map,
    /// <summary>Read every file into managed arrays (for comparison and tools).</summary>
    Read,
}

public sealed class PartitionStore
{
    private PartitionStore(string root, StoreManifest manifest)
    {
        Root = root;
        Manifest = manifest;
        try
        {
            Book = manifest.CreateBook();
        }
        catch (ArgumentException e)
        {
            throw new PartitionStoreException(Path.Combine(root, StoreManifest.FileName), $"has an inconsistent partition book: {e.Message}", e);
        }
    }

    public string Root { get; }
    public StoreManifest Manifest { get; }
    public PartitionBook Book { get; }

    /// <summary>
    /// The stores this one descends from, itself last: partitions.json's updatedFrom (<c>partition --update</c>), then
    /// <see cref="Root"/>. Checkpoints record it, so a warm start can tell whether ids still name the same nodes.
    /// </summary>
    public IReadOnlyList<string> Lineage => [.. Manifest.UpdatedFrom, Root];

    /// <summary>Whether two paths name the same store directory (absolute, without a trailing separator, as <see cref="Root"/> is kept).</summary>
    public static bool SameDirectory(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);

    /// <summary>The partition count: fixed by the store, never by configuration.</summary>
    public int Parts => Manifest.Parts;

    public static PartitionStore Open(string directory)
    {
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        if (!Directory.Exists(root)) throw new PartitionStoreException(root, "does not exist.");
        return new PartitionStore(root, StoreManifest.Load(Path.Combine(root, StoreManifest.FileName)));
    }

    public LoadedPartition LoadPartition(int part, PartitionLoadMode mode = PartitionLoadMode.Map)
    {
        if ((uint)part >= (uint)Parts) throw new ArgumentOutOfRangeException(nameof(part), $"The store has partitions 0..{Parts - 1}.");
        var dir = StoreLayout.PartitionDir(Root, part);
        var mappings = new List<IDisposable>();
        try
        {
            var nodes = new Dictionary<NodeType, PartitionNodes>();
            foreach (var nt in Manifest.NodeTypes)
            {
                var type = new NodeType(nt.Name);
                var rows = Book.For(type).Part(part);
                var count = rows.Count;
                var nd = StoreLayout.NodeDir(dir, type);
                var business = Load<long>(Path.Combine(nd, StoreLayout.BusinessIds), mode, mappings, count, out _);
                var features = FeatureSlab.Empty;
                if (nt.FeatureDim > 0)
                {
                    var path = Path.Combine(nd, StoreLayout.Features);
                    features = LoadFeatures(path, mode, mappings, count, nt.FeatureDim);
                }
                var labelsPath = Path.Combine(nd, StoreLayout.Labels);
                var labels = nt.LabelCount > 0 ? Load<int>(labelsPath, mode, mappings, count, out _) : ReadOnlyMemory<int>.Empty;
                CheckLabels(labels.Span, nt, labelsPath, rows);
                nodes[type] = new PartitionNodes(type, rows, features, labels,
                    Load<byte>(Path.Combine(nd, StoreLayout.TrainMask), mode, mappings, count, out _),
                    Load<byte>(Path.Combine(nd, StoreLayout.ValMask), mode, mappings, count, out _),
                    Load<byte>(Path.Combine(nd, StoreLayout.TestMask), mode, mappings, count, out _),
                    business,
                    Load<long>(Path.Combine(nd, StoreLayout.LookupKeys), mode, mappings, count, out _),
                    Load<int>(Path.Combine(nd, StoreLayout.LookupIds), mode, mappings, count, out _))
                {
                    Columns = nt.Columns is { Any: true } c ? LoadNodeColumns(c, dir, nd, part, mode, mappings, count) : NodeColumnData.None,
                };
            }
            var edges = new Dictionary<CanonicalEdgeType, PartitionEdges>();
            foreach (var et in Manifest.EdgeTypes)
            {
                var type = et.Type;
                var ed = StoreLayout.EdgeDir(dir, type);
                Csr LoadCsr(bool incoming, out ReadOnlyMemory<float> weights)
                {
                    var rows = Book.Count(incoming ? type.Dst : type.Src, part);
                    var offsetsPath = Path.Combine(ed, StoreLayout.Offsets(incoming));
                    var offsets = Load<long>(offsetsPath, mode, mappings, rows + 1L, out _);
                    var nbrPath = Path.Combine(ed, StoreLayout.Neighbors(incoming));
                    var nbrs = Load<int>(nbrPath, mode, mappings, -1, out _);
                    weights = Load<float>(Path.Combine(ed, StoreLayout.Weights(incoming)), mode, mappings, nbrs.Length, out _);
                    try
                    {
                        return new Csr(rows, offsets, nbrs, ReadOnlyMemory<int>.Empty);
                    }
                    catch (ArgumentException e)
                    {
                        throw new PartitionStoreException(nbrPath, $"disagrees with {offsetsPath}: {e.Message}", e);
                    }
                }
                var @out = LoadCsr(false, out var ow);
                var @in = LoadCsr(true, out var iw);
                var columns = et.Columns is { Any: true } c;
                edges[type] = new PartitionEdges(type, @out, ow, @in, iw)
                {
                    OutColumns = columns ? LoadEdgeColumns(et.Columns!, dir, ed, false, part, mode, mappings, @out.EdgeCount) : EdgeColumnData.None,
                    InColumns = columns ? LoadEdgeColumns(et.Columns!, dir, ed, true, part, mode, mappings, @in.EdgeCount) : EdgeColumnData.None,
                };
            }
            return new LoadedPartition(part, Book, Manifest, nodes, edges, mappings);
        }
        catch
        {
            foreach (var m in mappings) m.Dispose();
            throw;
        }
    }

    private NodeColumnData LoadNodeColumns(NodeColumns c, string partDir, string nd, int part, PartitionLoadMode mode, List<IDisposable> mappings, int count)
    {
        ReadOnlyMemory<T> Column<T>(string name, long expected) where T : unmanaged =>
            LoadListed<T>(partDir, Path.Combine(nd, name), part, mode, mappings, expected);
        return new NodeColumnData(c,
            c.Weighted ? Column<float>(StoreLayout.NodeWeights, count) : default,
            c.IntCount > 0 ? Column<long>(StoreLayout.Ints, (long)count * c.IntCount) : default,
            c.StringCount > 0 ? LoadStrings(partDir, nd, "", part, mode, mappings, count, c.StringCount) : StoredStrings.None);
    }

    private EdgeColumnData LoadEdgeColumns(EdgeColumns c, string partDir, string ed, bool incoming, int part, PartitionLoadMode mode,
        List<IDisposable> mappings, int entries)
    {
        ReadOnlyMemory<T> Column<T>(string name, long expected) where T : unmanaged =>
            LoadListed<T>(partDir, Path.Combine(ed, StoreLayout.EdgeColumn(incoming, name)), part, mode, mappings, expected);
        return new EdgeColumnData(c,
            c.EdgeIds ? Column<long>(StoreLayout.EdgeIds, entries) : default,
            c.Labeled ? Column<int>(StoreLayout.EdgeLabels, entries) : default,
            c.IntCount > 0 ? Column<long>(StoreLayout.Ints, (long)entries * c.IntCount) : default,
            c.FloatCount > 0 ? Column<float>(StoreLayout.Floats, (long)entries * c.FloatCount) : default,
            c.StringCount > 0 ? LoadStrings(partDir, ed, StoreLayout.EdgeColumn(incoming, ""), part, mode, mappings, entries, c.StringCount) : StoredStrings.None);
    }

    private StoredStrings LoadStrings(string partDir, string dir, string prefix, int part, PartitionLoadMode mode, List<IDisposable> mappings, int rows, int width)
    {
        var offsetsPath = Path.Combine(dir, prefix + StoreLayout.StringOffsets);
        var offsets = LoadListed<long>(partDir, offsetsPath, part, mode, mappings, (long)rows * width + 1);
        var o = offsets.Span;
        // Offsets that do not climb from 0 to the blob's length would hand out slices of the wrong bytes.
        for (var i = 1; i < o.Length; i++)
            if (o[i] < o[i - 1]) throw new PartitionStoreException(offsetsPath, $"offset {i} ({o[i]}) is below offset {i - 1} ({o[i - 1]}).");
        if (o[0] != 0) throw new PartitionStoreException(offsetsPath, $"starts at {o[0]}, not 0.");
        var bytes = LoadListed<byte>(partDir, Path.Combine(dir, prefix + StoreLayout.Strings), part, mode, mappings, o[^1]);
        return new StoredStrings(width, offsets, bytes);
    }

    /// <summary>A column file as partitions.json lists it: refused when missing from the list or when its length differs from it.</summary>
    private ReadOnlyMemory<T> LoadListed<T>(string partDir, string path, int part, PartitionLoadMode mode, List<IDisposable> mappings, long expected)
        where T : unmanaged
    {
        var key = StoreLayout.FileKey(partDir, path);
        if (Manifest.Partitions[part].Files is not { } files || !files.TryGetValue(key, out var listed))
            throw new PartitionStoreException(path, $"is not listed in {StoreManifest.FileName} (partition {part}'s files), though its type declares the column.");
        var length = new FileInfo(path) is { Exists: true } info ? info.Length : -1;
        if (length != listed.Bytes)
            throw new PartitionStoreException(path, length < 0 ? "is missing." : $"is {length} bytes; {StoreManifest.FileName} lists {listed.Bytes}.");
        return Load<T>(path, mode, mappings, expected, out _);
    }

    /// <summary>
    /// Checks every column file of partition <paramref name="part"/> against the sha256 <c>partitions.json</c> lists
    /// (a full read of each; loading checks lengths only, as it maps rather than reads). Returns the files that differ.
    /// </summary>
    public IReadOnlyList<string> VerifyColumnFiles(int part)
    {
        var bad = new List<string>();
        var dir = StoreLayout.PartitionDir(Root, part);
        foreach (var (key, listed) in Manifest.Partitions[part].Files ?? new Dictionary<string, ManifestFile>())
        {
            var path = Path.Combine(dir, key);
            if (!File.Exists(path) || ManifestFile.Of(path) != listed) bad.Add(path);
        }
        return bad;
    }

    /// <summary>
    /// A store written before labels were validated can hold −7 or a label past the class count; training would die inside
    /// libtorch ("Target -7 is out of bounds"). One pass over 4 bytes per node at load says which node type and label instead.
    /// </summary>
    private static void CheckLabels(ReadOnlySpan<int> labels, ManifestNodeType type, string path, PartRows rows)
    {
        for (var i = 0; i < labels.Length; i++)
        {
            var l = labels[i];
            if (l < -1 || (l >= type.LabelCount && l != -1))
                throw new PartitionStoreException(path, $"node type '{type.Name}', node {rows.IdOf(i)}: label {l} is outside [-1, {type.LabelCount}) (labelCount in {StoreManifest.FileName}); re-run etl and partition.");
        }
    }

    /// <summary>
    /// Largest segment of a feature slab, in floats (2^30: 4 GiB). A partition's slab above it — 2.1M nodes at 500-d —
    /// is read as several spans of whole rows (one span addresses at most 2^31 − 1 elements). Smaller values serve tests.
    /// </summary>
    public int FeatureSegmentFloats { get; set; } = 1 << 30;

    private FeatureSlab LoadFeatures(string path, PartitionLoadMode mode, List<IDisposable> mappings, int rows, int dim)
    {
        ReadOnlyMemory<float>[] segments;
        int rowsPerSegment, width;
        long count;
        if (mode == PartitionLoadMode.Map)
        {
            var mapped = MappedArray<float>.OpenSegmented(path, FeatureSegmentFloats);
            mappings.Add(mapped.Mapping);
            (segments, rowsPerSegment, count, width) = (mapped.Segments, mapped.RowsPerSegment, mapped.Count, mapped.RowWidth);
        }
        else
        {
            (segments, rowsPerSegment, count, width) = MappedArray<float>.ReadAllSegmented(path, FeatureSegmentFloats);
        }
        if (width != dim) throw new PartitionStoreException(path, $"has rows of {width}; the manifest says {dim}.");
        if (count != (long)rows * dim)
            throw new PartitionStoreException(path, $"holds {count} elements; the manifest and book call for {(long)rows * dim}.");
        return segments.Length == 1 ? new FeatureSlab(rows, dim, segments[0]) : new FeatureSlab(rows, dim, segments, rowsPerSegment);
    }

    private static ReadOnlyMemory<T> Load<T>(string path, PartitionLoadMode mode, List<IDisposable> mappings, long expected, out int rowWidth)
        where T : unmanaged
    {
        ReadOnlyMemory<T> memory;
        if (mode == PartitionLoadMode.Map)
        {
            var mapped = MappedArray<T>.Open(path);
            mappings.Add(mapped);
            memory = mapped.Memory;
            rowWidth = mapped.RowWidth;
        }
        else
        {
            var (data, width) = MappedArray<T>.ReadAll(path);
            memory = data;
            rowWidth = width;
        }
        if (expected >= 0 && memory.Length != expected)
            throw new PartitionStoreException(path, $"holds {memory.Length} elements; the manifest and book call for {expected}.");
        return memory;
    }
}
