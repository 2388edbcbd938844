// What a GraphLearn graph brings to the partition store in worker and server mode: every column it loaded, and its mask sources.
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Graph.GraphLearn;

/// <summary>
/// A loaded GraphLearn <see cref="Graph"/> as a partition source: its node and edge types with every column they hold
/// (features, labels, node weights, int and string attributes; edge ids, weights, labels and attributes), plus its mask
/// sources (<c>g.node(…, mask=gl.Mask.TRAIN)</c>, TEST, VAL) as the store's train, test and val sets. A node type with
/// any mask source takes its sets from them alone (a node in none is in no set); a type without one keeps the
/// partitioner's split. <c>notCarried</c> names what the store leaves out (mask ids that are not nodes of their
/// type), so that the caller can say so instead of dropping it silently.
/// </summary>
public static class GraphLearnPartitionSource
{
    public static HeteroGraphSource Of(Graph graph, out IReadOnlyList<string> notCarried)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var store = graph.Store;
        var masks = new Dictionary<NodeType, (byte[] Train, byte[] Val, byte[] Test)>();
        var declared = new Dictionary<NodeType, string>();
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
            declared[nodes.Type] = string.Join(',', sets.Where(m => graph.HasMaskedSource(name, m)).Select(Graph.MaskName));
        }

        notCarried = lost;
        return new HeteroGraphSource(store, masks: masks, allColumns: true, maskSources: declared);
    }
}
