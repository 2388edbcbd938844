using GraphActors.Contracts;
using GraphActors.Graph;
using static GraphActors.Sampling.Tests.Blocks.BlockTestSupport;

namespace GraphActors.Sampling.Tests.Blocks;

public sealed class LinkBatchTests
{
    private readonly HeteroGraph _graph = Hetero();

    // Every message-passing edge of every block, as global (type, src, dst).
    private static IEnumerable<(CanonicalEdgeType Type, int Src, int Dst)> MessageEdges(MiniBatch batch)
    {
        foreach (var block in batch.Blocks)
            foreach (var e in block.Edges)
            {
                var src = block.SrcIds(e.Type.Src);
                var dst = block.DstIds(e.Type.Dst).ToArray();
                for (var i = 0; i < e.Count; i++) yield return (e.Type, src[e.SrcLocal[i]], dst[e.DstLocal[i]]);
            }
    }

    [Theory]
    [InlineData("u2i")]
    [InlineData("follows")]
    public async Task Link_batches_never_pass_messages_along_their_own_edges_or_their_reverses(string relation)
    {
        var store = new HeteroGraphStore(_graph);
        var type = relation == "u2i" ? U2I : Follows;
        var reverse = relation == "u2i" ? U2IReverse : Follows;
        var edges = await store.GetEdgesAsync(type);
        // Full fanout: without exclusion every positive edge would surely appear in the last block.
        var blocks = new BlockSampler(store, new BlockSamplerOptions([-1, -1]) { GatherFeatures = false });
        var sampler = new LinkBatchSampler(blocks, new LinkBatchOptions(type, 3));
        var loader = new LinkBatchLoader(sampler, edges, 32, dropLast: false, seed: 11);
        var batches = 0;
        await foreach (var batch in loader.EpochAsync(0))
        {
            batches++;
            var seedsSrc = batch.Graph.SeedIds(type.Src).ToArray();
            var seedsDst = batch.Graph.SeedIds(type.Dst).ToArray();
            var positives = new HashSet<(int, int)>();
            for (var i = 0; i < batch.PosSrc.Length; i++) positives.Add((seedsSrc[batch.PosSrc[i]], seedsDst[batch.PosDst[i]]));
            foreach (var (t, s, d) in MessageEdges(batch.Graph))
            {
                if (t == type) Assert.DoesNotContain((s, d), positives);
                if (t == reverse) Assert.DoesNotContain((d, s), positives);
            }
            // Without exclusion the same batch does use them: the test would catch a no-op exclusion.
            var open = new LinkBatchSampler(blocks, new LinkBatchOptions(type, 3) { Exclude = LinkExclusion.None });
            var leaky = await open.SampleAsync(batch.PosSrc.Select(i => seedsSrc[i]).ToArray(), batch.PosDst.Select(i => seedsDst[i]).ToArray(), 1);
            Assert.Contains(MessageEdges(leaky.Graph), x => x.Type == type && positives.Contains((x.Src, x.Dst)));
        }
        Assert.Equal(loader.BatchCount, batches);
    }

    [Theory]
    [InlineData(NegativeStrategy.Random)]
    [InlineData(NegativeStrategy.SmoothedInDegree)]
    public async Task Negatives_are_not_positives_when_exclusion_is_asked(NegativeStrategy strategy)
    {
        foreach (var store in new IGraphStore[] { new HeteroGraphStore(_graph) })
        {
            var edges = await store.GetEdgesAsync(U2I);
            var sampler = new LinkBatchSampler(new BlockSampler(store, new([2])), new LinkBatchOptions(U2I, 5) { NegativeStrategy = strategy });
            var batch = await sampler.SampleAsync(edges.Src.AsMemory(0, 64), edges.Dst.AsMemory(0, 64), 3);
            var srcSeeds = batch.Graph.SeedIds(User).ToArray();
            var dstSeeds = batch.Graph.SeedIds(Item).ToArray();
            var csr = _graph.Edges(U2I).Out;
            Assert.Equal(64 * 5, batch.NegDst.Length);
            Assert.Equal(0, batch.NegativeStats.Unresolved);
            for (var i = 0; i < batch.NegDst.Length; i++)
            {
                Assert.Equal(batch.PosSrc[i / 5], batch.NegSrc[i]);
                Assert.False(csr.Contains(srcSeeds[batch.NegSrc[i]], dstSeeds[batch.NegDst[i]]));
            }
        }
    }

    [Fact]
    public async Task Partitioned_negatives_are_not_positives_and_pairs_index_the_seeds()
    {
        var dir = Partition(_graph, "hash");
        try
        {
            using var store = new PartitionedGraphStore(GraphActors.Graph.Storage.PartitionStore.Open(dir));
            var edges = await store.GetEdgesAsync(U2I);
            Assert.Equal(_graph.Edges(U2I).Count, edges.Count);
            var sampler = new LinkBatchSampler(new BlockSampler(store, new([2])), new LinkBatchOptions(U2I, 4) { NegativeStrategy = NegativeStrategy.SmoothedInDegree });
            var batch = await sampler.SampleAsync(edges.Src.AsMemory(10, 50), edges.Dst.AsMemory(10, 50), 8);
            var srcSeeds = batch.Graph.SeedIds(User).ToArray();
            var dstSeeds = batch.Graph.SeedIds(Item).ToArray();
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(edges.Src[10 + i], srcSeeds[batch.PosSrc[i]]);
                Assert.Equal(edges.Dst[10 + i], dstSeeds[batch.PosDst[i]]);
            }
            var all = edges.Src.Zip(edges.Dst).ToHashSet();
            for (var i = 0; i < batch.NegDst.Length; i++)
                Assert.DoesNotContain((srcSeeds[batch.NegSrc[i]], dstSeeds[batch.NegDst[i]]), all);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_link_batches()
    {
        var store = new HeteroGraphStore(_graph);
        var edges = await store.GetEdgesAsync(U2I);
        async Task<List<LinkBatch>> Run()
        {
            var loader = new LinkBatchLoader(new LinkBatchSampler(new BlockSampler(store, new([3, 3])), new LinkBatchOptions(U2I, 2)), edges, 40, true, 21);
            var list = new List<LinkBatch>();
            await foreach (var b in loader.EpochAsync(1).Prefetched()) list.Add(b);
            return list;
        }
        var a = await Run();
        var b = await Run();
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].PosSrc, b[i].PosSrc);
            Assert.Equal(a[i].NegDst, b[i].NegDst);
            AssertSameBatch(a[i].Graph, b[i].Graph);
        }
    }

    [Fact]
    public async Task Held_out_edges_of_an_edge_split_never_carry_messages_in_training_batches()
    {
        var store = new HeteroGraphStore(_graph);
        var split = await EdgeSplit.CreateAsync(store, U2I, 0.1, 0.1, seed: 4);
        var again = await EdgeSplit.CreateAsync(store, U2I, 0.1, 0.1, seed: 4);
        Assert.Equal(split.Val.Src, again.Val.Src);
        Assert.Equal(split.Test.Dst, again.Test.Dst);
        var total = split.Train.Count + split.Val.Count + split.Test.Count;
        Assert.Equal(_graph.Edges(U2I).Count, total);
        Assert.InRange(split.Val.Count + split.Test.Count, total / 10, total * 3 / 10);
        var held = split.Val.Src.Zip(split.Val.Dst).Concat(split.Test.Src.Zip(split.Test.Dst)).ToHashSet();

        var blocks = new BlockSampler(store, new BlockSamplerOptions([-1, -1]) { GatherFeatures = false });
        var sampler = new LinkBatchSampler(blocks, new LinkBatchOptions(U2I, 1) { AlwaysExcluded = split.HeldOut });
        await foreach (var batch in new LinkBatchLoader(sampler, split.Train, 64, false, 2).EpochAsync(0))
            foreach (var (t, s, d) in MessageEdges(batch.Graph))
            {
                if (t == U2I) Assert.DoesNotContain((s, d), held);
                if (t == U2IReverse) Assert.DoesNotContain((d, s), held);
            }
    }
}
