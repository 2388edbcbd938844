using GraphActors.Contracts;
using GraphActors.Graph;
using static GraphActors.Sampling.Tests.Blocks.BlockTestSupport;

namespace GraphActors.Sampling.Tests.Blocks;

public sealed class BlockSamplerTests : IDisposable
{
    private readonly HeteroGraph _graph = Hetero();
    private readonly List<string> _dirs = [];

    public void Dispose()
    {
        foreach (var d in _dirs) try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }

    private PartitionedGraphStore PartitionedStore(string method)
    {
        var dir = Partition(_graph, method);
        _dirs.Add(dir);
        return new PartitionedGraphStore(GraphActors.Graph.Storage.PartitionStore.Open(dir));
    }

    private static Dictionary<NodeType, int[]> Seeds(IGraphStore store, long[] users, long[] items) => new()
    {
        [User] = Lookup(store, User, users),
        [Item] = Lookup(store, Item, items),
    };

    private static readonly long[] SeedUsers = [13, 7919 * 10 + 13, 7919 * 3 + 13, 7919 * 40 + 13, 7919 * 99 + 13, 7919 * 100 + 13];
    private static readonly long[] SeedItems = [5000, 5000 + 3 * 7, 5000 + 3 * 33, 5000 + 3 * 79];

    public static TheoryData<string, SamplingStrategy> StoresAndStrategies() => new()
    {
        { "memory", SamplingStrategy.RandomWithoutReplacement },
        { "memory", SamplingStrategy.Random },
        { "memory", SamplingStrategy.EdgeWeight },
        { "hash", SamplingStrategy.RandomWithoutReplacement },
        { "metis", SamplingStrategy.RandomWithoutReplacement },
        { "hash", SamplingStrategy.TopK },
    };

    [Theory]
    [MemberData(nameof(StoresAndStrategies))]
    public async Task Blocks_keep_dst_nodes_as_a_prefix_of_src_nodes_and_every_edge_maps_back_to_a_sampled_neighbour(string store, SamplingStrategy strategy)
    {
        IGraphStore s = store == "memory" ? new HeteroGraphStore(_graph) : PartitionedStore(store);
        var fanouts = new[] { 2, 3, 4 }; // DGL order: 4 at the seeds
        var sampler = new BlockSampler(s, new BlockSamplerOptions(fanouts) { Strategy = strategy, WithWeights = true });
        var seeds = Seeds(s, SeedUsers, SeedItems);
        var batch = await sampler.SampleAsync(seeds, 99);

        Assert.Equal(3, batch.Blocks.Length);
        for (var t = 0; t < batch.NodeTypes.Count; t++)
            Assert.Equal(seeds[batch.NodeTypes[t]], batch.Blocks[^1].SrcNodes[t].AsSpan(0, batch.Blocks[^1].NumDst[t]).ToArray());
        for (var l = 0; l < batch.Blocks.Length; l++)
        {
            var block = batch.Blocks[l];
            for (var t = 0; t < block.NodeTypes.Count; t++)
            {
                var src = block.SrcNodes[t];
                Assert.Equal(src.Length, src.Distinct().Count());
                Assert.True(block.NumDst[t] <= src.Length);
                // The next block's source nodes are exactly this block's destination nodes, in order.
                if (l + 1 < batch.Blocks.Length)
                    Assert.Equal(batch.Blocks[l + 1].SrcNodes[t], src.AsSpan(0, block.NumDst[t]).ToArray());
            }
            var fanout = fanouts[l];
            foreach (var edges in block.Edges)
            {
                var srcNodes = block.SrcIds(edges.Type.Src);
                var numDst = block.NumDstOf(edges.Type.Dst);
                var dstNodes = block.DstIds(edges.Type.Dst).ToArray();
                Assert.All(edges.SrcLocal, i => Assert.InRange(i, 0, srcNodes.Length - 1));
                Assert.All(edges.DstLocal, i => Assert.InRange(i, 0, numDst - 1));
                Assert.Equal(edges.Count, edges.Weights!.Length);
                var all = InNeighbors(s, edges.Type, dstNodes);
                var perDst = new List<int>[numDst];
                for (var i = 0; i < numDst; i++) perDst[i] = [];
                for (var e = 0; e < edges.Count; e++) perDst[edges.DstLocal[e]].Add(srcNodes[edges.SrcLocal[e]]);
                for (var i = 0; i < numDst; i++)
                {
                    Assert.All(perDst[i], n => Assert.Contains(n, all[i]));
                    if (strategy == SamplingStrategy.Random || strategy == SamplingStrategy.EdgeWeight)
                        Assert.True(perDst[i].Count == (all[i].Length == 0 ? 0 : fanout));
                    else
                    {
                        Assert.True(perDst[i].Count <= fanout);
                        // Degree ≤ fanout: the whole row, each edge once.
                        if (all[i].Length <= fanout) Assert.Equal(all[i].Order(), perDst[i].Order());
                        else Assert.Equal(fanout, perDst[i].Count);
                    }
                }
            }
        }
        // Every node of every type that appears as an input was relabelled exactly once and carries its features.
        for (var t = 0; t < batch.NodeTypes.Count; t++)
        {
            var type = batch.NodeTypes[t];
            var dim = s.Schema.Node(type).FeatureDim;
            var ids = batch.InputNodes[t];
            var feats = batch.InputFeatures[t]!;
            Assert.Equal(ids.Length * dim, feats.Length);
            var business = Business(s, type, ids);
            var memory = _graph.Nodes(type);
            for (var i = 0; i < ids.Length; i++)
                Assert.Equal(memory.Features.Row(memory.Ids.GetDense(business[i])).ToArray(), feats.AsSpan(i * dim, dim).ToArray());
        }
        var labels = batch.LabelsOf(User)!;
        var seedBusiness = Business(s, User, batch.SeedIds(User));
        for (var i = 0; i < labels.Length; i++) Assert.Equal((int)((seedBusiness[i] - 13) / 7919 % 4), labels[i]);
        Assert.Null(batch.LabelsOf(Item));
        (s as IDisposable)?.Dispose();
    }

    [Theory]
    [InlineData("hash")]
    [InlineData("metis")]
    public async Task Full_neighbourhood_blocks_over_a_graph_and_over_its_three_partitions_are_identical_after_mapping_business_ids(string method)
    {
        var memory = new HeteroGraphStore(_graph);
        using var parted = PartitionedStore(method);
        var options = new BlockSamplerOptions([-1, -1]) { WithWeights = true };
        var a = await new BlockSampler(memory, options).SampleAsync(Seeds(memory, SeedUsers, SeedItems), 1);
        var b = await new BlockSampler(parted, options).SampleAsync(Seeds(parted, SeedUsers, SeedItems), 2);
        Assert.Equal(Canonical(memory, a), Canonical(parted, b));
        Assert.True(a.EdgeCount > 100);
    }

    // A block in business ids, order-free: per type the dst list (ordered: it is the previous frontier's dedup order,
    // which depends on row order) compared as a set, src as a set, and per edge type the sorted edge multiset.
    private static List<string> Canonical(IGraphStore store, MiniBatch batch)
    {
        var lines = new List<string>();
        foreach (var block in batch.Blocks)
        {
            for (var t = 0; t < block.NodeTypes.Count; t++)
            {
                var type = block.NodeTypes[t];
                var src = Business(store, type, block.SrcNodes[t]);
                lines.Add($"{type} dst {block.NumDst[t]}: {string.Join(",", src.Take(block.NumDst[t]).Order())}");
                lines.Add($"{type} src {src.Length}: {string.Join(",", src.Order())}");
            }
            foreach (var e in block.Edges)
            {
                var src = Business(store, e.Type.Src, block.SrcIds(e.Type.Src));
                var dst = Business(store, e.Type.Dst, block.DstIds(e.Type.Dst));
                lines.Add($"{e.Type}: " + string.Join(",", Enumerable.Range(0, e.Count)
                    .Select(i => $"{src[e.SrcLocal[i]]}>{dst[e.DstLocal[i]]}:{e.Weights![i]}").Order()));
            }
        }
        return lines;
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_batches_and_another_seed_other_ones()
    {
        var store = new HeteroGraphStore(_graph);
        var options = new BlockSamplerOptions([3, 3]);
        async Task<List<MiniBatch>> Epoch(ulong seed, int epoch)
        {
            var loader = await NodeBatchLoader.ForSplitAsync(new BlockSampler(store, options), User, SplitKind.Train, 16, dropLast: false, seed);
            var list = new List<MiniBatch>();
            await foreach (var b in loader.EpochAsync(epoch)) list.Add(b);
            return list;
        }
        var first = await Epoch(5, 0);
        var again = await Epoch(5, 0);
        Assert.Equal(first.Count, again.Count);
        for (var i = 0; i < first.Count; i++) AssertSameBatch(first[i], again[i]);
        var other = await Epoch(5, 1);
        Assert.NotEqual(first[0].SeedIds(User).ToArray(), other[0].SeedIds(User).ToArray());
        // Every train node is a seed exactly once per epoch.
        var train = await store.GetSplitAsync(User, SplitKind.Train);
        Assert.Equal(train.Order(), first.SelectMany(b => b.SeedIds(User).ToArray()).Order());
    }

    [Fact]
    public async Task Drop_last_drops_the_short_batch()
    {
        var store = new HeteroGraphStore(_graph);
        var seeds = Enumerable.Range(0, 50).ToArray();
        var keep = new NodeBatchLoader(new BlockSampler(store, new([2])), User, seeds, 16, dropLast: false, 1);
        var drop = new NodeBatchLoader(new BlockSampler(store, new([2])), User, seeds, 16, dropLast: true, 1);
        Assert.Equal(4, keep.BatchCount);
        Assert.Equal(3, drop.BatchCount);
        var sizes = new List<int>();
        await foreach (var b in keep.EpochAsync(0)) sizes.Add(b.SeedIds(User).Length);
        Assert.Equal([16, 16, 16, 2], sizes);
    }

    [Fact]
    public async Task The_prefetcher_yields_the_same_sequence_as_the_plain_enumerator()
    {
        var store = new HeteroGraphStore(_graph);
        var options = new BlockSamplerOptions([3, 4]);
        var plain = new List<MiniBatch>();
        await foreach (var b in new NodeBatchLoader(new BlockSampler(store, options), User, Enumerable.Range(0, 120).ToArray(), 10, false, 3).EpochAsync(2))
            plain.Add(b);
        var prefetched = new List<MiniBatch>();
        await foreach (var b in new NodeBatchLoader(new BlockSampler(store, options), User, Enumerable.Range(0, 120).ToArray(), 10, false, 3).EpochAsync(2).Prefetched(2))
            prefetched.Add(b);
        Assert.Equal(plain.Count, prefetched.Count);
        for (var i = 0; i < plain.Count; i++) AssertSameBatch(plain[i], prefetched[i]);
    }

    [Fact]
    public async Task The_prefetcher_passes_a_source_failure_to_the_consumer()
    {
        static async IAsyncEnumerable<int> Failing()
        {
            yield return 1;
            await Task.Yield();
            throw new InvalidOperationException("boom");
        }
        var seen = new List<int>();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(async () => { await foreach (var i in Failing().Prefetched(1)) seen.Add(i); });
        Assert.Equal("boom", e.Message);
        Assert.Equal([1], seen);
    }

    [Fact]
    public async Task Duplicate_seeds_are_refused()
    {
        var sampler = new BlockSampler(new HeteroGraphStore(_graph), new([2]));
        await Assert.ThrowsAsync<ArgumentException>(async () => await sampler.SampleAsync(new Dictionary<NodeType, int[]> { [User] = [1, 2, 1] }, 0));
    }

    [Fact]
    public async Task Per_edge_type_fanouts_override_the_list_and_zero_skips_the_type()
    {
        var store = new HeteroGraphStore(_graph);
        var options = new BlockSamplerOptions([5]) { EdgeTypeFanouts = new Dictionary<CanonicalEdgeType, IReadOnlyList<int>> { [Follows] = [0], [I2I] = [1] } };
        var batch = await new BlockSampler(store, options).SampleAsync(new Dictionary<NodeType, int[]> { [User] = Enumerable.Range(0, 120).ToArray(), [Item] = Enumerable.Range(0, 80).ToArray() }, 4);
        Assert.Equal(0, batch.Blocks[0].EdgesOf(Follows).Count);
        var i2i = batch.Blocks[0].EdgesOf(I2I);
        Assert.All(i2i.DstLocal.GroupBy(d => d), g => Assert.Single(g));
        Assert.Contains(batch.Blocks[0].EdgesOf(U2I).DstLocal.GroupBy(d => d), g => g.Count() == 5);
    }

    [Fact]
    public async Task Owner_grouping_scatters_every_partition_answer_back_in_seed_order()
    {
        using var parted = PartitionedStore("hash");
        var ids = new[] { 5, 0, 119, 7, 64, 5 - 5, 33 };
        var labels = new int[ids.Length];
        await parted.GatherLabelsAsync(User, ids, labels);
        var business = Business(parted, User, ids);
        for (var i = 0; i < ids.Length; i++) Assert.Equal((int)((business[i] - 13) / 7919 % 4), labels[i]);
        var degrees = new int[ids.Length];
        await parted.GetDegreesAsync(U2I, false, ids, degrees);
        var memory = new HeteroGraphStore(_graph);
        var memIds = Lookup(memory, User, business);
        var expected = new int[ids.Length];
        await memory.GetDegreesAsync(U2I, false, memIds, expected);
        Assert.Equal(expected, degrees);
    }
}
