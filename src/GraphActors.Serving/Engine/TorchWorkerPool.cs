// The only threads that touch TorchSharp: dispose scopes and grad mode are per thread, so torch work is queued here.
using System.Collections.Concurrent;
using System.Diagnostics;

namespace GraphActors.Serving;

/// <summary>
/// N dedicated threads consuming a bounded queue. <see cref="RunAsync{T}"/> never runs the work on the caller's
/// thread and completes its task asynchronously, so continuations go back to the thread pool, not to a worker.
/// A full queue is refused at once (the caller turns it into a 503), never waited on.
/// </summary>
public sealed class TorchWorkerPool : IDisposable
{
    private readonly BlockingCollection<WorkItem> _queue;
    private readonly Thread[] _threads;
    private readonly int[] _busy;
    private readonly int _torchThreads;

    /// <param name="torchThreads">Intra-op threads per worker (torch.set_num_threads on each worker thread); 0 leaves libtorch's default.</param>
    public TorchWorkerPool(int workers, int queueCapacity, int torchThreads = 1)
    {
        _torchThreads = torchThreads;
        if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "Need at least one torch worker.");
        _queue = new BlockingCollection<WorkItem>(new ConcurrentQueue<WorkItem>(), Math.Max(queueCapacity, 1));
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
    public int Queued => _queue.Count;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public static string WorkerName(int index) => $"torch-worker-{index}";

    /// <summary>True while worker <paramref name="index"/> runs a work item.</summary>
    public bool IsBusy(int index) => Volatile.Read(ref _busy[index]) != 0;

    /// <summary>Runs <paramref name="work"/> on a worker; the result carries how long it waited in the queue.</summary>
    public Task<(T Value, TimeSpan Queued)> RunAsync<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        var item = new WorkItem<T>(work, cancellationToken);
        if (!_queue.TryAdd(item))
            throw ServingException.Unavailable($"All {_threads.Length} torch workers are busy and their queue of {_queue.BoundedCapacity} is full.");
        return item.Task;
    }

    /// <summary>Queues housekeeping (disposing a model): waits for room rather than refusing, since it must happen.</summary>
    public void Post(Action work)
    {
        if (_queue.IsAddingCompleted) { work(); return; } // shutting down: nothing else runs torch any more
        _queue.Add(new WorkItem<int>(() => { work(); return 0; }, CancellationToken.None));
    }

    private void Loop(int index)
    {
        // Small serving batches lose to thread hand-offs: with libtorch's default (one OpenMP thread per core) a 1 ms
        // forward pass took 50–400 ms on 2 cores while the HTTP threads competed for them (docs/BENCHMARKS.md).
        if (_torchThreads > 0) TorchSharp.torch.set_num_threads(_torchThreads);
        foreach (var item in _queue.GetConsumingEnumerable())
        {
            Volatile.Write(ref _busy[index], 1);
            item.Execute();
            Volatile.Write(ref _busy[index], 0);
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var t in _threads) t.Join(TimeSpan.FromSeconds(10));
        _queue.Dispose();
    }

    private abstract class WorkItem
    {
        public abstract void Execute();
    }

    private sealed class WorkItem<T>(Func<T> work, CancellationToken cancellationToken) : WorkItem
    {
        private readonly TaskCompletionSource<(T, TimeSpan)> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly long _enqueued = Stopwatch.GetTimestamp();

        public Task<(T, TimeSpan)> Task => _tcs.Task;

        public override void Execute()
        {
            var queued = Stopwatch.GetElapsedTime(_enqueued);
            if (cancellationToken.IsCancellationRequested) { _tcs.TrySetCanceled(cancellationToken); return; }
            try { _tcs.TrySetResult((work(), queued)); }
            catch (Exception e) { _tcs.TrySetException(e); }
        }
    }
}
