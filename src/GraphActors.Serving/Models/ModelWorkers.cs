// TorchServe's per-model workers, here: how many of a model version's predictions may use the shared torch workers at once.
namespace GraphActors.Serving;

/// <summary>
/// The workers of one model version. TorchServe starts worker processes per model; here every model shares the
/// engine's <see cref="TorchWorkerPool"/>, so a model's workers are <em>lanes</em>: a prediction's torch work runs only
/// while it holds one of its model's lanes, and waits in the pool's queue (counted in <see cref="Pending"/>,
/// TorchServe's <c>jobQueueStatus.pendingRequests</c>) while all are taken; the pool's workers claim and free lanes
/// themselves (<see cref="TorchWorkerPool.RunAsync{T}(Func{T}, ModelWorkers?, CancellationToken)"/>). A model with
/// fewer lanes than the pool has threads cannot take the whole pool from the others; a model with none answers 503 at
/// once, as TorchServe does for a model without workers. <see cref="MinWorkers"/> is the number of lanes (TorchServe
/// runs <c>min_worker</c> workers); <see cref="MaxWorkers"/> is kept and shown, as TorchServe keeps it. Thread-safe.
/// </summary>
public sealed class ModelWorkers
{
    private readonly object _gate = new();
    private readonly TorchWorkerPool _pool;
    private readonly string _model, _version;
    private readonly List<TaskCompletionSource> _drainWaiters = [];
    private DateTimeOffset[] _startedAt;
    private int _min, _max, _busy, _pending;

    internal ModelWorkers(TorchWorkerPool pool, int workers, string model, string version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(workers);
        _pool = pool;
        _model = model;
        _version = version;
        _min = _max = workers;
        _startedAt = Enumerable.Repeat(DateTimeOffset.UtcNow, workers).ToArray();
    }

    public int MinWorkers { get { lock (_gate) return _min; } }
    public int MaxWorkers { get { lock (_gate) return _max; } }
    /// <summary>Lanes in use (may exceed <see cref="MinWorkers"/> for a while after a scale-down: running work is never interrupted).</summary>
    public int Busy { get { lock (_gate) return _busy; } }
    /// <summary>Predictions whose torch work waits in the pool's queue.</summary>
    public int Pending { get { lock (_gate) return _pending; } }

    /// <summary>When each lane was started (its last scale-up), for TorchServe's <c>workers[].startTime</c>.</summary>
    public IReadOnlyList<DateTimeOffset> StartTimes { get { lock (_gate) return _startedAt.ToArray(); } }

    /// <summary>The 503 TorchServe gives a model without workers, at once, before any work is done for the request.</summary>
    public void ThrowIfNone(string model, string version)
    {
        if (MinWorkers == 0) throw NoWorker(model, version);
    }

    internal ServingException NoWorker() => NoWorker(_model, _version);

    internal static ServingException NoWorker(string model, string version) => ServingException.Unavailable(
        $"Model \"{model}\" Version {version} has no worker to serve inference request. Please use scale workers API to add workers.");

    /// <summary>Claims a free lane for a pool worker about to run this model's item.</summary>
    internal bool TryTake()
    {
        lock (_gate)
        {
            if (_busy >= _min) return false;
            _busy++;
            return true;
        }
    }

    /// <summary>Frees a lane when its item is done.</summary>
    internal void Return()
    {
        List<TaskCompletionSource>? drained = null;
        lock (_gate)
        {
            _busy--;
            if (_busy <= _min && _drainWaiters.Count > 0)
            {
                drained = [.. _drainWaiters];
                _drainWaiters.Clear();
            }
        }
        if (drained is not null) foreach (var d in drained) d.TrySetResult();
    }

    internal void AddPending(int delta)
    {
        lock (_gate) _pending += delta;
    }

    /// <summary>
    /// Sets the lanes (<paramref name="min"/>) and the shown maximum. More lanes start waiting predictions at once; fewer
    /// take effect as running ones finish (<see cref="WhenScaledAsync"/> waits for that); none refuses the waiting ones
    /// with TorchServe's 503.
    /// </summary>
    public void Scale(int min, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(min);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        List<TaskCompletionSource>? drained = null;
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            var started = new DateTimeOffset[min];
            for (var i = 0; i < min; i++) started[i] = i < _startedAt.Length ? _startedAt[i] : now;
            _startedAt = started;
            _min = min;
            _max = max;
            if (_busy <= _min && _drainWaiters.Count > 0)
            {
                drained = [.. _drainWaiters];
                _drainWaiters.Clear();
            }
        }
        _pool.LanesScaled(this);
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
}
