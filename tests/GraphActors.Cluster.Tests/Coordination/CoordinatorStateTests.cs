using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Tests.Serialization;
using GraphActors.Contracts.Protocols;
using GraphActors.Sampling;
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
    public void Averaging_gives_the_exact_seed_weighted_mean_chunk_by_chunk()
    {
        var a = new[] { 1f, 2f, 3f, 1e-7f, 16777216f };
        var b = new[] { 3f, -2f, 0.1f, 3e-7f, 16777217f - 1f };
        var avg = new ParameterAverager();
        foreach (var (t, v, w) in new[] { ("a", a, 1.0), ("b", b, 3.0) })
        {
            var chunks = ParameterAverager.Split(v, maxFloats: 2);
            for (var i = 0; i < chunks.Length; i++) Assert.Null(avg.Add(t, i, chunks.Length, w, chunks[i]));
        }
        Assert.True(avg.IsComplete("a") && avg.IsComplete("b"));
        var (mean, contributors) = avg.Average();
        Assert.Equal(2, contributors);
        // A mean gradient over 1 seed and one over 3, weighted: the mean over the 4 seeds.
        Assert.Equal(a.Zip(b, (x, y) => (float)(((double)x + 3.0 * y) / 4)), mean.SelectMany(c => c));
    }

    [Fact]
    public void Averaging_refuses_a_chunk_of_another_shape_and_a_contribution_without_seeds()
    {
        var avg = new ParameterAverager();
        Assert.Null(avg.Add("a", 0, 2, 1, [1f, 2f]));
        Assert.Contains("3 chunks", avg.Add("b", 0, 3, 1, [1f, 2f]));
        Assert.Contains("floats", avg.Add("b", 0, 2, 1, [1f]));
        Assert.Contains("weight", avg.Add("c", 0, 2, 0, [1f, 2f]));
    }

    /// <summary>Plays the trainers' side of a plan: their latest assignment, and what each trained in a round.</summary>
    private sealed class Trainers
    {
        private readonly Dictionary<string, EpochAssignment> _latest = new();

        public void Take(Decision d)
        {
            foreach (var o in d.Sends)
                if (o.Message is EpochAssignment a) _latest[o.TrainerId] = a;
        }

        public EpochAssignment Of(string trainer) => _latest[trainer];

        /// <summary>The seeds <paramref name="trainer"/> trains in round <paramref name="round"/> (K global steps).</summary>
        public int[] Round(string trainer, int round, int k) => _latest[trainer].SeedsOfSteps(round * k, (round + 1) * k);

        public RoundContribution RingStart(string job, int epoch, string trainer, int round, int k)
        {
            var seeds = Round(trainer, round, k);
            return new RoundContribution(job, epoch, _latest[trainer].Attempt, round, seeds.Length, SeedChecksum(seeds));
        }

        public ParametersReady Contribution(string job, int epoch, string trainer, int round, int k, float[] vector)
        {
            var seeds = Round(trainer, round, k);
            return new ParametersReady(job, epoch, _latest[trainer].Attempt, round, 0, 1, seeds.Length, SeedChecksum(seeds), vector);
        }
    }

    private static (CoordinatorState State, Func<object, string?, Decision> Do, List<ITrainingEvent> Journal) NewState(
        AveragingMode averaging = AveragingMode.Star)
    {
        var s = new CoordinatorState(averaging);
        var journal = new List<ITrainingEvent>();
        return (s, (cmd, trainer) =>
        {
            var d = s.ProcessCommand(cmd, trainer, T0);
            foreach (var e in d.Events) { s.Apply(e); journal.Add(e); }
            return d;
        }, journal);
    }

    [Fact]
    public void An_epoch_is_local_modes_batches_each_split_among_the_trainers_and_every_seed_is_planned_exactly_once()
    {
        var (s, Do, _) = NewState();
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n0", [0]), "t0");
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n1", [1]), "t1");
        Do(new StartJob("j", Config), null);
        var trainers = new Trainers();
        var plan = Do(new PlanEpoch(Seeds), null);
        trainers.Take(plan);
        Assert.Equal(100L, Assert.IsType<EpochPlanned>(Assert.Single(plan.Events)).TrainingSeeds);
        // Global step s holds exactly local mode's batch s (same shuffle, same cut), split between the two trainers.
        var local = EpochPlan.Shuffle(Seeds.Seeds, Config.Seed, 0);
        for (var step = 0; step < 10; step++)
        {
            var batch = EpochPlan.Batch(local, Config.BatchSize, step).ToArray().Order();
            var pieces = new[] { "t0", "t1" }.SelectMany(t => Piece(trainers.Of(t), step)).Order();
            Assert.Equal(batch, pieces);
        }
        Assert.All(new[] { "t0", "t1" }, t => Assert.Equal(10, trainers.Of(t).TotalSteps));
    }

    private static int[] Piece(EpochAssignment a, int step) => a.SeedsOfSteps(step, step + 1);

    [Fact]
    public void A_job_runs_its_epochs_and_recovery_resumes_after_the_last_completed_epoch_from_the_last_checkpoint()
    {
        var (s, Do, journal) = NewState();
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n0", [0]), "t0");
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n1", [1]), "t1");
        Assert.True(((JobCommandResult)Do(new StartJob("j", Config), null).Reply!).Accepted);
        Assert.True(s.ReadyToPlan(2));
        var trainers = new Trainers();
        var plan = Do(new PlanEpoch(Seeds), null);
        trainers.Take(plan);
        var assignments = plan.Sends.Select(o => (EpochAssignment)o.Message).ToArray();
        Assert.Equal(2, assignments.Length);
        Assert.All(assignments, a => Assert.Equal("", a.StartParametersPath));
        // An evaluated epoch (eval_every = 1) is evaluated once, by the first trainer: the replicas end it identical.
        Assert.Equal([true, false], assignments.Select(a => a.Evaluate));

        // 100 seeds / batch 10 = 10 global steps; K = 2: 5 rounds, each the seed-weighted average of the two.
        for (var r = 0; r < 5; r++)
        {
            Assert.Empty(Do(trainers.Contribution("j", 0, "t0", r, 2, [r, 1f]), "t0").Events);
            var close = Do(trainers.Contribution("j", 0, "t1", r, 2, [r + 2f, 3f]), "t1");
            Assert.Equal(new ParametersAveraged("j", 0, r, 2, 20), Assert.Single(close.Events));
            Assert.All(close.Sends, o => Assert.Equal([r + 1f, 2f], ((AveragedParameters)o.Message).Chunk));
        }
        Do(new EpochFinished("j", 0, 0.5f, ["val_acc"], [0.7f]), "t0");
        var ask = Do(new EpochFinished("j", 0, 0.7f, [], []), "t1");
        var write = Assert.IsType<WriteCheckpoint>(Assert.Single(ask.Sends).Message);
        // The writer records the evaluator's metrics and the job's best so far (this epoch).
        Assert.Equal(["val_acc"], write.MetricNames);
        Assert.Equal(0.7f, Assert.Single(write.MetricValues), 5);
        Assert.Equal((0, 0.7f), (write.BestEpoch, write.BestMetric));
        var done = Do(new CheckpointWritten("j", 0, write.Directory, "sha0", [], []), "t0");
        var completed = Assert.Single(done.Events.OfType<EpochCompleted>());
        Assert.Equal((0, 100L, 100L), (completed.Epoch, completed.SeedsTrained, completed.SeedsPlanned));
        Assert.Equal(0.7f, s.BestMetric, 5);
        Assert.Equal([100L], s.Status("", T0).SeedsTrainedPerEpoch);
        // The status carries the completed epoch with its merged loss and the evaluator's metrics.
        var summary = Assert.Single(s.Status("", T0).Epochs);
        Assert.Equal((0, completed.Loss, "val_acc", 0.7f), (summary.Epoch, summary.Loss, Assert.Single(summary.MetricNames), Assert.Single(summary.MetricValues)));
        // The job-wide step: epoch 0's 10 planned steps are done, the next epoch starts at 10.
        Assert.Equal((0L, 10L), (s.Status("", T0).Step, s.Status("", T0).GlobalStep));

        // Epoch 1 starts from checkpoint 0 and is cut after one round: a new incarnation replays the journal.
        var plan1 = Do(new PlanEpoch(Seeds), null);
        trainers.Take(plan1);
        Assert.All(plan1.Sends, o => Assert.Equal(write.Directory, ((EpochAssignment)o.Message).StartParametersPath));
        Do(new StepsReported("j", 1, 2, 0.4f, 0.5f), "t0");
        Assert.Equal((2L, 12L), (s.Status("", T0).Step, s.Status("", T0).GlobalStep));
        Do(trainers.Contribution("j", 1, "t0", 0, 2, [1f, 1f]), "t0");
        Do(trainers.Contribution("j", 1, "t1", 0, 2, [1f, 1f]), "t1");

        var recovered = new CoordinatorState();
        foreach (var e in journal) recovered.Apply(e);
        recovered.Recovered();
        Assert.Equal((JobState.Running, 0, 1, write.Directory, "sha0"),
            (recovered.State, recovered.LastCompletedEpoch, recovered.NextEpoch, recovered.LastCheckpointPath, recovered.LastCheckpointSha256));
        Assert.False(recovered.EpochInFlight);
        // The unfinished epoch's steps are not counted: it is redone from global step 10.
        Assert.Equal(10L, recovered.Status("", T0).GlobalStep);
        // The snapshot carries the same durable state.
        var fromSnapshot = new CoordinatorState();
        fromSnapshot.Restore(recovered.ToSnapshot());
        Assert.Equal(recovered.Status("", T0) with { Trainers = [] }, fromSnapshot.Status("", T0) with { Trainers = [] }, StatusComparer.Instance);
    }

    [Fact]
    public void A_trainer_that_leaves_mid_epoch_has_its_open_steps_planned_again_among_the_others_and_every_seed_is_trained_exactly_once()
    {
        var (s, Do, _) = NewState();
        foreach (var t in new[] { "t0", "t1", "t2" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config with { Epochs = 1 }), null);
        var trainers = new Trainers();
        trainers.Take(Do(new PlanEpoch(Seeds), null));
        var trained = new List<int>();
        // Round 0 closes with all three.
        foreach (var t in new[] { "t0", "t1", "t2" })
        {
            trained.AddRange(trainers.Round(t, 0, 2));
            Do(trainers.Contribution("j", 0, t, 0, 2, [1f]), t);
        }
        Assert.Equal(1, s.Status("", T0).Round);
        // In round 1, t0 has sent, t1 is slow (not dropped: slowness is no reason), t2's node becomes unreachable.
        var stale = trainers.Contribution("j", 0, "t0", 1, 2, [1f]);
        Do(stale, "t0");
        var replan = Do(new TrainerLeft("t2", "its node is unreachable"), null);
        trainers.Take(replan);
        var again = Assert.IsType<EpochReplanned>(Assert.Single(replan.Events));
        Assert.Equal((1, 2), (again.Attempt, again.FromStep));
        Assert.Equal(["t0", "t1"], again.Trainers);
        Assert.Equal(["t0", "t1"], replan.Sends.Select(o => o.TrainerId).Distinct().Order());
        Assert.All(replan.Sends, o => Assert.Equal(2, ((EpochAssignment)o.Message).FromStep));
        // The contribution of the old attempt does not count in the new one.
        Assert.Empty(Do(stale, "t0").Events);
        for (var r = 1; r < 5; r++)
        {
            foreach (var t in new[] { "t0", "t1" })
            {
                trained.AddRange(trainers.Round(t, r, 2));
                Do(trainers.Contribution("j", 0, t, r, 2, [1f]), t);
            }
        }
        Assert.Equal(Enumerable.Range(0, 100), trained.Order()); // each seed exactly once
        Do(new EpochFinished("j", 0, 0.5f, ["val_acc"], [0.7f]), "t0");
        var write = Assert.IsType<WriteCheckpoint>(Assert.Single(Do(new EpochFinished("j", 0, 0.5f, [], []), "t1").Sends).Message);
        var done = Do(new CheckpointWritten("j", 0, write.Directory, "sha", [], []), "t0");
        Assert.Equal(100L, Assert.Single(done.Events.OfType<EpochCompleted>()).SeedsTrained);
        Assert.Equal(JobState.Finished, s.State);
    }

    [Fact]
    public void A_job_whose_metric_stops_improving_for_its_patience_ends_after_that_epochs_checkpoint_as_local_mode_does()
    {
        var (s, Do, _) = NewState();
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n0", [0]), "t0");
        Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n1", [1]), "t1");
        var config = Config with { Epochs = 5, TrainingHocon = "training { model_type = sage, target = user, patience = 2 }" };
        Do(new StartJob("j", config), null);
        var trainers = new Trainers();
        // Epoch 0 sets the best (0.7), 1 improves (0.8), 2 and 3 do not: patience 2 is spent after epoch 3, of 5.
        float[] metric = [0.7f, 0.8f, 0.75f, 0.79f];
        for (var epoch = 0; epoch < metric.Length; epoch++)
        {
            Assert.Equal(JobState.Running, s.State);
            trainers.Take(Do(new PlanEpoch(Seeds), null));
            for (var r = 0; r < 5; r++)
                foreach (var t in new[] { "t0", "t1" }) Do(trainers.Contribution("j", epoch, t, r, 2, [1f]), t);
            Do(new EpochFinished("j", epoch, 0.5f, ["val_acc"], [metric[epoch]]), "t0");
            var write = Assert.IsType<WriteCheckpoint>(Assert.Single(Do(new EpochFinished("j", epoch, 0.5f, [], []), "t1").Sends).Message);
            // The writer can tell the job ends here (its trainers release what they hold for it): the same rule, the same inputs.
            var rule = new GraphActors.Training.TrainingConfig { Epochs = 5, EvalEvery = 1, Patience = 2 };
            Assert.Equal(epoch == 3, rule.StopsEarlyAfter(write.Epoch, write.BestEpoch));
            Do(new CheckpointWritten("j", epoch, write.Directory, $"sha{epoch}", [], []), "t0");
        }
        Assert.Equal(JobState.Finished, s.State);
        Assert.Equal(3, s.LastCompletedEpoch);
        Assert.Equal("stopped early after epoch 3: val_acc has not improved on epoch 1's for 2 epoch(s) (training.patience)", s.Reason);
        Assert.Equal(1, s.BestEpoch);
    }

    [Fact]
    public void Only_the_safety_bound_drops_a_silent_trainer_whose_node_is_still_a_member_and_it_says_so_loudly()
    {
        var (s, Do, _) = NewState();
        foreach (var t in new[] { "t0", "t1" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config with { Epochs = 1 }), null);
        var trainers = new Trainers();
        trainers.Take(Do(new PlanEpoch(Seeds), null));
        Do(trainers.Contribution("j", 0, "t0", 0, 2, [1f]), "t0");
        Assert.Equal(WaitKind.RoundStragglers, s.Wait.Kind);
        // A timer of an older wait does nothing.
        Assert.Empty(Do(new WaitTimedOut("round 0/0/0 start"), null).Sends);
        var d = Do(new WaitTimedOut(s.Wait.Key), null);
        Assert.Contains(d.Warnings, w => w.Contains("SAFETY BOUND") && w.Contains("t1"));
        Assert.IsType<EpochReplanned>(Assert.Single(d.Events));
        Assert.Equal(["t0"], s.EpochMembers);
    }

    [Fact]
    public void A_coordinator_recovered_mid_epoch_plans_it_above_the_old_attempts_so_a_contribution_still_in_flight_from_the_old_plan_is_stale()
    {
        var (s, Do, journal) = NewState();
        foreach (var t in new[] { "t0", "t1" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config), null);
        var old = new Trainers();
        old.Take(Do(new PlanEpoch(Seeds), null));
        // t0 trains round 0 under the two-trainer plan; its contribution is buffered while the coordinator moves.
        var inFlight = old.Contribution("j", 0, "t0", 0, 2, [1f]);

        foreach (var useSnapshot in new[] { false, true })
        {
            var next = new CoordinatorState();
            if (useSnapshot) next.Restore(s.ToSnapshot());
            else foreach (var e in journal) next.Apply(e);
            next.Recovered();
            // The moved coordinator plans epoch 0 again with the one trainer left: a plan of another size.
            next.ProcessCommand(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, "n0", []), "t0", T0);
            var plan = next.ProcessCommand(new PlanEpoch(Seeds), null, T0);
            foreach (var e in plan.Events) next.Apply(e);
            var planned = Assert.Single(plan.Events.OfType<EpochPlanned>());
            Assert.Equal(1, planned.Attempt);
            var fresh = new Trainers();
            fresh.Take(plan);
            Assert.Equal(1, fresh.Of("t0").Attempt);
            Assert.Equal(0, fresh.Of("t0").FromStep);

            var d = next.ProcessCommand(inFlight, "t0", T0);
            Assert.Equal(JobState.Running, next.State);
            Assert.Empty(d.Events);
            // The contribution of the new plan is the one that counts.
            var closed = next.ProcessCommand(fresh.Contribution("j", 0, "t0", 0, 2, [1f]), "t0", T0);
            Assert.Single(closed.Events.OfType<ParametersAveraged>());
        }
    }

    [Fact]
    public void A_contribution_that_does_not_match_the_plan_fails_the_job_naming_the_trainer_and_the_seeds()
    {
        var (s, Do, _) = NewState();
        foreach (var t in new[] { "t0", "t1" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config), null);
        var trainers = new Trainers();
        trainers.Take(Do(new PlanEpoch(Seeds), null));
        var good = trainers.Contribution("j", 0, "t0", 0, 2, [1f]);
        Do(good with { SeedChecksum = good.SeedChecksum + 1 }, "t0");
        Assert.Equal(JobState.Failed, s.State);
        Assert.Contains("t0", s.Reason);
        Assert.Contains("lost or trained twice", s.Reason);
    }

    /// <summary>
    /// Replicas that end an epoch with different parameters (one built from other initial draws, or one that missed an
    /// average) fail the job when the epoch ends, naming the epoch and the trainers, before any checkpoint is asked for;
    /// equal hashes go on to the checkpoint.
    /// </summary>
    [Fact]
    public void Replicas_that_end_an_epoch_with_different_parameters_fail_the_job_before_its_checkpoint()
    {
        foreach (var (t1Hash, fails) in new[] { ("aaaa111122223333", false), ("bbbb444455556666", true) })
        {
            var (s, Do, _) = NewState();
            foreach (var t in new[] { "t0", "t1" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
            Do(new StartJob("j", Config), null);
            var trainers = new Trainers();
            trainers.Take(Do(new PlanEpoch(Seeds), null));
            for (var r = 0; r < 5; r++)
            {
                Do(trainers.Contribution("j", 0, "t0", r, 2, [1f]), "t0");
                Do(trainers.Contribution("j", 0, "t1", r, 2, [1f]), "t1");
            }
            Do(new EpochFinished("j", 0, 0.5f, ["val_acc"], [0.7f], "", "aaaa111122223333"), "t0");
            var end = Do(new EpochFinished("j", 0, 0.5f, [], [], "", t1Hash), "t1");
            if (!fails)
            {
                Assert.IsType<WriteCheckpoint>(Assert.Single(end.Sends).Message);
                continue;
            }
            Assert.DoesNotContain(end.Sends, o => o.Message is WriteCheckpoint);
            Assert.Equal(JobState.Failed, s.State);
            Assert.Contains("different parameters after epoch 0", s.Reason);
            Assert.Contains("t0: sha256 aaaa11112222", s.Reason);
            Assert.Contains("t1: sha256 bbbb44445555", s.Reason);
        }
    }

    [Fact]
    public void A_failed_evaluation_is_tried_once_elsewhere_then_recorded_in_the_status_and_the_checkpoint_note()
    {
        var (s, Do, _) = NewState();
        foreach (var t in new[] { "t0", "t1" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config with { Epochs = 1 }), null);
        var trainers = new Trainers();
        trainers.Take(Do(new PlanEpoch(Seeds), null));
        for (var r = 0; r < 5; r++)
            foreach (var t in new[] { "t0", "t1" }) Do(trainers.Contribution("j", 0, t, r, 2, [1f]), t);
        Do(new EpochFinished("j", 0, 0.5f, [], []), "t1");
        var retry = Do(new EpochFinished("j", 0, 0.5f, [], [], "OversizedPayloadException: 20381498 bytes"), "t0");
        Assert.Equal(("t1", new EvaluateEpoch("j", 0)), (Assert.Single(retry.Sends).TrainerId, Assert.Single(retry.Sends).Message));
        var d = Do(new EpochFinished("j", 0, 0.5f, [], [], "OversizedPayloadException: 20381498 bytes"), "t1");
        var failed = Assert.IsType<EvaluationFailed>(Assert.Single(d.Events));
        Assert.Contains("20381498", failed.Reason);
        var write = Assert.IsType<WriteCheckpoint>(Assert.Single(d.Sends).Message);
        Assert.Contains("failed", write.Note);
        Assert.Equal(-1, write.BestEpoch);
        var status = s.Status("", T0);
        Assert.Equal(1, status.FailedEvaluations);
        Assert.Contains("20381498", status.EvaluationError);
    }

    // ---- averaging = ring ----

    [Fact]
    public void A_ring_round_closes_once_every_member_started_it_with_its_planned_seeds_and_holds_the_same_average()
    {
        var (s, Do, _) = NewState(AveragingMode.Ring);
        foreach (var t in new[] { "t1", "t0", "t2" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config with { Epochs = 1, AveragingPeriod = 1, BatchSize = 4 }), null);
        var trainers = new Trainers();
        var plan = Do(new PlanEpoch(Seeds), null);
        trainers.Take(plan);
        // Every member gets the same ring: the attempt's members in the coordinator's (ordinal) order.
        Assert.All(plan.Sends, o => Assert.Equal(["t0", "t1", "t2"], ((EpochAssignment)o.Message).RingMembers));
        // Batches of 4 over 3 trainers: each round one trainer has 1 seed, the others 2 (uneven weights).
        var trained = new List<int>();
        for (var r = 0; r < 25; r++)
        {
            foreach (var t in new[] { "t0", "t1", "t2" })
            {
                trained.AddRange(trainers.Round(t, r, 1));
                Assert.Empty(Do(trainers.RingStart("j", 0, t, r, 1), t).Sends);
            }
            Assert.Empty(Do(new RoundReduced("j", 0, 0, r, 4, 77), "t2").Sends);
            Assert.Empty(Do(new RoundReduced("j", 0, 0, r, 4, 77), "t0").Sends);
            var close = Do(new RoundReduced("j", 0, 0, r, 4, 77), "t1");
            Assert.Equal(new ParametersAveraged("j", 0, r, 3, 4), Assert.Single(close.Events.OfType<ParametersAveraged>()));
            Assert.Equal(["t0", "t1", "t2"], close.Sends.Where(o => o.Message is RoundClosed).Select(o => o.TrainerId).Order());
            Assert.All(close.Sends.Select(o => o.Message).OfType<RoundClosed>(), c => Assert.Equal(new RoundClosed("j", 0, 0, r, 3, 4), c));
        }
        Assert.Equal(Enumerable.Range(0, 100), trained.Order());
    }

    [Fact]
    public void A_ring_member_with_no_seeds_in_a_round_must_say_0_and_a_wrong_count_total_or_average_fails_the_job()
    {
        RoundContribution Start(Trainers trainers, string t) => trainers.RingStart("j", 0, t, 0, 1);
        (CoordinatorState S, Func<object, string?, Decision> Do, Trainers T) Ring()
        {
            var (s, Do, _) = NewState(AveragingMode.Ring);
            foreach (var t in new[] { "t0", "t1", "t2" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
            // Batches of 2 over 3 trainers: one member has no seed in every round.
            Do(new StartJob("j", Config with { Epochs = 1, AveragingPeriod = 1, BatchSize = 2 }), null);
            var trainers = new Trainers();
            trainers.Take(Do(new PlanEpoch(Seeds), null));
            return (s, Do, trainers);
        }

        var (s, Do, trainers) = Ring();
        var idle = new[] { "t0", "t1", "t2" }.Single(t => trainers.Round(t, 0, 1).Length == 0);
        Assert.Equal(new RoundContribution("j", 0, 0, 0, 0, 0), Start(trainers, idle));
        Do(Start(trainers, idle) with { Seeds = 1 }, idle);
        Assert.Equal(JobState.Failed, s.State);
        Assert.Contains("lost or trained twice", s.Reason);

        (s, Do, trainers) = Ring();
        foreach (var t in new[] { "t0", "t1", "t2" }) Do(Start(trainers, t), t);
        Do(new RoundReduced("j", 0, 0, 0, 3, 1), "t0");
        Assert.Equal(JobState.Failed, s.State);
        Assert.Contains("summed 3 seed(s)", s.Reason);

        (s, Do, trainers) = Ring();
        foreach (var t in new[] { "t0", "t1", "t2" }) Do(Start(trainers, t), t);
        Do(new RoundReduced("j", 0, 0, 0, 2, 1), "t0");
        Do(new RoundReduced("j", 0, 0, 0, 2, 2), "t2");
        Assert.Equal(JobState.Failed, s.State);
        Assert.Contains("different averages", s.Reason);
    }

    [Fact]
    public void A_ring_member_leaving_mid_ring_re_plans_the_round_with_nothing_applied_and_every_seed_is_trained_exactly_once()
    {
        var (s, Do, journal) = NewState(AveragingMode.Ring);
        foreach (var t in new[] { "t0", "t1", "t2" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config with { Epochs = 1 }), null);
        var trainers = new Trainers();
        trainers.Take(Do(new PlanEpoch(Seeds), null));
        var trained = new List<int>();
        void Close(string[] members, int round)
        {
            foreach (var t in members) Do(trainers.RingStart("j", 0, t, round, 2), t);
            foreach (var t in members) trained.AddRange(trainers.Round(t, round, 2));
            var total = members.Sum(t => trainers.Round(t, round, 2).Length);
            foreach (var t in members) Do(new RoundReduced("j", 0, trainers.Of(t).Attempt, round, total, 5), t);
        }
        Close(["t0", "t1", "t2"], 0);
        Assert.Equal(1, s.Status("", T0).Round);
        // Round 1: all three started; t0 and t1 already hold the average when t2's node becomes unreachable.
        foreach (var t in new[] { "t0", "t1", "t2" }) Do(trainers.RingStart("j", 0, t, 1, 2), t);
        var total1 = new[] { "t0", "t1", "t2" }.Sum(t => trainers.Round(t, 1, 2).Length);
        Do(new RoundReduced("j", 0, 0, 1, total1, 5), "t0");
        Do(new RoundReduced("j", 0, 0, 1, total1, 5), "t1");
        var replan = Do(new TrainerLeft("t2", "its node is unreachable"), null);
        trainers.Take(replan);
        // No one was told to apply round 1: it is planned again over t0 and t1, in a new attempt with a new ring.
        Assert.DoesNotContain(replan.Sends, o => o.Message is RoundClosed);
        var again = Assert.IsType<EpochReplanned>(Assert.Single(replan.Events));
        Assert.Equal((1, 2), (again.Attempt, again.FromStep));
        Assert.All(replan.Sends, o => Assert.Equal(["t0", "t1"], ((EpochAssignment)o.Message).RingMembers));
        // A late report of the old attempt counts for nothing.
        Assert.Empty(Do(new RoundReduced("j", 0, 0, 1, total1, 5), "t0").Sends);
        for (var r = 1; r < 5; r++) Close(["t0", "t1"], r);
        Assert.Equal(Enumerable.Range(0, 100), trained.Order()); // each seed exactly once
        Assert.Equal(5, journal.OfType<ParametersAveraged>().Count());
        Do(new EpochFinished("j", 0, 0.5f, ["val_acc"], [0.7f]), "t0");
        var write = Assert.IsType<WriteCheckpoint>(Assert.Single(Do(new EpochFinished("j", 0, 0.5f, [], []), "t1").Sends).Message);
        var done = Do(new CheckpointWritten("j", 0, write.Directory, "sha", [], []), "t0");
        Assert.Equal(100L, Assert.Single(done.Events.OfType<EpochCompleted>()).SeedsTrained);
    }

    [Fact]
    public void The_ring_safety_bound_drops_a_member_that_never_started_the_round_and_fails_a_ring_that_never_completes()
    {
        var (s, Do, _) = NewState(AveragingMode.Ring);
        foreach (var t in new[] { "t0", "t1" }) Do(new RegisterTrainer(Akka.Actor.ActorRefs.Nobody, t, []), t);
        Do(new StartJob("j", Config with { Epochs = 1 }), null);
        var trainers = new Trainers();
        trainers.Take(Do(new PlanEpoch(Seeds), null));
        Assert.Equal(WaitKind.FirstParameters, s.Wait.Kind);
        Do(trainers.RingStart("j", 0, "t0", 0, 2), "t0");
        Assert.Equal(WaitKind.RoundStragglers, s.Wait.Kind);
        var d = Do(new WaitTimedOut(s.Wait.Key), null);
        Assert.Contains(d.Warnings, w => w.Contains("SAFETY BOUND") && w.Contains("t1"));
        trainers.Take(d);
        Assert.Equal(["t0"], s.EpochMembers);

        // Alone in the new attempt, t0 starts the round but never holds its average: nobody is left to drop.
        Do(trainers.RingStart("j", 0, "t0", 0, 2), "t0");
        Do(new WaitTimedOut(s.Wait.Key), null);
        Assert.Equal(JobState.Failed, s.State);
        Assert.Contains("did not complete", s.Reason);
    }

    /// <summary>
    /// Every completed epoch is in the status, from the journal and from a snapshot alike; an epoch redone after a resume
    /// replaces its first record; a long job's status carries the newest epochs and the best one before them.
    /// </summary>
    [Fact]
    public void The_status_carries_every_completed_epoch_and_a_long_jobs_newest_epochs_with_its_best()
    {
        var state = new CoordinatorState();
        state.Apply(new JobStarted("j", Config));
        void Complete(int epoch, float metric)
        {
            state.Apply(new EpochPlanned("j", epoch, ["t0"], [10], 10, 100));
            state.Apply(new EpochCompleted("j", epoch, 1f / (epoch + 1), ["val_acc"], [metric], 100, 100));
        }
        Complete(0, 0.5f);
        Complete(1, 0.8f);
        Complete(2, 0.6f);
        var status = state.Status("", T0);
        Assert.Equal([0, 1, 2], status.Epochs.Select(e => e.Epoch));
        Assert.Equal(1, status.BestEpoch);
        Assert.Equal(0.8f, Assert.Single(status.EpochAt(status.BestEpoch)!.MetricValues));
        Assert.Equal(0.6f, Assert.Single(status.EpochAt(2)!.MetricValues));

        // Redone after a resume: epoch 2's new record replaces the old one.
        state.Apply(new JobResumed("j", 1));
        Complete(2, 0.65f);
        Assert.Equal([0, 1, 2], state.Status("", T0).Epochs.Select(e => e.Epoch));
        Assert.Equal(0.65f, Assert.Single(state.Status("", T0).EpochAt(2)!.MetricValues));

        // A snapshot restores the same history.
        var restored = new CoordinatorState();
        restored.Restore(state.ToSnapshot());
        Assert.Equal(state.Status("", T0) with { Trainers = [] }, restored.Status("", T0) with { Trainers = [] }, StatusComparer.Instance);

        // A job longer than the status's bound: the newest epochs, preceded by the older best one.
        for (var e = 3; e < CoordinatorState.StatusHistoryLimit + 10; e++) Complete(e, 0.1f);
        var longJob = state.Status("", T0);
        Assert.Equal(CoordinatorState.StatusHistoryLimit + 1, longJob.Epochs.Length);
        Assert.Equal(1, longJob.Epochs[0].Epoch);
        Assert.Equal(CoordinatorState.StatusHistoryLimit + 9, longJob.Epochs[^1].Epoch);
        Assert.Equal(10, longJob.Epochs[1].Epoch);
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
