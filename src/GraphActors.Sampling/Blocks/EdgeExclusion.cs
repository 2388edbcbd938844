// Edges that must not carry messages: a batch's own edges (and reverses), or edges held out for validation/test.
using GraphActors.Contracts;

namespace GraphActors.Sampling;

/// <summary>
/// A set of (type, src, dst) edges the block sampler drops after sampling. Edges are named by their endpoints, not by
/// edge id (ids differ between an in-memory graph and its partition store), so every parallel edge between an
/// excluded pair is excluded. A set may chain to a <see cref="Parent"/> (a batch's own edges on top of the held-out
/// edges of a split). Dropping after sampling, as here, can leave a node with fewer than fanout neighbours where DGL
/// would have drawn a replacement; the excluded edges themselves never carry messages either way.
/// </summary>
public sealed class EdgeExclusion
{
    private readonly Dictionary<CanonicalEdgeType, HashSet<long>> _sets = new();

    public EdgeExclusion(EdgeExclusion? parent = null) => Parent = parent;

    public EdgeExclusion? Parent { get; }

    public static long Key(int src, int dst) => ((long)src << 32) | (uint)dst;

    public void Add(CanonicalEdgeType type, int src, int dst)
    {
        if (!_sets.TryGetValue(type, out var set)) _sets[type] = set = new HashSet<long>();
        set.Add(Key(src, dst));
    }

    public void Add(CanonicalEdgeType type, ReadOnlySpan<int> src, ReadOnlySpan<int> dst)
    {
        if (src.Length != dst.Length) throw new ArgumentException("Endpoint arrays differ in length.");
        if (!_sets.TryGetValue(type, out var set)) _sets[type] = set = new HashSet<long>(src.Length);
        for (var i = 0; i < src.Length; i++) set.Add(Key(src[i], dst[i]));
    }

    public bool Contains(CanonicalEdgeType type, int src, int dst)
    {
        for (var e = this; e is not null; e = e.Parent)
            if (e._sets.TryGetValue(type, out var set) && set.Contains(Key(src, dst))) return true;
        return false;
    }

    /// <summary>The non-empty sets of <paramref name="type"/> along the chain (none: nothing to filter).</summary>
    internal HashSet<long>[] SetsFor(CanonicalEdgeType type)
    {
        List<HashSet<long>>? sets = null;
        for (var e = this; e is not null; e = e.Parent)
            if (e._sets.TryGetValue(type, out var set) && set.Count > 0) (sets ??= []).Add(set);
        return sets?.ToArray() ?? [];
    }

    public long Count(CanonicalEdgeType type)
    {
        long n = 0;
        for (var e = this; e is not null; e = e.Parent) if (e._sets.TryGetValue(type, out var s)) n += s.Count;
        return n;
    }
}
