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
