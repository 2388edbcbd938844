// CGDF as the partitioner's input: metadata for the counts, row groups streamed as chunks.
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Graph.Cgdf;

/// <summary>
/// Reads a CGDF directory for <see cref="GraphPartitioner"/>. Node and edge ids are CGDF's per-type dense ids
/// (global id minus the type's range start); one row group is resident at a time.
/// </summary>
public sealed class CgdfPartitionSource : IPartitionSource
{
    private readonly CgdfReader _reader;

    public CgdfPartitionSource(string directory)
    {
        _reader = CgdfReader.Open(directory);
        NodeTypes = _reader.Metadata.NodeTypes
            .Select(n => new SourceNodeType(n.Name, checked((int)n.Count), n.FeatureDim, n.LabelCount, n.HasMasks))
            .ToArray();
        EdgeTypes = _reader.Metadata.EdgeTypes.Select(e => new SourceEdgeType(e.Type, e.Count)).ToArray();
    }

    public IReadOnlyList<SourceNodeType> NodeTypes { get; }
    public IReadOnlyList<SourceEdgeType> EdgeTypes { get; }

    public IEnumerable<EdgeChunk> ReadEdges(CanonicalEdgeType type)
    {
        foreach (var c in _reader.ReadEdges(type))
            yield return new EdgeChunk(c.Src.AsMemory(0, c.Count), c.Dst.AsMemory(0, c.Count), c.Weights.AsMemory(0, c.Count));
    }

    public IEnumerable<NodeChunk> ReadNodes(NodeType type)
    {
        var start = _reader.Metadata.Node(type.Name).GlobalIdStart;
        foreach (var c in _reader.ReadNodes(type.Name))
        {
            var dense = new int[c.Count];
            for (var i = 0; i < dense.Length; i++) dense[i] = checked((int)(c.GlobalIds[i] - start));
            yield return c.Train is null
                ? new NodeChunk(dense, c.NodeIds.AsMemory(0, c.Count), c.Features.AsMemory(0, c.Count * c.Dim), c.Labels.AsMemory(0, c.Count))
                : new NodeChunk(dense, c.NodeIds.AsMemory(0, c.Count), c.Features.AsMemory(0, c.Count * c.Dim), c.Labels.AsMemory(0, c.Count),
                    AsBytes(c.Train, c.Count), AsBytes(c.Val!, c.Count), AsBytes(c.Test!, c.Count));
        }
    }

    private static byte[] AsBytes(bool[] mask, int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++) bytes[i] = mask[i] ? (byte)1 : (byte)0;
        return bytes;
    }
}
