// O(1) draws from a fixed discrete distribution (Vose's alias method).
using System.Runtime.CompilerServices;

namespace GraphActors.Sampling;

/// <summary>
/// Walker/Vose alias table: build O(n), each draw is one bounded int and one float. Zero-weight entries are never drawn.
/// 8 bytes per entry (a float threshold and an int alias).
/// </summary>
public sealed class AliasTable
{
    private readonly float[] _threshold;
    private readonly int[] _alias;

    public AliasTable(ReadOnlySpan<double> weights)
    {
        var n = weights.Length;
        double total = 0;
        foreach (var w in weights)
        {
            if (!(w >= 0) || double.IsInfinity(w)) throw new ArgumentException($"Alias weights must be finite and non-negative; got {w}.", nameof(weights));
            total += w;
        }
        if (!(total > 0)) throw new ArgumentException("An alias table needs at least one positive weight.", nameof(weights));

        _threshold = new float[n];
        _alias = new int[n];
        var scaled = new double[n];
        var small = new int[n];
        var large = new int[n];
        int ns = 0, nl = 0;
        for (var i = 0; i < n; i++)
        {
            scaled[i] = weights[i] * n / total;
            if (scaled[i] < 1) small[ns++] = i; else large[nl++] = i;
        }
        while (ns > 0 && nl > 0)
        {
            var s = small[--ns];
            var l = large[nl - 1];
            _threshold[s] = (float)scaled[s];
            _alias[s] = l;
            scaled[l] -= 1 - scaled[s];
            if (scaled[l] < 1) { nl--; small[ns++] = l; }
        }
        // Leftovers are 1 up to rounding; they keep themselves.
        while (nl > 0) { var l = large[--nl]; _threshold[l] = 1f; _alias[l] = l; }
        while (ns > 0) { var s = small[--ns]; _threshold[s] = weights[s] > 0 ? 1f : 0f; _alias[s] = s; }
        // A zero-weight entry left over by rounding must still never be drawn: point it at some positive entry.
        var positive = -1;
        for (var i = 0; i < n && positive < 0; i++) if (weights[i] > 0) positive = i;
        for (var i = 0; i < n; i++) if (_threshold[i] == 0f && _alias[i] == i) _alias[i] = positive;
    }

    public int Count => _threshold.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Next(ref Xoshiro256 rng)
    {
        var i = rng.NextInt(_threshold.Length);
        return rng.NextFloat() < _threshold[i] ? i : _alias[i];
    }
}
