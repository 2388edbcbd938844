using System.Security.Cryptography;
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Tables;

namespace GraphActors.Graph.Tests.Etl;

public sealed class AtomicOutputTests
{
    private const string Dt = "2024-01-01";

    private static void Good(string root)
    {
        using var n = new HiveNodeTableWriter(root, "a", Dt);
        n.Add(1, [1f], 0);
        n.Add(2, [2f], 1);
        n.Complete();
        using var e = new HiveEdgeTableWriter(root, "e", Dt);
        e.Add(1, 2, "a", "a");
        e.Complete();
    }

    private static Dictionary<string, string> Snapshot(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(
            f => Path.GetRelativePath(dir, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    public void A_failing_run_leaves_no_output_directory_and_no_temp_directory()
    {
        using var dir = new TempDir();
        Good(dir.Sub("t"));
        using (var e = new HiveEdgeTableWriter(dir.Sub("t"), "z", Dt)) { e.Add(1, 42, "a", "a"); e.Complete(); }
        Assert.Throws<GraphInputException>(() => HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out"))));
        Assert.Equal([dir.Sub("t")], Directory.GetDirectories(dir.Path));
    }

    [Fact]
    public void A_failing_run_leaves_a_previous_output_byte_identical()
    {
        using var dir = new TempDir();
        Good(dir.Sub("t"));
        HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")));
        var before = Snapshot(dir.Sub("out"));

        using (var e = new HiveEdgeTableWriter(dir.Sub("t"), "z", Dt)) { e.Add(1, 42, "a", "a"); e.Complete(); }
        Assert.Throws<GraphInputException>(() => HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out"))));

        Assert.Equal(before, Snapshot(dir.Sub("out")));
        Assert.Equal([dir.Sub("out"), dir.Sub("t")], Directory.GetDirectories(dir.Path).Order());
    }

    [Fact]
    public void A_successful_run_replaces_a_previous_output_completely()
    {
        using var dir = new TempDir();
        Good(dir.Sub("t"));
        HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")));
        File.WriteAllText(Path.Combine(dir.Sub("out"), "stale.txt"), "from an older run");
        using (var n = new HiveNodeTableWriter(dir.Sub("t"), "b", Dt)) { n.Add(7, [1f, 2f], 0); n.Complete(); }

        HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), Dt, dir.Sub("out")));

        Assert.False(File.Exists(Path.Combine(dir.Sub("out"), "stale.txt")));
        Assert.Equal(1, CgdfMetadata.Load(dir.Sub("out")).Node("b").Count);
        Assert.Equal([dir.Sub("out"), dir.Sub("t")], Directory.GetDirectories(dir.Path).Order());
    }
}
