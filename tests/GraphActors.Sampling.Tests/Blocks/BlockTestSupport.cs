// A random heterogeneous graph, its partition stores, and checks shared by the block tests.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;

namespace GraphActors.Sampling.Tests.Blocks;

internal static class BlockTestSupport
{
    public static readonly NodeType User = "user";
    public static readonly NodeType Item = "item";
    public static readonly CanonicalEdgeType U2I = new(User, "u2i", Item);
    public static readonly CanonicalEdgeType U2IReverse = U2I.Reverse();
    public static readonly CanonicalEdgeType I2I = new(Item, "i2i", Item);
    public static readonly CanonicalEdgeType Follows = new(User, "follows", User);

    /// <summary>
    /// 120 users (3 features, 4 labels, business ids 7919·i + 13) and 80 items (2 features, business ids 5000 + 3i);
    /// undirected u2i (so u2i_reverse too), directed i2i, undirected same-type follows. Degrees range from 0 to ~20,
    /// so fanouts of 3–5 meet both small and large rows.
    /// </summary>
    public static HeteroGraph Hetero(int seed = 7)
    {
        var rnd = new Random(seed);
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType(User, AttributeSchema.Floats(3), labeled: true);
        for (var i = 0; i < 120; i++) users.TryAdd(7919L * i + 13, [i, i * 0.5f, -i], i % 4, out _);
        var items = b.AddNodeType(Item, AttributeSchema.Floats(2));
        for (var i = 0; i < 80; i++) items.TryAdd(5000 + 3L * i, [i + 0.25f, 1], -1, out _);
        var u2i = b.AddEdgeType(U2I, AttributeSchema.Empty, weighted: true, directed: false);
        for (var u = 0; u < 120; u++)
        {
            var d = rnd.Next(0, u % 10 == 0 ? 20 : 6);
            for (var j = 0; j < d; j++) u2i.Add(u, rnd.Next(80), 1 + rnd.Next(9));
        }
        var i2i = b.AddEdgeType(I2I, AttributeSchema.Empty);
        for (var e = 0; e < 300; e++) i2i.Add(rnd.Next(80), rnd.Next(40));
        var follows = b.AddEdgeType(Follows, AttributeSchema.Empty, directed: false);
        for (var e = 0; e < 250; e++) follows.Add(rnd.Next(120), rnd.Next(60));
        return b.Build();
    }

    /// <summary>
    /// A graph like <see cref="Hetero"/> whose business ids make hash partitioning into <paramref name="parts"/> keep
    /// every dense id: node v of a type with n nodes has business id parts·v + ⌊parts·v / n⌋, so id mod parts is
    /// ⌊parts·v / n⌋ and each partition owns a contiguous range of dense ids, in order. Its partition stores of 1 and of
    /// <paramref name="parts"/> parts therefore share their global ids and CSR rows. Users 0, 30, 60, 90 are hubs with
    /// 150 u2i edges each (rows wider than 64 for Floyd's hashed path).
    /// </summary>
    public static HeteroGraph RangeHetero(int seed = 17, int parts = 4)
    {
        const int userCount = 120, itemCount = 80;
        long Business(int v, int n) => (long)parts * v + parts * v / n;
        var rnd = new Random(seed);
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType(User, AttributeSchema.Floats(3), labeled: true);
        for (var i = 0; i < userCount; i++) users.TryAdd(Business(i, userCount), [i, i * 0.5f, -i], i % 4, out _);
        var items = b.AddNodeType(Item, AttributeSchema.Floats(2));
        for (var i = 0; i < itemCount; i++) items.TryAdd(Business(i, itemCount), [i + 0.25f, 1], -1, out _);
        var u2i = b.AddEdgeType(U2I, AttributeSchema.Empty, weighted: true, directed: false);
        for (var u = 0; u < userCount; u++)
        {
            var d = u % 30 == 0 ? 150 : rnd.Next(0, u % 10 == 0 ? 20 : 6);
            for (var j = 0; j < d; j++) u2i.Add(u, rnd.Next(itemCount), 1 + rnd.Next(9));
        }
        var i2i = b.AddEdgeType(I2I, AttributeSchema.Empty, weighted: true);
        for (var e = 0; e < 300; e++) i2i.Add(rnd.Next(itemCount), rnd.Next(40), 0.5f + rnd.Next(4));
        var follows = b.AddEdgeType(Follows, AttributeSchema.Empty, directed: false);
        for (var e = 0; e < 250; e++) follows.Add(rnd.Next(userCount), rnd.Next(60));
        return b.Build();
    }

    public static string Partition(HeteroGraph graph, string method, int parts = 3)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ga-blocks-{method}-{Guid.NewGuid():N}");
        GraphPartitioner.Run(new HeteroGraphSource(graph), new PartitionOptions(dir, parts, method));
        return dir;
    }

    /// <summary>Every in-neighbour of each id, through the store's full strategy.</summary>
    public static int[][] InNeighbors(IGraphStore store, CanonicalEdgeType type, int[] ids)
    {
        using var s = store.SampleNeighborsAsync(type, true, ids, 1, SamplingStrategy.Full, 0).AsTask().Result;
        var rows = new int[ids.Length][];
        for (var i = 0; i < ids.Length; i++) rows[i] = s.Neighbors[s.Offsets[i]..s.Offsets[i + 1]].ToArray();
        return rows;
    }

    public static long[] Business(IGraphStore store, NodeType type, ReadOnlySpan<int> ids)
    {
        var result = new long[ids.Length];
        store.GetBusinessIdsAsync(type, ids.ToArray(), result).AsTask().Wait();
        return result;
    }

    public static int[] Lookup(IGraphStore store, NodeType type, long[] business)
    {
        var result = new int[business.Length];
        store.LookupIdsAsync(type, business, result).AsTask().Wait();
        return result;
    }

    public static void AssertSameBatch(MiniBatch a, MiniBatch b)
    {
        Assert.Equal(a.Blocks.Length, b.Blocks.Length);
        for (var l = 0; l < a.Blocks.Length; l++)
        {
            var x = a.Blocks[l];
            var y = b.Blocks[l];
            Assert.Equal(x.NumDst, y.NumDst);
            for (var t = 0; t < x.SrcNodes.Length; t++) Assert.Equal(x.SrcNodes[t], y.SrcNodes[t]);
            for (var e = 0; e < x.Edges.Length; e++)
            {
                Assert.Equal(x.Edges[e].SrcLocal, y.Edges[e].SrcLocal);
                Assert.Equal(x.Edges[e].DstLocal, y.Edges[e].DstLocal);
            }
        }
        for (var t = 0; t < a.InputFeatures.Length; t++)
        {
            Assert.Equal(a.InputFeatures[t], b.InputFeatures[t]);
            Assert.Equal(a.Labels[t], b.Labels[t]);
        }
    }
}
