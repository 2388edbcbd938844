// Small hand-made graphs whose every sample can be checked by eye.
using GraphActors.Contracts;
using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

internal static class TestGraphs
{
    /// <summary>Node 0 → 1, 2, 3, whose in-degrees are 1, 3 and 6 (nodes 4..8 also reach 2 and 3); node 9 has no edge.</summary>
    public static HeteroGraph InDegreeGraph()
    {
        var b = new HeteroGraphBuilder();
        var nodes = b.AddNodeType("n", AttributeSchema.Empty);
        for (var i = 0; i < 10; i++) nodes.TryAdd(i, 1f, -1, [], [], [], out _);
        var e = b.AddEdgeType(new CanonicalEdgeType("n", "e", "n"), AttributeSchema.Empty);
        e.Add(0, 1); e.Add(0, 2); e.Add(0, 3);
        e.Add(4, 2); e.Add(5, 2);
        for (var i = 4; i <= 8; i++) e.Add(i, 3);
        return b.Build();
    }

    /// <summary>
    /// Nodes 0..9 of type "n"; directed weighted edge type "e":
    /// 0 → 1,2,3,4 (weights 1,2,3,4); 1 → 0 (5); 2 → nothing; 5 → 6,7,8,9 (2,5,5,1).
    /// </summary>
    public static HeteroGraph Small()
    {
        var b = new HeteroGraphBuilder();
        var nodes = b.AddNodeType("n", AttributeSchema.Empty);
        for (var i = 0; i < 10; i++) nodes.TryAdd(i, 1f, -1, [], [], [], out _);
        var e = b.AddEdgeType(new CanonicalEdgeType("n", "e", "n"), AttributeSchema.Empty, weighted: true);
        e.Add(0, 1, 1); e.Add(0, 2, 2); e.Add(0, 3, 3); e.Add(0, 4, 4);
        e.Add(1, 0, 5);
        e.Add(5, 6, 2); e.Add(5, 7, 5); e.Add(5, 8, 5); e.Add(5, 9, 1);
        return b.Build();
    }

    /// <summary>Node 0 of type "n" links to nodes 1..<paramref name="degree"/>; edge type "e".</summary>
    public static HeteroGraph Star(int degree)
    {
        var b = new HeteroGraphBuilder();
        var nodes = b.AddNodeType("n", AttributeSchema.Empty);
        for (var i = 0; i <= degree; i++) nodes.TryAdd(i, 1f, -1, [], [], [], out _);
        var e = b.AddEdgeType(new CanonicalEdgeType("n", "e", "n"), AttributeSchema.Empty);
        for (var i = 1; i <= degree; i++) e.Add(0, i);
        return b.Build();
    }

    /// <summary>
    /// Users 100..109 (business ids; int, float, string attributes, weight, label) and items 200..204 (2 float
    /// features); undirected weighted u2i: user u (dense) buys items u % 5 and (u + 1) % 5 with weight u + 1; user 9
    /// buys every item. Directed i2i: item i → item (i + 1) % 5, weight 0.5.
    /// </summary>
    public static HeteroGraph UserItem()
    {
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", new AttributeSchema([AttributeKind.Int, AttributeKind.Float, AttributeKind.String]),
            weighted: true, labeled: true);
        for (var u = 0; u < 10; u++) users.TryAdd(100 + u, u * 0.5f, u % 2, [u * 10L], [u + 0.25f], [$"u{u}"], out _);
        var items = b.AddNodeType("item", AttributeSchema.Floats(2));
        for (var i = 0; i < 5; i++) items.TryAdd(200 + i, [i, -i], -1, out _);
        var u2i = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty, weighted: true, directed: false);
        for (var u = 0; u < 9; u++)
        {
            u2i.Add(u, u % 5, u + 1);
            u2i.Add(u, (u + 1) % 5, u + 1);
        }
        for (var i = 0; i < 5; i++) u2i.Add(9, i, 10);
        var i2i = b.AddEdgeType(new CanonicalEdgeType("item", "i2i", "item"), AttributeSchema.Empty, weighted: true);
        for (var i = 0; i < 5; i++) i2i.Add(i, (i + 1) % 5, 0.5f);
        return b.Build();
    }
}
