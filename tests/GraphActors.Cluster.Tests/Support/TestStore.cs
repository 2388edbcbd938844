// A small heterogeneous graph partitioned once per test run into a temp partition store.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Cluster.Tests.Support;

public static class TestStore
{
    public const int UserFeatureDim = 64;
    public static readonly CanonicalEdgeType Click = new("user", "click", "item");
    public static readonly CanonicalEdgeType Follow = new("user", "follow", "user");

    private static readonly Lazy<string> Store = new(() => Build(parts: 2));

    private static readonly Lazy<string> UpdatedStore = new(() =>
        Build(parts: 2, (previous, dir) => GraphPartitioner.Update(new HeteroGraphSource(Graph(users: 230, items: 130, clicks: 1700, follows: 900)),
            previous, new PartitionOptions(dir, 2))));

    /// <summary>The 2-partition hash store shared by the tests (read-only once written).</summary>
    public static string TwoParts => Store.Value;

    /// <summary>
    /// <see cref="TwoParts"/>'s graph brought up to date by <c>partition --update</c> with a later one (30 more users, 10
    /// more items, other edges): each partition owns two ranges of ids per type.
    /// </summary>
    public static string Updated => UpdatedStore.Value;

    public static HeteroGraph Graph(int users = 200, int items = 120, int clicks = 1500, int follows = 800)
    {
        var rng = new Random(7);
        var b = new HeteroGraphBuilder();
        var u = b.AddNodeType("user", AttributeSchema.Floats(UserFeatureDim), labeled: true);
        var f = new float[UserFeatureDim];
        for (var i = 0; i < users; i++)
        {
            for (var j = 0; j < f.Length; j++) f[j] = i + j / 100f;
            u.TryAdd(10_000L + i * 7, f, i % 4, out _);
        }
        var it = b.AddNodeType("item", AttributeSchema.Floats(2));
        for (var i = 0; i < items; i++) it.TryAdd(500_000L + i * 13, [i * 2f, 1f], -1, out _);
        var c = b.AddEdgeType(Click, AttributeSchema.Empty, weighted: true);
        for (var k = 0; k < clicks; k++) c.Add(rng.Next(users), rng.Next(items), (float)rng.NextDouble() + 0.01f);
        var fo = b.AddEdgeType(Follow, AttributeSchema.Empty, weighted: true);
        for (var k = 0; k < follows; k++) fo.Add(rng.Next(users), rng.Next(users), k + 1);
        return b.Build();
    }

    public static string Build(int parts, Action<string, string>? update = null)
    {
        var run = TempRoots.New("ga-cluster-tests");
        var dir = Path.Combine(run, "store");
        // Shared by every test of the run, so it goes when the test process does (mappings on Linux survive the unlink).
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(run, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        GraphPartitioner.Run(new HeteroGraphSource(Graph()), new PartitionOptions(dir, parts, "hash"));
        if (update is null) return dir;
        var updated = Path.Combine(run, "updated");
        update(dir, updated);
        return updated;
    }
}
