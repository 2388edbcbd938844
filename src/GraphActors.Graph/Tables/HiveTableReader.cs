// Streams Hive-layout tables one row group at a time, columns as read (nulls kept for the caller to judge).
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tables;

/// <summary>Where a batch came from: enough to name a bad row precisely.</summary>
public readonly record struct BatchOrigin(string Table, string File, int RowGroup, long FirstRowInFile)
{
    /// <summary>A bad-row location: <c>table 't', file 'f', row group g, row r</c> (r 0-based within the row group).</summary>
    public string Describe(int row) => $"table '{Table}', file '{File}', row group {RowGroup}, row {row}";
}

public sealed class HiveNodeBatch
{
    public required BatchOrigin Origin { get; init; }
    public required int Rows { get; init; }
    public required NullableColumn<long> Ids { get; init; }
    public required FloatLists Features { get; init; }
    public required NullableColumn<int> Labels { get; init; }
    /// <summary>Null when the table has no mask columns; a null entry reads as false.</summary>
    public bool?[]? Train { get; init; }
    public bool?[]? Val { get; init; }
    public bool?[]? Test { get; init; }
}

public sealed class HiveEdgeBatch
{
    public required BatchOrigin Origin { get; init; }
    public required int Rows { get; init; }
    public required NullableColumn<long> Src { get; init; }
    public required NullableColumn<long> Dst { get; init; }
    public required CategoryColumn SrcType { get; init; }
    public required CategoryColumn DstType { get; init; }
    /// <summary>A null weight reads as 1.</summary>
    public required NullableColumn<float> Weights { get; init; }
}

/// <summary>A column of one row group read as values and null marks (row i is null when <c>IsNull[i]</c>).</summary>
public readonly record struct NullableColumn<T>(T[] Values, bool[] IsNull) where T : struct
{
    public T? this[int row] => IsNull[row] ? null : Values[row];
}

/// <summary>A string column of one row group read as codes into its distinct values (−1 for null).</summary>
public readonly record struct CategoryColumn(int[] Codes, Categories Names)
{
    public string? this[int row] => Codes[row] < 0 ? null : Names[Codes[row]];
}

/// <summary>
/// The arrays of an edge batch, handed from one row group to the next by a caller that is done with a batch before it
/// asks for the next, so they are allocated once per run instead of once per row group.
/// </summary>
internal sealed class EdgeBatchArrays
{
    public long[] Src = [], Dst = [];
    public bool[] SrcNull = [], DstNull = [], WeightNull = [];
    public int[] SrcType = [], DstType = [];
    public float[] Weights = [];

    public void Ensure(int rows)
    {
        if (Src.Length >= rows) return;
        Src = new long[rows]; Dst = new long[rows];
        SrcNull = new bool[rows]; DstNull = new bool[rows]; WeightNull = new bool[rows];
        SrcType = new int[rows]; DstType = new int[rows];
        Weights = new float[rows];
    }
}

/// <summary>
/// Reads one table partition file by file, row group by row group, so memory holds one row group.
/// A file that is not Parquet or lacks a required column fails with a <see cref="GraphInputException"/>
/// naming table, file and column.
/// </summary>
public static class HiveTableReader
{
    public static IEnumerable<HiveNodeBatch> ReadNodes(HiveTablePartition table)
    {
        RequirePartition(table);
        return table.Files.SelectMany(f => ReadNodeFile(table, f));
    }

    public static IEnumerable<HiveEdgeBatch> ReadEdges(HiveTablePartition table)
    {
        RequirePartition(table);
        return table.Files.SelectMany(f => ReadEdgeFile(table, f));
    }

    /// <summary>The row groups of one file of <paramref name="table"/> (a path from <see cref="HiveTablePartition.Files"/>).</summary>
    public static IEnumerable<HiveNodeBatch> ReadNodeFile(HiveTablePartition table, string path) => ReadNodeFile(table, path, null);

    /// <summary>
    /// As <see cref="ReadNodeFile(HiveTablePartition, string)"/>; with <paramref name="reuse"/> every batch's feature
    /// values live in those buffers, overwritten by the next batch read with them: for a caller that is done with a
    /// batch before it asks for the next (the buffers then fault in once for a whole run, not once per file).
    /// </summary>
    internal static IEnumerable<HiveNodeBatch> ReadNodeFile(HiveTablePartition table, string path, PageBuffers? reuse)
    {
        var (file, reader) = Open(table, path);
        using (reader)
        using (var pages = new FloatListPages(path, reuse))
        using (var flat = new FlatColumnPages(path, reuse))
        {
            var schema = reader.Reader.Schema;
            var id = Require(table, file, schema, HiveLayout.NodeId);
            var features = Require(table, file, schema, HiveLayout.FeatureVec);
            var label = Require(table, file, schema, HiveLayout.Label);
            var train = ParquetColumns.Leaf(schema, HiveLayout.TrainMask);
            var val = ParquetColumns.Leaf(schema, HiveLayout.ValMask);
            var test = ParquetColumns.Leaf(schema, HiveLayout.TestMask);
            if (features.MaxRepetitionLevel != 1 || features.ClrType != typeof(float))
                throw new GraphInputException(Where(table, file), 0, HiveLayout.FeatureVec, $"must be LIST<FLOAT>, the file has {features.ClrType.Name} (repetition {features.MaxRepetitionLevel}).");
            foreach (var batch in RowGroups(table, file, reader, (rg, rows, origin) =>
                new HiveNodeBatch
                {
                    Origin = origin,
                    Rows = rows,
                    Ids = Column<long>(flat, rg, id, rows),
                    Features = pages.Read(rg, features, rows, reuseValues: reuse is not null),
                    Labels = Column<int>(flat, rg, label, rows),
                    Train = train is null ? null : ParquetColumns.ReadNullableAsync<bool>(rg, train, rows).GetAwaiter().GetResult(),
                    Val = val is null ? null : ParquetColumns.ReadNullableAsync<bool>(rg, val, rows).GetAwaiter().GetResult(),
                    Test = test is null ? null : ParquetColumns.ReadNullableAsync<bool>(rg, test, rows).GetAwaiter().GetResult(),
                }, b => b.Rows))
                yield return batch;
        }
    }

    private static NullableColumn<T> Column<T>(FlatColumnPages pages, ParquetRowGroupReader rg, DataField field, int rows) where T : unmanaged
    {
        var column = new NullableColumn<T>(new T[rows], new bool[rows]);
        pages.Read(rg, field, rows, column.Values, column.IsNull);
        return column;
    }

    public static IEnumerable<HiveEdgeBatch> ReadEdgeFile(HiveTablePartition table, string path) => ReadEdgeFile(table, path, null, null);

    /// <summary>
    /// As <see cref="ReadEdgeFile(HiveTablePartition, string)"/>; with <paramref name="reuse"/> every batch lives in
    /// those arrays (and pages in <paramref name="pages"/>), overwritten by the next batch read with them.
    /// </summary>
    internal static IEnumerable<HiveEdgeBatch> ReadEdgeFile(HiveTablePartition table, string path, EdgeBatchArrays? reuse, PageBuffers? pages)
    {
        var (file, reader) = Open(table, path);
        using (reader)
        using (var columns = new FlatColumnPages(path, pages))
        {
            var schema = reader.Reader.Schema;
            var src = Require(table, file, schema, HiveLayout.SrcNodeId);
            var dst = Require(table, file, schema, HiveLayout.DstNodeId);
            var srcType = Require(table, file, schema, HiveLayout.SrcType);
            var dstType = Require(table, file, schema, HiveLayout.DstType);
            var weight = ParquetColumns.Leaf(schema, HiveLayout.EdgeWeight);
            var types = new Categories(); // src_type and dst_type share one table: the same name is one string
            foreach (var batch in RowGroups(table, file, reader, (rg, rows, origin) =>
            {
                var a = reuse ?? new EdgeBatchArrays();
                a.Ensure(rows);
                columns.Read(rg, src, rows, a.Src, a.SrcNull);
                columns.Read(rg, dst, rows, a.Dst, a.DstNull);
                columns.ReadCategories(rg, srcType, rows, a.SrcType, types);
                columns.ReadCategories(rg, dstType, rows, a.DstType, types);
                if (weight is null) a.WeightNull.AsSpan(0, rows).Fill(true);
                else columns.Read(rg, weight, rows, a.Weights, a.WeightNull);
                return new HiveEdgeBatch
                {
                    Origin = origin,
                    Rows = rows,
                    Src = new NullableColumn<long>(a.Src, a.SrcNull),
                    Dst = new NullableColumn<long>(a.Dst, a.DstNull),
                    SrcType = new CategoryColumn(a.SrcType, types),
                    DstType = new CategoryColumn(a.DstType, types),
                    Weights = new NullableColumn<float>(a.Weights, a.WeightNull),
                };
            }, b => b.Rows))
                yield return batch;
        }
    }

    /// <summary>
    /// The class names of a <c>labels_&lt;type&gt;</c> partition, indexed by label: every row's label must be in
    /// [0, <paramref name="maxClasses"/>) and appear once, every name be non-empty, and the labels cover 0..n-1 without a
    /// gap. A bad row fails naming table, file, row and field (names are metadata: there is no skipping them).
    /// </summary>
    public static string[] ReadLabelNames(HiveTablePartition table, int maxClasses)
    {
        RequirePartition(table);
        var names = new Dictionary<int, string>();
        foreach (var path in table.Files)
        {
            var (file, reader) = Open(table, path);
            using (reader)
            {
                var schema = reader.Reader.Schema;
                var label = Require(table, file, schema, HiveLayout.Label);
                var name = Require(table, file, schema, HiveLayout.LabelName);
                var rows = RowGroups(table, file, reader, (rg, n, origin) => (Origin: origin,
                    Labels: ParquetColumns.ReadNullableAsync<int>(rg, label, n).GetAwaiter().GetResult(),
                    Names: ParquetColumns.ReadStringsAsync(rg, name, n).GetAwaiter().GetResult()), b => b.Labels.Length);
                foreach (var (origin, labels, texts) in rows)
                {
                    for (var i = 0; i < labels.Length; i++)
                    {
                        string Where() => origin.Describe(i);
                        if (labels[i] is not { } l || l < 0 || l >= maxClasses)
                            throw new GraphInputException(Where(), 0, HiveLayout.Label, $"{(labels[i]?.ToString() ?? "null")} is not a class in [0, {maxClasses}) (--max-classes).");
                        if (string.IsNullOrEmpty(texts[i]))
                            throw new GraphInputException(Where(), 0, HiveLayout.LabelName, $"class {l} has no name.");
                        if (!names.TryAdd(l, texts[i]!))
                            throw new GraphInputException(Where(), 0, HiveLayout.Label, $"class {l} is named twice ('{names[l]}' and '{texts[i]}').");
                    }
                }
            }
        }
        var result = new string[names.Count];
        for (var l = 0; l < result.Length; l++)
        {
            if (!names.TryGetValue(l, out var n))
                throw new GraphInputException($"table '{table.Table}'", 0, HiveLayout.Label, $"{names.Count} classes named but class {l} has no row: labels must be 0..{names.Count - 1}.");
            result[l] = n;
        }
        return result;
    }

    /// <summary>Checks the table has the partition; throws naming the partitions it does have.</summary>
    public static void RequirePartition(HiveTablePartition table)
    {
        if (Directory.Exists(table.Directory)) return;
        var have = HiveLayout.PartitionsOf(table.Root, table.Table);
        throw new GraphInputException($"table '{table.Table}'", 0, "dt",
            $"no partition dt={table.Dt} (has: {(have.Count == 0 ? "none" : string.Join(", ", have))}).");
    }

    private sealed class OpenReader(ParquetReader reader) : IDisposable
    {
        public ParquetReader Reader { get; } = reader;
        public void Dispose() => Reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static (string File, OpenReader Reader) Open(HiveTablePartition table, string path)
    {
        var file = Path.GetRelativePath(table.Root, path);
        try
        {
            return (file, new OpenReader(ParquetReader.CreateAsync(path).GetAwaiter().GetResult()));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new GraphInputException(Where(table, file), 0, null, $"not a readable Parquet file: {e.Message}", e);
        }
    }

    /// <summary>
    /// One batch per row group of an open file, in order, each read by <paramref name="read"/> under <see cref="Guard"/>;
    /// the origin carries the row number of the group's first row.
    /// </summary>
    private static IEnumerable<T> RowGroups<T>(HiveTablePartition table, string file, OpenReader reader,
        Func<ParquetRowGroupReader, int, BatchOrigin, T> read, Func<T, int> rowsOf)
    {
        long first = 0;
        for (var g = 0; g < reader.Reader.RowGroupCount; g++)
        {
            var origin = new BatchOrigin(table.Table, file, g, first);
            var group = g;
            var batch = Guard(origin, () =>
            {
                var rg = reader.Reader.OpenRowGroupReader(group);
                return read(rg, checked((int)rg.RowCount), origin);
            });
            first += rowsOf(batch);
            yield return batch;
        }
    }

    private static T Guard<T>(BatchOrigin origin, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is not GraphInputException and not OutOfMemoryException)
        {
            throw new GraphInputException($"table '{origin.Table}', file '{origin.File}', row group {origin.RowGroup}", 0, null,
                $"unreadable row group: {e.Message}", e);
        }
    }

    private static DataField Require(HiveTablePartition table, string file, ParquetSchema schema, string column) =>
        ParquetColumns.Leaf(schema, column)
        ?? throw new GraphInputException(Where(table, file), 0, column,
            $"missing column (the file has: {string.Join(", ", schema.Fields.Select(f => f.Name))}).");

    private static string Where(HiveTablePartition table, string file) => $"table '{table.Table}', file '{file}'";
}
