// Epoch iteration: shuffled seed batches per epoch, node and link loaders, and a bounded background prefetcher.
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using GraphActors.Contracts;

namespace GraphActors.Sampling;

/// <summary>The order of an epoch: a Fisher–Yates shuffle from the stream (seed, epoch), cut into batches.</summary>
public static class EpochPlan
{
    public static int[] Shuffle(ReadOnlySpan<int> ids, ulong seed, int epoch)
    {
        var order = ids.ToArray();
        var rng = Xoshiro256.ForStream(seed, (ulong)epoch, ulong.MaxValue);
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    public static int BatchCount(int items, int batchSize, bool dropLast) =>
        dropLast ? items / batchSize : (items + batchSize - 1) / batchSize;

    /// <summary>Batch <paramref name="b"/> of a shuffled order (the last one short unless dropped).</summary>
    public static ReadOnlyMemory<int> Batch(int[] order, int batchSize, int b) =>
        order.AsMemory(b * batchSize, Math.Min(batchSize, order.Length - b * batchSize));

    /// <summary>The rng seed of batch <paramref name="b"/> of <paramref name="epoch"/>: independent of other batches.</summary>
    public static ulong BatchSeed(ulong seed, int epoch, int b) => BlockSampler.StreamSeed(seed, (ulong)epoch, (ulong)b);
}

/// <summary>Node-classification batches of one node type's seeds (DGL's NodeDataLoader with shuffle=True).</summary>
public sealed class NodeBatchLoader
{
    private readonly BlockSampler _sampler;

    public NodeBatchLoader(BlockSampler sampler, NodeType type, int[] seeds, int batchSize, bool dropLast, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _sampler = sampler; Type = type; Seeds = seeds; BatchSize = batchSize; DropLast = dropLast; Seed = seed;
    }

    /// <summary>A loader over the store's train split of <paramref name="type"/>.</summary>
    public static async ValueTask<NodeBatchLoader> ForSplitAsync(BlockSampler sampler, NodeType type, SplitKind split, int batchSize,
        bool dropLast, ulong seed, CancellationToken cancellationToken = default) =>
        new(sampler, type, await sampler.Store.GetSplitAsync(type, split, cancellationToken).ConfigureAwait(false), batchSize, dropLast, seed);

    public NodeType Type { get; }
    public int[] Seeds { get; }
    public int BatchSize { get; }
    public bool DropLast { get; }
    public ulong Seed { get; }
    public int BatchCount => EpochPlan.BatchCount(Seeds.Length, BatchSize, DropLast);

    public async IAsyncEnumerable<MiniBatch> EpochAsync(int epoch, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var order = EpochPlan.Shuffle(Seeds, Seed, epoch);
        for (var b = 0; b < BatchCount; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var seeds = new Dictionary<NodeType, int[]> { [Type] = EpochPlan.Batch(order, BatchSize, b).ToArray() };
            yield return await _sampler.SampleAsync(seeds, EpochPlan.BatchSeed(Seed, epoch, b), null, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>Link-prediction batches over a list of positive edges (e.g. <see cref="EdgeSplit.Train"/>), shuffled per epoch.</summary>
public sealed class LinkBatchLoader
{
    private readonly LinkBatchSampler _sampler;

    public LinkBatchLoader(LinkBatchSampler sampler, EdgeList edges, int batchSize, bool dropLast, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _sampler = sampler; Edges = edges; BatchSize = batchSize; DropLast = dropLast; Seed = seed;
    }

    public EdgeList Edges { get; }
    public int BatchSize { get; }
    public bool DropLast { get; }
    public ulong Seed { get; }
    public int BatchCount => EpochPlan.BatchCount(Edges.Count, BatchSize, DropLast);

    public async IAsyncEnumerable<LinkBatch> EpochAsync(int epoch, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var positions = new int[Edges.Count];
        for (var i = 0; i < positions.Length; i++) positions[i] = i;
        var order = EpochPlan.Shuffle(positions, Seed, epoch);
        for (var b = 0; b < BatchCount; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = EpochPlan.Batch(order, BatchSize, b).Span;
            var src = new int[batch.Length];
            var dst = new int[batch.Length];
            for (var i = 0; i < batch.Length; i++) { src[i] = Edges.Src[batch[i]]; dst[i] = Edges.Dst[batch[i]]; }
            yield return await _sampler.SampleAsync(src, dst, EpochPlan.BatchSeed(Seed, epoch, b), cancellationToken).ConfigureAwait(false);
        }
    }
}

public static class Prefetch
{
    /// <summary>
    /// Runs <paramref name="source"/> on one background task, at most <paramref name="capacity"/> items ahead of the
    /// consumer, so sampling overlaps training. Items arrive in the source's order; a source failure is rethrown to the
    /// consumer; leaving the loop early cancels and awaits the producer.
    /// </summary>
    public static async IAsyncEnumerable<T> Prefetched<T>(this IAsyncEnumerable<T> source, int capacity = 2,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in source.WithCancellation(cts.Token).ConfigureAwait(false))
                    await channel.Writer.WriteAsync(item, cts.Token).ConfigureAwait(false);
                channel.Writer.TryComplete();
            }
            catch (Exception e)
            {
                channel.Writer.TryComplete(e);
            }
        }, CancellationToken.None);
        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                while (channel.Reader.TryRead(out var item))
                    yield return item;
        }
        finally
        {
            cts.Cancel();
            try { await producer.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
    }
}
