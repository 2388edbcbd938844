using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

public class GraphObjectTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void The_store_before_Init_throws_saying_to_call_Init()
    {
        var g = new GraphLearn.Graph().Node(_files.Write("n.txt", "id:int64", "1"), "user", new Decoder());
        var e = Assert.Throws<InvalidOperationException>(() => g.Store);
        Assert.Contains("Init()", e.Message);
    }

    [Fact]
    public void A_failed_Init_leaves_the_graph_uninitialised_and_a_retry_after_fixing_the_input_loads()
    {
        var users = _files.Write("users.txt", "id:int64", "1", "2");
        var edges = _files.Write("u2u.txt", "src_id:int64\tdst_id:int64", "1\t2", "2\tthree");
        var g = new GraphLearn.Graph().Node(users, "user", new Decoder()).Edge(edges, ("user", "user", "u2u"), new Decoder());

        Assert.Throws<GraphInputException>(() => g.Init());
        Assert.False(g.IsInitialized);
        Assert.Throws<InvalidOperationException>(() => g.Store);

        _files.Write("u2u.txt", "src_id:int64\tdst_id:int64", "1\t2", "2\t3"); // user 3 only the edge names: a node with defaults
        g.Init();
        Assert.Equal(3, g.NodeCount("user"));
        Assert.Equal(2, g.EdgeCount("u2u"));
    }

    [Fact]
    public void After_a_successful_Init_the_graph_is_fixed()
    {
        var users = _files.Write("users.txt", "id:int64", "1");
        var g = new GraphLearn.Graph().Node(users, "user", new Decoder()).Init();

        Assert.Throws<InvalidOperationException>(() => g.Init());
        Assert.Throws<InvalidOperationException>(() => g.Node(users, "other", new Decoder()));
        Assert.Throws<InvalidOperationException>(() => g.Edge(users, ("user", "user", "e"), new Decoder()));
    }

    [Fact]
    public void A_node_type_without_a_node_source_takes_its_nodes_from_edge_endpoints()
    {
        var edges = _files.Write("u2i.txt", "src_id:int64\tdst_id:int64", "1\t-10", "2\t-10", "1\t5000000000");
        var g = new GraphLearn.Graph().Edge(edges, ("user", "item", "u2i"), new Decoder()).Init();

        Assert.Equal(2, g.NodeCount("user"));
        Assert.Equal(2, g.NodeCount("item"));
        Assert.Equal([-10L, 5_000_000_000L], g.Store.Nodes("item").Ids.BusinessIds.ToArray());
        Assert.Equal(["user", "item"], g.NodeTypes);
    }

    [Fact]
    public void Declaring_a_node_type_or_edge_type_twice_is_refused()
    {
        var g = new GraphLearn.Graph().Node("a.txt", "user", new Decoder()).Edge("e.txt", ("user", "item", "u2i"), new Decoder(), directed: false);

        Assert.Throws<ArgumentException>(() => g.Node("b.txt", "user", new Decoder()));
        Assert.Throws<ArgumentException>(() => g.Edge("f.txt", ("user", "user", "u2i"), new Decoder()));
        Assert.Throws<ArgumentException>(() => g.Edge("f.txt", ("item", "user", "u2i_reverse"), new Decoder()));
    }

    [Fact]
    public void Masked_node_sources_register_one_per_mask_and_keep_their_ids_in_file_order()
    {
        var items = _files.Write("items.txt", "id:int64\tlabel:int32", "1\t0", "2\t1", "3\t0", "4\t1");
        var train = _files.Write("train.txt", "id:int64\tweight:float", "3\t1.0", "1\t1.0");
        var test = _files.Write("test.txt", "id:int64\tweight:float", "2\t1.0");
        var trainDecoder = new Decoder(weighted: true);
        var g = new GraphLearn.Graph()
            .Node(items, "item", new Decoder(labeled: true))
            .Node(train, "item", trainDecoder, Mask.Train)
            .Node(test, "item", new Decoder(weighted: true), Mask.Test);

        // Another TRAIN source for the type is refused; a VAL one is a new set.
        var twice = Assert.Throws<ArgumentException>(() => g.Node(test, "item", new Decoder(weighted: true), Mask.Train));
        Assert.Contains("TRAIN", twice.Message);
        g.Init();

        Assert.Equal([3L, 1], g.MaskedNodeIds("item", Mask.Train));
        Assert.Equal([2L], g.MaskedNodeIds("item", Mask.Test));
        // The masks are sets of the type's nodes, not node types or nodes of their own.
        Assert.Equal(["item"], g.NodeTypes);
        Assert.Equal(4, g.NodeCount("item"));
        Assert.Same(trainDecoder, g.GetNodeDecoder("item", Mask.Train));
        var missing = Assert.Throws<KeyNotFoundException>(() => g.MaskedNodeIds("item", Mask.Val));
        Assert.Contains("Mask.Val", missing.Message);
    }

    [Fact]
    public void A_masked_source_of_an_undeclared_type_or_with_a_repeated_id_fails_Init()
    {
        var items = _files.Write("items.txt", "id:int64", "1", "2");
        var train = _files.Write("train.txt", "id:int64", "1", "2", "1");
        var orphan = Assert.Throws<InvalidOperationException>(() =>
            new GraphLearn.Graph().Node(items, "item", new Decoder()).Node(train, "user", new Decoder(), Mask.Train).Init());
        Assert.Contains("'user'", orphan.Message);
        Assert.Contains("TRAIN", orphan.Message);

        var g = new GraphLearn.Graph().Node(items, "item", new Decoder()).Node(train, "item", new Decoder(), Mask.Train);
        var repeated = Assert.Throws<GraphInputException>(() => g.Init());
        Assert.Equal(4, repeated.Line);
        Assert.Equal("id", repeated.Field);
        Assert.False(g.IsInitialized);
    }

    [Fact]
    public void Metadata_answers_as_GraphLearn_does_for_types_decoders_and_counts()
    {
        var nodeDecoder = new Decoder(labeled: true);
        var edgeDecoder = new Decoder(weighted: true);
        var users = _files.Write("users.txt", "id:int64\tlabel:int32", "1\t0", "2\t1");
        var items = _files.Write("items.txt", "id:int64\tlabel:int32", "7\t2");
        var edges = _files.Write("u2i.txt", "src_id:int64\tdst_id:int64\tweight:float", "1\t7\t0.5", "2\t7\t1.5");
        var g = new GraphLearn.Graph()
            .Node(users, "user", nodeDecoder)
            .Node(items, "item", nodeDecoder)
            .Edge(edges, ("user", "item", "click"), edgeDecoder, directed: false)
            .Init();

        Assert.Equal(["user", "item"], g.NodeTypes);
        Assert.Equal(["click", "click_reverse"], g.EdgeTypes);
        Assert.Equal(("user", "item", "click"), g.GetEdgeType("click"));
        Assert.Equal(("item", "user", "click_reverse"), g.GetEdgeType("click_reverse"));
        Assert.False(g.IsDirected("click_reverse"));
        Assert.Same(nodeDecoder, g.GetNodeDecoder("item"));
        Assert.Same(edgeDecoder, g.GetEdgeDecoder("click_reverse"));
        Assert.Equal(2, g.NodeCount("user"));
        Assert.Equal(2, g.EdgeCount("click_reverse"));
        Assert.Equal(3, g.Store.Nodes("item").Schema.LabelCount);
        Assert.Throws<KeyNotFoundException>(() => g.GetEdgeType("view"));
    }

    [Fact]
    public void A_directory_source_reads_its_files_in_name_order()
    {
        var dir = Path.Combine(_files.Directory, "users");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "part-1"), "id:int64\n3\n4\n");
        File.WriteAllText(Path.Combine(dir, "part-0"), "id:int64\n1\n2\n");
        var g = new GraphLearn.Graph().Node("file://" + dir, "user", new Decoder()).Init();

        Assert.Equal([1L, 2, 3, 4], g.Store.Nodes("user").Ids.BusinessIds.ToArray());
    }

    [Fact]
    public void A_duplicate_across_files_of_a_directory_names_both_files()
    {
        var dir = Path.Combine(_files.Directory, "users");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "part-0"), "id:int64\n1\n2\n");
        File.WriteAllText(Path.Combine(dir, "part-1"), "id:int64\n3\n2\n");
        var e = Assert.Throws<GraphInputException>(() => new GraphLearn.Graph().Node(dir, "user", new Decoder()).Init());

        Assert.Equal(Path.Combine(dir, "part-1"), e.SourceName);
        Assert.Equal(3, e.Line);
        Assert.Contains("line 3 of " + Path.Combine(dir, "part-0"), e.Message);
    }
}
