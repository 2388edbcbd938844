// Runs one convolution per relation of a block and combines the results per destination type.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>How <see cref="HeteroConv"/> combines the outputs of the relations that reach one destination type.</summary>
public enum CrossRelationAggregation
{
    /// <summary>Elementwise sum over relations (DGL's <c>aggregate='sum'</c>).</summary>
    Sum,

    /// <summary>Elementwise mean over the relations that produced an output (DGL's <c>aggregate='mean'</c>).</summary>
    Mean,
}

/// <summary>
/// DGL's HeteroGraphConv: a convolution per canonical edge type (each an <see cref="IRelationConv"/>),
/// run on the relation's edges with the source type's features as sources and the destination type's
/// first rows as destinations, then summed or averaged per destination type.
/// </summary>
/// <remarks>
/// A relation the block lacks (or whose types the block lacks) is run with no edges, so its
/// destinations still get the convolution's self part. A node type that no relation of this module
/// reaches would otherwise vanish after the layer (DGL drops it); here it keeps a self transform, a
/// bias-free linear map of its own features, so that later layers and the output still see it. Such
/// types are the ones listed in the constructor's input sizes that are the destination of no relation.
/// </remarks>
public sealed class HeteroConv : nn.Module<Block, Dictionary<string, Tensor>, Dictionary<string, Tensor>>
{
    private readonly ModuleDict<nn.Module> convs;
    private readonly ModuleDict<Linear> self_transforms;
    private readonly Dictionary<string, RelationKey> relationsByModuleName;

    /// <param name="convsByRelation">One module per relation; each must implement <see cref="IRelationConv"/> and all must share one output size.</param>
    /// <param name="aggregation">How to combine relations reaching the same destination type.</param>
    /// <param name="inDimsByNodeType">Input feature size per node type; types no relation reaches get a self transform from it.</param>
    public HeteroConv(IReadOnlyDictionary<RelationKey, nn.Module> convsByRelation, CrossRelationAggregation aggregation = CrossRelationAggregation.Sum,
        IReadOnlyDictionary<string, long>? inDimsByNodeType = null, string name = nameof(HeteroConv))
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(convsByRelation);
        if (convsByRelation.Count == 0)
            throw new ArgumentException("HeteroConv needs at least one relation.", nameof(convsByRelation));
        Aggregation = aggregation;
        convs = new ModuleDict<nn.Module>();
        relationsByModuleName = new Dictionary<string, RelationKey>();
        long? outDim = null;
        foreach (var (key, module) in convsByRelation.OrderBy(kv => kv.Key.ModuleName, StringComparer.Ordinal))
        {
            if (module is not IRelationConv relationConv)
                throw new ArgumentException($"The module for {key} ({module.GetType().Name}) does not implement {nameof(IRelationConv)}.", nameof(convsByRelation));
            if (outDim is not null && outDim != relationConv.OutDim)
                throw new ArgumentException($"Relations must share one output size: {key} gives {relationConv.OutDim}, others {outDim}.", nameof(convsByRelation));
            outDim = relationConv.OutDim;
            convs.Add(key.ModuleName, module);
            relationsByModuleName[key.ModuleName] = key;
        }
        OutDim = outDim!.Value;

        self_transforms = new ModuleDict<Linear>();
        var reached = convsByRelation.Keys.Select(k => k.Dst).ToHashSet();
        if (inDimsByNodeType is not null)
        {
            foreach (var (type, inDim) in inDimsByNodeType.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (!reached.Contains(type))
                    self_transforms.Add(type, nn.Linear(inDim, OutDim, hasBias: false));
            }
        }
        RegisterComponents();
    }

    public CrossRelationAggregation Aggregation { get; }

    public long OutDim { get; }

    public IEnumerable<RelationKey> Relations => relationsByModuleName.Values;

    /// <param name="block">The block of this layer.</param>
    /// <param name="srcFeatures">[numSrc, inDim] per source node type of the block.</param>
    /// <returns>[numDst, OutDim] per destination type that some relation or a self transform reaches.</returns>
    public override Dictionary<string, Tensor> forward(Block block, Dictionary<string, Tensor> srcFeatures)
    {
        var perType = new Dictionary<string, List<Tensor>>();
        foreach (var (moduleName, module) in convs)
        {
            var key = relationsByModuleName[moduleName];
            if (!srcFeatures.TryGetValue(key.Src, out var srcFeat) || !srcFeatures.TryGetValue(key.Dst, out var dstSource))
                continue;
            if (!block.NumDstNodes.TryGetValue(key.Dst, out var numDst))
                continue;
            var edges = block.Edges.TryGetValue(key, out var e) ? e : NoEdges(srcFeat.device, srcFeat.size(0), numDst);
            var output = ((IRelationConv)module).Forward(srcFeat, dstSource.narrow(0, 0, numDst), edges, dstIsSrcPrefix: key.Src == key.Dst);
            if (!perType.TryGetValue(key.Dst, out var list))
                perType[key.Dst] = list = new List<Tensor>();
            list.Add(output);
        }

        var result = new Dictionary<string, Tensor>();
        foreach (var (type, outputs) in perType)
            result[type] = Combine(outputs);
        foreach (var (type, transform) in self_transforms)
        {
            if (result.ContainsKey(type) || !srcFeatures.TryGetValue(type, out var feat) || !block.NumDstNodes.TryGetValue(type, out var numDst))
                continue;
            result[type] = transform.forward(feat.narrow(0, 0, numDst));
        }
        return result;
    }

    private Tensor Combine(List<Tensor> outputs)
    {
        if (outputs.Count == 1)
            return outputs[0];
        var sum = outputs[0];
        for (var i = 1; i < outputs.Count; i++)
            sum = sum.Plus(outputs[i]);
        return Aggregation == CrossRelationAggregation.Mean ? sum / outputs.Count : sum;
    }

    private static BlockEdges NoEdges(Device device, long numSrc, long numDst) =>
        new(empty(0, dtype: ScalarType.Int64, device: device), empty(0, dtype: ScalarType.Int64, device: device), null, 0, numSrc, numDst);
}
