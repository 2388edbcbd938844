using GraphActors.Contracts;
using static GraphActors.Sampling.Tests.Blocks.BlockTestSupport;

namespace GraphActors.Sampling.Tests.Blocks;

public sealed class ReverseEdgesTests : IDisposable
{
    private readonly string _dir = Partition(Hetero(), "hash");
    private readonly PartitionedGraphStore _store;

    public ReverseEdgesTests() => _store = new PartitionedGraphStore(GraphActors.Graph.Storage.PartitionStore.Open(_dir));

    public void Dispose()
    {
        _store.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static readonly CanonicalEdgeType I2IReverse = I2I.Reverse();

    private int[][] OutNeighbors(CanonicalEdgeType type, int[] ids)
    {
        using var s = _store.SampleNeighborsAsync(type, false, ids, 1, SamplingStrategy.Full, 0).AsTask().Result;
        var rows = new int[ids.Length][];
        for (var i = 0; i < ids.Length; i++) rows[i] = s.Neighbors[s.Offsets[i]..s.Offsets[i + 1]].ToArray();
        return rows;
    }

    private static int[][] Rows(MiniBatch batch, CanonicalEdgeType type)
    {
        var block = batch.Blocks[^1];
        var edges = block.EdgesOf(type);
        var src = block.SrcIds(type.Src);
        var rows = Enumerable.Range(0, block.NumDstOf(type.Dst)).Select(_ => new List<int>()).ToArray();
        for (var e = 0; e < edges.Count; e++) rows[edges.DstLocal[e]].Add(src[edges.SrcLocal[e]]);
        return rows.Select(r => r.Order().ToArray()).ToArray();
    }

    private static readonly int[] Seeds = [0, 3, 7, 11, 20, 39];

    [Fact]
    public async Task AddReverse_adds_a_virtual_reverse_relation_read_from_the_out_csr()
    {
        var sampler = new BlockSampler(_store, new BlockSamplerOptions([-1]) { ReverseEdges = ReverseEdges.AddReverse });
        Assert.Contains(I2IReverse, sampler.Relations);
        Assert.DoesNotContain(U2I.Reverse().Reverse(), sampler.Relations.Skip(_store.Schema.EdgeTypes.Count)); // stored reverse: no virtual twin
        Assert.Equal(I2IReverse, sampler.VirtualReverseOf(I2I));
        var batch = await sampler.SampleAsync(new Dictionary<NodeType, int[]> { [Item] = Seeds }, 5);
        var expected = OutNeighbors(I2I, Seeds).Select(r => r.Order().ToArray()).ToArray();
        Assert.Equal(expected, Rows(batch, I2IReverse));
        Assert.Equal(InNeighbors(_store, I2I, Seeds).Select(r => r.Order().ToArray()).ToArray(), Rows(batch, I2I));
    }

    [Fact]
    public async Task Bidirected_merges_a_same_type_relation_with_its_reverse_without_duplicates()
    {
        var sampler = new BlockSampler(_store, new BlockSamplerOptions([-1]) { ReverseEdges = ReverseEdges.Bidirected });
        Assert.DoesNotContain(I2IReverse, sampler.Relations);
        Assert.Equal(I2I, sampler.VirtualReverseOf(I2I));
        var batch = await sampler.SampleAsync(new Dictionary<NodeType, int[]> { [Item] = Seeds }, 5);
        var ins = InNeighbors(_store, I2I, Seeds);
        var outs = OutNeighbors(I2I, Seeds);
        var expected = Seeds.Select((_, i) => ins[i].Concat(outs[i]).Distinct().Order().ToArray()).ToArray();
        Assert.Equal(expected, Rows(batch, I2I));
    }

    [Fact]
    public async Task Bidirected_rows_are_cut_to_the_fanout()
    {
        var sampler = new BlockSampler(_store, new BlockSamplerOptions([2]) { ReverseEdges = ReverseEdges.Bidirected });
        var batch = await sampler.SampleAsync(new Dictionary<NodeType, int[]> { [Item] = Seeds }, 5);
        Assert.All(Rows(batch, I2I), r => { Assert.True(r.Length <= 2); Assert.Equal(r.Length, r.Distinct().Count()); });
    }

    [Theory]
    [InlineData(ReverseEdges.AddReverse)]
    [InlineData(ReverseEdges.Bidirected)]
    public async Task Excluding_a_stored_edge_excludes_its_virtual_reverse_too(ReverseEdges mode)
    {
        var outs = OutNeighbors(I2I, Seeds);
        var seed = Seeds.Select((s, i) => (s, i)).First(x => outs[x.i].Length > 0);
        var target = outs[seed.i][0];
        var exclude = new EdgeExclusion();
        exclude.Add(I2I, seed.s, target); // stored edge seed → target: the reverse message target → seed must go too
        exclude.Add(I2I, target, seed.s);
        var sampler = new BlockSampler(_store, new BlockSamplerOptions([-1]) { ReverseEdges = mode });
        var batch = await sampler.SampleAsync(new Dictionary<NodeType, int[]> { [Item] = Seeds }, 5, exclude);
        var relation = mode == ReverseEdges.AddReverse ? I2IReverse : I2I;
        Assert.DoesNotContain(target, Rows(batch, relation)[seed.i]);
    }

    [Fact]
    public async Task Link_batches_exclude_the_virtual_reverse_when_the_store_knows_no_reverse()
    {
        var blocks = new BlockSampler(_store, new BlockSamplerOptions([-1]) { ReverseEdges = ReverseEdges.AddReverse });
        var link = new LinkBatchSampler(blocks, new LinkBatchOptions(I2I, 1) { Exclude = LinkExclusion.SelfAndReverse });
        var all = await _store.GetEdgesAsync(I2I);
        var batch = await link.SampleAsync(all.Src.AsMemory(0, 20), all.Dst.AsMemory(0, 20), 3);
        var block = batch.Graph.Blocks[^1];
        var seeds = block.DstIds(Item).ToArray();
        var rev = Rows(batch.Graph, I2IReverse);
        for (var i = 0; i < 20; i++)
        {
            // positive (s, d): no message d → s along the reverse, nor s → d along i2i
            var s = all.Src[i]; var d = all.Dst[i];
            Assert.DoesNotContain(d, rev[Array.IndexOf(seeds, s)]);
            Assert.DoesNotContain(s, Rows(batch.Graph, I2I)[Array.IndexOf(seeds, d)]);
        }
    }
}
