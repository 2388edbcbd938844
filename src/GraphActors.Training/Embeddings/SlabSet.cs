// The slabs of one node type a holder keeps, routed by id: a partition's ranges in the cluster (one per generation of a refreshed store).
namespace GraphActors.Training.Embeddings;

/// <summary>
/// Slabs of one type, each a range of ids, not overlapping, in any order; empty ones are kept (their files are part of a
/// checkpoint) but never routed to. <see cref="Group"/> sorts a call's ids by the slab holding them (a counting sort,
/// stable, one binary search per id); an id no slab holds is an error naming it and <paramref name="holder"/>.
/// </summary>
public sealed class SlabSet(IReadOnlyList<EmbeddingSlab> slabs, string holder) : IDisposable
{
    private readonly EmbeddingSlab[] _routed = [.. slabs.Where(s => s.Count > 0).OrderBy(s => s.Start)];

    /// <summary>Every slab, as given (the empty ones too).</summary>
    public IReadOnlyList<EmbeddingSlab> Slabs { get; } = slabs;

    public int Dim => Slabs[0].Dim;
    public long RowCount => Slabs.Sum(s => (long)s.Count);
    public long Bytes => Slabs.Sum(s => s.Bytes);

    /// <summary>Whether a slab holds <paramref name="id"/>.</summary>
    public bool Holds(int id) => Find(id) >= 0;

    private int Find(int id)
    {
        int lo = 0, hi = _routed.Length - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_routed[mid].Start <= id) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found >= 0 && id - _routed[found].Start < _routed[found].Count ? found : -1;
    }

    /// <summary>The ids grouped by holding slab (routed order), each with its position in the caller's order.</summary>
    public (int[] Ids, int[] Positions, int[] Offsets) Group(ReadOnlySpan<int> ids)
    {
        var owner = new int[ids.Length];
        var offsets = new int[_routed.Length + 1];
        for (var i = 0; i < ids.Length; i++)
        {
            var s = _routed.Length == 1 && (uint)(ids[i] - _routed[0].Start) < (uint)_routed[0].Count ? 0 : Find(ids[i]);
            if (s < 0) throw new ArgumentException($"node {ids[i]} of '{Slabs[0].Type}' is not held by {holder} (ids {Describe()}).");
            owner[i] = s;
            offsets[s + 1]++;
        }
        for (var s = 0; s < _routed.Length; s++) offsets[s + 1] += offsets[s];
        var next = offsets[.._routed.Length];
        var grouped = new int[ids.Length];
        var positions = new int[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            var k = next[owner[i]]++;
            grouped[k] = ids[i];
            positions[k] = i;
        }
        return (grouped, positions, offsets);
    }

    /// <summary>The rows of <paramref name="ids"/>, row i at row i of <paramref name="destination"/>.</summary>
    public void Gather(ReadOnlySpan<int> ids, Span<float> destination)
    {
        var (grouped, positions, offsets) = Group(ids);
        for (var s = 0; s < _routed.Length; s++)
        {
            var (from, to) = (offsets[s], offsets[s + 1]);
            if (to > from) _routed[s].Gather(grouped.AsSpan(from, to - from), positions.AsSpan(from, to - from), destination);
        }
    }

    /// <summary>One optimizer step on the rows of <paramref name="ids"/> (distinct), row i of <paramref name="gradients"/> being id i's.</summary>
    public void ApplyDistinct(ReadOnlySpan<int> ids, ReadOnlySpan<float> gradients)
    {
        var (grouped, positions, offsets) = Group(ids);
        for (var s = 0; s < _routed.Length; s++)
        {
            var (from, to) = (offsets[s], offsets[s + 1]);
            if (to > from) _routed[s].Apply(grouped.AsSpan(from, to - from), positions.AsSpan(from, to - from), gradients);
        }
    }

    /// <summary>The ranges held: "[a, b)" or "[a, b) ∪ [c, d)…".</summary>
    public string Describe() =>
        _routed.Length == 0 ? "none" : string.Join(" ∪ ", _routed.Select(s => $"[{s.Start}, {s.Start + s.Count})"));

    public void Dispose()
    {
        foreach (var s in Slabs) s.Dispose();
    }
}
