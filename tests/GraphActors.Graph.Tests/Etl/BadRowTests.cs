using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tests.Etl;

public sealed class BadRowTests
{
    private const string Dt = "2024-02-03";

    /// <summary>A valid graph: nodes_a (ids 1..3, dim 2), edges_e a → a; <paramref name="spoil"/> adds one bad thing.</summary>
    private static void Write(string root, Action<HiveNodeTableWriter, HiveEdgeTableWriter, string> spoil)
    {
        using var nodes = new HiveNodeTableWriter(root, "a", Dt);
        using var edges = new HiveEdgeTableWriter(root, "e", Dt);
        for (var id = 1; id <= 3; id++) nodes.Add(id, [id, id], 0);
        edges.Add(1, 2, "a", "a");
        edges.Add(2, 3, "a", "a");
        spoil(nodes, edges, root);
        nodes.Complete();
        edges.Complete();
    }

    /// <summary>Faults of single rows: fail stops at the row, skip rejects it and keeps the rest.</summary>
    public static TheoryData<string, string, string, bool> Cases => new()
    {
        // case, table, field, names a row
        { "edge endpoint missing", "edges_e", "dst_node_id", true },
        { "duplicate node id", "nodes_a", "node_id", true },
        { "feature vector of the wrong length", "nodes_a", "feature_vec", true },
        { "NaN feature", "nodes_a", "feature_vec", true },
        { "infinite feature", "nodes_a", "feature_vec", true },
        { "null node id", "nodes_a", "node_id", true },
        { "null edge endpoint", "edges_e", "src_node_id", true },
        { "src_type disagreeing with the table", "edges_e", "src_type", true },
        { "dst_type naming no node table", "edges_e", "dst_type", true },
        { "label -7", "nodes_a", "label", true },
        { "label -2", "nodes_a", "label", true },
        { "label int.MaxValue", "nodes_a", "label", true },
        { "label 100,000,001", "nodes_a", "label", true },
        { "label equal to --max-classes", "nodes_a", "label", true },
        { "empty feature vector", "nodes_a", "feature_vec", true },
    };

    /// <summary>Faults of a whole table: fatal whatever --on-bad-row says.</summary>
    public static TheoryData<string, string, string> TableCases => new()
    {
        // case, table, field
        { "missing dt partition", "nodes_b", "dt" },
        { "unreadable Parquet file", "nodes_a", "" },
        { "missing column", "nodes_c", "label" },
        { "wrong column type", "nodes_c", "feature_vec" },
        { "empty edge table", "edges_g", "" },
        { "node table with no rows", "nodes_c", "" },
        { "zero-width feature table", "nodes_c", "" },
    };

    private static void Spoil(string name, HiveNodeTableWriter n, HiveEdgeTableWriter e, string root)
    {
        switch (name)
        {
            case "edge endpoint missing": e.Add(1, 99, "a", "a"); break;
            case "duplicate node id": n.Add(2, [5, 5], 1); break;
            case "feature vector of the wrong length": n.Add(4, [1, 2, 3], 0); break;
            case "NaN feature": n.Add(4, [1, float.NaN], 0); break;
            case "infinite feature": n.Add(4, [float.PositiveInfinity, 1], 0); break;
            case "null node id": n.Add(null, [1, 1], 0); break;
            case "null edge endpoint": e.Add(null, 1, "a", "a"); break;
            case "src_type disagreeing with the table": e.Add(1, 2, "b", "a"); break;
            case "dst_type naming no node table":
                // The first row fixes the table's types, so this case needs its own table.
                using (var x = new HiveEdgeTableWriter(root, "f", Dt)) { x.Add(1, 2, "a", "zzz"); x.Add(1, 3, "a", "a"); x.Complete(); }
                break;
            case "label -7": n.Add(4, [1, 1], -7); break;
            case "label -2": n.Add(4, [1, 1], -2); break;
            case "label int.MaxValue": n.Add(4, [1, 1], int.MaxValue); break;
            case "label 100,000,001": n.Add(4, [1, 1], 100_000_001); break;
            case "label equal to --max-classes": n.Add(4, [1, 1], MaxClasses); break;
            case "empty feature vector": n.Add(4, [], 0); break;
            case "missing dt partition":
                using (var b = new HiveNodeTableWriter(root, "b", "2024-01-01")) { b.Add(1, [1, 1], 0); b.Complete(); }
                break;
            case "unreadable Parquet file":
                File.WriteAllText(Path.Combine(HiveLayout.PartitionDirectory(root, "nodes_a", Dt), "part-00099.parquet"), "this is not parquet");
                break;
            case "missing column":
            {
                var id = new DataField<long>("node_id");
                var fv = ParquetColumns.FloatList("feature_vec");
                WriteParquet(root, "nodes_c", new ParquetSchema(id, fv), async rg =>
                {
                    await rg.WriteAsync<long>(id, new long[] { 1 });
                    await ParquetColumns.WriteFixedFloatListsAsync(rg, fv, new float[] { 1f, 1f }, 1, 2);
                });
                break;
            }
            case "wrong column type":
            {
                var id = new DataField<long>("node_id");
                var fv = new DataField<string>("feature_vec");
                var label = new DataField<int>("label");
                WriteParquet(root, "nodes_c", new ParquetSchema(id, fv, label), async rg =>
                {
                    await rg.WriteAsync<long>(id, new long[] { 1 });
                    await rg.WriteAsync(fv, new[] { "1,1" });
                    await rg.WriteAsync<int>(label, new[] { 0 });
                });
                break;
            }
            case "empty edge table":
                using (var g = new HiveEdgeTableWriter(root, "g", Dt)) g.Complete();
                break;
            case "node table with no rows":
                using (var c = new HiveNodeTableWriter(root, "c", Dt)) c.Complete();
                break;
            case "zero-width feature table":
                using (var c = new HiveNodeTableWriter(root, "c", Dt)) { c.Add(1, [], 0); c.Add(2, [], 0); c.Complete(); }
                break;
            default: throw new ArgumentException(name);
        }
    }

    private const int MaxClasses = 1000;

    private static void WriteParquet(string root, string table, ParquetSchema schema, Func<ParquetRowGroupWriter, Task> write)
    {
        var dir = HiveLayout.PartitionDirectory(root, table, Dt);
        Directory.CreateDirectory(dir);
        using var stream = File.Create(Path.Combine(dir, "part-00000.parquet"));
        var writer = ParquetWriter.CreateAsync(schema, stream).GetAwaiter().GetResult();
        using (var rg = writer.CreateRowGroup()) write(rg).GetAwaiter().GetResult();
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void In_fail_mode_a_bad_row_stops_the_run_with_a_message_naming_where_it_is(string name, string table, string field, bool namesRow)
    {
        using var dir = new TempDir();
        Write(dir.Sub("t"), (n, e, r) => Spoil(name, n, e, r));
        var ex = Assert.Throws<GraphInputException>(() => HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")) { MaxClasses = MaxClasses }));
        var table2 = name == "dst_type naming no node table" ? "edges_f" : table;
        Assert.Contains($"table '{table2}'", ex.Message);
        if (field.Length > 0) Assert.Equal(field, ex.Field);
        if (namesRow)
        {
            Assert.Contains("file '", ex.Message);
            Assert.Contains("part-00000.parquet", ex.Message);
            Assert.Matches(@"row group \d+, row \d+", ex.Message);
        }
        if (field == "label") Assert.Matches(@"label -?\d+ is outside \[-1, 1000\)", ex.Message);
        Assert.False(Directory.Exists(dir.Sub("out")));
        Assert.Empty(Directory.GetDirectories(dir.Path, "out.tmp-*"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void In_skip_mode_a_bad_row_is_written_to_rejects_and_counted(string name, string table, string field, bool namesRow)
    {
        _ = namesRow;
        using var dir = new TempDir();
        Write(dir.Sub("t"), (n, e, r) => Spoil(name, n, e, r));
        // One bad row of 3–4 is far above the default ratio: this test is about what a reject holds, not the ratio.
        var summary = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")) { OnBadRow = BadRowPolicy.Skip, MaxRejectRatio = 1, MaxClasses = MaxClasses });

        var table2 = name == "dst_type naming no node table" ? "edges_f" : table;
        Assert.Equal(1, summary.TotalRejects);
        Assert.Equal(1, summary.Rejects[table2]);
        var rejects = File.ReadAllLines(Path.Combine(dir.Sub("out"), "rejects", table2, "rejects.jsonl"));
        Assert.Single(rejects);
        if (field.Length > 0) Assert.Contains($"\"field\":\"{field}\"", rejects[0]);
        // The good rows made it.
        var meta = CgdfMetadata.Load(dir.Sub("out"));
        Assert.Equal(3, meta.Node("a").Count);
        Assert.Equal(2, meta.Edge(new("a", "e", "a")).Count);
        Assert.Equal(1, meta.Node("a").LabelCount); // the rejected label never reaches label_count
    }

    [Theory]
    [MemberData(nameof(TableCases))]
    public void A_fault_of_a_whole_table_fails_the_run_even_in_skip_mode_and_names_the_table(string name, string table, string field)
    {
        foreach (var policy in new[] { BadRowPolicy.Fail, BadRowPolicy.Skip })
        {
            using var dir = new TempDir();
            Write(dir.Sub("t"), (n, e, r) => Spoil(name, n, e, r));
            Directory.CreateDirectory(dir.Sub("out"));
            File.WriteAllText(Path.Combine(dir.Sub("out"), "metadata.json"), "the previous output");
            var ex = Assert.Throws<GraphInputException>(() =>
                HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")) { OnBadRow = policy, MaxRejectRatio = 1 }));
            Assert.Contains($"table '{table}'", ex.Message);
            if (field.Length > 0) Assert.Equal(field, ex.Field);
            if (name == "unreadable Parquet file") Assert.Contains("part-00099.parquet", ex.Message);
            if (name == "empty edge table") Assert.Contains("no rows", ex.Message);
            // The previous output is untouched and no temp folder is left.
            Assert.Equal("the previous output", File.ReadAllText(Path.Combine(dir.Sub("out"), "metadata.json")));
            Assert.Empty(Directory.GetDirectories(dir.Path, "out.tmp-*"));
        }
    }

    [Fact]
    public void Featureless_node_tables_pass_only_when_allowed()
    {
        using var dir = new TempDir();
        Write(dir.Sub("t"), (_, _, r) => Spoil("zero-width feature table", null!, null!, r));
        var meta = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")) { AllowFeatureless = true }).Metadata;
        Assert.Equal(0, meta.Node("c").FeatureDim);
        Assert.Equal(2, meta.Node("c").Count);
    }

    [Theory]
    [InlineData(0.01, false)]
    [InlineData(0.10, false)]
    [InlineData(0.25, true)]
    public void Skip_mode_fails_when_a_table_rejects_more_than_the_max_ratio_and_keeps_the_rejects_beside_the_output(double maxRatio, bool passes)
    {
        // 20 nodes, 4 of them (20 %) with a label past --max-classes.
        using var dir = new TempDir();
        var root = dir.Sub("t");
        using (var nodes = new HiveNodeTableWriter(root, "a", Dt))
        {
            for (var id = 1; id <= 20; id++) nodes.Add(id, [id, 1], id <= 4 ? -7 : id % 3);
            nodes.Complete();
        }
        using (var edges = new HiveEdgeTableWriter(root, "e", Dt)) { edges.Add(5, 6, "a", "a"); edges.Complete(); }
        var options = new EtlOptions(root, Dt, dir.Sub("out")) { OnBadRow = BadRowPolicy.Skip, MaxRejectRatio = maxRatio };
        if (passes)
        {
            var s = HiveToCgdf.Run(options);
            Assert.Equal(4, s.Rejects["nodes_a"]);
            Assert.Equal(16, s.Metadata.Node("a").Count);
            Assert.Equal(4, File.ReadAllLines(Path.Combine(dir.Sub("out"), "rejects", "nodes_a", "rejects.jsonl")).Length);
            return;
        }
        var ex = Assert.Throws<GraphInputException>(() => HiveToCgdf.Run(options));
        Assert.Contains("table 'nodes_a'", ex.Message);
        Assert.Contains("4 of 20 rows rejected (20.0%)", ex.Message);
        Assert.Contains($"--max-reject-ratio {maxRatio.ToString(System.Globalization.CultureInfo.InvariantCulture)}", ex.Message);
        var kept = Path.Combine(dir.Sub("out") + ".rejects", "nodes_a", "rejects.jsonl");
        Assert.Contains(kept, ex.Message);
        var lines = File.ReadAllLines(kept);
        Assert.Equal(4, lines.Length);
        Assert.All(lines, l => Assert.Contains("\"field\":\"label\"", l));
        Assert.False(Directory.Exists(dir.Sub("out")));
    }

    [Fact]
    public void Label_count_is_the_largest_label_plus_one_and_unlabelled_rows_do_not_count()
    {
        using var dir = new TempDir();
        using (var nodes = new HiveNodeTableWriter(dir.Sub("t"), "a", Dt))
        {
            nodes.Add(1, [1], -1); nodes.Add(2, [1], 99_999); nodes.Add(3, [1], null);
            nodes.Complete();
        }
        var meta = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out"))).Metadata;
        Assert.Equal(100_000, meta.Node("a").LabelCount);
    }
}
