// Mini-batches as plain arrays: blocks (DGL's message-flow graphs), input node ids and features, labels, pair graphs.
using GraphActors.Contracts;

namespace GraphActors.Sampling;

/// <summary>The edges of one canonical type in a block: edge i goes from source node <c>SrcLocal[i]</c> (an index into
/// the block's source nodes of the source type) to destination node <c>DstLocal[i]</c> (an index into its destination
/// nodes of the destination type). <see cref="Weights"/> is null unless weights were asked for.</summary>
public sealed record BlockEdges(CanonicalEdgeType Type, int[] SrcLocal, int[] DstLocal, float[]? Weights)
{
    public int Count => SrcLocal.Length;
}

/// <summary>
/// One layer's bipartite message-flow graph, as DGL's <c>to_block</c> makes it. Per node type (in schema order):
/// the source node ids (global per type), the first <see cref="NumDst"/> of which are the destination nodes.
/// Per canonical edge type (schema order): the edges, in local indices. Messages flow src → dst.
/// </summary>
public sealed class Block
{
    public Block(IReadOnlyList<NodeType> nodeTypes, int[][] srcNodes, int[] numDst, BlockEdges[] edges)
    {
        NodeTypes = nodeTypes; SrcNodes = srcNodes; NumDst = numDst; Edges = edges;
    }

    public IReadOnlyList<NodeType> NodeTypes { get; }
    /// <summary>Indexed like <see cref="NodeTypes"/>.</summary>
    public int[][] SrcNodes { get; }
    /// <summary>Indexed like <see cref="NodeTypes"/>.</summary>
    public int[] NumDst { get; }
    /// <summary>Indexed like the store schema's edge types.</summary>
    public BlockEdges[] Edges { get; }

    public int IndexOf(NodeType type)
    {
        for (var i = 0; i < NodeTypes.Count; i++) if (NodeTypes[i] == type) return i;
        throw new KeyNotFoundException($"The block has no node type '{type}'.");
    }

    public int[] SrcIds(NodeType type) => SrcNodes[IndexOf(type)];
    public ReadOnlySpan<int> DstIds(NodeType type) { var t = IndexOf(type); return SrcNodes[t].AsSpan(0, NumDst[t]); }
    public int NumSrcOf(NodeType type) => SrcNodes[IndexOf(type)].Length;
    public int NumDstOf(NodeType type) => NumDst[IndexOf(type)];

    public BlockEdges EdgesOf(CanonicalEdgeType type)
    {
        foreach (var e in Edges) if (e.Type == type) return e;
        throw new KeyNotFoundException($"The block has no edge type {type}.");
    }

    public long EdgeCount { get { long n = 0; foreach (var e in Edges) n += e.Count; return n; } }
}

/// <summary>
/// What a trainer steps on: <see cref="Blocks"/> in DGL order (blocks[0] is the input layer, the last block's
/// destination nodes are the seeds); per node type (schema order) the input node ids (= blocks[0]'s source nodes), their
/// features row-major (null when the type has none or gathering was off; from a pool the array can be longer than
/// rows × dim, only the first rows × dim count), and the seeds' labels (null when unlabelled).
/// </summary>
public sealed class MiniBatch
{
    public MiniBatch(Block[] blocks, float[]?[] inputFeatures, int[] featureDims, int[]?[] labels)
    {
        Blocks = blocks; InputFeatures = inputFeatures; FeatureDims = featureDims; Labels = labels;
    }

    public Block[] Blocks { get; }
    public IReadOnlyList<NodeType> NodeTypes => Blocks[0].NodeTypes;
    public int[][] InputNodes => Blocks[0].SrcNodes;
    public float[]?[] InputFeatures { get; }
    public int[] FeatureDims { get; }
    /// <summary>Per node type, the labels of the seeds (the last block's destination nodes), or null.</summary>
    public int[]?[] Labels { get; }

    public int[] InputIds(NodeType type) => Blocks[0].SrcIds(type);
    public ReadOnlySpan<int> SeedIds(NodeType type) => Blocks[^1].DstIds(type);
    public float[]? Features(NodeType type) => InputFeatures[Blocks[0].IndexOf(type)];

    /// <summary>
    /// Gives the feature arrays back to the pool the sampler rented them from (<see cref="BlockSamplerOptions.FeaturePool"/>)
    /// and clears them from this batch. Call once their contents are copied (into tensors); the batch has no features after.
    /// </summary>
    public void ReturnFeatures(System.Buffers.ArrayPool<float> pool)
    {
        for (var t = 0; t < InputFeatures.Length; t++)
        {
            if (InputFeatures[t] is { } f) pool.Return(f);
            InputFeatures[t] = null;
        }
    }
    public int[]? LabelsOf(NodeType type) => Labels[Blocks[0].IndexOf(type)];
    public long EdgeCount { get { long n = 0; foreach (var b in Blocks) n += b.EdgeCount; return n; } }
}

/// <summary>
/// A link-prediction batch (DGL's EdgeDataLoader output): the pair graph of positive edges of <see cref="Type"/> and
/// k negatives per positive, as local indices into the seeds of <see cref="Graph"/> (its last block's destination
/// nodes of <c>Type.Src</c> and <c>Type.Dst</c>), and the blocks for every node the pairs touch. Negative pair
/// <c>i·k + j</c> corrupts positive i's destination.
/// </summary>
public sealed class LinkBatch
{
    public LinkBatch(CanonicalEdgeType type, MiniBatch graph, int[] posSrc, int[] posDst, int[] negSrc, int[] negDst, int negativesPerPositive, NegativeSampleStats negativeStats)
    {
        Type = type; Graph = graph; PosSrc = posSrc; PosDst = posDst; NegSrc = negSrc; NegDst = negDst;
        NegativesPerPositive = negativesPerPositive; NegativeStats = negativeStats;
    }

    public CanonicalEdgeType Type { get; }
    public MiniBatch Graph { get; }
    public int[] PosSrc { get; }
    public int[] PosDst { get; }
    public int[] NegSrc { get; }
    public int[] NegDst { get; }
    public int NegativesPerPositive { get; }
    public NegativeSampleStats NegativeStats { get; }
}
