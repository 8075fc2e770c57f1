using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Softmax over the channel (last Keras) axis.</summary>
public sealed class Softmax(string? name = null) : Layer(name), IKerasLayer<Softmax>
{
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => Activations.Apply("softmax", x[0]);

    /// <summary>Keras' axis argument: only the default, the last axis, is supported.</summary>
    protected override void WriteConfig(JsonObject config)
    {
    }

    public static Softmax FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Softmax(c.Int("axis", -1) == -1 ? c.Name : throw new ArgumentException("only axis -1 is supported")));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) => g.Op(scope + "/Softmax", "Softmax", x[0]);
}
