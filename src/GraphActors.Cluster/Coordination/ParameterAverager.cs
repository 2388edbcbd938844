// One averaging round: the seed-weighted mean of the trainers' flat vectors (gradients or parameters), arriving as chunks.
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Coordination;

/// <summary>
/// Sums weight × chunk per chunk index in double and divides by the summed weights, so the mean of a few float32
/// vectors is the correctly rounded float of the exact weighted mean. With each trainer's mean gradient over its n
/// seeds weighted by n, the result is the mean gradient over all the round's seeds: the gradient local mode computes
/// on the whole global batch. Memory is one vector of doubles whatever the trainer count.
/// </summary>
public sealed class ParameterAverager
{
    private double[]?[] _sums = [];
    private double[] _weights = [];
    private readonly Dictionary<string, HashSet<int>> _received = new();
    private int _chunkCount = -1;

    /// <summary>How many trainers sent at least one chunk.</summary>
    public int Reported => _received.Count;

    /// <summary>Adds chunk <paramref name="index"/> of <paramref name="count"/> from <paramref name="trainer"/> with its weight; returns a problem, or null.</summary>
    public string? Add(string trainer, int index, int count, double weight, float[] chunk)
    {
        if (count < 1 || (uint)index >= (uint)count) return $"chunk {index} of {count} is out of range";
        if (!(weight > 0)) return $"chunk {index} has weight {weight}: a contribution needs at least one seed";
        if (_chunkCount < 0) { _chunkCount = count; _sums = new double[]?[count]; _weights = new double[count]; }
        else if (count != _chunkCount) return $"it sent {count} chunks, others {_chunkCount}: the models differ";
        if (!_received.TryGetValue(trainer, out var got)) _received[trainer] = got = [];
        if (!got.Add(index)) return $"chunk {index} came twice";
        var sum = _sums[index] ??= new double[chunk.Length];
        if (sum.Length != chunk.Length) { got.Remove(index); return $"chunk {index} has {chunk.Length} floats, others {sum.Length}"; }
        for (var i = 0; i < chunk.Length; i++) sum[i] += weight * chunk[i];
        _weights[index] += weight;
        return null;
    }

    public bool IsComplete(string trainer) => _received.TryGetValue(trainer, out var got) && got.Count == _chunkCount;

    /// <summary>The weighted mean chunks, and the number of trainers that contributed the whole vector.</summary>
    public (float[][] Chunks, int Contributors) Average()
    {
        var chunks = new float[Math.Max(0, _chunkCount)][];
        for (var c = 0; c < chunks.Length; c++)
        {
            var sum = _sums[c];
            if (sum is null || _weights[c] == 0) { chunks[c] = []; continue; }
            var mean = new float[sum.Length];
            var w = _weights[c];
            for (var i = 0; i < sum.Length; i++) mean[i] = (float)(sum[i] / w);
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
