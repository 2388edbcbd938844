// Turns the input features of the first block into per-type tensors, inventing inputs for featureless types.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// Passes given features through and gives each featureless node type (input size 0) a learnable
/// input: an embedding table by node id when its node count is known, else one learnable constant
/// row for the whole type (see <see cref="ModelConfig"/>).
/// </summary>
public sealed class InputEncoder : nn.Module<Block, Dictionary<string, Tensor>, Dictionary<string, Tensor>>
{
    private readonly ModuleDict<Embedding> embeddings;
    private readonly Dictionary<string, int> inDims;
    private readonly HashSet<string> constantTypes = new(StringComparer.Ordinal);

    public InputEncoder(ModelConfig config, string name = nameof(InputEncoder))
        : base(name)
    {
        inDims = new Dictionary<string, int>(config.InDims);
        embeddings = new ModuleDict<Embedding>();
        var outDims = new Dictionary<string, long>();
        foreach (var (type, dim) in config.InDims.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (dim > 0)
            {
                outDims[type] = dim;
                continue;
            }
            var embeddingDim = config.ResolvedEmbeddingDim;
            outDims[type] = embeddingDim;
            if (config.NumNodes is not null && config.NumNodes.TryGetValue(type, out var count))
            {
                embeddings.Add(type, nn.Embedding(count, embeddingDim));
            }
            else
            {
                embeddings.Add(type, nn.Embedding(1, embeddingDim));
                constantTypes.Add(type);
            }
        }
        OutDims = outDims;
        RegisterComponents();
    }

    /// <summary>Width of the encoded input per node type.</summary>
    public IReadOnlyDictionary<string, long> OutDims { get; }

    public override Dictionary<string, Tensor> forward(Block first, Dictionary<string, Tensor> features)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (type, numSrc) in first.NumSrcNodes)
        {
            if (!inDims.TryGetValue(type, out var dim))
                throw new ArgumentException($"The block has node type '{type}', which the model config does not list.");
            if (dim > 0)
            {
                if (!features.TryGetValue(type, out var feat))
                    throw new ArgumentException($"No input features for node type '{type}' ({numSrc} source nodes, size {dim} expected).");
                if (feat.dim() != 2 || feat.size(0) != numSrc || feat.size(1) != dim)
                    throw new ArgumentException($"Node type '{type}': expected input features [{numSrc}, {dim}], got [{string.Join(", ", feat.shape)}].");
                result[type] = feat;
                continue;
            }

            var table = embeddings[type];
            Tensor ids;
            if (constantTypes.Contains(type))
                ids = zeros(numSrc, dtype: ScalarType.Int64);
            else if (first.SrcNodeIds.TryGetValue(type, out var globalIds))
                ids = globalIds;
            else
                ids = arange(numSrc, dtype: ScalarType.Int64);
            result[type] = table.forward(ids);
        }
        return result;
    }
}
