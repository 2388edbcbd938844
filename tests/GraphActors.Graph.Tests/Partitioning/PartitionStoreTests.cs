using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Tests.Partitioning;

public class PartitionStoreTests
{
    [Theory]
    [InlineData("hash", 3)]
    [InlineData("metis", 4)]
    [InlineData("hash", 1)]
    public void Relabelled_ranges_are_contiguous_and_the_book_names_every_owner(string method, int parts)
    {
        var g = TestGraphs.UserItem();
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(new HeteroGraphSource(g), new PartitionOptions(dir, parts, method));
        var store = PartitionStore.Open(dir);
        Assert.Equal(parts, store.Parts);
        foreach (var nodes in g.NodeTypes)
        {
            var seen = new bool[nodes.Count];
            var next = 0;
            for (var p = 0; p < parts; p++)
            {
                using var part = store.LoadPartition(p);
                var pn = part.Nodes(nodes.Type);
                Assert.Equal(next, pn.Rows.First);
                next += pn.Count;
                for (var id = pn.Rows.First; id < pn.Rows.First + pn.Count; id++)
                {
                    Assert.Equal(p, store.Book.Owner(nodes.Type, id));
                    Assert.False(seen[id]);
                    seen[id] = true;
                    var business = pn.ToBusiness(id);
                    Assert.True(pn.TryGetId(business, out var back));
                    Assert.Equal(id, back);
                    if (method == "hash") Assert.Equal(HashPartitioner.PartitionOf(business, parts), p);
                }
            }
            Assert.Equal(nodes.Count, next);
            Assert.All(seen, Assert.True);
        }
    }

    [Theory]
    [InlineData(PartitionLoadMode.Map, 7)]
    [InlineData(PartitionLoadMode.Read, 7)]
    [InlineData(PartitionLoadMode.Map, 1)]
    [InlineData(PartitionLoadMode.Read, 3000)]
    public void A_feature_slab_larger_than_one_segment_is_read_in_segments_of_whole_rows_and_every_row_survives(PartitionLoadMode mode, int segmentFloats)
    {
        // A partition's slab above one span (2^31 floats: 4.3M nodes at 500-d) is cut into segments; the same cut at a
        // few floats shows every row, the seams between segments and Gather across them, without 8 GiB of test data.
        var g = TestGraphs.UserItem();
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(new HeteroGraphSource(g), new PartitionOptions(dir, 2, "hash"));
        var store = PartitionStore.Open(dir);
        store.FeatureSegmentFloats = segmentFloats;
        var whole = PartitionStore.Open(dir);
        for (var p = 0; p < store.Parts; p++)
        {
            using var part = store.LoadPartition(p, mode);
            using var reference = whole.LoadPartition(p, mode);
            foreach (var nodes in g.NodeTypes)
            {
                var slab = part.Nodes(nodes.Type).Features;
                var dim = slab.Dim;
                var expectedSegments = segmentFloats >= slab.Rows * dim ? 1 : (slab.Rows + Math.Max(1, segmentFloats / dim) - 1) / Math.Max(1, segmentFloats / dim);
                Assert.Equal(expectedSegments, slab.Segments.Count);
                Assert.Single(reference.Nodes(nodes.Type).Features.Segments);
                for (var r = 0; r < slab.Rows; r++)
                {
                    var v = nodes.Ids.GetDense(part.Nodes(nodes.Type).BusinessIds.Span[r]);
                    Assert.Equal(nodes.Data.FloatsOf(v).ToArray(), slab.Row(r).ToArray());
                }
                var ids = Enumerable.Range(0, slab.Rows).Reverse().ToArray();
                var gathered = new float[ids.Length * dim];
                var expected = new float[ids.Length * dim];
                slab.Gather(ids, gathered);
                reference.Nodes(nodes.Type).Features.Gather(ids, expected);
                Assert.Equal(expected, gathered);
                if (slab.Segments.Count > 1)
                    Assert.Contains("segments", Assert.Throws<InvalidOperationException>(() => slab.Data).Message);
            }
        }
    }

    [Fact]
    public void A_segmented_slab_refuses_segments_that_do_not_add_up_to_its_rows()
    {
        ReadOnlyMemory<float>[] two = [new float[6], new float[4]];
        Assert.Equal(5, new FeatureSlab(5, 2, two, rowsPerSegment: 3).Rows);
        Assert.Contains("Segment 1", Assert.Throws<ArgumentException>(() => new FeatureSlab(5, 2, [new float[6], new float[2]], 3)).Message);
        Assert.Contains("make 2 segment(s), got 1", Assert.Throws<ArgumentException>(() => new FeatureSlab(5, 2, [new float[10]], 3)).Message);
    }

    [Fact]
    public void The_book_skips_empty_partitions()
    {
        var book = new PartitionBook(4, new Dictionary<NodeType, int[]> { ["t"] = [0, 3, 3, 3, 5] });
        Assert.Equal([0, 0, 0, 3, 3], Enumerable.Range(0, 5).Select(i => book.Owner("t", i)));
        Assert.Throws<ArgumentOutOfRangeException>(() => book.Owner("t", 5));
    }

    [Theory]
    [InlineData("hash", PartitionLoadMode.Map)]
    [InlineData("metis", PartitionLoadMode.Map)]
    [InlineData("metis", PartitionLoadMode.Read)]
    public void Every_edge_weight_feature_label_mask_and_business_id_survives_the_store(string method, PartitionLoadMode mode)
    {
        var g = TestGraphs.UserItem();
        // Items get masks from the source; users (labelled, no masks) get the default split.
        var items = g.Nodes("item").Count;
        var train = Enumerable.Range(0, items).Select(i => (byte)(i % 3 == 0 ? 1 : 0)).ToArray();
        var val = Enumerable.Range(0, items).Select(i => (byte)(i % 3 == 1 ? 1 : 0)).ToArray();
        var test = Enumerable.Range(0, items).Select(i => (byte)(i % 3 == 2 ? 1 : 0)).ToArray();
        var source = new HeteroGraphSource(g, chunkSize: 50,
            masks: new Dictionary<NodeType, (byte[], byte[], byte[])> { ["item"] = (train, val, test) });
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        const int parts = 3;
        var split = new MaskSplit(0.5, 0.25, 0.25, Seed: 7);
        GraphPartitioner.Run(source, new PartitionOptions(dir, parts, method) { Split = split });
        var store = PartitionStore.Open(dir);
        var loaded = Enumerable.Range(0, parts).Select(p => store.LoadPartition(p, mode)).ToArray();
        try
        {
            foreach (var nodes in g.NodeTypes)
            {
                var total = 0;
                foreach (var part in loaded)
                {
                    var pn = part.Nodes(nodes.Type);
                    total += pn.Count;
                    for (var r = 0; r < pn.Count; r++)
                    {
                        var business = pn.BusinessIds.Span[r];
                        var v = nodes.Ids.GetDense(business);
                        Assert.Equal(nodes.Data.FloatsOf(v).ToArray(), pn.Features.Row(r).ToArray());
                        if (nodes.Schema.Labeled) Assert.Equal(nodes.Data.Label(v), pn.Labels.Span[r]);
                        else Assert.True(pn.Labels.IsEmpty);
                        var flags = nodes.Type.Name == "item"
                            ? (train[v] != 0 ? SplitFlags.Train : 0) | (val[v] != 0 ? SplitFlags.Val : 0) | (test[v] != 0 ? SplitFlags.Test : 0)
                            : split.Of(business);
                        Assert.Equal((flags & SplitFlags.Train) != 0, pn.TrainMask.Span[r] != 0);
                        Assert.Equal((flags & SplitFlags.Val) != 0, pn.ValMask.Span[r] != 0);
                        Assert.Equal((flags & SplitFlags.Test) != 0, pn.TestMask.Span[r] != 0);
                    }
                }
                Assert.Equal(nodes.Count, total);
            }

            foreach (var edges in g.EdgeTypes)
            {
                var expected = HashPartitionerTests.AllEdges(g, edges.Type).Order().ToArray();
                foreach (var incoming in new[] { false, true })
                {
                    var actual = new List<(long, long, float)>();
                    foreach (var part in loaded)
                    {
                        var pe = part.Edges(edges.Type);
                        var csr = pe.Direction(incoming);
                        var rowNodes = part.Nodes(incoming ? edges.Type.Dst : edges.Type.Src);
                        var w = pe.Weights(incoming).Span;
                        for (var r = 0; r < csr.RowCount; r++)
                        {
                            var row = csr.Row(r);
                            for (var k = 1; k < row.Length; k++) Assert.True(row[k - 1] <= row[k], "rows are sorted");
                            var start = (int)csr.Offsets[r];
                            for (var k = 0; k < row.Length; k++)
                            {
                                var other = Business(store.Book, loaded, incoming ? edges.Type.Src : edges.Type.Dst, row[k]);
                                var self = rowNodes.BusinessIds.Span[r];
                                actual.Add(incoming ? (other, self, w[start + k]) : (self, other, w[start + k]));
                            }
                        }
                    }
                    Assert.Equal(expected, actual.Order().ToArray());
                }
            }
        }
        finally
        {
            foreach (var p in loaded) p.Dispose();
        }
    }

    private static long Business(PartitionBook book, LoadedPartition[] parts, NodeType type, int id) =>
        parts[book.Owner(type, id)].Nodes(type).ToBusiness(id);

    [Fact]
    public void Loading_a_partition_twice_maps_the_same_files_and_returns_equal_data()
    {
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(new HeteroGraphSource(TestGraphs.UserItem()), new PartitionOptions(dir, 2));
        var store = PartitionStore.Open(dir);
        using var a = store.LoadPartition(1);
        using var b = PartitionStore.Open(dir).LoadPartition(1);
        Assert.Equal(a.Nodes("user").Features.Data.ToArray(), b.Nodes("user").Features.Data.ToArray());
        Assert.Equal(a.Edges(TestGraphs.Click).In.Neighbors.ToArray(), b.Edges(TestGraphs.Click).In.Neighbors.ToArray());
        Assert.Equal(a.Edges(TestGraphs.Follow).OutWeights.ToArray(), b.Edges(TestGraphs.Follow).OutWeights.ToArray());
    }

    [Fact]
    public void A_failed_write_leaves_no_store_directory_behind()
    {
        var parent = TestGraphs.TempDir();
        var dir = Path.Combine(parent, "s");
        var source = new FailingSource(new HeteroGraphSource(TestGraphs.UserItem()));
        Assert.Throws<IOException>(() => GraphPartitioner.Run(source, new PartitionOptions(dir, 3)));
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(parent));
    }

    [Fact]
    public void A_truncated_file_is_reported_by_name()
    {
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(new HeteroGraphSource(TestGraphs.UserItem()), new PartitionOptions(dir, 2));
        var file = Path.Combine(StoreLayout.EdgeDir(StoreLayout.PartitionDir(dir, 1), TestGraphs.Click), StoreLayout.Neighbors(false));
        using (var fs = new FileStream(file, FileMode.Open)) fs.SetLength(fs.Length - 4);
        var e = Assert.Throws<PartitionStoreException>(() => PartitionStore.Open(dir).LoadPartition(1));
        Assert.Contains(file, e.Message);
        Assert.Contains("truncated", e.Message);
        using var fine = PartitionStore.Open(dir).LoadPartition(0);
    }

    [Fact]
    public void A_corrupt_header_is_reported_by_name()
    {
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(new HeteroGraphSource(TestGraphs.UserItem()), new PartitionOptions(dir, 2));
        var file = Path.Combine(StoreLayout.NodeDir(StoreLayout.PartitionDir(dir, 0), "user"), StoreLayout.Features);
        using (var fs = new FileStream(file, FileMode.Open)) fs.Write("NOTSTORE"u8);
        var e = Assert.Throws<PartitionStoreException>(() => PartitionStore.Open(dir).LoadPartition(0));
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public void A_missing_manifest_says_the_directory_is_not_a_store()
    {
        var dir = TestGraphs.TempDir();
        var e = Assert.Throws<PartitionStoreException>(() => PartitionStore.Open(dir));
        Assert.Contains(StoreManifest.FileName, e.Message);
    }

    [Fact]
    public void The_default_split_is_the_same_whatever_the_method_or_partition_count()
    {
        var split = new MaskSplit();
        var counts = new int[3];
        for (long id = -5000; id < 5000; id++)
        {
            var f = split.Of(id);
            Assert.Equal(f, new MaskSplit().Of(id));
            counts[f switch { SplitFlags.Train => 0, SplitFlags.Val => 1, _ => 2 }]++;
        }
        Assert.InRange(counts[0], 5700, 6300);
        Assert.InRange(counts[1], 1800, 2200);
    }

    [Fact]
    public void The_report_renders_as_a_balance_chart_in_svg_and_png()
    {
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        var report = GraphPartitioner.Run(new HeteroGraphSource(TestGraphs.UserItem()), new PartitionOptions(dir, 3));
        Assert.Equal(3, report.Rows.Count);
        Assert.Equal(TestGraphs.UserItem().EdgeTypes.Sum(e => e.Count), report.Edges);
        var (svgPath, pngPath) = Charts.Write(report.Chart(), Path.Combine(dir, "balance.png"));
        Assert.Equal(Path.Combine(dir, "balance.svg"), svgPath);
        var svg = File.ReadAllText(svgPath);
        Assert.Contains("<svg xmlns=\"http://www.w3.org/2000/svg\"", svg);
        Assert.Contains("part 2", svg);
        Assert.Contains("3 partitions", svg);
        Assert.Contains("perfect balance", svg);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(pngPath)[..4]);
        Assert.Throws<BadInputException>(() => Charts.Write(report.Chart(), Path.Combine(dir, "balance.txt")));
    }

    /// <summary>Fails in the feature pass, after structure has been written.</summary>
    private sealed class FailingSource(IPartitionSource inner) : IPartitionSource
    {
        private int _reads;
        public IReadOnlyList<SourceNodeType> NodeTypes => inner.NodeTypes;
        public IReadOnlyList<SourceEdgeType> EdgeTypes => inner.EdgeTypes;
        public IEnumerable<EdgeChunk> ReadEdges(CanonicalEdgeType type) => inner.ReadEdges(type);

        public IEnumerable<NodeChunk> ReadNodes(NodeType type)
        {
            if (++_reads > inner.NodeTypes.Count) throw new IOException("disk went away");
            return inner.ReadNodes(type);
        }
    }
}
