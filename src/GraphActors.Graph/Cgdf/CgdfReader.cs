// Streams a CGDF directory chunk by chunk (one Parquet row group each): the partitioner's input.
using GraphActors.Contracts;
using GraphActors.Graph.Tables;
using Parquet;

namespace GraphActors.Graph.Cgdf;

/// <summary>
/// Nodes of one type, one row group: rows are consecutive dense ids starting at <see cref="FirstDenseId"/>
/// (CGDF writes nodes in dense order), global id = type's global_id_start + dense id.
/// </summary>
public sealed class CgdfNodeChunk
{
    public required string Type { get; init; }
    public required int Count { get; init; }
    public required int Dim { get; init; }
    public required long FirstDenseId { get; init; }
    public required long[] GlobalIds { get; init; }
    /// <summary>The business ids (<c>node_id</c>).</summary>
    public required long[] NodeIds { get; init; }
    /// <summary>Count × Dim, row-major.</summary>
    public required float[] Features { get; init; }
    public required int[] Labels { get; init; }
    /// <summary>Null when the type has no masks.</summary>
    public bool[]? Train { get; init; }
    public bool[]? Val { get; init; }
    public bool[]? Test { get; init; }

    public ReadOnlySpan<float> FeaturesOf(int row) => Features.AsSpan(row * Dim, Dim);
}

/// <summary>
/// Edges of one canonical type, one row group. <see cref="Src"/>/<see cref="Dst"/> are per-type DENSE ids
/// (0..count-1 of the source/destination node type); add <see cref="SrcGlobalStart"/>/<see cref="DstGlobalStart"/>
/// for global ids (the file stores global ids; the reader subtracts the range start and checks the range).
/// </summary>
public sealed class CgdfEdgeChunk
{
    public required CanonicalEdgeType Type { get; init; }
    public required int Count { get; init; }
    public required int[] Src { get; init; }
    public required int[] Dst { get; init; }
    public required float[] Weights { get; init; }
    public required long SrcGlobalStart { get; init; }
    public required long DstGlobalStart { get; init; }

    public long GlobalSrc(int i) => SrcGlobalStart + Src[i];
    public long GlobalDst(int i) => DstGlobalStart + Dst[i];
}

/// <summary>Reads a CGDF directory. Memory per call: one row group of one type.</summary>
public sealed class CgdfReader
{
    private CgdfReader(string directory, CgdfMetadata metadata)
    {
        Directory = directory;
        Metadata = metadata;
    }

    public string Directory { get; }
    public CgdfMetadata Metadata { get; }

    public static CgdfReader Open(string directory) => new(directory, CgdfMetadata.Load(directory));

    public IEnumerable<CgdfNodeChunk> ReadNodes(string nodeType)
    {
        var meta = Metadata.Node(nodeType);
        var expectedDense = 0L;
        foreach (var path in CgdfLayout.PartFiles(CgdfLayout.NodeDirectory(Directory, nodeType)))
        {
            var reader = OpenParquet(path);
            var pages = new FloatListPages(path);
            try
            {
                var schema = reader.Schema;
                var gid = Leaf(schema, path, CgdfLayout.GlobalNodeId);
                var nid = Leaf(schema, path, CgdfLayout.NodeId);
                var fv = Leaf(schema, path, CgdfLayout.FeatureVec);
                var lab = Leaf(schema, path, CgdfLayout.Label);
                var tr = meta.HasMasks ? Leaf(schema, path, CgdfLayout.TrainMask) : null;
                var va = meta.HasMasks ? Leaf(schema, path, CgdfLayout.ValMask) : null;
                var te = meta.HasMasks ? Leaf(schema, path, CgdfLayout.TestMask) : null;
                for (var g = 0; g < reader.RowGroupCount; g++)
                {
                    var rg = reader.OpenRowGroupReader(g);
                    var rows = checked((int)rg.RowCount);
                    var globals = ParquetColumns.ReadAsync<long>(rg, gid, rows).GetAwaiter().GetResult();
                    var lists = pages.Read(rg, fv, rows, reuseValues: false);
                    if (lists.Values.Length != (long)rows * meta.FeatureDim)
                        throw new GraphInputException(path, 0, CgdfLayout.FeatureVec, $"row group {g}: {lists.Values.Length} floats for {rows} rows of dim {meta.FeatureDim}.");
                    if (rows > 0 && globals[0] != meta.GlobalIdStart + expectedDense)
                        throw new GraphInputException(path, 0, CgdfLayout.GlobalNodeId, $"row group {g} starts at global id {globals[0]}, expected {meta.GlobalIdStart + expectedDense} (nodes must be in dense order).");
                    var chunk = new CgdfNodeChunk
                    {
                        Type = nodeType,
                        Count = rows,
                        Dim = meta.FeatureDim,
                        FirstDenseId = expectedDense,
                        GlobalIds = globals,
                        NodeIds = ParquetColumns.ReadAsync<long>(rg, nid, rows).GetAwaiter().GetResult(),
                        Features = lists.Values,
                        Labels = ParquetColumns.ReadAsync(rg, lab, rows, -1).GetAwaiter().GetResult(),
                        Train = tr is null ? null : ParquetColumns.ReadAsync<bool>(rg, tr, rows).GetAwaiter().GetResult(),
                        Val = va is null ? null : ParquetColumns.ReadAsync<bool>(rg, va, rows).GetAwaiter().GetResult(),
                        Test = te is null ? null : ParquetColumns.ReadAsync<bool>(rg, te, rows).GetAwaiter().GetResult(),
                    };
                    CheckLabels(chunk.Labels, rows, meta, path, g);
                    expectedDense += rows;
                    yield return chunk;
                }
            }
            finally
            {
                pages.Dispose();
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        if (expectedDense != meta.Count)
            throw new GraphInputException(CgdfLayout.NodeDirectory(Directory, nodeType), 0, null, $"holds {expectedDense} nodes; metadata says {meta.Count}.");
    }

    public IEnumerable<CgdfEdgeChunk> ReadEdges(CanonicalEdgeType type)
    {
        var meta = Metadata.Edge(type);
        var src = Metadata.Node(type.Src.Name);
        var dst = Metadata.Node(type.Dst.Name);
        var seen = 0L;
        foreach (var path in CgdfLayout.PartFiles(CgdfLayout.EdgeDirectory(Directory, type)))
        {
            var reader = OpenParquet(path);
            try
            {
                var s = Leaf(reader.Schema, path, CgdfLayout.Src);
                var d = Leaf(reader.Schema, path, CgdfLayout.Dst);
                var w = Leaf(reader.Schema, path, CgdfLayout.EdgeWeight);
                for (var g = 0; g < reader.RowGroupCount; g++)
                {
                    var rg = reader.OpenRowGroupReader(g);
                    var rows = checked((int)rg.RowCount);
                    var chunk = new CgdfEdgeChunk
                    {
                        Type = type,
                        Count = rows,
                        Src = ToDense(ParquetColumns.ReadAsync<long>(rg, s, rows).GetAwaiter().GetResult(), src, path, CgdfLayout.Src),
                        Dst = ToDense(ParquetColumns.ReadAsync<long>(rg, d, rows).GetAwaiter().GetResult(), dst, path, CgdfLayout.Dst),
                        Weights = ParquetColumns.ReadAsync(rg, w, rows, 1f).GetAwaiter().GetResult(),
                        SrcGlobalStart = src.GlobalIdStart,
                        DstGlobalStart = dst.GlobalIdStart,
                    };
                    seen += rows;
                    yield return chunk;
                }
            }
            finally
            {
                reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }
        }
        if (seen != meta.Count)
            throw new GraphInputException(CgdfLayout.EdgeDirectory(Directory, type), 0, null, $"holds {seen} edges; metadata says {meta.Count}.");
    }

    /// <summary>A CGDF written before labels were validated may hold −7 or a label past label_count: say so here, not in libtorch.</summary>
    private static void CheckLabels(int[] labels, int rows, CgdfNodeType meta, string path, int rowGroup)
    {
        for (var i = 0; i < rows; i++)
        {
            var l = labels[i];
            if (l < -1 || l >= meta.LabelCount && l != -1)
                throw new GraphInputException($"{path}, row group {rowGroup}, row {i}", 0, CgdfLayout.Label,
                    $"node type '{meta.Name}' has label {l}, outside [-1, {meta.LabelCount}) (label_count in metadata.json).");
        }
    }

    private static ParquetReader OpenParquet(string path)
    {
        try
        {
            return ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new GraphInputException(path, 0, null, $"not a readable Parquet file: {e.Message}", e);
        }
    }

    private static int[] ToDense(long[] global, CgdfNodeType type, string path, string field)
    {
        var dense = new int[global.Length];
        var start = type.GlobalIdStart;
        var count = (ulong)type.Count;
        for (var i = 0; i < global.Length; i++)
        {
            var d = global[i] - start;
            if ((ulong)d >= count)
                throw new GraphInputException(path, 0, field, $"global id {global[i]} is outside {type.Name}'s range [{type.GlobalIdStart}, {type.GlobalIdEnd}).");
            dense[i] = (int)d;
        }
        return dense;
    }

    private static Parquet.Schema.DataField Leaf(Parquet.Schema.ParquetSchema schema, string path, string column) =>
        ParquetColumns.Leaf(schema, column) ?? throw new GraphInputException(path, 0, column, "missing column.");
}
