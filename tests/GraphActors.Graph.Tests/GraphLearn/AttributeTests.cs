using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

public class AttributeTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Int_float_and_string_node_attributes_round_trip_by_business_id()
    {
        var nodes = _files.Write("items.txt",
            "id:int64\tweight:float\tlabel:int32\tattributes:string",
            "10001\t0.25\t3\tshanghai:-9000000000:0.1:1e-3",
            "-5\t1.5\t0\t:7:-2.5:3");
        var g = new GraphLearn.Graph()
            .Node(nodes, "item", new Decoder(weighted: true, labeled: true, attrTypes: ["string", "int", "float", "float"]))
            .Init();

        var a = g.GetNode("item", 10001);
        Assert.Equal(0.25f, a.Weight);
        Assert.Equal(3, a.Label);
        Assert.Equal(["shanghai"], a.StringAttributes.ToArray());
        Assert.Equal([-9_000_000_000L], a.IntAttributes.ToArray());
        Assert.Equal([0.1f, 0.001f], a.FloatAttributes.ToArray());

        var b = g.GetNode("item", -5);
        Assert.Equal([""], b.StringAttributes.ToArray());
        Assert.Equal([7L], b.IntAttributes.ToArray());
        Assert.Equal([-2.5f, 3f], g.GetFeatures("item", -5).ToArray());
        Assert.False(g.TryGetNode("item", 10002, out _));
        var absent = g.GetNode("item", 10002); // GraphLearn answers an absent id with the default values
        Assert.Equal((-1, -1, 0f), (absent.DenseId, absent.Label, absent.Weight));
        Assert.Equal([""], absent.StringAttributes.ToArray());
        Assert.Equal([0L], absent.IntAttributes.ToArray());
        Assert.Equal([0f, 0f], absent.FloatAttributes.ToArray());
    }

    [Fact]
    public void Float_attributes_form_the_node_feature_slab_in_dense_order()
    {
        var nodes = _files.Write("users.txt", "id:int64\tattributes:string", "30\t1,2,3", "20\t4,5,6", "10\t7,8,9");
        var g = new GraphLearn.Graph().Node(nodes, "user", new Decoder(attrTypes: ["float", "float", "float"], attrDelimiter: ",")).Init();

        var users = g.Store.Nodes("user");
        Assert.Equal(3, users.Schema.FeatureDim);
        Assert.Equal(3, users.Features.Rows);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8, 9], users.Features.Data.ToArray());
        Assert.Equal([7f, 8, 9], users.Features.Row(users.Ids.GetDense(10)).ToArray());
    }

    [Fact]
    public void Edge_attributes_and_labels_round_trip_with_a_custom_delimiter()
    {
        var edges = _files.Write("u2i.txt",
            "src_id:int64\tdst_id:int64\tweight:float\tlabel:int32\tattributes:string",
            "1\t10\t0.5\t1\tred||42||0.75",
            "2\t10\t2\t0\tgrey||-1||1e2");
        var g = new GraphLearn.Graph()
            .Edge(edges, ("user", "item", "u2i"), new Decoder(weighted: true, labeled: true, attrTypes: ["string", "int", "float"], attrDelimiter: "||"))
            .Init();

        var u2i = g.Store.Edges("u2i");
        var user2 = g.Store.Nodes("user").Ids.GetDense(2);
        var edgeId = u2i.Out.EdgeIdAt((int)u2i.Out.Offsets[user2]);

        Assert.Equal(2f, u2i.Data.Weight(edgeId));
        Assert.Equal(0, u2i.Data.Label(edgeId));
        Assert.Equal(["grey"], u2i.Data.StringsOf(edgeId).ToArray());
        Assert.Equal([-1L], u2i.Data.IntsOf(edgeId).ToArray());
        Assert.Equal([100f], u2i.Data.FloatsOf(edgeId).ToArray());
    }

    [Fact]
    public void GraphLearns_feature_column_name_is_accepted_for_the_attributes()
    {
        var nodes = _files.Write("n.txt", "id:int64\tfeature:string", "0\tshanghai:0:0.5");
        var g = new GraphLearn.Graph().Node(nodes, "user", new Decoder(attrTypes: ["string", "int", "float"])).Init();
        Assert.Equal(["shanghai"], g.GetNode("user", 0).StringAttributes.ToArray());
    }

    [Fact]
    public void Windows_line_endings_and_a_byte_order_mark_are_read()
    {
        var path = Path.Combine(_files.Directory, "crlf.txt");
        File.WriteAllText(path, "id:int64\tweight:float\r\n1\t0.5\r\n2\t1.5\r\n", new System.Text.UTF8Encoding(true));
        var g = new GraphLearn.Graph().Node(path, "user", new Decoder(weighted: true)).Init();
        Assert.Equal(1.5f, g.GetNode("user", 2).Weight);
    }
}
