// The seed's own example (GraphLearn's Graph-object document, Tables 1–4) chained into one graph, as GraphLearn loads it.
using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

public sealed class SeedExampleTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>Tables 1–4 as the document prints them, with GraphLearn's typed headers.</summary>
    private GraphLearn.Graph SeedGraph() => new GraphLearn.Graph()
        .Node(_files.Write("table_1", "id:int64\tattributes:string", "10001\t0:0.1:0", "10002\t1:0.2:3", "10003\t3:0.3:4"),
            "user", new Decoder(attrTypes: ["int", "float", "int"]))
        .Node(_files.Write("table_2", "id:int64\tweight:float", "30001\t0.1", "30002\t0.2", "30003\t0.3"),
            "movie", new Decoder(weighted: true))
        .Edge(_files.Write("table_3", "src_id:int64\tdst_id:int64\tweight:float",
                "10001\t10002\t0.1", "10002\t10001\t0.2", "10003\t10002\t0.3", "10004\t10003\t0.4"),
            ("user", "item", "click"), new Decoder(weighted: true))
        .Edge(_files.Write("table_4", "src_id:int64\tdst_id:int64\tweight:float\tattributes:string",
                "20001\t30001\t0.1\t0.10,0.11,0.12,0.13,0.14,0.15,0.16,0.17,0.18,0.19",
                "20001\t30003\t0.2\t0.20,0.21,0.22,0.23,0.24,0.25,0.26,0.27,0.28,0.29",
                "20003\t30001\t0.3\t0.30,0.31,0.32,0.33,0.34,0.35,0.36,0.37,0.38,0.39",
                "20004\t30002\t0.4\t0.40,0.41,0.42,0.43,0.44,0.45,0.46,0.47,0.48,0.49"),
            ("user", "movie", "click_v"), new Decoder(weighted: true, attrTypes: Enumerable.Repeat("float", 10).ToList(), attrDelimiter: ","));

    private static void AssertRow(NodeRecord node, long[] ints, float[] floats, int label = -1)
    {
        Assert.Equal(ints, node.IntAttributes.ToArray());
        Assert.Equal(floats, node.FloatAttributes.ToArray());
        Assert.Equal(label, node.Label);
    }

    [Fact]
    public void Tables_1_to_4_load_into_one_graph_and_users_only_edges_name_hold_GraphLearns_defaults()
    {
        var g = SeedGraph().Init();
        Assert.Equal(4, g.EdgeCount("click"));
        Assert.Equal(4, g.EdgeCount("click_v"));
        // 10004 (table 3) and 20001, 20003, 20004 (table 4) are users that table 1 does not list.
        Assert.Equal(7, g.NodeCount("user"));
        Assert.Equal(4, g.NodesWithDefaults["user"]);
        Assert.False(g.NodesWithDefaults.ContainsKey("movie"));

        AssertRow(g.GetNode("user", 10002), [1, 3], [0.2f]);
        foreach (var id in new long[] { 10004, 20001, 20003, 20004 })
        {
            var edgeOnly = g.GetNode("user", id);
            Assert.True(edgeOnly.DenseId >= 0, $"user {id} is a node of the graph");
            AssertRow(edgeOnly, [0, 0], [0f]);
        }
        Assert.Equal(0.2f, g.GetNode("movie", 30002).Weight);
        // item has no node source: its nodes are table 3's endpoints.
        Assert.Equal(3, g.NodeCount("item"));
    }

    [Fact]
    public void A_lookup_of_an_id_the_graph_does_not_hold_answers_the_defaults_and_TryGetNode_tells_it_apart()
    {
        var g = SeedGraph().Init();
        var absent = g.GetNode("user", 99_999);
        Assert.Equal((-1, -1), (absent.DenseId, absent.Label));
        AssertRow(absent, [0, 0], [0f]);
        Assert.False(g.TryGetNode("user", 99_999, out _));
        Assert.True(g.TryGetNode("user", 20001, out _));

        g.Defaults = new AttributeDefaults(Int: 1000, Float: 999.9f, String: "hehe", Weight: 0f, Label: -1);
        AssertRow(g.GetNode("user", 99_999), [1000, 1000], [999.9f]);
    }

    [Fact]
    public void Defaults_set_before_Init_are_the_values_of_the_users_only_edges_name()
    {
        var g = SeedGraph();
        g.Defaults = new AttributeDefaults(Int: 7, Float: 0.5f);
        g.Init();
        AssertRow(g.GetNode("user", 10004), [7, 7], [0.5f]);
        Assert.Equal([0.1f], g.GetNode("user", 10001).FloatAttributes.ToArray()); // listed users keep their own
    }

    [Theory]
    [InlineData("id:int64\tweight:float\tlabel:int32")]  // as GraphLearn documents it
    [InlineData("d_id:int64\tweight:float\tlabel:int32")] // GraphLearn's gen_test_data.py names the id column d_id
    [InlineData("node:long\tw:double\ty:int64")]         // names are the writer's; integer and float spellings vary
    [InlineData("id:int32\tweight:float64\tlabel:int")]
    public void Headers_are_read_by_position_and_type_as_GraphLearn_reads_them(string header)
    {
        var g = new GraphLearn.Graph().Node(_files.Write("nodes.txt", header, "1\t0.5\t2", "2\t0.25\t0"), "user", new Decoder(weighted: true, labeled: true)).Init();
        var node = g.GetNode("user", 1);
        Assert.Equal((0.5f, 2), (node.Weight, node.Label));
    }

    [Fact]
    public void Close_lets_go_of_the_graph_and_every_later_use_says_it_is_closed()
    {
        var g = SeedGraph().Init();
        g.Close();
        g.Close(); // twice is allowed, as GraphLearn's close
        Assert.False(g.IsInitialized);
        Assert.Contains("closed", Assert.Throws<InvalidOperationException>(() => g.GetNode("user", 10001)).Message);
        Assert.Contains("closed", Assert.Throws<InvalidOperationException>(() => g.Init()).Message);
    }
}
