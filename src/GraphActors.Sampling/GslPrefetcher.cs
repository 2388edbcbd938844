// GraphLearn's Dataset(query, window=N): a background task builds up to N batches ahead of the reader.
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace GraphActors.Sampling;

/// <summary>
/// Builds a dataset's cursor sequence in the background, in the order the cursor reads it: batches 0.. of epoch 0, an
/// end-of-epoch mark, batches of epoch 1, and so on (no mark ever for an endless dataset). A bounded channel holds at
/// most <c>window</c> finished items; the task builds the next only once there is room, so it runs at most
/// <c>window</c> batches ahead. A failure to build is queued in its place and rethrown, with its own type and stack,
/// by every later <see cref="Take"/>. <see cref="Dispose"/> stops the task and waits for it.
/// </summary>
internal sealed class GslPrefetcher : IDisposable
{
    /// <summary>One queued item: a batch, the end of an epoch (no batch, no error), or the failure that stopped the task.</summary>
    private readonly record struct Item(GslBatch? Batch, ExceptionDispatchInfo? Error);

    private readonly Channel<Item> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _timeout;
    private readonly Task _task;
    private ExceptionDispatchInfo? _fault;
    private bool _disposed;

    public GslPrefetcher(int window, TimeSpan timeout, bool endless, int batchesPerEpoch, Func<int, int, GslBatch> build)
    {
        if (window <= 0) throw new ArgumentOutOfRangeException(nameof(window), window, "A prefetch window holds at least one batch.");
        _timeout = timeout;
        _channel = Channel.CreateBounded<Item>(new BoundedChannelOptions(window)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _task = Task.Run(() => Produce(endless, batchesPerEpoch, build, _stop.Token));
    }

    /// <summary>True while the background task runs (it ends on <see cref="Dispose"/> or after a failure).</summary>
    public bool Running => !_task.IsCompleted;

    private async Task Produce(bool endless, int batchesPerEpoch, Func<int, int, GslBatch> build, CancellationToken stop)
    {
        var writer = _channel.Writer;
        try
        {
            for (var epoch = 0; ; epoch++)
            {
                for (var b = 0; endless || b < batchesPerEpoch; b++)
                {
                    if (!await writer.WaitToWriteAsync(stop).ConfigureAwait(false)) return;
                    writer.TryWrite(new Item(build(epoch, b), null));
                }
                if (!await writer.WaitToWriteAsync(stop).ConfigureAwait(false)) return;
                writer.TryWrite(default);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed: nobody reads any more.
        }
        catch (Exception e)
        {
            // Queued behind the batches already built, so the reader meets it where the failed batch would have been.
            try
            {
                await writer.WriteAsync(new Item(null, ExceptionDispatchInfo.Capture(e)), stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>The next batch, or null at the end of an epoch; rethrows the failure that stopped the task.</summary>
    /// <param name="what">What the caller waits for, for the timeout's message.</param>
    public GslBatch? Take(string what)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _fault?.Throw();
        Item item;
        while (!_channel.Reader.TryRead(out item))
        {
            var ready = _channel.Reader.WaitToReadAsync().AsTask();
            if (!ready.Wait(_timeout))
                throw new TimeoutException(
                    $"Waited {_timeout.TotalSeconds:0.#} s for the prefetch task to build {what}; raise GslOptions.PrefetchTimeout if batches take that long.");
            if (!ready.Result)
                throw new InvalidOperationException($"The prefetch task ended before {what}.");
        }
        if (item.Error is { } error)
        {
            _fault = error;
            error.Throw();
        }
        return item.Batch;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        // A batch being built finishes first (building is not interruptible); the task then sees the stop at its next wait.
        if (!_task.Wait(_timeout))
            throw new TimeoutException($"The prefetch task did not stop within {_timeout.TotalSeconds:0.#} s of Dispose(); a batch build is still running.");
        _stop.Dispose();
    }
}
