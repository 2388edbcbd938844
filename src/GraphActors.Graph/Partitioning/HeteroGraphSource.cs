// An in-memory HeteroGraph read as a partition source (tests, the GraphLearn builder's output).
using GraphActors.Contracts;

namespace GraphActors.Graph.Partitioning;

/// <summary>
/// Reads a <see cref="HeteroGraph"/> as it is: its dense ids, business ids, float attributes as features and labels;
/// every materialised edge type (including GraphLearn's <c>_reverse</c> types) as a canonical edge type.
/// The graph has no masks; pass them per node type to have them partitioned too. With <c>allColumns</c> it also hands
/// over every other column the graph holds (node weights, int and string attributes; edge ids, labels and attributes),
/// so the store keeps what a GraphLearn graph loaded; without it the store is what a CGDF source gives.
/// </summary>
public sealed class HeteroGraphSource : IPartitionSource
{
    private readonly HeteroGraph _graph;
    private readonly int _chunk;
    private readonly IReadOnlyDictionary<NodeType, (byte[] Train, byte[] Val, byte[] Test)> _masks;

    public HeteroGraphSource(HeteroGraph graph, int chunkSize = 1 << 16,
        IReadOnlyDictionary<NodeType, (byte[] Train, byte[] Val, byte[] Test)>? masks = null, bool allColumns = false,
        IReadOnlyDictionary<NodeType, string>? maskSources = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _graph = graph;
        _chunk = chunkSize;
        _masks = masks ?? new Dictionary<NodeType, (byte[], byte[], byte[])>();
        NodeTypes = graph.NodeTypes.Select(n => new SourceNodeType(n.Type, n.Count, n.Schema.FeatureDim,
            n.Schema.Labeled ? Math.Max(n.Schema.LabelCount, 0) : 0, _masks.ContainsKey(n.Type))
        {
            Columns = allColumns
                ? new NodeColumns(n.Schema.Weighted, n.Schema.Attributes.IntCount, n.Schema.Attributes.StringCount, maskSources?.GetValueOrDefault(n.Type))
                : NodeColumns.None,
        }).ToArray();
        // Edge ids are positions in the pass, and a pass walks the out-CSR: an edge's stored id is the graph's own edge id.
        EdgeTypes = graph.EdgeTypes.Select(e => new SourceEdgeType(e.Type, e.Count)
        {
            Columns = allColumns
                ? new EdgeColumns(true, e.Schema.Weighted, e.Schema.Labeled, e.Schema.Attributes.IntCount, e.Schema.Attributes.FloatCount, e.Schema.Attributes.StringCount,
                    e.Schema.Directed)
                : EdgeColumns.None,
        }).ToArray();
        _columns = NodeTypes.Any(n => n.Columns.Any) || EdgeTypes.Any(e => e.Columns.Any);
    }

    private readonly bool _columns;

    public IReadOnlyList<SourceNodeType> NodeTypes { get; }
    public IReadOnlyList<SourceEdgeType> EdgeTypes { get; }

    public IEnumerable<EdgeChunk> ReadEdges(CanonicalEdgeType type)
    {
        var edges = _graph.Edges(type);
        var csr = edges.Out;
        var n = csr.EdgeCount;
        for (var start = 0; start < n; start += _chunk)
        {
            var len = Math.Min(_chunk, n - start);
            var src = new int[len];
            var row = csr.RowOfEntry(start);
            for (var i = 0; i < len; i++)
            {
                while (csr.Offsets[row + 1] <= start + i) row++;
                src[i] = row;
            }
            var weights = edges.Data.HasWeights ? edges.Data.Weights.Slice(start, len) : Ones(len);
            var chunk = new EdgeChunk(src, csr.NeighborsMemory.Slice(start, len), weights);
            if (_columns)
            {
                var data = edges.Data;
                var a = data.Schema;
                chunk = chunk with
                {
                    Labels = data.HasLabels ? data.Labels.Slice(start, len) : default,
                    Ints = data.Ints.Slice(start * a.IntCount, len * a.IntCount),
                    Floats = a.FloatCount > 0 ? data.Floats.Data.Slice(start * a.FloatCount, len * a.FloatCount) : default,
                    Strings = Strings(data, start, len),
                };
            }
            yield return chunk;
        }
    }

    public IEnumerable<NodeChunk> ReadNodes(NodeType type)
    {
        var nodes = _graph.Nodes(type);
        var n = nodes.Count;
        var dim = nodes.Schema.FeatureDim;
        var business = nodes.Ids.BusinessIds.ToArray();
        _masks.TryGetValue(type, out var masks);
        for (var start = 0; start < n; start += _chunk)
        {
            var len = Math.Min(_chunk, n - start);
            var ids = new int[len];
            for (var i = 0; i < len; i++) ids[i] = start + i;
            var chunk = new NodeChunk(ids, business.AsMemory(start, len),
                dim == 0 ? ReadOnlyMemory<float>.Empty : nodes.Features.Data.Slice(start * dim, len * dim),
                nodes.Data.HasLabels ? nodes.Data.Labels.Slice(start, len) : ReadOnlyMemory<int>.Empty,
                masks.Train is null ? default : masks.Train.AsMemory(start, len),
                masks.Val is null ? default : masks.Val.AsMemory(start, len),
                masks.Test is null ? default : masks.Test.AsMemory(start, len));
            if (_columns)
            {
                var data = nodes.Data;
                var a = data.Schema;
                chunk = chunk with
                {
                    Weights = data.HasWeights ? data.Weights.Slice(start, len) : default,
                    Ints = data.Ints.Slice(start * a.IntCount, len * a.IntCount),
                    Strings = Strings(data, start, len),
                };
            }
            yield return chunk;
        }
    }

    // Rows start .. start + len of the string attributes, as UTF-8: one buffer per chunk, never a copy per value.
    private static Utf8Column Strings(ElementData data, int start, int len)
    {
        var k = data.Schema.StringCount;
        return k > 0 ? Utf8Column.Encode(data.Strings.Span.Slice(start * k, len * k)) : default;
    }

    private static float[] Ones(int n)
    {
        var a = new float[n];
        Array.Fill(a, 1f);
        return a;
    }
}
