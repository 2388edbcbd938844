using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

/// <summary>Reads a loaded edge type back as business-id triples, the way a GraphLearn user thinks of it.</summary>
internal static class Loaded
{
    public static List<(long Src, long Dst)> Pairs(HeteroGraph store, string edgeType, bool reverse = false) =>
        Triples(store, edgeType, reverse).Select(t => (t.Src, t.Dst)).ToList();

    /// <summary>(src, dst, weight) of every edge, in out-CSR order (rows by dense src, each row sorted by dense dst).</summary>
    public static List<(long Src, long Dst, float Weight)> Triples(HeteroGraph store, string edgeType, bool reverse = false)
    {
        var edges = store.Edges(edgeType, reverse);
        var src = store.Nodes(edges.Type.Src).Ids;
        var dst = store.Nodes(edges.Type.Dst).Ids;
        var result = new List<(long, long, float)>();
        for (var row = 0; row < edges.Out.RowCount; row++)
        {
            var start = (int)edges.Out.Offsets[row];
            var neighbors = edges.Out.Row(row);
            for (var i = 0; i < neighbors.Length; i++)
                result.Add((src.ToBusiness(row), dst.ToBusiness(neighbors[i]), edges.Data.Weight(edges.Out.EdgeIdAt(start + i))));
        }
        return result;
    }

    public static List<T> Sorted<T>(IEnumerable<T> items) => items.Order().ToList();
}
