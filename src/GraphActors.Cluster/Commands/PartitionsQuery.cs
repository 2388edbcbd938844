// The plain state of one `partitions show` gather: which partitions were asked where, what came back, and the rates.
using System.Globalization;
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.PartitionProtocol;

namespace GraphActors.Cluster.Commands;

/// <summary>
/// One gather in flight. The shard coordinator's statistics say which partitions are allocated and where; each of
/// them is then asked for its <see cref="GetPartitionInfo"/>. Whatever has not answered when the timer fires is
/// reported as <see cref="PartitionState.NoAnswer"/>, never waited for.
/// </summary>
internal sealed class PartitionsQuery(long id, TimeSpan timeout)
{
    private readonly Dictionary<int, string> _allocated = new();
    private readonly Dictionary<int, PartitionStatus> _answers = new();
    private readonly Dictionary<long, int> _pending = new();
    private int _parts;

    public long Id { get; } = id;
    public TimeSpan Timeout { get; } = timeout;
    public bool HasStats { get; private set; }
    public bool Complete => HasStats && _pending.Count == 0;
    public IEnumerable<long> PendingRequests => _pending.Keys;

    /// <summary>Records where the coordinator says each shard lives; returns the partitions to ask.</summary>
    public IReadOnlyList<int> Allocated(IEnumerable<(int Partition, string Node)> shards)
    {
        HasStats = true;
        foreach (var (p, node) in shards) _allocated[p] = node;
        return _allocated.Keys.Order().ToArray();
    }

    public void Asked(long requestId, int partition) => _pending[requestId] = partition;

    public bool IsPending(long requestId) => _pending.ContainsKey(requestId);

    /// <summary>An answer from a partition; <paramref name="node"/> is where the answer came from.</summary>
    public void Answered(IPartitionResponse response, string node, PartitionRates rates, DateTime now)
    {
        if (!_pending.Remove(response.RequestId, out var p)) return;
        _answers[p] = response switch
        {
            PartitionInfoResult info => Serving(info, node, rates, now),
            PartitionError e => new PartitionStatus(p, PartitionState.Failed, node, 0, 0, -1, e.Problem),
            _ => new PartitionStatus(p, PartitionState.Failed, node, 0, 0, -1, $"answered with {response.GetType().Name}"),
        };
    }

    private PartitionStatus Serving(PartitionInfoResult info, string node, PartitionRates rates, DateTime now)
    {
        _parts = Math.Max(_parts, info.Parts);
        return new PartitionStatus(info.Partition, PartitionState.Serving, node, info.MappedBytes, info.Requests,
            rates.Observe(info.Partition, node, info.Requests, now), "");
    }

    /// <summary>The table as it stands: partitions that did not answer, and partitions nobody hosts, said as such.</summary>
    public PartitionsResult Result()
    {
        if (!HasStats)
            return new PartitionsResult(0, [], $"the shard coordinator did not report the partition shards within {Seconds(Timeout)} " +
                                               "(is a node with role 'partition' up?)");
        var parts = Math.Max(_parts, _allocated.Count == 0 ? 0 : _allocated.Keys.Max() + 1);
        var rows = new PartitionStatus[parts];
        for (var p = 0; p < parts; p++)
        {
            if (_answers.TryGetValue(p, out var answered)) rows[p] = answered;
            else if (_allocated.TryGetValue(p, out var node))
                rows[p] = new PartitionStatus(p, PartitionState.NoAnswer, node, 0, 0, -1, $"no answer within {Seconds(Timeout)}");
            else rows[p] = new PartitionStatus(p, PartitionState.NotAllocated, "", 0, 0, -1, "not allocated to any node");
        }
        return new PartitionsResult(parts, rows, parts == 0 ? "no partition is allocated yet (no partition node has started its partitions)" : "");
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s";
}

/// <summary>Request counts seen by the previous gather, so that the next one can say requests per second.</summary>
internal sealed class PartitionRates
{
    private readonly Dictionary<int, (string Node, long Requests, DateTime At)> _last = new();

    /// <summary>
    /// The rate since the last observation of <paramref name="partition"/>, not counting the info request that measured
    /// it; negative when unknown (first look, or the partition moved or reloaded, which resets its counters).
    /// </summary>
    public double Observe(int partition, string node, long requests, DateTime now)
    {
        var rate = -1.0;
        if (_last.TryGetValue(partition, out var last) && last.Node == node && requests >= last.Requests && now > last.At)
            rate = Math.Max(0, requests - last.Requests - 1) / (now - last.At).TotalSeconds;
        _last[partition] = (node, requests, now);
        return rate;
    }
}
