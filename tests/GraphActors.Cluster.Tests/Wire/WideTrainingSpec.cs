using Akka.Actor;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Trainers;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts.Protocols;
using GraphActors.Contracts.Serialization;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using GraphActors.Training;
using Xunit.Abstractions;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Wire;

/// <summary>
/// Issue 11's failure end to end: jobs over a generated graph with 4,096-d features (<see cref="TrainingStores.Wide"/>),
/// batch size 4,096 and 20,300 validation + test users, evaluated every epoch, in GraphLearn's worker mode (two nodes
/// with partition + trainer) and server mode (two partition nodes, two trainer-only nodes), each node an ActorSystem
/// started by NodeHost as `graphactors node` starts one. Before chunking, every evaluation's feature gather from the
/// other node (tens of MiB) was dropped by Akka.Remote and the epochs finished without metrics; here every epoch must
/// have its metrics in the job status and in its checkpoint's manifest, and nothing larger than a chunk may be written.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public sealed class WideTrainingSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private const int Epochs = 2;

    private const string Training = """
        training {
          model_type = sage
          hidden_channels = 16
          num_layers = 1
          fanouts = [3]
          eval_fanouts = [3]
          batch_size = 4096
          learning_rate = 0.01
          task = node_classification
          target = user
          reverse_edges = add_reverse
          node_split = store
          epochs = 2
          eval_every = 1
          seed = 5
          threads = 1
          averaging_period = 1
          prefetch = 1
        }
        """;

    private static ActorSystem StartNode(int port, int seed, string roles, string journal, TextWriter log) =>
        NodeHost.Start(NodeConfig.WithPersistence(TestNodes.Node(port, [seed], roles, TrainingStores.Wide, $$"""
            akka.actor.serialize-messages = off
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            graphactors.persistence.sqlite-path = {{NodeConfig.Quote(journal)}}
            graphactors.training-coordinator { plan-delay = 1s, round-timeout = 120s, min-trainers = 2 }
            graphactors.trainer.register-interval = 500ms
            graphactors.sampler { parallelism = 1, prefetch = 1 }
            """)), log);

    [Fact]
    public async Task Worker_mode_trains_a_4096_d_job_with_batches_of_4096_and_every_epoch_evaluated()
    {
        var (p1, p2) = (TestNodes.FreePort(), TestNodes.FreePort());
        await Train("worker", [(p1, "partition, trainer"), (p2, "partition, trainer")]);
    }

    [Fact]
    public async Task Server_mode_trains_a_4096_d_job_with_batches_of_4096_and_every_epoch_evaluated()
    {
        var (p1, p2, p3, p4) = (TestNodes.FreePort(), TestNodes.FreePort(), TestNodes.FreePort(), TestNodes.FreePort());
        await Train("server", [(p1, "partition"), (p2, "partition"), (p3, "trainer"), (p4, "trainer")]);
    }

    private async Task Train(string mode, (int Port, string Roles)[] nodes)
    {
        var store = TrainingStores.Wide;
        using (var local = new PartitionedGraphStore(PartitionStore.Open(store)))
        {
            var heldOut = (await local.GetSplitAsync("user", SplitKind.Val)).Length + (await local.GetSplitAsync("user", SplitKind.Test)).Length;
            Assert.True(heldOut >= 20_000, $"validation + test hold {heldOut} users");
            Assert.Equal(4096, local.Schema.Node("user").FeatureDim);
        }
        var run = Path.Combine(Path.GetTempPath(), "ga-wide-training", Guid.NewGuid().ToString("N"));
        var log = new StringWriter();
        var seed = nodes[0].Port;
        var systems = nodes.Select(n => StartNode(n.Port, seed, n.Roles, Path.Combine(run, "coordinator.db"), log)).ToArray();
        WireTraffic.Reset();
        WireTraffic.Enabled = true;
        try
        {
            await TestNodes.AwaitUp(systems[0], nodes.Length, Wait);
            var trainerNode = systems[Array.FindIndex(nodes, n => n.Roles.Contains("trainer"))];
            var job = TrainingHocon.ToJob(TrainingHocon.Parse(Training, mode), store, Path.Combine(run, "checkpoints"));
            var proxy = await trainerNode.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").ResolveOne(Wait);
            var started = await proxy.Ask<JobCommandResult>(new StartJob(mode, job), Wait);
            Assert.True(started.Accepted, started.Message);

            var status = await AwaitFinished(proxy, TimeSpan.FromMinutes(8));
            output.WriteLine($"{mode} mode: {status.State}, epoch {status.LastCompletedEpoch}, steps {status.GlobalStep}, " +
                string.Join(", ", status.MetricNames.Zip(status.MetricValues, (n, v) => $"{n} {v:F3}")));
            Assert.Equal(Epochs - 1, status.LastCompletedEpoch);
            Assert.Equal(2, status.Trainers.Length);
            Assert.Contains("val_accuracy", status.MetricNames);
            Assert.Contains("test_accuracy", status.MetricNames);
            Assert.All(status.MetricValues, v => Assert.True(float.IsFinite(v)));
            for (var epoch = 0; epoch < Epochs; epoch++)
            {
                var (manifest, _) = Checkpoints.Read(Path.Combine(run, "checkpoints", mode, $"epoch-{epoch:D4}"));
                Assert.True(manifest.Metrics.ContainsKey("val_accuracy") && manifest.Metrics.ContainsKey("test_accuracy"),
                    $"the checkpoint of epoch {epoch} has no evaluation metrics: [{string.Join(", ", manifest.Metrics.Keys)}]");
            }

            // The gathers did cross in chunks, and no message of any kind was written above a chunk.
            var traffic = WireTraffic.Snapshot();
            var chunk = WireSettings.Create(systems[0]).ChunkSize;
            var features = traffic.GetValueOrDefault("PFR");
            output.WriteLine($"feature answers: {features.MessagesWritten} whole (largest {features.MaxWritten:N0} B), {features.MessagesChunked} chunked " +
                $"(largest {features.MaxChunked:N0} B whole, largest chunk {features.MaxChunkWritten:N0} B)");
            Assert.True(features.MessagesChunked >= 1, "no feature answer crossed in chunks");
            Assert.True(features.MaxChunked > 16L << 20, $"the largest chunked feature answer was {features.MaxChunked:N0} bytes");
            var largest = traffic.MaxBy(kv => kv.Value.MaxWritten);
            Assert.True(largest.Value.MaxWritten <= chunk + 1024, $"a '{largest.Key}' of {largest.Value.MaxWritten:N0} bytes was written whole");
        }
        finally
        {
            WireTraffic.Enabled = false;
            output.WriteLine(string.Join('\n', log.ToString().Split('\n').Where(l => l.Contains("ERROR") || l.Contains("WARN") || l.Contains("Trainer finished"))
                .Take(40)));
            await Task.WhenAll(systems.Reverse().Select(s => s.Terminate()));
            try { Directory.Delete(run, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<JobStatus> AwaitFinished(IActorRef proxy, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JobStatus status;
        do
        {
            status = await proxy.Ask<JobStatus>(new GetJobStatus(), Wait);
            if (status.State == JobState.Finished) return status;
            if (status.State is JobState.Failed or JobState.Stopped) throw new Xunit.Sdk.XunitException($"job {status.JobId} is {status.State}: {status.Reason}");
            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"job {status.JobId} is {status.State} at epoch {status.Epoch} after {timeout}, expected Finished");
    }
}
