// Loads a whole (small) CGDF directory into memory as a HeteroGraph.
using GraphActors.Contracts;

namespace GraphActors.Graph.Cgdf;

/// <summary>Train/val/test flags of one node type, indexed by dense id.</summary>
public sealed record NodeMasks(bool[] Train, bool[] Val, bool[] Test);

public static class CgdfGraph
{
    /// <summary>
    /// Every node and edge type through <see cref="HeteroGraphBuilder"/>: node dense ids equal CGDF dense ids
    /// (global − global_id_start), features as float attributes, labels; edges directed and weighted, as stored.
    /// Masks are not part of a HeteroGraph: see <see cref="LoadMasks"/>.
    /// </summary>
    public static HeteroGraph Load(string directory)
    {
        var reader = CgdfReader.Open(directory);
        var builder = new HeteroGraphBuilder();
        foreach (var t in reader.Metadata.NodeTypes)
        {
            var nodes = builder.AddNodeType(t.Name, AttributeSchema.Floats(t.FeatureDim), labeled: true, capacity: (int)t.Count);
            foreach (var chunk in reader.ReadNodes(t.Name))
            {
                for (var i = 0; i < chunk.Count; i++)
                {
                    if (!nodes.TryAdd(chunk.NodeIds[i], chunk.FeaturesOf(i), chunk.Labels[i], out var dense) || dense != chunk.FirstDenseId + i)
                        throw new GraphInputException(directory, 0, CgdfLayout.NodeId, $"node type '{t.Name}' has node id {chunk.NodeIds[i]} twice.");
                }
            }
        }
        foreach (var e in reader.Metadata.EdgeTypes)
        {
            var edges = builder.AddEdgeType(e.Type, AttributeSchema.Empty, weighted: true, directed: true, capacity: (int)Math.Min(e.Count, int.MaxValue));
            foreach (var chunk in reader.ReadEdges(e.Type))
                for (var i = 0; i < chunk.Count; i++) edges.Add(chunk.Src[i], chunk.Dst[i], chunk.Weights[i]);
        }
        return builder.Build();
    }

    /// <summary>The masks of <paramref name="nodeType"/>, or null when it has none.</summary>
    public static NodeMasks? LoadMasks(string directory, string nodeType)
    {
        var reader = CgdfReader.Open(directory);
        var meta = reader.Metadata.Node(nodeType);
        if (!meta.HasMasks) return null;
        var masks = new NodeMasks(new bool[meta.Count], new bool[meta.Count], new bool[meta.Count]);
        foreach (var c in reader.ReadNodes(nodeType))
        {
            var at = (int)c.FirstDenseId;
            c.Train!.CopyTo(masks.Train, at);
            c.Val!.CopyTo(masks.Val, at);
            c.Test!.CopyTo(masks.Test, at);
        }
        return masks;
    }
}
