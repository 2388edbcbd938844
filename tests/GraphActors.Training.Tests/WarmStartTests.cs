// train --init-from: yesterday's model (parameters and embedding rows) as the start of a job on today's updated store.
using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Graph.Tables;
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Training.Embeddings;

namespace GraphActors.Training.Tests;

[Collection(nameof(AccuracyCollection))] // seeds torch's process-wide generator
public sealed class WarmStartTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-warm-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Store(string dt, int users, int items, string? previous)
    {
        var tables = Path.Combine(_dir, "tables");
        SyntheticGenerator.Run(new GenerateOptions(tables) { Users = users, Items = items, Clicks = users * 6, Swings = items * 5, FeatureDim = 6, Classes = 4, Seed = users, Dt = dt });
        var cgdf = Path.Combine(_dir, "cgdf-" + dt);
        HiveToCgdf.Run(new EtlOptions(tables, dt, cgdf));
        var store = Path.Combine(_dir, "store-" + dt);
        if (previous is null) GraphPartitioner.Run(new CgdfPartitionSource(cgdf), new PartitionOptions(store, 2));
        else GraphPartitioner.Update(new CgdfPartitionSource(cgdf), previous, new PartitionOptions(store, 1));
        return store;
    }

    private TrainingConfig Config(string run, int hidden = 16) => new()
    {
        Task = "node_classification", Target = "user", ModelType = "sage", HiddenChannels = hidden, NumLayers = 2, Fanouts = [3, 3],
        BatchSize = 128, Epochs = 1, Seed = 3, Threads = 1, CheckpointDir = Path.Combine(_dir, run),
        Embeddings = new Dictionary<string, EmbeddingSpec> { ["item"] = new() { Dim = 4, Mode = "concat" } },
    };

    private static IReadOnlyList<string> Lineage(string store) => PartitionStore.Open(store).Lineage;

    private static float[] Rows(SparseEmbeddings e, int first, int count)
    {
        var rows = new float[count * e.Spec("item").Dim];
        e.Gather("item", Enumerable.Range(first, count).ToArray(), rows);
        return rows;
    }

    [Fact]
    public async Task A_job_started_from_yesterdays_checkpoint_has_its_parameters_and_the_rows_of_every_id_both_stores_hold()
    {
        var day1 = Store("2024-01-01", users: 300, items: 150, previous: null);
        var day2 = Store("2024-01-02", users: 320, items: 170, previous: day1);
        float[] parameters, oldRows;
        using (var store1 = new PartitionedGraphStore(PartitionStore.Open(day1)))
        using (var trainer = await Trainer.CreateAsync(store1, Config("run1")))
        {
            trainer.StoreLineage = Lineage(day1);
            await trainer.RunAsync();
            parameters = ModelState.ToVector(trainer.Model);
            oldRows = Rows(trainer.Embeddings!, 0, 150);
        }

        using var store2 = new PartitionedGraphStore(PartitionStore.Open(day2));
        Assert.Equal([Path.GetFullPath(day1), Path.GetFullPath(day2)], Lineage(day2));
        var (warm, copied) = await Trainer.WarmStartAsync(store2, Config("run2"), Path.Combine(_dir, "run1"), Lineage(day2));
        using (warm)
        {
            Assert.Equal(150, copied["item"]);
            Assert.Equal(parameters, ModelState.ToVector(warm.Model));
            Assert.Equal(oldRows, Rows(warm.Embeddings!, 0, 150));
            using var fresh = await Trainer.CreateAsync(store2, Config("run3"));
            Assert.NotEqual(parameters, ModelState.ToVector(fresh.Model));
            Assert.Equal(Rows(fresh.Embeddings!, 150, 20), Rows(warm.Embeddings!, 150, 20)); // the 20 new items start fresh
            Assert.NotEqual(Rows(fresh.Embeddings!, 0, 150), Rows(warm.Embeddings!, 0, 150));
            var result = await warm.RunAsync();
            Assert.True(double.IsFinite(result.History[0].Loss), $"loss {result.History[0].Loss}");
        }

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Trainer.WarmStartAsync(store2, Config("run4", hidden: 8), Path.Combine(_dir, "run1")));
        Assert.Contains("do not fit the model of this job's training config", e.Message);

        // A store of the same day partitioned anew numbers the nodes otherwise: its ids would get other nodes' rows.
        var anew = Path.Combine(_dir, "store-anew");
        GraphPartitioner.Run(new CgdfPartitionSource(Path.Combine(_dir, "cgdf-2024-01-02")), new PartitionOptions(anew, 3));
        using var store3 = new PartitionedGraphStore(PartitionStore.Open(anew));
        e = await Assert.ThrowsAsync<InvalidDataException>(() => Trainer.WarmStartAsync(store3, Config("run5"), Path.Combine(_dir, "run1"), Lineage(anew)));
        Assert.Contains("was not brought up to date from it (partition --update), so the same ids name other nodes", e.Message);
    }
}
