// The whole graph's degree tables a partition or a partitioned store needs for in_degree draws, read once per edge type.
using GraphActors.Contracts;
using GraphActors.Graph.Storage;

namespace GraphActors.Sampling;

/// <summary>
/// Per edge type, built on first use from every partition's CSR row lengths (memory-mapped: the other partitions' files
/// are only touched for their offsets) and kept: <see cref="NeighborDegrees"/> (each node's degree in the direction a
/// hop arrives by, indexed by global id: what <c>in_degree</c> neighbour sampling weighs a neighbour by),
/// <see cref="Smoothed"/> (in-degree^0.75 negatives) and <see cref="Raw"/> (in-degree negatives). Thread-safe.
/// </summary>
/// <param name="partitions">Opens the partitions for one pass (each is disposed after it when <paramref name="owned"/>).</param>
public sealed class DegreeTables(Func<IEnumerable<LoadedPartition>> partitions, bool owned)
{
    private readonly Dictionary<(CanonicalEdgeType, bool), int[]> _degrees = new();
    private readonly Dictionary<CanonicalEdgeType, AliasTable> _smoothed = new(), _raw = new(), _reached = new();

    /// <summary>Tables over the store at <paramref name="storePath"/>, each partition loaded for one pass and let go.</summary>
    public static DegreeTables OfStore(string storePath) => new(() =>
    {
        var store = PartitionStore.Open(storePath);
        return Enumerable.Range(0, store.Parts).Select(p => store.LoadPartition(p));
    }, owned: true);

    /// <summary>
    /// Degrees of the nodes a hop along <paramref name="type"/> reaches, by global id: for an out-hop
    /// (<paramref name="incoming"/> false) each destination's in-degree, for an in-hop each source's out-degree, as
    /// local mode reads them from the other direction's CSR.
    /// </summary>
    public int[] NeighborDegrees(CanonicalEdgeType type, bool incoming)
    {
        lock (_degrees)
        {
            if (_degrees.TryGetValue((type, incoming), out var known)) return known;
            var far = incoming ? type.Src : type.Dst;
            int[]? result = null;
            foreach (var part in partitions())
            {
                try
                {
                    result ??= new int[part.Book.NodeCount(far)];
                    var csr = part.Edges(type).Direction(!incoming);
                    var nodes = part.Nodes(far);
                    for (var r = 0; r < csr.RowCount; r++) result[nodes.IdOf(r)] = csr.Degree(r);
                }
                finally
                {
                    if (owned) part.Dispose();
                }
            }
            return _degrees[(type, incoming)] = result ?? [];
        }
    }

    /// <summary>Destinations of <paramref name="type"/> ∝ in-degree^0.75.</summary>
    public AliasTable Smoothed(CanonicalEdgeType type) => Table(_smoothed, type, d => d == 0 ? 0 : Math.Pow(d, NegativeSampler.DegreePower));

    /// <summary>Destinations of <paramref name="type"/> ∝ in-degree.</summary>
    public AliasTable Raw(CanonicalEdgeType type) => Table(_raw, type, d => d);

    /// <summary>Destinations of <paramref name="type"/> with an edge, uniformly (GraphLearn's random negatives).</summary>
    public AliasTable Reached(CanonicalEdgeType type) => Table(_reached, type, d => d > 0 ? 1 : 0);

    private AliasTable Table(Dictionary<CanonicalEdgeType, AliasTable> cache, CanonicalEdgeType type, Func<int, double> weight)
    {
        lock (cache)
        {
            if (cache.TryGetValue(type, out var t)) return t;
            var degrees = NeighborDegrees(type, incoming: false);
            var weights = new double[degrees.Length];
            for (var v = 0; v < weights.Length; v++) weights[v] = weight(degrees[v]);
            return cache[type] = new AliasTable(weights);
        }
    }
}
