// Partition stores with training masks, built the way a user builds them: importer or generator → ETL → partitioner.
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Tables;

namespace GraphActors.Cluster.Tests.Support;

public static class TrainingStores
{
    private const string Dt = "2024-01-01";
    private static readonly Lazy<string> SyntheticDir = new(() => Build("synthetic", 2, "hash", tables => SyntheticGenerator.Run(new GenerateOptions(tables)
    {
        Users = 1200, Items = 600, Clicks = 12_000, Swings = 6_000, Seed = 7, Dt = Dt,
    })));
    // The synthetic graph's next day: 10 % more nodes and edges (`generate --grow 0.1`), brought up to date by `partition --update`.
    private static readonly Lazy<string> SyntheticUpdatedDir = new(() =>
    {
        var root = Path.GetDirectoryName(Synthetic)!;
        var tables = Path.Combine(root, "tables-next");
        SyntheticGenerator.Run(new GenerateOptions(tables) { Users = 1200, Items = 600, Clicks = 12_000, Swings = 6_000, Seed = 7, Dt = Dt, Grow = 0.1 });
        var cgdf = Path.Combine(root, "cgdf-next");
        HiveToCgdf.Run(new EtlOptions(tables, Dt, cgdf));
        var store = Path.Combine(root, "store-next");
        GraphPartitioner.Update(new CgdfPartitionSource(cgdf), Synthetic, new PartitionOptions(store, 2));
        return store;
    });
    private static readonly Lazy<string> WideDir = new(() => Build("wide", 2, "hash", tables => SyntheticGenerator.Run(new GenerateOptions(tables)
    {
        Users = 29_000, Items = 1_000, Clicks = 150_000, Swings = 5_000, FeatureDim = 4096, Seed = 7, Dt = Dt,
        // A row group of 4,096-d rows is 16 KiB a row: keep the generator's and the ETL's buffers small.
        RowGroupRows = 1024,
    }), new MaskSplit(0.3, 0.35, 0.35, 42), keepSources: false));
    private static readonly Lazy<string> CoraDir = new(() => Build("cora", 2, "metis", tables => LinqsImporter.Run(SharedData.Require("cora"), "cora", tables, Dt)));

    private static readonly Lazy<string> MovieLensDir = new(() => Build("movielens", 2, "hash", tables =>
    {
        var raw = tables + "-raw";
        MovieLensShapeGenerator.Run(new MovieLensShapeOptions(raw));
        MovieLensImporter.Run(raw, tables, Dt);
    }));

    /// <summary>
    /// MovieLens-100K-shaped ratings as hocon/movielens-links.hocon's comment builds them (`generate movielens` defaults →
    /// `import movielens` → ETL → 2 hash partitions).
    /// </summary>
    public static string MovieLens => MovieLensDir.Value;

    /// <summary>A generated user/item graph (1200 users, 8 classes, chance 1/8), 2 hash partitions, random 60/20/20 masks.</summary>
    public static string Synthetic => SyntheticDir.Value;

    /// <summary><see cref="Synthetic"/> brought up to date with a grown next day: each partition owns two ranges of ids per type.</summary>
    public static string SyntheticUpdated => SyntheticUpdatedDir.Value;

    /// <summary>
    /// The generated user/item graph at the width tests must use: 29,000 users and 1,000 items with 4,096-d features
    /// (`graphactors generate --feature-dim 4096`, 475 MB of floats), 2 hash partitions, masks 30/35/35, so validation
    /// and test together hold 20,300 users. The tables and CGDF are deleted once the store is written.
    /// </summary>
    public static string Wide => WideDir.Value;

    /// <summary>Cora in 2 METIS partitions with its Planetoid masks (needs ../shared/data/cora).</summary>
    public static string Cora => CoraDir.Value;

    private static string Build(string name, int parts, string method, Action<string> writeTables, MaskSplit? split = null, bool keepSources = true)
    {
        var root = TempRoots.ForProcess($"ga-cluster-{name}");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var tables = Path.Combine(root, "tables");
        writeTables(tables);
        var cgdf = Path.Combine(root, "cgdf");
        HiveToCgdf.Run(new EtlOptions(tables, Dt, cgdf));
        var store = Path.Combine(root, "store");
        GraphPartitioner.Run(new CgdfPartitionSource(cgdf), new PartitionOptions(store, parts, method) { Split = split ?? new MaskSplit(0.6, 0.2, 0.2, 42) });
        if (!keepSources)
        {
            Directory.Delete(tables, recursive: true);
            Directory.Delete(cgdf, recursive: true);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(root, recursive: true); } catch (IOException) { } };
        return store;
    }
}
