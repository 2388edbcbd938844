using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

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
        { "missing dt partition", "nodes_b", "dt", false },
        { "unreadable Parquet file", "nodes_a", "", false },
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
                using (var x = new HiveEdgeTableWriter(root, "f", Dt)) { x.Add(1, 2, "a", "zzz"); x.Complete(); }
                break;
            case "missing dt partition":
                using (var b = new HiveNodeTableWriter(root, "b", "2024-01-01")) { b.Add(1, [1, 1], 0); b.Complete(); }
                break;
            case "unreadable Parquet file":
                File.WriteAllText(Path.Combine(HiveLayout.PartitionDirectory(root, "nodes_a", Dt), "part-00099.parquet"), "this is not parquet");
                break;
            default: throw new ArgumentException(name);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void In_fail_mode_a_bad_row_stops_the_run_with_a_message_naming_where_it_is(string name, string table, string field, bool namesRow)
    {
        using var dir = new TempDir();
        Write(dir.Sub("t"), (n, e, r) => Spoil(name, n, e, r));
        var ex = Assert.Throws<GraphInputException>(() => HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out"))));
        var table2 = name == "dst_type naming no node table" ? "edges_f" : table;
        Assert.Contains($"table '{table2}'", ex.Message);
        if (field.Length > 0) Assert.Equal(field, ex.Field);
        if (namesRow)
        {
            Assert.Contains("file '", ex.Message);
            Assert.Contains("part-00000.parquet", ex.Message);
            Assert.Matches(@"row group \d+, row \d+", ex.Message);
        }
        if (name == "unreadable Parquet file") Assert.Contains("part-00099.parquet", ex.Message);
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
        var summary = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")) { OnBadRow = BadRowPolicy.Skip });

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
    }
}
