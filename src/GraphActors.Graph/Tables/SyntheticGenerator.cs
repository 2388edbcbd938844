// The generate verb: a synthetic user/item graph in Hive layout whose labels need features AND neighbours.
namespace GraphActors.Graph.Tables;

public sealed record GenerateOptions(string Output)
{
    public int Users { get; init; } = 20_000;
    public int Items { get; init; } = 10_000;
    public long Clicks { get; init; } = 200_000;
    public long Swings { get; init; } = 100_000;
    public int FeatureDim { get; init; } = 32;
    public int Classes { get; init; } = 8;
    public int Seed { get; init; } = 42;
    public string Dt { get; init; } = "2024-01-01";
    /// <summary>Probability that an edge stays inside its source's community.</summary>
    public double Homophily { get; init; } = 0.8;
    /// <summary>Scale of the community centroid in a feature vector; the noise is N(0, 1) per dimension.</summary>
    public double Signal { get; init; } = 0.25;
    /// <summary>
    /// A later day of the same graph: the graph of these options unchanged (nodes, features, edges, in the same order),
    /// plus this share more users, items, clicks and swings drawn from a second stream, whose edges reach old and new
    /// nodes alike (so old users' labels may move). 0 = the graph itself.
    /// </summary>
    public double Grow { get; init; }
    public int RowGroupRows { get; init; } = 65_536;
    public long RowsPerFile { get; init; } = 4_000_000;
}

public sealed record GenerateSummary(long Users, long Items, long Clicks, long Swings, double Seconds);

/// <summary>
/// Writes <c>nodes_user</c>, <c>nodes_item</c>, <c>edges_click</c> (user → item) and <c>edges_swing</c> (item → item).
/// Each node has a latent community (one of <c>Classes</c>); edges stay in the source's community with probability
/// <c>Homophily</c>; features are <c>Signal · centroid[community] + N(0, I)</c>, weak alone. Item label = its community;
/// user label = the community most of its clicked items belong to (its own latent community when it clicked nothing
/// or on a tie that includes it), so a user's label is a function of its neighbourhood. See docs/DATA.md.
/// Memory: community arrays, per-user click counts (users × classes ints) and one row group per table.
/// </summary>
public static class SyntheticGenerator
{
    /// <summary>Business ids are sparse and disjoint per type so that ETL's id mapping is exercised.</summary>
    public static long UserId(int u) => 1_000_000_000L + 3L * u;
    public static long ItemId(int i) => 5_000_000_000L + 7L * i;

    public static GenerateSummary Run(GenerateOptions o, TextWriter? progress = null)
    {
        if (o.Users <= 0 || o.Items <= 0 || o.Classes <= 0 || o.FeatureDim <= 0)
            throw new BadInputException($"users ({o.Users}), items ({o.Items}), classes ({o.Classes}) and feature dim ({o.FeatureDim}) must be positive.");
        if (!double.IsFinite(o.Grow) || o.Grow < 0 || o.Grow > 10)
            throw new BadInputException($"--grow {o.Grow}: must be between 0 and 10 (the share of nodes and edges a later day adds).");
        HiveLayout.CheckDt(o.Dt);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rng = new Random(o.Seed);
        // The day's additions draw from their own stream, so the base graph's draws (and so its tables) stay the same.
        var more = new Random(unchecked(o.Seed * 7919 + 1));
        var (users, items) = (o.Users + (int)Math.Round(o.Users * o.Grow), o.Items + (int)Math.Round(o.Items * o.Grow));
        var (moreClicks, moreSwings) = ((long)Math.Round(o.Clicks * o.Grow), (long)Math.Round(o.Swings * o.Grow));
        var k = o.Classes;
        var centroids = new float[k * o.FeatureDim];
        for (var i = 0; i < centroids.Length; i++) centroids[i] = (float)Gaussian(rng);
        var userComm = new byte[users];
        var itemComm = new byte[items];
        if (k > 255) throw new ArgumentException("At most 255 classes.");
        for (var u = 0; u < o.Users; u++) userComm[u] = (byte)rng.Next(k);
        for (var i = 0; i < o.Items; i++) itemComm[i] = (byte)rng.Next(k);
        for (var u = o.Users; u < users; u++) userComm[u] = (byte)more.Next(k);
        for (var i = o.Items; i < items; i++) itemComm[i] = (byte)more.Next(k);
        var baseItems = ItemsByCommunity(itemComm, o.Items, k);
        var allItems = o.Grow > 0 ? ItemsByCommunity(itemComm, items, k) : baseItems;

        // Clicks first: user labels depend on them.
        var clickCounts = new int[(long)users * k];
        using (var w = new HiveEdgeTableWriter(o.Output, "click", o.Dt, o.RowGroupRows * 2, o.RowsPerFile * 2))
        {
            void Click(int u, int item, long c)
            {
                clickCounts[(long)u * k + itemComm[item]]++;
                w.Add(UserId(u), ItemId(item), "user", "item", 1f);
                if ((c & 0xFFFFF) == 0xFFFFF) progress?.WriteLine($"generate: edges_click {c + 1:N0} rows");
            }
            for (long c = 0; c < o.Clicks; c++)
            {
                var u = rng.Next(o.Users);
                Click(u, PickItem(rng, userComm[u], baseItems, o.Homophily, o.Items), c);
            }
            for (long c = 0; c < moreClicks; c++)
            {
                var u = more.Next(users);
                Click(u, PickItem(more, userComm[u], allItems, o.Homophily, items), o.Clicks + c);
            }
            w.Complete();
        }

        var features = new float[o.FeatureDim];
        using (var w = new HiveNodeTableWriter(o.Output, "user", o.Dt, rowGroupRows: o.RowGroupRows, rowsPerFile: o.RowsPerFile))
        {
            for (var u = 0; u < users; u++)
            {
                Features(u < o.Users ? rng : more, centroids, userComm[u], o, features);
                w.Add(UserId(u), features, UserLabel(clickCounts.AsSpan((int)((long)u * k), k), userComm[u]));
            }
            w.Complete();
        }
        using (var w = new HiveNodeTableWriter(o.Output, "item", o.Dt, rowGroupRows: o.RowGroupRows, rowsPerFile: o.RowsPerFile))
        {
            for (var i = 0; i < items; i++)
            {
                Features(i < o.Items ? rng : more, centroids, itemComm[i], o, features);
                w.Add(ItemId(i), features, itemComm[i]);
            }
            w.Complete();
        }
        using (var w = new HiveEdgeTableWriter(o.Output, "swing", o.Dt, o.RowGroupRows * 2, o.RowsPerFile * 2))
        {
            void Swing(Random r, int a, int b, long s)
            {
                w.Add(ItemId(a), ItemId(b), "item", "item", (float)(0.5 + 0.5 * r.NextDouble()));
                if ((s & 0xFFFFF) == 0xFFFFF) progress?.WriteLine($"generate: edges_swing {s + 1:N0} rows");
            }
            for (long s = 0; s < o.Swings; s++)
            {
                var a = rng.Next(o.Items);
                Swing(rng, a, PickItem(rng, itemComm[a], baseItems, o.Homophily, o.Items), s);
            }
            for (long s = 0; s < moreSwings; s++)
            {
                var a = more.Next(items);
                Swing(more, a, PickItem(more, itemComm[a], allItems, o.Homophily, items), o.Swings + s);
            }
            w.Complete();
        }
        return new GenerateSummary(users, items, o.Clicks + moreClicks, o.Swings + moreSwings, clock.Elapsed.TotalSeconds);
    }

    private static List<int>[] ItemsByCommunity(byte[] itemComm, int count, int k)
    {
        var byComm = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < count; i++) byComm[itemComm[i]].Add(i);
        return byComm;
    }

    internal static int UserLabel(ReadOnlySpan<int> counts, int own)
    {
        var best = own;
        for (var c = 0; c < counts.Length; c++)
            if (counts[c] > counts[best]) best = c;
        return best;
    }

    private static int PickItem(Random rng, int community, List<int>[] itemsByComm, double homophily, int items)
    {
        var pool = itemsByComm[community];
        if (pool.Count > 0 && rng.NextDouble() < homophily) return pool[rng.Next(pool.Count)];
        return rng.Next(items);
    }

    private static void Features(Random rng, float[] centroids, int community, GenerateOptions o, float[] into)
    {
        var dim = o.FeatureDim;
        for (var d = 0; d < dim; d++)
            into[d] = (float)(o.Signal * centroids[community * dim + d] + Gaussian(rng));
    }

    private static double Gaussian(Random rng)
    {
        // Box–Muller; one draw per call keeps the stream simple to reason about.
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
