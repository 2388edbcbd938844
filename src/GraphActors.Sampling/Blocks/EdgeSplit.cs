// Holds out a fraction of one edge type's edges for validation and test, deterministically.
using GraphActors.Contracts;

namespace GraphActors.Sampling;

/// <summary>
/// The train/val/test split of one edge type's edges. Each edge goes to a split by a hash of (seed, its endpoints), so
/// the split is deterministic and independent of edge order; an edge and its reverse (same-type undirected: (v, u);
/// heterogeneous: the reverse type's edge) hash alike. Fractions are therefore met in expectation, not exactly.
/// Held-out edges must carry no messages in training: the graph is not rebuilt, instead <see cref="HeldOut"/> (val and
/// test edges, plus their reverses when the type has a known reverse) is given to the link sampler as
/// <see cref="LinkBatchOptions.AlwaysExcluded"/>, or to <see cref="BlockSampler.SampleAsync"/> for node tasks.
/// </summary>
public sealed record EdgeSplit(EdgeList Train, EdgeList Val, EdgeList Test, EdgeExclusion HeldOut)
{
    public static async ValueTask<EdgeSplit> CreateAsync(IGraphStore store, CanonicalEdgeType type, double valFraction, double testFraction,
        ulong seed, CancellationToken cancellationToken = default)
    {
        if (valFraction < 0 || testFraction < 0 || valFraction + testFraction > 1)
            throw new ArgumentOutOfRangeException(nameof(valFraction), "Fractions must be non-negative and sum to at most 1.");
        var reverse = store.Schema.Edge(type).Reverse;
        var undirectedSameType = reverse == type;
        var all = await store.GetEdgesAsync(type, cancellationToken).ConfigureAwait(false);
        var parts = new[] { (new List<int>(), new List<int>()), (new List<int>(), new List<int>()), (new List<int>(), new List<int>()) };
        for (var i = 0; i < all.Count; i++)
        {
            int a = all.Src[i], b = all.Dst[i];
            if (undirectedSameType && a > b) (a, b) = (b, a);
            var u = (SplitMix64.Mix(SplitMix64.Mix(seed ^ 0x5DEECE66DUL) ^ (ulong)EdgeExclusion.Key(a, b)) >> 11) * (1.0 / (1UL << 53));
            var which = u < valFraction ? 1 : u < valFraction + testFraction ? 2 : 0;
            parts[which].Item1.Add(all.Src[i]);
            parts[which].Item2.Add(all.Dst[i]);
        }
        EdgeList ToList(int p) => new(type, parts[p].Item1.ToArray(), parts[p].Item2.ToArray());
        var train = ToList(0);
        var val = ToList(1);
        var test = ToList(2);
        var held = new EdgeExclusion();
        foreach (var l in new[] { val, test })
        {
            held.Add(type, l.Src, l.Dst);
            if (reverse is { } r) held.Add(r, l.Dst, l.Src);
        }
        return new EdgeSplit(train, val, test, held);
    }
}
