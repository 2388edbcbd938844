// The resident part of a partitioning run: node ids, labels, masks and the edge lists (never the features).
using GraphActors.Contracts;

namespace GraphActors.Graph.Partitioning;

/// <summary>Set bits of a node's split byte.</summary>
[Flags]
public enum SplitFlags : byte { None = 0, Train = 1, Val = 2, Test = 4 }

/// <summary>Per node type: business ids, labels and train/val/test flags by dense id (13 bytes per node).</summary>
public sealed class NodeTable
{
    internal NodeTable(SourceNodeType info, long[] business, int[] labels, byte[] split)
    {
        Info = info;
        Business = business;
        Labels = labels;
        Split = split;
    }

    public SourceNodeType Info { get; }
    public NodeType Type => Info.Type;
    public int Count => Info.Count;
    public long[] Business { get; }
    /// <summary>Empty when the type is unlabelled.</summary>
    public int[] Labels { get; }
    public byte[] Split { get; }

    public long CountWhere(SplitFlags flag)
    {
        long n = 0;
        foreach (var s in Split) if ((s & (byte)flag) != 0) n++;
        return n;
    }

    /// <summary>Reads ids, labels and masks (the first node pass). Labelled types without masks get <paramref name="split"/>.</summary>
    public static NodeTable Read(IPartitionSource source, SourceNodeType info, MaskSplit split)
    {
        var n = info.Count;
        var business = new long[n];
        var labels = info.LabelCount > 0 ? new int[n] : [];
        var flags = new byte[n];
        var seen = new bool[n];
        var where = $"node type '{info.Type}'";
        foreach (var chunk in source.ReadNodes(info.Type))
        {
            var ids = chunk.DenseIds.Span;
            var b = chunk.BusinessIds.Span;
            if (b.Length != ids.Length) throw new GraphInputException(where, 0, "node_id", $"chunk has {ids.Length} dense ids but {b.Length} business ids.");
            if (!chunk.Labels.IsEmpty && chunk.Labels.Length != ids.Length) throw new GraphInputException(where, 0, "label", "labels must be one per node.");
            if (chunk.HasMasks && (chunk.TrainMask.Length != ids.Length || chunk.ValMask.Length != ids.Length || chunk.TestMask.Length != ids.Length))
                throw new GraphInputException(where, 0, "mask", "masks must be one byte per node, all three.");
            var l = chunk.Labels.Span;
            for (var i = 0; i < ids.Length; i++)
            {
                var d = ids[i];
                if ((uint)d >= (uint)n) throw new GraphInputException(where, 0, "global_node_id", $"dense id {d} outside 0..{n - 1}.");
                if (seen[d]) throw new GraphInputException(where, 0, "global_node_id", $"dense id {d} appears twice.");
                seen[d] = true;
                business[d] = b[i];
                if (labels.Length > 0)
                {
                    var label = l.IsEmpty ? -1 : l[i];
                    if (label < -1 || label >= info.LabelCount)
                        throw new GraphInputException(where, 0, "label", $"node {b[i]} has label {label}, outside [-1, {info.LabelCount}) (the type's class count).");
                    labels[d] = label;
                }
                if (chunk.HasMasks)
                {
                    flags[d] = (byte)((chunk.TrainMask.Span[i] != 0 ? 1 : 0) | (chunk.ValMask.Span[i] != 0 ? 2 : 0) | (chunk.TestMask.Span[i] != 0 ? 4 : 0));
                }
                else if (info.LabelCount > 0)
                {
                    flags[d] = (byte)split.Of(b[i]);
                }
            }
        }
        var missing = Array.IndexOf(seen, false);
        if (missing >= 0) throw new GraphInputException(where, 0, "global_node_id", $"declares {n} nodes but dense id {missing} never appeared.");
        return new NodeTable(info, business, labels, flags);
    }
}

/// <summary>All edges of one canonical type as three parallel arrays (12 bytes per edge): METIS's input.</summary>
public sealed class EdgeList
{
    internal EdgeList(CanonicalEdgeType type, int[] src, int[] dst, float[] weights)
    {
        Type = type;
        Src = src;
        Dst = dst;
        Weights = weights;
    }

    public CanonicalEdgeType Type { get; }
    public int Count => Src.Length;
    public int[] Src { get; }
    public int[] Dst { get; }
    public float[] Weights { get; }

    /// <summary>The list as chunks of at most 1M edges (views, no copies), for the streaming writer.</summary>
    public IEnumerable<EdgeChunk> Chunks()
    {
        const int chunk = 1 << 20;
        for (var at = 0; at < Count; at += chunk)
        {
            var len = Math.Min(chunk, Count - at);
            yield return new EdgeChunk(Src.AsMemory(at, len), Dst.AsMemory(at, len), Weights.AsMemory(at, len));
        }
    }

    /// <summary>Reads a whole edge type into memory: what METIS needs; at most 2^31 - 1 edges.</summary>
    public static EdgeList Read(IPartitionSource source, SourceEdgeType info, int srcCount, int dstCount)
    {
        var where = $"edge type {info.Type}";
        if (info.Count > Array.MaxLength)
            throw new BadInputException($"{where}: {info.Count:N0} edges; --method metis holds each edge type in memory and takes at most {Array.MaxLength:N0} per type. Use --method hash, which streams edges.");
        var n = (int)info.Count;
        var src = new int[n];
        var dst = new int[n];
        var w = new float[n];
        var at = 0;
        foreach (var chunk in source.ReadEdges(info.Type))
        {
            var len = chunk.Length;
            if (chunk.Dst.Length != len || chunk.Weights.Length != len)
                throw new GraphInputException(where, 0, null, "a chunk's src, dst and weight arrays differ in length.");
            if (at + (long)len > n) throw new GraphInputException(where, 0, null, $"declares {n} edges but yields more.");
            chunk.Src.Span.CopyTo(src.AsSpan(at));
            chunk.Dst.Span.CopyTo(dst.AsSpan(at));
            chunk.Weights.Span.CopyTo(w.AsSpan(at));
            for (var i = at; i < at + len; i++)
            {
                if ((uint)src[i] >= (uint)srcCount) throw new GraphInputException(where, 0, "src", $"edge {i} has source {src[i]}, outside 0..{srcCount - 1}.");
                if ((uint)dst[i] >= (uint)dstCount) throw new GraphInputException(where, 0, "dst", $"edge {i} has destination {dst[i]}, outside 0..{dstCount - 1}.");
            }
            at += len;
        }
        if (at != n) throw new GraphInputException(where, 0, null, $"declares {n} edges but yields {at}.");
        return new EdgeList(info.Type, src, dst, w);
    }
}

/// <summary>
/// The train/val/test split given to labelled nodes when the source has no masks: each node falls by a hash of its
/// business id and the seed, so the split is the same whatever the partitioning method or partition count.
/// </summary>
public sealed record MaskSplit(double Train = 0.6, double Val = 0.2, double Test = 0.2, ulong Seed = 42)
{
    public SplitFlags Of(long businessId)
    {
        var u = (Mix((ulong)businessId ^ (Seed * 0x9E3779B97F4A7C15UL)) >> 11) * (1.0 / (1UL << 53));
        if (u < Train) return SplitFlags.Train;
        if (u < Train + Val) return SplitFlags.Val;
        return u < Train + Val + Test ? SplitFlags.Test : SplitFlags.None;
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
