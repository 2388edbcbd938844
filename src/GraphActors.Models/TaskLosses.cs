using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>The losses of the three task kinds.</summary>
public static class TaskLosses
{
    /// <summary>Cross entropy of [n, classes] logits against [n] int64 labels (node or graph classification).</summary>
    public static Tensor NodeClassification(Tensor logits, Tensor labels) => nn.functional.cross_entropy(logits, labels);

    /// <summary>
    /// Binary cross entropy with logits: positive pairs toward 1, negative pairs toward 0, averaged over
    /// all pairs (DGL's link-prediction example).
    /// </summary>
    public static Tensor LinkPrediction(Tensor positiveScores, Tensor negativeScores)
    {
        using var scope = NewDisposeScope();
        var scores = cat([positiveScores.flatten(), negativeScores.flatten()]);
        var targets = cat([ones_like(positiveScores.flatten()), zeros_like(negativeScores.flatten())]);
        return nn.functional.binary_cross_entropy_with_logits(scores, targets).MoveToOuterDisposeScope();
    }
}
