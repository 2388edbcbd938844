using GraphActors.Contracts;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

namespace GraphActors.Graph.Tests.Etl;

public sealed class GraphLearnImportTests
{
    [Fact]
    public void GraphLearn_text_sources_become_hive_tables_that_etl_reads()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("gl"));
        var user = Path.Combine(dir.Sub("gl"), "user.txt");
        var item = Path.Combine(dir.Sub("gl"), "item.txt");
        var u2i = Path.Combine(dir.Sub("gl"), "u2i.txt");
        File.WriteAllText(user, "id:int64\tlabel:int32\tattributes:string\n10\t1\t0.5:1.5\n11\t0\t2:3\n");
        File.WriteAllText(item, "id:int64\tattributes:string\n7\t1:0:0\n8\t0:1:0\n");
        File.WriteAllText(u2i, "src_id:int64\tdst_id:int64\tweight:float\n10\t7\t0.25\n11\t8\t2\n10\t8\t1\n");

        GraphLearnImporter.Run([new("user", user), new("item", item)], [new("user", "u2i", "item", u2i)], dir.Sub("t"), "2024-01-01");
        var meta = HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), "2024-01-01", dir.Sub("cgdf"))).Metadata;

        Assert.Equal(2, meta.Node("user").Count);
        Assert.Equal(2, meta.Node("user").FeatureDim);
        Assert.Equal(2, meta.Node("user").LabelCount);
        Assert.Equal(3, meta.Node("item").FeatureDim);
        Assert.Equal(3, meta.Edge(new CanonicalEdgeType("user", "u2i", "item")).Count);
        var g = CgdfGraph.Load(dir.Sub("cgdf"));
        var users = g.Nodes("user");
        Assert.Equal([0.5f, 1.5f], users.Features.Row(users.Ids.GetDense(10)).ToArray());
        var e = g.Edges(new CanonicalEdgeType("user", "u2i", "item"));
        Assert.Equal([0.25f, 1f, 2f], Enumerable.Range(0, e.Count).Select(e.Data.Weight).Order());
    }
}
