using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tests.Etl;

/// <summary>
/// The page-by-page LIST&lt;FLOAT&gt; reader against Parquet.Net's own read of the same column: files written by DuckDB
/// (PLAIN, dictionary and BYTE_STREAM_SPLIT values; five codecs; null lists, empty lists and null elements; several row
/// groups; Etl/Fixtures/float-lists/generate.mjs) and by our own writers (wide rows, several pages).
/// </summary>
public sealed class FloatListPagesTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Etl", "Fixtures", "float-lists", name + ".parquet");

    public static TheoryData<string> DuckDbFiles() =>
        ["snappy", "uncompressed", "gzip", "zstd-row-groups", "lz4raw", "byte-stream-split"];

    [Theory]
    [MemberData(nameof(DuckDbFiles))]
    public async Task Every_list_of_a_DuckDB_file_reads_as_Parquet_Net_reads_it(string name)
    {
        var path = Fixture(name);
        var seen = new HashSet<string>();
        var rowsRead = 0;
        foreach (var column in new[] { "feature_vec", "low_card" })
        {
            await using var reader = await ParquetReader.CreateAsync(path);
            using var pages = new FloatListPages(path);
            var item = ParquetColumns.Leaf(reader.Schema, column)!;
            for (var g = 0; g < reader.RowGroupCount; g++)
            {
                using var rg = reader.OpenRowGroupReader(g);
                var rows = (int)rg.RowCount;
                var expected = await ParquetColumns.ReadFloatListsAsync(rg, item, rows);
                foreach (var reuse in new[] { false, true })
                {
                    var actual = pages.Read(rg, item, rows, reuse);
                    Same(expected, actual, $"{name} {column} row group {g} reuse {reuse}");
                }
                if (column == "feature_vec") rowsRead += rows;
            }
            Assert.Equal(2 * reader.RowGroupCount, pages.ChunksDecoded); // none fell back to Parquet.Net
            seen.UnionWith(pages.Seen);
        }
        Assert.Equal(1500, rowsRead);
        // What each file is there to cover.
        var covers = name switch
        {
            "snappy" => new[] { "SNAPPY", "DICTIONARY_PAGE", "PLAIN_DICTIONARY", "PLAIN" },
            "uncompressed" => ["UNCOMPRESSED", "PLAIN"],
            "gzip" => ["GZIP", "PLAIN"],
            "zstd-row-groups" => ["ZSTD", "PLAIN"],
            "lz4raw" => ["LZ4_RAW", "PLAIN"],
            _ => ["SNAPPY", "BYTE_STREAM_SPLIT", "RLE_DICTIONARY"],
        };
        foreach (var c in covers) Assert.True(seen.Contains(c), $"{name}: expected {c} among {string.Join(", ", seen)}");
    }

    [Fact]
    public async Task The_fixtures_hold_null_lists_empty_lists_and_null_elements()
    {
        using var pages = new FloatListPages(Fixture("uncompressed"));
        await using var reader = await ParquetReader.CreateAsync(Fixture("uncompressed"));
        using var rg = reader.OpenRowGroupReader(0);
        var lists = pages.Read(rg, ParquetColumns.Leaf(reader.Schema, "feature_vec")!, (int)rg.RowCount, false);
        Assert.True(lists.IsNull[5]);              // i % 97 == 5
        Assert.False(lists.IsNull[7]);             // i % 89 == 7: empty, not null
        Assert.Equal(0, lists.Length(7));
        Assert.Equal(7, lists.Length(3));          // i % 53 == 3: one null element, skipped as Parquet.Net skips it
        Assert.Equal(8, lists.Length(0));
    }

    [Theory]
    [InlineData(500, 3000)]
    [InlineData(1433, 700)]
    public void Wide_rows_written_by_the_table_writer_read_back_exactly(int dim, int rows)
    {
        using var dir = new TempDir();
        var random = new Random(dim);
        var values = new float[rows * dim];
        for (var i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        using (var w = new HiveNodeTableWriter(dir.Sub("t"), "user", "2024-01-01", rowGroupRows: 1024))
        {
            for (var r = 0; r < rows; r++) w.Add(r, values.AsSpan(r * dim, dim), r % 5);
            w.Complete();
        }
        var table = HiveLayout.Tables(dir.Sub("t"), "2024-01-01").Single();
        var read = 0;
        foreach (var batch in HiveTableReader.ReadNodes(table))
        {
            for (var i = 0; i < batch.Rows; i++)
            {
                var id = (int)batch.Ids[i]!.Value;
                Assert.True(batch.Features.Row(i).SequenceEqual(values.AsSpan(id * dim, dim)), $"row {id}");
            }
            read += batch.Rows;
        }
        Assert.Equal(rows, read);
    }

    [Fact]
    public async Task A_cut_page_is_an_error_naming_the_column_not_wrong_values()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "cut.parquet");
        var bytes = await File.ReadAllBytesAsync(Fixture("uncompressed"));
        await using (var reader = await ParquetReader.CreateAsync(new MemoryStream(bytes)))
        {
            // Overwrite the middle of the feature column's first data page with a run header that claims more levels than the page holds.
            var item = ParquetColumns.Leaf(reader.Schema, "feature_vec")!;
            using var rg = reader.OpenRowGroupReader(0);
            var meta = rg.GetMetadata(item)!.MetaData!;
            var dictionaryAt = meta.DictionaryPageOffset ?? 0;
            var start = dictionaryAt > 0 && dictionaryAt < meta.DataPageOffset ? dictionaryAt : meta.DataPageOffset;
            var end = start + meta.TotalCompressedSize;
            for (var i = start + 40; i < end; i++) bytes[i] = 0xFF;
        }
        await File.WriteAllBytesAsync(path, bytes);
        await using var r = await ParquetReader.CreateAsync(path);
        using var pages = new FloatListPages(path);
        using var group = r.OpenRowGroupReader(0);
        var e = Assert.ThrowsAny<Exception>(() => pages.Read(group, ParquetColumns.Leaf(r.Schema, "feature_vec")!, (int)group.RowCount, false));
        Assert.Contains("feature_vec", e.Message);
    }

    /// <summary>
    /// Spark (parquet-mr) cuts a column chunk into ~1 MB pages, and in data pages v1 a list may continue on the next page.
    /// No writer at hand does that for small data, so the pages are written here byte by byte: Thrift headers, bit-packed
    /// repetition levels, RLE definition levels, PLAIN floats.
    /// </summary>
    [Theory]
    [InlineData(new[] { 0, 37, 38, 100, 168 })]   // cuts inside a list (row 13 holds entries 35..40), a one-entry page
    [InlineData(new[] { 0, 168 })]                // one page
    public void Lists_continuing_across_pages_read_as_written(int[] cuts)
    {
        // 60 rows: lengths 0..6 in turn, every 11th row null.
        var rows = 60;
        var lengths = new int[rows];
        var nulls = new bool[rows];
        var rep = new List<int>();
        var def = new List<int>();
        var values = new List<float>();
        for (var r = 0; r < rows; r++)
        {
            nulls[r] = r % 11 == 4;
            lengths[r] = nulls[r] ? 0 : r % 7;
            if (lengths[r] == 0) { rep.Add(0); def.Add(nulls[r] ? 0 : 1); continue; }
            for (var j = 0; j < lengths[r]; j++) { rep.Add(j == 0 ? 0 : 1); def.Add(2); values.Add(r + j / 10f); }
        }
        Assert.Equal(168, rep.Count); // the cuts above are entry positions in this chunk
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "pages.bin");
        using (var file = File.Create(path))
        {
            file.Write("PAR1"u8);
            var v = 0;
            for (var p = 0; p + 1 < cuts.Length; p++)
            {
                var (from, to) = (cuts[p], cuts[p + 1]);
                var present = 0;
                for (var i = from; i < to; i++) if (def[i] == 2) present++;
                var body = new MemoryStream();
                LengthPrefixed(body, BitPacked(rep.GetRange(from, to - from), 1));
                LengthPrefixed(body, Rle(def.GetRange(from, to - from)));
                foreach (var x in values.GetRange(v, present)) body.Write(BitConverter.GetBytes(x));
                v += present;
                file.Write(DataPageHeader(to - from, (int)body.Length));
                file.Write(body.ToArray());
            }
        }
        var item = new DataField<float>("element");
        _ = new ParquetSchema(new ListField("feature_vec", item)); // assigns the levels: definition 2, repetition 1
        using var pages = new FloatListPages(path);
        var lists = pages.ReadChunk(4, new FileInfo(path).Length - 4, rep.Count, Parquet.Meta.CompressionCodec.UNCOMPRESSED, item, rows, reuseValues: false)!.Value;
        Assert.Equal(cuts.Length - 1, pages.PagesDecoded);
        var at = 0;
        for (var r = 0; r < rows; r++)
        {
            Assert.True(nulls[r] == lists.IsNull[r], $"row {r} null");
            Assert.True(lengths[r] == lists.Length(r), $"row {r}: {lists.Length(r)} values, written {lengths[r]}");
            Assert.True(values.GetRange(at, lengths[r]).SequenceEqual(lists.Row(r).ToArray()), $"row {r} values");
            at += lengths[r];
        }
    }

    private static void LengthPrefixed(Stream s, byte[] bytes)
    {
        s.Write(BitConverter.GetBytes(bytes.Length));
        s.Write(bytes);
    }

    private static byte[] Rle(List<int> levels)
    {
        var o = new MemoryStream();
        for (var i = 0; i < levels.Count;)
        {
            var j = i;
            while (j < levels.Count && levels[j] == levels[i]) j++;
            VarInt(o, (ulong)(j - i) << 1);
            o.WriteByte((byte)levels[i]);
            i = j;
        }
        return o.ToArray();
    }

    private static byte[] BitPacked(List<int> levels, int width)
    {
        var o = new MemoryStream();
        var groups = (levels.Count + 7) / 8;
        VarInt(o, ((ulong)groups << 1) | 1);
        ulong buffer = 0;
        var bits = 0;
        for (var i = 0; i < groups * 8; i++)
        {
            buffer |= (ulong)(i < levels.Count ? levels[i] : 0) << bits;
            bits += width;
            while (bits >= 8) { o.WriteByte((byte)buffer); buffer >>= 8; bits -= 8; }
        }
        return o.ToArray();
    }

    /// <summary>A PageHeader of a DATA_PAGE in Thrift's compact protocol (PLAIN values, RLE levels, no compression).</summary>
    private static byte[] DataPageHeader(int values, int bodyBytes)
    {
        var o = new MemoryStream();
        o.WriteByte(0x15); VarInt(o, ZigZag(0));          // 1: type DATA_PAGE
        o.WriteByte(0x15); VarInt(o, ZigZag(bodyBytes));  // 2: uncompressed_page_size
        o.WriteByte(0x15); VarInt(o, ZigZag(bodyBytes));  // 3: compressed_page_size
        o.WriteByte(0x2C);                                // 5: data_page_header
        o.WriteByte(0x15); VarInt(o, ZigZag(values));     //   1: num_values
        o.WriteByte(0x15); VarInt(o, ZigZag(0));          //   2: encoding PLAIN
        o.WriteByte(0x15); VarInt(o, ZigZag(3));          //   3: definition_level_encoding RLE
        o.WriteByte(0x15); VarInt(o, ZigZag(3));          //   4: repetition_level_encoding RLE
        o.WriteByte(0x1C);                                //   5: statistics, skipped by the reader
        o.WriteByte(0x18); VarInt(o, 4); o.Write(BitConverter.GetBytes(9f));
        o.WriteByte(0x16); VarInt(o, ZigZag(3));
        o.WriteByte(0x00);
        o.WriteByte(0x00);
        o.WriteByte(0x00);
        return o.ToArray();
    }

    private static ulong ZigZag(long n) => (ulong)((n << 1) ^ (n >> 63));

    private static void VarInt(Stream s, ulong n)
    {
        while (n >= 0x80) { s.WriteByte((byte)(n | 0x80)); n >>= 7; }
        s.WriteByte((byte)n);
    }

    private static void Same(FloatLists expected, FloatLists actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: {actual.Count} lists, expected {expected.Count}");
        for (var r = 0; r < expected.Count; r++)
        {
            Assert.True(expected.IsNull[r] == actual.IsNull[r], $"{what}: row {r} null {actual.IsNull[r]}");
            Assert.True(expected.Row(r).SequenceEqual(actual.Row(r)), $"{what}: row {r} differs");
        }
    }
}
