using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

internal static class Activations
{
    public static Tensor Apply(Activation activation, Tensor x) => activation switch
    {
        Activation.Relu => nn.functional.relu(x),
        Activation.LeakyRelu => x.leaky_relu(PinnedScalars.LeakyReluSlope),
        Activation.Elu => nn.functional.elu(x, 1.0),
        Activation.Gelu => nn.functional.gelu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    public static Dictionary<string, Tensor> Apply(Activation activation, Dictionary<string, Tensor> h) =>
        h.ToDictionary(kv => kv.Key, kv => Apply(activation, kv.Value));
}
