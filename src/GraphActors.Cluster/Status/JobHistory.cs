// The curves of the status page: the loss over the job's steps and the metrics of every completed epoch.
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Status;

/// <summary>One loss point: <paramref name="GlobalStep"/> counts steps over the whole job (the coordinator's step restarts every epoch).</summary>
public sealed record LossPoint(long GlobalStep, int Epoch, long Step, float Loss, long AtUnixMs);

/// <summary>The metrics the coordinator reported when <paramref name="Epoch"/> completed (parallel arrays).</summary>
public sealed record EpochPoint(int Epoch, float Loss, string[] MetricNames, float[] MetricValues, long AtUnixMs);

/// <summary>
/// Folds the coordinator's <see cref="JobStatus"/> answers, sampled every second or so, into the curves of one job. A
/// point is added only when something moved; a new job id starts over. The loss curve keeps at most
/// <c>capacity</c> points: when full, every other point goes, so a long run stays whole at a coarser grain.
/// </summary>
public sealed class JobHistory(int capacity)
{
    private readonly List<LossPoint> _loss = [];
    private readonly List<EpochPoint> _epochs = [];
    private int _epoch = int.MinValue;
    private long _epochOffset;
    private long _maxStep;

    public int Capacity { get; } = capacity >= 4 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "keep at least 4 points");
    public string JobId { get; private set; } = "";
    public IReadOnlyList<LossPoint> Loss => _loss;
    public IReadOnlyList<EpochPoint> Epochs => _epochs;

    public void Observe(JobStatus status, long atUnixMs)
    {
        if (status.JobId.Length == 0) return; // the coordinator has no job yet: keep what was seen
        if (status.JobId != JobId) Reset(status.JobId);

        // The step restarts with every epoch (and when a resumed job repeats one): carry the steps done so far.
        if (status.Epoch != _epoch || status.Step < _maxStep)
        {
            _epochOffset += _maxStep;
            _maxStep = 0;
            _epoch = status.Epoch;
        }
        _maxStep = Math.Max(_maxStep, status.Step);

        // Step 0: nothing done in this epoch yet; the loss then is the last epoch's result, not a point of this one.
        if (float.IsFinite(status.LastLoss) && status.Step > 0)
        {
            var global = _epochOffset + status.Step;
            var last = _loss.Count == 0 ? null : _loss[^1];
            if (last is null || last.GlobalStep != global || last.Loss != status.LastLoss)
                Add(_loss, new LossPoint(global, status.Epoch, status.Step, status.LastLoss, atUnixMs));
        }

        if (status.LastCompletedEpoch >= 0 && (_epochs.Count == 0 || _epochs[^1].Epoch != status.LastCompletedEpoch))
            Add(_epochs, new EpochPoint(status.LastCompletedEpoch, status.LastLoss, status.MetricNames, status.MetricValues, atUnixMs));
    }

    private void Reset(string jobId)
    {
        JobId = jobId;
        _loss.Clear();
        _epochs.Clear();
        _epoch = int.MinValue;
        _epochOffset = 0;
        _maxStep = 0;
    }

    private void Add<T>(List<T> points, T point)
    {
        points.Add(point);
        if (points.Count <= Capacity) return;
        // Keep the even points and the newest one.
        var kept = 0;
        for (var i = 0; i < points.Count - 1; i += 2) points[kept++] = points[i];
        points[kept++] = point;
        points.RemoveRange(kept, points.Count - kept);
    }
}
