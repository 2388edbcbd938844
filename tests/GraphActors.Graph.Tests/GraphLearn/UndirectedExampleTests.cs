using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

/// <summary>GraphLearn's documented undirected examples, loaded from files exactly as a GraphLearn user writes them.</summary>
public class UndirectedExampleTests : IDisposable
{
    // GraphLearn's example edge list; each edge's weight is 10·src + dst so a reverse edge shows whose weight it took.
    private static readonly (long Src, long Dst)[] Input = [(1, 2), (2, 1), (1, 3), (2, 3), (3, 3), (1, 4)];

    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private string WeightedEdges()
    {
        var lines = new List<string> { "src_id:int64\tdst_id:int64\tweight:float\tattributes:string" };
        foreach (var (s, d) in Input) lines.Add($"{s}\t{d}\t{10 * s + d}\te{s}{d}:{100 * s + d}");
        return _files.Write("edges.txt", lines.ToArray());
    }

    private static readonly Decoder EdgeDecoder = new(weighted: true, attrTypes: ["string", "int"]);

    [Fact]
    public void An_undirected_same_type_edge_gains_reverses_and_drops_duplicates_as_GraphLearn_documents()
    {
        var items = _files.Write("items.txt", "id:int64", "1", "2", "3", "4");
        var g = new GraphLearn.Graph()
            .Node(items, "item", new Decoder())
            .Edge(WeightedEdges(), ("item", "item", "i2i"), EdgeDecoder, directed: false)
            .Init();

        // (1,2) and (2,1) are both input edges, so each keeps its own weight; the others' reverses copy theirs.
        (long, long, float)[] expected =
        [
            (1, 2, 12), (2, 1, 21), (1, 3, 13), (3, 1, 13), (2, 3, 23), (3, 2, 23), (3, 3, 33), (1, 4, 14), (4, 1, 14),
        ];
        Assert.Equal(Loaded.Sorted(expected), Loaded.Sorted(Loaded.Triples(g.Store, "i2i")));
        Assert.Equal(9, g.EdgeCount("i2i"));
        Assert.Same(g.Store.Edges("i2i"), g.Store.Edges("i2i", reverse: true));
    }

    [Fact]
    public void A_reverse_edge_keeps_its_original_attributes()
    {
        var g = new GraphLearn.Graph()
            .Edge(WeightedEdges(), ("item", "item", "i2i"), EdgeDecoder, directed: false)
            .Init();
        var edges = g.Store.Edges("i2i");
        var ids = g.Store.Nodes("item").Ids;

        var dense3 = ids.GetDense(3);
        var dense1 = ids.GetDense(1);
        var position = (int)edges.Out.Offsets[dense3] + edges.Out.Row(dense3).IndexOf(dense1);
        var edgeId = edges.Out.EdgeIdAt(position);

        Assert.Equal(["e13"], edges.Data.StringsOf(edgeId).ToArray());
        Assert.Equal([103L], edges.Data.IntsOf(edgeId).ToArray());
        Assert.Equal(13f, edges.Data.Weight(edgeId));
    }

    [Fact]
    public void An_undirected_edge_between_types_keeps_its_edges_and_adds_a_reverse_type_with_their_weights()
    {
        var users = _files.Write("users.txt", "id:int64", "1", "2", "3");
        var items = _files.Write("items.txt", "id:int64", "1", "2", "3", "4");
        var g = new GraphLearn.Graph()
            .Node(users, "user", new Decoder())
            .Node(items, "item", new Decoder())
            .Edge(WeightedEdges(), ("user", "item", "u2i"), EdgeDecoder, directed: false)
            .Init();

        var forward = Input.Select(e => (e.Src, e.Dst, (float)(10 * e.Src + e.Dst)));
        Assert.Equal(Loaded.Sorted(forward), Loaded.Sorted(Loaded.Triples(g.Store, "u2i")));

        // item → user: GraphLearn's (2,1) (1,2) (3,1) (3,2) (3,3) (4,1), each with the weight of the edge it reverses.
        (long, long, float)[] reverse = [(2, 1, 12), (1, 2, 21), (3, 1, 13), (3, 2, 23), (3, 3, 33), (4, 1, 14)];
        Assert.Equal(Loaded.Sorted(reverse), Loaded.Sorted(Loaded.Triples(g.Store, "u2i", reverse: true)));

        var reverseType = g.Store.Edges("u2i", reverse: true);
        Assert.Equal("u2i_reverse", reverseType.Type.Relation);
        Assert.Equal("item", reverseType.Type.Src.Name);
        Assert.Equal("user", reverseType.Type.Dst.Name);
        Assert.Equal(("item", "user", "u2i_reverse"), g.GetEdgeType("u2i_reverse"));
        Assert.Equal(["u2i", "u2i_reverse"], g.EdgeTypes);
    }

    [Fact]
    public void The_reverse_type_keeps_each_edges_attributes()
    {
        var g = new GraphLearn.Graph()
            .Edge(WeightedEdges(), ("user", "item", "u2i"), EdgeDecoder, directed: false)
            .Init();
        var reverse = g.Store.Edges("u2i", reverse: true);
        var item4 = g.Store.Nodes("item").Ids.GetDense(4);

        var edgeId = reverse.Out.EdgeIdAt((int)reverse.Out.Offsets[item4]);

        Assert.Equal(1, g.Store.Nodes("user").Ids.ToBusiness(reverse.Out.Row(item4)[0]));
        Assert.Equal(["e14"], reverse.Data.StringsOf(edgeId).ToArray());
        Assert.Equal([104L], reverse.Data.IntsOf(edgeId).ToArray());
    }

    [Fact]
    public void A_directed_edge_type_keeps_exactly_its_input_including_repeats()
    {
        var edges = _files.Write("edges.txt", "src_id:int64\tdst_id:int64", "1\t2", "2\t1", "1\t2", "3\t3", "1\t4");
        var g = new GraphLearn.Graph().Edge(edges, ("item", "item", "i2i"), new Decoder()).Init();

        (long, long)[] expected = [(1, 2), (2, 1), (1, 2), (3, 3), (1, 4)];
        Assert.Equal(Loaded.Sorted(expected), Loaded.Sorted(Loaded.Pairs(g.Store, "i2i")));
        Assert.Equal(["i2i"], g.EdgeTypes);
        Assert.Throws<KeyNotFoundException>(() => g.Store.Edges("i2i", reverse: true));
    }

    [Fact]
    public void Both_CSR_directions_agree_and_every_row_is_sorted()
    {
        var g = new GraphLearn.Graph()
            .Edge(WeightedEdges(), ("user", "item", "u2i"), EdgeDecoder, directed: false)
            .Edge(WeightedEdges(), ("item", "item", "i2i"), EdgeDecoder, directed: false)
            .Init();

        foreach (var edges in g.Store.EdgeTypes)
        {
            var seen = new int[edges.Count];
            for (var row = 0; row < edges.Out.RowCount; row++)
            {
                AssertSorted(edges.Out.Row(row));
                var start = (int)edges.Out.Offsets[row];
                var neighbors = edges.Out.Row(row);
                for (var i = 0; i < neighbors.Length; i++)
                {
                    var edgeId = edges.Out.EdgeIdAt(start + i);
                    var inStart = (int)edges.In.Offsets[neighbors[i]];
                    var inRow = edges.In.Row(neighbors[i]);
                    var matches = 0;
                    for (var j = 0; j < inRow.Length; j++)
                    {
                        if (edges.In.EdgeIdAt(inStart + j) != edgeId) continue;
                        matches++;
                        Assert.Equal(row, inRow[j]);
                    }
                    Assert.Equal(1, matches);
                    seen[edgeId]++;
                }
            }
            Assert.All(seen, count => Assert.Equal(1, count));
            for (var row = 0; row < edges.In.RowCount; row++) AssertSorted(edges.In.Row(row));
            Assert.Equal(edges.Out.EdgeCount, edges.In.EdgeCount);
        }
    }

    private static void AssertSorted(ReadOnlySpan<int> row)
    {
        for (var i = 1; i < row.Length; i++) Assert.True(row[i - 1] <= row[i], $"row not sorted at {i}: {row[i - 1]} > {row[i]}");
    }
}
