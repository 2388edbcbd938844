using GraphActors.Contracts;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Tests.Partitioning;

/// <summary>
/// The streamed edge layout: each partition's CSR built from its run alone must equal the layout of the whole edge list
/// (rows local, neighbours ascending, ties in input order, weights alongside), whatever the buffer size, however many
/// passes the partitions take, and a partition's share beyond what one span addresses is refused before it is written.
/// </summary>
public sealed class EdgeRunsTests
{
    private static readonly CanonicalEdgeType Type = new("a", "r", "b");

    /// <summary>A random multigraph a → b (repeated pairs with different weights, rows with long runs) in chunks of uneven size.</summary>
    private sealed record Edges(int[] Src, int[] Dst, float[] W)
    {
        public IEnumerable<EdgeChunk> Chunks(int chunk = 97)
        {
            for (var at = 0; at < Src.Length; at += chunk)
            {
                var len = Math.Min(chunk, Src.Length - at);
                yield return new EdgeChunk(Src.AsMemory(at, len), Dst.AsMemory(at, len), W.AsMemory(at, len));
            }
        }
    }

    private static Edges Random(int na, int nb, int count, int seed)
    {
        var rng = new Random(seed);
        var src = new int[count];
        var dst = new int[count];
        var w = new float[count];
        for (var i = 0; i < count; i++)
        {
            // Node 0 of each type is a hub (rows longer than the insertion-sort cut-off); few distinct
            // destinations make repeated pairs common.
            src[i] = rng.Next(4) == 0 ? 0 : rng.Next(na);
            dst[i] = rng.Next(3) == 0 ? 0 : rng.Next(Math.Min(nb, 40));
            w[i] = i; // distinct, so tie order is visible
        }
        return new Edges(src, dst, w);
    }

    /// <summary>A random assignment relabelled as the partitioner does.</summary>
    private static (PartitionBook Book, Dictionary<NodeType, int[]> NewIds) Assign(int na, int nb, int parts, int seed)
    {
        var rng = new Random(seed);
        var assignment = new PartitionAssignment("hash", parts, new Dictionary<NodeType, int[]>
        {
            [Type.Src] = Enumerable.Range(0, na).Select(_ => rng.Next(parts)).ToArray(),
            [Type.Dst] = Enumerable.Range(0, nb).Select(_ => rng.Next(parts)).ToArray(),
        });
        var (book, ids) = Relabeling.Relabel(assignment);
        return (book, ids.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    private static (long[] Offsets, int[] Neighbors, float[] Weights) Expected(Edges e, PartitionBook book, Dictionary<NodeType, int[]> ids, int p, bool incoming)
    {
        var (rowType, nbrType) = incoming ? (Type.Dst, Type.Src) : (Type.Src, Type.Dst);
        var (start, count) = (book.For(rowType).Part(p).First, book.Count(rowType, p));
        var rows = Enumerable.Range(0, e.Src.Length)
            .Select(i => (Row: ids[rowType][incoming ? e.Dst[i] : e.Src[i]], Nbr: ids[nbrType][incoming ? e.Src[i] : e.Dst[i]], W: e.W[i]))
            .Where(x => x.Row >= start && x.Row < start + count)
            .OrderBy(x => x.Row).ThenBy(x => x.Nbr) // stable: ties keep input order
            .ToArray();
        var offsets = new long[count + 1];
        foreach (var x in rows) offsets[x.Row - start + 1]++;
        for (var r = 0; r < count; r++) offsets[r + 1] += offsets[r];
        return (offsets, rows.Select(x => x.Nbr).ToArray(), rows.Select(x => x.W).ToArray());
    }

    private static T[] Read<T>(string path) where T : unmanaged
    {
        var bytes = File.ReadAllBytes(path);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes.AsSpan(StoreFile.HeaderSize)).ToArray();
    }

    [Theory]
    [InlineData(1, 1 << 20, 512)]   // one partition, the whole type in one run
    [InlineData(5, 1 << 20, 512)]   // one pass over the source
    [InlineData(5, 24, 512)]        // buffers of one record: a flush per edge
    [InlineData(5, 1 << 20, 4)]     // two partitions per pass: three passes over the source
    public void Each_partition_holds_exactly_the_layout_of_the_whole_edge_list(int parts, long bufferBudget, int maxOpenRuns)
    {
        const int na = 300, nb = 200;
        var edges = Random(na, nb, 20_000, seed: parts);
        var (book, ids) = Assign(na, nb, parts, seed: 11);
        var root = TestGraphs.TempDir();
        var passes = 0;
        var counts = EdgeRuns.Write(Type, () => { passes++; return edges.Chunks(); }, edges.Src.Length, book, ids,
            p => Path.Combine(root, $"part-{p}"), Path.Combine(root, "runs"), progress: null,
            bufferBudget: bufferBudget, maxOpenRuns: maxOpenRuns);

        Assert.Equal((parts + maxOpenRuns / 2 - 1) / (maxOpenRuns / 2), passes);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(root, "runs")));
        Assert.Equal(edges.Src.Length, counts.Sum(c => c.Out));
        Assert.Equal(edges.Src.Length, counts.Sum(c => c.In));
        for (var p = 0; p < parts; p++)
        {
            var dir = StoreLayout.EdgeDir(Path.Combine(root, $"part-{p}"), Type);
            foreach (var incoming in new[] { false, true })
            {
                var (offsets, neighbors, weights) = Expected(edges, book, ids, p, incoming);
                Assert.Equal(offsets, Read<long>(Path.Combine(dir, StoreLayout.Offsets(incoming))));
                Assert.Equal(neighbors, Read<int>(Path.Combine(dir, StoreLayout.Neighbors(incoming))));
                Assert.Equal(weights, Read<float>(Path.Combine(dir, StoreLayout.Weights(incoming))));
                Assert.Equal(neighbors.LongLength, incoming ? counts[p].In : counts[p].Out);
            }
            var (lo, n) = (book.For(Type.Dst).Part(p).First, book.Count(Type.Dst, p));
            var (_, outNbrs, _) = Expected(edges, book, ids, p, incoming: false);
            Assert.Equal(outNbrs.LongCount(v => v < lo || v >= lo + n), counts[p].Cut);
        }
    }

    [Fact]
    public void A_partition_share_beyond_one_span_is_refused_naming_the_edge_type_partition_and_direction()
    {
        var g = TestGraphs.UserItem();
        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        var ex = Assert.Throws<BadInputException>(() => GraphPartitioner.Run(new HeteroGraphSource(g),
            new PartitionOptions(dir, 2) { MaxEdgesPerPartition = 100 }));
        Assert.Contains("edge type", ex.Message);
        Assert.Contains("partition 0", ex.Message);
        Assert.Contains("at most 100", ex.Message);
        Assert.Contains("--parts", ex.Message);
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(dir)!));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void A_source_that_yields_other_than_it_declares_is_refused(int difference)
    {
        var edges = Random(50, 50, 1_000, seed: 3);
        var (book, ids) = Assign(50, 50, 2, seed: 4);
        var root = TestGraphs.TempDir();
        var ex = Assert.Throws<GraphInputException>(() => EdgeRuns.Write(Type, () => edges.Chunks(), edges.Src.Length + difference, book, ids,
            p => Path.Combine(root, $"part-{p}"), Path.Combine(root, "runs"), progress: null));
        Assert.Contains($"declares {edges.Src.Length + difference:N0} edges", ex.Message);
    }

    [Fact]
    public void An_endpoint_outside_its_type_is_refused_with_the_edge_index()
    {
        var edges = Random(50, 50, 1_000, seed: 3);
        edges.Dst[517] = 50;
        var (book, ids) = Assign(50, 50, 2, seed: 4);
        var root = TestGraphs.TempDir();
        var ex = Assert.Throws<GraphInputException>(() => EdgeRuns.Write(Type, () => edges.Chunks(), edges.Src.Length, book, ids,
            p => Path.Combine(root, $"part-{p}"), Path.Combine(root, "runs"), progress: null));
        Assert.Contains("edge 517 has destination 50", ex.Message);
    }

    [Fact]
    public void Long_rows_sort_stably_by_neighbour_with_their_weights()
    {
        var rng = new Random(5);
        var nbrs = Enumerable.Range(0, 1000).Select(_ => rng.Next(30)).ToArray();
        var w = Enumerable.Range(0, 1000).Select(i => (float)i).ToArray();
        var expected = nbrs.Zip(w).OrderBy(x => x.First).ToArray();
        long[] keys = [];
        float[] moved = [];
        EdgeRuns.SortRow(nbrs, w, ref keys, ref moved);
        Assert.Equal(expected.Select(x => x.First), nbrs);
        Assert.Equal(expected.Select(x => x.Second), w);
    }
}
