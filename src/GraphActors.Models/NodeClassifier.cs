using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>Node classification: the model's output rows are the logits; predictions and loss follow from them.</summary>
public static class NodeClassifier
{
    /// <summary>Cross entropy of the logits of the rows in <paramref name="index"/> (all rows when null).</summary>
    public static Tensor Loss(Tensor logits, Tensor labels, Tensor? index = null)
    {
        if (index is null)
            return TaskLosses.NodeClassification(logits, labels);
        using var selectedLogits = logits.index_select(0, index);
        using var selectedLabels = labels.index_select(0, index);
        return TaskLosses.NodeClassification(selectedLogits, selectedLabels);
    }

    /// <summary>The predicted class of every row, as plain ints for <see cref="Metrics"/>.</summary>
    public static int[] Predict(Tensor logits)
    {
        using var _ = no_grad();
        using var argmax = logits.argmax(1);
        using var asInt = argmax.to_type(ScalarType.Int32);
        using var values = asInt.contiguous();
        return NativeTensors.Int32Values(values).ToArray();
    }
}
