using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;
using Parquet;
using Parquet.Schema;

namespace GraphActors.Graph.Tests.Etl;

/// <summary>What Spark/Hive/Airflow users see of our outputs: _SUCCESS markers, class names, CREATE TABLE statements.</summary>
public sealed class EdgeOfDataTests
{
    private const string Dt = "2024-01-01";

    private static void Nodes(string root, params int[] labels)
    {
        using var w = new HiveNodeTableWriter(root, "paper", Dt);
        for (var i = 0; i < labels.Length; i++) w.Add(100 + i, [1f, 2f], labels[i]);
        w.Complete();
    }

    /// <summary>A labels_paper table written row by row as given (label, name), so it can be wrong.</summary>
    private static async Task Names(string root, params (int? Label, string? Name)[] rows)
    {
        var dir = HiveLayout.PartitionDirectory(root, "labels_paper", Dt);
        Directory.CreateDirectory(dir);
        var label = new DataField<int?>(HiveLayout.Label);
        var name = new DataField<string>(HiveLayout.LabelName);
        await using var stream = File.Create(Path.Combine(dir, "part-00000.parquet"));
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(label, name), stream);
        using var rg = writer.CreateRowGroup();
        await rg.WriteAsync<int>(label, rows.Select(r => r.Label).ToArray());
        await rg.WriteAsync(name, rows.Select(r => r.Name).ToArray()!);
    }

    private static EtlSummary Etl(TempDir dir) => HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("cgdf")));

    [Fact]
    public void Class_names_reach_metadata_json_and_a_named_class_without_nodes_still_counts()
    {
        using var dir = new TempDir();
        Nodes(dir.Sub("t"), 0, 1, -1, 1);
        HiveLabelNamesWriter.Write(dir.Sub("t"), "paper", Dt, ["cold", "warm", "hot"]);
        var paper = Etl(dir).Metadata.Node("paper");
        Assert.Equal(["cold", "warm", "hot"], paper.LabelNames!);
        Assert.Equal(3, paper.LabelCount); // "hot" has no node on this dt, yet the model must have its output
        Assert.Equal(["cold", "warm", "hot"], CgdfMetadata.Load(dir.Sub("cgdf")).Node("paper").LabelNames!);
    }

    [Fact]
    public void Without_a_labels_table_metadata_json_has_no_label_names()
    {
        using var dir = new TempDir();
        Nodes(dir.Sub("t"), 0, 1);
        Assert.Null(Etl(dir).Metadata.Node("paper").LabelNames);
        Assert.DoesNotContain("label_names", File.ReadAllText(Path.Combine(dir.Sub("cgdf"), CgdfMetadata.FileName)));
    }

    public static TheoryData<string, (int?, string?)[], string, string> BadNameTables => new()
    {
        { "a gap", [(0, "a"), (2, "c")], "label", "class 1 has no row" },
        { "a class named twice", [(0, "a"), (0, "b")], "label", "class 0 is named twice ('a' and 'b')" },
        { "a negative class", [(0, "a"), (-1, "none")], "label", "-1 is not a class" },
        { "a null class", [(null, "a")], "label", "null is not a class" },
        { "an empty name", [(0, "")], "label_name", "class 0 has no name" },
        { "fewer names than labels", [(0, "a")], "label", "names 1 classes, but nodes_paper has label 1" },
    };

    [Theory]
    [MemberData(nameof(BadNameTables))]
    public async Task A_bad_labels_table_fails_the_etl_naming_table_field_and_reason_and_keeps_the_old_output(string _, (int?, string?)[] rows, string field, string reason)
    {
        using var dir = new TempDir();
        Nodes(dir.Sub("t"), 0, 1);
        Etl(dir); // a good output first
        var before = File.ReadAllText(Path.Combine(dir.Sub("cgdf"), CgdfMetadata.FileName));
        await Names(dir.Sub("t"), rows);
        var e = Assert.Throws<GraphInputException>(() => Etl(dir));
        Assert.Contains("labels_paper", e.Message);
        Assert.Equal(field, e.Field);
        Assert.Contains(reason, e.Message);
        Assert.Equal(before, File.ReadAllText(Path.Combine(dir.Sub("cgdf"), CgdfMetadata.FileName)));
    }

    [Fact]
    public void A_partition_being_rewritten_loses_its_success_marker_until_the_writer_completes()
    {
        using var dir = new TempDir();
        Nodes(dir.Sub("t"), 0);
        var marker = Path.Combine(HiveLayout.PartitionDirectory(dir.Sub("t"), "nodes_paper", Dt), HiveLayout.SuccessMarker);
        Assert.True(File.Exists(marker));
        using (var w = new HiveNodeTableWriter(dir.Sub("t"), "paper", Dt))
        {
            w.Add(1, [1f, 2f], 0);
            Assert.False(File.Exists(marker));
            // abandoned: no Complete
        }
        Assert.False(File.Exists(marker));
        Nodes(dir.Sub("t"), 0);
        Assert.True(File.Exists(marker));
    }

    [Fact]
    public void Hive_ddl_declares_every_table_with_the_columns_on_disk_and_the_cgdf_once_written()
    {
        using var dir = new TempDir();
        Nodes(dir.Sub("t"), 0, 1);
        using (var e = new HiveEdgeTableWriter(dir.Sub("t"), "cites", Dt)) { e.Add(100, 101, "paper", "paper"); e.Complete(); }
        HiveLabelNamesWriter.Write(dir.Sub("t"), "paper", Dt, ["a", "b"]);

        var before = HiveDdl.For(dir.Sub("t"), Dt, dir.Sub("cgdf"));
        Assert.Contains("CREATE EXTERNAL TABLE IF NOT EXISTS `nodes_paper` (\n  `node_id` BIGINT,\n  `feature_vec` ARRAY<FLOAT>,\n  `label` INT\n)\nPARTITIONED BY (`dt` STRING)\nSTORED AS PARQUET\n", before.ReplaceLineEndings("\n"));
        Assert.Contains("`src_type` STRING", before);
        Assert.Contains("CREATE EXTERNAL TABLE IF NOT EXISTS `labels_paper`", before);
        Assert.Contains("MSCK REPAIR TABLE `edges_cites`;", before);
        Assert.Contains($"LOCATION '{new Uri(Path.Combine(dir.Sub("t"), "nodes_paper")).AbsoluteUri}';", before);
        Assert.Contains("no finished CGDF", before);

        Etl(dir);
        var after = HiveDdl.For(dir.Sub("t"), Dt, dir.Sub("cgdf"));
        Assert.Contains("CREATE EXTERNAL TABLE IF NOT EXISTS `cgdf_node_paper` (\n  `global_node_id` BIGINT,", after.ReplaceLineEndings("\n"));
        Assert.Contains("CREATE EXTERNAL TABLE IF NOT EXISTS `cgdf_edge_paper_cites_paper` (", after);
        Assert.DoesNotContain("PARTITIONED BY (`dt` STRING)\nSTORED AS PARQUET\nLOCATION 'file://" + dir.Sub("cgdf"), after.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Hive_ddl_for_a_missing_partition_names_the_partitions_there_are()
    {
        using var dir = new TempDir();
        Nodes(dir.Sub("t"), 0);
        var e = Assert.Throws<GraphInputException>(() => HiveDdl.For(dir.Sub("t"), "2024-02-02", null));
        Assert.Contains("no partition dt=2024-02-02 (has: 2024-01-01)", e.Message);
    }
}
