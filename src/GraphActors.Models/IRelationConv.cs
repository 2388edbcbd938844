using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// A convolution over the edges of one relation of a block, as <see cref="HeteroConv"/> runs it.
/// Implementations are <see cref="TorchSharp.torch.nn.Module"/>s.
/// </summary>
public interface IRelationConv
{
    /// <summary>Width of each output row.</summary>
    long OutDim { get; }

    /// <param name="srcFeat">[numSrc, inSrc] features of the relation's source type.</param>
    /// <param name="dstFeat">[numDst, inDst] features of the destination nodes (the first source rows of the destination type).</param>
    /// <param name="edges">The relation's edges in the block.</param>
    /// <param name="dstIsSrcPrefix">
    /// True when <paramref name="dstFeat"/> is the first rows of <paramref name="srcFeat"/> (a relation
    /// within one node type), so work on the source rows can be reused for the destinations, as DGL does
    /// for blocks.
    /// </param>
    /// <returns>[numDst, OutDim].</returns>
    Tensor Forward(Tensor srcFeat, Tensor dstFeat, BlockEdges edges, bool dstIsSrcPrefix = false);
}
