// The training job of the fault tests and the checks they share on its journal and checkpoints.
using GraphActors.Training;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Faults;

internal static class FaultTraining
{
    public const int Epochs = 8;

    /// <summary>Global steps per epoch: the synthetic store's training users (714) in global batches of 64.</summary>
    public const int StepsPerEpoch = 12;

    /// <summary>Whether the job evaluates after <paramref name="epoch"/> (eval_every = 4: after epochs 3 and 7).</summary>
    public static bool Evaluates(int epoch) => (epoch + 1) % 4 == 0;

    /// <summary>
    /// GraphSAGE on the synthetic store (714 training users): global batches of 64 make 12 global steps per epoch (each
    /// split between the trainers), averaged every 2 steps, so an epoch lasts long enough for a kill to land inside it.
    /// 8 epochs bring both the fault-free run and the one that lost a trainer near this graph's ceiling (≈ 0.99), where
    /// their difference is noise rather than the fault run's extra lone steps. Evaluated after epochs 3 and 7.
    /// </summary>
    public const string Training = """
        training {
          model_type = sage
          hidden_channels = 32
          num_layers = 2
          fanouts = [5, 5]
          batch_size = 64
          learning_rate = 0.01
          dropout = 0.2
          task = node_classification
          target = user
          reverse_edges = add_reverse
          node_split = store
          epochs = 8
          eval_every = 4
          seed = 3
          threads = 1
          averaging_period = 2
        }
        """;

    /// <summary>
    /// The job's epochs by the journal: every epoch 0..<see cref="Epochs"/>−1 completed exactly once, in order, then the
    /// job finished. Returns how many times each epoch was planned (a planned epoch that never completed is planned again).
    /// </summary>
    public static int[] AssertEveryEpochCompletedOnce(FaultCluster cluster, string jobId)
    {
        var events = cluster.JournalEvents();
        var completed = events.OfType<EpochCompleted>().Where(e => e.JobId == jobId).Select(e => e.Epoch).ToArray();
        Assert.True(completed.SequenceEqual(Enumerable.Range(0, Epochs)),
            $"job '{jobId}' journalled EpochCompleted for epochs [{string.Join(", ", completed)}]; expected 0..{Epochs - 1} once each");
        Assert.Single(events.OfType<JobFinished>(), e => e.JobId == jobId);
        // Nothing lost, nothing twice: every completed epoch journalled all of its training seeds as trained (the
        // coordinator checks each round's seeds against its plan by count and checksum, so a seed trained twice fails the job).
        foreach (var e in events.OfType<EpochCompleted>().Where(e => e.JobId == jobId))
            Assert.True(e.SeedsPlanned > 0 && e.SeedsTrained == e.SeedsPlanned,
                $"job '{jobId}' epoch {e.Epoch} journalled {e.SeedsTrained} seeds trained of {e.SeedsPlanned}");
        var planned = new int[Epochs];
        foreach (var p in events.OfType<EpochPlanned>().Where(e => e.JobId == jobId)) planned[p.Epoch]++;
        return planned;
    }

    /// <summary>The checkpoint of every epoch exists, holds that epoch, and the last one is what the journal recorded.</summary>
    public static void AssertCheckpoints(FaultCluster cluster, string jobId, JobStatus finished)
    {
        for (var epoch = 0; epoch < Epochs; epoch++)
        {
            var dir = cluster.CheckpointDir(jobId, epoch);
            var (manifest, _) = Checkpoints.Read(dir);
            Assert.Equal(epoch, manifest.Epoch);
        }
        Assert.Equal(cluster.CheckpointDir(jobId, Epochs - 1), finished.LastCheckpointPath);
        Assert.Equal(finished.LastCheckpointSha256, Checkpoints.Sha256(Path.Combine(finished.LastCheckpointPath, Checkpoints.ManifestName)));
    }
}
