using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Keras activation names, applied to internal-layout tensors (the channel axis is given).</summary>
internal static class Activations
{
    public static readonly string[] Known = ["linear", "relu", "sigmoid", "tanh", "softmax", "elu", "softplus"];

    public static string Validate(string? name)
    {
        var n = name ?? "linear";
        if (!Known.Contains(n))
            throw new ArgumentException($"Unknown activation '{n}'. Known: {string.Join(", ", Known)}.");
        return n;
    }

    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "linear" => x,
        "relu" => x.relu(),
        "sigmoid" => x.sigmoid(),
        "tanh" => x.tanh(),
        // Keras' softmax is over the last (channel) axis; internally that is dim 1 for rank-4 tensors.
        "softmax" => x.softmax(x.dim() == 4 ? 1 : -1),
        "elu" => nn.functional.elu(x, 1.0),
        "softplus" => nn.functional.softplus(x),
        _ => throw new ArgumentException($"Unknown activation '{name}'."),
    };
}
