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
    private static readonly Lazy<string> CoraDir = new(() => Build("cora", 2, "metis", tables => LinqsImporter.Run(SharedData.Require("cora"), "cora", tables, Dt)));

    /// <summary>A generated user/item graph (1200 users, 8 classes, chance 1/8), 2 hash partitions, random 60/20/20 masks.</summary>
    public static string Synthetic => SyntheticDir.Value;

    /// <summary>Cora in 2 METIS partitions with its Planetoid masks (needs ../shared/data/cora).</summary>
    public static string Cora => CoraDir.Value;

    private static string Build(string name, int parts, string method, Action<string> writeTables)
    {
        var root = Path.Combine(Path.GetTempPath(), $"ga-cluster-{name}-{Environment.ProcessId}");
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        var tables = Path.Combine(root, "tables");
        writeTables(tables);
        var cgdf = Path.Combine(root, "cgdf");
        HiveToCgdf.Run(new EtlOptions(tables, Dt, cgdf));
        var store = Path.Combine(root, "store");
        GraphPartitioner.Run(new CgdfPartitionSource(cgdf), new PartitionOptions(store, parts, method) { Split = new MaskSplit(0.6, 0.2, 0.2, 42) });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(root, recursive: true); } catch (IOException) { } };
        return store;
    }
}
