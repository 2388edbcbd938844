using GraphActors.Contracts;

namespace GraphActors.Graph.Tests.Partitioning;

internal static class TestGraphs
{
    public static readonly CanonicalEdgeType Click = new("user", "click", "item");
    public static readonly CanonicalEdgeType Follow = new("user", "follow", "user");

    /// <summary>Users (features dim 3, labels, some negative ids) and items (dim 2, unlabelled); click and follow edges with weights.</summary>
    public static HeteroGraph UserItem(int users = 200, int items = 120, int clicks = 1500, int follows = 800, int seed = 1)
    {
        var rng = new Random(seed);
        var b = new HeteroGraphBuilder();
        var u = b.AddNodeType("user", AttributeSchema.Floats(3), labeled: true);
        for (var i = 0; i < users; i++)
        {
            var id = i % 3 == 0 ? -1000L - i : 10_000L + i * 7;
            u.TryAdd(id, [i, i * 0.5f, -i], i % 4, out _);
        }
        var it = b.AddNodeType("item", AttributeSchema.Floats(2));
        for (var i = 0; i < items; i++) it.TryAdd(500_000L + i * 13, [i * 2f, 1f], -1, out _);
        var c = b.AddEdgeType(Click, AttributeSchema.Empty, weighted: true);
        for (var k = 0; k < clicks; k++) c.Add(rng.Next(users), rng.Next(items), (float)rng.NextDouble());
        var f = b.AddEdgeType(Follow, AttributeSchema.Empty, weighted: true);
        for (var k = 0; k < follows; k++) f.Add(rng.Next(users), rng.Next(users), k);
        return b.Build();
    }

    /// <summary>One node type; <paramref name="edges"/> as (src, dst) over business ids 0..n-1, unit weights.</summary>
    public static HeteroGraph Homogeneous(int n, IEnumerable<(int, int)> edges, bool labeled = true)
    {
        var b = new HeteroGraphBuilder();
        var v = b.AddNodeType("v", AttributeSchema.Floats(1), labeled: labeled);
        for (var i = 0; i < n; i++) v.TryAdd(i, [i], i % 2, out _);
        var e = b.AddEdgeType(new CanonicalEdgeType("v", "e", "v"), AttributeSchema.Empty);
        foreach (var (s, d) in edges) e.Add(s, d);
        return b.Build();
    }

    /// <summary>Two cliques of <paramref name="size"/> joined by one edge.</summary>
    public static IEnumerable<(int, int)> TwoCliques(int size)
    {
        for (var c = 0; c < 2; c++)
            for (var i = 0; i < size; i++)
                for (var j = i + 1; j < size; j++)
                    yield return (c * size + i, c * size + j);
        yield return (0, size);
    }

    /// <summary>A ring of dense communities: each node links to random members of its own community, a few edges to the next community.</summary>
    public static IEnumerable<(int, int)> RingOfCommunities(int communities, int size, int degree, int bridges, int seed = 3)
    {
        var rng = new Random(seed);
        for (var c = 0; c < communities; c++)
        {
            var start = c * size;
            for (var i = 0; i < size; i++)
                for (var k = 0; k < degree; k++)
                {
                    var j = rng.Next(size);
                    if (j != i) yield return (start + i, start + j);
                }
            var next = (c + 1) % communities * size;
            for (var k = 0; k < bridges; k++) yield return (start + rng.Next(size), next + rng.Next(size));
        }
    }

    public static string TempDir()
    {
        return TempRoots.New("ga-part-tests");
    }
}
