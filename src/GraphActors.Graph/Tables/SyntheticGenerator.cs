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
        HiveLayout.CheckDt(o.Dt);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rng = new Random(o.Seed);
        var k = o.Classes;
        var centroids = new float[k * o.FeatureDim];
        for (var i = 0; i < centroids.Length; i++) centroids[i] = (float)Gaussian(rng);
        var userComm = new byte[o.Users];
        var itemComm = new byte[o.Items];
        if (k > 255) throw new ArgumentException("At most 255 classes.");
        for (var u = 0; u < o.Users; u++) userComm[u] = (byte)rng.Next(k);
        for (var i = 0; i < o.Items; i++) itemComm[i] = (byte)rng.Next(k);
        var itemsByComm = Enumerable.Range(0, k).Select(_ => new List<int>()).ToArray();
        for (var i = 0; i < o.Items; i++) itemsByComm[itemComm[i]].Add(i);

        // Clicks first: user labels depend on them.
        var clickCounts = new int[(long)o.Users * k];
        using (var w = new HiveEdgeTableWriter(o.Output, "click", o.Dt, o.RowGroupRows * 2, o.RowsPerFile * 2))
        {
            for (long c = 0; c < o.Clicks; c++)
            {
                var u = rng.Next(o.Users);
                var item = PickItem(rng, userComm[u], itemsByComm, o);
                clickCounts[(long)u * k + itemComm[item]]++;
                w.Add(UserId(u), ItemId(item), "user", "item", 1f);
                if ((c & 0xFFFFF) == 0xFFFFF) progress?.WriteLine($"generate: edges_click {c + 1:N0} rows");
            }
            w.Complete();
        }

        var features = new float[o.FeatureDim];
        using (var w = new HiveNodeTableWriter(o.Output, "user", o.Dt, rowGroupRows: o.RowGroupRows, rowsPerFile: o.RowsPerFile))
        {
            for (var u = 0; u < o.Users; u++)
            {
                Features(rng, centroids, userComm[u], o, features);
                w.Add(UserId(u), features, UserLabel(clickCounts.AsSpan((int)((long)u * k), k), userComm[u]));
            }
            w.Complete();
        }
        using (var w = new HiveNodeTableWriter(o.Output, "item", o.Dt, rowGroupRows: o.RowGroupRows, rowsPerFile: o.RowsPerFile))
        {
            for (var i = 0; i < o.Items; i++)
            {
                Features(rng, centroids, itemComm[i], o, features);
                w.Add(ItemId(i), features, itemComm[i]);
            }
            w.Complete();
        }
        using (var w = new HiveEdgeTableWriter(o.Output, "swing", o.Dt, o.RowGroupRows * 2, o.RowsPerFile * 2))
        {
            for (long s = 0; s < o.Swings; s++)
            {
                var a = rng.Next(o.Items);
                var b = PickItem(rng, itemComm[a], itemsByComm, o);
                w.Add(ItemId(a), ItemId(b), "item", "item", (float)(0.5 + 0.5 * rng.NextDouble()));
                if ((s & 0xFFFFF) == 0xFFFFF) progress?.WriteLine($"generate: edges_swing {s + 1:N0} rows");
            }
            w.Complete();
        }
        return new GenerateSummary(o.Users, o.Items, o.Clicks, o.Swings, clock.Elapsed.TotalSeconds);
    }

    internal static int UserLabel(ReadOnlySpan<int> counts, int own)
    {
        var best = own;
        for (var c = 0; c < counts.Length; c++)
            if (counts[c] > counts[best]) best = c;
        return best;
    }

    private static int PickItem(Random rng, int community, List<int>[] itemsByComm, GenerateOptions o)
    {
        var pool = itemsByComm[community];
        if (pool.Count > 0 && rng.NextDouble() < o.Homophily) return pool[rng.Next(pool.Count)];
        return rng.Next(o.Items);
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
