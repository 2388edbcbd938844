using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// Heterogeneous GraphSAGE: per layer a <see cref="HeteroConv"/> of one <see cref="SageConv"/> per
/// relation; dropout on the input and after every hidden layer, as in DGL's GraphSAGE example, with
/// optional normalisation and the configured activation between layers.
/// </summary>
public sealed class HeteroGraphSAGE : HeteroGnn
{
    private readonly InputEncoder input;
    private readonly ModuleList<HeteroConv> layers;
    private readonly ModuleList<TypeWiseNorm> norms;

    public HeteroGraphSAGE(ModelConfig config, string name = nameof(HeteroGraphSAGE))
        : base(name, config)
    {
        input = new InputEncoder(config);
        layers = new ModuleList<HeteroConv>();
        norms = new ModuleList<TypeWiseNorm>();
        IReadOnlyDictionary<string, long> dims = input.OutDims;
        for (var l = 0; l < config.NumLayers; l++)
        {
            var outDim = l == config.NumLayers - 1 ? config.OutDim : config.HiddenChannels;
            var convs = new Dictionary<RelationKey, nn.Module>();
            foreach (var r in config.Relations)
                convs[r] = new SageConv(dims[r.Src], dims[r.Dst], outDim, config.Aggregator);
            layers.Add(new HeteroConv(convs, config.CrossRelationAggregation, dims));
            if (l < config.NumLayers - 1)
                norms.Add(new TypeWiseNorm(config.Normalization, NodeTypes, outDim));
            dims = NodeTypes.ToDictionary(t => t, _ => (long)outDim);
        }
        RegisterComponents();
    }

    public override Dictionary<string, Tensor> forward(IReadOnlyList<Block> blocks, Dictionary<string, Tensor> inputFeaturesBySrcType)
    {
        CheckBlocks(blocks);
        var h = Dropout(input.forward(blocks[0], inputFeaturesBySrcType), Config.ResolvedInputDropout, training);
        for (var l = 0; l < layers.Count; l++)
        {
            if (l > 0)
                CheckChaining(h, blocks[l], l);
            h = layers[l].forward(blocks[l], h);
            if (l < layers.Count - 1)
                h = Dropout(Activations.Apply(Config.Activation, norms[l].forward(h)), Config.Dropout, training);
        }
        return h;
    }
}
