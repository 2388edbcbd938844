// Which partition owns a node: per node type, N+1 range boundaries over the relabelled ids.
using GraphActors.Contracts;

namespace GraphActors.Graph.Storage;

/// <summary>
/// After relabelling, partition p owns ids <c>[Boundaries[p], Boundaries[p+1])</c> of every node type, so the whole
/// book is N+1 ints per node type: small enough to replicate everywhere, answered by a binary search.
/// </summary>
public sealed class PartitionBook
{
    private readonly Dictionary<NodeType, int[]> _boundaries;

    public PartitionBook(int parts, IReadOnlyDictionary<NodeType, int[]> boundaries)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        foreach (var (type, b) in boundaries)
        {
            if (b.Length != parts + 1 || b[0] != 0)
                throw new ArgumentException($"Node type '{type}' needs {parts + 1} boundaries starting at 0.");
            for (var p = 0; p < parts; p++)
                if (b[p + 1] < b[p]) throw new ArgumentException($"Node type '{type}': boundaries must not decrease.");
        }
        Parts = parts;
        _boundaries = boundaries.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
    }

    public int Parts { get; }
    public IEnumerable<NodeType> NodeTypes => _boundaries.Keys;

    public ReadOnlySpan<int> Boundaries(NodeType type) => Get(type);

    public int NodeCount(NodeType type) => Get(type)[Parts];

    /// <summary>The first id partition <paramref name="part"/> owns and how many it owns.</summary>
    public (int Start, int Count) Range(NodeType type, int part)
    {
        var b = Get(type);
        return (b[part], b[part + 1] - b[part]);
    }

    /// <summary>The partition owning relabelled node <paramref name="id"/> of <paramref name="type"/>.</summary>
    public int Owner(NodeType type, int id)
    {
        var b = Get(type);
        if ((uint)id >= (uint)b[Parts])
            throw new ArgumentOutOfRangeException(nameof(id), $"Node {id} of '{type}' is outside 0..{b[Parts] - 1}.");
        return OwnerIn(b, id);
    }

    /// <summary>
    /// The owner of <paramref name="id"/> among <paramref name="boundaries"/> (one type's N+1 boundaries, id in range
    /// unchecked): the last p &lt; N with boundaries[p] ≤ id, so empty partitions (b[p] == b[p+1]) are skipped. For
    /// loops over many ids of one type that hold its boundaries already.
    /// </summary>
    public static int OwnerIn(ReadOnlySpan<int> boundaries, int id)
    {
        int lo = 0, hi = boundaries.Length - 2;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >> 1;
            if (boundaries[mid] <= id) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>The local row of <paramref name="id"/> in its owner's arrays.</summary>
    public int LocalRow(NodeType type, int id) => id - Get(type)[Owner(type, id)];

    private int[] Get(NodeType type) =>
        _boundaries.TryGetValue(type, out var b) ? b
            : throw new KeyNotFoundException($"The partition book has no node type '{type}'. Known: {string.Join(", ", _boundaries.Keys)}.");
}
