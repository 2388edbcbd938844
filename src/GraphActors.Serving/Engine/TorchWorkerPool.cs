// The only threads that touch TorchSharp: dispose scopes and grad mode are per thread, so torch work is queued here.
using System.Diagnostics;

namespace GraphActors.Serving;

/// <summary>
/// N dedicated threads consuming one bounded queue. A work item of a model runs only while that model has a free lane
/// (<see cref="ModelWorkers"/>): a worker takes the first queued item whose model has one, so a model's lanes are
/// claimed and freed on the worker itself and the next item starts the moment the last one ends, without a trip through
/// the thread pool in between (an item that waited for a lane there left the worker idle for two thread-pool hand-offs
/// per prediction; docs/BENCHMARKS.md). <see cref="RunAsync{T}"/> never runs the work on the caller's thread and
/// completes its task asynchronously, so continuations go back to the thread pool, not to a worker. A full queue is
/// refused at once (the caller turns it into a 503), never waited on.
/// </summary>
public sealed class TorchWorkerPool : IDisposable
{
    private readonly object _gate = new();
    private readonly LinkedList<WorkItem> _queue = new();
    private readonly int _capacity;
    private readonly Thread[] _threads;
    private readonly int[] _busy;
    private readonly int _torchThreads;
    private bool _completed;

    /// <param name="torchThreads">Intra-op threads per worker (torch.set_num_threads on each worker thread); 0 leaves libtorch's default.</param>
    public TorchWorkerPool(int workers, int queueCapacity, int torchThreads = 1)
    {
        _torchThreads = torchThreads;
        if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "Need at least one torch worker.");
        _capacity = Math.Max(queueCapacity, 1);
        _threads = new Thread[workers];
        _busy = new int[workers];
        for (var i = 0; i < workers; i++)
        {
            var index = i;
            _threads[i] = new Thread(() => Loop(index)) { IsBackground = true, Name = WorkerName(i) };
            _threads[i].Start();
        }
    }

    public int Workers => _threads.Length;
    public int Queued { get { lock (_gate) return _queue.Count; } }
    public int Capacity => _capacity;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public static string WorkerName(int index) => $"torch-worker-{index}";

    /// <summary>True while worker <paramref name="index"/> runs a work item.</summary>
    public bool IsBusy(int index) => Volatile.Read(ref _busy[index]) != 0;

    /// <summary>The lanes of one model version on this pool, as many as the pool has threads until scaled.</summary>
    public ModelWorkers NewLanes(string model, string version, int? workers = null) => new(this, workers ?? _threads.Length, model, version);

    /// <summary>Runs <paramref name="work"/> on a worker; the result carries how long it waited in the queue.</summary>
    public Task<(T Value, TimeSpan Queued)> RunAsync<T>(Func<T> work, CancellationToken cancellationToken = default) =>
        RunAsync(work, null, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> on a worker under one of <paramref name="lanes"/> (null: under none); the result
    /// carries how long it waited in the queue, for a worker and for a lane together. A model with no lanes, or scaled
    /// to none while the item waits, is refused with TorchServe's 503.
    /// </summary>
    public Task<(T Value, TimeSpan Queued)> RunAsync<T>(Func<T> work, ModelWorkers? lanes, CancellationToken cancellationToken)
    {
        var item = new WorkItem<T>(work, lanes, cancellationToken);
        // Registered first: a cancellation before the item is queued finds it unqueued, and the worker then skips it.
        if (cancellationToken.CanBeCanceled)
            item.Registration = cancellationToken.Register(static state =>
            {
                var (pool, queued) = ((TorchWorkerPool, WorkItem))state!;
                pool.Cancel(queued);
            }, (this, (WorkItem)item));
        try
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_completed, this);
                if (_queue.Count >= _capacity)
                    throw ServingException.Unavailable($"All {_threads.Length} torch workers are busy and their queue of {_capacity} is full.");
                if (lanes is not null)
                {
                    if (lanes.MinWorkers == 0) throw lanes.NoWorker();
                    lanes.AddPending(1);
                }
                item.Node = _queue.AddLast(item);
                Monitor.Pulse(_gate);
            }
        }
        catch
        {
            item.Registration.Dispose();
            throw;
        }
        return item.Task;
    }

    /// <summary>Queues housekeeping (disposing a model) beyond the bound: it must happen, and holds no lane.</summary>
    public void Post(Action work)
    {
        lock (_gate)
        {
            if (!_completed)
            {
                var item = new WorkItem<int>(() => { work(); return 0; }, null, CancellationToken.None);
                item.Node = _queue.AddLast(item);
                Monitor.Pulse(_gate);
                return;
            }
        }
        work(); // shutting down: nothing else runs torch any more
    }

    /// <summary>After a model's lanes were scaled: more lanes may start waiting items; none refuses them.</summary>
    internal void LanesScaled(ModelWorkers lanes)
    {
        List<WorkItem>? refused = null;
        lock (_gate)
        {
            if (lanes.MinWorkers == 0)
            {
                for (var node = _queue.First; node is not null;)
                {
                    var next = node.Next;
                    if (node.Value.Lanes == lanes)
                    {
                        _queue.Remove(node);
                        (refused ??= []).Add(node.Value);
                    }
                    node = next;
                }
                if (refused is not null) lanes.AddPending(-refused.Count);
            }
            Monitor.PulseAll(_gate);
        }
        if (refused is null) return;
        foreach (var item in refused)
        {
            item.Registration.Dispose();
            item.Fail(lanes.NoWorker());
        }
    }

    private void Cancel(WorkItem item)
    {
        lock (_gate)
        {
            if (item.Node?.List is null) return; // not queued yet, taken by a worker (both check the token) or refused
            _queue.Remove(item.Node);
            item.Lanes?.AddPending(-1);
        }
        item.Cancelled();
    }

    private void Loop(int index)
    {
        // Small serving batches lose to thread hand-offs: with libtorch's default (one OpenMP thread per core) a 1 ms
        // forward pass took 50–400 ms on 2 cores while the HTTP threads competed for them (docs/BENCHMARKS.md).
        if (_torchThreads > 0) TorchSharp.torch.set_num_threads(_torchThreads);
        while (Take() is { } item)
        {
            item.Registration.Dispose();
            Volatile.Write(ref _busy[index], 1);
            item.Execute();
            Volatile.Write(ref _busy[index], 0);
            if (item.Lanes is not null)
            {
                item.Lanes.Return();
                // Another worker may be waiting for the lane this one just freed.
                if (_threads.Length > 1) lock (_gate) Monitor.PulseAll(_gate);
            }
            // The caller sees its result only now: by then this worker and its lane are free again, so a caller that
            // reads Busy or sends its next prediction at once never finds its own finished one still counted.
            item.Complete();
        }
    }

    /// <summary>The first queued item whose model has a free lane (claimed here), waiting until there is one; null once disposed and empty.</summary>
    private WorkItem? Take()
    {
        lock (_gate)
        {
            while (true)
            {
                for (var node = _queue.First; node is not null; node = node.Next)
                {
                    var lanes = node.Value.Lanes;
                    if (lanes is not null && !lanes.TryTake()) continue;
                    _queue.Remove(node);
                    lanes?.AddPending(-1);
                    return node.Value;
                }
                if (_completed && _queue.Count == 0) return null;
                Monitor.Wait(_gate);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _threads) t.Join(TimeSpan.FromSeconds(10));
    }

    private abstract class WorkItem(ModelWorkers? lanes)
    {
        public ModelWorkers? Lanes { get; } = lanes;
        public LinkedListNode<WorkItem>? Node { get; set; }
        public CancellationTokenRegistration Registration { get; set; }
        /// <summary>Runs the work and keeps its outcome; <see cref="Complete"/> hands it to the caller.</summary>
        public abstract void Execute();
        public abstract void Complete();
        public abstract void Fail(Exception e);
        public abstract void Cancelled();
    }

    private sealed class WorkItem<T>(Func<T> work, ModelWorkers? lanes, CancellationToken cancellationToken) : WorkItem(lanes)
    {
        private readonly TaskCompletionSource<(T, TimeSpan)> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly long _enqueued = Stopwatch.GetTimestamp();

        public Task<(T, TimeSpan)> Task => _tcs.Task;

        private (T, TimeSpan) _result;
        private Exception? _error;
        private bool _cancelled;

        public override void Execute()
        {
            var queued = Stopwatch.GetElapsedTime(_enqueued);
            if (cancellationToken.IsCancellationRequested) { _cancelled = true; return; }
            try { _result = (work(), queued); }
            catch (Exception e) { _error = e; }
        }

        public override void Complete()
        {
            if (_cancelled) _tcs.TrySetCanceled(cancellationToken);
            else if (_error is not null) _tcs.TrySetException(_error);
            else _tcs.TrySetResult(_result);
        }

        public override void Fail(Exception e) => _tcs.TrySetException(e);
        public override void Cancelled() => _tcs.TrySetCanceled(cancellationToken);
    }
}
