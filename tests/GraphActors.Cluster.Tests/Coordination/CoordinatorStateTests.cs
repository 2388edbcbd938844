using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Tests.Serialization;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Coordination;

/// <summary>The coordinator's domain logic, no ActorSystem: seed split, averaging, the epoch cycle and the recovery rule.</summary>
public class CoordinatorStateTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly TrainingConfig Config = SampleMessages.Config with { Epochs = 2, BatchSize = 10, AveragingPeriod = 2, EvalEvery = 1 };
    private static readonly SeedSet Seeds = new(Enumerable.Range(0, 100).ToArray(), id => id < 70 ? 0 : 1);

    [Fact]
    public void Node_split_gives_balanced_counts_and_each_trainer_the_seeds_of_its_own_partition_first()
    {
        var shares = SeedSplit.Split(Seeds.Seeds, Seeds.OwnerOf, [[0], [1]]);
        Assert.Equal([50, 50], shares.Select(s => s.Length));
        Assert.All(shares[0], s => Assert.True(s < 70));                 // trainer 0: only local seeds
        Assert.Equal(30, shares[1].Count(s => s >= 70));                  // trainer 1: all 30 of its partition…
        Assert.Equal(Enumerable.Range(0, 100), shares.SelectMany(s => s).Order()); // …and every seed exactly once
    }

    [Fact]
    public void Node_split_spreads_a_partition_evenly_over_its_local_trainers_and_fills_remote_only_trainers_last()
    {
        var shares = SeedSplit.Split(Enumerable.Range(0, 10).ToArray(), _ => 0, [[0], [0], []]);
        Assert.Equal([4, 3, 3], shares.Select(s => s.Length));
        Assert.Equal(Enumerable.Range(0, 10), shares.SelectMany(s => s).Order());
    }

    [Fact]
    public void Averaging_gives_the_exact_element_wise_mean_chunk_by_chunk()
    {
        var a = new[] { 1f, 2f, 3f, 1e-7f, 16777216f };
        var b = new[] { 3f, -2f, 0.1f, 3e-7f, 16777217f - 1f };
        var avg = new ParameterAverager();
        foreach (var (t, v) in new[] { ("a", a), ("b", b) })
        {
            var chunks = ParameterAverager.Split(v, maxFloats: 2);
            for (var i = 0; i < chunks.Length; i++) Assert.Null(avg.Add(t, i, chunks.Length, chunks[i]));
        }
        Assert.True(avg.IsComplete("a") && avg.IsComplete("b"));
        var (mean, contributors) = avg.Average();
        Assert.Equal(2, contributors);
        Assert.Equal(a.Zip(b, (x, y) => (float)(((double)x + y) / 2)), mean.SelectMany(c => c));
    }

    [Fact]
    public void Averaging_refuses_a_chunk_of_another_shape()
    {
        var avg = new ParameterAverager();
        Assert.Null(avg.Add("a", 0, 2, [1f, 2f]));
        Assert.Contains("3 chunks", avg.Add("b", 0, 3, [1f, 2f]));
        Assert.Contains("floats", avg.Add("b", 0, 2, [1f]));
    }

    [Fact]
    public void A_job_runs_its_epochs_and_recovery_resumes_after_the_last_completed_epoch_from_the_last_checkpoint()
    {
        var s = new CoordinatorState();
        var journal = new List<ITrainingEvent>();
        Decision Do(object cmd, string? trainer = null)
        {
            var d = s.ProcessCommand(cmd, trainer, T0);
            foreach (var e in d.Events) { s.Apply(e); journal.Add(e); }
            return d;
        }
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n0", [0]), "t0");
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n1", [1]), "t1");
        Assert.True(((JobCommandResult)Do(new StartJob("j", Config)).Reply!).Accepted);
        Assert.True(s.ReadyToPlan(2));
        var plan = Do(new PlanEpoch(Seeds));
        var assignments = plan.Sends.Select(o => (EpochAssignment)o.Message).ToArray();
        Assert.Equal(2, assignments.Length);
        Assert.All(assignments, a => Assert.Equal(5, a.Steps));         // 50 seeds / batch 10
        Assert.All(assignments, a => Assert.Equal("", a.StartParametersPath));
        // An evaluated epoch (eval_every = 1) is evaluated once, by the first trainer: the replicas end it identical.
        Assert.Equal([true, false], assignments.Select(a => a.Evaluate));

        // 3 rounds (K = 2 over 5 steps); every round averages.
        for (var r = 0; r < 3; r++)
        {
            Assert.Empty(Do(new ParametersReady("j", 0, r, 0, 1, [r, 1f]), "t0").Events);
            var close = Do(new ParametersReady("j", 0, r, 0, 1, [r + 2f, 3f]), "t1");
            Assert.Equal(new ParametersAveraged("j", 0, r, 2), Assert.Single(close.Events));
            Assert.All(close.Sends, o => Assert.Equal([r + 1f, 2f], ((AveragedParameters)o.Message).Chunk));
        }
        Do(new EpochFinished("j", 0, 0.5f, ["val_acc"], [0.6f]), "t0");
        var ask = Do(new EpochFinished("j", 0, 0.7f, ["val_acc"], [0.8f]), "t1");
        var write = Assert.IsType<WriteCheckpoint>(Assert.Single(ask.Sends).Message);
        // The writer records the coordinator's metrics of the epoch, whichever trainer evaluated.
        Assert.Equal(["val_acc"], write.MetricNames);
        Assert.Equal(0.7f, Assert.Single(write.MetricValues), 5);
        var done = Do(new CheckpointWritten("j", 0, write.Directory, "sha0", [], []), "t0");
        Assert.Contains(done.Events, e => e is EpochCompleted { Epoch: 0 });
        Assert.Equal(0.7f, s.BestMetric, 5);
        // The job-wide step: epoch 0's 5 planned steps are done, the next epoch starts at 5.
        Assert.Equal((0L, 5L), (s.Status("", T0).Step, s.Status("", T0).GlobalStep));

        // Epoch 1 starts from checkpoint 0 and is cut after one round: a new incarnation replays the journal.
        var plan1 = Do(new PlanEpoch(Seeds));
        Assert.All(plan1.Sends, o => Assert.Equal(write.Directory, ((EpochAssignment)o.Message).StartParametersPath));
        Do(new StepsReported("j", 1, 2, 0.4f, 0.5f), "t0");
        Assert.Equal((2L, 7L), (s.Status("", T0).Step, s.Status("", T0).GlobalStep));
        Do(new ParametersReady("j", 1, 0, 0, 1, [1f, 1f]), "t0");
        Do(new ParametersReady("j", 1, 0, 0, 1, [1f, 1f]), "t1");

        var recovered = new CoordinatorState();
        foreach (var e in journal) recovered.Apply(e);
        recovered.Recovered();
        Assert.Equal((JobState.Running, 0, 1, write.Directory, "sha0"),
            (recovered.State, recovered.LastCompletedEpoch, recovered.NextEpoch, recovered.LastCheckpointPath, recovered.LastCheckpointSha256));
        Assert.False(recovered.EpochInFlight);
        // The unfinished epoch's steps are not counted: it is redone from global step 5.
        Assert.Equal(5L, recovered.Status("", T0).GlobalStep);
        // The snapshot carries the same durable state.
        var fromSnapshot = new CoordinatorState();
        fromSnapshot.Restore(recovered.ToSnapshot());
        Assert.Equal(recovered.Status("", T0) with { Trainers = [] }, fromSnapshot.Status("", T0) with { Trainers = [] }, StatusComparer.Instance);
    }

    [Fact]
    public void A_round_closes_without_a_trainer_that_stays_silent_past_the_timeout_and_a_leaving_trainer_is_dropped_from_the_epoch()
    {
        var s = new CoordinatorState();
        Decision Do(object cmd, string? trainer = null)
        {
            var d = s.ProcessCommand(cmd, trainer, T0);
            foreach (var e in d.Events) s.Apply(e);
            return d;
        }
        foreach (var t in new[] { "t0", "t1", "t2" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config));
        Do(new PlanEpoch(Seeds));
        Assert.Equal(WaitKind.FirstParameters, s.Wait.Kind);
        Do(new ParametersReady("j", 0, 0, 0, 1, [2f]), "t0");
        Do(new ParametersReady("j", 0, 0, 0, 1, [4f]), "t1");
        Assert.Equal(WaitKind.RoundStragglers, s.Wait.Kind);
        var closed = Do(new WaitTimedOut(s.Wait.Key));
        Assert.Equal(new ParametersAveraged("j", 0, 0, 2), Assert.Single(closed.Events));
        Assert.Contains(closed.Warnings, w => w.Contains("t2"));
        Assert.Equal(3, closed.Sends.Count);                               // the late one gets the average too
        Assert.All(closed.Sends, o => Assert.Equal([3f], ((AveragedParameters)o.Message).Chunk));

        Do(new TrainerLeft("t2"));
        Do(new ParametersReady("j", 0, 1, 0, 1, [1f]), "t0");
        Assert.Single(Do(new ParametersReady("j", 0, 1, 0, 1, [1f]), "t1").Events);
        Assert.Equal(["t0", "t1"], s.Status("", T0).Trainers);
    }

    private sealed class StatusComparer : IEqualityComparer<JobStatus>
    {
        public static readonly StatusComparer Instance = new();
        public bool Equals(JobStatus? x, JobStatus? y)
        {
            SampleMessages.AssertSame(x!, y!);
            return true;
        }
        public int GetHashCode(JobStatus obj) => 0;
    }
}
