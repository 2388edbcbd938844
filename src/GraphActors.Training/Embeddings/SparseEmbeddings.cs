// The learnable embedding tables of a job, one slab per (node type, partition): rows live with the partition owning them.
using GraphActors.Contracts;
using GraphActors.Graph.Storage;
using GraphActors.Models;
using GraphActors.Sampling;
using static TorchSharp.torch;

namespace GraphActors.Training.Embeddings;

/// <summary>
/// DistDGL's <c>DistEmbedding</c> for local mode: per node type with an <see cref="EmbeddingSpec"/>, one
/// <see cref="EmbeddingSlab"/> per partition of the store's <see cref="PartitionBook"/> (one for the whole type over a
/// store without one), so a row lives beside its node's features and the cluster's partition owners can hold the same
/// slabs. <see cref="Gather"/> reads the rows of a batch's input nodes; <see cref="Apply"/> takes their gradients
/// (duplicate ids averaged, as DGL's sparse optimizers do) and updates only those rows, on their owners' slabs.
/// </summary>
public sealed class SparseEmbeddings : EmbeddingTables
{
    private readonly Dictionary<string, Table> _tables = new(StringComparer.Ordinal);

    private sealed class Table(EmbeddingSpec spec, int[] boundaries, EmbeddingSlab[] slabs)
    {
        public EmbeddingSpec Spec { get; } = spec;
        public int[] Boundaries { get; } = boundaries; // slab s holds [b[s], b[s+1]): the book's id ranges (NodeBook.RangeBoundaries)
        public EmbeddingSlab[] Slabs { get; } = slabs;
        // Made on first use: the constructor fills the slabs after registering the table (so a failure disposes them).
        public SlabSet Set => field ??= new(Slabs, "the job's tables");
        public int Count => Boundaries[^1];
    }

    public SparseEmbeddings(IReadOnlyDictionary<string, EmbeddingSpec> specs, GraphStoreSchema schema, PartitionBook? book, ulong seed)
    {
        try
        {
            foreach (var (type, spec) in specs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var node = schema.NodeTypes.FirstOrDefault(n => n.Type.Name == type)
                    ?? throw new TrainingConfigException($"embeddings.{type}", $"'{type}' is not a node type of the store ({string.Join(", ", schema.NodeTypes.Select(n => n.Type))})");
                int[] boundaries = book is not null && book.NodeTypes.Contains(node.Type) ? book.For(node.Type).RangeBoundaries() : [0, node.Count];
                if (boundaries[^1] != node.Count)
                    throw new InvalidDataException($"The partition book has {boundaries[^1]} '{type}' nodes, the store {node.Count}.");
                var slabs = new EmbeddingSlab[boundaries.Length - 1];
                _tables[type] = new Table(spec, boundaries, slabs);
                for (var p = 0; p < slabs.Length; p++) slabs[p] = new EmbeddingSlab(spec, type, boundaries[p], boundaries[p + 1] - boundaries[p], seed);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private SparseEmbeddings() { }

    /// <summary>
    /// Tables from slab files (a checkpoint's), whatever the partitioning they were trained on: each file's header gives
    /// its type and id range, and the ranges of a type must cover its <paramref name="schema"/> count exactly.
    /// </summary>
    public static SparseEmbeddings Load(IReadOnlyDictionary<string, EmbeddingSpec> specs, GraphStoreSchema schema, IEnumerable<string> files)
    {
        var result = new SparseEmbeddings();
        var byType = new Dictionary<string, List<EmbeddingSlab>>(StringComparer.Ordinal);
        try
        {
            foreach (var path in files)
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                var (type, start, count, dim, optimizer) = EmbeddingSlab.ReadHeader(stream, path);
                if (!specs.TryGetValue(type, out var spec))
                    throw new InvalidDataException($"{path}: holds '{type}', which the job's training.embeddings does not name.");
                if (dim != spec.Dim || optimizer != spec.OptimizerKind)
                    throw new InvalidDataException($"{path}: holds {dim}-wide rows ({optimizer}); training.embeddings.{type} says {spec.Dim} ({spec.OptimizerKind}).");
                var slab = new EmbeddingSlab(spec, type, start, count, seed: 0);
                (byType.TryGetValue(type, out var list) ? list : byType[type] = []).Add(slab);
                stream.Position = 0;
                slab.ReadFrom(stream, path);
            }
            foreach (var (type, spec) in specs)
            {
                var node = schema.NodeTypes.FirstOrDefault(n => n.Type.Name == type)
                    ?? throw new InvalidDataException($"The embeddings of '{type}' name a node type the graph store does not have.");
                var slabs = (byType.TryGetValue(type, out var list) ? list : []).OrderBy(x => x.Start).ToArray();
                var boundaries = new int[slabs.Length + 1];
                for (var p = 0; p < slabs.Length; p++)
                {
                    if (slabs[p].Start != boundaries[p])
                        throw new InvalidDataException($"The embedding files of '{type}' do not cover ids {boundaries[p]}..{slabs[p].Start - 1}.");
                    boundaries[p + 1] = slabs[p].Start + slabs[p].Count;
                }
                if (boundaries[^1] != node.Count)
                    throw new InvalidDataException($"The embedding files of '{type}' hold {boundaries[^1]} rows; the graph store has {node.Count} '{type}' nodes.");
                result._tables[type] = new Table(spec, boundaries, slabs);
            }
            foreach (var (type, list) in byType)
                if (!result._tables.ContainsKey(type)) foreach (var s in list) s.Dispose();
            return result;
        }
        catch
        {
            foreach (var list in byType.Values) foreach (var s in list) s.Dispose(); // disposing twice is harmless
            result.Dispose();
            throw;
        }
    }

    public override IEnumerable<string> Types => _tables.Keys;
    public override bool Has(string type) => _tables.ContainsKey(type);
    public override EmbeddingSpec Spec(string type) => Get(type).Spec;
    public IReadOnlyList<EmbeddingSlab> Slabs(string type) => Get(type).Slabs;
    public long Bytes => _tables.Values.Sum(t => t.Slabs.Sum(s => s.Bytes));

    private Table Get(string type) => _tables.TryGetValue(type, out var t) ? t : throw new KeyNotFoundException($"No embedding for node type '{type}'.");

    /// <summary>The rows of <paramref name="ids"/> (global ids of <paramref name="type"/>), row-major into <paramref name="destination"/>.</summary>
    public override void Gather(string type, ReadOnlySpan<int> ids, Span<float> destination)
    {
        var t = Get(type);
        var dim = t.Spec.Dim;
        if (destination.Length < (long)ids.Length * dim)
            throw new ArgumentException($"{destination.Length} floats for {ids.Length} rows of {dim}.", nameof(destination));
        CheckRange(t, ids);
        t.Set.Gather(ids, destination);
    }

    /// <summary>
    /// One sparse optimizer step: row i of <paramref name="gradients"/> is the gradient of <paramref name="ids"/>[i]; an id
    /// named more than once gets the mean of its gradients (DGL). Rows of ids not named do not change.
    /// </summary>
    public override void Apply(string type, ReadOnlySpan<int> ids, ReadOnlySpan<float> gradients)
    {
        var t = Get(type);
        var dim = t.Spec.Dim;
        if (gradients.Length < (long)ids.Length * dim)
            throw new ArgumentException($"{gradients.Length} gradient values for {ids.Length} rows of {dim}.", nameof(gradients));
        // The ids of a batch's input nodes are distinct: their gradients are used in place.
        if (Distinct(ids)) ApplyDistinct(t, ids, gradients);
        else
        {
            var (unique, merged) = Deduplicate(ids, gradients, dim);
            ApplyDistinct(t, unique, merged);
        }
    }

    private static void ApplyDistinct(Table t, ReadOnlySpan<int> ids, ReadOnlySpan<float> gradients)
    {
        CheckRange(t, ids);
        t.Set.ApplyDistinct(ids, gradients);
    }

    // Whether no id repeats: a sorted copy, neighbours compared (memory as the ids, whatever the table's size).
    private static bool Distinct(ReadOnlySpan<int> ids)
    {
        var sorted = ids.ToArray();
        Array.Sort(sorted);
        for (var i = 1; i < sorted.Length; i++) if (sorted[i] == sorted[i - 1]) return false;
        return true;
    }

    // Distinct ids in order of first sight and their mean gradients.
    private static (int[] Ids, float[] Gradients) Deduplicate(ReadOnlySpan<int> ids, ReadOnlySpan<float> gradients, int dim)
    {
        var first = new Dictionary<int, int>(ids.Length);
        var unique = new List<int>(ids.Length);
        var counts = new List<int>(ids.Length);
        var sums = new float[ids.Length * dim];
        for (var i = 0; i < ids.Length; i++)
        {
            if (!first.TryGetValue(ids[i], out var u))
            {
                u = unique.Count;
                first[ids[i]] = u;
                unique.Add(ids[i]);
                counts.Add(0);
            }
            counts[u]++;
            var row = sums.AsSpan(u * dim, dim);
            var g = gradients.Slice(i * dim, dim);
            for (var j = 0; j < dim; j++) row[j] += g[j];
        }
        for (var u = 0; u < unique.Count; u++)
        {
            var row = sums.AsSpan(u * dim, dim);
            for (var j = 0; j < dim; j++) row[j] /= counts[u];
        }
        return (unique.ToArray(), sums);
    }

    private static void CheckRange(Table t, ReadOnlySpan<int> ids)
    {
        foreach (var id in ids)
            if ((uint)id >= (uint)t.Count)
                throw new ArgumentOutOfRangeException(nameof(ids), $"Node {id} of '{t.Slabs[0].Type}' is outside 0..{t.Count - 1}.");
    }

    /// <summary>Every table's weights (the best epoch's, kept to restore at the end of a run).</summary>
    public Dictionary<string, float[][]> SnapshotWeights() =>
        _tables.ToDictionary(kv => kv.Key, kv => kv.Value.Slabs.Select(s => s.Weights()).ToArray());

    public void RestoreWeights(Dictionary<string, float[][]> snapshot)
    {
        foreach (var (type, slabs) in snapshot)
        {
            var t = Get(type);
            for (var p = 0; p < slabs.Length; p++) t.Slabs[p].SetWeights(slabs[p]);
        }
    }

    public override void Dispose()
    {
        foreach (var t in _tables.Values)
            foreach (var s in t.Slabs) s?.Dispose();
        _tables.Clear();
    }
}
