// Saving, loading and flattening a model's parameters: checkpoints and the cluster's parameter averaging.
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

public static class ModelState
{
    // A Scalar libtorch may read while the GC runs: kept alive for the process (dotnet/TorchSharp#1434).
    private static readonly Scalar PinnedZero = 0;

    /// <summary>Writes the module's state dict (parameters and buffers) in TorchSharp's format.</summary>
    public static void Save(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);
        module.save(path);
    }

    /// <summary>Loads a state dict written by <see cref="Save"/> into a module of the same configuration (strict: names and shapes must match).</summary>
    public static void Load(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (!File.Exists(path))
            throw new FileNotFoundException($"No model state at {path}.", path);
        module.load(path, strict: true);
    }

    /// <summary>
    /// The tensors of the flat vector, ordered by name (ordinal): every parameter, and with
    /// <paramref name="includeBuffers"/> also the floating-point buffers (BatchNorm running
    /// statistics; the int64 batch counter is left out).
    /// </summary>
    public static IReadOnlyList<(string Name, Tensor Tensor)> FlatOrder(nn.Module module, bool includeBuffers = false)
    {
        var entries = module.named_parameters().Select(p => (p.name, (Tensor)p.parameter));
        if (includeBuffers)
            entries = entries.Concat(module.named_buffers().Where(b => b.buffer.dtype == ScalarType.Float32).Select(b => (b.name, b.buffer)));
        return entries.OrderBy(e => e.Item1, StringComparer.Ordinal).ToList();
    }

    /// <summary>Number of floats in the flat vector.</summary>
    public static long FlatLength(nn.Module module, bool includeBuffers = false) =>
        FlatOrder(module, includeBuffers).Sum(e => e.Tensor.numel());

    /// <summary>Copies the parameters (and optionally float buffers) into one float array in <see cref="FlatOrder"/>.</summary>
    public static float[] ToVector(nn.Module module, bool includeBuffers = false)
    {
        var entries = FlatOrder(module, includeBuffers);
        var vector = new float[entries.Sum(e => e.Tensor.numel())];
        var offset = 0;
        // Every temporary (detach, cpu) lives in the scope until the copy is done: outside a scope a temporary whose
        // handle is in a native call can be finalized by the GC mid-call (a use-after-free inside libtorch).
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (name, t) in entries)
        {
            if (t.dtype != ScalarType.Float32)
                throw new InvalidOperationException($"{name} is {t.dtype}; the flat vector holds float32 only.");
            using var cpu = t.detach().cpu().contiguous();
            var span = cpu.data<float>();
            span.CopyTo(vector, offset);
            offset += (int)t.numel();
        }
        return vector;
    }

    /// <summary>Writes a vector made by <see cref="ToVector"/> back into the module, in place.</summary>
    public static void FromVector(nn.Module module, ReadOnlySpan<float> vector, bool includeBuffers = false)
    {
        var entries = FlatOrder(module, includeBuffers);
        var length = entries.Sum(e => e.Tensor.numel());
        if (vector.Length != length)
            throw new ArgumentException($"The module has {length} values in its flat vector, got {vector.Length}.", nameof(vector));
        var offset = 0;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (_, t) in entries)
        {
            var count = (int)t.numel();
            using var source = tensor(vector.Slice(offset, count).ToArray(), t.shape).to(t.device);
            t.copy_(source);
            offset += count;
        }
    }

    /// <summary>
    /// The parameters' gradients as one float array in <see cref="FlatOrder"/> (parameters only); a parameter without a
    /// gradient (not used by the last forward pass) contributes zeros.
    /// </summary>
    public static float[] GradientsToVector(nn.Module module)
    {
        var entries = FlatOrder(module);
        var vector = new float[entries.Sum(e => e.Tensor.numel())];
        var offset = 0;
        // `t.grad` is a new wrapper per call: held (and disposed) here, never left to the finalizer while libtorch reads it.
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (_, t) in entries)
        {
            var count = (int)t.numel();
            using var g = t.grad;
            if (g is not null)
            {
                using var cpu = g.detach().cpu().contiguous();
                cpu.data<float>().CopyTo(vector, offset);
            }
            offset += count;
        }
        return vector;
    }

    /// <summary>
    /// Sets every parameter's gradient from a vector made by <see cref="GradientsToVector"/> (e.g. the average over
    /// data-parallel trainers), creating the gradient of a parameter the last backward pass did not reach.
    /// </summary>
    public static void GradientsFromVector(nn.Module module, ReadOnlySpan<float> vector)
    {
        var entries = FlatOrder(module);
        var length = entries.Sum(e => e.Tensor.numel());
        if (vector.Length != length)
            throw new ArgumentException($"The module has {length} parameter values, got {vector.Length} gradients.", nameof(vector));
        var offset = 0;
        using var scope = NewDisposeScope();
        foreach (var (_, t) in entries)
        {
            var count = (int)t.numel();
            using (var existing = t.grad)
            {
                if (existing is null)
                {
                    // No setter for .grad here: a zero-valued backward through the parameter allocates its gradient.
                    using var zero = t.sum().mul(PinnedZero);
                    zero.backward();
                }
            }
            using (no_grad())
            {
                using var source = tensor(vector.Slice(offset, count).ToArray(), t.shape).to(t.device);
                using var grad = t.grad!;
                grad.copy_(source);
            }
            offset += count;
        }
    }
}
