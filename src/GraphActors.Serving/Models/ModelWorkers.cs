// TorchServe's per-model workers, here: how many of a model version's predictions may use the shared torch workers at once.
namespace GraphActors.Serving;

/// <summary>
/// The workers of one model version. TorchServe starts worker processes per model; here every model shares the
/// engine's <see cref="TorchWorkerPool"/>, so a model's workers are <em>lanes</em>: a prediction holds one of its model's
/// lanes from the moment it would queue for a torch worker until its forward pass is done, and waits (counted in
/// <see cref="Pending"/>, TorchServe's <c>jobQueueStatus.pendingRequests</c>) while all are taken. A model with fewer
/// lanes than the pool has threads cannot take the whole pool from the others; a model with none answers 503 at once,
/// as TorchServe does for a model without workers. <see cref="MinWorkers"/> is the number of lanes (TorchServe runs
/// <c>min_worker</c> workers); <see cref="MaxWorkers"/> is kept and shown, as TorchServe keeps it. Thread-safe.
/// </summary>
public sealed class ModelWorkers
{
    private readonly object _gate = new();
    private readonly LinkedList<TaskCompletionSource<bool>> _waiting = new();
    private readonly List<TaskCompletionSource> _drainWaiters = [];
    private DateTimeOffset[] _startedAt;
    private int _min, _max, _busy;

    public ModelWorkers(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        _min = _max = workers;
        _startedAt = Enumerable.Repeat(DateTimeOffset.UtcNow, workers).ToArray();
    }

    public int MinWorkers { get { lock (_gate) return _min; } }
    public int MaxWorkers { get { lock (_gate) return _max; } }
    /// <summary>Lanes in use (may exceed <see cref="MinWorkers"/> for a while after a scale-down: running work is never interrupted).</summary>
    public int Busy { get { lock (_gate) return _busy; } }
    /// <summary>Predictions waiting for a lane.</summary>
    public int Pending { get { lock (_gate) return _waiting.Count; } }

    /// <summary>When each lane was started (its last scale-up), for TorchServe's <c>workers[].startTime</c>.</summary>
    public IReadOnlyList<DateTimeOffset> StartTimes { get { lock (_gate) return _startedAt.ToArray(); } }

    /// <summary>The 503 TorchServe gives a model without workers, at once, before any work is done for the request.</summary>
    public void ThrowIfNone(string model, string version)
    {
        if (MinWorkers == 0) throw NoWorker(model, version);
    }

    internal static ServingException NoWorker(string model, string version) => ServingException.Unavailable(
        $"Model \"{model}\" Version {version} has no worker to serve inference request. Please use scale workers API to add workers.");

    /// <summary>Takes a lane, waiting for one when all are busy; dispose the lane when the torch work is done.</summary>
    public async ValueTask<Lane> EnterAsync(string model, string version, CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool> waiter;
        LinkedListNode<TaskCompletionSource<bool>> node;
        lock (_gate)
        {
            if (_min == 0) throw NoWorker(model, version);
            if (_busy < _min && _waiting.Count == 0)
            {
                _busy++;
                return new Lane(this);
            }
            waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            node = _waiting.AddLast(waiter);
        }
        await using (cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                if (node.List is null) return; // already handed a lane (or refused)
                _waiting.Remove(node);
            }
            waiter.TrySetCanceled(cancellationToken);
        }))
        {
            // true: a lane was handed over by Release; false: the model was scaled to no workers meanwhile.
            if (!await waiter.Task.ConfigureAwait(false)) throw NoWorker(model, version);
        }
        return new Lane(this);
    }

    private void Release()
    {
        TaskCompletionSource<bool>? next = null;
        List<TaskCompletionSource>? drained = null;
        lock (_gate)
        {
            if (_busy <= _min && _waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                next = first.Value; // the lane passes to it: _busy stays
            }
            else
            {
                _busy--;
            }
            if (_busy <= _min && _drainWaiters.Count > 0)
            {
                drained = [.. _drainWaiters];
                _drainWaiters.Clear();
            }
        }
        next?.TrySetResult(true);
        if (drained is not null) foreach (var d in drained) d.TrySetResult();
    }

    /// <summary>
    /// Sets the lanes (<paramref name="min"/>) and the shown maximum. More lanes wake waiting predictions at once; fewer
    /// take effect as running ones finish (<see cref="WhenScaledAsync"/> waits for that); none refuses the waiting ones
    /// with TorchServe's 503.
    /// </summary>
    public void Scale(int min, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        var wake = new List<TaskCompletionSource<bool>>();
        var refuse = new List<TaskCompletionSource<bool>>();
        List<TaskCompletionSource>? drained = null;
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            var started = new DateTimeOffset[min];
            for (var i = 0; i < min; i++) started[i] = i < _startedAt.Length ? _startedAt[i] : now;
            _startedAt = started;
            _min = min;
            _max = max;
            while (_busy < _min && _waiting.First is { } first)
            {
                _waiting.RemoveFirst();
                _busy++;
                wake.Add(first.Value);
            }
            if (_min == 0)
            {
                refuse.AddRange(_waiting);
                _waiting.Clear();
            }
            if (_busy <= _min && _drainWaiters.Count > 0)
            {
                drained = [.. _drainWaiters];
                _drainWaiters.Clear();
            }
        }
        foreach (var w in wake) w.TrySetResult(true);
        foreach (var r in refuse) r.TrySetResult(false);
        if (drained is not null) foreach (var d in drained) d.TrySetResult();
    }

    /// <summary>Completes when no more lanes are busy than the model has (after a scale-down, when the extra ones finished).</summary>
    public Task WhenScaledAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_busy <= _min) return Task.CompletedTask;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _drainWaiters.Add(done);
            return done.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>One lane in use; disposing it passes it to the next waiting prediction or frees it.</summary>
    public readonly struct Lane(ModelWorkers workers) : IDisposable
    {
        public void Dispose() => workers?.Release();
    }
}
