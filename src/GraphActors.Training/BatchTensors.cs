// MiniBatch (arrays) → Models.Block list and feature tensors: one tensor per array, made inside the caller's scope.
using GraphActors.Models;
using GraphActors.Sampling;
using TorchSharp;
using static TorchSharp.torch;
using ModelBlock = GraphActors.Models.Block;

namespace GraphActors.Training;

/// <summary>
/// The tensors of one mini-batch. The blocks own their index tensors (Models.Block keeps them out of dispose scopes),
/// so dispose this when the step is done; the feature tensors belong to the dispose scope active at creation.
/// </summary>
public sealed class BatchTensors : IDisposable
{
    private BatchTensors(List<ModelBlock> blocks, Dictionary<string, Tensor> features)
    {
        Blocks = blocks;
        Features = features;
    }

    public IReadOnlyList<ModelBlock> Blocks { get; }
    public Dictionary<string, Tensor> Features { get; }

    /// <summary>The model's name of a sampler relation.</summary>
    public static RelationKey Key(GraphActors.Contracts.CanonicalEdgeType t) => new(t.Src.Name, t.Relation, t.Dst.Name);

    public static BatchTensors From(MiniBatch batch, FeatureNormalization norm = FeatureNormalization.None)
    {
        var types = batch.NodeTypes;
        var blocks = new List<ModelBlock>(batch.Blocks.Length);
        try
        {
            foreach (var b in batch.Blocks)
            {
                var numSrc = new Dictionary<string, long>(types.Count);
                var numDst = new Dictionary<string, long>(types.Count);
                for (var t = 0; t < types.Count; t++)
                {
                    numSrc[types[t].Name] = b.SrcNodes[t].Length;
                    numDst[types[t].Name] = b.NumDst[t];
                }
                var edges = new Dictionary<RelationKey, RelationEdgesInt32>(b.Edges.Length);
                foreach (var e in b.Edges) edges[Key(e.Type)] = new RelationEdgesInt32(e.SrcLocal, e.DstLocal, e.Weights);
                blocks.Add(ModelBlock.CreateFromInt32(numSrc, numDst, edges));
            }
        }
        catch
        {
            foreach (var b in blocks) b.Dispose();
            throw;
        }
        var features = new Dictionary<string, Tensor>(types.Count);
        for (var t = 0; t < types.Count; t++)
        {
            var dim = batch.FeatureDims[t];
            var rows = batch.InputNodes[t].Length;
            // One copy into memory torch allocates; the source may be a pooled array longer than needed.
            // Row normalisation happens in that copy: two more passes over a wide batch cost as much as the copy.
            features[types[t].Name] = batch.InputFeatures[t] is not { } f ? zeros(rows, dim)
                : norm == FeatureNormalization.Row ? NativeTensors.Float32RowNormalised(f, rows, dim)
                : NativeTensors.Float32(f, rows, dim);
        }
        return new BatchTensors(blocks, features);
    }

    /// <summary>The labels of the seeds of <paramref name="type"/> as an int64 tensor.</summary>
    public static Tensor Labels(MiniBatch batch, GraphActors.Contracts.NodeType type)
    {
        var labels = batch.LabelsOf(type) ?? throw new InvalidOperationException($"The batch has no labels for '{type}'.");
        return NativeTensors.Int64(labels);
    }

    public void Dispose()
    {
        foreach (var b in Blocks) b.Dispose();
    }
}
