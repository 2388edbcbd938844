// The checkpoint catalog on real checkpoints, without a cluster: listing, marks, sha256 checks, export and what it refuses.
using GraphActors.Cluster.Commands;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Serving;
using GraphActors.Training;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Tests.Commands;

public sealed class CheckpointCatalogTests : IDisposable
{
    private const string Node = "akka.tcp://graphactors@127.0.0.1:4053";
    private readonly string _root = JobCheckpoints.TempDir("catalog");

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task Listing_orders_epochs_marks_the_last_verified_and_the_best_by_the_metric_and_flags_a_damaged_one()
    {
        var job = Path.Combine(_root, "job-a");
        var dirs = await JobCheckpoints.Write(job, 0.5, 0.9, 0.7, 0.99);
        JobCheckpoints.Damage(dirs[3]);
        // A write in progress is no checkpoint.
        Directory.CreateDirectory(Path.Combine(job, "epoch-0004.tmp-1234"));

        var r = CheckpointCatalog.List(job, "job-a", "val_accuracy", Node);

        Assert.Equal("", r.Problem);
        Assert.Equal(new[] { 0, 1, 2, 3 }, r.Checkpoints.Select(c => c.Epoch));
        Assert.Equal(new[] { true, true, true, false }, r.Checkpoints.Select(c => c.Verified));
        Assert.Contains("model.bin has sha256", r.Checkpoints[3].Problem);
        Assert.Equal(2, r.LastEpoch);
        Assert.Equal(1, r.BestEpoch);
        Assert.Equal(0.9, CheckpointCatalog.MetricOf(r.Checkpoints[1], "val_accuracy"));
        Assert.All(r.Checkpoints, c => Assert.True(c.Bytes > 0 && c.CreatedUnixMs > 0 && c.Path.StartsWith(job, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_a_metric_name_the_tasks_metric_comes_from_the_manifests()
    {
        var job = Path.Combine(_root, "job-b");
        await JobCheckpoints.Write(job, 0.3, 0.2);

        var r = CheckpointCatalog.List(job, "job-b", "", Node);

        Assert.Equal("val_accuracy", r.EvalMetric);
        Assert.Equal(0, r.BestEpoch);
        Assert.Equal(1, r.LastEpoch);
    }

    [Fact]
    public void A_missing_directory_is_a_problem_naming_it_and_the_node()
    {
        var r = CheckpointCatalog.List(Path.Combine(_root, "nothing"), "job-x", "val_accuracy", Node);
        Assert.Contains(Path.Combine(_root, "nothing"), r.Problem);
        Assert.Contains(Node, r.Problem);
        Assert.Empty(r.Checkpoints);
    }

    [Fact]
    public async Task Export_of_the_best_writes_a_model_directory_the_serving_loader_loads_and_refuses_to_overwrite_it()
    {
        var job = Path.Combine(_root, "job-c");
        await JobCheckpoints.Write(job, 0.4, 0.8, 0.6);
        var listing = CheckpointCatalog.List(job, "job-c", "val_accuracy", Node);
        var outDir = Path.Combine(_root, "models", "job-c");

        var r = CheckpointCatalog.Export(listing, ExportChoice.Best, -1, outDir);

        Assert.True(r.Ok, r.Message);
        Assert.Equal(1, r.Epoch);
        Assert.Equal(outDir, r.OutDir);
        Assert.Equal(new[] { CheckpointCatalog.ExportInfoName, Checkpoints.ManifestName, Checkpoints.ModelName },
            Directory.GetFiles(outDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(Checkpoints.Sha256(Path.Combine(job, "epoch-0001", Checkpoints.ModelName)), r.ModelSha256);
        // Nothing temporary is left beside it.
        Assert.Equal(new[] { outDir }, Directory.GetDirectories(Path.GetDirectoryName(outDir)!));
        using (var store = new PartitionedGraphStore(PartitionStore.Open(TestStore.TwoParts)))
        using (var model = new TrainingCheckpointLoader(store).Load(outDir, CancellationToken.None))
        {
            Assert.Equal("1", model.Info.Version);
            Assert.Equal("0.8", model.Info.Metadata["metric.val_accuracy"]);
        }

        var again = CheckpointCatalog.Export(listing, ExportChoice.Last, -1, outDir);
        Assert.False(again.Ok);
        Assert.Contains("exists and is not empty", again.Message);
    }

    [Fact]
    public async Task Export_carries_the_learnable_embedding_tables_and_the_exported_model_serves_with_them()
    {
        var job = Path.Combine(_root, "job-e");
        var config = JobCheckpoints.Config() with
        {
            Embeddings = new Dictionary<string, GraphActors.Training.Embeddings.EmbeddingSpec> { ["user"] = new() { Dim = 4, Mode = "concat" } },
        };
        await JobCheckpoints.Write(job, config, 0.4, 0.8);
        var listing = CheckpointCatalog.List(job, "job-e", "val_accuracy", Node);
        var outDir = Path.Combine(_root, "models", "job-e");

        var r = CheckpointCatalog.Export(listing, ExportChoice.Best, -1, outDir);

        Assert.True(r.Ok, r.Message);
        var (manifest, _) = Checkpoints.Read(outDir);
        Assert.Equal(2, manifest.Embeddings!.Count); // the test store's two partitions of users
        Assert.All(manifest.Embeddings, e => Assert.Equal(e.Sha256, Checkpoints.Sha256(Path.Combine(outDir, e.File))));
        using var store = new PartitionedGraphStore(PartitionStore.Open(TestStore.TwoParts));
        using var model = new TrainingCheckpointLoader(store).Load(outDir, CancellationToken.None);
        Assert.Equal(["user"], model.Embeddings!.Types);
    }

    [Fact]
    public async Task Export_refuses_a_damaged_checkpoint_and_an_epoch_that_is_not_there()
    {
        var job = Path.Combine(_root, "job-d");
        var dirs = await JobCheckpoints.Write(job, 0.4, 0.8);
        JobCheckpoints.Damage(dirs[1]);
        var listing = CheckpointCatalog.List(job, "job-d", "val_accuracy", Node);

        var damaged = CheckpointCatalog.Export(listing, ExportChoice.Epoch, 1, Path.Combine(_root, "m1"));
        Assert.False(damaged.Ok);
        Assert.Contains("sha256", damaged.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "m1")));

        var absent = CheckpointCatalog.Export(listing, ExportChoice.Epoch, 7, Path.Combine(_root, "m7"));
        Assert.False(absent.Ok);
        Assert.Contains("no checkpoint of epoch 7", absent.Message);

        // The best verified one is epoch 0 now.
        var best = CheckpointCatalog.Export(listing, ExportChoice.Best, -1, Path.Combine(_root, "m0"));
        Assert.True(best.Ok, best.Message);
        Assert.Equal(0, best.Epoch);
    }
}
