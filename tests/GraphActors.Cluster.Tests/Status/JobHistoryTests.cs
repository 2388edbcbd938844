// The status page's curves: how sampled job statuses become loss points and epoch points.
using GraphActors.Cluster.Status;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Status;

public sealed class JobHistoryTests
{
    // The coordinator's global step is the planned steps of the completed epochs plus the step in this one; tests give it.
    private static JobStatus Status(string job, int epoch, long step, float loss, int completed = -1, string[]? names = null, float[]? values = null,
        long? global = null) =>
        new(job, JobState.Running, epoch, completed, 0, step, loss, names ?? [], values ?? [], float.NaN, -1, "", "", -1, [], "", global ?? step);

    [Fact]
    public void A_point_is_added_only_when_the_global_step_moved_and_the_newest_loss_at_a_step_wins()
    {
        var h = new JobHistory(100);
        h.Observe(Status("j", 0, 0, float.NaN), 1);
        Assert.Empty(h.Loss); // no loss reported yet
        h.Observe(Status("j", 0, 0, 2.5f), 1);
        Assert.Empty(h.Loss); // global step 0: nothing trained yet
        h.Observe(Status("j", 0, 4, 1.5f), 2);
        h.Observe(Status("j", 0, 4, 1.5f), 3);
        h.Observe(Status("j", 0, 8, 1.2f), 4);
        Assert.Equal([(4L, 1.5f), (8L, 1.2f)], h.Loss.Select(p => (p.GlobalStep, p.Loss)));
        Assert.Equal(2, h.Loss[0].AtUnixMs);
        // The epoch completes at step 8 with its merged loss: the same x, the newer reading.
        h.Observe(Status("j", 1, 0, 1.1f, completed: 0, global: 8), 5);
        Assert.Equal([(4L, 1.5f), (8L, 1.1f)], h.Loss.Select(p => (p.GlobalStep, p.Loss)));
        Assert.Equal(5, h.Loss[^1].AtUnixMs);
    }

    [Fact]
    public void The_x_axis_is_the_coordinators_global_step_however_sparse_the_samples()
    {
        var h = new JobHistory(100);
        // Epochs of 10 planned steps, sampled at odd moments: epoch 0 step 5, epoch 1 step 3 (global 13), epoch 2 step 1.
        h.Observe(Status("j", 0, 5, 2f), 1);
        h.Observe(Status("j", 1, 3, 1.5f, global: 13), 3);
        h.Observe(Status("j", 2, 1, 1.3f, global: 21), 5);
        Assert.Equal([5L, 13, 21], h.Loss.Select(p => p.GlobalStep));
        Assert.Equal([0, 1, 2], h.Loss.Select(p => p.Epoch));
        Assert.Equal([5L, 3, 1], h.Loss.Select(p => p.Step));
    }

    [Fact]
    public void A_job_that_ends_between_two_samples_still_leaves_its_final_loss()
    {
        var h = new JobHistory(100);
        var finished = Status("j", 1, 0, 0.7f, completed: 1, ["val_acc"], [0.8f], global: 14) with { State = JobState.Finished };
        h.Observe(finished, 1);
        Assert.Equal([(14L, 0.7f)], h.Loss.Select(p => (p.GlobalStep, p.Loss)));
        Assert.Equal([1], h.Epochs.Select(e => e.Epoch));
    }

    [Fact]
    public void A_resumed_job_that_redoes_steps_replaces_the_points_it_redoes()
    {
        var h = new JobHistory(100);
        // Epoch 3 (steps 30..40 of the job) got to step 6 before the fault; resumed, it starts over from global 30.
        h.Observe(Status("j", 2, 10, 1.2f, global: 30), 1);
        h.Observe(Status("j", 3, 6, 1f, global: 36), 2);
        h.Observe(Status("j", 3, 2, 1.1f, global: 32), 3);
        Assert.Equal([(30L, 1.2f), (32L, 1.1f)], h.Loss.Select(p => (p.GlobalStep, p.Loss)));
    }

    [Fact]
    public void Each_completed_epoch_adds_its_metrics_once()
    {
        var h = new JobHistory(100);
        h.Observe(Status("j", 1, 2, 1f, completed: 0, ["val_acc", "val_loss"], [0.5f, 1.1f]), 1);
        h.Observe(Status("j", 1, 4, 0.9f, completed: 0, ["val_acc", "val_loss"], [0.5f, 1.1f]), 2);
        h.Observe(Status("j", 2, 1, 0.8f, completed: 1, ["val_acc", "val_loss"], [0.6f, 1.0f]), 3);
        Assert.Equal([0, 1], h.Epochs.Select(e => e.Epoch));
        Assert.Equal([0.6f, 1.0f], h.Epochs[1].MetricValues);
        Assert.Equal(["val_acc", "val_loss"], h.Epochs[1].MetricNames);
    }

    [Fact]
    public void Epochs_that_completed_between_two_samples_come_from_the_statuss_history_and_a_redone_epoch_replaces_its_points()
    {
        var h = new JobHistory(100);
        EpochSummary E(int epoch, float acc) => new(epoch, 1f / (epoch + 1), ["val_acc"], [acc]);
        h.Observe(Status("j", 1, 1, 1f, completed: 0) with { History = [E(0, 0.5f)] }, 1);
        // Epochs 1 and 2 completed before the next sample: both are drawn, once each.
        h.Observe(Status("j", 3, 1, 0.5f, completed: 2) with { History = [E(0, 0.5f), E(1, 0.6f), E(2, 0.7f)] }, 2);
        h.Observe(Status("j", 3, 2, 0.5f, completed: 2) with { History = [E(0, 0.5f), E(1, 0.6f), E(2, 0.7f)] }, 3);
        Assert.Equal([0, 1, 2], h.Epochs.Select(e => e.Epoch));
        Assert.Equal([0.5f, 0.6f, 0.7f], h.Epochs.Select(e => e.MetricValues[0]));
        // A resume redid epoch 2 with another result: the point is replaced, not doubled.
        h.Observe(Status("j", 3, 1, 0.4f, completed: 2) with { History = [E(0, 0.5f), E(1, 0.6f), E(2, 0.65f)] }, 4);
        Assert.Equal([0, 1, 2], h.Epochs.Select(e => e.Epoch));
        Assert.Equal(0.65f, h.Epochs[2].MetricValues[0]);
    }

    [Fact]
    public void A_new_job_starts_a_new_history_and_no_job_keeps_the_last_one()
    {
        var h = new JobHistory(100);
        h.Observe(Status("first", 0, 5, 2f, completed: 0, ["acc"], [0.3f]), 1);
        h.Observe(Status("", 0, 0, float.NaN), 2);
        Assert.Equal("first", h.JobId);
        Assert.Single(h.Loss);
        h.Observe(Status("second", 0, 1, 3f), 3);
        Assert.Equal("second", h.JobId);
        Assert.Equal([1L], h.Loss.Select(p => p.GlobalStep));
        Assert.Empty(h.Epochs);
    }

    [Fact]
    public void When_full_every_other_point_goes_and_the_first_and_newest_stay()
    {
        var h = new JobHistory(8);
        for (var s = 1; s <= 9; s++) h.Observe(Status("j", 0, s, 1f / s), s);
        // 9 points > 8: points 1, 3, 5, 7 and the newest (9) stay.
        Assert.Equal([1L, 3, 5, 7, 9], h.Loss.Select(p => p.GlobalStep));
        for (var s = 10; s <= 100; s++) h.Observe(Status("j", 0, s, 1f / s), s);
        Assert.InRange(h.Loss.Count, 4, 8);
        Assert.Equal(1L, h.Loss[0].GlobalStep);
        Assert.Equal(100L, h.Loss[^1].GlobalStep);
        Assert.True(h.Loss.Zip(h.Loss.Skip(1)).All(p => p.Item1.GlobalStep < p.Item2.GlobalStep), "points stay in order");
    }

    [Fact]
    public void A_capacity_below_four_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new JobHistory(3));
        Assert.Contains("at least 4", e.Message);
    }
}
