// An in-memory HeteroGraph read as a partition source (tests, the GraphLearn builder's output).
using GraphActors.Contracts;

namespace GraphActors.Graph.Partitioning;

/// <summary>
/// Reads a <see cref="HeteroGraph"/> as it is: its dense ids, business ids, float attributes as features and labels;
/// every materialised edge type (including GraphLearn's <c>_reverse</c> types) as a canonical edge type.
/// The graph has no masks; pass them per node type to have them partitioned too.
/// </summary>
public sealed class HeteroGraphSource : IPartitionSource
{
    private readonly HeteroGraph _graph;
    private readonly int _chunk;
    private readonly IReadOnlyDictionary<NodeType, (byte[] Train, byte[] Val, byte[] Test)> _masks;

    public HeteroGraphSource(HeteroGraph graph, int chunkSize = 1 << 16,
        IReadOnlyDictionary<NodeType, (byte[] Train, byte[] Val, byte[] Test)>? masks = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _graph = graph;
        _chunk = chunkSize;
        _masks = masks ?? new Dictionary<NodeType, (byte[], byte[], byte[])>();
        NodeTypes = graph.NodeTypes.Select(n => new SourceNodeType(n.Type, n.Count, n.Schema.FeatureDim,
            n.Schema.Labeled ? Math.Max(n.Schema.LabelCount, 0) : 0, _masks.ContainsKey(n.Type))).ToArray();
        EdgeTypes = graph.EdgeTypes.Select(e => new SourceEdgeType(e.Type, e.Count)).ToArray();
    }

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
            var row = RowOf(csr.Offsets, start);
            for (var i = 0; i < len; i++)
            {
                while (csr.Offsets[row + 1] <= start + i) row++;
                src[i] = row;
            }
            var weights = edges.Data.HasWeights ? edges.Data.Weights.Slice(start, len) : Ones(len);
            yield return new EdgeChunk(src, csr.NeighborsMemory.Slice(start, len), weights);
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
            yield return new NodeChunk(ids, business.AsMemory(start, len),
                dim == 0 ? ReadOnlyMemory<float>.Empty : nodes.Features.Data.Slice(start * dim, len * dim),
                nodes.Data.HasLabels ? nodes.Data.Labels.Slice(start, len) : ReadOnlyMemory<int>.Empty,
                masks.Train is null ? default : masks.Train.AsMemory(start, len),
                masks.Val is null ? default : masks.Val.AsMemory(start, len),
                masks.Test is null ? default : masks.Test.AsMemory(start, len));
        }
    }

    private static int RowOf(ReadOnlySpan<long> offsets, long position)
    {
        // The last row whose start is ≤ position (rows may be empty).
        int lo = 0, hi = offsets.Length - 2;
        while (lo < hi)
        {
            var mid = (lo + hi + 1) >> 1;
            if (offsets[mid] <= position) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    private static float[] Ones(int n)
    {
        var a = new float[n];
        Array.Fill(a, 1f);
        return a;
    }
}
