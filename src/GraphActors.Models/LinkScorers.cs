// Link-prediction scorers: a logit per (u, v) pair from the two endpoint embeddings.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>Score of each pair: <c>Σ_k h_u[k]·h_v[k]</c>, [n] from two [n, d] inputs.</summary>
public sealed class DotProductScorer : nn.Module<Tensor, Tensor, Tensor>
{
    public DotProductScorer(string name = nameof(DotProductScorer))
        : base(name)
    {
        RegisterComponents();
    }

    public override Tensor forward(Tensor hU, Tensor hV)
    {
        using var product = hU * hV;
        return product.sum(-1);
    }
}

/// <summary>Score of each pair from an MLP on the concatenation <c>[h_u, h_v]</c>: Linear → ReLU → Linear(1).</summary>
public sealed class MlpScorer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear hidden;
    private readonly Linear output;

    public MlpScorer(long inDim, long hiddenDim, string name = nameof(MlpScorer))
        : base(name)
    {
        hidden = nn.Linear(2 * inDim, hiddenDim);
        output = nn.Linear(hiddenDim, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor hU, Tensor hV)
    {
        using var scope = NewDisposeScope();
        var pair = cat([hU, hV], 1);
        var score = output.forward(nn.functional.relu(hidden.forward(pair))).squeeze(1);
        return score.MoveToOuterDisposeScope();
    }
}
