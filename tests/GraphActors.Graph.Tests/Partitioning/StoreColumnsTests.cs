// GraphLearn's node weights, int/float/string attributes, edge ids, labels and attributes through the partition store and back.
using Decoder = GraphActors.Graph.GraphLearn.Decoder;
using Encoding = System.Text.Encoding;
using GraphActors.Contracts;
using GraphActors.Graph.GraphLearn;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.TestSupport;

namespace GraphActors.Graph.Tests.Partitioning;

public sealed class StoreColumnsTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private GraphLearn.Graph Load()
    {
        var s = AttributedSources.Write(Path.Combine(_files.Directory, "src"));
        var g = new GraphLearn.Graph()
            .Node(s.Users, "user", new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.UserAttrTypes))
            .Node(s.Items, "item", new Decoder(weighted: true, attrTypes: AttributedSources.ItemAttrTypes))
            .Edge(s.Clicks, ("user", "item", "u2i"), new Decoder(weighted: true, labeled: true, attrTypes: AttributedSources.ClickAttrTypes), directed: false)
            .Edge(s.Similar, ("item", "item", "i2i"), new Decoder(labeled: true, attrTypes: AttributedSources.SimilarAttrTypes), directed: false);
        g.Init();
        return g;
    }

    private static string Decode(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    [Theory]
    [InlineData("hash", 2, PartitionLoadMode.Map)]
    [InlineData("hash", 3, PartitionLoadMode.Read)]
    [InlineData("metis", 2, PartitionLoadMode.Map)]
    public void Every_column_of_a_graphlearn_graph_comes_back_from_the_store_value_for_value_in_both_directions(string method, int parts, PartitionLoadMode mode)
    {
        var g = Load();
        var local = g.Store;
        var dir = Path.Combine(_files.Directory, "store");
        GraphPartitioner.Run(GraphLearnPartitionSource.Of(g, out _), new PartitionOptions(dir, parts, method));
        var store = PartitionStore.Open(dir);
        var loaded = Enumerable.Range(0, parts).Select(p => store.LoadPartition(p, mode)).ToArray();
        try
        {
            long Business(NodeType type, int id)
            {
                var p = store.Book.For(type).Locate(id, out var row);
                return loaded[p].Nodes(type).BusinessIds.Span[row];
            }

            var strings = 0;
            foreach (var nodes in local.NodeTypes)
            {
                var data = nodes.Data;
                var a = data.Schema;
                var seen = 0;
                foreach (var part in loaded)
                {
                    var pn = part.Nodes(nodes.Type);
                    var c = pn.Columns;
                    Assert.Equal(new NodeColumns(true, a.IntCount, a.StringCount), c.Columns);
                    for (var r = 0; r < pn.Count; r++, seen++)
                    {
                        Assert.True(nodes.Ids.TryGetDense(pn.BusinessIds.Span[r], out var d));
                        Assert.Equal(data.Weight(d), c.Weights.Span[r]);
                        Assert.Equal(data.IntsOf(d).ToArray(), c.Ints.Span.Slice(r * a.IntCount, a.IntCount).ToArray());
                        Assert.Equal(data.FloatsOf(d).ToArray(), pn.Features.Row(r).ToArray());
                        for (var k = 0; k < a.StringCount; k++, strings++) Assert.Equal(data.StringsOf(d)[k], Decode(c.Strings.Value(r, k)));
                    }
                }
                Assert.Equal(nodes.Count, seen);
            }

            foreach (var edges in local.EdgeTypes)
            {
                var t = edges.Type;
                var data = edges.Data;
                var a = data.Schema;
                var srcIds = local.Nodes(t.Src).Ids;
                var dstIds = local.Nodes(t.Dst).Ids;
                foreach (var incoming in new[] { false, true })
                {
                    var count = new int[edges.Count];
                    foreach (var part in loaded)
                    {
                        var pe = part.Edges(t);
                        var csr = pe.Direction(incoming);
                        var c = pe.Columns(incoming);
                        var rows = part.Nodes(incoming ? t.Dst : t.Src);
                        Assert.Equal(new EdgeColumns(true, a is not null && edges.Schema.Weighted, edges.Schema.Labeled, a!.IntCount, a.FloatCount, a.StringCount, edges.Schema.Directed), c.Columns);
                        for (var r = 0; r < csr.RowCount; r++)
                        {
                            var near = rows.BusinessIds.Span[r];
                            for (var at = (int)csr.Offsets[r]; at < csr.Offsets[r + 1]; at++)
                            {
                                var far = Business(incoming ? t.Src : t.Dst, csr.Neighbors[at]);
                                var e = checked((int)c.Ids.Span[at]);
                                count[e]++;
                                // The stored id names local mode's edge: same ends, same columns.
                                var (src, dst) = incoming ? (far, near) : (near, far);
                                Assert.Equal(srcIds.ToBusiness(edges.Out.RowOfEntry(e)), src);
                                Assert.Equal(dstIds.ToBusiness(edges.Out.Neighbors[e]), dst);
                                Assert.Equal(data.Weight(e), pe.Weights(incoming).Span[at]);
                                Assert.Equal(data.Label(e), c.Labels.Span[at]);
                                Assert.Equal(data.IntsOf(e).ToArray(), c.Ints.Span.Slice(at * a.IntCount, a.IntCount).ToArray());
                                Assert.Equal(data.FloatsOf(e).ToArray(), c.Floats.Span.Slice(at * a.FloatCount, a.FloatCount).ToArray());
                                for (var k = 0; k < a.StringCount; k++, strings++) Assert.Equal(data.StringsOf(e)[k], Decode(c.Strings.Value(at, k)));
                            }
                        }
                    }
                    Assert.All(count, n => Assert.Equal(1, n)); // every edge once per direction
                }
            }
            Assert.True(strings > 100);
            Assert.Contains(local.Nodes("user").Data.Strings.ToArray(), x => x.Length == 0);
            Assert.Contains(local.Nodes("user").Data.Strings.ToArray(), x => x.Any(ch => ch > 127));

            // The edge-only user is a node of the store with GraphLearn's defaults, as in local mode.
            Assert.True(local.Nodes("user").Ids.TryGetDense(AttributedSources.EdgeOnlyUser, out _));
            for (var p = 0; p < parts; p++) Assert.Empty(store.VerifyColumnFiles(p));
        }
        finally
        {
            foreach (var p in loaded) p.Dispose();
        }
    }

    [Fact]
    public void Column_files_are_listed_with_their_sha256_and_a_changed_or_cut_file_is_named()
    {
        var g = Load();
        var dir = Path.Combine(_files.Directory, "store");
        GraphPartitioner.Run(GraphLearnPartitionSource.Of(g, out _), new PartitionOptions(dir, 2));
        var store = PartitionStore.Open(dir);
        var files = store.Manifest.Partitions[1].Files!;
        Assert.Contains("nodes/user/strings.u8", files.Keys);
        Assert.Contains("edges/user_u2i_item/in_edge_ids.i64", files.Keys);
        Assert.Contains("edges/item_i2i_item/out_string_offsets.i64", files.Keys);
        Assert.All(files.Values, f => Assert.Equal(64, f.Sha256.Length));

        var blob = Path.Combine(dir, "part-1", "nodes", "user", "strings.u8");
        var bytes = File.ReadAllBytes(blob);
        bytes[^1] ^= 0x20;
        File.WriteAllBytes(blob, bytes);
        Assert.Equal([blob], store.VerifyColumnFiles(1));

        File.WriteAllBytes(blob, bytes[..^1]);
        var e = Assert.Throws<PartitionStoreException>(() => store.LoadPartition(1));
        Assert.Equal(blob, e.FilePath);
        Assert.Contains($"lists {bytes.Length}", e.Message);
    }

    [Fact]
    public void A_store_written_without_columns_lists_none_and_loads_as_before()
    {
        var g = Load();
        var dir = Path.Combine(_files.Directory, "plain");
        GraphPartitioner.Run(new HeteroGraphSource(g.Store), new PartitionOptions(dir, 2));
        var text = File.ReadAllText(Path.Combine(dir, StoreManifest.FileName));
        Assert.DoesNotContain("columns", text);
        Assert.DoesNotContain("files", text);
        Assert.Empty(Directory.EnumerateFiles(dir, "*strings*", SearchOption.AllDirectories));
        using var part = PartitionStore.Open(dir).LoadPartition(0);
        Assert.Same(NodeColumnData.None, part.Nodes("user").Columns);
        Assert.Same(EdgeColumnData.None, part.Edges(new CanonicalEdgeType("user", "u2i", "item")).InColumns);
    }

    [Fact]
    public void A_chunk_whose_columns_disagree_with_its_type_is_refused_naming_the_type_and_field()
    {
        var g = Load();
        var source = new ShortLabels(GraphLearnPartitionSource.Of(g, out _));
        var e = Assert.Throws<GraphInputException>(() => GraphPartitioner.Run(source, new PartitionOptions(Path.Combine(_files.Directory, "bad"), 2)));
        Assert.Equal("label", e.Field);
        Assert.Contains("u2i", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_files.Directory, "bad")));
    }

    /// <summary>A source whose u2i chunks lose their last label.</summary>
    private sealed class ShortLabels(IPartitionSource inner) : IPartitionSource
    {
        public IReadOnlyList<SourceNodeType> NodeTypes => inner.NodeTypes;
        public IReadOnlyList<SourceEdgeType> EdgeTypes => inner.EdgeTypes;
        public IEnumerable<NodeChunk> ReadNodes(NodeType type) => inner.ReadNodes(type);

        public IEnumerable<EdgeChunk> ReadEdges(CanonicalEdgeType type)
        {
            foreach (var c in inner.ReadEdges(type))
                yield return type.Relation == "u2i" ? c with { Labels = c.Labels[..^1] } : c;
        }
    }
}
