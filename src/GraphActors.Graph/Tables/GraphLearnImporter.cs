// import graphlearn: GraphLearn typed-header text sources → Hive-layout tables, through GraphLearn.Graph.
using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tables;

public sealed record GraphLearnNodeSource(string NodeType, string Path);
public sealed record GraphLearnEdgeSource(string SrcType, string EdgeType, string DstType, string Path);

/// <summary>
/// Loads the sources with <see cref="GraphLearn.Graph"/> (directed edges), then writes one <c>nodes_&lt;type&gt;</c> per node
/// type and one <c>edges_&lt;edge&gt;</c> per edge type. The decoder of each file is read off its header: a <c>weight</c>
/// column makes it weighted, <c>label</c> labelled, and an <c>attributes</c> column is split on ':' into as many float
/// attributes as the first data line has. The float attributes become feature_vec; a node without a label gets −1.
/// Node types that only edges name are written with empty feature vectors.
/// </summary>
public static class GraphLearnImporter
{
    public static ImportSummary Run(IReadOnlyList<GraphLearnNodeSource> nodes, IReadOnlyList<GraphLearnEdgeSource> edges, string output, string dt)
    {
        var g = new GraphLearn.Graph();
        foreach (var n in nodes) g.Node(n.Path, n.NodeType, InferDecoder(n.Path));
        foreach (var e in edges) g.Edge(e.Path, (e.SrcType, e.DstType, e.EdgeType), InferDecoder(e.Path));
        var store = g.Init().Store;
        var rows = new Dictionary<string, long>();
        foreach (var t in store.NodeTypes)
        {
            using var w = new HiveNodeTableWriter(output, t.Type.Name, dt);
            for (var i = 0; i < t.Count; i++) w.Add(t.Ids.ToBusiness(i), t.Data.FloatsOf(i), t.Data.Label(i));
            w.Complete();
            rows[w.Table] = t.Count;
        }
        foreach (var e in store.EdgeTypes)
        {
            var src = store.Nodes(e.Type.Src);
            var dst = store.Nodes(e.Type.Dst);
            using var w = new HiveEdgeTableWriter(output, e.Type.Relation, dt);
            var outCsr = e.Out;
            for (var s = 0; s < outCsr.RowCount; s++)
            {
                var start = (int)outCsr.Offsets[s];
                var row = outCsr.Row(s);
                for (var j = 0; j < row.Length; j++)
                    w.Add(src.Ids.ToBusiness(s), dst.Ids.ToBusiness(row[j]), e.Type.Src.Name, e.Type.Dst.Name, e.Data.Weight(outCsr.EdgeIdAt(start + j)));
            }
            w.Complete();
            rows[w.Table] = e.Count;
        }
        return new ImportSummary(rows, []);
    }

    /// <summary>The decoder a typed header implies (see the class remarks).</summary>
    public static Decoder InferDecoder(string path)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new GraphInputException(path, 1, null, "the file is empty; a typed header is expected.");
        var names = header.Split('\t').Select(h => h.Split(':')[0].Trim()).ToArray();
        var weighted = names.Contains("weight");
        var labeled = names.Contains("label");
        var attrAt = Array.IndexOf(names, "attributes");
        string[]? types = null;
        if (attrAt >= 0)
        {
            var first = reader.ReadLine() ?? throw new GraphInputException(path, 2, "attributes", "no data line to count the attributes from.");
            var cols = first.Split('\t');
            if (attrAt >= cols.Length) throw new GraphInputException(path, 2, "attributes", "the line has no attributes column.");
            types = Enumerable.Repeat("float", cols[attrAt].Split(':').Length).ToArray();
        }
        return new Decoder(weighted, labeled, types);
    }
}
