// kill -9 of a worker process in the middle of an epoch: the job finishes on the survivor, with the right epochs and accuracy.
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts.Protocols;
using Xunit.Abstractions;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Faults;

[Collection(MultiNodeCollection.Name)]
public sealed class WorkerKillTests(ITestOutputHelper output)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_worker_killed_mid_epoch_has_its_partition_reloaded_on_the_survivor_and_the_job_finishes_every_epoch_once_no_more_than_1_point_below_the_fault_free_run()
    {
        await using var cluster = await FaultCluster.StartAsync(TrainingStores.Synthetic, "worker-kill");
        try
        {
            // The run without the fault, on the same cluster, seed and config.
            Assert.True((await cluster.StartJob("baseline", FaultTraining.Training)).Accepted);
            var baseline = await cluster.AwaitJob("baseline", JobState.Finished, JobTimeout);
            cluster.Note($"baseline finished: {FaultCluster.Describe(baseline)}");

            // The victim is the worker WITHOUT the coordinator: this test is about a trainer and a partition going away.
            var victim = cluster.Youngest;
            var survivor = cluster.Oldest;
            var table = await cluster.Partitions();
            var orphaned = table.Partitions.Where(p => p.Node == victim.Address).Select(p => p.Partition).ToArray();
            Assert.True(orphaned.Length == 1, $"{victim.Name} should serve one partition: {Table(table)}");
            var loadsBefore = Loads(cluster.Stdout(survivor), orphaned[0]);

            Assert.True((await cluster.StartJob("fault", FaultTraining.Training)).Accepted);
            JobStatus? inFlight = null;
            // The kill must land while the victim still owes steps of an epoch: in the first part of an epoch that is not
            // followed by an evaluation. (A kill after an evaluated epoch's last round, while the epoch is evaluated, leaves
            // no step to re-plan: the next epoch is planned over the survivor alone. That is correct, but not this test.)
            await cluster.Eventually("job 'fault' in the first steps of an epoch ≥ 1 without evaluation", JobTimeout, async () =>
            {
                inFlight = await cluster.Status("fault");
                if (inFlight.State != JobState.Running) throw new InvalidOperationException($"job 'fault' is {inFlight.State}: {inFlight.Reason}");
                return inFlight.Epoch >= 1 && !FaultTraining.Evaluates(inFlight.Epoch) && inFlight.LastCompletedEpoch == inFlight.Epoch - 1
                       && inFlight.Step >= 1 && inFlight.Step <= FaultTraining.StepsPerEpoch / 2;
            }, every: TimeSpan.FromMilliseconds(40));
            await victim.Process.Kill(FaultCluster.Ask);
            var killedAt = cluster.Elapsed;
            cluster.Note($"kill -9 {victim.Name} (pid {victim.Process.Pid}) at {FaultCluster.Describe(inFlight)}");

            // The orphaned partition is allocated to the survivor and loaded again from the store.
            await cluster.Eventually($"partition {orphaned[0]} reloaded and serving on {survivor.Name}", JobTimeout, async () =>
            {
                var t = await cluster.Partitions();
                return t.Partitions.Length == 2 && t.Partitions.All(p => p.State == PartitionState.Serving && p.Node == survivor.Address && p.MappedBytes > 0);
            });
            var rehosted = cluster.Elapsed - killedAt;
            cluster.Note($"partition {orphaned[0]} serving on {survivor.Name} {rehosted.TotalSeconds:F1} s after the kill");
            Assert.True(Loads(cluster.Stdout(survivor), orphaned[0]) > loadsBefore,
                $"{survivor.Name} did not log loading partition {orphaned[0]} again.\n{cluster.Tails()}");

            var fault = await cluster.AwaitJob("fault", JobState.Finished, JobTimeout);
            cluster.Note($"fault finished {(cluster.Elapsed - killedAt).TotalSeconds:F1} s after the kill: {FaultCluster.Describe(fault)}");

            Assert.Equal(FaultTraining.Epochs - 1, fault.LastCompletedEpoch);
            var planned = FaultTraining.AssertEveryEpochCompletedOnce(cluster, "fault");
            cluster.Note($"epochs planned: [{string.Join(", ", planned)}]");
            // The dead trainer's open steps were planned again among the survivors inside the epoch it died in: the
            // journal has the re-plan, and that epoch (like every other) trained each of its training seeds once.
            var replans = cluster.JournalEvents().OfType<EpochReplanned>().Where(e => e.JobId == "fault").ToArray();
            Assert.True(replans.Length >= 1, $"no EpochReplanned after the kill.\n{cluster.Events}");
            cluster.Note($"re-planned: {string.Join("; ", replans.Select(r => $"epoch {r.Epoch} from step {r.FromStep} over {r.Trainers.Length} ({r.Reason})"))}");
            Assert.All(fault.SeedsTrainedPerEpoch, n => Assert.Equal(fault.SeedsPerEpoch, n));
            cluster.Note($"seeds trained per epoch: [{string.Join(", ", fault.SeedsTrainedPerEpoch)}] of {fault.SeedsPerEpoch}");
            FaultTraining.AssertCheckpoints(cluster, "fault", fault);
            // The epochs after the kill ran on the survivor alone.
            Assert.Equal([survivor.Address + "/user/trainer"], fault.Trainers);

            var a = FaultCluster.Metric(baseline, "test_accuracy");
            var b = FaultCluster.Metric(fault, "test_accuracy");
            cluster.Note($"test accuracy: {a:F4} without the fault, {b:F4} with it (difference {Math.Abs(a - b) * 100:F2} points)");
            // Lost or doubled work shows as a worse model. A better one is no fault: from the kill on, the survivor trains
            // alone from epoch 0's checkpoint (model and optimizer state) without averaging, another path to a good model
            // (0.9961 against 0.9844 on this graph).
            Assert.True(a - b <= 0.01f, $"test accuracy {b:F4} with the kill vs {a:F4} without: more than 1 point worse.\n{cluster.Events}");
        }
        finally
        {
            output.WriteLine(cluster.Events);
            output.WriteLine($"full node logs: {cluster.Run}");
        }
    }

    private static int Loads(string stdout, int partition)
    {
        var needle = $"Partition {partition} loaded from";
        var n = 0;
        for (var i = stdout.IndexOf(needle, StringComparison.Ordinal); i >= 0; i = stdout.IndexOf(needle, i + 1, StringComparison.Ordinal)) n++;
        return n;
    }

    private static string Table(PartitionsResult t) =>
        string.Join("; ", t.Partitions.Select(p => $"{p.Partition} {p.State} on {p.Node}")) + (t.Problem.Length > 0 ? $" ({t.Problem})" : "");
}
