// The curves of the status page: the loss over the job's steps and the metrics of every completed epoch.
using GraphActors.Contracts.Protocols;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Status;

/// <summary>One loss point: <paramref name="GlobalStep"/> counts steps over the whole job (the coordinator's step restarts every epoch).</summary>
public sealed record LossPoint(long GlobalStep, int Epoch, long Step, float Loss, long AtUnixMs);

/// <summary>The metrics the coordinator reported when <paramref name="Epoch"/> completed (parallel arrays).</summary>
public sealed record EpochPoint(int Epoch, float Loss, string[] MetricNames, float[] MetricValues, long AtUnixMs);

/// <summary>
/// Folds the coordinator's <see cref="JobStatus"/> answers, sampled every second or so, into the curves of one job. The
/// x axis is the status's job-wide <see cref="JobStatus.GlobalStep"/>, exact whatever the sampling missed; a job that
/// ends between two samples still leaves its final loss. At one step the newest reading wins (the epoch's merged loss
/// replaces its last step's report); a resumed job that redoes steps drops the points it redoes. A new job id starts
/// over. The loss curve keeps at most <c>capacity</c> points: when full, every other point goes, so a long run stays
/// whole at a coarser grain.
/// </summary>
public sealed class JobHistory(int capacity)
{
    private readonly List<LossPoint> _loss = [];
    private readonly List<EpochPoint> _epochs = [];

    public int Capacity { get; } = capacity >= 4 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "keep at least 4 points");
    public string JobId { get; private set; } = "";
    public IReadOnlyList<LossPoint> Loss => _loss;
    public IReadOnlyList<EpochPoint> Epochs => _epochs;

    public void Observe(JobStatus status, long atUnixMs)
    {
        if (status.JobId.Length == 0) return; // the coordinator has no job yet: keep what was seen
        if (status.JobId != JobId) Reset(status.JobId);

        // Global step 0: nothing trained yet, so no loss to draw.
        if (float.IsFinite(status.LastLoss) && status.GlobalStep > 0)
        {
            var global = status.GlobalStep;
            var redone = _loss.Count;
            while (redone > 0 && _loss[redone - 1].GlobalStep > global) redone--;
            _loss.RemoveRange(redone, _loss.Count - redone);
            var point = new LossPoint(global, status.Epoch, status.Step, status.LastLoss, atUnixMs);
            if (_loss.Count > 0 && _loss[^1].GlobalStep == global)
            {
                if (_loss[^1].Loss != status.LastLoss) _loss[^1] = point;
            }
            else Add(_loss, point);
        }

        // The status carries every completed epoch (a long job's newest), so epochs that ended between two samples are
        // drawn too; an epoch redone after a resume replaces the points from it on.
        foreach (var e in status.Epochs)
        {
            if (_epochs.Count > 0 && _epochs[^1].Epoch >= e.Epoch)
            {
                var at = _epochs.FindIndex(p => p.Epoch == e.Epoch);
                if (at < 0 || (_epochs[at].Loss.Equals(e.Loss) && _epochs[at].MetricValues.AsSpan().SequenceEqual(e.MetricValues))) continue;
                _epochs.RemoveRange(at, _epochs.Count - at);
            }
            Add(_epochs, new EpochPoint(e.Epoch, e.Loss, e.MetricNames, e.MetricValues, atUnixMs));
        }
        if (status.Epochs.Length == 0 && status.LastCompletedEpoch >= 0 && (_epochs.Count == 0 || _epochs[^1].Epoch != status.LastCompletedEpoch))
            Add(_epochs, new EpochPoint(status.LastCompletedEpoch, status.LastLoss, status.MetricNames, status.MetricValues, atUnixMs));
    }

    private void Reset(string jobId)
    {
        JobId = jobId;
        _loss.Clear();
        _epochs.Clear();
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
