using System.Text.Json;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Bench;

/// <summary>`graphactors bench wire` in a tiny configuration, as a real process: every kind is measured and none is written above a chunk.</summary>
[Collection(MultiNodeCollection.Name)]
public class WireBenchProcessTests
{
    private const long Chunk = 4 << 20;

    [Fact]
    public async Task The_wire_bench_measures_every_kind_and_writes_nothing_above_a_chunk()
    {
        var json = Path.Combine(Path.GetTempPath(), $"ga-bench-wire-{Guid.NewGuid():N}.json");
        using var bench = CliProcess.Start(["bench", "wire", "--dims", "64", "--batches", "256", "--nodes", "3000", "--hub", "600000",
            "--lookup", "600000", "--json", json]);
        var exit = await bench.WaitForExit(TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"bench exited with {exit}\n{bench.Output}");
        // Every bench reports the machine's load around its figures (BenchLoad).
        Assert.Contains("bench wire: load average at start ", bench.Output);
        Assert.Contains("bench wire: load average at end ", bench.Output);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        File.Delete(json);
        var rows = doc.RootElement.EnumerateArray().ToArray();
        string Kind(JsonElement r) => r.GetProperty("Kind").GetString()!;

        Assert.Equal(["SampleEpoch to a sampler node", "evaluation gather", "features result", "ids request", "ids result", "mini-batch through the SourceRef",
            "neighbours result", "parameter chunk"], rows.Select(r => Kind(r).Split(" (")[0]).Distinct().Order(StringComparer.Ordinal));
        foreach (var r in rows)
        {
            Assert.True(r.GetProperty("OnWire").GetInt64() > 0, Kind(r));
            Assert.True(r.GetProperty("OnWire").GetInt64() <= Chunk + 256, $"{Kind(r)}: {r.GetProperty("OnWire").GetInt64():N0} bytes written");
        }
        // The hub's 600,000 neighbours (4.8 MB) and the lookup's 600,000 ids (4.8 MB) exceed a chunk: they were cut.
        var hub = rows.Single(r => Kind(r).Contains("full"));
        Assert.True(hub.GetProperty("Whole").GetInt64() > Chunk && hub.GetProperty("Chunks").GetInt32() == 2, hub.ToString());
        var ids = rows.Single(r => Kind(r).StartsWith("ids request"));
        Assert.True(ids.GetProperty("Whole").GetInt64() > Chunk && ids.GetProperty("Chunks").GetInt32() == 2, ids.ToString());
    }
}
