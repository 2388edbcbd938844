using GraphActors.Contracts;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

namespace GraphActors.Graph.Tests.Etl;

public sealed class ImportTests
{
    [DatasetFact("cora")]
    public void Cora_imports_and_etls_to_2708_papers_5429_citations_and_the_planetoid_split()
    {
        var cora = SharedData.Require("cora");
        using var dir = new TempDir();
        var import = LinqsImporter.Run(cora, "cora", dir.Sub("t"), "2024-01-01");
        Assert.Equal(7, import.LabelNames.Count);
        Assert.Equal("Case_Based", import.LabelNames[0]);
        Assert.Equal("Theory", import.LabelNames[6]);

        var summary = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), "2024-01-01", dir.Sub("cgdf")) { GraphName = "cora" });
        Assert.Equal(0, summary.TotalRejects);
        var meta = summary.Metadata;
        var paper = meta.Node("paper");
        Assert.Equal(2708, paper.Count);
        Assert.Equal(1433, paper.FeatureDim);
        Assert.Equal(7, paper.LabelCount);
        Assert.True(paper.HasMasks);
        Assert.Equal(5429, meta.Edge(new CanonicalEdgeType("paper", "cites", "paper")).Count);
        // The class names travel: import → labels_paper → metadata.json, and every finished output carries _SUCCESS.
        Assert.Equal(import.LabelNames, paper.LabelNames);
        Assert.Equal(import.LabelNames, CgdfMetadata.Load(dir.Sub("cgdf")).Node("paper").LabelNames);
        foreach (var table in new[] { "nodes_paper", "edges_cites", "labels_paper" })
            Assert.True(File.Exists(Path.Combine(dir.Sub("t"), table, "dt=2024-01-01", HiveLayout.SuccessMarker)), table);
        Assert.True(File.Exists(Path.Combine(dir.Sub("cgdf"), HiveLayout.SuccessMarker)));

        var masks = CgdfGraph.LoadMasks(dir.Sub("cgdf"), "paper")!;
        Assert.Equal(140, masks.Train.Count(x => x));
        Assert.Equal(500, masks.Val.Count(x => x));
        Assert.Equal(1000, masks.Test.Count(x => x));

        var graph = CgdfGraph.Load(dir.Sub("cgdf"));
        var papers = graph.Nodes("paper");
        var labels = Enumerable.Range(0, papers.Count).Select(papers.Data.Label).ToArray();
        Assert.Equal(818, labels.Count(l => l == Array.IndexOf(import.LabelNames.ToArray(), "Neural_Networks")));
        var trainLabels = Enumerable.Range(0, papers.Count).Where(i => masks.Train[i]).Select(papers.Data.Label);
        Assert.All(trainLabels.GroupBy(l => l), g => Assert.Equal(20, g.Count()));
        // 49216 non-zero word indicators in all.
        Assert.Equal(49216, papers.Features.Data.ToArray().Count(v => v != 0));
        // citing → cited: the first line of cora.cites is "35<TAB>1033", so 1033 cites 35.
        var edges = graph.Edges(new CanonicalEdgeType("paper", "cites", "paper"));
        Assert.True(edges.Out.Contains(papers.Ids.GetDense(1033), papers.Ids.GetDense(35)));
    }

    [Fact]
    public void MovieLens_files_import_as_users_movies_and_rating_weighted_edges()
    {
        using var dir = new TempDir();
        var ml = dir.Sub("ml");
        Directory.CreateDirectory(ml);
        var latin1 = System.Text.Encoding.Latin1;
        File.WriteAllText(Path.Combine(ml, "u.user"), "1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n", latin1);
        var genres = string.Join("|", Enumerable.Repeat("0", 19));
        File.WriteAllText(Path.Combine(ml, "u.item"),
            "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n" +
            $"2|Cité des enfants perdus, La (1995)|01-Jan-1995||http://x|{genres}\n", latin1);
        File.WriteAllText(Path.Combine(ml, "u.data"), "1\t1\t5\t881250949\n2\t1\t3\t891717742\n3\t2\t1\t878887116\n1\t2\t4\t880606923\n");

        var import = MovieLensImporter.Run(ml, dir.Sub("t"), "2024-01-01", occupationLabel: true);
        Assert.Equal(["other", "technician", "writer"], import.LabelNames);
        var summary = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), "2024-01-01", dir.Sub("cgdf")));

        var meta = summary.Metadata;
        Assert.Equal(["movie", "user"], meta.NodeTypes.Select(n => n.Name));
        Assert.Equal(2, meta.Node("movie").Count);
        Assert.Equal(19, meta.Node("movie").FeatureDim);
        Assert.Equal(3, meta.Node("user").Count);
        Assert.Equal(3, meta.Node("user").FeatureDim); // age + gender one-hot; occupation is the label
        Assert.Equal(3, meta.Node("user").LabelCount);
        Assert.Equal(4, meta.Edge(new CanonicalEdgeType("user", "rates", "movie")).Count);

        var g = CgdfGraph.Load(dir.Sub("cgdf"));
        var users = g.Nodes("user");
        var u2 = users.Ids.GetDense(2);
        Assert.Equal([0.53f, 1f, 0f], users.Features.Row(u2).ToArray());
        Assert.Equal(0, users.Data.Label(u2));
        var movies = g.Nodes("movie");
        Assert.Equal(1f, movies.Features.Row(movies.Ids.GetDense(1))[3]);
        var rates = g.Edges(new CanonicalEdgeType("user", "rates", "movie"));
        var u1 = users.Ids.GetDense(1);
        var pos = (int)rates.Out.Offsets[u1];
        Assert.Equal(movies.Ids.GetDense(1), rates.Out.Neighbors[pos]);
        Assert.Equal(5f, rates.Data.Weight(rates.Out.EdgeIdAt(pos)));
    }

    [Fact]
    public void MovieLens_without_a_label_keeps_occupation_as_a_one_hot_feature()
    {
        using var dir = new TempDir();
        var ml = dir.Sub("ml");
        Directory.CreateDirectory(ml);
        File.WriteAllText(Path.Combine(ml, "u.user"), "1|24|M|technician|85711\n2|53|F|other|94043\n");
        File.WriteAllText(Path.Combine(ml, "u.item"), "1|T|d||u|" + string.Join("|", Enumerable.Repeat("0", 19)) + "\n");
        File.WriteAllText(Path.Combine(ml, "u.data"), "1\t1\t5\t1\n");
        MovieLensImporter.Run(ml, dir.Sub("t"), "2024-01-01");
        var meta = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), "2024-01-01", dir.Sub("cgdf"))).Metadata;
        Assert.Equal(5, meta.Node("user").FeatureDim);
        Assert.Equal(0, meta.Node("user").LabelCount);
    }
}

public sealed class CgdfMetadataTests
{
    [Fact]
    public void Metadata_json_names_types_ranges_dims_labels_edge_triples_dt_and_version()
    {
        using var dir = new TempDir();
        SyntheticGenerator.Run(new GenerateOptions(dir.Sub("t")) { Users = 50, Items = 20, Clicks = 100, Swings = 40, FeatureDim = 4, Classes = 3, Dt = "2024-05-06" });
        HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), "2024-05-06", dir.Sub("g")));

        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Sub("g"), "metadata.json")));
        var root = json.RootElement;
        Assert.Equal("cgdf", root.GetProperty("format").GetString());
        Assert.Equal(1, root.GetProperty("format_version").GetInt32());
        Assert.Equal("g", root.GetProperty("graph_name").GetString());
        Assert.Equal("2024-05-06", root.GetProperty("source_dt").GetString());
        var user = root.GetProperty("node_types")[1];
        Assert.Equal("user", user.GetProperty("name").GetString());
        Assert.Equal(50, user.GetProperty("count").GetInt64());
        Assert.Equal(20, user.GetProperty("global_id_start").GetInt64());
        Assert.Equal(70, user.GetProperty("global_id_end").GetInt64());
        Assert.Equal(4, user.GetProperty("feature_dim").GetInt32());
        Assert.InRange(user.GetProperty("label_count").GetInt32(), 1, 3);
        Assert.False(user.GetProperty("has_masks").GetBoolean());
        var edgeTypes = root.GetProperty("edge_types").EnumerateArray()
            .Select(e => string.Join(",", e.GetProperty("canonical").EnumerateArray().Select(x => x.GetString()))).ToArray();
        Assert.Equal(["user,click,item", "item,swing,item"], edgeTypes);
        Assert.True(Directory.Exists(Path.Combine(dir.Sub("g"), "node_data", "user")));
        Assert.True(File.Exists(Path.Combine(dir.Sub("g"), "edge_data", "user_click_item", "part-00000.parquet")));
    }
}
