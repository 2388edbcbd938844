// Where a sampling kernel's draws come from: a stream per node (mini-batches) or one stream through the call (GSL).
using GraphActors.Graph.Storage;

namespace GraphActors.Sampling;

/// <summary>
/// The random source of one <see cref="NeighborSampler"/> call.
/// <para>
/// <see cref="PerNode"/>: row r draws from <see cref="Xoshiro256.ForNode(ulong, int)"/>(seed, firstId + r), so a node's
/// sample depends on the call's seed, its global id and its CSR row only: not on the other rows of the call, their
/// order, or which partition serves the node. Rows of a partition's CSR are local; pass the partition's first id of
/// the row type so that the key is the global id. The mini-batch stores use this: a seed's computation tree is then
/// the same whether the seed is sampled alone or with others, in one process or across the cluster, so trainers that
/// each sample a part of a global batch compute exactly the whole batch's gradient between them.
/// </para>
/// <para>
/// <see cref="Sequential"/>: one stream runs through the call row after row, so a node listed twice draws twice,
/// independently. GraphLearn's GSL needs that (hop 2 of a query samples every occurrence of a hop-1 neighbour).
/// </para>
/// </summary>
public struct KernelRandom
{
    internal Xoshiro256 State;
    internal readonly ulong NodeSeed;
    internal readonly int FirstId;
    internal readonly PartRows? Rows;
    internal readonly bool IsPerNode;

    private KernelRandom(Xoshiro256 state, ulong nodeSeed, int firstId, PartRows? rows, bool perNode)
    {
        State = state;
        NodeSeed = nodeSeed;
        FirstId = firstId;
        Rows = rows is { Contiguous: false } ? rows : null;
        if (rows is { Contiguous: true }) FirstId = rows.First;
        IsPerNode = perNode;
    }

    /// <summary>A stream per row, keyed by (<paramref name="seed"/>, <paramref name="firstId"/> + row).</summary>
    public static KernelRandom PerNode(ulong seed, int firstId = 0) => new(default, seed, firstId, null, perNode: true);

    /// <summary>A stream per row of a partition's CSR, keyed by (<paramref name="seed"/>, the id the row holds).</summary>
    public static KernelRandom PerNode(ulong seed, PartRows rows) => new(default, seed, 0, rows, perNode: true);

    /// <summary>The global id of row <paramref name="row"/> (the key of its stream).</summary>
    internal readonly int IdOf(int row) => Rows is null ? FirstId + row : Rows.IdOf(row);

    /// <summary>One stream through the call, starting from <paramref name="stream"/>; read it back from <see cref="Stream"/>.</summary>
    public static KernelRandom Sequential(Xoshiro256 stream) => new(stream, 0, 0, null, perNode: false);

    /// <summary>A sequential source's stream after the calls it served (to hand on to the next step).</summary>
    public readonly Xoshiro256 Stream => State;
}
