// The offline partitioning step: source → assignment → relabelling → partition store on disk.
using System.Diagnostics;
using System.Runtime.InteropServices;
using GraphActors.Contracts;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Partitioning;

public sealed record PartitionOptions(string OutputDirectory, int Parts, string Method = HashPartitioner.MethodName)
{
    public MetisOptions Metis { get; init; } = new();

    /// <summary>The split given to labelled node types whose source has no masks.</summary>
    public MaskSplit Split { get; init; } = new();

    /// <summary>Replace an existing store at <see cref="OutputDirectory"/> (only once the new one is complete).</summary>
    public bool Overwrite { get; init; }

    /// <summary>Called with a short progress line per phase (the CLI prints them).</summary>
    public Action<string>? Progress { get; init; }

    /// <summary>
    /// The most entries one partition may hold per edge type and direction; null = what the partition loader can
    /// address (one span, 2^31 − 1). Tests lower it.
    /// </summary>
    public long? MaxEdgesPerPartition { get; init; }
}

/// <summary>
/// Partitions a graph into a store that partition actors memory-map. Memory: the node ids, labels and masks (13 bytes
/// per node) and the old → new id maps (4 per node) are resident. Edges are streamed (<see cref="EdgeRuns"/>): one
/// pass per edge type writes each edge into run files of the partitions owning its ends, then each partition's CSR is
/// built from its run alone, so the resident part is one partition's share of one direction (8 bytes per edge), and a
/// type's edge count is bounded by disk (24 bytes per edge, temporary), not by memory or an int. METIS is the
/// exception: it needs the symmetrised graph at once, so with <c>--method metis</c> the edge lists (12 bytes per edge)
/// are resident and a type takes at most 2^31 − 1 edges. Features are never resident: a second pass over the nodes
/// writes each row straight into its partition's slab file at its row offset. Everything is written under a temporary
/// directory next to the output, renamed into place when complete; a failure deletes it, so no half-written store is
/// ever visible.
/// </summary>
public static partial class GraphPartitioner
{
    public static PartitionReport Run(IPartitionSource source, PartitionOptions options)
    {
        Validate(source, options);
        return Write(options, (temp, Phase) =>
        {
            var nodeInfo = source.NodeTypes.ToDictionary(n => n.Type);
            foreach (var e in source.EdgeTypes)
                if (!nodeInfo.ContainsKey(e.Type.Src) || !nodeInfo.ContainsKey(e.Type.Dst))
                    throw new GraphInputException($"edge type {e.Type}", 0, null, "names a node type the source does not declare.");
            var nodes = source.NodeTypes.Select(n => NodeTable.Read(source, n, options.Split)).ToArray();
            // METIS needs the whole structure at once (and takes at most 2^31 - 1 adjacency entries anyway); hash
            // needs none of it, so its edges are only ever streamed.
            var edges = options.Method == MetisPartitioner.MethodName
                ? source.EdgeTypes.Select(e => EdgeList.Read(source, e, nodeInfo[e.Type.Src].Count, nodeInfo[e.Type.Dst].Count)).ToList()
                : null;
            Phase(edges is null ? "read nodes" : "read structure");

            var assignment = options.Method switch
            {
                HashPartitioner.MethodName => new PartitionAssignment(HashPartitioner.MethodName, options.Parts,
                    nodes.ToDictionary(t => t.Type, t => t.Business.Select(b => HashPartitioner.PartitionOf(b, options.Parts)).ToArray())),
                MetisPartitioner.MethodName => MetisPartitioner.Assign(nodes, edges!, options.Parts, options.Metis),
                _ => throw new ArgumentException($"Unknown partitioning method '{options.Method}'; use hash or metis."),
            };
            Phase($"assign ({assignment.Method})");

            var (book, newIds) = Relabeling.Relabel(assignment);
            assignment = null;
            var files = NewFileLists(options.Parts);
            var counts = WriteEdges(source, temp, book, newIds, edges, options, files);
            Phase("write edges");
            foreach (var table in nodes)
            {
                var business = new long[table.Count];
                var split = new byte[table.Count];
                var labels = table.Labels.Length > 0 ? new int[table.Count] : [];
                var ids = newIds[table.Type];
                for (var v = 0; v < table.Count; v++)
                {
                    var id = ids[v];
                    business[id] = table.Business[v];
                    split[id] = table.Split[v];
                    if (labels.Length > 0) labels[id] = table.Labels[v];
                }
                for (var p = 0; p < book.Parts; p++)
                    WritePartitionNodeColumns(StoreLayout.NodeDir(PartTemp(temp, p), table.Type), table.Type, book.For(table.Type).Part(p), business, labels, split);
            }
            Phase("write ids, labels, masks");
            foreach (var table in nodes)
                if (table.Info.FeatureDim > 0) WriteFeatures(source, temp, table.Info, book, newIds[table.Type]);
            Phase("write features");
            if (source.NodeTypes.Any(n => n.Columns.Any))
            {
                foreach (var info in source.NodeTypes)
                    if (info.Columns.Any) WriteNodeColumns(source, temp, info, book, newIds[info.Type], files);
                Phase("write node columns");
            }

            return Manifest(options.Method, options.Parts, options.Method == MetisPartitioner.MethodName ? options.Metis.Seed : 0,
                source.NodeTypes.Select(n => new ManifestNodeType(n.Type.Name, n.Count, n.FeatureDim, n.LabelCount, n.HasMasks)
                {
                    Columns = n.Columns.Any || n.Columns.Masks is not null ? n.Columns : null,
                }).ToArray(),
                source.EdgeTypes, book, counts, source.NodeTypes.Any(n => n.LabelCount > 0 && !n.HasMasks) ? options.Split : null, files);
        });
    }

    /// <summary>
    /// The frame of every store write: a temporary directory beside the output holding part-&lt;i&gt;.tmp folders,
    /// <paramref name="build"/> filling it and returning the manifest, then the rename into place. A failure deletes the
    /// temporary directory, so no half-written store is ever visible.
    /// </summary>
    private static PartitionReport Write(PartitionOptions options, Func<string, Action<string>, StoreManifest> build)
    {
        var total = Stopwatch.StartNew();
        var output = Path.GetFullPath(options.OutputDirectory);
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() && !options.Overwrite)
            throw new IOException($"{output} exists and is not empty; choose another --out or allow overwriting.");
        var parent = Path.GetDirectoryName(output)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(output)}.tmp-{Guid.NewGuid():N}");
        var phases = new List<(string, TimeSpan)>();
        var sw = Stopwatch.StartNew();
        void Phase(string name)
        {
            phases.Add((name, sw.Elapsed));
            options.Progress?.Invoke($"{name}: {sw.Elapsed.TotalSeconds:F2} s");
            sw.Restart();
        }

        try
        {
            for (var p = 0; p < options.Parts; p++) Directory.CreateDirectory(PartTemp(temp, p));
            var manifest = build(temp, Phase);
            manifest.Save(Path.Combine(temp, StoreManifest.FileName));
            for (var p = 0; p < options.Parts; p++) Directory.Move(PartTemp(temp, p), StoreLayout.PartitionDir(temp, p));

            if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
            Directory.Move(temp, output);
            Phase("finish");
            return PartitionReport.From(manifest, total.Elapsed, phases);
        }
        catch
        {
            try { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
            catch (IOException) { /* best effort: the original error matters more */ }
            throw;
        }
    }

    private sealed record EdgeCounts(Dictionary<string, long>[] Out, Dictionary<string, long>[] In, Dictionary<string, long>[] Cut);

    /// <summary>Per partition, the column files written so far (path under the partition folder → length and sha256).</summary>
    private static SortedDictionary<string, ManifestFile>[] NewFileLists(int parts)
    {
        var files = new SortedDictionary<string, ManifestFile>[parts];
        for (var p = 0; p < parts; p++) files[p] = new SortedDictionary<string, ManifestFile>(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Every edge type through <see cref="EdgeRuns"/> into each partition's CSRs (<paramref name="edges"/>: METIS's resident lists, else streamed).</summary>
    private static EdgeCounts WriteEdges(IPartitionSource source, string temp, PartitionBook book, IReadOnlyDictionary<NodeType, int[]> newIds,
        List<EdgeList>? edges, PartitionOptions options, IReadOnlyList<IDictionary<string, ManifestFile>>? files = null)
    {
        var parts = book.Parts;
        var counts = new EdgeCounts(new Dictionary<string, long>[parts], new Dictionary<string, long>[parts], new Dictionary<string, long>[parts]);
        for (var p = 0; p < parts; p++) { counts.Out[p] = []; counts.In[p] = []; counts.Cut[p] = []; }
        var runDir = Path.Combine(temp, "edge-runs");
        for (var i = 0; i < source.EdgeTypes.Count; i++)
        {
            var info = source.EdgeTypes[i];
            var list = edges?[i];
            // METIS's resident lists hold structure only: a type with columns is read from the source again for them.
            Func<IEnumerable<EdgeChunk>> read = list is null || info.Columns.Any ? () => source.ReadEdges(info.Type) : () => list.Chunks();
            var perPart = EdgeRuns.Write(info.Type, read, info.Count, book, newIds, p => PartTemp(temp, p), runDir, options.Progress,
                options.MaxEdgesPerPartition ?? -1, columns: info.Columns, files: files);
            for (var p = 0; p < parts; p++)
            {
                counts.Out[p][info.Type.DirectoryName] = perPart[p].Out;
                counts.In[p][info.Type.DirectoryName] = perPart[p].In;
                counts.Cut[p][info.Type.DirectoryName] = perPart[p].Cut;
            }
            if (edges is not null) edges[i] = null!; // the structure of this type is on disk now
        }
        if (Directory.Exists(runDir)) Directory.Delete(runDir, recursive: true);
        return counts;
    }

    private static StoreManifest Manifest(string method, int parts, int seed, ManifestNodeType[] nodeTypes, IReadOnlyList<SourceEdgeType> edgeTypes,
        PartitionBook book, EdgeCounts counts, MaskSplit? split, IReadOnlyList<IReadOnlyDictionary<string, ManifestFile>>? files = null)
    {
        var later = nodeTypes.Where(n => book.For(new NodeType(n.Name)).GenerationCount > 1).ToDictionary(n => n.Name, n =>
        {
            var b = book.For(new NodeType(n.Name));
            return Enumerable.Range(1, b.GenerationCount - 1).Select(g => b.Generation(g).ToArray()).ToArray();
        });
        return new StoreManifest(
            later.Count > 0 ? StoreManifest.GenerationsVersion : StoreManifest.CurrentVersion, method, parts, seed, nodeTypes,
            edgeTypes.Select(e => new ManifestEdgeType(e.Type.Src.Name, e.Type.Relation, e.Type.Dst.Name, e.Count)
            {
                Columns = e.Columns == EdgeColumns.None ? null : e.Columns,
            }).ToArray(),
            nodeTypes.ToDictionary(n => n.Name, n => book.For(new NodeType(n.Name)).Generation(0).ToArray()),
            Enumerable.Range(0, parts).Select(p => new ManifestPartition(p,
                nodeTypes.ToDictionary(n => n.Name, n => book.Count(new NodeType(n.Name), p)),
                counts.Out[p], counts.In[p], counts.Cut[p])
            {
                Files = files is not null && files[p].Count > 0 ? files[p] : null,
            }).ToArray(),
            split) { Generations = later };
    }

    /// <summary>
    /// Refuses options that cannot give a useful store before anything is read or written. More partitions than nodes
    /// would leave partitions that own nothing (each still costs a directory and ~30 files, and a partition actor with
    /// nothing to serve); METIS itself cannot bisect below one vertex per part.
    /// </summary>
    private static void Validate(IPartitionSource source, PartitionOptions options)
    {
        if (options.Method is not (HashPartitioner.MethodName or MetisPartitioner.MethodName))
            throw new BadInputException($"--method: '{options.Method}' is not hash or metis.");
        var nodes = source.NodeTypes.Sum(n => (long)n.Count);
        if (nodes == 0) throw new BadInputException("the graph has no nodes: nothing to partition.");
        if (options.Parts < 1 || options.Parts > nodes)
            throw new BadInputException($"--parts {options.Parts}: must be between 1 and the graph's node count ({nodes:N0}); more parts than nodes leaves partitions that own nothing.");
        var s = options.Split;
        double[] f = [s.Train, s.Val, s.Test];
        if (f.Any(x => !double.IsFinite(x) || x < 0 || x > 1) || f.Sum() > 1 + 1e-9)
            throw new BadInputException($"--split {s.Train}/{s.Val}/{s.Test}: each fraction must be in [0, 1] and train + val + test at most 1.");
    }

    private static string PartTemp(string temp, int p) => Path.Combine(temp, $"part-{p}.tmp");

    /// <summary>
    /// One partition's node columns of one type: business ids, labels and masks in its row order (its ranges one after
    /// another), and the sorted business → id lookup. <paramref name="business"/>, <paramref name="labels"/> and
    /// <paramref name="split"/> are indexed by id.
    /// </summary>
    internal static void WritePartitionNodeColumns(string dir, NodeType type, PartRows rows, ReadOnlySpan<long> business, ReadOnlySpan<int> labels,
        ReadOnlySpan<byte> split)
    {
        var count = rows.Count;
        Directory.CreateDirectory(dir);
        var own = new long[count];
        var ownLabels = labels.Length > 0 ? new int[count] : [];
        var ownSplit = new byte[count];
        var ids = new int[count];
        for (var r = 0; r < rows.RangeCount; r++)
        {
            var (firstId, firstRow, n) = rows.Range(r);
            business.Slice(firstId, n).CopyTo(own.AsSpan(firstRow));
            if (labels.Length > 0) labels.Slice(firstId, n).CopyTo(ownLabels.AsSpan(firstRow));
            split.Slice(firstId, n).CopyTo(ownSplit.AsSpan(firstRow));
            for (var i = 0; i < n; i++) ids[firstRow + i] = firstId + i;
        }
        StoreFile.Write<long>(Path.Combine(dir, StoreLayout.BusinessIds), own);
        if (labels.Length > 0) StoreFile.Write<int>(Path.Combine(dir, StoreLayout.Labels), ownLabels);
        var mask = new byte[count];
        foreach (var (flag, file) in new[] { (SplitFlags.Train, StoreLayout.TrainMask), (SplitFlags.Val, StoreLayout.ValMask), (SplitFlags.Test, StoreLayout.TestMask) })
        {
            for (var i = 0; i < count; i++) mask[i] = (byte)((ownSplit[i] & (byte)flag) != 0 ? 1 : 0);
            StoreFile.Write<byte>(Path.Combine(dir, file), mask);
        }
        // Business → new id without a rebuild at load: sorted keys and their ids, binary-searched.
        var keys = own;
        Array.Sort(keys, ids);
        for (var i = 1; i < count; i++)
            if (keys[i] == keys[i - 1])
                throw new GraphInputException($"node type '{type}'", 0, "node_id", $"business id {keys[i]} appears twice.");
        StoreFile.Write<long>(Path.Combine(dir, StoreLayout.LookupKeys), keys);
        StoreFile.Write<int>(Path.Combine(dir, StoreLayout.LookupIds), ids);
    }

    /// <summary>
    /// A further node pass for a type with <see cref="NodeColumns"/> (node weights, int and string attributes): each node's
    /// values go to its owner's column runs with the node's local row, then each partition's runs are laid out by row
    /// (<see cref="ColumnRuns"/>). Resident: the row of every node (4 bytes each) and the run buffers.
    /// </summary>
    private static void WriteNodeColumns(IPartitionSource source, string temp, SourceNodeType info, PartitionBook book, int[] newIds,
        IReadOnlyList<IDictionary<string, ManifestFile>> files)
    {
        var layout = ColumnLayout.Of(info.Columns);
        var where = $"node type '{info.Type}'";
        var nodeBook = book.For(info.Type);
        var runDir = Path.Combine(temp, "node-runs");
        Directory.CreateDirectory(runDir);
        var rowOf = new int[book.Parts][];
        for (var p = 0; p < book.Parts; p++) rowOf[p] = new int[nodeBook.Part(p).Count];
        using (var runs = new ColumnRuns(layout, runDir, "nodes", book.Parts, EdgeRuns.BufferBudgetBytes))
        {
            var (ki, ks) = (layout.IntCount, layout.StringCount);
            foreach (var chunk in source.ReadNodes(info.Type))
            {
                var ids = chunk.DenseIds.Span;
                var len = ids.Length;
                string? field = null, problem = null;
                if (layout.Weights && chunk.Weights.Length != len) (field, problem) = ("weight", $"{chunk.Weights.Length} weights");
                else if (chunk.Ints.Length != (long)len * ki) (field, problem) = ("attributes", $"{chunk.Ints.Length} int values, expected {len} × {ki}");
                else if (chunk.Strings.Count != (long)len * ks) (field, problem) = ("attributes", $"{chunk.Strings.Count} string values, expected {len} × {ks}");
                if (field is not null) throw new GraphInputException(where, 0, field, $"a chunk of {len} nodes has {problem}.");
                var weights = chunk.Weights.Span;
                var ints = chunk.Ints.Span;
                for (var i = 0; i < len; i++)
                {
                    var p = nodeBook.LocateUnchecked(newIds[ids[i]], out var row);
                    rowOf[p][(int)runs.Records(p)] = row;
                    runs.Append(p, 0, ints.Slice(i * ki, ki), default, layout.Weights ? weights[i] : 1f, -1, chunk.Strings, i * ks);
                }
            }
            runs.Close();
            for (var p = 0; p < book.Parts; p++)
            {
                var part = PartTemp(temp, p);
                runs.Scatter(p, rowOf[p], StoreLayout.NodeDir(part, info.Type), "", part, files[p], $"{where}, partition {p}");
            }
        }
        Directory.Delete(runDir, recursive: true);
    }

    /// <summary>
    /// The second node pass: each feature row goes to its owner's slab at its row offset. Rows bound for consecutive
    /// ids of one partition are staged and written together (hash interleaves partitions row by row, METIS keeps
    /// communities together), so writes stay large whatever the assignment.
    /// </summary>
    private static void WriteFeatures(IPartitionSource source, string temp, SourceNodeType info, PartitionBook book, int[] newIds)
    {
        // Up to 4,096 rows staged per partition, but never more than ~256 MB over all partitions: with many parts
        // (thousands) of wide rows a fixed stage each would not fit in memory.
        const long stageBudgetFloats = 64L << 20;
        var dim = info.FeatureDim;
        var stageRows = (int)Math.Clamp(stageBudgetFloats / ((long)book.Parts * Math.Max(dim, 1)), 1, 4096);
        var rowBytes = (long)dim * sizeof(float);
        var nodeBook = book.For(info.Type);
        var handles = new Microsoft.Win32.SafeHandles.SafeFileHandle[book.Parts];
        var stage = new float[book.Parts][];
        var stageFirst = new int[book.Parts]; // the first staged row (local to the partition)
        var stageCount = new int[book.Parts];
        void Flush(int p)
        {
            if (stageCount[p] == 0) return;
            RandomAccess.Write(handles[p], MemoryMarshal.AsBytes(stage[p].AsSpan(0, stageCount[p] * dim)),
                StoreFile.HeaderSize + stageFirst[p] * rowBytes);
            stageCount[p] = 0;
        }
        try
        {
            for (var p = 0; p < book.Parts; p++)
            {
                var dir = StoreLayout.NodeDir(PartTemp(temp, p), info.Type);
                handles[p] = StoreFile.CreateForRandomWrites<float>(Path.Combine(dir, StoreLayout.Features), (long)nodeBook.Part(p).Count * dim, dim);
                stage[p] = new float[(long)stageRows * dim];
            }
            foreach (var chunk in source.ReadNodes(info.Type))
            {
                var ids = chunk.DenseIds.Span;
                if (chunk.Features.Length != (long)ids.Length * dim)
                    throw new GraphInputException($"node type '{info.Type}'", 0, "feature_vec", $"chunk of {ids.Length} nodes has {chunk.Features.Length} feature values; expected {ids.Length} × {dim}.");
                var features = chunk.Features.Span;
                for (var i = 0; i < ids.Length; i++)
                {
                    var p = nodeBook.LocateUnchecked(newIds[ids[i]], out var row);
                    if (stageCount[p] == stageRows || (stageCount[p] > 0 && stageFirst[p] + stageCount[p] != row)) Flush(p);
                    if (stageCount[p] == 0) stageFirst[p] = row;
                    features.Slice(i * dim, dim).CopyTo(stage[p].AsSpan(stageCount[p]++ * dim, dim));
                }
            }
            for (var p = 0; p < book.Parts; p++) Flush(p);
        }
        finally
        {
            foreach (var h in handles) h?.Dispose();
        }
    }
}
