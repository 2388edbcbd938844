// One edge type into every partition's out- and in-CSR, streamed: chunks → per-partition run files → one CSR at a time.
using System.Diagnostics;
using System.Runtime.InteropServices;
using GraphActors.Contracts;
using GraphActors.Graph.Storage;

namespace GraphActors.Graph.Partitioning;

/// <summary>
/// Lays out one edge type without holding it: each chunk's edges are relabelled and appended to run files, one per
/// partition and direction (12 bytes per edge each: local row, neighbour, weight), in input order; then each run is
/// read back into its partition's CSR. Resident: the run buffers (at most <see cref="BufferBudgetBytes"/>) and one
/// partition's CSR of one direction while it is built (8 bytes per edge and 8 per row). Temporary disk: 24 bytes per
/// edge of the type. So a type's edge count is bounded by disk, not by memory or by an int; only a partition's share
/// of one direction must fit a span (2^31 − 1 entries), as the partition loader requires.
/// With more partitions than <see cref="MaxOpenRuns"/>/2 the partitions are taken in groups, one pass over the
/// source per group.
/// <para>
/// A type with <see cref="EdgeColumns"/> (edge ids, labels, attributes: a GraphLearn source) sends each edge's columns
/// to <see cref="ColumnRuns"/> beside its structure records, in the same order. Building a CSR then also tracks where
/// each run record lands (its row slot, then the stable sort within the row: 8 more bytes per entry while one CSR is
/// built), and the columns are scattered to those positions, so every direction's column files run parallel to its
/// neighbours, as the weights do. Columns cost their own bytes twice on temporary disk (once per direction).
/// </para>
/// </summary>
internal static class EdgeRuns
{
    internal const long BufferBudgetBytes = 256L << 20;
    internal const int MaxOpenRuns = 512;

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct RunEdge
    {
        public int Row;
        public int Neighbor;
        public float Weight;
    }

    private static readonly int RecordBytes = Marshal.SizeOf<RunEdge>();

    /// <summary>What a partition received of one edge type: entries per direction and out-edges whose destination another partition owns.</summary>
    internal readonly record struct PartCounts(long Out, long In, long Cut);

    /// <summary>
    /// Writes <paramref name="type"/>'s CSR files into each <c>partDir(p)</c>. <paramref name="read"/> starts a pass
    /// over the type's edges (per-type dense ids of the source); <paramref name="declared"/> is the count the source
    /// promised. The maximum per partition, the buffer budget and the open-run limit may be lowered by tests.
    /// </summary>
    internal static PartCounts[] Write(CanonicalEdgeType type, Func<IEnumerable<EdgeChunk>> read, long declared,
        PartitionBook book, IReadOnlyDictionary<NodeType, int[]> newIds, Func<int, string> partDir, string runDir,
        Action<string>? progress, long maxPerPartition = -1, long bufferBudget = BufferBudgetBytes, int maxOpenRuns = MaxOpenRuns,
        EdgeColumns? columns = null, IReadOnlyList<IDictionary<string, ManifestFile>>? files = null)
    {
        if (maxPerPartition < 0) maxPerPartition = Array.MaxLength;
        var layout = columns is { Any: true } ? ColumnLayout.Of(columns) : null;
        if (layout is not null && files is null) throw new ArgumentNullException(nameof(files), "A type with columns lists its column files.");
        var parts = book.Parts;
        var result = new PartCounts[parts];
        var group = Math.Max(1, maxOpenRuns / 2);
        Directory.CreateDirectory(runDir);
        var scratch = new Scratch();
        for (var first = 0; first < parts; first += group)
        {
            var last = Math.Min(parts, first + group);
            using var outColumns = layout is null ? null : new ColumnRuns(layout, runDir, "out", last - first, bufferBudget / 2);
            using var inColumns = layout is null ? null : new ColumnRuns(layout, runDir, "in", last - first, bufferBudget / 2);
            var runs = WriteRuns(type, read(), declared, book, newIds, runDir, first, last, progress,
                layout is null ? bufferBudget : bufferBudget / 2, outColumns, inColumns);
            for (var p = first; p < last; p++)
            {
                var dir = StoreLayout.EdgeDir(partDir(p), type);
                Directory.CreateDirectory(dir);
                var sink = layout is null ? null : new ColumnSink(p - first, partDir(p), files![p]);
                var outCount = BuildCsr(type, book, p, incoming: false, runs[p - first].Out, dir, maxPerPartition, scratch, out var cut, outColumns, sink);
                var inCount = BuildCsr(type, book, p, incoming: true, runs[p - first].In, dir, maxPerPartition, scratch, out _, inColumns, sink);
                result[p] = new PartCounts(outCount, inCount, cut);
            }
        }
        return result;
    }

    /// <summary>Where one partition's column files go: its slot in the group's column runs, its folder, its file list.</summary>
    private sealed record ColumnSink(int Slot, string PartDir, IDictionary<string, ManifestFile> Files);

    /// <summary>
    /// The arrays one CSR is built in, kept from partition to partition and grown to the largest share: a fresh set per
    /// partition left the previous ones as large-object garbage until a full collection, and peak memory grew with the
    /// number of partitions built between two collections.
    /// </summary>
    private sealed class Scratch
    {
        public long[] Offsets = [];
        public int[] Next = [];
        public int[] Neighbors = [];
        public float[] Weights = [];
        public long[] Keys = [];
        public float[] Moved = [];
        // Only for a type with columns: the run record at each CSR position, and its inverse.
        public int[] Records = [];
        public int[] PositionOf = [];
        public int[] MovedRecords = [];
        public readonly RunEdge[] Block = new RunEdge[1 << 16];

        public void Ensure(int rows, long entries)
        {
            if (Offsets.Length < rows + 1) { Offsets = new long[rows + 1]; Next = new int[rows]; }
            if (Neighbors.Length < entries)
            {
                // Drop the old pair before taking the new one: both at once would be the peak.
                Neighbors = [];
                Weights = [];
                Neighbors = new int[entries];
                Weights = new float[entries];
            }
        }
    }

    /// <summary>One pass over the source: every edge goes to the out-run of its source's owner and the in-run of its destination's owner.</summary>
    private static (string Out, string In)[] WriteRuns(CanonicalEdgeType type, IEnumerable<EdgeChunk> chunks, long declared,
        PartitionBook book, IReadOnlyDictionary<NodeType, int[]> newIds, string runDir, int first, int last,
        Action<string>? progress, long bufferBudget, ColumnRuns? outColumns, ColumnRuns? inColumns)
    {
        var where = $"edge type {type}";
        var srcMap = newIds[type.Src];
        var dstMap = newIds[type.Dst];
        var srcBook = book.For(type.Src);
        var dstBook = book.For(type.Dst);
        var count = last - first;
        var bufferRecords = (int)Math.Clamp(bufferBudget / (2L * count * RecordBytes), 1, 1 << 16);
        var names = new (string Out, string In)[count];
        var streams = new FileStream[2 * count];
        var buffers = new RunEdge[2 * count][];
        var filled = new int[2 * count];
        void Flush(int r)
        {
            if (filled[r] == 0) return;
            streams[r].Write(MemoryMarshal.AsBytes(buffers[r].AsSpan(0, filled[r])));
            filled[r] = 0;
        }
        void Append(int r, int row, int neighbor, float weight)
        {
            if (filled[r] == bufferRecords) Flush(r);
            buffers[r][filled[r]++] = new RunEdge { Row = row, Neighbor = neighbor, Weight = weight };
        }

        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        long at = 0;
        try
        {
            for (var i = 0; i < count; i++)
            {
                var p = first + i;
                names[i] = (Path.Combine(runDir, $"out-{p}.run"), Path.Combine(runDir, $"in-{p}.run"));
                streams[2 * i] = new FileStream(names[i].Out, FileMode.Create, FileAccess.Write, FileShare.None, 0);
                streams[2 * i + 1] = new FileStream(names[i].In, FileMode.Create, FileAccess.Write, FileShare.None, 0);
                buffers[2 * i] = new RunEdge[bufferRecords];
                buffers[2 * i + 1] = new RunEdge[bufferRecords];
            }
            foreach (var chunk in chunks)
            {
                var len = chunk.Length;
                if (chunk.Dst.Length != len || chunk.Weights.Length != len)
                    throw new GraphInputException(where, 0, null, "a chunk's src, dst and weight arrays differ in length.");
                if (at + len > declared) throw new GraphInputException(where, 0, null, $"declares {declared:N0} edges but yields more.");
                var src = chunk.Src.Span;
                var dst = chunk.Dst.Span;
                var w = chunk.Weights.Span;
                var layout = outColumns?.Layout;
                if (layout is not null) CheckColumns(where, chunk, layout, at);
                var labels = chunk.Labels.Span;
                var ints = chunk.Ints.Span;
                var floats = chunk.Floats.Span;
                var (ki, kf, ks) = layout is null ? (0, 0, 0) : (layout.IntCount, layout.FloatCount, layout.StringCount);
                for (var k = 0; k < len; k++)
                {
                    var s = src[k];
                    var d = dst[k];
                    if ((uint)s >= (uint)srcMap.Length)
                        throw new GraphInputException(where, 0, "src", $"edge {at + k} has source {s}, outside 0..{srcMap.Length - 1}.");
                    if ((uint)d >= (uint)dstMap.Length)
                        throw new GraphInputException(where, 0, "dst", $"edge {at + k} has destination {d}, outside 0..{dstMap.Length - 1}.");
                    var u = srcMap[s];
                    var v = dstMap[d];
                    var ps = srcBook.LocateUnchecked(u, out var rowU);
                    var pd = dstBook.LocateUnchecked(v, out var rowV);
                    if (ps >= first && ps < last)
                    {
                        Append(2 * (ps - first), rowU, v, w[k]);
                        outColumns?.Append(ps - first, at + k, ints.Slice(k * ki, ki), floats.Slice(k * kf, kf), 1f,
                            labels.IsEmpty ? -1 : labels[k], chunk.Strings, k * ks);
                    }
                    if (pd >= first && pd < last)
                    {
                        Append(2 * (pd - first) + 1, rowV, u, w[k]);
                        inColumns?.Append(pd - first, at + k, ints.Slice(k * ki, ki), floats.Slice(k * kf, kf), 1f,
                            labels.IsEmpty ? -1 : labels[k], chunk.Strings, k * ks);
                    }
                }
                at += len;
                if (progress is not null && clock.Elapsed - lastReport >= TimeSpan.FromSeconds(5))
                {
                    lastReport = clock.Elapsed;
                    progress($"edges {type}: {at:N0} of {declared:N0} ({100.0 * at / Math.Max(declared, 1):F0} %), {at / clock.Elapsed.TotalSeconds / 1e6:F1} M/s");
                }
            }
            if (at != declared) throw new GraphInputException(where, 0, null, $"declares {declared:N0} edges but yields {at:N0}.");
            for (var r = 0; r < streams.Length; r++) Flush(r);
            outColumns?.Close();
            inColumns?.Close();
        }
        finally
        {
            foreach (var s in streams) s?.Dispose();
        }
        return names;
    }

    // A chunk's columns must be what the type declares, one row per edge; the error names the field and the first edge of the chunk.
    private static void CheckColumns(string where, in EdgeChunk chunk, ColumnLayout layout, long at)
    {
        var len = chunk.Length;
        string? field = null;
        string problem = "";
        if (layout.Labels && chunk.Labels.Length != len) (field, problem) = ("label", $"{chunk.Labels.Length} labels");
        else if (!layout.Labels && !chunk.Labels.IsEmpty) (field, problem) = ("label", $"{chunk.Labels.Length} labels but the type is unlabelled");
        else if (chunk.Ints.Length != (long)len * layout.IntCount) (field, problem) = ("attributes", $"{chunk.Ints.Length} int values, expected {len} × {layout.IntCount}");
        else if (chunk.Floats.Length != (long)len * layout.FloatCount) (field, problem) = ("attributes", $"{chunk.Floats.Length} float values, expected {len} × {layout.FloatCount}");
        else if (chunk.Strings.Count != (long)len * layout.StringCount) (field, problem) = ("attributes", $"{chunk.Strings.Count} string values, expected {len} × {layout.StringCount}");
        if (field is not null)
            throw new GraphInputException(where, 0, field, $"the chunk of edges {at:N0} .. {at + len - 1:N0} has {problem}.");
    }

    /// <summary>
    /// Reads one run into a CSR: rows local to the partition, each row's neighbours ascending with ties in input order
    /// (a counting scatter in input order, then a stable sort within each row), weights parallel. Deletes the run.
    /// </summary>
    private static long BuildCsr(CanonicalEdgeType type, PartitionBook book, int p, bool incoming, string run, string dir,
        long maxPerPartition, Scratch scratch, out long cut, ColumnRuns? columns = null, ColumnSink? sink = null)
    {
        var (rowType, nbrType) = incoming ? (type.Dst, type.Src) : (type.Src, type.Dst);
        var rowCount = book.Count(rowType, p);
        var n = new FileInfo(run).Length / RecordBytes;
        if (n > maxPerPartition)
            throw new BadInputException(
                $"edge type {type}: partition {p} would hold {n:N0} {(incoming ? "in" : "out")}-edges; a partition holds at most {maxPerPartition:N0} per edge type and direction. Use more --parts (about {(long)Math.Ceiling((double)n * book.Parts / maxPerPartition):N0}).");
        scratch.Ensure(rowCount, n);
        var offsets = scratch.Offsets.AsSpan(0, rowCount + 1);
        offsets.Clear();
        var block = scratch.Block;
        using (var fs = new FileStream(run, FileMode.Open, FileAccess.Read, FileShare.None, 0))
        {
            int got;
            while ((got = ReadBlock(fs, block)) > 0)
                for (var i = 0; i < got; i++) offsets[block[i].Row + 1]++;
        }
        for (var r = 0; r < rowCount; r++) offsets[r + 1] += offsets[r];
        var neighbors = scratch.Neighbors.AsSpan(0, (int)n);
        var weights = scratch.Weights.AsSpan(0, (int)n);
        var next = scratch.Next.AsSpan(0, rowCount);
        for (var r = 0; r < rowCount; r++) next[r] = (int)offsets[r];
        var tracked = columns is not null;
        if (tracked && scratch.Records.Length < n)
        {
            scratch.Records = [];
            scratch.PositionOf = [];
            scratch.Records = new int[n];
            scratch.PositionOf = new int[n];
        }
        var records = tracked ? scratch.Records.AsSpan(0, (int)n) : default;
        using (var fs = new FileStream(run, FileMode.Open, FileAccess.Read, FileShare.None, 0))
        {
            int got;
            var record = 0;
            while ((got = ReadBlock(fs, block)) > 0)
                for (var i = 0; i < got; i++, record++)
                {
                    ref readonly var e = ref block[i];
                    var at = next[e.Row]++;
                    neighbors[at] = e.Neighbor;
                    weights[at] = e.Weight;
                    if (tracked) records[at] = record;
                }
        }
        File.Delete(run);

        for (var r = 0; r < rowCount; r++)
        {
            var start = (int)offsets[r];
            var len = (int)(offsets[r + 1] - start);
            SortRow(neighbors.Slice(start, len), weights.Slice(start, len), tracked ? records.Slice(start, len) : default,
                ref scratch.Keys, ref scratch.Moved, ref scratch.MovedRecords);
        }
        if (tracked)
        {
            var positionOf = scratch.PositionOf.AsSpan(0, (int)n);
            for (var at = 0; at < records.Length; at++) positionOf[records[at]] = at;
            columns!.Scatter(sink!.Slot, positionOf, dir, StoreLayout.EdgeColumn(incoming, ""), sink.PartDir, sink.Files,
                $"edge type {type}, partition {p}, {(incoming ? "in" : "out")}-edges");
        }

        cut = 0;
        if (!incoming)
        {
            var own = book.For(nbrType).Part(p);
            foreach (var v in neighbors) if (own.RowOf(v) < 0) cut++;
        }
        StoreFile.Write<long>(Path.Combine(dir, StoreLayout.Offsets(incoming)), offsets);
        StoreFile.Write<int>(Path.Combine(dir, StoreLayout.Neighbors(incoming)), neighbors);
        StoreFile.Write<float>(Path.Combine(dir, StoreLayout.Weights(incoming)), weights);
        return n;
    }

    private static int ReadBlock(FileStream fs, RunEdge[] block)
    {
        var bytes = MemoryMarshal.AsBytes(block.AsSpan());
        var total = 0;
        while (total < bytes.Length)
        {
            var got = fs.Read(bytes[total..]);
            if (got == 0) break;
            total += got;
        }
        if (total % RecordBytes != 0) throw new IOException($"{fs.Name}: run file ends inside a record.");
        return total / RecordBytes;
    }

    /// <summary>Stable sort of one row by neighbour, weights moved along: insertion for short rows, keyed (neighbour, position) sort otherwise.</summary>
    internal static void SortRow(Span<int> neighbors, Span<float> weights, ref long[] keys, ref float[] moved)
    {
        int[] movedRecords = [];
        SortRow(neighbors, weights, default, ref keys, ref moved, ref movedRecords);
    }

    /// <summary>The same, with <paramref name="records"/> (empty, or one per entry) moved along too.</summary>
    internal static void SortRow(Span<int> neighbors, Span<float> weights, Span<int> records, ref long[] keys, ref float[] moved, ref int[] movedRecords)
    {
        var tracked = !records.IsEmpty;
        var len = neighbors.Length;
        var sorted = true;
        for (var i = 1; i < len && sorted; i++) sorted = neighbors[i - 1] <= neighbors[i];
        if (sorted) return;
        if (len <= 24)
        {
            for (var i = 1; i < len; i++)
            {
                var v = neighbors[i];
                var w = weights[i];
                var rec = tracked ? records[i] : 0;
                var j = i - 1;
                while (j >= 0 && neighbors[j] > v)
                {
                    neighbors[j + 1] = neighbors[j];
                    weights[j + 1] = weights[j];
                    if (tracked) records[j + 1] = records[j];
                    j--;
                }
                neighbors[j + 1] = v;
                weights[j + 1] = w;
                if (tracked) records[j + 1] = rec;
            }
            return;
        }
        if (keys.Length < len)
        {
            keys = new long[Math.Max(len, keys.Length * 2)];
            moved = new float[keys.Length];
        }
        var k = keys.AsSpan(0, len);
        for (var i = 0; i < len; i++) k[i] = ((long)neighbors[i] << 32) | (uint)i;
        k.Sort();
        var m = moved.AsSpan(0, len);
        for (var i = 0; i < len; i++)
        {
            neighbors[i] = (int)(k[i] >> 32);
            m[i] = weights[(int)k[i]];
        }
        m.CopyTo(weights);
        if (!tracked) return;
        if (movedRecords.Length < len) movedRecords = new int[keys.Length];
        var mr = movedRecords.AsSpan(0, len);
        for (var i = 0; i < len; i++) mr[i] = records[(int)k[i]];
        mr.CopyTo(records);
    }
}
