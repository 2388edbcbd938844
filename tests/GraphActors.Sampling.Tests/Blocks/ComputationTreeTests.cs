// A seed's sampled computation tree depends on the batch seed and the seed alone: not on the batch's other seeds,
// their order, or how many partitions serve the graph.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using static GraphActors.Sampling.Tests.Blocks.BlockTestSupport;

namespace GraphActors.Sampling.Tests.Blocks;

/// <summary>
/// One random graph (<see cref="RangeHetero"/>) as an in-memory store and as partition stores of 1 and 4 parts whose
/// global ids coincide (hash partitioning of its business ids keeps every dense id), built once for the class.
/// </summary>
public sealed class ComputationTreeStores : IDisposable
{
    public ComputationTreeStores()
    {
        Graph = RangeHetero();
        Memory = new HeteroGraphStore(Graph);
        One = Open(1);
        Four = Open(4);
    }

    public HeteroGraph Graph { get; }
    public HeteroGraphStore Memory { get; }
    public PartitionedGraphStore One { get; }
    public PartitionedGraphStore Four { get; }
    private readonly List<string> _dirs = [];

    private PartitionedGraphStore Open(int parts)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ga-trees-{parts}-{Guid.NewGuid():N}");
        GraphPartitioner.Run(new HeteroGraphSource(Graph), new PartitionOptions(dir, parts, HashPartitioner.MethodName));
        _dirs.Add(dir);
        return new PartitionedGraphStore(PartitionStore.Open(dir));
    }

    public IEnumerable<(string Name, IGraphStore Store)> All =>
        [("memory", Memory), ("1 part", One), ("4 parts", Four)];

    public void Dispose()
    {
        One.Dispose();
        Four.Dispose();
        foreach (var d in _dirs) try { Directory.Delete(d, recursive: true); } catch (IOException) { }
    }
}

public sealed class ComputationTreeTests(ComputationTreeStores stores) : IClassFixture<ComputationTreeStores>
{
    // Users 0, 30, 60 and 90 are hubs (150 u2i edges): a fanout of 80 at the seeds takes Floyd's hashed path on their
    // u2i_reverse rows; 3-4-5 keeps the frontier small enough that A's is a real subset of A ∪ B's.
    private static readonly int[][] FanoutSets = [[3, 4, 5], [2, 80]];

    public static TheoryData<SamplingStrategy, ReverseEdges, int> Cases()
    {
        var data = new TheoryData<SamplingStrategy, ReverseEdges, int>();
        foreach (var s in new[] { SamplingStrategy.Random, SamplingStrategy.RandomWithoutReplacement, SamplingStrategy.EdgeWeight, SamplingStrategy.TopK, SamplingStrategy.Full })
            foreach (var r in new[] { ReverseEdges.None, ReverseEdges.AddReverse, ReverseEdges.Bidirected })
                for (var f = 0; f < FanoutSets.Length; f++)
                    data.Add(s, r, f);
        return data;
    }

    private static readonly Dictionary<NodeType, int[]> A = new()
    {
        [User] = [0, 7, 13, 60, 61, 99, 118],
        [Item] = [2, 40, 77],
    };

    private static readonly Dictionary<NodeType, int[]> B = new()
    {
        [User] = [1, 8, 30, 55, 100, 119],
        [Item] = [3, 41, 42, 79],
    };

    private static Dictionary<NodeType, int[]> Union(Dictionary<NodeType, int[]> a, Dictionary<NodeType, int[]> b, int shuffle) =>
        a.Keys.ToDictionary(t => t, t => Shuffled(a[t].Concat(b[t]).ToArray(), shuffle));

    private static int[] Shuffled(int[] ids, int seed)
    {
        var rnd = new Random(seed);
        return ids.OrderBy(_ => rnd.Next()).ToArray();
    }

    private static BlockSampler Sampler(IGraphStore store, SamplingStrategy strategy, ReverseEdges reverse, int fanouts) =>
        new(store, new BlockSamplerOptions(FanoutSets[fanouts]) { Strategy = strategy, ReverseEdges = reverse, WithWeights = true, GatherFeatures = false });

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_seed_of_a_batch_gets_the_tree_it_gets_alone_and_in_any_order(SamplingStrategy strategy, ReverseEdges reverse, int fanouts)
    {
        foreach (var (name, store) in stores.All)
        {
            var alone = Trees(await Sampler(store, strategy, reverse, fanouts).SampleAsync(A, 1234));
            var reordered = Trees(await Sampler(store, strategy, reverse, fanouts).SampleAsync(A.ToDictionary(kv => kv.Key, kv => Shuffled(kv.Value, 5)), 1234));
            var together = Trees(await Sampler(store, strategy, reverse, fanouts).SampleAsync(Union(A, B, 9), 1234));

            Assert.True(alone.Count(kv => kv.Value.Length > 0) > 20, $"{name}: the trees should be more than a handful of edges");
            Assert.True(alone.Keys.ToHashSet().SetEquals(reordered.Keys), $"{name}: reordering A changed its blocks' nodes");
            foreach (var (node, neighbours) in alone)
            {
                Assert.Equal(neighbours, reordered[node]);
                // A's frontier at every hop is inside A ∪ B's, so the node is there, with the same sampled neighbours.
                Assert.True(together.TryGetValue(node, out var there), $"{name}: {node} is in A's blocks but not in A ∪ B's");
                Assert.True(neighbours.SequenceEqual(there), $"{name}: {node} got [{string.Join(",", neighbours)}] alone and [{string.Join(",", there)}] with B");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_batch_over_one_partition_and_over_four_has_the_same_nodes_and_edges(SamplingStrategy strategy, ReverseEdges reverse, int fanouts)
    {
        var seeds = Union(A, B, 3);
        var one = await Sampler(stores.One, strategy, reverse, fanouts).SampleAsync(seeds, 77);
        var four = await Sampler(stores.Four, strategy, reverse, fanouts).SampleAsync(seeds, 77);
        Assert.Equal(Nodes(one), Nodes(four));
        Assert.Equal(Edges(one), Edges(four));
        Assert.True(one.EdgeCount > 50, $"the batch should walk real edges, got {one.EdgeCount}");
    }

    [Fact]
    public void The_two_partition_stores_give_every_node_the_same_global_id()
    {
        foreach (var type in new[] { User, Item })
        {
            var ids = Enumerable.Range(0, stores.One.Schema.Node(type).Count).ToArray();
            Assert.Equal(Business(stores.One, type, ids), Business(stores.Four, type, ids));
            Assert.Equal(Business(stores.Memory, type, ids), Business(stores.Four, type, ids));
        }
        Assert.All(stores.Four.Partitions, p => Assert.True(p.Nodes(User).Count > 0 && p.Nodes(Item).Count > 0));
    }

    [Theory]
    [InlineData(NegativeStrategy.Random)]
    [InlineData(NegativeStrategy.SmoothedInDegree)]
    public async Task Link_batches_with_their_negatives_are_the_same_over_one_partition_and_over_four(NegativeStrategy negatives)
    {
        var edges = await stores.One.GetEdgesAsync(U2I);
        var picked = Enumerable.Range(0, edges.Count).Where(i => i % 7 == 0).ToArray();
        var src = picked.Select(i => edges.Src[i]).ToArray();
        var dst = picked.Select(i => edges.Dst[i]).ToArray();
        Assert.True(src.Length > src.Distinct().Count(), "some source should appear twice (hubs have many edges)");
        LinkBatchSampler Link(IGraphStore store) => new(new BlockSampler(store, new BlockSamplerOptions([3, 4]) { GatherFeatures = false }),
            new LinkBatchOptions(U2I, 3) { NegativeStrategy = negatives });
        var one = await Link(stores.One).SampleAsync(src, dst, 5);
        var four = await Link(stores.Four).SampleAsync(src, dst, 5);
        Assert.Equal(one.NegDst, four.NegDst);
        Assert.Equal(one.NegativeStats, four.NegativeStats);
        Assert.Equal(one.Graph.SeedIds(Item).ToArray(), four.Graph.SeedIds(Item).ToArray());
        Assert.Equal(Edges(one.Graph), Edges(four.Graph));

        // A source listed twice gets two independent draws of negatives, not one set repeated.
        var items = one.Graph.SeedIds(Item).ToArray();
        var bySource = src.Select((s, i) => (s, Negs: string.Join(",", one.NegDst.Skip(i * 3).Take(3).Select(n => items[n]))))
            .GroupBy(x => x.s).Where(g => g.Count() > 1).ToArray();
        Assert.NotEmpty(bySource);
        Assert.Contains(bySource, g => g.Select(x => x.Negs).Distinct().Count() > 1);
    }

    /// <summary>
    /// Per hop (0 at the seeds) and relation, every destination node's sampled in-neighbours as global ids, sorted (the
    /// multiset the sampler drew; local indices and row order are the block's own business). Nodes with none map to [].
    /// </summary>
    private static Dictionary<(int Hop, CanonicalEdgeType Relation, int Node), int[]> Trees(MiniBatch batch)
    {
        var trees = new Dictionary<(int, CanonicalEdgeType, int), int[]>();
        for (var l = 0; l < batch.Blocks.Length; l++)
        {
            var hop = batch.Blocks.Length - 1 - l;
            var block = batch.Blocks[l];
            foreach (var edges in block.Edges)
            {
                var src = block.SrcIds(edges.Type.Src);
                var dst = block.DstIds(edges.Type.Dst).ToArray();
                var rows = dst.Select(_ => new List<int>()).ToArray();
                for (var e = 0; e < edges.Count; e++) rows[edges.DstLocal[e]].Add(src[edges.SrcLocal[e]]);
                for (var i = 0; i < dst.Length; i++) trees[(hop, edges.Type, dst[i])] = rows[i].Order().ToArray();
            }
        }
        return trees;
    }

    /// <summary>Per block and node type, the source and destination node sets (global ids, sorted).</summary>
    private static List<string> Nodes(MiniBatch batch) =>
        batch.Blocks.SelectMany((b, l) => b.NodeTypes.Select(t =>
            $"{l} {t}: src {string.Join(",", b.SrcIds(t).Order())} dst {string.Join(",", b.DstIds(t).ToArray().Order())}")).ToList();

    /// <summary>Per block and relation, the edges as a sorted multiset of (global src, global dst, weight).</summary>
    private static List<string> Edges(MiniBatch batch) =>
        batch.Blocks.SelectMany((b, l) => b.Edges.Select(e =>
        {
            var src = b.SrcIds(e.Type.Src);
            var dst = b.DstIds(e.Type.Dst).ToArray();
            var list = Enumerable.Range(0, e.Count)
                .Select(i => (src[e.SrcLocal[i]], dst[e.DstLocal[i]], e.Weights is null ? 1f : e.Weights[i]))
                .Order().Select(x => x.ToString());
            return $"{l} {e.Type}: {string.Join(" ", list)}";
        })).ToList();
}
