// One process-wide lock for TorchSharp's custom autograd functions, whose bookkeeping is not thread-safe.
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// TorchSharp 0.107 keeps every node of a custom autograd function (<c>autograd.SingleTensorFunction</c>) in one
/// static <c>List</c> that it changes without a lock: <c>apply</c> adds the node, and libtorch's release of the node
/// (inside <c>apply</c> when no gradient is wanted, otherwise when the graph's last tensor is disposed) removes it.
/// Two threads doing either at once corrupt the list, and a node lost from it can be collected while libtorch
/// still calls its backward. So: <see cref="Gspmm"/> and <see cref="EdgeSoftmax"/> run their kernels directly when
/// no gradient is wanted (inference, evaluation: no node at all), call <c>apply</c> under <see cref="Lock"/>
/// otherwise, and code that builds a graph through them (a training step, an explanation) holds <see cref="Lock"/>
/// from its forward until its dispose scope has freed the graph.
/// </summary>
public static class AutogradGate
{
    /// <summary>Held around every custom function's <c>apply</c> and every graph's life that contains one. Reentrant.</summary>
    public static readonly object Lock = new();

    /// <summary>
    /// Runs <paramref name="work"/> under <see cref="Lock"/> right after seeding torch's default generator with
    /// <paramref name="seed"/>. That generator is process-wide as well: a model's initial parameters drawn while another
    /// thread (a second trainer of an in-process cluster, a model being loaded for serving) draws too, or after it
    /// reseeded, differ from run to run. Every draw that must follow a seed happens here or in a step holding the lock.
    /// </summary>
    public static T Seeded<T>(long seed, Func<T> work)
    {
        lock (Lock)
        {
            random.manual_seed(seed);
            return work();
        }
    }

    /// <summary>Whether an op on these inputs records a graph: grad mode on and at least one input needs a gradient.</summary>
    internal static bool RecordsGraph(Tensor a, Tensor? b = null) =>
        is_grad_enabled() && (a.requires_grad || b is { requires_grad: true });
}
