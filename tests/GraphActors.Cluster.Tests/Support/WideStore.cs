// A graph whose messages outgrow a remote frame: 4,096-d features and two hub users, partitioned once per test run.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Cluster.Tests.Support;

/// <summary>
/// 10,000 users with 4,096-d features (160 MiB of floats; the seed system's width is 500), 200 two-dimensional items,
/// clicks and follows as in <see cref="TestStore"/>, and two hub users (builder rows 0 and 1, which hash partitioning
/// puts in different partitions) with <see cref="HubEdges"/> follow edges each: a <c>full</c> neighbour answer of
/// 700k neighbours × (id + weight) is 5.6 MB, above a 4 MiB chunk. Two hash partitions.
/// </summary>
public static class WideStore
{
    public const int Dim = 4096;
    public const int Users = 10_000;
    public const int Items = 200;
    public const int HubEdges = 700_000;
    public static readonly CanonicalEdgeType Click = TestStore.Click;
    public static readonly CanonicalEdgeType Follow = TestStore.Follow;

    private static readonly Lazy<string> Store = new(Build);

    /// <summary>The 2-partition store (built on first use; read-only).</summary>
    public static string Path => Store.Value;

    public static long UserId(int row) => 10_000L + 7 * row;

    /// <summary>User <paramref name="row"/>'s feature <paramref name="j"/>: the row number plus a pattern along the row, so a misplaced row or column shows.</summary>
    public static float Feature(int row, int j) => row + (j % 97) / 128f;

    private static string Build()
    {
        var rng = new Random(11);
        var b = new HeteroGraphBuilder();
        var u = b.AddNodeType("user", AttributeSchema.Floats(Dim), labeled: true, capacity: Users);
        var f = new float[Dim];
        for (var i = 0; i < Users; i++)
        {
            for (var j = 0; j < Dim; j++) f[j] = Feature(i, j);
            u.TryAdd(UserId(i), f, i % 4, out _);
        }
        var it = b.AddNodeType("item", AttributeSchema.Floats(2));
        for (var i = 0; i < Items; i++) it.TryAdd(500_000L + i * 13, [i * 2f, 1f], -1, out _);
        var c = b.AddEdgeType(Click, AttributeSchema.Empty, weighted: true);
        for (var k = 0; k < 30_000; k++) c.Add(rng.Next(Users), rng.Next(Items), (float)rng.NextDouble() + 0.01f);
        var fo = b.AddEdgeType(Follow, AttributeSchema.Empty, weighted: true, capacity: 2 * HubEdges + 40_000);
        for (var k = 0; k < 40_000; k++) fo.Add(rng.Next(Users), rng.Next(Users), k + 1);
        for (var hub = 0; hub < 2; hub++)
            for (var k = 0; k < HubEdges; k++) fo.Add(hub, rng.Next(Users), 0.5f + k % 1000);
        var graph = b.Build();

        var run = TempRoots.New("ga-cluster-tests");
        var dir = System.IO.Path.Combine(run, "store");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(run, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        GraphPartitioner.Run(new HeteroGraphSource(graph, chunkSize: 1024), new PartitionOptions(dir, 2, "hash"));
        return dir;
    }
}
