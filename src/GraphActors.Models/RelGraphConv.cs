// Relational graph convolution (R-GCN) over all relations of a block, following DGL's RelGraphConv.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// R-GCN layer (Schlichtkrull et al.; DGL's RelGraphConv with the basis regulariser):
/// <c>h'_v = W_0·h_v + Σ_r Σ_{u ∈ N_r(v)} (1/|N_r(v)|)·W_r·h_u + b</c>, with
/// <c>W_r = Σ_b a_rb·V_b</c> when <c>0 &lt; numBases &lt; numRelations</c> and a free <c>W_r</c> per
/// relation otherwise. Relations share the bases, so this layer takes every relation of the block
/// at once instead of running inside <see cref="HeteroConv"/>; relations are summed, as in the paper.
/// </summary>
/// <remarks>
/// Every node type uses the same input size (the models project differing inputs first) and the
/// self-loop weight W_0 is shared by all node types, as in DGL's homogeneous formulation. The
/// normaliser 1/|N_r(v)| is the in-degree of v within relation r in this block; edge weights, when
/// present, multiply it. Activation and dropout are left to the model.
/// </remarks>
public sealed class RelGraphConv : nn.Module<Block, Dictionary<string, Tensor>, Dictionary<string, Tensor>>
{
#pragma warning disable IDE1006
    private readonly Parameter weight;       // [numBases or numRelations, in, out]
    private readonly Parameter? w_comp;      // [numRelations, numBases]
    private readonly Parameter? loop_weight; // [in, out]
    private readonly Parameter? h_bias;      // [out]
#pragma warning restore IDE1006
    private readonly RelationKey[] relations;

    /// <param name="numBases">Number of bases; 0, or at least the number of relations, means one free weight per relation.</param>
    public RelGraphConv(long inDim, long outDim, IReadOnlyList<RelationKey> relations, int numBases = 0, bool selfLoop = true, bool bias = true,
        string name = nameof(RelGraphConv))
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outDim, 1);
        ArgumentNullException.ThrowIfNull(relations);
        if (relations.Count == 0)
            throw new ArgumentException("RelGraphConv needs at least one relation.", nameof(relations));
        if (relations.Distinct().Count() != relations.Count)
            throw new ArgumentException("Relations must be distinct.", nameof(relations));
        InDim = inDim;
        OutDim = outDim;
        this.relations = relations.ToArray();
        NumBases = numBases > 0 && numBases < relations.Count ? numBases : 0;

        weight = nn.Parameter(empty(NumBases > 0 ? NumBases : relations.Count, inDim, outDim));
        if (NumBases > 0)
            w_comp = nn.Parameter(empty(relations.Count, NumBases));
        if (selfLoop)
            loop_weight = nn.Parameter(empty(inDim, outDim));
        if (bias)
            h_bias = nn.Parameter(zeros(outDim));

        ResetParameters();
        RegisterComponents();
    }

    public long InDim { get; }

    public long OutDim { get; }

    /// <summary>Number of bases in use; 0 when every relation has its own weight.</summary>
    public int NumBases { get; }

    /// <summary>The relations in weight order: relation <c>r</c> is <c>Relations[r]</c>.</summary>
    public IReadOnlyList<RelationKey> Relations => relations;

    /// <summary>DGL's initialisation: Xavier-uniform with the ReLU gain, zero bias.</summary>
    public void ResetParameters()
    {
        using var _ = no_grad();
        var gain = nn.init.calculate_gain(nn.init.NonlinearityType.ReLU);
        nn.init.xavier_uniform_(weight, gain);
        if (w_comp is not null)
            nn.init.xavier_uniform_(w_comp, gain);
        if (loop_weight is not null)
            nn.init.xavier_uniform_(loop_weight, gain);
        h_bias?.zero_();
    }

    /// <summary>All relation weights, [numRelations, in, out]: <c>W_r = Σ_b a_rb·V_b</c> under the basis decomposition.</summary>
    public Tensor RelationWeights()
    {
        if (w_comp is null)
            return weight.alias();
        using var bases = weight.view(NumBases, InDim * OutDim);
        using var combined = w_comp.matmul(bases);
        return combined.view(relations.Length, InDim, OutDim);
    }

    /// <param name="block">The block of this layer.</param>
    /// <param name="srcFeatures">[numSrc, InDim] per source node type.</param>
    /// <returns>[numDst, OutDim] for every destination type of the block that has features.</returns>
    public override Dictionary<string, Tensor> forward(Block block, Dictionary<string, Tensor> srcFeatures)
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (type, numDst) in block.NumDstNodes)
        {
            if (!srcFeatures.TryGetValue(type, out var feat))
                continue;
            CheckWidth(type, feat);
            result[type] = loop_weight is null
                ? zeros(numDst, OutDim, dtype: feat.dtype, device: feat.device)
                : feat.narrow(0, 0, numDst).matmul(loop_weight);
        }

        var weights = RelationWeights();
        for (var r = 0; r < relations.Length; r++)
        {
            var key = relations[r];
            if (!block.Edges.TryGetValue(key, out var edges) || edges.Count == 0)
                continue;
            if (!srcFeatures.TryGetValue(key.Src, out var srcFeat) || !result.TryGetValue(key.Dst, out var accumulated))
                continue;
            CheckWidth(key.Src, srcFeat);
            var numDst = block.NumDstNodes[key.Dst];

            // Projecting the source rows before gathering costs numSrc·in·out instead of E·in·out.
            // The mean over in-edges (edge weights scale messages, not the divisor), fused: no [E, out] messages.
            var projected = srcFeat.matmul(weights[r]);
            result[key.Dst] = accumulated.Plus(Gspmm.Sum(projected, edges.Index, edges.Weight, mean: true));
        }

        if (h_bias is not null)
        {
            foreach (var type in result.Keys.ToList())
                result[type] = result[type].Plus(h_bias);
        }
        return result;
    }

    private void CheckWidth(string type, Tensor feat)
    {
        if (feat.dim() != 2 || feat.size(1) != InDim)
            throw new ArgumentException($"Node type '{type}': expected features of shape [n, {InDim}], got [{string.Join(", ", feat.shape)}].");
    }
}
