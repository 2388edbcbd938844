// A model's workers as lanes onto the shared torch workers: how many of its predictions run at once, and what scaling does.
namespace GraphActors.Serving.Tests;

public sealed class ModelWorkersTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>Torch work that holds its worker (and lane) until released, and says when it started.</summary>
    private sealed class Gate
    {
        private readonly ManualResetEventSlim _release = new();
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Run() { Started.TrySetResult(); _release.Wait(Wait); return 1; }
        public void Release() => _release.Set();
    }

    [Fact]
    public async Task A_prediction_beyond_the_models_workers_waits_as_pending_and_runs_when_the_lane_is_freed()
    {
        using var pool = new TorchWorkerPool(2, 16, 0);
        var lanes = pool.NewLanes("m", "1.0");
        lanes.Scale(1, 1);
        var first = new Gate();
        var running = pool.RunAsync(first.Run, lanes, CancellationToken.None);
        await first.Started.Task.WaitAsync(Wait);
        var second = new Gate();
        var waiting = pool.RunAsync(second.Run, lanes, CancellationToken.None);
        await Task.Delay(100);
        // The pool has a free thread, but the model's one lane is taken: the second waits in the queue.
        Assert.False(second.Started.Task.IsCompleted);
        Assert.Equal((1, 1), (lanes.Busy, lanes.Pending));
        first.Release();
        await running.WaitAsync(Wait);
        await second.Started.Task.WaitAsync(Wait);
        second.Release();
        var (_, queued) = await waiting.WaitAsync(Wait);
        Assert.True(queued >= TimeSpan.FromMilliseconds(90), $"the wait for the lane counts as queue time ({queued.TotalMilliseconds} ms)");
        Assert.Equal((0, 0), (lanes.Busy, lanes.Pending));
    }

    [Fact]
    public async Task Another_models_work_passes_a_model_waiting_for_its_lane()
    {
        using var pool = new TorchWorkerPool(2, 16, 0);
        var (a, b) = (pool.NewLanes("a", "1.0"), pool.NewLanes("b", "1.0"));
        a.Scale(1, 1);
        var holding = new Gate();
        var held = pool.RunAsync(holding.Run, a, CancellationToken.None);
        await holding.Started.Task.WaitAsync(Wait);
        var queuedA = new Gate();
        var waitingA = pool.RunAsync(queuedA.Run, a, CancellationToken.None);
        // b's work, queued after a's waiting item, runs on the free thread at once.
        await pool.RunAsync(() => 2, b, CancellationToken.None).WaitAsync(Wait);
        Assert.False(queuedA.Started.Task.IsCompleted);
        holding.Release();
        queuedA.Release();
        await Task.WhenAll(held, waitingA).WaitAsync(Wait);
    }

    [Fact]
    public async Task Scaling_up_starts_waiting_predictions_and_scaling_to_none_refuses_them_with_TorchServes_503()
    {
        using var pool = new TorchWorkerPool(2, 16, 0);
        var lanes = pool.NewLanes("m", "1.0");
        lanes.Scale(1, 1);
        var held = new Gate();
        var running = pool.RunAsync(held.Run, lanes, CancellationToken.None);
        await held.Started.Task.WaitAsync(Wait);
        var woken = new Gate();
        var waiting = pool.RunAsync(woken.Run, lanes, CancellationToken.None);
        lanes.Scale(2, 4);
        await woken.Started.Task.WaitAsync(Wait);
        Assert.Equal((2, 4), (lanes.MinWorkers, lanes.MaxWorkers));

        lanes.Scale(0, 0);
        // A model without workers is refused by the call itself, before anything is queued.
        var e = Assert.Throws<ServingException>(() => { _ = pool.RunAsync(() => 3, lanes, CancellationToken.None); });
        Assert.Equal(0, lanes.Pending);
        held.Release();
        woken.Release();
        await Task.WhenAll(running, waiting).WaitAsync(Wait); // running work is never interrupted
        Assert.Equal((503, "ServiceUnavailableException"), (e.Code, e.Type));
        Assert.Contains("has no worker to serve inference request", e.Message);
        Assert.Throws<ServingException>(() => lanes.ThrowIfNone("m", "1.0"));
    }

    [Fact]
    public async Task Scaling_to_none_refuses_the_predictions_already_waiting()
    {
        using var pool = new TorchWorkerPool(1, 16, 0);
        var lanes = pool.NewLanes("m", "1.0");
        var held = new Gate();
        var running = pool.RunAsync(held.Run, lanes, CancellationToken.None);
        await held.Started.Task.WaitAsync(Wait);
        var waiting = pool.RunAsync(() => 2, lanes, CancellationToken.None);
        Assert.Equal(1, lanes.Pending);
        lanes.Scale(0, 0);
        var e = await Assert.ThrowsAsync<ServingException>(() => waiting.WaitAsync(Wait));
        Assert.Equal(503, e.Code);
        Assert.Equal(0, lanes.Pending);
        held.Release();
        await running.WaitAsync(Wait);
    }

    [Fact]
    public async Task A_scale_down_completes_when_the_predictions_on_removed_workers_finished_and_a_cancelled_wait_leaves_the_queue()
    {
        using var pool = new TorchWorkerPool(2, 16, 0);
        var lanes = pool.NewLanes("m", "1.0");
        var (a, b) = (new Gate(), new Gate());
        var runA = pool.RunAsync(a.Run, lanes, CancellationToken.None);
        var runB = pool.RunAsync(b.Run, lanes, CancellationToken.None);
        await Task.WhenAll(a.Started.Task, b.Started.Task).WaitAsync(Wait);
        lanes.Scale(1, 1);
        var scaled = lanes.WhenScaledAsync(CancellationToken.None);
        Assert.False(scaled.IsCompleted);
        using var cancel = new CancellationTokenSource();
        var cancelled = pool.RunAsync(() => 0, lanes, cancel.Token);
        Assert.Equal(1, lanes.Pending);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(0, lanes.Pending);
        a.Release();
        await runA.WaitAsync(Wait);
        await scaled.WaitAsync(Wait);
        Assert.Equal(1, lanes.Busy);
        b.Release();
        await runB.WaitAsync(Wait);
        Assert.Equal(0, lanes.Busy);
    }

    [Fact]
    public async Task A_full_queue_is_refused_at_once_with_a_503()
    {
        using var pool = new TorchWorkerPool(1, 2, 0);
        var held = new Gate();
        var running = pool.RunAsync(held.Run, CancellationToken.None);
        await held.Started.Task.WaitAsync(Wait);
        var queued = new[] { pool.RunAsync(() => 1, CancellationToken.None), pool.RunAsync(() => 2, CancellationToken.None) };
        var e = Assert.Throws<ServingException>(() => { _ = pool.RunAsync(() => 3, CancellationToken.None); }); // thrown by the call, not by its task
        Assert.Equal(503, e.Code);
        held.Release();
        await Task.WhenAll(queued.Append(running)).WaitAsync(Wait);
    }
}
