// Checkpoints laid out as the training coordinator lays them out: <dir>/<job>/epoch-NNNN, written by a real Trainer.
using GraphActors.Cluster.Commands;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;

namespace GraphActors.Cluster.Tests.Commands;

internal static class JobCheckpoints
{
    /// <summary>The small model the tests train: two SAGE layers over the test store's users.</summary>
    public static TrainingConfig Config() => new()
    {
        ModelType = "sage", Task = "node_classification", Target = "user", HiddenChannels = 8, NumLayers = 2,
        Fanouts = [4, 4], BatchSize = 64, Epochs = 1000, NodeSplit = "random", Prefetch = 1, Seed = 1,
    };

    /// <summary>The same job as a training file, for `ctl train start --config`.</summary>
    public static string Hocon(string storePath) => $$"""
        training {
          model_type = sage
          task = node_classification
          target = user
          hidden_channels = 8
          num_layers = 2
          fanouts = [4, 4]
          batch_size = 64
          epochs = 1000
          node_split = random
          prefetch = 1
          threads = 1
          seed = 1
          store_path = "{{storePath.Replace("\\", "\\\\")}}"
        }
        """;

    /// <summary>
    /// Trains one epoch on the test store and saves it under <paramref name="jobDir"/> once per entry of
    /// <paramref name="valAccuracy"/> (epoch i gets val_accuracy = valAccuracy[i]); returns the checkpoint directories.
    /// </summary>
    public static Task<string[]> Write(string jobDir, params double[] valAccuracy) => Write(jobDir, Config(), valAccuracy);

    public static async Task<string[]> Write(string jobDir, TrainingConfig config, params double[] valAccuracy)
    {
        using var store = new PartitionedGraphStore(PartitionStore.Open(TestStore.TwoParts));
        using var trainer = await Trainer.CreateAsync(store, config);
        await trainer.TrainEpochAsync();
        var dirs = new string[valAccuracy.Length];
        for (var e = 0; e < valAccuracy.Length; e++)
        {
            dirs[e] = Path.Combine(jobDir, CheckpointCatalog.EpochFolder(e));
            Checkpoints.Save(trainer, dirs[e], new Dictionary<string, double> { ["val_accuracy"] = valAccuracy[e], ["val_loss"] = 1 - valAccuracy[e] }, e);
        }
        return dirs;
    }

    /// <summary>Flips a byte of the model file, so its sha256 no longer matches the manifest.</summary>
    public static void Damage(string checkpointDir)
    {
        var model = Path.Combine(checkpointDir, Checkpoints.ModelName);
        var bytes = File.ReadAllBytes(model);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(model, bytes);
    }

    public static string TempDir(string what)
    {
        var dir = Path.Combine(Path.GetTempPath(), "ga-ctl-tests", $"{what}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}
