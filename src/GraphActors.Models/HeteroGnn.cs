// What the three models share: the signature, block checks and the between-layer stage.
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// A model over a list of blocks, one per layer, from the input hop to the seeds. It takes the
/// input features per source node type of the first block and returns the outputs per destination
/// type of the last block. It knows nothing of where the blocks came from.
/// </summary>
public abstract class HeteroGnn : nn.Module<IReadOnlyList<Block>, Dictionary<string, Tensor>, Dictionary<string, Tensor>>
{
    protected HeteroGnn(string name, ModelConfig config)
        : base(name)
    {
        config.Validate();
        Config = config;
    }

    public ModelConfig Config { get; }

    /// <summary>All node types of the config, in ordinal order.</summary>
    protected IEnumerable<string> NodeTypes => Config.InDims.Keys.OrderBy(t => t, StringComparer.Ordinal);

    protected void CheckBlocks(IReadOnlyList<Block> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count != Config.NumLayers)
            throw new ArgumentException($"The model has {Config.NumLayers} layers but got {blocks.Count} blocks.", nameof(blocks));
    }

    /// <summary>Checks that the previous layer's outputs fit the next block's sources (DGL: block i's destinations are block i+1's sources).</summary>
    protected static void CheckChaining(Dictionary<string, Tensor> h, Block next, int layer)
    {
        foreach (var (type, x) in h)
        {
            if (next.NumSrcNodes.TryGetValue(type, out var numSrc) && x.size(0) != numSrc)
                throw new ArgumentException($"Block {layer} expects {numSrc} source nodes of type '{type}', the previous layer produced {x.size(0)}.");
        }
    }

    protected static Dictionary<string, Tensor> Dropout(Dictionary<string, Tensor> h, double p, bool training) =>
        p <= 0 || !training ? h : h.ToDictionary(kv => kv.Key, kv => FastDropout.Apply(kv.Value, p, training));
}
