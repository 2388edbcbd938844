// One averaging round: element-wise mean of the trainers' flat parameter vectors, arriving as chunks.
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Coordination;

/// <summary>
/// Sums each chunk index in double (so the mean of a few float32 replicas is the correctly rounded float of the exact
/// mean) and counts contributors per chunk. Memory is one vector of doubles whatever the trainer count.
/// </summary>
public sealed class ParameterAverager
{
    private double[]?[] _sums = [];
    private int[] _counts = [];
    private readonly Dictionary<string, HashSet<int>> _received = new();
    private readonly HashSet<string> _dropped = new();
    private int _chunkCount = -1;

    /// <summary>How many trainers sent at least one chunk.</summary>
    public int Reported => _received.Count;

    /// <summary>Adds chunk <paramref name="index"/> of <paramref name="count"/> from <paramref name="trainer"/>; returns a problem, or null.</summary>
    public string? Add(string trainer, int index, int count, float[] chunk)
    {
        if (_dropped.Contains(trainer)) return $"it was dropped from this round";
        if (count < 1 || (uint)index >= (uint)count) return $"chunk {index} of {count} is out of range";
        if (_chunkCount < 0) { _chunkCount = count; _sums = new double[]?[count]; _counts = new int[count]; }
        else if (count != _chunkCount) return $"it sent {count} chunks, others {_chunkCount}: the models differ";
        if (!_received.TryGetValue(trainer, out var got)) _received[trainer] = got = [];
        if (!got.Add(index)) return $"chunk {index} came twice";
        var sum = _sums[index] ??= new double[chunk.Length];
        if (sum.Length != chunk.Length) { got.Remove(index); return $"chunk {index} has {chunk.Length} floats, others {sum.Length}"; }
        for (var i = 0; i < chunk.Length; i++) sum[i] += chunk[i];
        _counts[index]++;
        return null;
    }

    public bool IsComplete(string trainer) => _received.TryGetValue(trainer, out var got) && got.Count == _chunkCount;

    /// <summary>Forgets what the given trainers sent this round (late or partial) and refuses the rest of theirs.</summary>
    public void Drop(IEnumerable<string> trainers)
    {
        foreach (var t in trainers)
        {
            _dropped.Add(t);
            _received.Remove(t);
        }
        // Whole chunks a dropped trainer sent before the timeout stay in their chunk's mean (each chunk is averaged
        // over those who sent it, by its own count); what it sends after is refused.
    }

    /// <summary>The mean chunks, and the number of trainers that contributed the whole vector.</summary>
    public (float[][] Chunks, int Contributors) Average()
    {
        var chunks = new float[Math.Max(0, _chunkCount)][];
        for (var c = 0; c < chunks.Length; c++)
        {
            var sum = _sums[c];
            if (sum is null || _counts[c] == 0) { chunks[c] = []; continue; }
            var mean = new float[sum.Length];
            for (var i = 0; i < sum.Length; i++) mean[i] = (float)(sum[i] / _counts[c]);
            chunks[c] = mean;
        }
        return (chunks, _received.Values.Count(r => r.Count == _chunkCount));
    }

    /// <summary>Splits a flat vector into chunks of at most <paramref name="maxFloats"/> (≤ 4 MiB each by default), as trainers send it.</summary>
    public static float[][] Split(ReadOnlySpan<float> vector, int maxFloats = MaxChunkFloats)
    {
        if (maxFloats < 1) throw new ArgumentOutOfRangeException(nameof(maxFloats));
        var n = Math.Max(1, (vector.Length + maxFloats - 1) / maxFloats);
        var chunks = new float[n][];
        for (var c = 0; c < n; c++)
        {
            var start = c * maxFloats;
            chunks[c] = vector.Slice(start, Math.Min(maxFloats, vector.Length - start)).ToArray();
        }
        return chunks;
    }
}
