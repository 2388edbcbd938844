using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// R-GCN: a stack of <see cref="RelGraphConv"/> layers sharing <see cref="ModelConfig.NumBases"/> bases
/// per layer. R-GCN needs one input width for all node types: when the encoded inputs differ in
/// width, each type is first projected to <see cref="ModelConfig.HiddenChannels"/> by its own linear
/// map; when they agree (always so for a homogeneous graph) the inputs go in unchanged.
/// </summary>
public sealed class RGCN : HeteroGnn
{
    private readonly InputEncoder input;
    private readonly ModuleDict<Linear> input_projections;
    private readonly ModuleList<RelGraphConv> layers;
    private readonly ModuleList<TypeWiseNorm> norms;

    public RGCN(ModelConfig config, string name = nameof(RGCN))
        : base(name, config)
    {
        input = new InputEncoder(config);
        input_projections = new ModuleDict<Linear>();
        layers = new ModuleList<RelGraphConv>();
        norms = new ModuleList<TypeWiseNorm>();

        var widths = input.OutDims.Values.Distinct().ToList();
        long inDim;
        if (widths.Count == 1)
        {
            inDim = widths[0];
        }
        else
        {
            inDim = config.HiddenChannels;
            foreach (var (type, width) in input.OutDims.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                input_projections.Add(type, nn.Linear(width, inDim));
        }
        for (var l = 0; l < config.NumLayers; l++)
        {
            var outDim = l == config.NumLayers - 1 ? config.OutDim : config.HiddenChannels;
            layers.Add(new RelGraphConv(inDim, outDim, config.Relations, config.NumBases, config.SelfLoop));
            if (l < config.NumLayers - 1)
                norms.Add(new TypeWiseNorm(config.Normalization, NodeTypes, outDim));
            inDim = outDim;
        }
        RegisterComponents();
    }

    public override Dictionary<string, Tensor> forward(IReadOnlyList<Block> blocks, Dictionary<string, Tensor> inputFeaturesBySrcType)
    {
        CheckBlocks(blocks);
        var h = input.forward(blocks[0], inputFeaturesBySrcType);
        if (input_projections.Count > 0)
            h = h.ToDictionary(kv => kv.Key, kv => input_projections[kv.Key].forward(kv.Value));
        h = Dropout(h, Config.ResolvedInputDropout, training);
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
