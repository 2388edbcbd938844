// What a GraphLearn graph brings to the partition store in worker and server mode, and what it cannot yet.
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Graph.GraphLearn;

/// <summary>
/// A loaded GraphLearn <see cref="Graph"/> as a partition source: its node and edge types as <see cref="HeteroGraphSource"/>
/// reads them, plus its mask sources (<c>g.node(…, mask=gl.Mask.TRAIN)</c>, TEST, VAL) as the store's train, test
/// and val sets. A node type with any mask source takes its sets from them alone (a node in none is in no set); a type
/// without one keeps the partitioner's split. <see cref="NotCarried"/> says what the store leaves out, so that the
/// caller can say so instead of dropping it silently.
/// </summary>
public static class GraphLearnPartitionSource
{
    public static HeteroGraphSource Of(Graph graph, out IReadOnlyList<string> notCarried)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var store = graph.Store;
        var masks = new Dictionary<NodeType, (byte[] Train, byte[] Val, byte[] Test)>();
        var lost = new List<string>();
        foreach (var nodes in store.NodeTypes)
        {
            var name = nodes.Type.Name;
            var sets = new[] { Mask.Train, Mask.Val, Mask.Test };
            if (!Array.Exists(sets, m => graph.HasMaskedSource(name, m))) continue;
            var bytes = new byte[3][];
            for (var k = 0; k < 3; k++)
            {
                bytes[k] = new byte[nodes.Count];
                if (!graph.HasMaskedSource(name, sets[k])) continue;
                var absent = 0;
                foreach (var id in graph.MaskedNodeIds(name, sets[k]))
                {
                    if (nodes.Ids.TryGetDense(id, out var dense)) bytes[k][dense] = 1;
                    else absent++;
                }
                if (absent > 0)
                    lost.Add($"{absent} {Graph.MaskName(sets[k])} id(s) of '{name}' are not nodes of the type: they are in no set of the store");
            }
            masks[nodes.Type] = (bytes[0], bytes[1], bytes[2]);
        }

        foreach (var nodes in store.NodeTypes)
        {
            var s = nodes.Schema;
            var parts = Attributes(s.Attributes, floats: false);
            if (s.Weighted) parts.Insert(0, "weights");
            if (parts.Count > 0) lost.Add($"node type '{s.Type}': {string.Join(", ", parts)} (the store keeps float attributes as features, and labels)");
        }
        foreach (var edges in store.EdgeTypes)
        {
            var s = edges.Schema;
            var parts = Attributes(s.Attributes, floats: true);
            if (s.Labeled) parts.Insert(0, "labels");
            if (parts.Count > 0) lost.Add($"edge type {s.Type}: {string.Join(", ", parts)} (the store keeps weights)");
        }
        notCarried = lost;
        return new HeteroGraphSource(store, masks: masks);
    }

    // The attribute columns the store does not hold: ints and strings, and floats unless they are the features.
    private static List<string> Attributes(AttributeSchema a, bool floats)
    {
        var parts = new List<string>();
        if (a.IntCount > 0) parts.Add($"{a.IntCount} int attribute(s)");
        if (floats && a.FloatCount > 0) parts.Add($"{a.FloatCount} float attribute(s)");
        if (a.StringCount > 0) parts.Add($"{a.StringCount} string attribute(s)");
        return parts;
    }
}
