// PartitionServers answering their share of a call draw exactly what the local PartitionedGraphStore draws for it.
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts;
using GraphActors.Contracts.Protocols;
using GraphActors.Graph.Storage;
using GraphActors.Sampling;
using static GraphActors.Contracts.Protocols.PartitionProtocol;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Tests.Partitions;

/// <summary>The two partitions of the test store, each behind its own PartitionServer (no actors), beside the local store.</summary>
public sealed class PartitionServerSamplingTests : IDisposable
{
    private readonly PartitionStore _store = PartitionStore.Open(TestStore.TwoParts);
    private readonly PartitionServer[] _servers;
    private readonly PartitionedGraphStore _local;
    private long _requestId;

    public PartitionServerSamplingTests()
    {
        var degrees = GraphActors.Sampling.DegreeTables.OfStore(TestStore.TwoParts);
        _servers = Enumerable.Range(0, _store.Parts).Select(p => new PartitionServer(_store.LoadPartition(p), degrees)).ToArray();
        _local = new PartitionedGraphStore(_store);
    }

    public void Dispose()
    {
        foreach (var s in _servers) s.Dispose();
        _local.Dispose();
    }

    public static TheoryData<NeighborStrategy, int, bool> Cases()
    {
        var data = new TheoryData<NeighborStrategy, int, bool>();
        foreach (var s in new[] { NeighborStrategy.Random, NeighborStrategy.RandomWithoutReplacement, NeighborStrategy.EdgeWeight, NeighborStrategy.TopK, NeighborStrategy.Full })
            foreach (var edge in new[] { 0, 1 })
                foreach (var incoming in new[] { true, false })
                    data.Add(s, edge, incoming);
        return data;
    }

    private static CanonicalEdgeType EdgeType(int edge) => edge == 0 ? TestStore.Click : TestStore.Follow;

    /// <summary>What a remote store does: the ids each partition owns, in call order, one GetNeighbors each with the call's seed; rows back in call order.</summary>
    private (int[] Neighbors, float[] Weights)[] AskServers(CanonicalEdgeType type, bool incoming, int[] ids, int fanout, NeighborStrategy strategy, ulong seed)
    {
        var rowType = incoming ? type.Dst : type.Src;
        var rows = new (int[], float[])[ids.Length];
        for (var p = 0; p < _servers.Length; p++)
        {
            var positions = Enumerable.Range(0, ids.Length).Where(i => _store.Book.Owner(rowType, ids[i]) == p).ToArray();
            if (positions.Length == 0) continue;
            var reply = _servers[p].Handle(new GetNeighbors(++_requestId, p, type, incoming ? EdgeDirection.In : EdgeDirection.Out,
                positions.Select(i => ids[i]).ToArray(), fanout, strategy, seed, 0));
            var result = Assert.IsType<NeighborsResult>(reply);
            for (var j = 0; j < positions.Length; j++)
            {
                var (a, b) = (result.Offsets[j], result.Offsets[j + 1]);
                rows[positions[j]] = (result.Neighbors[a..b], result.Weights[a..b]);
            }
        }
        return rows;
    }

    private async Task<(int[] Neighbors, float[] Weights)[]> AskLocal(CanonicalEdgeType type, bool incoming, int[] ids, int fanout, NeighborStrategy strategy, ulong seed)
    {
        using var s = await _local.SampleNeighborsAsync(type, incoming, ids, fanout, PartitionServer.ToKernel(strategy), seed, withWeights: true);
        return Enumerable.Range(0, ids.Length)
            .Select(i => (s.Neighbors[s.Offsets[i]..s.Offsets[i + 1]].ToArray(), s.Weights[s.Offsets[i]..s.Offsets[i + 1]].ToArray())).ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Servers_sampling_their_share_with_the_calls_seed_give_the_local_stores_rows(NeighborStrategy strategy, int edge, bool incoming)
    {
        var type = EdgeType(edge);
        var rowType = incoming ? type.Dst : type.Src;
        var count = _store.Book.NodeCount(rowType);
        var ids = Enumerable.Range(0, count).Where(i => i % 3 != 1).OrderBy(i => (i * 7919) % 101).ToArray();
        var servers = AskServers(type, incoming, ids, 4, strategy, 31);
        var local = await AskLocal(type, incoming, ids, 4, strategy, 31);
        Assert.True(servers.Sum(r => r.Neighbors.Length) > 100);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.Equal(local[i].Neighbors, servers[i].Neighbors);
            Assert.Equal(local[i].Weights, servers[i].Weights);
        }
    }

    [Theory]
    [InlineData(NeighborStrategy.Random)]
    [InlineData(NeighborStrategy.RandomWithoutReplacement)]
    [InlineData(NeighborStrategy.EdgeWeight)]
    public void A_servers_row_for_a_node_is_the_same_asked_alone_or_among_others(NeighborStrategy strategy)
    {
        var users = _store.Book.NodeCount("user");
        var all = AskServers(TestStore.Follow, true, Enumerable.Range(0, users).ToArray(), 3, strategy, 8);
        foreach (var id in new[] { 0, 17, users / 2, users - 1 })
            Assert.Equal(all[id].Neighbors, AskServers(TestStore.Follow, true, [id], 3, strategy, 8)[0].Neighbors);
        Assert.NotEqual(all.SelectMany(r => r.Neighbors), AskServers(TestStore.Follow, true, Enumerable.Range(0, users).ToArray(), 3, strategy, 9).SelectMany(r => r.Neighbors));
    }

    [Theory]
    [InlineData(NegativeStrategyKind.Random)]
    [InlineData(NegativeStrategyKind.InDegree)]
    public async Task Servers_drawing_negatives_for_their_sources_with_the_calls_seed_give_the_local_stores_negatives(NegativeStrategyKind strategy)
    {
        const int k = 3;
        var users = _store.Book.NodeCount("user");
        // Sources repeat (a user with several positive edges): each listing draws its own negatives, in both stores.
        var sources = Enumerable.Range(0, 300).Select(i => (i * 37) % users).ToArray();
        var expected = new int[sources.Length * k];
        var stats = await _local.SampleNegativesAsync(TestStore.Click, sources, k,
            strategy == NegativeStrategyKind.InDegree ? NegativeStrategy.SmoothedInDegree : NegativeStrategy.Random, true, 44, expected);

        var drawn = new int[sources.Length * k];
        int requested = 0, redrawn = 0, unresolved = 0;
        for (var p = 0; p < _servers.Length; p++)
        {
            var positions = Enumerable.Range(0, sources.Length).Where(i => _store.Book.Owner("user", sources[i]) == p).ToArray();
            var reply = Assert.IsType<NegativesResult>(_servers[p].Handle(new GetNegatives(++_requestId, p, TestStore.Click,
                positions.Select(i => sources[i]).ToArray(), k, strategy, true, 44, 0)));
            for (var j = 0; j < positions.Length; j++) reply.Negatives.AsSpan(j * k, k).CopyTo(drawn.AsSpan(positions[j] * k));
            (requested, redrawn, unresolved) = (requested + reply.Requested, redrawn + reply.Redrawn, unresolved + reply.Unresolved);
        }
        Assert.Equal(expected, drawn);
        Assert.Equal(stats, new NegativeSampleStats(requested, redrawn, unresolved));
        Assert.True(sources.Length > sources.Distinct().Count());
    }
}
