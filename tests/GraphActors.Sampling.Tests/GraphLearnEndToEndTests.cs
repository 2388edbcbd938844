using GraphActors.Graph.GraphLearn;

namespace GraphActors.Sampling.Tests;

using Graph = GraphActors.Graph.GraphLearn.Graph;

/// <summary>A GraphLearn user's whole flow: files with typed headers → Graph → Init() → a GSL query.</summary>
public class GraphLearnEndToEndTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ga-gl-e2e-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void A_query_on_an_initialised_graph_walks_the_edges_loaded_from_files_including_the_reverse_type()
    {
        var users = Write("user.txt", "id:int64\tattributes:string", "1\t0.1:0.2", "2\t0.3:0.4");
        var items = Write("item.txt", "id:int64\tattributes:string", "10\t1.0", "11\t2.0", "12\t3.0");
        var clicks = Write("u2i.txt", "src_id:int64\tdst_id:int64\tweight:float", "1\t10\t0.5", "1\t11\t1.5", "2\t12\t2.5");
        var g = new Graph()
            .Node(users, "user", new Decoder(attrTypes: ["float", "float"]))
            .Node(items, "item", new Decoder(attrTypes: ["float"]))
            .Edge(clicks, ("user", "item", "u2i"), new Decoder(weighted: true), directed: false)
            .Init();

        var batch = g.V("user").Batch(2).Alias("u").OutV("u2i").Sample(2).By("topk").Alias("i").Values().Single();
        Assert.Equal([1L, 2L], batch.Nodes("u").Ids);
        // topk by weight: user 1 → 11 (1.5) then 10 (0.5); user 2 has one neighbour, padded (REPLICATE by default).
        Assert.Equal(new long[] { 11, 10 }, batch.Nodes("i").Ids[..2]);
        Assert.Equal(12L, batch.Nodes("i").Ids[2]);
        Assert.Equal([2.0f, 1.0f], batch.Nodes("i").FloatAttrs[..2]);

        var back = g.E("u2i", reverse: true).Batch(3).Alias("e").Values().Single();
        Assert.Equal(3, back.Edges("e").Count);
    }
}
