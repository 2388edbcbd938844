// Learnable node embeddings held by the partitions that own the nodes (DistDGL's DistEmbedding): rows out, sparse gradients in.
namespace GraphActors.Contracts.Protocols;

/// <summary>
/// A job's <c>training.embeddings</c> tables live beside the feature slabs: partition p holds the rows (and the sparse
/// optimizer's state) of the nodes it owns, and no trainer holds a table. Same addressing, request ids and deadlines as
/// <see cref="PartitionProtocol"/>; manifests start with "E".
/// <para>
/// Steps are ordered by a clock, <c>epoch · 2³² + global step</c>. A trainer reads the rows of a step's input nodes at
/// the step's clock: the owner first applies, in clock order, every step below it whose gradients it holds. After its
/// backward a trainer sends each owner its rows' gradients at that clock (already weighted by its share of the global
/// batch, so the owner adds them, in piece order, and applies the sum once: local mode's step on the whole batch), and
/// only then joins the step's averaging. So by the time any trainer reads at the next clock, every gradient of the step
/// is with its owner. An epoch re-planned at a later attempt drops what earlier attempts sent from its start clock on.
/// </para>
/// </summary>
public static class EmbeddingProtocol
{
    /// <summary>The clock of global step <paramref name="step"/> of <paramref name="epoch"/>.</summary>
    public static long Clock(int epoch, int step) => ((long)epoch << 32) | (uint)step;

    /// <summary>Attempt <paramref name="attempt"/> of <paramref name="epoch"/> as one number that grows over the job (the messages' Attempt).</summary>
    public static long AttemptKey(int epoch, int attempt) => ((long)epoch << 32) | (uint)attempt;

    /// <summary>
    /// Prepares the job's tables on the partition at <paramref name="Clock"/> (idempotent: every trainer sends it): fresh
    /// from <c>Config.Seed</c> when <paramref name="RestoreDirectory"/> is empty, else from the partition's slab files
    /// named in that checkpoint's manifest. Another job's tables on the partition are dropped. With
    /// <paramref name="Rehome"/> the partition keeps the tables it holds, or takes them over from the hand-off file its
    /// previous host wrote when the partition moved (under <c>Config.CheckpointDir</c>): rows, optimizer state, clocks
    /// and gradients not applied yet, exactly as they were.
    /// </summary>
    /// <para>
    /// With <paramref name="WarmFrom"/> (an earlier job's checkpoint directory: <c>training.init_from</c>) and no
    /// <paramref name="RestoreDirectory"/>, the fresh rows of every id that checkpoint holds take its rows (a refreshed
    /// store keeps its ids; new nodes keep their seeded rows).
    /// </para>
    public sealed record OpenEmbeddings(long RequestId, int Partition, string JobId, TrainingProtocol.TrainingConfig Config, long Clock,
        long Attempt, string RestoreDirectory, bool Rehome, long DeadlineUnixMs, string WarmFrom = "") : PartitionProtocol.IPartitionRequest;

    /// <summary>The tables are ready at <paramref name="Clock"/>; <paramref name="Rows"/> rows over all types are held here.</summary>
    public sealed record EmbeddingsOpened(long RequestId, int Partition, long Clock, long Rows) : PartitionProtocol.IPartitionResponse;

    /// <summary>
    /// The rows of <paramref name="Ids"/> (owned nodes of <paramref name="Type"/>) as they are before step
    /// <paramref name="Clock"/>: answered with a <see cref="PartitionProtocol.FeaturesResult"/> (rows × dim).
    /// </summary>
    public sealed record GetEmbeddingRows(long RequestId, int Partition, string JobId, string Type, long Clock, long Attempt,
        long AttemptFrom, int[] Ids, long DeadlineUnixMs) : PartitionProtocol.IPartitionRequest;

    /// <summary>
    /// Gradients of rows <paramref name="Ids"/> (distinct) at step <paramref name="Clock"/> from piece
    /// <paramref name="Piece"/>, part <paramref name="Part"/> of it (a retry replaces the same part, never adds to it).
    /// <paramref name="AttemptFrom"/> is the clock attempt <paramref name="Attempt"/> of the epoch started at: the first
    /// message of a newer attempt drops what older ones sent from that clock on.
    /// </summary>
    public sealed record PushEmbeddingGradients(long RequestId, int Partition, string JobId, string Type, long Clock, long Attempt,
        long AttemptFrom, int Piece, int Part, int[] Ids, float[] Gradients, long DeadlineUnixMs) : PartitionProtocol.IPartitionRequest;

    /// <summary>The owner holds the gradients (they are applied before the first read of a later step).</summary>
    public sealed record EmbeddingGradientsTaken(long RequestId, int Partition, int Rows) : PartitionProtocol.IPartitionResponse;

    /// <summary>
    /// Writes the partition's slabs as they are after every step below <paramref name="Clock"/> into
    /// <paramref name="Directory"/> (a checkpoint being written), one file per type; with <paramref name="Release"/> (the
    /// job's last epoch) the partition then lets the tables go: the checkpoint holds them.
    /// </summary>
    public sealed record WriteEmbeddings(long RequestId, int Partition, string JobId, long Clock, long Attempt, long AttemptFrom,
        string Directory, bool Release, long DeadlineUnixMs) : PartitionProtocol.IPartitionRequest;

    /// <summary>
    /// The files written (plain names in the checkpoint folder), their types, sha256s and range indexes, in type order:
    /// <paramref name="Ranges"/>[i] is file i's place among its type's id ranges (the partition on a store partitioned
    /// in full; on a refreshed one, partition p owns ranges p, p + N, …), the number a checkpoint's manifest gives it.
    /// </summary>
    public sealed record EmbeddingsWritten(long RequestId, int Partition, string[] Types, string[] Files, string[] Sha256, int[] Ranges)
        : PartitionProtocol.IPartitionResponse;
}
