// A TrainerActor between two probes (its sampler and its coordinator): what it reports when a step cannot be made.
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Trainers;
using GraphActors.Contracts;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.SamplingProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Trainers;

public sealed class TrainerActorSpec() : TestKit(ConfigurationFactory.ParseString("akka.actor.provider = local").WithFallback(NodeConfig.Defaults))
{
    private const string Training = """
        training {
          model_type = sage, hidden_channels = 8, num_layers = 2, fanouts = [3, 3], batch_size = 16, learning_rate = 0.01
          task = node_classification, target = user, reverse_edges = add_reverse, node_split = store, epochs = 2, seed = 1
          threads = 1, averaging_period = 1
        }
        """;

    [Fact]
    public async Task A_batch_the_step_cannot_take_fails_the_epoch_with_a_reason_and_the_trainer_takes_the_next_assignment()
    {
        using var store = new PartitionedGraphStore(PartitionStore.Open(TrainingStores.Synthetic));
        var sampler = CreateTestProbe();
        var coordinator = CreateTestProbe();
        var trainer = Sys.ActorOf(TrainerActor.Props(TrainerSettings.Create(Sys), store, sampler.Ref, coordinator.Ref, () => [], "test-node"));
        var job = TrainingHocon.ToJob(TrainingHocon.Parse(Training, "test"), TrainingStores.Synthetic, Path.GetTempPath());
        int[] seeds = [.. Enumerable.Range(0, 16)];

        // A real batch of these seeds, with one edge pointing past its block's source nodes.
        var blocks = new BlockSampler(store, new BlockSamplerOptions([3, 3]) { ReverseEdges = ReverseEdges.AddReverse });
        var batch = await blocks.SampleAsync(new Dictionary<NodeType, int[]> { [new NodeType("user")] = seeds }, 5);
        var data = batch.ToData(0, 0, 0);
        var edges = data.Blocks[0].EdgeSrc.First(e => e.Length > 0);
        edges[0] = 1_000_000;

        trainer.Tell(new EpochAssignment("j", 0, 0, job, 1, 0, [0], [seeds.Length], seeds, 0, 1, false, "", ""), coordinator.Ref);
        var ask = await sampler.ExpectMsgAsync<SampleEpoch>(TimeSpan.FromSeconds(60));
        Assert.Equal(seeds, ask.Seeds);
        Assert.Equal([0, seeds.Length], ask.BatchOffsets!);
        Assert.Null(ask.Link);
        var stream = await Source.Single<IMiniBatchPart>(data with { RequestId = ask.RequestId }).RunWith(StreamRefs.SourceRef<IMiniBatchPart>(), Sys.Materializer());
        trainer.Tell(new EpochStreamReady(ask.RequestId, 0, 1, stream), sampler.Ref);

        var failed = await coordinator.FishForMessageAsync<TrainerFailed>(m => m is TrainerFailed, TimeSpan.FromSeconds(60));
        Assert.Equal(("j", 0), (failed.JobId, failed.Epoch));
        Assert.Contains("global step 0 of epoch 0", failed.Reason);
        Assert.DoesNotContain("unexpected error", failed.Reason); // handled in the step, not by a restart

        // The actor is the same one and still serves: the next assignment gets a stream request.
        trainer.Tell(new EpochAssignment("j", 1, 0, job, 1, 0, [0], [seeds.Length], seeds, 0, 1, false, "", ""), coordinator.Ref);
        var next = await sampler.ExpectMsgAsync<SampleEpoch>(TimeSpan.FromSeconds(60));
        Assert.Equal(1, next.Epoch);
    }
}
