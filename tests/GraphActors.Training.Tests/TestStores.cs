// Builds stores the way a user would: importer → ETL → partitioner (hash, 2 parts) → PartitionedGraphStore.
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Graph.Tables;
using GraphActors.Sampling;

namespace GraphActors.Training.Tests;

internal static class TestStores
{
    private const string Dt = "2024-01-01";
    private static readonly Lazy<string> CoraDir = new(() => Build("cora", tables => LinqsImporter.Run(SharedData.Require("cora"), "cora", tables, Dt)));
    private static readonly Lazy<string> SyntheticDir = new(() => Build("synthetic", tables => SyntheticGenerator.Run(new GenerateOptions(tables)
    {
        Users = 3000, Items = 1500, Clicks = 30_000, Swings = 15_000, Seed = 7, Dt = Dt,
    })));

    private static readonly Lazy<string> MovieLensDir = new(() => Build("movielens", tables =>
    {
        var raw = tables + "-raw";
        MovieLensShapeGenerator.Run(new MovieLensShapeOptions(raw) { Seed = 5 });
        MovieLensImporter.Run(raw, tables, Dt);
    }));

    /// <summary>MovieLens-100K-shaped ratings (943 users, 1,682 movies, 100k ratings; tastes only partly visible in the attributes).</summary>
    public static PartitionedGraphStore MovieLens() => new(PartitionStore.Open(MovieLensDir.Value));

    /// <summary>Cora's partition store (the Planetoid masks travel with it). Built once per test process.</summary>
    public static PartitionedGraphStore Cora() => new(PartitionStore.Open(CoraDir.Value));

    /// <summary>A small generated user/item graph (3000 users, 1500 items, 8 classes; chance 1/8), random 60/20/20 split.</summary>
    public static PartitionedGraphStore Synthetic() => new(PartitionStore.Open(SyntheticDir.Value));

    private static string Build(string name, Action<string> writeTables)
    {
        var root = TempRoots.ForProcess($"ga-training-{name}");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var tables = Path.Combine(root, "tables");
        writeTables(tables);
        var cgdf = Path.Combine(root, "cgdf");
        HiveToCgdf.Run(new EtlOptions(tables, Dt, cgdf));
        var store = Path.Combine(root, "store");
        GraphPartitioner.Run(new CgdfPartitionSource(cgdf), new PartitionOptions(store, 2, "hash") { Split = new MaskSplit(0.6, 0.2, 0.2, 42) });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(root, recursive: true); } catch (IOException) { } };
        return store;
    }
}
