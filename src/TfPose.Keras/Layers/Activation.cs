using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Applies a named activation ("relu", "sigmoid", "tanh", "softmax", ...).</summary>
public sealed class Activation(string activation, string? name = null) : Layer(name), IKerasLayer<Activation>
{
    public string Function { get; } = Activations.Validate(activation);
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => Activations.Apply(Function, x[0]);
    protected override void WriteConfig(JsonObject config) => config["activation"] = Function;

    public static Activation FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Activation(c.String("activation"), c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) => g.Activation(x[0], Function, scope);

    internal override string Describe() => $"Activation({Function})";
}
