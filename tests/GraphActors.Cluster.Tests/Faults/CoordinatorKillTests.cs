// kill -9 of the node hosting the coordinator singleton: it comes back on the other trainer and resumes from the journal.
using System.Text.RegularExpressions;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts.Protocols;
using GraphActors.Training;
using Xunit.Abstractions;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Faults;

[Collection(MultiNodeCollection.Name)]
public sealed partial class CoordinatorKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    [GeneratedRegex(@"Training coordinator recovered: job 'resume' Running, last completed epoch (\d+)")]
    private static partial Regex Recovered();

    [Fact]
    public async Task Killing_the_coordinators_node_moves_it_to_the_other_trainer_which_recovers_the_journal_and_finishes_from_the_last_completed_epoch()
    {
        await using var cluster = await FaultCluster.StartAsync(TrainingStores.Synthetic, "coordinator-kill");
        try
        {
            var victim = cluster.Oldest;
            var survivor = cluster.Youngest;
            Assert.Contains("Singleton manager started singleton actor", cluster.Stdout(victim));
            Assert.DoesNotContain("Training coordinator recovered", cluster.Stdout(survivor));

            Assert.True((await cluster.StartJob("resume", FaultTraining.Training)).Accepted);
            JobStatus? before = null;
            await cluster.Eventually("job 'resume' with at least one completed epoch", JobTimeout, async () =>
            {
                before = await cluster.Status("resume");
                if (before.State != JobState.Running) throw new InvalidOperationException($"job 'resume' is {before.State}: {before.Reason}");
                return before.LastCompletedEpoch >= 0;
            });
            await victim.Process.Kill(FaultCluster.Ask);
            var killedAt = cluster.Elapsed;
            var survivorAtKill = cluster.Stdout(survivor);
            cluster.Note($"kill -9 {victim.Name} (pid {victim.Process.Pid}, the coordinator's node) at {FaultCluster.Describe(before)}");
            // The victim wrote nothing after its death; the survivor writes a checkpoint only when a coordinator asks.
            var early = Enumerable.Range(0, FaultTraining.Epochs)
                .Select(e => cluster.CheckpointDir("resume", e))
                .Where(d => File.Exists(Path.Combine(d, Checkpoints.ManifestName)))
                .ToDictionary(d => d, d => (Sha: Checkpoints.Sha256(Path.Combine(d, Checkpoints.ManifestName)), Written: File.GetLastWriteTimeUtc(Path.Combine(d, Checkpoints.ManifestName))));

            // A new incarnation on the survivor recovers the job from the shared journal.
            Match recovered = Match.Empty;
            await cluster.Eventually($"the coordinator recovered on {survivor.Name}", JobTimeout,
                () => Task.FromResult((recovered = Recovered().Match(cluster.Stdout(survivor))).Success));
            var resumedFrom = int.Parse(recovered.Groups[1].Value);
            var recoveredAfter = cluster.Elapsed - killedAt;
            cluster.Note($"coordinator recovered on {survivor.Name} {recoveredAfter.TotalSeconds:F1} s after the kill: last completed epoch {resumedFrom}");
            Assert.True(resumedFrom >= before!.LastCompletedEpoch,
                $"the new coordinator resumed after epoch {resumedFrom}; epoch {before.LastCompletedEpoch} had completed before the kill");

            // The epoch in flight at the kill is planned again, and the survivor's replica, part-way through it, starts
            // over from the last checkpoint rather than from where it stood.
            if (survivorAtKill.Contains($"Trainer starts epoch {resumedFrom + 1} of job 'resume'"))
                await cluster.Eventually($"{survivor.Name} restoring epoch {resumedFrom}'s checkpoint", JobTimeout, () => Task.FromResult(
                    cluster.Stdout(survivor).Contains($"Trainer restored epoch {resumedFrom}'s parameters from {cluster.CheckpointDir("resume", resumedFrom)}")));

            var done = await cluster.AwaitJob("resume", JobState.Finished, JobTimeout);
            cluster.Note($"finished {(cluster.Elapsed - killedAt).TotalSeconds:F1} s after the kill: {FaultCluster.Describe(done)}");

            Assert.Equal(FaultTraining.Epochs - 1, done.LastCompletedEpoch);
            var planned = FaultTraining.AssertEveryEpochCompletedOnce(cluster, "resume");
            cluster.Note($"epochs planned: [{string.Join(", ", planned)}]");
            // Epochs completed before the kill were not redone: planned once, their checkpoints untouched.
            for (var e = 0; e <= resumedFrom; e++)
            {
                Assert.True(planned[e] == 1, $"epoch {e} (completed before the kill) was planned {planned[e]} times");
                var dir = cluster.CheckpointDir("resume", e);
                Assert.True(early.TryGetValue(dir, out var then), $"no checkpoint of epoch {e} existed at the kill, yet the journal had it completed");
                Assert.Equal(then.Sha, Checkpoints.Sha256(Path.Combine(dir, Checkpoints.ManifestName)));
                Assert.Equal(then.Written, File.GetLastWriteTimeUtc(Path.Combine(dir, Checkpoints.ManifestName)));
            }
            FaultTraining.AssertCheckpoints(cluster, "resume", done);
            Assert.Equal([survivor.Address + "/user/trainer"], done.Trainers);

            // The survivor now also serves the partition of the dead node.
            var table = await cluster.Partitions();
            Assert.True(table.Partitions.Length == 2 && table.Partitions.All(p => p.State == PartitionState.Serving && p.Node == survivor.Address),
                string.Join("; ", table.Partitions.Select(p => $"{p.Partition} {p.State} on {p.Node}")));
            var accuracy = FaultCluster.Metric(done, "test_accuracy");
            Assert.True(accuracy > 0.5, $"test accuracy {accuracy:F3} after {FaultTraining.Epochs} epochs; chance is 0.125");
        }
        finally
        {
            output.WriteLine(cluster.Events);
            output.WriteLine($"full node logs: {cluster.Run}");
        }
    }
}
