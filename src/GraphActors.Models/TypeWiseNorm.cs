using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>One BatchNorm1d or LayerNorm per node type; identity for <see cref="Normalization.None"/>.</summary>
public sealed class TypeWiseNorm : nn.Module<Dictionary<string, Tensor>, Dictionary<string, Tensor>>
{
    private readonly ModuleDict<nn.Module<Tensor, Tensor>> norms;

    public TypeWiseNorm(Normalization kind, IEnumerable<string> nodeTypes, long width, string name = nameof(TypeWiseNorm))
        : base(name)
    {
        norms = new ModuleDict<nn.Module<Tensor, Tensor>>();
        if (kind != Normalization.None)
        {
            foreach (var type in nodeTypes.Distinct().OrderBy(t => t, StringComparer.Ordinal))
                norms.Add(type, kind == Normalization.Batch ? nn.BatchNorm1d(width) : nn.LayerNorm(width));
        }
        RegisterComponents();
    }

    public override Dictionary<string, Tensor> forward(Dictionary<string, Tensor> h)
    {
        if (norms.Count == 0)
            return h;
        var result = new Dictionary<string, Tensor>();
        foreach (var (type, x) in h)
        {
            // BatchNorm cannot take statistics of an empty batch; nothing to normalise there anyway.
            result[type] = x.size(0) > 0 && norms.TryGetValue(type, out var norm) ? norm.forward(x) : x;
        }
        return result;
    }
}
