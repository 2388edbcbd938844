// A generated graph with planted communities, streamed chunk by chunk (nothing resident): the partition benchmark's input.
using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;

namespace GraphActors.Cli.Bench;

/// <summary>
/// One node type <c>v</c> of <paramref name="nodes"/> nodes in communities of <paramref name="communitySize"/>; each
/// edge picks a uniform source and, with probability <paramref name="intra"/>, a destination in the same community,
/// otherwise a uniform one. Business id = dense id; features are a hash of the id; label = community mod 10.
/// Every pass regenerates the same data from the seed.
/// </summary>
public sealed class PlantedCommunitySource(int nodes, long edges, int featureDim = 16, int communitySize = 1000, double intra = 0.9, int seed = 1)
    : IPartitionSource
{
    private const int Chunk = 1 << 16;
    public static readonly CanonicalEdgeType EdgeType = new("v", "e", "v");

    public IReadOnlyList<SourceNodeType> NodeTypes { get; } = [new("v", nodes, featureDim, 10, HasMasks: false)];
    public IReadOnlyList<SourceEdgeType> EdgeTypes { get; } = [new(EdgeType, edges)];

    public IEnumerable<EdgeChunk> ReadEdges(CanonicalEdgeType type)
    {
        var src = new int[Chunk];
        var dst = new int[Chunk];
        var w = new float[Chunk];
        Array.Fill(w, 1f);
        var c = 0;
        for (long start = 0; start < edges; start += Chunk, c++)
        {
            var rng = new Random(HashCode.Combine(seed, c));
            var len = (int)Math.Min(Chunk, edges - start);
            for (var i = 0; i < len; i++)
            {
                var u = rng.Next(nodes);
                int v;
                if (rng.NextDouble() < intra)
                {
                    var cs = u / communitySize * communitySize;
                    v = cs + rng.Next(Math.Min(communitySize, nodes - cs));
                }
                else v = rng.Next(nodes);
                src[i] = u;
                dst[i] = v;
            }
            // Chunks are consumed before the next is produced, so the buffers are reused.
            yield return new EdgeChunk(src.AsMemory(0, len), dst.AsMemory(0, len), w.AsMemory(0, len));
        }
    }

    public IEnumerable<NodeChunk> ReadNodes(NodeType type)
    {
        var ids = new int[Chunk];
        var business = new long[Chunk];
        var labels = new int[Chunk];
        var features = new float[Chunk * featureDim];
        for (var start = 0; start < nodes; start += Chunk)
        {
            var len = Math.Min(Chunk, nodes - start);
            for (var i = 0; i < len; i++)
            {
                var v = start + i;
                ids[i] = v;
                business[i] = v;
                labels[i] = v / communitySize % 10;
                for (var d = 0; d < featureDim; d++) features[i * featureDim + d] = (v * 31 + d) % 97 / 97f;
            }
            yield return new NodeChunk(ids.AsMemory(0, len), business.AsMemory(0, len), features.AsMemory(0, len * featureDim), labels.AsMemory(0, len));
        }
    }
}
