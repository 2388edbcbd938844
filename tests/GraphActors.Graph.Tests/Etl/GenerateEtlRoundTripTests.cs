using GraphActors.Contracts;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

namespace GraphActors.Graph.Tests.Etl;

public sealed class GenerateEtlRoundTripTests
{
    private static readonly GenerateOptions Small = new("") { Users = 500, Items = 300, Clicks = 4000, Swings = 2000, FeatureDim = 8, Classes = 4, RowGroupRows = 128 };

    [Fact]
    public void Generated_tables_survive_etl_with_counts_ids_and_features_intact()
    {
        using var dir = new TempDir();
        var tables = dir.Sub("tables");
        SyntheticGenerator.Run(Small with { Output = tables });
        var summary = HiveToCgdf.Run(new EtlOptions(tables, Small.Dt, dir.Sub("cgdf")));

        Assert.Equal(0, summary.TotalRejects);
        var meta = CgdfMetadata.Load(dir.Sub("cgdf"));
        Assert.Equal(["item", "user"], meta.NodeTypes.Select(n => n.Name));
        Assert.Equal(300, meta.Node("item").Count);
        Assert.Equal(500, meta.Node("user").Count);
        Assert.Equal(0, meta.Node("item").GlobalIdStart);
        Assert.Equal(300, meta.Node("user").GlobalIdStart);
        Assert.Equal(800, meta.Node("user").GlobalIdEnd);
        Assert.Equal(4000, meta.Edge(new CanonicalEdgeType("user", "click", "item")).Count);
        Assert.Equal(2000, meta.Edge(new CanonicalEdgeType("item", "swing", "item")).Count);

        // Every Hive row, read back from the source, appears in CGDF with the same features and label.
        var graph = CgdfGraph.Load(dir.Sub("cgdf"));
        var users = graph.Nodes("user");
        var seen = 0;
        foreach (var b in HiveTableReader.ReadNodes(new HiveTablePartition(tables, "nodes_user", HiveTableKind.Nodes, Small.Dt)))
        {
            for (var i = 0; i < b.Rows; i++)
            {
                var dense = users.Ids.GetDense(b.Ids[i]!.Value);
                Assert.Equal(b.Features.Row(i).ToArray(), users.Features.Row(dense).ToArray());
                Assert.Equal(b.Labels[i], users.Data.Label(dense));
                seen++;
            }
        }
        Assert.Equal(500, seen);

        // Edges map back to their business ids.
        var clicks = graph.Edges(new CanonicalEdgeType("user", "click", "item"));
        var items = graph.Nodes("item");
        var expected = new List<(long, long)>();
        foreach (var b in HiveTableReader.ReadEdges(new HiveTablePartition(tables, "edges_click", HiveTableKind.Edges, Small.Dt)))
            for (var i = 0; i < b.Rows; i++) expected.Add((b.Src[i]!.Value, b.Dst[i]!.Value));
        var actual = new List<(long, long)>();
        for (var u = 0; u < users.Count; u++)
            foreach (var it in clicks.Out.Row(u)) actual.Add((users.Ids.ToBusiness(u), items.Ids.ToBusiness(it)));
        Assert.Equal(expected.Order(), actual.Order());
    }

    [Fact]
    public void A_later_day_keeps_the_base_graphs_rows_in_order_and_adds_the_grown_share()
    {
        using var dir = new TempDir();
        SyntheticGenerator.Run(Small with { Output = dir.Sub("day1") });
        var summary = SyntheticGenerator.Run(Small with { Output = dir.Sub("day2"), Grow = 0.1 });
        Assert.Equal((550L, 330L, 4400L, 2200L), (summary.Users, summary.Items, summary.Clicks, summary.Swings));

        static List<(long Id, float[] Features)> Nodes(string root, string table) =>
            HiveTableReader.ReadNodes(new HiveTablePartition(root, table, HiveTableKind.Nodes, Small.Dt))
                .SelectMany(b => Enumerable.Range(0, b.Rows).Select(i => (b.Ids[i]!.Value, b.Features.Row(i).ToArray()))).ToList();
        static List<(long, long)> Edges(string root, string table) =>
            HiveTableReader.ReadEdges(new HiveTablePartition(root, table, HiveTableKind.Edges, Small.Dt))
                .SelectMany(b => Enumerable.Range(0, b.Rows).Select(i => (b.Src[i]!.Value, b.Dst[i]!.Value))).ToList();
        foreach (var (table, before, after) in new[] { ("nodes_user", 500, 550), ("nodes_item", 300, 330) })
        {
            var (day1, day2) = (Nodes(dir.Sub("day1"), table), Nodes(dir.Sub("day2"), table));
            Assert.Equal((before, after), (day1.Count, day2.Count));
            for (var i = 0; i < before; i++)
            {
                Assert.Equal(day1[i].Id, day2[i].Id);
                Assert.Equal(day1[i].Features, day2[i].Features);
            }
        }
        foreach (var (table, before, after) in new[] { ("edges_click", 4000, 4400), ("edges_swing", 2000, 2200) })
        {
            var (day1, day2) = (Edges(dir.Sub("day1"), table), Edges(dir.Sub("day2"), table));
            Assert.Equal((before, after), (day1.Count, day2.Count));
            Assert.Equal(day1, day2.Take(before));
            var newSource = table == "edges_click" ? SyntheticGenerator.UserId(500) : SyntheticGenerator.ItemId(300);
            Assert.Contains(day2.Skip(before), e => e.Item1 >= newSource || e.Item2 >= SyntheticGenerator.ItemId(300)); // the new nodes get edges
        }
    }

    [Fact]
    public void The_cgdf_reader_streams_dense_ids_and_flat_features()
    {
        using var dir = new TempDir();
        SyntheticGenerator.Run(Small with { Output = dir.Sub("tables") });
        HiveToCgdf.Run(new EtlOptions(dir.Sub("tables"), Small.Dt, dir.Sub("cgdf")) { RowGroupRows = 100 });
        var reader = CgdfReader.Open(dir.Sub("cgdf"));

        var chunks = reader.ReadNodes("user").ToList();
        Assert.True(chunks.Count > 1);
        Assert.Equal(500, chunks.Sum(c => c.Count));
        Assert.All(chunks, c => Assert.Equal(c.Count * 8, c.Features.Length));
        Assert.Equal(300 + chunks[1].FirstDenseId, chunks[1].GlobalIds[0]);

        var edges = reader.ReadEdges(new CanonicalEdgeType("user", "click", "item")).ToList();
        Assert.Equal(4000, edges.Sum(c => c.Count));
        Assert.All(edges, c => Assert.All(c.Src, s => Assert.InRange(s, 0, 499)));
        Assert.All(edges, c => Assert.All(c.Dst, d => Assert.InRange(d, 0, 299)));
        Assert.Equal(300, edges[0].SrcGlobalStart);
    }
}

/// <summary>Row groups of wide node types stay bounded in values, so no array of the writer or of Parquet's levels grows with the width.</summary>
public sealed class CgdfRowGroupTests
{
    [Fact]
    public void A_4096_wide_node_type_is_written_in_row_groups_of_at_most_4M_values_and_reads_back_whole()
    {
        using var dir = new TempDir();
        const int dim = 4096, rows = 9_000;
        var writer = new CgdfWriter(dir.Sub("cgdf"), "wide", "2024-01-01");
        var nodes = writer.BeginNodeType("user", dim, hasMasks: false);
        var row = new float[dim];
        for (var i = 0; i < rows; i++)
        {
            row[0] = i;
            row[dim - 1] = -i;
            nodes.Add(1_000 + i, row, i % 3);
        }
        nodes.Complete();
        writer.Complete();

        var chunks = CgdfReader.Open(dir.Sub("cgdf")).ReadNodes("user").ToList();
        Assert.All(chunks, c => Assert.True((long)c.Count * dim <= CgdfNodeTypeWriter.MaxGroupValues, $"a row group of {c.Count} rows × {dim}"));
        Assert.Equal(Enumerable.Repeat(1024, 8).Append(808), chunks.Select(c => c.Count)); // 4M values = 1,024 rows at 4,096-d
        var first = chunks.SelectMany((c, k) => Enumerable.Range(0, c.Count).Select(r => (c.FirstDenseId + r, c.Features[r * dim], c.Features[r * dim + dim - 1]))).ToList();
        Assert.Equal(Enumerable.Range(0, rows).Select(i => ((long)i, (float)i, (float)-i)), first);
    }
}
