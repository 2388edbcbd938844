// Graph attention convolution over one relation of a block, following DGL's GATConv.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// Multi-head graph attention (Veličković et al.; DGL's GATConv). Per head, with
/// <c>z = W·h</c>: <c>e_uv = LeakyReLU_0.2(a_l·z_u + a_r·z_v)</c>, <c>α = edge_softmax(e)</c> over each
/// destination's incoming edges, <c>out_v = Σ_u α_uv z_u</c> (+ residual) + bias. Heads are
/// concatenated ([numDst, heads·outPerHead]) or averaged ([numDst, outPerHead]).
/// </summary>
/// <remarks>
/// Feature dropout applies to the inputs, attention dropout to α. Edge weights, when the block has
/// them, scale α after the softmax (DGL's <c>edge_weight</c>). A destination with no in-edges gets
/// zeros (+ residual and bias) instead of DGL's zero-in-degree error, because sampled blocks and
/// heterogeneous relations legitimately have such nodes. The activation is left to the model.
/// </remarks>
public sealed class GatConv : nn.Module<Tensor, Tensor, BlockEdges, Tensor>, IRelationConv
{
    // Field names follow DGL's parameter names.
#pragma warning disable IDE1006
    private readonly Linear fc;
    private readonly Linear? fc_dst;
    private readonly Parameter attn_l;
    private readonly Parameter attn_r;
    private readonly Linear? res_fc;
    private readonly Parameter? bias;
#pragma warning restore IDE1006
    private readonly double featDrop;
    private readonly double attnDrop;
    private readonly bool identityResidual;

    /// <param name="inSrcDim">Source feature size; when equal to <paramref name="inDstDim"/> one projection serves both sides, as in DGL.</param>
    /// <param name="inDstDim">Destination feature size.</param>
    /// <param name="outPerHead">Output size of each head.</param>
    /// <param name="heads">Number of attention heads.</param>
    /// <param name="concatHeads">Concatenate heads (hidden layers) or average them (output layer).</param>
    public GatConv(long inSrcDim, long inDstDim, long outPerHead, int heads = 1, bool concatHeads = true,
        double featDrop = 0, double attnDrop = 0, double negativeSlope = 0.2, bool residual = false, bool bias = true,
        bool selfLoops = false, string name = nameof(GatConv))
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inSrcDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inDstDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outPerHead, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        InSrcDim = inSrcDim;
        InDstDim = inDstDim;
        OutPerHead = outPerHead;
        Heads = heads;
        ConcatHeads = concatHeads;
        NegativeSlope = negativeSlope;
        _negativeSlope = negativeSlope; // held by the module: see PinnedScalars

        fc = nn.Linear(inSrcDim, heads * outPerHead, hasBias: false);
        if (inSrcDim != inDstDim)
            fc_dst = nn.Linear(inDstDim, heads * outPerHead, hasBias: false);
        attn_l = nn.Parameter(empty(1, heads, outPerHead));
        attn_r = nn.Parameter(empty(1, heads, outPerHead));
        if (residual)
        {
            if (inDstDim == heads * outPerHead)
                identityResidual = true;
            else
                res_fc = nn.Linear(inDstDim, heads * outPerHead, hasBias: false);
        }
        if (bias)
            this.bias = nn.Parameter(zeros(heads * outPerHead));
        this.featDrop = featDrop;
        this.attnDrop = attnDrop;
        SelfLoops = selfLoops;

        ResetParameters();
        RegisterComponents();
    }

    public long InSrcDim { get; }

    public long InDstDim { get; }

    public long OutPerHead { get; }

    public int Heads { get; }

    public bool ConcatHeads { get; }

    /// <summary>When the destinations are the first source rows, each also attends to itself (an edge i → i per destination).</summary>
    public bool SelfLoops { get; }

    public double NegativeSlope { get; }
    private readonly Scalar _negativeSlope;

    /// <inheritdoc />
    public long OutDim => ConcatHeads ? Heads * OutPerHead : OutPerHead;

    /// <summary>DGL's initialisation: Xavier-normal with the ReLU gain, zero bias.</summary>
    public void ResetParameters()
    {
        using var _ = no_grad();
        var gain = nn.init.calculate_gain(nn.init.NonlinearityType.ReLU);
        nn.init.xavier_normal_(fc.weight!, gain);
        if (fc_dst is not null)
            nn.init.xavier_normal_(fc_dst.weight!, gain);
        nn.init.xavier_normal_(attn_l, gain);
        nn.init.xavier_normal_(attn_r, gain);
        if (res_fc is not null)
            nn.init.xavier_normal_(res_fc.weight!, gain);
        bias?.zero_();
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor srcFeat, Tensor dstFeat, BlockEdges edges, bool dstIsSrcPrefix = false)
    {
        var (output, attention) = ForwardWithAttention(srcFeat, dstFeat, edges.Src, edges.Dst, edges.Weight, dstIsSrcPrefix, edges.Index);
        attention.Dispose();
        return output;
    }

    public override Tensor forward(Tensor srcFeat, Tensor dstFeat, BlockEdges edges)
    {
        var (output, attention) = ForwardWithAttention(srcFeat, dstFeat, edges.Src, edges.Dst, edges.Weight, index: edges.Index);
        attention.Dispose();
        return output;
    }

    /// <summary>The layer's output together with the attention α per edge and head ([E, heads], after attention dropout and edge weights).</summary>
    /// <param name="dstIsSrcPrefix">See <see cref="IRelationConv.Forward"/>: destinations then share the sources' dropout mask and projection.</param>
    /// <param name="index">The edges sorted both ways (a block's <see cref="BlockEdges.Index"/>); built here when null.</param>
    public (Tensor Output, Tensor Attention) ForwardWithAttention(Tensor srcFeat, Tensor dstFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight = null, bool dstIsSrcPrefix = false, EdgeIndex? index = null)
    {
        if (srcFeat.dim() != 2 || srcFeat.size(1) != InSrcDim)
            throw new ArgumentException($"Expected source features of shape [numSrc, {InSrcDim}], got [{string.Join(", ", srcFeat.shape)}].", nameof(srcFeat));
        if (dstFeat.dim() != 2 || dstFeat.size(1) != InDstDim)
            throw new ArgumentException($"Expected destination features of shape [numDst, {InDstDim}], got [{string.Join(", ", dstFeat.shape)}].", nameof(dstFeat));
        if (edgeSrc.size(0) != edgeDst.size(0))
            throw new ArgumentException($"{edgeSrc.size(0)} edge sources for {edgeDst.size(0)} edge destinations.");

        using var scope = NewDisposeScope();
        var numDst = dstFeat.size(0);
        if (SelfLoops && dstIsSrcPrefix && numDst > 0)
        {
            // DGL's add_self_loop, per block: the extra edges come last, so α's first rows stay the block's edges.
            var loop = arange(numDst, dtype: ScalarType.Int64, device: edgeSrc.device);
            edgeSrc = cat([edgeSrc, loop]);
            edgeDst = cat([edgeDst, loop]);
            if (edgeWeight is not null) edgeWeight = cat([edgeWeight, ones(numDst, dtype: edgeWeight.dtype, device: edgeWeight.device)]);
            index = null;
        }
        var hSrc = FastDropout.Apply(srcFeat, featDrop, training);
        var zSrc = fc.forward(hSrc).view(-1, Heads, OutPerHead);
        Tensor hDst, zDst;
        if (fc_dst is null && dstIsSrcPrefix)
        {
            // DGL's block path: the destinations are the first source rows, so they share the
            // dropout mask and the projection instead of paying for both twice.
            hDst = hSrc.narrow(0, 0, numDst);
            zDst = zSrc.narrow(0, 0, numDst);
        }
        else
        {
            hDst = FastDropout.Apply(dstFeat, featDrop, training);
            zDst = (fc_dst ?? fc).forward(hDst).view(-1, Heads, OutPerHead);
        }

        var el = (zSrc * attn_l).sum(-1); // [numSrc, heads]
        var er = (zDst * attn_r).sum(-1); // [numDst, heads]
        var e = el.index_select(0, edgeSrc).Plus(er.index_select(0, edgeDst)).leaky_relu(_negativeSlope);
        index ??= EdgeIndex.FromTensors(edgeSrc, edgeDst, srcFeat.size(0), numDst);
        var alpha = FastDropout.Apply(EdgeSoftmax.Compute(e, index), attnDrop, training);
        if (edgeWeight is not null)
            alpha = alpha * edgeWeight.unsqueeze(1);

        // Σ α·z over in-edges in one pass (no [E, heads, D] messages); gradients reach both z and α.
        var output = Gspmm.WeightedSum(zSrc, alpha, index);
        if (res_fc is not null)
            output = output.Plus(res_fc.forward(hDst).view(-1, Heads, OutPerHead));
        else if (identityResidual)
            output = output.Plus(hDst.view(-1, Heads, OutPerHead));
        if (bias is not null)
            output = output.Plus(bias.view(1, Heads, OutPerHead));

        output = ConcatHeads ? output.reshape(numDst, Heads * OutPerHead) : output.mean(new long[] { 1 });
        return (output.MoveToOuterDisposeScope(), alpha.MoveToOuterDisposeScope());
    }
}
