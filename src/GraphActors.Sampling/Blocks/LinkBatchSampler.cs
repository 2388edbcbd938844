// Link-prediction batches: positive edges, k negatives each, the pair graph and blocks without the batch's own edges.
using GraphActors.Contracts;

namespace GraphActors.Sampling;

/// <summary>Which edges a link batch keeps out of message passing, as DGL's <c>exclude=</c>.</summary>
public enum LinkExclusion
{
    /// <summary>Nothing (the model may see the edge it is asked to predict: leakage; for ablations only).</summary>
    None,
    /// <summary>The batch's positive edges (DGL's <c>'self'</c>).</summary>
    Self,
    /// <summary>The batch's positive edges and their reverses (DGL's <c>'reverse_types'</c> / <c>'reverse_id'</c>).</summary>
    SelfAndReverse,
}

public sealed record LinkBatchOptions(CanonicalEdgeType Type, int Negatives)
{
    public NegativeStrategy NegativeStrategy { get; init; } = NegativeStrategy.Random;
    /// <summary>Redraw negatives that are true edges (so negatives are not positives, up to a retry cap).</summary>
    public bool ExcludeNegativeNeighbors { get; init; } = true;
    public LinkExclusion Exclude { get; init; } = LinkExclusion.SelfAndReverse;
    /// <summary>The type holding the reverses; defaults to the schema's (<see cref="StoreEdgeType.Reverse"/>).</summary>
    public CanonicalEdgeType? ReverseType { get; init; }
    /// <summary>Edges never used for message passing (e.g. <see cref="EdgeSplit.HeldOut"/>).</summary>
    public EdgeExclusion? AlwaysExcluded { get; init; }
}

/// <summary>
/// DGL's EdgeDataLoader step for one batch of positive edges: negatives through the store (corrupting the destination),
/// the distinct nodes of all pairs as seeds, the pair graph in local indices into those seeds, and blocks sampled with
/// the batch's own edges (and their reverses) excluded from message passing.
/// </summary>
public sealed class LinkBatchSampler
{
    private readonly BlockSampler _blocks;
    private readonly CanonicalEdgeType? _reverse;

    public LinkBatchSampler(BlockSampler blocks, LinkBatchOptions options)
    {
        if (options.Negatives < 0) throw new ArgumentOutOfRangeException(nameof(options), options.Negatives, "Negatives per positive must be ≥ 0.");
        _blocks = blocks;
        Options = options;
        var info = blocks.Store.Schema.Edge(options.Type);
        // A virtual reverse of the block sampler (ReverseEdges) counts as the reverse type when the store knows none.
        _reverse = options.ReverseType ?? info.Reverse ?? blocks.VirtualReverseOf(options.Type);
        if (options.Exclude == LinkExclusion.SelfAndReverse && _reverse is null)
            throw new ArgumentException($"{options.Type} has no known reverse type; set ReverseType, or exclude Self only.", nameof(options));
    }

    public LinkBatchOptions Options { get; }

    public ValueTask<LinkBatch> SampleAsync(ReadOnlyMemory<int> posSrc, ReadOnlyMemory<int> posDst, ulong rngSeed, CancellationToken cancellationToken = default) =>
        SampleAsync(posSrc, posDst, rngSeed, posSrc, posDst, cancellationToken);

    /// <summary>
    /// A link batch over the positives (<paramref name="posSrc"/>, <paramref name="posDst"/>) that keeps the edges
    /// (<paramref name="batchSrc"/>, <paramref name="batchDst"/>) out of message passing as its own (with their reverses,
    /// per <see cref="LinkBatchOptions.Exclude"/>): a piece of a larger batch excludes the whole batch, as the batch would.
    /// </summary>
    public async ValueTask<LinkBatch> SampleAsync(ReadOnlyMemory<int> posSrc, ReadOnlyMemory<int> posDst, ulong rngSeed,
        ReadOnlyMemory<int> batchSrc, ReadOnlyMemory<int> batchDst, CancellationToken cancellationToken = default)
    {
        if (batchSrc.Length != batchDst.Length) throw new ArgumentException("Batch endpoint arrays differ in length.");
        if (posSrc.Length != posDst.Length) throw new ArgumentException("Positive endpoint arrays differ in length.");
        var type = Options.Type;
        var n = posSrc.Length;
        var k = Options.Negatives;
        var negDstIds = new int[n * k];
        var stats = default(NegativeSampleStats);
        if (k > 0)
            stats = await _blocks.Store.SampleNegativesAsync(type, posSrc, k, Options.NegativeStrategy, Options.ExcludeNegativeNeighbors,
                BlockSampler.StreamSeed(rngSeed, ulong.MaxValue, 0), negDstIds, cancellationToken).ConfigureAwait(false);

        // Seeds: distinct nodes per type in order of first sight over (positive src, positive dst, negative dst).
        var posSrcLocal = new int[n];
        var posDstLocal = new int[n];
        var negSrcLocal = new int[n * k];
        var negDstLocal = new int[n * k];
        var seeds = new Dictionary<NodeType, int[]>();
        if (type.Src == type.Dst)
        {
            var all = new int[2 * n + n * k];
            posSrc.Span.CopyTo(all);
            posDst.Span.CopyTo(all.AsSpan(n));
            negDstIds.CopyTo(all, 2 * n);
            var (unique, local) = _blocks.Unique(type.Src, all);
            seeds[type.Src] = unique;
            local.AsSpan(0, n).CopyTo(posSrcLocal);
            local.AsSpan(n, n).CopyTo(posDstLocal);
            local.AsSpan(2 * n).CopyTo(negDstLocal);
        }
        else
        {
            var (srcUnique, srcLocal) = _blocks.Unique(type.Src, posSrc.Span);
            var dstAll = new int[n + n * k];
            posDst.Span.CopyTo(dstAll);
            negDstIds.CopyTo(dstAll, n);
            var (dstUnique, dstLocal) = _blocks.Unique(type.Dst, dstAll);
            seeds[type.Src] = srcUnique;
            seeds[type.Dst] = dstUnique;
            srcLocal.CopyTo(posSrcLocal, 0);
            dstLocal.AsSpan(0, n).CopyTo(posDstLocal);
            dstLocal.AsSpan(n).CopyTo(negDstLocal);
        }
        for (var i = 0; i < n; i++) negSrcLocal.AsSpan(i * k, k).Fill(posSrcLocal[i]);

        var exclude = Options.AlwaysExcluded;
        if (Options.Exclude != LinkExclusion.None)
        {
            exclude = new EdgeExclusion(exclude);
            exclude.Add(type, batchSrc.Span, batchDst.Span);
            if (Options.Exclude == LinkExclusion.SelfAndReverse) exclude.Add(_reverse!.Value, batchDst.Span, batchSrc.Span);
        }
        var graph = await _blocks.SampleAsync(seeds, rngSeed, exclude, cancellationToken).ConfigureAwait(false);
        return new LinkBatch(type, graph, posSrcLocal, posDstLocal, negSrcLocal, negDstLocal, k, stats);
    }
}
