using GraphActors.Graph.Tables;
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tests.Etl;

/// <summary>
/// The page-by-page reader of flat columns against Parquet.Net's own read: numbers with nulls (PLAIN, dictionary,
/// BYTE_STREAM_SPLIT) and strings as codes (dictionary and PLAIN), in DuckDB's files and in an edge table of ours.
/// </summary>
public sealed class FlatColumnPagesTests
{
    [Theory]
    [MemberData(nameof(FloatListPagesTests.DuckDbFiles), MemberType = typeof(FloatListPagesTests))]
    public async Task Every_flat_column_of_a_DuckDB_file_reads_as_Parquet_Net_reads_it(string name)
    {
        var path = FloatListPagesTests.Fixture(name);
        await using var reader = await ParquetReader.CreateAsync(path);
        using var pages = new FlatColumnPages(path);
        using var rg = reader.OpenRowGroupReader(0);
        var rows = (int)rg.RowCount;
        Same(await ParquetColumns.ReadNullableAsync<long>(rg, Leaf(reader, "node_id"), rows), Numbers<long>(pages, rg, "node_id", reader, rows), name);
        Same(await ParquetColumns.ReadNullableAsync<float>(rg, Leaf(reader, "weight"), rows), Numbers<float>(pages, rg, "weight", reader, rows), name);
        Same(await ParquetColumns.ReadNullableAsync<int>(rg, Leaf(reader, "label"), rows), Numbers<int>(pages, rg, "label", reader, rows), name);
        foreach (var column in new[] { "kind", "name" })
        {
            var expected = await ParquetColumns.ReadStringsAsync(rg, Leaf(reader, column), rows);
            var names = new Categories();
            var codes = new int[rows];
            pages.ReadCategories(rg, Leaf(reader, column), rows, codes, names);
            for (var i = 0; i < rows; i++) Assert.True(expected[i] == (codes[i] < 0 ? null : names[codes[i]]), $"{name} {column} row {i}");
            Assert.Equal(column == "kind" ? 2 : 1500, names.Count);
        }
        // DuckDB's v1 files are read page by page throughout; its v2 encodings of ids and names (DELTA_*) go to Parquet.Net.
        Assert.Equal(name == "byte-stream-split" ? 3 : 5, pages.ChunksDecoded);
        if (name == "byte-stream-split") Assert.Contains("BYTE_STREAM_SPLIT", pages.Seen);
        if (name == "snappy") Assert.Contains("PLAIN_DICTIONARY", pages.Seen);
    }

    [Fact]
    public void An_edge_table_of_ours_with_nulls_reads_back_row_for_row()
    {
        using var dir = new TempDir();
        var rows = new List<(long? Src, long? Dst, string? SrcType, string? DstType, float? Weight)>();
        for (var i = 0; i < 5000; i++)
            rows.Add((i % 101 == 3 ? null : i, i % 103 == 5 ? null : 7 * i, i % 97 == 2 ? null : "user", i % 89 == 1 ? null : i % 2 == 0 ? "item" : "user",
                i % 11 == 4 ? null : i / 8f));
        using (var w = new HiveEdgeTableWriter(dir.Sub("t"), "click", "2024-01-01", rowGroupRows: 1500))
        {
            foreach (var r in rows) w.Add(r.Src, r.Dst, r.SrcType, r.DstType, r.Weight);
            w.Complete();
        }
        var table = HiveLayout.Tables(dir.Sub("t"), "2024-01-01").Single();
        var at = 0;
        var arrays = new EdgeBatchArrays();
        foreach (var b in HiveTableReader.ReadEdgeFile(table, table.Files.Single(), arrays, new PageBuffers()))
        {
            for (var i = 0; i < b.Rows; i++, at++)
            {
                var r = rows[at];
                Assert.True(r == (b.Src[i], b.Dst[i], b.SrcType[i], b.DstType[i], b.Weights[i]), $"row {at}");
            }
        }
        Assert.Equal(rows.Count, at);
    }

    private static DataField Leaf(ParquetReader reader, string column) => ParquetColumns.Leaf(reader.Schema, column)!;

    private static T?[] Numbers<T>(FlatColumnPages pages, ParquetRowGroupReader rg, string column, ParquetReader reader, int rows) where T : unmanaged
    {
        var values = new T[rows];
        var isNull = new bool[rows];
        pages.Read(rg, Leaf(reader, column), rows, values, isNull);
        return [.. values.Select((v, i) => isNull[i] ? (T?)null : v)];
    }

    private static void Same<T>(T?[] expected, T?[] actual, string what) where T : struct
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++) Assert.True(Equals(expected[i], actual[i]), $"{what}: row {i}: {actual[i]}, expected {expected[i]}");
    }
}
