// Which partition owns a node: per node type, one or more generations of N+1 range boundaries over the relabelled ids.
using GraphActors.Contracts;

namespace GraphActors.Graph.Storage;

/// <summary>
/// After relabelling, partition p owns ids <c>[b[p], b[p+1])</c> of every node type, so the book is N+1 ints per node
/// type: small enough to replicate everywhere, answered by a binary search. A store brought up to date by
/// <c>partition --update</c> keeps every existing node's id and owner and gives the day's new nodes ids after the last
/// one, grouped by owner: one more <em>generation</em> of N+1 boundaries per update, starting where the previous one
/// ended. A partition's local rows are its ranges in generation order, so rows of older generations never move.
/// </summary>
public sealed class PartitionBook
{
    private readonly Dictionary<NodeType, NodeBook> _types;

    /// <summary>A book of one generation per type (what a full partitioning writes).</summary>
    public PartitionBook(int parts, IReadOnlyDictionary<NodeType, int[]> boundaries)
        : this(parts, boundaries.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<int[]>)[kv.Value])) { }

    /// <summary>
    /// A book of one or more generations per type: each N+1 boundaries, the first starting at 0 and each later one
    /// where the one before ended.
    /// </summary>
    public PartitionBook(int parts, IReadOnlyDictionary<NodeType, IReadOnlyList<int[]>> generations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        Parts = parts;
        _types = generations.ToDictionary(kv => kv.Key, kv => new NodeBook(kv.Key, parts, kv.Value));
    }

    public int Parts { get; }
    public IEnumerable<NodeType> NodeTypes => _types.Keys;

    /// <summary>The owners and local rows of one node type's ids.</summary>
    public NodeBook For(NodeType type) =>
        _types.TryGetValue(type, out var b) ? b
            : throw new KeyNotFoundException($"The partition book has no node type '{type}'. Known: {string.Join(", ", _types.Keys)}.");

    public int NodeCount(NodeType type) => For(type).NodeCount;

    /// <summary>How many nodes of <paramref name="type"/> partition <paramref name="part"/> owns (its local rows).</summary>
    public int Count(NodeType type, int part) => For(type).Part(part).Count;

    /// <summary>The partition owning relabelled node <paramref name="id"/> of <paramref name="type"/>.</summary>
    public int Owner(NodeType type, int id) => For(type).Owner(id);

    /// <summary>The local row of <paramref name="id"/> in its owner's arrays.</summary>
    public int LocalRow(NodeType type, int id)
    {
        For(type).Locate(id, out var row);
        return row;
    }

    /// <summary>
    /// The owner of <paramref name="id"/> among <paramref name="boundaries"/> (one generation's N+1 boundaries, id in
    /// range unchecked): the last p &lt; N with boundaries[p] ≤ id, so empty partitions (b[p] == b[p+1]) are skipped.
    /// </summary>
    public static int OwnerIn(ReadOnlySpan<int> boundaries, int id) => LastAtMost(boundaries[..^1], id);

    /// <summary>
    /// The last index i of <paramref name="ascending"/> (non-decreasing, not empty) with ascending[i] ≤
    /// <paramref name="value"/>, or 0 when there is none: the one binary search of the book, its generations and ranges.
    /// </summary>
    internal static int LastAtMost(ReadOnlySpan<int> ascending, int value)
    {
        int lo = 0, hi = ascending.Length - 1;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >> 1;
            if (ascending[mid] <= value) lo = mid; else hi = mid - 1;
        }
        return lo;
    }
}

/// <summary>
/// One node type's part of the book: its generations of boundaries, and per partition the map between its local rows
/// and the ids they hold (<see cref="PartRows"/>).
/// </summary>
public sealed class NodeBook
{
    private readonly int[][] _generations;
    private readonly int[] _generationStarts;
    private readonly int[][] _rowsBefore; // [generation][part]: rows part owns in earlier generations
    private readonly PartRows[] _parts;

    internal NodeBook(NodeType type, int parts, IReadOnlyList<int[]> generations)
    {
        if (generations.Count == 0) throw new ArgumentException($"Node type '{type}' needs at least one generation of boundaries.");
        Type = type;
        Parts = parts;
        _generations = new int[generations.Count][];
        _generationStarts = new int[generations.Count];
        _rowsBefore = new int[generations.Count][];
        var rows = new int[parts];
        for (var g = 0; g < generations.Count; g++)
        {
            var b = generations[g];
            var expectedStart = g == 0 ? 0 : _generations[g - 1][parts];
            if (b.Length != parts + 1 || b[0] != expectedStart)
                throw new ArgumentException($"Node type '{type}', generation {g}: needs {parts + 1} boundaries starting at {expectedStart}.");
            for (var p = 0; p < parts; p++)
                if (b[p + 1] < b[p]) throw new ArgumentException($"Node type '{type}', generation {g}: boundaries must not decrease.");
            _generations[g] = b.ToArray();
            _generationStarts[g] = b[0];
            _rowsBefore[g] = rows.ToArray();
            for (var p = 0; p < parts; p++) rows[p] += b[p + 1] - b[p];
        }
        NodeCount = _generations[^1][parts];
        _parts = new PartRows[parts];
        for (var p = 0; p < parts; p++)
        {
            var ids = new List<int>();
            var firstRows = new List<int>();
            var counts = new List<int>();
            for (var g = 0; g < _generations.Length; g++)
            {
                var count = _generations[g][p + 1] - _generations[g][p];
                if (count == 0) continue;
                ids.Add(_generations[g][p]);
                firstRows.Add(_rowsBefore[g][p]);
                counts.Add(count);
            }
            _parts[p] = new PartRows(ids.ToArray(), firstRows.ToArray(), counts.ToArray(), rows[p], _generations[0][p]);
        }
    }

    public NodeType Type { get; }
    public int Parts { get; }
    public int NodeCount { get; }
    public int GenerationCount => _generations.Length;

    /// <summary>Generation <paramref name="g"/>'s N+1 boundaries (absolute ids).</summary>
    public ReadOnlySpan<int> Generation(int g) => _generations[g];

    /// <summary>
    /// Every generation's ranges as one ascending list of boundaries (generations × N + 1 values): range s is
    /// partition s mod N's part of generation s / N. One contiguous range per entry, for tables kept by id range.
    /// </summary>
    public int[] RangeBoundaries()
    {
        var result = new int[_generations.Length * Parts + 1];
        for (var g = 0; g < _generations.Length; g++) _generations[g].AsSpan(0, Parts).CopyTo(result.AsSpan(g * Parts));
        result[^1] = NodeCount;
        return result;
    }

    /// <summary>Partition <paramref name="part"/>'s rows and the ids they hold.</summary>
    public PartRows Part(int part) => _parts[part];

    public int Owner(int id) => Locate(id, out _);

    /// <summary>The owner of <paramref name="id"/>, and its row there.</summary>
    public int Locate(int id, out int row)
    {
        if ((uint)id >= (uint)NodeCount)
            throw new ArgumentOutOfRangeException(nameof(id), $"Node {id} of '{Type}' is outside 0..{NodeCount - 1}.");
        return LocateUnchecked(id, out row);
    }

    /// <summary><see cref="Locate"/> for an id known to be in 0..NodeCount − 1 (inner loops that checked it).</summary>
    public int LocateUnchecked(int id, out int row)
    {
        var g = _generations.Length > 1 ? PartitionBook.LastAtMost(_generationStarts, id) : 0;
        var b = _generations[g];
        var p = PartitionBook.OwnerIn(b, id);
        row = _rowsBefore[g][p] + id - b[p];
        return p;
    }
}

/// <summary>
/// One partition's rows of one node type: ranges of ids (one per generation it gained nodes in), laid out one after
/// another in its arrays. With one range (every fully partitioned store) a row is its id minus the first id.
/// </summary>
public sealed class PartRows
{
    private readonly int[] _firstIds;
    private readonly int[] _firstRows;
    private readonly int[] _counts;

    internal PartRows(int[] firstIds, int[] firstRows, int[] counts, int count, int emptyFirst)
    {
        _firstIds = firstIds;
        _firstRows = firstRows;
        _counts = counts;
        Count = count;
        Contiguous = firstIds.Length <= 1;
        First = firstIds.Length > 0 ? firstIds[0] : emptyFirst;
    }

    /// <summary>How many rows (nodes) the partition holds.</summary>
    public int Count { get; }
    /// <summary>True when the rows are one range of ids: row r holds id <see cref="First"/> + r.</summary>
    public bool Contiguous { get; }
    /// <summary>The id of row 0 (of a partition owning none: where its first generation's range would start).</summary>
    public int First { get; }
    public int RangeCount => _firstIds.Length;

    /// <summary>Range i: its first id, its first row and its length.</summary>
    public (int FirstId, int FirstRow, int Count) Range(int i) => (_firstIds[i], _firstRows[i], _counts[i]);

    /// <summary>The id row <paramref name="row"/> holds.</summary>
    public int IdOf(int row)
    {
        if (Contiguous) return First + row;
        var r = PartitionBook.LastAtMost(_firstRows, row);
        return _firstIds[r] + row - _firstRows[r];
    }

    /// <summary>The row holding <paramref name="id"/>, or −1 when another partition owns it.</summary>
    public int RowOf(int id)
    {
        if (Contiguous) return (uint)(id - First) < (uint)Count ? id - First : -1;
        var r = PartitionBook.LastAtMost(_firstIds, id);
        var offset = id - _firstIds[r];
        return (uint)offset < (uint)_counts[r] ? _firstRows[r] + offset : -1;
    }

    /// <summary>The ids this partition owns, as ranges: "[a, b)" or "[a, b) ∪ [c, d)…" (for messages).</summary>
    public override string ToString() =>
        _firstIds.Length == 0 ? "no ids" : string.Join(" ∪ ", _firstIds.Select((f, i) => $"[{f}, {f + _counts[i]})"));
}
