// What a trainer (and serving) needs of a job's learnable embeddings: rows in, gradients out; where they live is the subclass's.
using GraphActors.Models;
using static TorchSharp.torch;

namespace GraphActors.Training.Embeddings;

/// <summary>
/// A job's <c>training.embeddings</c> tables as a model input: <see cref="SparseEmbeddings"/> holds them in this process
/// (local mode, serving); <see cref="OwnedEmbeddings"/> reads them from the partitions that own the rows (the cluster).
/// </summary>
public abstract class EmbeddingTables : IDisposable
{
    public abstract IEnumerable<string> Types { get; }
    public abstract bool Has(string type);
    public abstract EmbeddingSpec Spec(string type);

    /// <summary>The rows of <paramref name="ids"/> (global ids of <paramref name="type"/>), row-major into <paramref name="destination"/>.</summary>
    public abstract void Gather(string type, ReadOnlySpan<int> ids, Span<float> destination);

    /// <summary>The gradients of a step's rows (row i of <paramref name="gradients"/> belongs to <paramref name="ids"/>[i]).</summary>
    public abstract void Apply(string type, ReadOnlySpan<int> ids, ReadOnlySpan<float> gradients);

    /// <summary>
    /// An embedded type's model input for a batch, in the caller's dispose scope: the rows of <paramref name="ids"/> as a
    /// tensor (a leaf needing a gradient with <paramref name="requiresGrad"/>), joined to the type's store features as its
    /// mode says (replace: the rows; concat: features ++ rows; add: features + rows). Training and serving both join here.
    /// </summary>
    public (Tensor Input, Tensor Rows) Join(string type, int[] ids, Tensor? features, bool requiresGrad)
    {
        var spec = Spec(type);
        var values = GC.AllocateUninitializedArray<float>(ids.Length * spec.Dim);
        Gather(type, ids, values);
        var rows = NativeTensors.Float32(values, ids.Length, spec.Dim);
        if (requiresGrad) rows.requires_grad_(true);
        var input = spec.ModeKind switch
        {
            EmbeddingMode.Replace => rows,
            EmbeddingMode.Concat => cat([features ?? throw new ArgumentNullException(nameof(features), $"'{type}' concatenates its row to features."), rows], 1),
            _ => (features ?? throw new ArgumentNullException(nameof(features), $"'{type}' adds its row to features.")) + rows,
        };
        return (input, rows);
    }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>One step's gradients of one type's rows, for their owners.</summary>
public sealed record EmbeddingGradients(string Type, int[] Ids, float[] Gradients);

/// <summary>
/// Tables whose rows live with the partitions owning their nodes (DistDGL's DistEmbedding): <see cref="Gather"/> reads
/// them through <paramref name="read"/> (the caller sets the step they are read at) unless the caller fetched them
/// ahead (<see cref="Prefetched"/>: a step's rows arrive before the step takes torch's lock), and <see cref="Apply"/>
/// keeps the step's gradients for the caller to send to the owners (<see cref="TakeGradients"/>): this process never
/// holds a table, only the rows of the batch at hand.
/// </summary>
public sealed class OwnedEmbeddings(IReadOnlyDictionary<string, EmbeddingSpec> specs, Action<string, int[], float[]> read) : EmbeddingTables
{
    private readonly List<EmbeddingGradients> _gradients = [];
    private readonly Dictionary<string, (int[] Ids, float[] Rows)> _ready = new(StringComparer.Ordinal);

    /// <summary>Rows of <paramref name="ids"/> read ahead for the next <see cref="Gather"/> of the same ids (used once).</summary>
    public void Prefetched(string type, int[] ids, float[] rows) => _ready[type] = (ids, rows);

    public override IEnumerable<string> Types => specs.Keys;
    public override bool Has(string type) => specs.ContainsKey(type);
    public override EmbeddingSpec Spec(string type) =>
        specs.TryGetValue(type, out var s) ? s : throw new KeyNotFoundException($"No embedding for node type '{type}'.");

    public override void Gather(string type, ReadOnlySpan<int> ids, Span<float> destination)
    {
        if (_ready.Remove(type, out var ready) && ready.Ids.AsSpan().SequenceEqual(ids))
        {
            ready.Rows.CopyTo(destination);
            return;
        }
        var rows = new float[ids.Length * Spec(type).Dim];
        read(type, ids.ToArray(), rows);
        rows.CopyTo(destination);
    }

    public override void Apply(string type, ReadOnlySpan<int> ids, ReadOnlySpan<float> gradients) =>
        _gradients.Add(new EmbeddingGradients(type, ids.ToArray(), gradients[..(ids.Length * Spec(type).Dim)].ToArray()));

    /// <summary>The gradients kept since the last call (a step's), in the order the step produced them.</summary>
    public List<EmbeddingGradients> TakeGradients()
    {
        var taken = new List<EmbeddingGradients>(_gradients);
        _gradients.Clear();
        return taken;
    }
}
