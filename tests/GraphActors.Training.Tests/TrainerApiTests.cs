using GraphActors.Contracts;
using GraphActors.Sampling;

namespace GraphActors.Training.Tests;

public sealed class TrainingConfigTests
{
    [Theory]
    [InlineData("hidden_channels")]
    [InlineData("model_type")]
    [InlineData("fanouts")]
    [InlineData("learning_rate")]
    [InlineData("task")]
    public void Validation_names_the_bad_key(string key)
    {
        var bad = key switch
        {
            "hidden_channels" => new TrainingConfig { Target = "x", HiddenChannels = 0 },
            "model_type" => new TrainingConfig { Target = "x", ModelType = "transformer" },
            "fanouts" => new TrainingConfig { Target = "x", Fanouts = [10, 10] },
            "learning_rate" => new TrainingConfig { Target = "x", LearningRate = -1 },
            _ => new TrainingConfig { Target = "x", Task = "regression" },
        };
        var e = Assert.Throws<TrainingConfigException>(() => bad.Validate());
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public void Link_prediction_needs_10_evaluation_negatives_so_hits_at_10_can_miss()
    {
        var e = Assert.Throws<TrainingConfigException>(() =>
            new TrainingConfig { Task = "link_prediction", Target = "click", EvalNegatives = 5 }.Validate());
        Assert.Equal("eval_negatives", e.Key);
        Assert.Contains("Hits@10", e.Message);
        new TrainingConfig { Task = "link_prediction", Target = "click", EvalNegatives = 10 }.Validate();
        // Node classification does not rank negatives.
        new TrainingConfig { Target = "user", EvalNegatives = 1 }.Validate();
    }

    [Fact]
    public void Defaults_are_the_source_systems()
    {
        var c = new TrainingConfig();
        Assert.Equal((256, 3, 1024, 0.001), (c.HiddenChannels, c.NumLayers, c.BatchSize, c.LearningRate));
        Assert.Equal([15, 10, 5], c.Fanouts);
    }
}

/// <summary>Checkpoints, resume, K steps and the parameter vector, on the small generated graph.</summary>
[Collection(nameof(AccuracyCollection))]
public sealed class TrainerApiTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ga-trainer-api-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private TrainingConfig Config => SyntheticTrainingTests.Users("sage", 2, 3) with { Epochs = 2, EvalEvery = 1, HiddenChannels = 16, CheckpointDir = _dir };

    [Fact]
    public async Task A_run_writes_checkpoints_csv_and_svg_and_resumes_from_them()
    {
        using var store = TestStores.Synthetic();
        using (var trainer = await Trainer.CreateAsync(store, Config))
        {
            var r = await trainer.RunAsync();
            Assert.Equal(2, r.History.Count);
        }
        Assert.True(File.Exists(Path.Combine(_dir, "best", "manifest.json")));
        Assert.True(File.Exists(Path.Combine(_dir, "last", "optimizer.bin")));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_dir, "metrics.csv")).Length);
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", File.ReadAllText(Path.Combine(_dir, "curve.svg")));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(Path.Combine(_dir, "curve.png"))[..4]);

        var (manifest, _) = Checkpoints.Read(_dir);
        Assert.Equal(1, manifest.Epoch);
        Assert.Equal(Checkpoints.Sha256(Path.Combine(_dir, "last", "model.bin")), manifest.ModelSha256);

        using var resumed = await Trainer.ResumeAsync(store, _dir, c => c with { Epochs = 3 });
        Assert.Equal(2, resumed.CompletedEpochs);
        var last = await resumed.RunAsync();
        Assert.Equal(3, last.History.Count);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(_dir, "metrics.csv")).Length);
    }

    [Fact]
    public async Task A_damaged_checkpoint_is_refused()
    {
        using var store = TestStores.Synthetic();
        using (var trainer = await Trainer.CreateAsync(store, Config with { Epochs = 1 }))
            await trainer.RunAsync();
        File.AppendAllText(Path.Combine(_dir, "last", "model.bin"), "x");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => Trainer.ResumeAsync(store, Path.Combine(_dir, "last")));
        Assert.Contains("sha256", e.Message);
    }

    /// <summary>
    /// Trainers created at once in one process (an in-process cluster's two trainers), while a third one trains, start
    /// from the parameters the seed gives a trainer created alone. A link-prediction trainer awaits its edge split
    /// between seeding and drawing its model; when the seed was set before that await, the other threads' draws and
    /// reseeds fell in between and one cluster trainer started from other parameters than its peer.
    /// </summary>
    [Fact]
    public async Task Trainers_created_at_once_while_another_trains_start_from_the_seeds_parameters()
    {
        using var local = TestStores.Synthetic();
        var store = new RemoteLikeStore(local);
        var links = Config with { CheckpointDir = null, Task = "link_prediction", Target = "click", Negatives = 2, EvalNegatives = 10 };
        float[] alone;
        using (var first = await Trainer.CreateAsync(store, links)) alone = first.GetParameters();

        using var busy = await Trainer.CreateAsync(local, Config with { CheckpointDir = null });
        using var stop = new CancellationTokenSource();
        var training = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested) await busy.RunStepsAsync(1);
        });
        try
        {
            for (var round = 0; round < 3; round++)
            {
                var pair = await Task.WhenAll(Trainer.CreateAsync(store, links), Trainer.CreateAsync(store, links));
                try
                {
                    Assert.Equal(alone, pair[0].GetParameters());
                    Assert.Equal(alone, pair[1].GetParameters());
                }
                finally
                {
                    foreach (var t in pair) t.Dispose();
                }
            }
        }
        finally
        {
            stop.Cancel();
            await training;
        }
    }

    [Fact]
    public async Task K_steps_then_a_parameter_vector_round_trip_continue_training()
    {
        using var store = TestStores.Synthetic();
        using var trainer = await Trainer.CreateAsync(store, Config with { CheckpointDir = null });
        var before = trainer.GetParameters();
        var steps = await trainer.RunStepsAsync(trainer.BatchesPerEpoch + 3); // rolls over into the next epoch
        Assert.True(steps.Examples > 0);
        var after = trainer.GetParameters();
        Assert.NotEqual(before, after);
        trainer.SetParameters(before);
        Assert.Equal(before, trainer.GetParameters());
        await trainer.RunStepsAsync(2);
        Assert.NotEqual(before, trainer.GetParameters());
    }
}

/// <summary>A store whose edge lists arrive later, as a cluster's do (the call yields, then completes on another thread).</summary>
internal sealed class RemoteLikeStore(IGraphStore inner) : IGraphStore
{
    public GraphStoreSchema Schema => inner.Schema;

    public async ValueTask<EdgeList> GetEdgesAsync(CanonicalEdgeType type, CancellationToken cancellationToken = default)
    {
        await Task.Delay(50, cancellationToken);
        return await inner.GetEdgesAsync(type, cancellationToken);
    }

    public ValueTask<NeighborSample> SampleNeighborsAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
        SamplingStrategy strategy, ulong rngSeed, bool withWeights = false, CancellationToken cancellationToken = default) =>
        inner.SampleNeighborsAsync(type, incoming, seeds, fanout, strategy, rngSeed, withWeights, cancellationToken);

    public ValueTask GatherFeaturesAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<float> destination, CancellationToken cancellationToken = default) =>
        inner.GatherFeaturesAsync(type, ids, destination, cancellationToken);

    public ValueTask GatherLabelsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default) =>
        inner.GatherLabelsAsync(type, ids, destination, cancellationToken);

    public ValueTask<int[]> GetSplitAsync(NodeType type, SplitKind split, CancellationToken cancellationToken = default) =>
        inner.GetSplitAsync(type, split, cancellationToken);

    public ValueTask GetDegreesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default) =>
        inner.GetDegreesAsync(type, incoming, ids, destination, cancellationToken);

    public ValueTask<NegativeSampleStats> SampleNegativesAsync(CanonicalEdgeType type, ReadOnlyMemory<int> sources, int k, NegativeStrategy strategy,
        bool excludeNeighbors, ulong rngSeed, Memory<int> destination, CancellationToken cancellationToken = default) =>
        inner.SampleNegativesAsync(type, sources, k, strategy, excludeNeighbors, rngSeed, destination, cancellationToken);

    public ValueTask GetBusinessIdsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<long> destination, CancellationToken cancellationToken = default) =>
        inner.GetBusinessIdsAsync(type, ids, destination, cancellationToken);

    public ValueTask LookupIdsAsync(NodeType type, ReadOnlyMemory<long> businessIds, Memory<int> destination, CancellationToken cancellationToken = default) =>
        inner.LookupIdsAsync(type, businessIds, destination, cancellationToken);
}
