using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>max(x, alpha·x). Keras' default alpha is 0.3.</summary>
public sealed class LeakyReLU(double alpha = 0.3, string? name = null) : Layer(name), IKerasLayer<LeakyReLU>
{
    public double Alpha { get; } = alpha;
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => nn.functional.leaky_relu(x[0], Alpha);
    protected override void WriteConfig(JsonObject config) => config["alpha"] = Alpha;

    /// <summary>Reads Keras 2's "alpha" or Keras 3's name for it, "negative_slope".</summary>
    public static LeakyReLU FromConfig(JsonObject config) =>
        LayerConfig.Read(config, c => new LeakyReLU(c.Double("alpha", c.Double("negative_slope", 0.3)), c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) =>
        g.Node(scope + "/LeakyRelu", "LeakyRelu", x[0]).FloatType().Float("alpha", (float)Alpha);

    internal override string Describe() => $"LeakyReLU({Alpha})";
}
