using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.TestSupport;
using Decoder = GraphActors.Graph.GraphLearn.Decoder;
using GlGraph = GraphActors.Graph.GraphLearn.Graph;

namespace GraphActors.Sampling.Tests;

/// <summary>
/// GSL over a partitioned graph store (what a ClusterGraph's remote store serves) against local GSL on the same graph:
/// the same shapes, sources, epoch ends, features and labels; neighbours that are real; refusals where the store cannot
/// do what local mode does.
/// </summary>
public sealed class GslStoreTests : IDisposable
{
    private const int Users = 60;
    private const int Items = 25;
    private static readonly CanonicalEdgeType U2I = new("user", "u2i", "item");
    private static readonly CanonicalEdgeType I2I = new("item", "i2i", "item");

    private readonly HeteroGraph _graph;
    private readonly HashSet<(long User, long Item)> _bought = [];
    private readonly Dictionary<long, float[]> _features = [];
    private readonly Dictionary<long, int> _labels = [];
    private readonly Dictionary<(long User, long Item), float> _weights = [];
    private readonly List<string> _dirs = [];
    private readonly Dictionary<int, PartitionedGraphStore> _stores = [];

    public GslStoreTests() => _graph = Build();

    private static long UserId(int u) => 5000 + 7 * u;
    private static long ItemId(int i) => 100 + i;

    // Users in ascending business id (so local file order is business id order); every 11th user buys nothing; every item is bought.
    private HeteroGraph Build()
    {
        var rnd = new Random(3);
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Floats(3), labeled: true);
        for (var u = 0; u < Users; u++)
        {
            float[] f = [u, u * 0.5f, -u];
            users.TryAdd(UserId(u), f, u % 3, out _);
            _features[UserId(u)] = f;
            _labels[UserId(u)] = u % 3;
        }
        var items = b.AddNodeType("item", AttributeSchema.Floats(2));
        for (var i = 0; i < Items; i++)
        {
            float[] f = [i + 0.25f, 1];
            items.TryAdd(ItemId(i), f, -1, out _);
            _features[ItemId(i)] = f;
        }
        var u2i = b.AddEdgeType(U2I, AttributeSchema.Empty, weighted: true, directed: false);
        for (var u = 0; u < Users; u++)
        {
            if (u % 11 == 0) continue;
            var picked = new HashSet<int> { u % Items };
            var degree = 1 + rnd.Next(6);
            while (picked.Count < degree) picked.Add(rnd.Next(Items));
            var j = 0;
            foreach (var i in picked)
            {
                var w = 1 + u * 0.01f + j++ * 0.1f; // distinct within a row, so topk has one answer
                u2i.Add(u, i, w);
                _bought.Add((UserId(u), ItemId(i)));
                _weights[(UserId(u), ItemId(i))] = w;
            }
        }
        var i2i = b.AddEdgeType(I2I, AttributeSchema.Empty, weighted: true);
        for (var i = 0; i < Items; i++) i2i.Add(i, (i + 1) % Items, 0.5f);
        return b.Build();
    }

    private PartitionedGraphStore Store(int parts)
    {
        if (_stores.TryGetValue(parts, out var s)) return s;
        var dir = Path.Combine(Path.GetTempPath(), $"ga-gsl-store-{Guid.NewGuid():N}");
        _dirs.Add(dir);
        GraphPartitioner.Run(new HeteroGraphSource(_graph), new PartitionOptions(dir, parts, HashPartitioner.MethodName));
        return _stores[parts] = new PartitionedGraphStore(PartitionStore.Open(dir));
    }

    public void Dispose()
    {
        foreach (var s in _stores.Values) s.Dispose();
        foreach (var d in _dirs) Directory.Delete(d, recursive: true);
    }

    private static List<GslBatch> Epoch(GslDataset ds)
    {
        var batches = new List<GslBatch>();
        while (ds.TryNext(out var b)) batches.Add(b);
        return batches;
    }

    // GraphLearn's loop: Next() until OutOfRange, which ends the epoch; the call after starts the next one.
    private static List<GslBatch> UntilOutOfRange(GslDataset ds)
    {
        var batches = new List<GslBatch>();
        while (true)
        {
            try { batches.Add(ds.Next()); }
            catch (OutOfRangeException) { return batches; }
        }
    }

    private void AssertColumnsAreTheNodes(NodeResult nodes)
    {
        var dim = nodes.Columns.FloatAttrCount;
        for (var j = 0; j < nodes.Count; j++)
        {
            if (nodes.DenseIds[j] < 0)
            {
                Assert.All(nodes.FloatAttrs[(j * dim)..((j + 1) * dim)], v => Assert.Equal(0f, v));
                continue;
            }
            Assert.Equal(_features[nodes.Ids[j]], nodes.FloatAttrs[(j * dim)..((j + 1) * dim)]);
            if (nodes.Labels is { } labels) Assert.Equal(_labels[nodes.Ids[j]], labels[j]);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_two_hop_query_over_the_store_has_local_modes_batches_shapes_and_epoch_end_with_real_neighbours_and_their_own_features(int parts)
    {
        GslQuery Query(GslQuery v) => v.Batch(16).Alias("u").OutV("u2i").Sample(3).By("random").Alias("i")
            .InV("u2i").Sample(2).By("edge_weight").Alias("u2");
        using var local = Query(_graph.V("user")).Values();
        using var store = Query(new GslStore(Store(parts)).V("user")).Values();
        Assert.Equal(local.BatchesPerEpoch, store.BatchesPerEpoch);
        Assert.Equal(4, store.BatchesPerEpoch);

        var expected = UntilOutOfRange(local);
        var got = UntilOutOfRange(store);
        Assert.Equal(expected.Count, got.Count);
        Assert.Equal(0, store.Next().Index); // the call after the end starts the next epoch
        Assert.Equal(1, store.EpochsStarted - 1);
        for (var b = 0; b < got.Count; b++)
        {
            foreach (var alias in new[] { "u", "i", "u2" })
            {
                Assert.Equal(expected[b][alias].Shape, got[b][alias].Shape);
                Assert.Equal(expected[b][alias].Count, got[b][alias].Count);
            }
            var u = got[b].Nodes("u");
            var i = got[b].Nodes("i");
            var u2 = got[b].Nodes("u2");
            Assert.Equal(expected[b].Nodes("u").Ids, u.Ids);
            // A user without purchases is padding in both modes, at the same slots.
            for (var j = 0; j < i.Count; j++) Assert.Equal(expected[b].Nodes("i").DenseIds[j] < 0, i.DenseIds[j] < 0);
            for (var j = 0; j < i.Count; j++)
                if (i.DenseIds[j] >= 0) Assert.Contains((u.Ids[j / 3], i.Ids[j]), _bought);
            for (var j = 0; j < u2.Count; j++)
                if (u2.DenseIds[j] >= 0) Assert.Contains((u2.Ids[j], i.Ids[j / 2]), _bought);
            AssertColumnsAreTheNodes(u);
            AssertColumnsAreTheNodes(i);
            AssertColumnsAreTheNodes(u2);
            Assert.NotNull(u.Labels);
            Assert.Null(i.Labels);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Full_and_topk_hops_over_the_store_give_local_modes_neighbours_and_weights(int parts)
    {
        GslQuery Query(GslQuery v)
        {
            var u = v.Batch(20).Alias("u");
            u.OutV("u2i").By("full").Alias("all");
            u.OutE("u2i").Sample(2).By("topk").Alias("top");
            return u;
        }
        using var local = Query(_graph.V("user")).Values();
        using var store = Query(new GslStore(Store(parts)).V("user")).Values();
        foreach (var (want, got) in Epoch(local).Zip(Epoch(store)))
        {
            var (wantAll, gotAll) = (want.Nodes("all"), got.Nodes("all"));
            Assert.True(gotAll.IsRagged);
            Assert.Equal(wantAll.Lens, gotAll.Lens);
            Assert.Equal(wantAll.DenseShape, gotAll.DenseShape);
            for (var r = 0; r < gotAll.Rows; r++)
            {
                var (a, b) = (gotAll.Offsets![r], gotAll.Offsets[r + 1]);
                Assert.Equal(wantAll.Ids[a..b].Order(), gotAll.Ids[a..b].Order());
            }
            AssertColumnsAreTheNodes(gotAll);

            var (wantTop, gotTop) = (want.Edges("top"), got.Edges("top"));
            Assert.Equal(wantTop.Shape, gotTop.Shape);
            Assert.Equal(wantTop.SrcIds, gotTop.SrcIds);
            Assert.Equal(wantTop.DstIds, gotTop.DstIds);
            Assert.Equal(wantTop.Weights, gotTop.Weights);
            Assert.Throws<NotSupportedException>(() => gotTop.EdgeIds);
        }
    }

    [Fact]
    public void Sources_shuffles_and_deterministic_hops_do_not_depend_on_the_number_of_partitions()
    {
        GslQuery Query(GslStore s) => s.V("user").Batch(7).Shuffle(traverse: true).Alias("u").OutE("u2i").Sample(3).By("topk").Alias("e");
        var options = new GslOptions { Seed = 9 };
        using var two = Query(new GslStore(Store(2))).Values(options);
        using var three = Query(new GslStore(Store(3))).Values(options);
        var a = Epoch(two);
        var b = Epoch(three);
        Assert.Equal(a.Count, b.Count);
        for (var i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Nodes("u").Ids, b[i].Nodes("u").Ids);
            Assert.Equal(a[i].Edges("e").DstIds, b[i].Edges("e").DstIds);
            Assert.Equal(a[i].Edges("e").Weights, b[i].Edges("e").Weights);
        }
        // A shuffled epoch is a permutation of every user, and the next epoch a different one.
        var first = a.SelectMany(x => x.Nodes("u").Ids).ToArray();
        Assert.Equal(Enumerable.Range(0, Users).Select(UserId), first.Order());
        Assert.NotEqual(Enumerable.Range(0, Users).Select(UserId), first);
        Assert.NotEqual(first, Epoch(two).SelectMany(x => x.Nodes("u").Ids));
    }

    [Fact]
    public void Each_tasks_share_walks_its_own_nodes_and_the_shares_cover_every_node_once_per_epoch()
    {
        var store = Store(3);
        var seen = new List<long>();
        for (var task = 0; task < 4; task++)
        {
            using var ds = new GslStore(store, task, 4).V("user").Batch(4).Shuffle(traverse: true).Alias("u").Values(new GslOptions { Seed = 1 });
            var epoch = UntilOutOfRange(ds);
            Assert.Equal(4, ds.BatchesPerEpoch); // 15 of 60 users in batches of 4
            Assert.Equal(ds.BatchesPerEpoch, epoch.Count);
            var ids = epoch.SelectMany(b => b.Nodes("u").Ids).ToArray();
            Assert.Equal(Users / 4, ids.Length);
            // Rank r in business id order belongs to task r % 4.
            Assert.All(ids, id => Assert.Equal(task, (int)((id - 5000) / 7 % 4)));
            seen.AddRange(ids);
        }
        Assert.Equal(Enumerable.Range(0, Users).Select(UserId), seen.Order());
    }

    [Fact]
    public void Edges_walked_from_E_are_every_edge_once_and_the_reverse_type_swaps_their_ends()
    {
        var store = new GslStore(Store(2));
        var forward = Epoch(store.E("u2i").Batch(13).Alias("e").Values()).Select(b => b.Edges("e")).ToArray();
        var pairs = forward.SelectMany(e => e.SrcIds.Zip(e.DstIds)).ToArray();
        Assert.Equal(_bought.Order(), pairs.Order());
        // The store names each edge, so E() sources carry their weights as the hops' edges do.
        foreach (var e in forward)
            for (var j = 0; j < e.Count; j++) Assert.Equal(_weights[(e.SrcIds[j], e.DstIds[j])], e.Weights![j]);

        var back = Epoch(store.E("u2i", reverse: true).Batch(1000).Alias("e").OutV().Alias("item").Values()).Single();
        Assert.Equal(new NodeType("item"), back.Nodes("item").Type);
        Assert.Equal(_bought.Order(), back.Edges("e").DstIds.Zip(back.Edges("e").SrcIds).Order());
        AssertColumnsAreTheNodes(back.Nodes("item"));
    }

    [Fact]
    public void A_fed_source_keeps_its_ids_and_an_unknown_one_walks_as_padding()
    {
        var store = new GslStore(Store(2));
        var batch = store.V("user", [UserId(5), 42, UserId(1)]).Alias("u").OutV("u2i").Sample(2).By("random").Alias("i").Values().Single();
        Assert.Equal([UserId(5), 42L, UserId(1)], batch.Nodes("u").Ids);
        Assert.Equal(-1, batch.Nodes("u").DenseIds[1]);
        Assert.Equal([-1, -1], batch.Nodes("i").DenseIds[2..4]);
        Assert.Equal([0L, 0L], batch.Nodes("i").Ids[2..4]);
        Assert.Equal(-1, batch.Nodes("u").Labels![1]);
        AssertColumnsAreTheNodes(batch.Nodes("u"));
    }

    [Fact]
    public void Negatives_over_the_store_are_nodes_the_type_reaches_and_no_true_neighbour_of_their_source()
    {
        var store = new GslStore(Store(3));
        using var ds = store.V("user").Batch(30).Alias("u").OutNeg("u2i").Sample(4).By("in_degree_pow0.75").Alias("neg").Values();
        var stats = 0;
        foreach (var batch in ds)
        {
            var u = batch.Nodes("u");
            var neg = batch.Nodes("neg");
            Assert.Equal([30, 4], neg.Shape);
            for (var j = 0; j < neg.Count; j++)
            {
                Assert.InRange(neg.Ids[j], ItemId(0), ItemId(Items - 1));
                Assert.DoesNotContain((u.Ids[j / 4], neg.Ids[j]), _bought);
            }
            AssertColumnsAreTheNodes(neg);
            stats += neg.Negatives!.Value.Requested;
        }
        Assert.Equal(Users * 4, stats);

        // Every item is bought, so the store's uniform draw is GraphLearn's "among the ids the type reaches".
        var random = store.V("user").Batch(10).Alias("u").OutNeg("u2i").Sample(2).By("random").Alias("neg").Values().First();
        Assert.Equal([10, 2], random.Nodes("neg").Shape);
        // inNeg walks the undirected type backwards: users for items.
        var back = store.V("item").Batch(5).Alias("i").InNeg("u2i").Sample(2).By("in_degree_pow0.75").Alias("neg").Values().First();
        Assert.Equal(new NodeType("user"), back.Nodes("neg").Type);
        for (var j = 0; j < 10; j++) Assert.DoesNotContain((back.Nodes("neg").Ids[j], back.Nodes("i").Ids[j / 2]), _bought);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_negatives_are_drawn_among_the_ids_the_edge_type_reaches_as_GraphLearn_draws_them(int parts)
    {
        // Walk the reverse type, whose candidates are users: 6 users bought nothing, so u2i_reverse never reaches them.
        var reached = _bought.Select(b => b.User).ToHashSet();
        Assert.Equal(Users - 6, reached.Count);
        var store = new GslStore(Store(parts));
        var drawn = new HashSet<long>();
        using var ds = store.V("item").Batch(5).Alias("i").OutNeg("u2i_reverse").Sample(20).By("random").Alias("neg").Values();
        while (ds.TryNext(out var batch)) drawn.UnionWith(batch.Nodes("neg").Ids);
        Assert.Subset(reached, drawn);
        Assert.True(drawn.Count > reached.Count * 0.9, $"{drawn.Count} of the {reached.Count} reached users drawn");
    }

    [Fact]
    public void What_a_store_cannot_do_is_refused_with_the_operator_and_the_reason()
    {
        var store = new GslStore(Store(2));
        // This store came from a graph source without its columns: no node weights to draw Neg(nodeType) by.
        var e = Assert.Throws<NotSupportedException>(() => store.V("user").Neg("item"));
        Assert.Contains("node_weight", e.Message);
        e = Assert.Throws<NotSupportedException>(() =>
            store.V("user").Alias("u").OutNeg("u2i").Sample(2).By("random").Alias("n").Values(new GslOptions { MaxNegativeRetries = 3 }));
        Assert.Contains("MaxNegativeRetries", e.Message);

        // GraphLearn's direction rules hold as in local mode.
        Assert.Throws<InvalidOperationException>(() => store.V("user").InV("u2i_reverse"));
        Assert.Throws<InvalidOperationException>(() => store.E("i2i", reverse: true));
        Assert.Throws<InvalidOperationException>(() => store.E("u2i_reverse", reverse: true));
        // Within one node type the store cannot tell undirected from directed; a declaration can.
        e = Assert.Throws<NotSupportedException>(() => new GslStore(Store(2)).V("item").InV("i2i"));
        Assert.Contains("directed", e.Message);
        var declared = new GslStore(Store(2), directed: r => r == "i2i" ? false : null);
        Assert.Equal([3, 1], declared.V("item").Batch(3).Alias("i").InV("i2i").Sample(1).By("random").Alias("p").Values().First().Nodes("p").Shape);
    }

    [Fact]
    public void Each_step_of_a_batch_is_one_store_call_whatever_the_batch_size()
    {
        var counting = new CountingStore(Store(3));
        using var ds = new GslStore(counting).V("user").Batch(16).Alias("u").OutV("u2i").Sample(3).By("random").Alias("i")
            .InV("u2i").Sample(2).By("random").Alias("u2").Values();
        Assert.Equal(4, Epoch(ds).Count);
        Assert.Equal(4 * 2, counting.Neighbors);    // two hops per batch
        Assert.Equal(4 * 3, counting.NodeColumns);  // three node steps per batch, every column in one call
        Assert.Equal(0, counting.Features + counting.Labels);
        Assert.Equal(1 + 4 * 2, counting.BusinessIds); // the share once, then the two hops' far ends per batch
    }

    [Fact]
    public void Shuffle_without_traverse_draws_full_batches_from_the_share_without_end()
    {
        using var ds = new GslStore(Store(2), 1, 3).V("user").Batch(8).Shuffle().Alias("u").Values();
        Assert.True(ds.Endless);
        for (var b = 0; b < 10; b++)
        {
            var ids = ds.Next().Nodes("u").Ids;
            Assert.Equal(8, ids.Length);
            Assert.All(ids, id => Assert.Equal(1, (int)((id - 5000) / 7 % 3)));
        }
    }

    // ---- GraphLearn's columns: a store written from GraphLearn sources against local mode on the same files ----

    private GlGraph? _attributed;
    private readonly Dictionary<int, PartitionedGraphStore> _attributedStores = [];

    /// <summary>The shared attributed sources (every attribute kind on nodes and edges), loaded in local mode once.</summary>
    private GlGraph Attributed()
    {
        if (_attributed is not null) return _attributed;
        var dir = Path.Combine(Path.GetTempPath(), $"ga-gsl-columns-{Guid.NewGuid():N}");
        _dirs.Add(dir);
        var s = AttributedSources.Write(Path.Combine(dir, "src"));
        var g = new GlGraph()
            .Node(s.Users, "user", new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.UserAttrTypes))
            .Node(s.Items, "item", new Decoder(weighted: true, attrTypes: AttributedSources.ItemAttrTypes))
            .Edge(s.Clicks, ("user", "item", "u2i"), new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.ClickAttrTypes), directed: false)
            .Edge(s.Similar, ("item", "item", "i2i"), new Decoder(labeled: true, attrTypes: AttributedSources.SimilarAttrTypes), directed: false);
        g.Init();
        return _attributed = g;
    }

    private GslStore AttributedStore(int parts)
    {
        if (!_attributedStores.TryGetValue(parts, out var store))
        {
            var g = Attributed();
            var dir = Path.Combine(Path.GetTempPath(), $"ga-gsl-columns-store-{Guid.NewGuid():N}");
            _dirs.Add(dir);
            GraphPartitioner.Run(GraphActors.Graph.GraphLearn.GraphLearnPartitionSource.Of(g, out _), new PartitionOptions(dir, parts));
            _attributedStores[parts] = store = new PartitionedGraphStore(PartitionStore.Open(dir));
            _stores[-parts] = store; // disposed with the others
        }
        // The declaration, as a ClusterGraph passes it (a store from GraphLearn sources records it too: see below).
        return new GslStore(store, directed: r => r is "u2i" or "i2i" ? false : null);
    }

    [Fact]
    public void A_store_written_from_GraphLearn_sources_knows_a_same_type_edge_is_undirected_without_a_declaration()
    {
        AttributedStore(2);
        var undeclared = new GslStore(_attributedStores[2]);
        // i2i was loaded with directed: false, and the store recorded it: inV walks it as local mode does.
        var local = Attributed().V("item").Batch(7).Alias("i").InV("i2i").Sample(3).By("full").Alias("p").Values().First().Nodes("p");
        var store = undeclared.V("item").Batch(7).Alias("i").InV("i2i").Sample(3).By("full").Alias("p").Values().First().Nodes("p");
        Assert.Equal(local.Shape, store.Shape);
        Assert.Equal(local.Ids.Order(), store.Ids.Order());
        // A store partitioned from a graph without its columns still cannot tell, and says so.
        Assert.Contains("directed", Assert.Throws<NotSupportedException>(() => new GslStore(Store(2)).V("item").InV("i2i")).Message);
    }

    private static void AssertSameNodeColumns(NodeResult want, NodeResult got)
    {
        Assert.Equal(want.Ids, got.Ids);
        Assert.Equal(want.Weights, got.Weights);
        Assert.Equal(want.Labels, got.Labels);
        Assert.Equal(want.Columns.IntAttrCount, got.Columns.IntAttrCount);
        Assert.Equal(want.IntAttrs, got.IntAttrs);
        Assert.Equal(want.FloatAttrs, got.FloatAttrs);
        Assert.Equal(want.Columns.StringAttrCount, got.Columns.StringAttrCount);
        Assert.Equal(want.StringAttrs, got.StringAttrs);
    }

    /// <summary>One edge of a result with every column, to compare edges whose order within a row differs between modes.</summary>
    private static List<string> EdgeRows(EdgeResult e)
    {
        var rows = new List<string>();
        var (ki, kf, ks) = (e.Columns.IntAttrCount, e.Columns.FloatAttrCount, e.Columns.StringAttrCount);
        for (var j = 0; j < e.Count; j++)
            rows.Add($"{e.EdgeIds[j]} {e.SrcIds[j]}->{e.DstIds[j]} w={e.Weights?[j]} l={e.Labels?[j]} " +
                     $"i=[{string.Join(",", e.IntAttrs[(j * ki)..((j + 1) * ki)])}] f=[{string.Join(",", e.FloatAttrs[(j * kf)..((j + 1) * kf)])}] " +
                     $"s=[{string.Join("|", e.StringAttrs[(j * ks)..((j + 1) * ks)])}]");
        return rows;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Node_columns_over_the_store_are_local_modes_weights_labels_and_int_float_string_attributes(int parts)
    {
        GslQuery Query(GslQuery v) => v.Batch(7).Alias("u").OutV("u2i").By("full").Alias("i");
        var local = Epoch(Query(Attributed().V("user")).Values());
        var store = Epoch(Query(AttributedStore(parts).V("user")).Values());
        Assert.Equal(local.Count, store.Count);
        for (var b = 0; b < local.Count; b++)
        {
            AssertSameNodeColumns(local[b].Nodes("u"), store[b].Nodes("u"));
            // A full row's order is each mode's CSR order: compare the rows' nodes as sorted sets, columns and all.
            var (want, got) = (local[b].Nodes("i"), store[b].Nodes("i"));
            Assert.Equal(want.Lens, got.Lens);
            for (var r = 0; r < want.Rows; r++)
            {
                var (a, z) = (want.Offsets![r], want.Offsets[r + 1]);
                var wantOrder = Enumerable.Range(a, z - a).OrderBy(j => want.Ids[j]).ToArray();
                var gotOrder = Enumerable.Range(got.Offsets![r], z - a).OrderBy(j => got.Ids[j]).ToArray();
                for (var j = 0; j < wantOrder.Length; j++)
                {
                    Assert.Equal(want.Ids[wantOrder[j]], got.Ids[gotOrder[j]]);
                    Assert.Equal(want.Weights![wantOrder[j]], got.Weights![gotOrder[j]]);
                    Assert.Equal(want.IntAttrs[wantOrder[j]], got.IntAttrs[gotOrder[j]]); // items have one int attribute
                    Assert.Equal(want.StringAttrs[wantOrder[j]], got.StringAttrs[gotOrder[j]]);
                }
            }
        }
        Assert.Contains(store.SelectMany(x => x.Nodes("u").StringAttrs), x => x.Length == 0);
        Assert.Contains(store.SelectMany(x => x.Nodes("u").StringAttrs), x => x.Any(c => c > 127));

        // Fed ids, one of them only an edge names and one the graph lacks: GraphLearn's defaults, as in local mode.
        long[] feed = [1003, AttributedSources.EdgeOnlyUser, 42, 1000];
        AssertSameNodeColumns(Attributed().V("user", feed).Alias("u").Values().Single().Nodes("u"),
            AttributedStore(parts).V("user", feed).Alias("u").Values().Single().Nodes("u"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Edges_after_a_hop_in_either_direction_carry_local_modes_edge_ids_weights_labels_and_attributes(int parts)
    {
        GslQuery Query(GslQuery v) => v.Batch(9).Alias("u")
            .Each(
                u => u.OutE("u2i").By("full").Alias("out").InV().Alias("item")
                    .Each(i => i.InE("u2i").By("full").Alias("back"), i => i.OutE("i2i").By("full").Alias("next"), i => i.InE("i2i").By("full").Alias("prev")),
                u => u.OutE("u2i").Sample(4).By("random").Alias("drawn"));
        var local = Epoch(Query(Attributed().V("user")).Values());
        var store = Epoch(Query(AttributedStore(parts).V("user")).Values());
        Assert.Equal(local.Count, store.Count);
        var edges = 0;
        for (var b = 0; b < local.Count; b++)
        {
            // The first hop's rows hold the same edges (each mode orders a row by its own ids).
            var (want, got) = (local[b].Edges("out"), store[b].Edges("out"));
            Assert.Equal(want.Lens, got.Lens);
            Assert.Equal(EdgeRows(want).Order(), EdgeRows(got).Order());
            edges += got.Count;
            Assert.NotNull(got.Labels);
            // Beyond the first hop the parents' order differs, so every edge is checked against local mode's edge of its id.
            foreach (var alias in new[] { "back", "next", "prev", "drawn" })
            {
                var e = store[b].Edges(alias);
                var type = Attributed().Store.Edges(e.Type);
                var rows = EdgeRows(e);
                for (var j = 0; j < e.Count; j++)
                {
                    if (e.EdgeIds[j] < 0) continue;
                    Assert.Equal(e.Reversed, alias is "back" or "prev");
                    var expected = Describe(Attributed().Store, type, e.EdgeIds[j], e.Reversed);
                    Assert.Equal(expected, rows[j]);
                    edges++;
                }
            }
        }
        Assert.True(edges > 300, $"{edges} edges compared");
    }

    // An edge of local mode's graph by id, walked forwards or backwards, in EdgeRows' form.
    private static string Describe(HeteroGraph g, EdgeTypeData edges, int e, bool reversed)
    {
        var src = g.Nodes(edges.Type.Src).Ids.ToBusiness(edges.Out.RowOfEntry(e));
        var dst = g.Nodes(edges.Type.Dst).Ids.ToBusiness(edges.Out.Neighbors[e]);
        if (reversed) (src, dst) = (dst, src);
        var d = edges.Data;
        float? w = d.HasWeights ? d.Weight(e) : null;
        int? l = d.HasLabels ? d.Label(e) : null;
        return $"{e} {src}->{dst} w={w} l={l} i=[{string.Join(",", d.IntsOf(e).ToArray())}] f=[{string.Join(",", d.FloatsOf(e).ToArray())}] " +
               $"s=[{string.Join("|", d.StringsOf(e).ToArray())}]";
    }

    [Fact]
    public void Edge_sources_carry_local_modes_ids_and_columns()
    {
        var local = Epoch(Attributed().E("u2i").Batch(50).Alias("e").Values()).SelectMany(b => EdgeRows(b.Edges("e"))).Order().ToArray();
        var store = Epoch(AttributedStore(3).E("u2i").Batch(50).Alias("e").Values()).SelectMany(b => EdgeRows(b.Edges("e"))).Order().ToArray();
        Assert.Equal(local, store);
        var back = Epoch(AttributedStore(2).E("u2i", reverse: true).Batch(50).Alias("e").Values()).SelectMany(b => EdgeRows(b.Edges("e"))).Order();
        Assert.Equal(Epoch(Attributed().E("u2i", reverse: true).Batch(50).Alias("e").Values()).SelectMany(b => EdgeRows(b.Edges("e"))).Order(), back);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Neg_by_node_weight_over_the_store_draws_items_in_proportion_to_their_weight_and_never_a_batch_source(int parts)
    {
        using var ds = AttributedStore(parts).V("item").Batch(5).Shuffle().Alias("i").Neg("item").Sample(20).By("node_weight").Alias("neg")
            .Values(new GslOptions { Seed = 3 });
        var drawn = new Dictionary<long, int>();
        for (var b = 0; b < 200; b++)
        {
            var batch = ds.Next();
            var (sources, neg) = (batch.Nodes("i"), batch.Nodes("neg"));
            Assert.Equal([5, 20], neg.Shape);
            Assert.Equal(5 * 20, neg.Negatives!.Value.Requested);
            foreach (var id in neg.Ids)
            {
                if (neg.Negatives.Value.Unresolved == 0) Assert.DoesNotContain(id, sources.Ids);
                drawn[id] = drawn.GetValueOrDefault(id) + 1;
            }
            // Negatives come with their columns, as every node step.
            Assert.Equal(neg.Ids.Select(id => 1f + (id - 1) % 3), neg.Weights!);
        }
        // Item weights are 1, 2, 3 (1 + k % 3): draws per weight class follow them.
        double PerItem(int w) => drawn.Where(kv => 1 + (kv.Key - 1) % 3 == w).Average(kv => kv.Value);
        Assert.InRange(PerItem(3) / PerItem(1), 2.4, 3.6);
        Assert.InRange(PerItem(2) / PerItem(1), 1.6, 2.4);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Where_over_the_store_gives_each_column_its_share_of_the_positives_values_and_avoids_neighbours_and_the_positive(int parts)
    {
        var condition = new NegativeCondition { IntCols = [0], IntProps = [0.3f], StrCols = [0], StrProps = [0.3f] };
        var store = AttributedStore(parts);
        using var ds = store.E("u2i").Batch(16).Alias("e").Each(
                e => e.InV().Alias("dst"),
                e => e.OutV().Alias("src").OutNeg("u2i").Sample(10).By("random").Where("dst", condition).Alias("neg"))
            .Values(new GslOptions { Seed = 2 });
        var g = Attributed().Store;
        var items = g.Nodes("item");
        long Int(long item) => items.Data.IntsOf(Dense(item))[0];
        string Str(long item) => items.Data.StringsOf(Dense(item))[0];
        int Dense(long item) => items.Ids.TryGetDense(item, out var d) ? d : throw new KeyNotFoundException($"item {item}");
        var bought = new HashSet<(long, long)>(Loaded(g, "u2i"));
        var reached = bought.Select(b => b.Item2).ToHashSet();
        // A column can only give its share when some candidate holds the value and is neither the positive nor bought by the source.
        bool CanGive(long user, long positive, Func<long, bool> same) =>
            reached.Any(i => i != positive && same(i) && !bought.Contains((user, i)));
        var (rows, checkedRows) = (0, 0);
        foreach (var batch in ds)
        {
            var (src, dst, neg) = (batch.Nodes("src"), batch.Nodes("dst"), batch.Nodes("neg"));
            Assert.Equal([src.Count, 10], neg.Shape);
            for (var row = 0; row < src.Count; row++, rows++)
            {
                var r = neg.Ids[(row * 10)..((row + 1) * 10)];
                var (user, positive) = (src.Ids[row], dst.Ids[row]);
                if (CanGive(user, positive, i => Int(i) == Int(positive)) && CanGive(user, positive, i => Str(i) == Str(positive)))
                {
                    // 10 × 0.3 = 3 per column, GraphLearn's order: int columns, then string columns, then the strategy alone.
                    Assert.All(r[0..3], n => Assert.Equal(Int(positive), Int(n)));
                    Assert.All(r[3..6], n => Assert.Equal(Str(positive), Str(n)));
                    checkedRows++;
                }
                Assert.All(r, n => Assert.NotEqual(positive, n));
                Assert.All(r, n => Assert.DoesNotContain((src.Ids[row], n), bought));
            }
            // The negatives' columns are the items' own.
            for (var j = 0; j < neg.Count; j++) Assert.Equal(Str(neg.Ids[j]), neg.StringAttrs[j]);
        }
        Assert.Equal(Attributed().EdgeCount("u2i"), rows);
        Assert.True(checkedRows > rows * 3 / 4, $"{checkedRows} of {rows} rows could give every column its share");

        // A column the store's type does not have is refused by name, as in local mode.
        var v = store.V("user").Alias("u");
        v.OutE("u2i").Sample(1).By("random").Alias("e").InV().Alias("dst");
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => v.OutNeg("u2i").Sample(2).By("random").Where("dst", new NegativeCondition { StrCols = [1], StrProps = [0.5f] }));
        Assert.Equal("str_cols", bad.ParamName);
    }

    [Fact]
    public void Masks_and_node_from_over_the_store_walk_the_sets_local_mode_walks_split_among_tasks()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"ga-gsl-masks-{Guid.NewGuid():N}");
        _dirs.Add(dir);
        var s = AttributedSources.Write(Path.Combine(dir, "src"));
        // TRAIN ids in ascending order (the store walks business id order), one of them not a user.
        var train = Path.Combine(dir, "train.txt");
        File.WriteAllText(train, "id:int64\n" + string.Join("\n", new long[] { 1001, 1004, 1009, 1500, 1020, 1033 }) + "\n");
        var g = new GlGraph()
            .Node(s.Users, "user", new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.UserAttrTypes))
            .Node(train, "user", new Decoder(), GraphActors.Graph.GraphLearn.Mask.Train)
            .Node(s.Items, "item", new Decoder(weighted: true, attrTypes: AttributedSources.ItemAttrTypes))
            .Edge(s.Clicks, ("user", "item", "u2i"), new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.ClickAttrTypes), directed: false);
        g.Init();
        var storeDir = Path.Combine(dir, "store");
        GraphPartitioner.Run(GraphActors.Graph.GraphLearn.GraphLearnPartitionSource.Of(g, out _), new PartitionOptions(storeDir, 3));
        var store = new PartitionedGraphStore(PartitionStore.Open(storeDir));
        _stores[-100] = store;

        long[] Walk(GslQuery q) => Epoch(q.Batch(4).Alias("v").Values()).SelectMany(b => b.Nodes("v").Ids).ToArray();
        var local = Walk(g.V("user", GraphActors.Graph.GraphLearn.Mask.Train));
        Assert.Equal([1001L, 1004, 1009, 1500, 1020, 1033], local);
        // The store's set holds the mask's nodes: 1500 is no user, so it is in no set (task 0 names it when it writes the store).
        Assert.Equal(local.Where(id => id != 1500), Walk(new GslStore(store).V("user", GraphActors.Graph.GraphLearn.Mask.Train)));
        var shares = Enumerable.Range(0, 2).Select(t => Walk(new GslStore(store, t, 2).V("user", GraphActors.Graph.GraphLearn.Mask.Train))).ToArray();
        Assert.Equal([1001L, 1009, 1033], shares[0].Order());
        Assert.Equal([1004L, 1020], shares[1].Order());
        // A mask the type had no source for is refused as local mode refuses it; a type without mask sources has none of GraphLearn's sets.
        Assert.Contains("Mask.Val", Assert.Throws<KeyNotFoundException>(() => g.V("user", GraphActors.Graph.GraphLearn.Mask.Val)).Message);
        var noVal = Assert.Throws<KeyNotFoundException>(() => new GslStore(store).V("user", GraphActors.Graph.GraphLearn.Mask.Val));
        Assert.Contains("has no VAL source", noVal.Message);
        Assert.Contains("it has TRAIN", noVal.Message);
        var e = Assert.Throws<KeyNotFoundException>(() => new GslStore(store).V("item", GraphActors.Graph.GraphLearn.Mask.Train));
        Assert.Contains("Mask.Train", e.Message);

        foreach (var end in new[] { NodeFrom.EdgeSrc, NodeFrom.EdgeDst })
            Assert.Equal(Walk(g.V("u2i", end)).Order(), Walk(new GslStore(store).V("u2i", end)));
        Assert.Equal(g.NodeCount("user"), Walk(new GslStore(store).V("u2i", NodeFrom.EdgeSrc)).Length); // every user clicks
    }

    private static IEnumerable<(long, long)> Loaded(HeteroGraph g, string relation)
    {
        var edges = g.Edges(relation);
        var src = g.Nodes(edges.Type.Src).Ids;
        var dst = g.Nodes(edges.Type.Dst).Ids;
        var pairs = new List<(long, long)>();
        for (var r = 0; r < edges.Out.RowCount; r++)
            foreach (var v in edges.Out.Row(r)) pairs.Add((src.ToBusiness(r), dst.ToBusiness(v)));
        return pairs;
    }

    /// <summary>Counts the store calls a query makes; each is one request per partition on a remote store.</summary>
    private sealed class CountingStore(IGraphStore inner) : IGraphStore
    {
        public int Neighbors, Features, Labels, BusinessIds, NodeColumns;

        public ValueTask<ElementColumns> GatherNodeColumnsAsync(NodeType type, ReadOnlyMemory<int> ids, ColumnSet columns, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref NodeColumns);
            return inner.GatherNodeColumnsAsync(type, ids, columns, cancellationToken);
        }

        public ValueTask<NeighborSample> SampleNeighborEdgesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
            SamplingStrategy strategy, ulong rngSeed, ColumnSet columns, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Neighbors);
            return inner.SampleNeighborEdgesAsync(type, incoming, seeds, fanout, strategy, rngSeed, columns, cancellationToken);
        }

        public GraphStoreSchema Schema => inner.Schema;

        public ValueTask<NeighborSample> SampleNeighborsAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> seeds, int fanout,
            SamplingStrategy strategy, ulong rngSeed, bool withWeights = false, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Neighbors);
            return inner.SampleNeighborsAsync(type, incoming, seeds, fanout, strategy, rngSeed, withWeights, cancellationToken);
        }

        public ValueTask GatherFeaturesAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<float> destination, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Features);
            return inner.GatherFeaturesAsync(type, ids, destination, cancellationToken);
        }

        public ValueTask GatherLabelsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Labels);
            return inner.GatherLabelsAsync(type, ids, destination, cancellationToken);
        }

        public ValueTask<int[]> GetSplitAsync(NodeType type, SplitKind split, CancellationToken cancellationToken = default) =>
            inner.GetSplitAsync(type, split, cancellationToken);

        public ValueTask GetDegreesAsync(CanonicalEdgeType type, bool incoming, ReadOnlyMemory<int> ids, Memory<int> destination, CancellationToken cancellationToken = default) =>
            inner.GetDegreesAsync(type, incoming, ids, destination, cancellationToken);

        public ValueTask<NegativeSampleStats> SampleNegativesAsync(CanonicalEdgeType type, ReadOnlyMemory<int> sources, int k, NegativeStrategy strategy,
            bool excludeNeighbors, ulong rngSeed, Memory<int> destination, CancellationToken cancellationToken = default) =>
            inner.SampleNegativesAsync(type, sources, k, strategy, excludeNeighbors, rngSeed, destination, cancellationToken);

        public ValueTask<EdgeList> GetEdgesAsync(CanonicalEdgeType type, CancellationToken cancellationToken = default) =>
            inner.GetEdgesAsync(type, cancellationToken);

        public ValueTask GetBusinessIdsAsync(NodeType type, ReadOnlyMemory<int> ids, Memory<long> destination, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref BusinessIds);
            return inner.GetBusinessIdsAsync(type, ids, destination, cancellationToken);
        }

        public ValueTask LookupIdsAsync(NodeType type, ReadOnlyMemory<long> businessIds, Memory<int> destination, CancellationToken cancellationToken = default) =>
            inner.LookupIdsAsync(type, businessIds, destination, cancellationToken);
    }
}
