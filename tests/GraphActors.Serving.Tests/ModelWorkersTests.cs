// A model's workers as lanes onto the shared torch workers: how many of its predictions run at once, and what scaling does.
namespace GraphActors.Serving.Tests;

public sealed class ModelWorkersTests
{
    [Fact]
    public async Task A_prediction_beyond_the_models_workers_waits_as_pending_and_gets_the_lane_the_first_one_frees()
    {
        var workers = new ModelWorkers(1);
        var first = await workers.EnterAsync("m", "1.0", CancellationToken.None);
        var second = workers.EnterAsync("m", "1.0", CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted);
        Assert.Equal((1, 1), (workers.Busy, workers.Pending));
        first.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.Equal((0, 0), (workers.Busy, workers.Pending));
    }

    [Fact]
    public async Task Scaling_up_wakes_waiting_predictions_and_scaling_to_none_refuses_them_with_TorchServes_503()
    {
        var workers = new ModelWorkers(1);
        using var held = await workers.EnterAsync("m", "1.0", CancellationToken.None);
        var woken = workers.EnterAsync("m", "1.0", CancellationToken.None).AsTask();
        workers.Scale(2, 4);
        (await woken.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        Assert.Equal((2, 4), (workers.MinWorkers, workers.MaxWorkers));

        var waiting1 = workers.EnterAsync("m", "1.0", CancellationToken.None).AsTask();
        var waiting2 = workers.EnterAsync("m", "1.0", CancellationToken.None).AsTask();
        Assert.Equal(1, workers.Pending); // one took the lane the woken one freed, one waits
        using var running = await waiting1.WaitAsync(TimeSpan.FromSeconds(5));
        workers.Scale(0, 0);
        var refused = await Assert.ThrowsAsync<ServingException>(() => waiting2.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal((503, "ServiceUnavailableException"), (refused.Code, refused.Type));
        Assert.Contains("has no worker to serve inference request", refused.Message);
        Assert.Throws<ServingException>(() => workers.ThrowIfNone("m", "1.0"));
    }

    [Fact]
    public async Task A_scale_down_completes_when_the_predictions_on_removed_workers_finished_and_a_cancelled_wait_leaves_the_queue()
    {
        var workers = new ModelWorkers(2);
        var a = await workers.EnterAsync("m", "1.0", CancellationToken.None);
        var b = await workers.EnterAsync("m", "1.0", CancellationToken.None);
        workers.Scale(1, 1);
        var scaled = workers.WhenScaledAsync(CancellationToken.None);
        Assert.False(scaled.IsCompleted);
        using var cancel = new CancellationTokenSource();
        var cancelled = workers.EnterAsync("m", "1.0", cancel.Token).AsTask();
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(0, workers.Pending);
        a.Dispose();
        await scaled.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, workers.Busy);
        b.Dispose();
        Assert.Equal(0, workers.Busy);
    }
}
