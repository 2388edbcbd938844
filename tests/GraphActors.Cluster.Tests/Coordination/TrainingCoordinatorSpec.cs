using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Serialization;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Coordination;

/// <summary>
/// The coordinator singleton on a real journal, driven by TestProbe trainers: each test starts and kills its own
/// ActorSystems (the TestKit's Sys is unused) on 127.0.0.1 free ports.
/// </summary>
public class TrainingCoordinatorSpec() : TestKit(ConfigurationFactory.ParseString("akka.actor.provider = local"))
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TrainingConfig Job = SampleMessages.Config with { Epochs = 2, BatchSize = 10, AveragingPeriod = 2, EvalEvery = 1, CheckpointDir = "/ck" };

    private sealed class TestSeeds : ISeedSource
    {
        public SeedSet Load(TrainingConfig config) => new(Enumerable.Range(0, 100).ToArray(), id => id < 50 ? 0 : 1);
    }

    private static string TempJournalFile() =>
        Path.Combine(Path.GetTempPath(), "ga-coordinator-tests", Guid.NewGuid().ToString("N"), "coordinator.db");

    private static string Sqlite(string file) => $"graphactors.persistence.sqlite-path = {NodeConfig.Quote(file)}";

    private static ActorSystem StartNode(int port, int[] seeds, string journal /* graphactors.persistence HOCON */)
    {
        var config = NodeConfig.WithPersistence(TestNodes.Node(port, seeds, "trainer", null, $$"""
            akka.loglevel = WARNING
            # Akka.Persistence.Sql and cluster internals send themselves non-serializable messages; ours are round-tripped
            # by GraphActorsSerializerTests and every event and snapshot here goes through GraphActorsSerializer into the journal.
            akka.actor.serialize-messages = off
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            akka.cluster.downing-provider-class = ""
            {{journal}}
            graphactors.training-coordinator {
              # The probes here play trainers of the star: they send their vectors and read the averages.
              averaging = star
              min-trainers = 2
              plan-delay = 300ms
              checkpoint-timeout = 5s
              snapshot-every = 5
            }
            """));
        var system = ActorSystem.Create(Names.ActorSystem, config);
        if (seeds.Length == 0) Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress);
        var settings = CoordinatorSettings.Create(system);
        system.StartTrainingCoordinator(settings, new TestSeeds());
        system.StartTrainingCoordinatorProxy(settings);
        return system;
    }

    private static IActorRef Proxy(ActorSystem system) =>
        system.ActorSelection($"/user/{Names.TrainingCoordinatorProxy}").ResolveOne(Wait).GetAwaiter().GetResult();

    private (TestProbe A, TestProbe B) RegisterTrainers(ActorSystem system, IActorRef proxy, string suffix = "")
    {
        var a = CreateTestProbe(system, "trainer-a" + suffix);
        var b = CreateTestProbe(system, "trainer-b" + suffix);
        proxy.Tell(new RegisterTrainer(a.Ref, "node", [0]), a.Ref);
        proxy.Tell(new RegisterTrainer(b.Ref, "node", [1]), b.Ref);
        // The singleton may still be starting (proxy buffers) or recovering: a generous bound.
        a.ExpectMsg<TrainerRegistered>(TimeSpan.FromSeconds(15));
        b.ExpectMsg<TrainerRegistered>(Wait);
        return (a, b);
    }

    private static float[] Params(int trainer, int epoch, int round) =>
        Enumerable.Range(0, 5).Select(i => trainer * 1.5f + epoch * 10 + round + i * 0.25f).ToArray();

    /// <summary>Runs <paramref name="rounds"/> rounds of an epoch (all when null) as both trainers; checks each average.</summary>
    private static EpochAssignment RunEpoch(IActorRef proxy, TestProbe a, TestProbe b, int expectedEpoch, int? rounds = null, bool finish = true)
    {
        var ea = a.ExpectMsg<EpochAssignment>(Wait);
        var eb = b.ExpectMsg<EpochAssignment>(Wait);
        Assert.Equal(expectedEpoch, ea.Epoch);
        Assert.Equal(expectedEpoch, eb.Epoch);
        // Every global batch of 10 is split 5 + 5 (even counts), a trainer's own partition first: all 100 seeds once.
        Assert.Equal((50, 50), (ea.SeedIds.Length, eb.SeedIds.Length));
        Assert.Equal(Enumerable.Range(0, 100), ea.SeedIds.Concat(eb.SeedIds).Order());
        var total = (ea.TotalSteps + ea.Config.AveragingPeriod - 1) / ea.Config.AveragingPeriod;
        for (var r = 0; r < (rounds ?? total); r++)
        {
            foreach (var (probe, t, assignment) in new[] { (a, 0, ea), (b, 1, eb) })
            {
                var (seeds, checksum) = RoundOf(assignment, r);
                var chunks = ParameterAveraging(Params(t, ea.Epoch, r));
                for (var i = 0; i < chunks.Length; i++)
                    proxy.Tell(new ParametersReady(ea.JobId, ea.Epoch, ea.Attempt, r, i, chunks.Length, seeds, checksum, chunks[i]), probe.Ref);
            }
            var expected = Params(0, ea.Epoch, r).Zip(Params(1, ea.Epoch, r), (x, y) => (float)(((double)x + y) / 2)).ToArray();
            foreach (var probe in new[] { a, b })
            {
                var got = new float[expected.Length];
                var offset = 0;
                for (var i = 0; i < 2; i++)
                {
                    var avg = probe.ExpectMsg<AveragedParameters>(Wait);
                    Assert.Equal((ea.Epoch, r, i, 2), (avg.Epoch, avg.Round, avg.ChunkIndex, avg.Contributors));
                    avg.Chunk.CopyTo(got, offset);
                    offset += avg.Chunk.Length;
                }
                Assert.Equal(expected, got);
            }
        }
        if (finish)
        {
            // a evaluates (the first member); b's report is its loss only.
            proxy.Tell(new EpochFinished(ea.JobId, ea.Epoch, 0.5f, ["val_acc"], [0.6f + ea.Epoch * 0.1f]), a.Ref);
            proxy.Tell(new EpochFinished(ea.JobId, ea.Epoch, 0.7f, [], []), b.Ref);
            var write = a.ExpectMsg<WriteCheckpoint>(Wait);
            proxy.Tell(new CheckpointWritten(ea.JobId, ea.Epoch, write.Directory, $"sha-{ea.Epoch}", [], []), a.Ref);
        }
        return ea;
    }

    private static float[][] ParameterAveraging(float[] v) => ParameterAverager.Split(v, maxFloats: 3);

    /// <summary>The seeds of round <paramref name="round"/> in an assignment (K global steps a round): their count and checksum.</summary>
    private static (int Seeds, long Checksum) RoundOf(EpochAssignment a, int round)
    {
        var k = a.Config.AveragingPeriod;
        var seeds = a.SeedsOfSteps(round * k, (round + 1) * k);
        return (seeds.Length, SeedChecksum(seeds));
    }

    private JobStatus Status(IActorRef proxy, Func<JobStatus, bool> until)
    {
        var probe = CreateTestProbe(((IInternalActorRef)proxy).Provider.Guardian.Underlying.System);
        var deadline = DateTime.UtcNow + Wait;
        JobStatus status;
        do
        {
            proxy.Tell(new GetJobStatus("job-1"), probe.Ref);
            status = probe.ExpectMsg<JobStatus>(Wait);
            if (until(status)) return status;
            Thread.Sleep(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Fail($"job status never reached the expected state within {Wait}; last: {status.State}, epoch {status.LastCompletedEpoch}");
        return status;
    }

    private void KillRecoverAndFinish(string journal)
    {
        var sw = Stopwatch.StartNew();
        var first = StartNode(TestNodes.FreePort(), [], journal);
        try
        {
            var proxy = Proxy(first);
            var (a, b) = RegisterTrainers(first, proxy);
            var client = CreateTestProbe(first);
            proxy.Tell(new StartJob("job-1", Job), client.Ref);
            Assert.True(client.ExpectMsg<JobCommandResult>(Wait).Accepted);
            RunEpoch(proxy, a, b, 0);
            var after0 = Status(proxy, s => s.LastCompletedEpoch == 0);
            Assert.Equal("/ck/job-1/epoch-0000", after0.LastCheckpointPath);
            RunEpoch(proxy, a, b, 1, rounds: 1, finish: false);
        }
        finally
        {
            // A kill, not a leave: no CoordinatedShutdown, nothing flushed beyond what the journal acknowledged.
            first.Terminate().Wait(Wait);
        }

        var second = StartNode(TestNodes.FreePort(), [], journal);
        try
        {
            var proxy = Proxy(second);
            var status = Status(proxy, s => s.JobId == "job-1");
            Assert.Equal((JobState.Running, 0, "/ck/job-1/epoch-0000", "sha-0"),
                (status.State, status.LastCompletedEpoch, status.LastCheckpointPath, status.LastCheckpointSha256));
            var (a, b) = RegisterTrainers(second, proxy);
            var resumed = RunEpoch(proxy, a, b, 1);
            Assert.Equal(("/ck/job-1/epoch-0000", "sha-0"), (resumed.StartParametersPath, resumed.StartParametersSha256));
            a.ExpectMsg<TrainingHalted>(Wait);
            var done = Status(proxy, s => s.State == JobState.Finished);
            Assert.Equal((1, "/ck/job-1/epoch-0001", 1), (done.LastCompletedEpoch, done.LastCheckpointPath, done.BestEpoch));
            Assert.Equal(0.7f, done.BestMetric, 4); // the evaluator's val_acc of epoch 1
            Assert.Equal([100L, 100L], done.SeedsTrainedPerEpoch);
            // Epoch 0 came back from the journal into the status's history, beside epoch 1.
            Assert.Equal([0, 1], done.Epochs.Select(e => e.Epoch));
            Assert.Equal(0.7f, Assert.Single(done.EpochAt(1)!.MetricValues), 4);
            // The coordinator's node exports the job's gauges.
            using var scrape = new MemoryStream();
            GraphActors.Cluster.Metrics.NodeMetrics.Get(second).WriteAsync(scrape, CancellationToken.None).Wait(Wait);
            var text = System.Text.Encoding.UTF8.GetString(scrape.ToArray());
            Assert.Contains("graphactors_job_state{state=\"Finished\"} 1", text);
            Assert.Contains("graphactors_job_state{state=\"Running\"} 0", text);
            Assert.Contains("graphactors_job_last_completed_epoch 1", text);
            Assert.Contains("graphactors_job_best_epoch 1", text);
            Assert.Contains("graphactors_job_best_metric 0.7", text);
        }
        finally
        {
            second.Terminate().Wait(Wait);
        }
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
    }

    [Fact]
    public void A_job_averages_two_trainers_survives_a_killed_actor_system_and_finishes_from_its_sqlite_journal()
    {
        var journal = TempJournalFile();
        KillRecoverAndFinish(Sqlite(journal));
        Assert.True(File.Exists(journal), $"no SQLite journal at {journal}");
    }

    [PostgresFact]
    public void The_same_recovery_works_on_a_postgresql_journal()
    {
        using var pg = ThrowawayPostgres.Start();
        KillRecoverAndFinish($"graphactors.persistence.journal-connection-string = {NodeConfig.Quote("postgresql:" + pg.ConnectionString)}");
    }

    [Fact]
    public async Task The_singleton_moves_to_the_other_node_when_the_oldest_dies_and_recovers_the_job_from_the_shared_journal()
    {
        var journal = Sqlite(TempJournalFile());
        var portA = TestNodes.FreePort();
        var nodeA = StartNode(portA, [portA], journal);
        var nodeB = StartNode(TestNodes.FreePort(), [portA], journal);
        try
        {
            await Task.WhenAll(TestNodes.AwaitUp(nodeA, 2, Wait), TestNodes.AwaitUp(nodeB, 2, Wait)).WaitAsync(Wait);
            var proxy = Proxy(nodeB);
            var (a, b) = RegisterTrainers(nodeB, proxy);
            var client = CreateTestProbe(nodeB);
            proxy.Tell(new StartJob("job-1", Job), client.Ref);
            Assert.True(client.ExpectMsg<JobCommandResult>(Wait).Accepted);
            RunEpoch(proxy, a, b, 0);
            Status(proxy, s => s.LastCompletedEpoch == 0);

            // A (the oldest, hosting the singleton) dies; B's operator (or SBR) downs it; the singleton restarts on B.
            var addressA = Akka.Cluster.Cluster.Get(nodeA).SelfAddress;
            await nodeA.Terminate().WaitAsync(Wait);
            Akka.Cluster.Cluster.Get(nodeB).Down(addressA);

            var recovered = Status(proxy, s => s.JobId == "job-1" && s.Trainers.Length == 0);
            Assert.Equal((JobState.Running, 0, "/ck/job-1/epoch-0000"), (recovered.State, recovered.LastCompletedEpoch, recovered.LastCheckpointPath));
            var (a2, b2) = RegisterTrainers(nodeB, proxy, "-again");
            RunEpoch(proxy, a2, b2, 1);
            Assert.Equal(JobState.Finished, Status(proxy, s => s.State == JobState.Finished).State);
        }
        finally
        {
            // Bounded, never throwing: a node that does not stop in time must not hide the test's own failure.
            await Task.WhenAny(Task.WhenAll(nodeA.Terminate(), nodeB.Terminate()), Task.Delay(Wait));
        }
    }
}
