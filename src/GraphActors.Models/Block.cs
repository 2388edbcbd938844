// One layer of a message-flow graph (DGL's block), the input unit of every model here.
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>A canonical edge type: edges of <see cref="Relation"/> go from <see cref="Src"/> nodes to <see cref="Dst"/> nodes.</summary>
public readonly record struct RelationKey(string Src, string Relation, string Dst)
{
    /// <summary>Name used for submodules and state-dict keys; never contains a dot.</summary>
    public string ModuleName => $"{Src}:{Relation}:{Dst}".Replace('.', '_');

    public override string ToString() => $"({Src}, {Relation}, {Dst})";
}

/// <summary>
/// The edges of one relation as plain arrays, the form the sampler hands over (STYLE convention 1).
/// <see cref="Src"/> indexes the source rows of the relation's source type, <see cref="Dst"/> the
/// destination rows of its destination type.
/// </summary>
public sealed record RelationEdges(long[] Src, long[] Dst, float[]? Weight = null)
{
    public static RelationEdges FromInt32(int[] src, int[] dst, float[]? weight = null) =>
        new(Array.ConvertAll(src, i => (long)i), Array.ConvertAll(dst, i => (long)i), weight);
}

/// <summary>
/// The edges of one relation as the block sampler makes them (int32 local indices). <see cref="Block.CreateFromInt32"/>
/// widens each array into one int64 tensor in torch-owned memory (<see cref="NativeTensors"/>), no intermediate array.
/// </summary>
public sealed record RelationEdgesInt32(int[] Src, int[] Dst, float[]? Weight = null);

/// <summary>The tensors of one relation inside a <see cref="Block"/>; owned by the block.</summary>
public sealed class BlockEdges
{
    private EdgeIndex? index;

    internal BlockEdges(Tensor src, Tensor dst, Tensor? weight, long count, long numSrc, long numDst)
    {
        Src = src;
        Dst = dst;
        Weight = weight;
        Count = count;
        NumSrc = numSrc;
        NumDst = numDst;
    }

    /// <summary>Source rows of the relation's source type in the block.</summary>
    public long NumSrc { get; }

    /// <summary>Destination rows of the relation's destination type in the block.</summary>
    public long NumDst { get; }

    /// <summary>The edges sorted both ways, built on first use and kept with the block (<see cref="Gspmm"/> aggregates through it).</summary>
    public EdgeIndex Index => index ??= EdgeIndex.FromTensors(Src, Dst, NumSrc, NumDst);

    internal void Dispose()
    {
        Src.Dispose();
        Dst.Dispose();
        Weight?.Dispose();
        index = null;
    }

    /// <summary>[E] int64 local source index.</summary>
    public Tensor Src { get; }

    /// <summary>[E] int64 local destination index.</summary>
    public Tensor Dst { get; }

    /// <summary>[E] float32 edge weight, or null for unweighted edges.</summary>
    public Tensor? Weight { get; }

    public long Count { get; }
}

/// <summary>
/// One layer of a message-flow graph in DGL's convention. Per node type there are
/// <see cref="NumSrcNodes"/> source rows and <see cref="NumDstNodes"/> destination rows, and the
/// destination nodes are the first rows of the source nodes of the same type, so a layer reads its
/// destination features as <c>h_src[type][..numDst]</c>. A list of blocks goes from the input
/// (outermost hop) to the seeds: the destination nodes of block <c>i</c> are the source nodes of
/// block <c>i+1</c>.
/// </summary>
/// <remarks>
/// The block owns its tensors and keeps them out of any dispose scope active when it was built, so
/// it can be made outside the training step and reused (full-graph training uses one block for
/// every layer). Dispose it when done.
/// </remarks>
public sealed class Block : IDisposable
{
    private readonly Dictionary<string, long> numSrc;
    private readonly Dictionary<string, long> numDst;
    private readonly Dictionary<RelationKey, BlockEdges> edges;
    private readonly Dictionary<string, Tensor> srcNodeIds;
    private bool disposed;

    private Block(Dictionary<string, long> numSrc, Dictionary<string, long> numDst, Dictionary<RelationKey, BlockEdges> edges, Dictionary<string, Tensor> srcNodeIds)
    {
        this.numSrc = numSrc;
        this.numDst = numDst;
        this.edges = edges;
        this.srcNodeIds = srcNodeIds;
    }

    /// <summary>Source node count per node type (every type of the block is listed, possibly with 0).</summary>
    public IReadOnlyDictionary<string, long> NumSrcNodes => numSrc;

    /// <summary>Destination node count per node type; each is at most the type's source count.</summary>
    public IReadOnlyDictionary<string, long> NumDstNodes => numDst;

    /// <summary>The edges per relation.</summary>
    public IReadOnlyDictionary<RelationKey, BlockEdges> Edges => edges;

    /// <summary>
    /// Optional global ids of the source nodes per type ([numSrc] int64), used by learnable embedding
    /// tables of featureless node types. Without them the local row index is the id, which is right
    /// for full-graph blocks.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> SrcNodeIds => srcNodeIds;

    /// <summary>
    /// Builds a block from arrays. Every node type in <paramref name="numSrcNodes"/> must also be in
    /// <paramref name="numDstNodes"/> (use 0 for a type that has no destinations) and the other way round;
    /// indices are checked against the counts.
    /// </summary>
    public static Block Create(
        IReadOnlyDictionary<string, long> numSrcNodes,
        IReadOnlyDictionary<string, long> numDstNodes,
        IReadOnlyDictionary<RelationKey, RelationEdges> edgesByRelation,
        IReadOnlyDictionary<string, long[]>? srcNodeIds = null)
    {
        ArgumentNullException.ThrowIfNull(numSrcNodes);
        ArgumentNullException.ThrowIfNull(numDstNodes);
        ArgumentNullException.ThrowIfNull(edgesByRelation);

        var src = new Dictionary<string, long>(numSrcNodes);
        var dst = new Dictionary<string, long>(numDstNodes);
        foreach (var (type, count) in src)
        {
            if (!dst.TryGetValue(type, out var dstCount))
                throw new ArgumentException($"Node type '{type}' has source nodes but no destination count; give 0 if it has no destinations.", nameof(numDstNodes));
            if (count < 0 || dstCount < 0 || dstCount > count)
                throw new ArgumentException($"Node type '{type}': destination count {dstCount} must lie in [0, {count}] (destinations are the first source rows).");
        }
        foreach (var type in dst.Keys)
        {
            if (!src.ContainsKey(type))
                throw new ArgumentException($"Node type '{type}' has destination nodes but no source count.", nameof(numSrcNodes));
        }

        foreach (var (key, e) in edgesByRelation)
            Validate(key, e, src, dst);

        var built = new Dictionary<RelationKey, BlockEdges>();
        var ids = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (key, e) in edgesByRelation)
            {
                var weight = e.Weight is null ? null : NativeTensors.Float32(e.Weight).DetachFromDisposeScope();
                built[key] = new BlockEdges(NativeTensors.Int64(e.Src).DetachFromDisposeScope(), NativeTensors.Int64(e.Dst).DetachFromDisposeScope(), weight, e.Src.LongLength, src[key.Src], dst[key.Dst]);
            }
            if (srcNodeIds is not null)
            {
                foreach (var (type, typeIds) in srcNodeIds)
                {
                    if (!src.TryGetValue(type, out var count) || typeIds.LongLength != count)
                        throw new ArgumentException($"Node type '{type}': {typeIds.LongLength} source ids given for {(src.ContainsKey(type) ? src[type] : 0)} source nodes.", nameof(srcNodeIds));
                    ids[type] = NativeTensors.Int64(typeIds).DetachFromDisposeScope();
                }
            }
        }
        catch
        {
            DisposeAll(built.Values, ids.Values);
            throw;
        }
        return new Block(src, dst, built, ids);
    }

    /// <summary>
    /// As <see cref="Create"/>, from int32 index arrays (the sampler's form): one tensor per array, widened to int64
    /// by torch. Indices are checked against the counts as in <see cref="Create"/>.
    /// </summary>
    public static Block CreateFromInt32(
        IReadOnlyDictionary<string, long> numSrcNodes,
        IReadOnlyDictionary<string, long> numDstNodes,
        IReadOnlyDictionary<RelationKey, RelationEdgesInt32> edgesByRelation,
        IReadOnlyDictionary<string, int[]>? srcNodeIds = null)
    {
        ArgumentNullException.ThrowIfNull(edgesByRelation);
        var none = new Dictionary<RelationKey, RelationEdges>();
        var block = Create(numSrcNodes, numDstNodes, none); // checks the node counts
        try
        {
            foreach (var (key, e) in edgesByRelation)
            {
                if (!block.numSrc.TryGetValue(key.Src, out var srcCount) || !block.numDst.TryGetValue(key.Dst, out var dstCount))
                    throw new ArgumentException($"Relation {key}: its node types are not node types of the block.");
                if (e.Src.Length != e.Dst.Length)
                    throw new ArgumentException($"Relation {key}: {e.Src.Length} source indices but {e.Dst.Length} destination indices.");
                if (e.Weight is not null && e.Weight.Length != e.Src.Length)
                    throw new ArgumentException($"Relation {key}: {e.Weight.Length} weights for {e.Src.Length} edges.");
                CheckRange(key, "source", e.Src, srcCount);
                CheckRange(key, "destination", e.Dst, dstCount);
                block.edges[key] = new BlockEdges(Widen(e.Src), Widen(e.Dst), e.Weight is null ? null : NativeTensors.Float32(e.Weight).DetachFromDisposeScope(), e.Src.LongLength, srcCount, dstCount);
            }
            if (srcNodeIds is not null)
            {
                foreach (var (type, ids) in srcNodeIds)
                {
                    if (!block.numSrc.TryGetValue(type, out var count) || ids.LongLength != count)
                        throw new ArgumentException($"Node type '{type}': {ids.LongLength} source ids given for its source nodes.", nameof(srcNodeIds));
                    block.srcNodeIds[type] = Widen(ids);
                }
            }
        }
        catch
        {
            block.Dispose();
            throw;
        }
        return block;
    }

    private static Tensor Widen(int[] values) => NativeTensors.Int64(values).DetachFromDisposeScope();

    private static void CheckRange(RelationKey key, string end, int[] values, long count)
    {
        // Unsigned compare: one pass, negatives wrap above any count.
        for (var i = 0; i < values.Length; i++)
        {
            if ((uint)values[i] >= (ulong)count)
                throw new ArgumentOutOfRangeException(nameof(values), $"Relation {key}: edge {i} has {end} {values[i]}, outside [0, {count}).");
        }
    }

    /// <summary>
    /// A block over the whole graph: every node is both a source and a destination, so the same
    /// block serves every layer of full-batch training and inference (pass it once per layer).
    /// Edge indices are node ids within their type.
    /// </summary>
    public static Block FullGraph(IReadOnlyDictionary<string, long> numNodes, IReadOnlyDictionary<RelationKey, RelationEdges> edgesByRelation) =>
        Create(numNodes, numNodes, edgesByRelation);

    /// <summary>The full-graph block of a homogeneous graph: one node type and one relation.</summary>
    public static Block Homogeneous(long numNodes, RelationEdges edges, string nodeType = "_N", string relation = "_E") =>
        FullGraph(
            new Dictionary<string, long> { [nodeType] = numNodes },
            new Dictionary<RelationKey, RelationEdges> { [new RelationKey(nodeType, relation, nodeType)] = edges });

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        DisposeAll(edges.Values, srcNodeIds.Values);
    }

    private static void DisposeAll(IEnumerable<BlockEdges> relations, IEnumerable<Tensor> ids)
    {
        foreach (var e in relations)
            e.Dispose();
        foreach (var t in ids)
            t.Dispose();
    }

    private static void Validate(RelationKey key, RelationEdges e, Dictionary<string, long> src, Dictionary<string, long> dst)
    {
        if (!src.TryGetValue(key.Src, out var srcCount))
            throw new ArgumentException($"Relation {key}: source type '{key.Src}' is not a node type of the block.");
        if (!dst.TryGetValue(key.Dst, out var dstCount))
            throw new ArgumentException($"Relation {key}: destination type '{key.Dst}' is not a node type of the block.");
        if (e.Src.Length != e.Dst.Length)
            throw new ArgumentException($"Relation {key}: {e.Src.Length} source indices but {e.Dst.Length} destination indices.");
        if (e.Weight is not null && e.Weight.Length != e.Src.Length)
            throw new ArgumentException($"Relation {key}: {e.Weight.Length} weights for {e.Src.Length} edges.");
        for (var i = 0; i < e.Src.Length; i++)
        {
            if ((ulong)e.Src[i] >= (ulong)srcCount)
                throw new ArgumentOutOfRangeException(nameof(e), $"Relation {key}: edge {i} has source {e.Src[i]}, outside [0, {srcCount}).");
            if ((ulong)e.Dst[i] >= (ulong)dstCount)
                throw new ArgumentOutOfRangeException(nameof(e), $"Relation {key}: edge {i} has destination {e.Dst[i]}, outside [0, {dstCount}).");
        }
    }
}
