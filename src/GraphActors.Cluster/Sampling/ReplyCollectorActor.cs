// The actor a RemoteGraphStore's requests are sent from: it takes their answers, whole or in chunks, and completes the callers' tasks.
using Akka.Actor;
using Akka.Event;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Sampling;

/// <summary>
/// Stands where an Ask's temporary actor would (which takes one reply only): a <see cref="RemoteGraphStore"/> registers
/// each request with <see cref="Expect"/> and then sends it to the shard region with this actor as the sender. An answer
/// sent whole completes the request's task with it; a <see cref="ResponseChunk"/> is appended to the request's
/// <see cref="ChunkAssembly"/> and acknowledged to its sender (<see cref="ChunkAck"/>: the partition's window moves on),
/// and the last one completes the task with the <see cref="Assembled"/> bytes (the caller deserializes them on its own
/// thread). Every request has a timer: when the deadline passes first, the task fails with a <see cref="TimeoutException"/>
/// and whatever chunks arrived are dropped; answers to requests nobody waits for any more are dropped unacknowledged.
/// </summary>
public sealed class ReplyCollectorActor : ReceiveActor, IWithTimers
{
    /// <summary>Wait up to <paramref name="Timeout"/> for the answer to <paramref name="RequestId"/>; sent before the request itself.</summary>
    public sealed record Expect(long RequestId, TaskCompletionSource<object> Reply, TimeSpan Timeout) : INoSerializationVerificationNeeded;

    /// <summary>The caller gave up on <paramref name="RequestId"/> (cancelled): drop what arrived of it.</summary>
    public sealed record Forget(long RequestId) : INoSerializationVerificationNeeded;

    /// <summary>An answer that crossed in chunks: its serialized form, whole.</summary>
    public sealed record Assembled(int Partition, string Manifest, byte[] Bytes, int Chunks);

    private sealed record Expired(long RequestId) : INoSerializationVerificationNeeded;

    private sealed class Pending(TaskCompletionSource<object> reply, TimeSpan timeout)
    {
        public TaskCompletionSource<object> Reply { get; } = reply;
        public TimeSpan Timeout { get; } = timeout;
        public ChunkAssembly? Chunks { get; set; }
    }

    private readonly Dictionary<long, Pending> _pending = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ITimerScheduler Timers { get; set; } = null!;

    public ReplyCollectorActor()
    {
        Receive<Expect>(e =>
        {
            _pending[e.RequestId] = new Pending(e.Reply, e.Timeout);
            Timers.StartSingleTimer(e.RequestId, new Expired(e.RequestId), e.Timeout);
        });
        Receive<Forget>(f => Drop(f.RequestId));
        Receive<Expired>(x =>
        {
            if (!_pending.Remove(x.RequestId, out var p)) return;
            var got = p.Chunks is { } c ? $" ({c.Received} of {c.Count} chunks arrived)" : "";
            p.Reply.TrySetException(new TimeoutException($"no answer to request {x.RequestId} within {p.Timeout.TotalMilliseconds:0} ms{got}"));
        });
        Receive<ResponseChunk>(OnChunk);
        Receive<IPartitionResponse>(r =>
        {
            if (!_pending.Remove(r.RequestId, out var p))
            {
                _log.Debug("Dropped a late {0} to request {1} from partition {2}: nobody waits for it", r.GetType().Name, r.RequestId, r.Partition);
                return;
            }
            Timers.Cancel(r.RequestId);
            p.Reply.TrySetResult(r);
        });
    }

    public static Props Props() => Akka.Actor.Props.Create(() => new ReplyCollectorActor());

    /// <summary>The store was disposed or the node is stopping: nobody will answer the requests still waiting.</summary>
    protected override void PostStop()
    {
        foreach (var (id, p) in _pending)
            p.Reply.TrySetException(new ObjectDisposedException(nameof(RemoteGraphStore),
                $"no answer to request {id}: the graph store's reply collector stopped (store disposed or node stopping)"));
        _pending.Clear();
        base.PostStop();
    }

    private void OnChunk(ResponseChunk c)
    {
        if (!_pending.TryGetValue(c.RequestId, out var p))
        {
            // Not acknowledged: the partition drops the transfer at the request's deadline instead of sending the rest.
            _log.Debug("Dropped chunk {0}/{1} of request {2} from partition {3}: nobody waits for it", c.Index + 1, c.Count, c.RequestId, c.Partition);
            return;
        }
        try
        {
            p.Chunks ??= new ChunkAssembly(c.Manifest, c.TotalBytes, c.Count);
            if (!p.Chunks.Append(c.Index, c.Count, c.TotalBytes, c.Manifest, c.Bytes.Span))
            {
                Sender.Tell(new ChunkAck(c.RequestId, c.Partition, c.Index));
                return;
            }
            _pending.Remove(c.RequestId);
            Timers.Cancel(c.RequestId);
            p.Reply.TrySetResult(new Assembled(c.Partition, c.Manifest, p.Chunks.Bytes, c.Count));
        }
        catch (InvalidDataException e)
        {
            Drop(c.RequestId);
            p.Reply.TrySetException(new PartitionRequestException(c.Partition, $"Partition {c.Partition}'s chunked answer to request {c.RequestId} is torn: {e.Message}"));
        }
    }

    private void Drop(long requestId)
    {
        _pending.Remove(requestId);
        Timers.Cancel(requestId);
    }
}
