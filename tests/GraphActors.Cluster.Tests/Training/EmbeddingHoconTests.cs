using GraphActors.Cluster.Trainers;
using GraphActors.Training;
using GraphActors.Training.Embeddings;

namespace GraphActors.Cluster.Tests.Training;

/// <summary>The <c>training.embeddings</c> block as a user writes it, its errors, and what a cluster job needs of it.</summary>
public sealed class EmbeddingHoconTests
{
    private const string Base = """
        training {
          model_type = sage
          task = link_prediction
          target = "user,click,item"
          num_layers = 2
          fanouts = [10, 5]
          embeddings {
            user { dim = 32, mode = concat, optimizer = sparse_adagrad, lr = 0.05 }
            item { dim = 16 }
          }
        }
        """;

    [Fact]
    public void The_block_gives_each_type_its_width_mode_optimizer_and_rate_with_DGLs_defaults_for_the_rest()
    {
        var config = TrainingHocon.Parse(Base, "t.hocon").Config;
        Assert.Equal(["item", "user"], config.Embeddings.Keys.Order());
        var user = config.Embeddings["user"];
        Assert.Equal((32, EmbeddingMode.Concat, SparseOptimizerKind.SparseAdagrad, 0.05, 1e-10), (user.Dim, user.ModeKind, user.OptimizerKind, user.LearningRate, user.ResolvedEps));
        var item = config.Embeddings["item"];
        Assert.Equal((16, EmbeddingMode.Replace, SparseOptimizerKind.SparseAdam, 0.01, 1e-8), (item.Dim, item.ModeKind, item.OptimizerKind, item.LearningRate, item.ResolvedEps));
    }

    [Theory]
    [InlineData("hiden_channels = 64", "t.hocon: training.hiden_channels: not a training setting")]
    [InlineData("lr = 0.1", "t.hocon: training.lr: not a training setting")]
    public void A_misspelt_training_key_is_refused_naming_it_instead_of_leaving_its_default(string line, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => TrainingHocon.Parse(Base.Replace("num_layers = 2", "num_layers = 2\n  " + line), "t.hocon"));
        Assert.StartsWith(expected, e.Message);
        Assert.Contains("hidden_channels, init_from, input_dropout, learning_rate", e.Message);
        var none = Assert.Throws<ArgumentException>(() => TrainingHocon.Parse("akka { loglevel = INFO }", "node.hocon"));
        Assert.Equal("node.hocon: no training { … } block (found akka).", none.Message);
    }

    [Theory]
    [InlineData("user { dim = 32, width = 3 }", "t.hocon: training.embeddings.user.width: not a setting of an embedding")]
    [InlineData("user { dim = -4 }", "t.hocon: training.embeddings.user.dim: -4 must be at least 1")]
    [InlineData("user { mode = sum }", "t.hocon: training.embeddings.user.mode: mode 'sum' is not one of replace, concat, add")]
    [InlineData("user { dim = many }", "t.hocon: training.embeddings.user.dim:")]
    public void A_bad_entry_is_refused_naming_the_file_type_and_key(string entry, string expected)
    {
        var text = Base.Replace("user { dim = 32, mode = concat, optimizer = sparse_adagrad, lr = 0.05 }", entry);
        var e = Assert.Throws<ArgumentException>(() => TrainingHocon.Parse(text, "t.hocon"));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void A_cluster_job_with_embeddings_needs_gradients_averaged_every_step_and_is_refused_otherwise_before_it_starts()
    {
        var every = TrainingHocon.Parse(Base.Replace("training {", "training {\n  averaging_period = 1"), "t.hocon");
        Assert.Equal(1, TrainingHocon.ToJob(every, "/store", "/checkpoints").AveragingPeriod);
        var file = TrainingHocon.Parse(Base.Replace("training {", "training {\n  averaging_period = 4"), "t.hocon");
        var e = Assert.Throws<ArgumentException>(() => TrainingHocon.ToJob(file, "/store", "/checkpoints"));
        Assert.Contains("training.embeddings (item, user) with averaging_period = 4", e.Message);
        Assert.Contains("averaging_period = 1", e.Message);
    }

    [Fact]
    public void A_cluster_job_that_would_start_from_an_earlier_model_without_a_checkpoint_there_is_refused_before_it_starts()
    {
        var embedded = TrainingHocon.Parse(Base.Replace("training {", "training {\n  averaging_period = 1\n  init_from = /runs/day1"), "t.hocon");
        var e = Assert.Throws<ArgumentException>(() => TrainingHocon.ToJob(embedded, "/store", "/checkpoints"));
        Assert.StartsWith("training.init_from: No checkpoint at /runs/day1", e.Message);
        var missing = Path.Combine(Path.GetTempPath(), "ga-no-checkpoint-" + Guid.NewGuid().ToString("N"));
        var plain = TrainingHocon.Parse($"training {{ model_type = sage, target = user, init_from = \"{missing}\" }}", "t.hocon");
        e = Assert.Throws<ArgumentException>(() => TrainingHocon.ToJob(plain, "/store", "/checkpoints"));
        Assert.StartsWith($"training.init_from: No checkpoint at {missing}", e.Message);
    }

    [Fact]
    public void A_relative_init_from_reaches_the_trainers_as_the_absolute_path_it_names_here()
    {
        var run = Path.Combine(Path.GetTempPath(), "ga-init-from-" + Guid.NewGuid().ToString("N"));
        var best = Path.Combine(run, "best");
        Directory.CreateDirectory(best);
        try
        {
            File.WriteAllText(Path.Combine(best, Checkpoints.ManifestName), System.Text.Json.JsonSerializer.Serialize(
                new CheckpointManifest { Config = new TrainingConfig(), Epoch = 0, ModelFile = "model.bin", ModelSha256 = "00" }, Checkpoints.Json));
            var relative = Path.GetRelativePath(Environment.CurrentDirectory, run);
            var file = TrainingHocon.Parse($"training {{ model_type = sage, target = user, init_from = \"{relative}\" }}", "t.hocon");
            var job = TrainingHocon.ToJob(file, "/store", "/checkpoints");
            Assert.Equal(run, TrainingHocon.FromJob(job, "j").InitFrom);
            var bare = TrainingHocon.Parse($"model_type = sage\ntarget = user\ninit_from = \"{relative}\"", "bare.hocon");
            Assert.Equal(run, TrainingHocon.FromJob(TrainingHocon.ToJob(bare, "/store", "/checkpoints"), "j").InitFrom);
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }
}
