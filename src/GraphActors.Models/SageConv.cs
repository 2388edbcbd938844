// GraphSAGE convolution over one sampled block, following DGL's SAGEConv.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>How <see cref="SageConv"/> combines the features of a node's in-neighbours.</summary>
public enum SageAggregator
{
    /// <summary>fc_self(h_dst) + fc_neigh(mean of neighbours).</summary>
    Mean,

    /// <summary>fc_neigh((sum of neighbours + h_dst) / (in-degree + 1)); no separate self weight.</summary>
    Gcn,

    /// <summary>fc_self(h_dst) + fc_neigh(elementwise max of relu(fc_pool(neighbour))).</summary>
    Pool,
}

/// <summary>
/// GraphSAGE layer for one bipartite block. The destination nodes are the first <c>numDst</c> rows
/// of the source features (DGL's block convention), and edge <c>i</c> carries a message from local
/// source <c>edgeSrc[i]</c> to local destination <c>edgeDst[i]</c>. A destination with no in-edges
/// aggregates to zeros, as in DGL.
/// </summary>
public sealed class SageConv : nn.Module<Tensor, Tensor, Tensor, long, Tensor>, IRelationConv
{
    // Field names match DGL's parameter names so that state dicts line up across the two.
#pragma warning disable IDE1006
    private readonly Linear? fc_self;
    private readonly Linear fc_neigh;
    private readonly Linear? fc_pool;
    private readonly Parameter? bias;
#pragma warning restore IDE1006

    public SageConv(long inDim, long outDim, SageAggregator aggregator = SageAggregator.Mean, bool bias = true, string name = nameof(SageConv))
        : this(inDim, inDim, outDim, aggregator, bias, name)
    {
    }

    /// <summary>
    /// Bipartite form (DGL's <c>in_feats=(src, dst)</c>), for a relation whose source and destination
    /// node types have different feature sizes. The gcn aggregator adds the destination's own features
    /// to its neighbours', so it needs equal sizes.
    /// </summary>
    public SageConv(long inSrcDim, long inDstDim, long outDim, SageAggregator aggregator = SageAggregator.Mean, bool bias = true, string name = nameof(SageConv))
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inSrcDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(inDstDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outDim, 1);
        if (aggregator == SageAggregator.Gcn && inSrcDim != inDstDim)
            throw new ArgumentException($"The gcn aggregator needs equal source and destination feature sizes, got {inSrcDim} and {inDstDim}.");
        InDim = inSrcDim;
        InDstDim = inDstDim;
        OutDim = outDim;
        Aggregator = aggregator;

        // As in DGL, the linear maps carry no bias of their own: one shared bias is added at the end.
        fc_neigh = nn.Linear(inSrcDim, outDim, hasBias: false);
        if (aggregator != SageAggregator.Gcn)
            fc_self = nn.Linear(inDstDim, outDim, hasBias: false);
        if (aggregator == SageAggregator.Pool)
            fc_pool = nn.Linear(inSrcDim, inSrcDim);
        if (bias)
            this.bias = nn.Parameter(zeros(outDim));

        ResetParameters();
        RegisterComponents();
    }

    /// <summary>Feature size of the source nodes.</summary>
    public long InDim { get; }

    /// <summary>Feature size of the destination nodes (equal to <see cref="InDim"/> unless built bipartite).</summary>
    public long InDstDim { get; }

    public long OutDim { get; }

    public SageAggregator Aggregator { get; }

    /// <summary>DGL's initialisation: Xavier-uniform with the ReLU gain, zero bias.</summary>
    public void ResetParameters()
    {
        using var _ = no_grad();
        var gain = nn.init.calculate_gain(nn.init.NonlinearityType.ReLU);
        nn.init.xavier_uniform_(fc_neigh.weight!, gain);
        if (fc_self is not null)
            nn.init.xavier_uniform_(fc_self.weight!, gain);
        if (fc_pool is not null)
            nn.init.xavier_uniform_(fc_pool.weight!, gain);
        bias?.zero_();
    }

    /// <param name="srcFeat">[numSrc, inDim]; the first <paramref name="numDst"/> rows are the destination nodes.</param>
    /// <param name="edgeSrc">[numEdges] int64 local source index of each edge.</param>
    /// <param name="edgeDst">[numEdges] int64 local destination index of each edge, below <paramref name="numDst"/>.</param>
    /// <param name="numDst">Number of destination nodes of the block.</param>
    /// <returns>[numDst, outDim].</returns>
    public override Tensor forward(Tensor srcFeat, Tensor edgeSrc, Tensor edgeDst, long numDst)
    {
        if (numDst < 0 || numDst > srcFeat.size(0))
            throw new ArgumentOutOfRangeException(nameof(numDst), numDst, $"Destination nodes are the first rows of the {srcFeat.size(0)} source nodes.");
        using var dstFeat = srcFeat.narrow(0, 0, numDst);
        return Forward(srcFeat, dstFeat, edgeSrc, edgeDst, edgeWeight: null);
    }

    /// <inheritdoc />
    public Tensor Forward(Tensor srcFeat, Tensor dstFeat, BlockEdges edges, bool dstIsSrcPrefix = false) =>
        Forward(srcFeat, dstFeat, edges.Src, edges.Dst, edges.Weight, edges.Index);

    /// <summary>
    /// Bipartite forward. With <paramref name="edgeWeight"/> each message is scaled by its edge's
    /// weight before aggregation (DGL's <c>edge_weight</c>); mean still divides by the edge count.
    /// The pool aggregator assumes non-negative weights.
    /// </summary>
    /// <param name="srcFeat">[numSrc, InDim].</param>
    /// <param name="dstFeat">[numDst, InDstDim].</param>
    /// <returns>[numDst, OutDim].</returns>
    public Tensor Forward(Tensor srcFeat, Tensor dstFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight) =>
        Forward(srcFeat, dstFeat, edgeSrc, edgeDst, edgeWeight, index: null);

    private Tensor Forward(Tensor srcFeat, Tensor dstFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight, EdgeIndex? index)
    {
        CheckInputs(srcFeat, dstFeat, edgeSrc, edgeDst, edgeWeight);
        var numDst = dstFeat.size(0);
        // Mean and gcn sum through the fused kernel; pool, and a weight that needs its gradient, materialise messages.
        var fused = Aggregator != SageAggregator.Pool && edgeWeight is not { requires_grad: true };
        index = fused ? index ?? EdgeIndex.FromTensors(edgeSrc, edgeDst, srcFeat.size(0), numDst) : null;
        var result = Aggregator switch
        {
            SageAggregator.Mean => MeanForward(srcFeat, dstFeat, edgeSrc, edgeDst, edgeWeight, numDst, index),
            SageAggregator.Gcn => GcnForward(srcFeat, dstFeat, edgeSrc, edgeDst, edgeWeight, numDst, index),
            SageAggregator.Pool => PoolForward(srcFeat, dstFeat, edgeSrc, edgeDst, edgeWeight, numDst),
            _ => throw new InvalidOperationException($"Unknown aggregator {Aggregator}."),
        };
        if (bias is null)
            return result;
        using (result)
            return result.Plus(bias);
    }

    // Mean and gcn aggregation are linear, so when the input is wider than the output fc_neigh runs
    // before message passing (DGL's lin_before_mp) and the edges carry the narrower rows.
    private bool LinearBeforeMessagePassing => InDim > OutDim;

    private Tensor MeanForward(Tensor srcFeat, Tensor dstFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight, long numDst, EdgeIndex? index)
    {
        var early = LinearBeforeMessagePassing;
        using var messages = early ? fc_neigh.forward(srcFeat) : srcFeat.alias();
        using var mean = index is not null ? Gspmm.Sum(messages, index, edgeWeight, mean: true) : MeanOverInEdges(messages, edgeSrc, edgeDst, edgeWeight, numDst);
        using var self = fc_self!.forward(dstFeat);
        using var neigh = early ? mean.alias() : fc_neigh.forward(mean);
        return self.Plus(neigh);
    }

    private Tensor GcnForward(Tensor srcFeat, Tensor dstFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight, long numDst, EdgeIndex? index)
    {
        var early = LinearBeforeMessagePassing;
        using var messages = early ? fc_neigh.forward(srcFeat) : srcFeat.alias();
        using var sum = index is not null ? Gspmm.Sum(messages, index, edgeWeight, mean: false) : SumOverInEdges(messages, edgeSrc, edgeDst, edgeWeight, numDst);
        using var selfRows = early ? fc_neigh.forward(dstFeat) : dstFeat.alias();
        using var withSelf = sum.Plus(selfRows);
        using var degree = IndexOps.Count(edgeDst, numDst, srcFeat.dtype);
        using var denominator = degree.Plus(PinnedScalars.One);
        using var normalised = withSelf / denominator.unsqueeze(1);
        return early ? normalised.alias() : fc_neigh.forward(normalised);
    }

    private Tensor PoolForward(Tensor srcFeat, Tensor dstFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight, long numDst)
    {
        using var pooledLinear = fc_pool!.forward(srcFeat);
        using var pooled = nn.functional.relu(pooledLinear);
        using var max = MaxOverInEdges(pooled, edgeSrc, edgeDst, edgeWeight, numDst);
        using var self = fc_self!.forward(dstFeat);
        using var neigh = fc_neigh.forward(max);
        return self.Plus(neigh);
    }

    private static Tensor MeanOverInEdges(Tensor srcFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight, long numDst)
    {
        using var sum = SumOverInEdges(srcFeat, edgeSrc, edgeDst, edgeWeight, numDst);
        using var degree = IndexOps.Count(edgeDst, numDst, srcFeat.dtype);
        using var clamped = degree.clamp_min(PinnedScalars.One);
        return sum / clamped.unsqueeze(1);
    }

    private static Tensor SumOverInEdges(Tensor srcFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight, long numDst)
    {
        using var messages = Weighted(srcFeat.index_select(0, edgeSrc), edgeWeight);
        return IndexOps.SumInto(messages, edgeDst, numDst);
    }

    // TorchSharp 0.107 exposes neither scatter_reduce nor index_reduce, so the max runs over a dense
    // [numDst, maxInDegree, F] grid in which every edge gets its own slot in its destination's row.
    // Unused slots stay zero: the inputs are ReLU outputs, so a zero never beats a real message, and
    // a node without in-edges ends at zero, as in DGL.
    private static Tensor MaxOverInEdges(Tensor nonNegative, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight, long numDst)
    {
        var width = nonNegative.size(1);
        var numEdges = edgeDst.size(0);
        if (numEdges == 0)
            return zeros(numDst, width, dtype: nonNegative.dtype, device: nonNegative.device);

        using var degree = bincount(edgeDst, minlength: numDst);
        using var maxDegreeTensor = degree.max();
        var maxDegree = maxDegreeTensor.item<long>();

        // Stable sort groups each destination's edges; an edge's rank in its group is its slot.
        var (sortedDst, order) = edgeDst.sort(stable: true);
        using var _sortedDst = sortedDst;
        using var _order = order;
        using var inclusiveEnd = degree.cumsum(0);
        using var groupStart = inclusiveEnd - degree;
        using var edgePosition = arange(numEdges, dtype: ScalarType.Int64, device: edgeDst.device);
        using var sortedGroupStart = groupStart.index_select(0, sortedDst);
        using var rank = edgePosition - sortedGroupStart;
        using var rowStart = sortedDst.Times(maxDegree);
        using var slot = rowStart.Plus(rank);

        using var sortedSrc = edgeSrc.index_select(0, order);
        using var sortedWeight = edgeWeight?.index_select(0, order);
        using var messages = Weighted(nonNegative.index_select(0, sortedSrc), sortedWeight);
        using var empty = zeros(numDst * maxDegree, width, dtype: nonNegative.dtype, device: nonNegative.device);
        using var slots = empty.index_copy(0, slot, messages);
        using var grid = slots.view(numDst, maxDegree, width);
        return grid.amax(new long[] { 1 });
    }

    private static Tensor Weighted(Tensor messages, Tensor? edgeWeight)
    {
        if (edgeWeight is null)
            return messages;
        using (messages)
        using (var column = edgeWeight.unsqueeze(1))
            return messages * column;
    }

    private void CheckInputs(Tensor srcFeat, Tensor dstFeat, Tensor edgeSrc, Tensor edgeDst, Tensor? edgeWeight)
    {
        if (srcFeat.dim() != 2 || srcFeat.size(1) != InDim)
            throw new ArgumentException($"Expected source features of shape [numSrc, {InDim}], got [{string.Join(", ", srcFeat.shape)}].", nameof(srcFeat));
        if (dstFeat.dim() != 2 || dstFeat.size(1) != InDstDim)
            throw new ArgumentException($"Expected destination features of shape [numDst, {InDstDim}], got [{string.Join(", ", dstFeat.shape)}].", nameof(dstFeat));
        if (edgeSrc.dtype != ScalarType.Int64 || edgeDst.dtype != ScalarType.Int64)
            throw new ArgumentException("Edge indices must be int64.");
        if (edgeSrc.dim() != 1 || edgeDst.dim() != 1 || edgeSrc.size(0) != edgeDst.size(0))
            throw new ArgumentException($"Edge index tensors must be 1-D and equally long, got [{string.Join(", ", edgeSrc.shape)}] and [{string.Join(", ", edgeDst.shape)}].");
        if (edgeWeight is not null && (edgeWeight.dim() != 1 || edgeWeight.size(0) != edgeSrc.size(0)))
            throw new ArgumentException($"Edge weights must be 1-D with one entry per edge, got [{string.Join(", ", edgeWeight.shape)}].");
    }
}
