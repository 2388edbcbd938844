using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Graph.Tables;
using GraphActors.Graph.Tests.Etl;

namespace GraphActors.Graph.Tests.Partitioning;

public sealed class PartitionBadInputTests
{
    public static TheoryData<string, int, string, double, double, double> RefusedOptions => new()
    {
        // case, parts, method, train, val, test → the option the message names
        { "--parts", 0, "hash", 0.6, 0.2, 0.2 },
        { "--parts", 321, "hash", 0.6, 0.2, 0.2 },
        { "--parts", 5000, "metis", 0.6, 0.2, 0.2 },
        { "--split", 4, "hash", 0.9, 0.9, 0.9 },
        { "--split", 4, "hash", -0.1, 0.5, 0.5 },
        { "--split", 4, "hash", double.NaN, 0.1, 0.1 },
        { "--method", 4, "kway", 0.6, 0.2, 0.2 },
    };

    [Theory]
    [MemberData(nameof(RefusedOptions))]
    public void Options_that_cannot_give_a_useful_store_are_refused_before_anything_is_written(string option, int parts, string method, double train, double val, double test)
    {
        var g = TestGraphs.UserItem(); // 320 nodes
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        var ex = Assert.ThrowsAny<BadInputException>(() => GraphPartitioner.Run(new HeteroGraphSource(g),
            new PartitionOptions(dir, parts, method) { Split = new MaskSplit(train, val, test) }));
        Assert.StartsWith(option, ex.Message);
        if (option == "--parts") Assert.Contains("320", ex.Message);
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(dir)!, ".s.tmp-*"));
    }

    [Fact]
    public void Metis_leaving_parts_empty_is_an_error_not_a_store()
    {
        var g = TestGraphs.UserItem();
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        // As many parts as nodes: METIS prints "Cannot bisect a graph with 0 vertices" yet returns METIS_OK.
        var ex = Assert.Throws<MetisException>(() => GraphPartitioner.Run(new HeteroGraphSource(g), new PartitionOptions(dir, 320, "metis")));
        Assert.Contains("parts empty", ex.Message);
        Assert.Contains("--parts", ex.Message);
        Assert.False(Directory.Exists(dir));
    }

    [Theory]
    [InlineData(-7)]
    [InlineData(4)]
    [InlineData(100_000_001)]
    public void A_store_with_a_label_outside_its_class_count_fails_at_load_naming_the_node_type_and_label(int label)
    {
        var g = TestGraphs.UserItem(); // user labels 0..3: labelCount 4
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(new HeteroGraphSource(g), new PartitionOptions(dir, 2, "hash"));
        // What a store written before labels were validated can hold.
        var labels = Path.Combine(StoreLayout.NodeDir(StoreLayout.PartitionDir(dir, 1), new("user")), StoreLayout.Labels);
        using (var f = new FileStream(labels, FileMode.Open, FileAccess.Write))
        {
            f.Position = StoreFile.HeaderSize + 4 * 3;
            f.Write(BitConverter.GetBytes(label));
        }
        var store = PartitionStore.Open(dir);
        using (store.LoadPartition(0)) { }
        foreach (var mode in new[] { PartitionLoadMode.Map, PartitionLoadMode.Read })
        {
            var ex = Assert.Throws<PartitionStoreException>(() => store.LoadPartition(1, mode));
            Assert.Contains("node type 'user'", ex.Message);
            Assert.Contains($"label {label} is outside [-1, 4)", ex.Message);
            Assert.Equal(labels, ex.FilePath);
        }
    }

    [Fact]
    public void A_store_whose_class_count_overflowed_is_refused_at_open()
    {
        var g = TestGraphs.UserItem();
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(new HeteroGraphSource(g), new PartitionOptions(dir, 2, "hash"));
        var manifest = Path.Combine(dir, StoreManifest.FileName);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"labelCount\": 4", "\"labelCount\": -2147483648"));
        var ex = Assert.Throws<PartitionStoreException>(() => PartitionStore.Open(dir));
        Assert.Contains("node type 'user' has labelCount -2147483648", ex.Message);
    }

    [Fact]
    public void A_cgdf_whose_labels_pass_its_label_count_fails_partitioning_naming_the_node_type()
    {
        using var tmp = new TempDir();
        using (var nodes = new HiveNodeTableWriter(tmp.Sub("t"), "a", "2024-01-01"))
        {
            for (var i = 0; i < 10; i++) nodes.Add(i, [i], i % 3);
            nodes.Complete();
        }
        using (var edges = new HiveEdgeTableWriter(tmp.Sub("t"), "e", "2024-01-01")) { edges.Add(1, 2, "a", "a"); edges.Complete(); }
        HiveToCgdf.Run(new EtlOptions(tmp.Sub("t"), "2024-01-01", tmp.Sub("cgdf")));
        var meta = Path.Combine(tmp.Sub("cgdf"), CgdfMetadata.FileName);
        File.WriteAllText(meta, File.ReadAllText(meta).Replace("\"label_count\": 3", "\"label_count\": 2"));
        var ex = Assert.Throws<GraphInputException>(() => GraphPartitioner.Run(new CgdfPartitionSource(tmp.Sub("cgdf")), new PartitionOptions(tmp.Sub("s"), 2)));
        Assert.Contains("node type 'a' has label 2, outside [-1, 2)", ex.Message);
        Assert.Equal("label", ex.Field);
    }

    [Theory]
    [InlineData("truncated", "metadata.json")]
    [InlineData("negative label_count", "label_count")]
    [InlineData("missing", "metadata.json")]
    public void A_bad_metadata_json_is_bad_input_naming_the_file(string name, string expected)
    {
        using var tmp = new TempDir();
        using (var nodes = new HiveNodeTableWriter(tmp.Sub("t"), "a", "2024-01-01")) { nodes.Add(1, [1], 0); nodes.Complete(); }
        using (var edges = new HiveEdgeTableWriter(tmp.Sub("t"), "e", "2024-01-01")) { edges.Add(1, 1, "a", "a"); edges.Complete(); }
        HiveToCgdf.Run(new EtlOptions(tmp.Sub("t"), "2024-01-01", tmp.Sub("cgdf")));
        var meta = Path.Combine(tmp.Sub("cgdf"), CgdfMetadata.FileName);
        var text = File.ReadAllText(meta);
        switch (name)
        {
            case "truncated": File.WriteAllText(meta, text[..(text.Length / 2)]); break;
            case "negative label_count": File.WriteAllText(meta, text.Replace("\"label_count\": 1", "\"label_count\": -2147483648")); break;
            case "missing": File.Delete(meta); break;
        }
        var ex = Assert.Throws<GraphInputException>(() => CgdfMetadata.Load(tmp.Sub("cgdf")));
        Assert.Contains(expected, ex.Message);
        Assert.StartsWith(meta, ex.Message);
    }
}
