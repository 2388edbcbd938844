using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// Heterogeneous GAT: per layer a <see cref="HeteroConv"/> of one <see cref="GatConv"/> per relation.
/// Hidden layers concatenate <see cref="ModelConfig.Heads"/> heads of <see cref="ModelConfig.HiddenChannels"/>;
/// the output layer averages <see cref="ModelConfig.OutputHeads"/> heads. Dropout is the convolutions'
/// feature dropout (on every layer's input, as in DGL's GAT example), so none is added between layers.
/// </summary>
public sealed class HeteroGAT : HeteroGnn
{
    private readonly InputEncoder input;
    private readonly ModuleList<HeteroConv> layers;
    private readonly ModuleList<TypeWiseNorm> norms;

    public HeteroGAT(ModelConfig config, string name = nameof(HeteroGAT))
        : base(name, config)
    {
        input = new InputEncoder(config);
        layers = new ModuleList<HeteroConv>();
        norms = new ModuleList<TypeWiseNorm>();
        var attnDrop = config.AttentionDropout ?? config.Dropout;
        IReadOnlyDictionary<string, long> dims = input.OutDims;
        for (var l = 0; l < config.NumLayers; l++)
        {
            var last = l == config.NumLayers - 1;
            var featDrop = l == 0 ? config.ResolvedInputDropout : config.Dropout;
            var convs = new Dictionary<RelationKey, nn.Module>();
            foreach (var r in config.Relations)
            {
                convs[r] = last
                    ? new GatConv(dims[r.Src], dims[r.Dst], config.OutDim, config.OutputHeads, concatHeads: false, featDrop, attnDrop, residual: config.Residual, selfLoops: config.SelfLoops)
                    : new GatConv(dims[r.Src], dims[r.Dst], config.HiddenChannels, config.Heads, concatHeads: true, featDrop, attnDrop, residual: config.Residual, selfLoops: config.SelfLoops);
            }
            var layer = new HeteroConv(convs, config.CrossRelationAggregation, dims);
            layers.Add(layer);
            if (!last)
                norms.Add(new TypeWiseNorm(config.Normalization, NodeTypes, layer.OutDim));
            dims = NodeTypes.ToDictionary(t => t, _ => layer.OutDim);
        }
        RegisterComponents();
    }

    public override Dictionary<string, Tensor> forward(IReadOnlyList<Block> blocks, Dictionary<string, Tensor> inputFeaturesBySrcType)
    {
        CheckBlocks(blocks);
        var h = input.forward(blocks[0], inputFeaturesBySrcType);
        for (var l = 0; l < layers.Count; l++)
        {
            if (l > 0)
                CheckChaining(h, blocks[l], l);
            h = layers[l].forward(blocks[l], h);
            if (l < layers.Count - 1)
                h = Activations.Apply(Config.Activation, norms[l].forward(h));
        }
        return h;
    }
}
