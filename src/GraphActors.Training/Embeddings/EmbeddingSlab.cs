// One node type's learnable embedding rows for one id range (a partition's share), with their sparse optimizer state.
using System.Numerics;
using System.Runtime.InteropServices;
using GraphActors.Sampling;

namespace GraphActors.Training.Embeddings;

/// <summary>
/// The rows of global ids <c>[Start, Start + Count)</c> of one node type, <see cref="Dim"/> floats each, in native
/// memory (no 2 GB array limit), with the state of DGL's sparse optimizers beside them: only rows that get a gradient
/// change, their weights and their state alike (<c>dgl.optim.SparseAdam</c>: per-row step count, first and second
/// moments; <c>dgl.optim.SparseAdagrad</c>: per-row sum of squared gradients). A row's initial value depends on the
/// seed, the type and its global id only, so any partitioning of the ids starts from the same table.
/// Not thread-safe: one owner applies updates.
/// </summary>
public sealed unsafe class EmbeddingSlab : IDisposable
{
    private float* _weights;
    private float* _m;     // Adam's first moment; Adagrad's sum of squares
    private float* _v;     // Adam's second moment
    private int* _steps;   // Adam's per-row step count

    public EmbeddingSlab(EmbeddingSpec spec, string type, int start, int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Spec = spec;
        Type = type;
        Start = start;
        Count = count;
        Dim = spec.Dim;
        var values = (nuint)count * (nuint)Dim;
        _weights = Alloc(values);
        _m = Alloc(values);
        if (spec.OptimizerKind == SparseOptimizerKind.SparseAdam)
        {
            _v = Alloc(values);
            _steps = (int*)NativeMemory.AllocZeroed((nuint)Math.Max(count, 1), sizeof(int));
        }
        Initialise(seed);
    }

    public EmbeddingSpec Spec { get; }
    public string Type { get; }
    public int Start { get; }
    public int Count { get; }
    public int Dim { get; }

    /// <summary>Bytes this slab holds: weights and optimizer state.</summary>
    public long Bytes => (long)Count * Dim * sizeof(float) * (Spec.OptimizerKind == SparseOptimizerKind.SparseAdam ? 3 : 2)
                         + (Spec.OptimizerKind == SparseOptimizerKind.SparseAdam ? (long)Count * sizeof(int) : 0);

    private static float* Alloc(nuint values) => (float*)NativeMemory.AllocZeroed(values == 0 ? 1 : values, sizeof(float));

    // Uniform in [-init_range, init_range), as DGL's DistEmbedding examples initialise (uniform_(-1, 1)); one stream per row.
    private void Initialise(ulong seed)
    {
        var typeSeed = SplitMix64.Mix(seed ^ TypeHash(Type));
        var range = (float)Spec.InitRange;
        for (var r = 0; r < Count; r++)
        {
            var rng = Xoshiro256.ForNode(typeSeed, Start + r);
            var row = _weights + (nuint)r * (nuint)Dim;
            for (var j = 0; j < Dim; j++) row[j] = (rng.NextFloat() * 2f - 1f) * range;
        }
    }

    // FNV-1a of the type name: the initial rows of two types differ with the same seed.
    private static ulong TypeHash(string type)
    {
        var h = 14695981039346656037UL;
        foreach (var c in type) h = (h ^ c) * 1099511628211UL;
        return h;
    }

    private int Local(int id)
    {
        var local = id - Start;
        if ((uint)local >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(id), $"Node {id} of '{Type}' is not in this slab's ids {Start}..{Start + Count - 1}.");
        return local;
    }

    /// <summary>Copies the rows of <paramref name="ids"/> (global ids in this slab) to <paramref name="destination"/> at <paramref name="positions"/>.</summary>
    public void Gather(ReadOnlySpan<int> ids, ReadOnlySpan<int> positions, Span<float> destination)
    {
        for (var i = 0; i < ids.Length; i++)
        {
            var row = new ReadOnlySpan<float>(_weights + (nuint)Local(ids[i]) * (nuint)Dim, Dim);
            row.CopyTo(destination.Slice(positions[i] * Dim, Dim));
        }
    }

    /// <summary>
    /// One optimizer step on the rows of <paramref name="ids"/> (distinct global ids in this slab), row i's gradient
    /// at <c>gradients[positions[i] · Dim ..]</c>. Rows not named keep their weights and state.
    /// </summary>
    public void Apply(ReadOnlySpan<int> ids, ReadOnlySpan<int> positions, ReadOnlySpan<float> gradients)
    {
        var lr = (float)Spec.LearningRate;
        var eps = (float)Spec.ResolvedEps;
        var rows = gradients.Length / Dim;
        foreach (var p in positions)
            if ((uint)p >= (uint)rows) throw new ArgumentOutOfRangeException(nameof(positions), $"Gradient row {p} of {rows}.");
        fixed (float* gradientBase = gradients)
        {
            if (Spec.OptimizerKind == SparseOptimizerKind.SparseAdagrad)
            {
                for (var i = 0; i < ids.Length; i++)
                {
                    var r = (nuint)Local(ids[i]) * (nuint)Dim;
                    AdagradRow(_weights + r, _m + r, gradientBase + (nint)positions[i] * Dim, Dim, lr, eps);
                }
                return;
            }
            var beta1 = (float)Spec.Beta1;
            var beta2 = (float)Spec.Beta2;
            for (var i = 0; i < ids.Length; i++)
            {
                var local = Local(ids[i]);
                var r = (nuint)local * (nuint)Dim;
                var step = ++_steps[local];
                AdamRow(_weights + r, _m + r, _v + r, gradientBase + (nint)positions[i] * Dim, Dim, lr, eps, beta1, beta2,
                    1f - MathF.Pow(beta1, step), 1f - MathF.Pow(beta2, step));
            }
        }
    }

    // One row of DGL's SparseAdagrad: s += g²; w -= lr · g / √(s + eps). Each lane computes what the scalar tail does.
    private static void AdagradRow(float* w, float* s, float* g, int dim, float lr, float eps)
    {
        var j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var (vlr, veps) = (new Vector<float>(lr), new Vector<float>(eps));
            for (; j <= dim - Vector<float>.Count; j += Vector<float>.Count)
            {
                var gj = Vector.Load(g + j);
                var sj = Vector.Load(s + j) + gj * gj;
                sj.Store(s + j);
                (Vector.Load(w + j) - vlr * gj / Vector.SquareRoot(sj + veps)).Store(w + j);
            }
        }
        for (; j < dim; j++)
        {
            s[j] += g[j] * g[j];
            w[j] -= lr * g[j] / MathF.Sqrt(s[j] + eps);
        }
    }

    // One row of DGL's SparseAdam with the row's bias corrections c1 = 1 − β1^t, c2 = 1 − β2^t.
    private static void AdamRow(float* w, float* m, float* v, float* g, int dim, float lr, float eps, float beta1, float beta2, float c1, float c2)
    {
        var j = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var (vb1, vb2, va1, va2) = (new Vector<float>(beta1), new Vector<float>(beta2), new Vector<float>(1f - beta1), new Vector<float>(1f - beta2));
            var (vlr, veps, vc1, vc2) = (new Vector<float>(lr), new Vector<float>(eps), new Vector<float>(c1), new Vector<float>(c2));
            for (; j <= dim - Vector<float>.Count; j += Vector<float>.Count)
            {
                var gj = Vector.Load(g + j);
                var mj = vb1 * Vector.Load(m + j) + va1 * gj;
                var vj = vb2 * Vector.Load(v + j) + va2 * gj * gj;
                mj.Store(m + j);
                vj.Store(v + j);
                (Vector.Load(w + j) - vlr * (mj / vc1) / (Vector.SquareRoot(vj / vc2) + veps)).Store(w + j);
            }
        }
        for (; j < dim; j++)
        {
            m[j] = beta1 * m[j] + (1f - beta1) * g[j];
            v[j] = beta2 * v[j] + (1f - beta2) * g[j] * g[j];
            w[j] -= lr * (m[j] / c1) / (MathF.Sqrt(v[j] / c2) + eps);
        }
    }

    /// <summary>The weights of every row, row-major (a copy).</summary>
    public float[] Weights()
    {
        var copy = GC.AllocateUninitializedArray<float>(checked(Count * Dim));
        new ReadOnlySpan<float>(_weights, copy.Length).CopyTo(copy);
        return copy;
    }

    /// <summary>Replaces every row's weights (optimizer state unchanged): the best epoch's table restored.</summary>
    public void SetWeights(ReadOnlySpan<float> weights)
    {
        if (weights.Length != (long)Count * Dim)
            throw new ArgumentException($"'{Type}' ids {Start}..{Start + Count - 1}: {weights.Length} values for {Count} rows of {Dim}.", nameof(weights));
        weights.CopyTo(new Span<float>(_weights, weights.Length));
    }

    /// <summary>
    /// Copies the rows of <paramref name="source"/> whose ids this slab also holds (optimizer state unchanged): a new
    /// job started from an earlier one's table, where the store gained ids since. Returns how many rows were copied.
    /// </summary>
    public int CopyOverlap(EmbeddingSlab source)
    {
        if (source.Dim != Dim || source.Type != Type)
            throw new ArgumentException($"'{source.Type}' rows of {source.Dim} cannot start '{Type}' rows of {Dim}.", nameof(source));
        var first = Math.Max(Start, source.Start);
        var end = Math.Min(Start + Count, source.Start + source.Count);
        if (end <= first) return 0;
        new ReadOnlySpan<float>(source._weights + (long)(first - source.Start) * Dim, (end - first) * Dim)
            .CopyTo(new Span<float>(_weights + (long)(first - Start) * Dim, (end - first) * Dim));
        return end - first;
    }

    // ---- the slab on disk: a header, then weights, state and step counts in chunks ----

    private const uint Magic = 0x42454147; // "GAEB"
    private const int ChunkValues = 1 << 20;

    /// <summary>Writes weights and optimizer state to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Type);
        w.Write(Start);
        w.Write(Count);
        w.Write(Dim);
        w.Write((int)Spec.OptimizerKind);
        var values = (long)Count * Dim;
        WriteFloats(stream, _weights, values);
        WriteFloats(stream, _m, values);
        if (Spec.OptimizerKind == SparseOptimizerKind.SparseAdam)
        {
            WriteFloats(stream, _v, values);
            for (long done = 0; done < Count; done += ChunkValues)
                stream.Write(new ReadOnlySpan<byte>((byte*)(_steps + done), (int)Math.Min(ChunkValues, Count - done) * sizeof(int)));
        }
    }

    /// <summary>The node type, id range, width and optimizer a slab file holds (its header; the stream is left after it).</summary>
    public static (string Type, int Start, int Count, int Dim, SparseOptimizerKind Optimizer) ReadHeader(Stream stream, string source)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadUInt32() != Magic) throw new InvalidDataException($"{source}: not an embedding slab.");
            return (r.ReadString(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), (SparseOptimizerKind)r.ReadInt32());
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{source}: ends early; the embedding file is truncated.");
        }
    }

    /// <summary>Reads what <see cref="WriteTo"/> wrote for the same type, range, width and optimizer; <paramref name="source"/> names the file in errors.</summary>
    public void ReadFrom(Stream stream, string source)
    {
        using var r = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadUInt32() != Magic) throw new InvalidDataException($"{source}: not an embedding slab.");
            var (type, start, count, dim, optimizer) = (r.ReadString(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
            if (type != Type || start != Start || count != Count || dim != Dim || optimizer != (int)Spec.OptimizerKind)
                throw new InvalidDataException($"{source}: holds '{type}' ids {start}..{start + count - 1} × {dim} ({(SparseOptimizerKind)optimizer}); " +
                    $"this job has '{Type}' ids {Start}..{Start + Count - 1} × {Dim} ({Spec.OptimizerKind}).");
            var values = (long)Count * Dim;
            ReadFloats(stream, _weights, values, source);
            ReadFloats(stream, _m, values, source);
            if (Spec.OptimizerKind == SparseOptimizerKind.SparseAdam)
            {
                ReadFloats(stream, _v, values, source);
                for (long done = 0; done < Count; done += ChunkValues)
                    stream.ReadExactly(new Span<byte>((byte*)(_steps + done), (int)Math.Min(ChunkValues, Count - done) * sizeof(int)));
            }
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{source}: ends early; the embedding file is truncated.");
        }
    }

    private static void WriteFloats(Stream stream, float* data, long values)
    {
        for (long done = 0; done < values; done += ChunkValues)
            stream.Write(new ReadOnlySpan<byte>((byte*)(data + done), (int)Math.Min(ChunkValues, values - done) * sizeof(float)));
    }

    private static void ReadFloats(Stream stream, float* data, long values, string source)
    {
        for (long done = 0; done < values; done += ChunkValues)
            stream.ReadExactly(new Span<byte>((byte*)(data + done), (int)Math.Min(ChunkValues, values - done) * sizeof(float)));
    }

    public void Dispose()
    {
        NativeMemory.Free(_weights);
        NativeMemory.Free(_m);
        NativeMemory.Free(_v);
        NativeMemory.Free(_steps);
        _weights = _m = _v = null;
        _steps = null;
    }
}
