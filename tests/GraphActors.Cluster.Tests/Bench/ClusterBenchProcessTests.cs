using System.Text.Json;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Bench;

/// <summary>
/// `graphactors bench cluster` in a tiny configuration, as a real process (it starts its own `graphactors node` child):
/// every case runs, and the byte accounting agrees with what each case sends across Akka.Remote.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public class ClusterBenchProcessTests
{
    [Fact]
    public async Task The_cluster_bench_runs_every_case_and_its_wire_bytes_match_what_each_case_sends()
    {
        var json = Path.Combine(Path.GetTempPath(), $"ga-bench-cluster-{Guid.NewGuid():N}.json");
        using var bench = CliProcess.Start(["bench", "cluster", "--nodes", "3000", "--edges", "30000", "--batch", "64", "--batches", "4",
            "--warmup", "1", "--sizes", "1000,1100000", "--rounds", "1", "--json", json]);
        var exit = await bench.WaitForExit(TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"bench exited with {exit}\n{bench.Output}");
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        File.Delete(json);
        var batches = doc.RootElement.GetProperty("Batches").EnumerateArray().ToDictionary(c => c.GetProperty("Name").GetString()!);
        Assert.Equal(["in-process", "local actor", "worker", "worker → B", "trainer-only B"], batches.Keys);
        foreach (var (name, c) in batches)
        {
            Assert.Equal(4, c.GetProperty("Batches").GetInt32());
            Assert.True(D(c, "BatchesPerSecond") > 0, name);
            Assert.True(D(c, "FloorBytes") > 0, name);
        }

        // In-process cases send nothing through the serializer.
        foreach (var name in new[] { "in-process", "local actor" })
        {
            Assert.Empty(batches[name].GetProperty("Manifests").EnumerateObject());
            Assert.Equal(0, D(batches[name], "PartitionBytes"));
        }

        // Worker mode: some partitions are local, so the remote floor is part of the floor, and only requests to the
        // other process cross; a trainer-only node asks every partition over the wire for the same batches.
        var worker = batches["worker"];
        var client = batches["trainer-only B"];
        Assert.InRange(D(worker, "RemoteFloorBytes"), 1, D(worker, "FloorBytes") - 1);
        Assert.Equal(D(client, "FloorBytes"), D(client, "RemoteFloorBytes"));
        Assert.True(D(worker, "PartitionBytes") > 0 && D(worker, "MiniBatchWireBytes") == 0, "worker: partition traffic crosses, mini-batches stay local");
        Assert.True(D(client, "PartitionBytes") > 1.3 * D(worker, "PartitionBytes"),
            $"every partition remote: {D(client, "PartitionBytes")} B per batch, against {D(worker, "PartitionBytes")} with half of them local");

        // Through a SourceRef each mini-batch is one message, at least its floor and not much more.
        var crossing = batches["worker → B"];
        var smb = crossing.GetProperty("Manifests").GetProperty("SMB");
        Assert.Equal(4, smb.GetProperty("MessagesWritten").GetInt64());
        Assert.Equal(smb.GetProperty("BytesWritten").GetInt64(), smb.GetProperty("BytesRead").GetInt64());
        Assert.InRange(D(crossing, "MiniBatchWireBytes"), D(crossing, "FloorBytes"), 2 * D(crossing, "FloorBytes"));
        Assert.True(D(crossing, "MiniBatchWireBytes") >= D(crossing, "PayloadBytes"));

        // Averaging: the parameters go up and the mean comes back, 4 bytes a float plus small headers.
        var rounds = doc.RootElement.GetProperty("Rounds").EnumerateArray().ToArray();
        var remote = rounds.Where(r => r.GetProperty("Path").GetString()!.StartsWith("coordinator")).ToArray();
        Assert.Equal([1000, 1_100_000], remote.Select(r => r.GetProperty("Floats").GetInt32()));
        Assert.Equal([1, 2], remote.Select(r => r.GetProperty("Chunks").GetInt32()));
        foreach (var r in remote)
        {
            var floor = D(r, "FloorBytes");
            Assert.Equal(16.0 * r.GetProperty("Floats").GetInt32(), floor);
            Assert.InRange(D(r, "WireBytesPerRound"), floor, floor * 1.01 + 2048);
            Assert.True(D(r, "MedianMs") > 0);
        }
        Assert.Equal(2, rounds.Count(r => r.GetProperty("Path").GetString()!.StartsWith("ParameterAverager")));
    }

    private static double D(JsonElement e, string property) => e.GetProperty(property).GetDouble();
}
