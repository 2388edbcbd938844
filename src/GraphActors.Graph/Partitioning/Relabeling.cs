// Turns an assignment into contiguous per-partition id ranges (the partition book) and old → new id maps.
using GraphActors.Contracts;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Partitioning;

public static class Relabeling
{
    /// <summary>
    /// New ids: partition 0's nodes first, then partition 1's, …, each partition's nodes in their original dense order
    /// (so relabelling is stable and deterministic). Returns the book and, per type, the new id of every dense id.
    /// </summary>
    public static (PartitionBook Book, IReadOnlyDictionary<NodeType, int[]> NewIds) Relabel(PartitionAssignment assignment)
    {
        var n = assignment.Parts;
        var boundaries = new Dictionary<NodeType, int[]>();
        var newIds = new Dictionary<NodeType, int[]>();
        foreach (var (type, partOf) in assignment.PartOf)
        {
            var b = new int[n + 1];
            foreach (var p in partOf) b[p + 1]++;
            for (var p = 0; p < n; p++) b[p + 1] += b[p];
            var next = b[..n];
            var ids = new int[partOf.Length];
            for (var v = 0; v < partOf.Length; v++) ids[v] = next[partOf[v]]++;
            boundaries[type] = b;
            newIds[type] = ids;
        }
        return (new PartitionBook(n, boundaries), newIds);
    }
}
