using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Softmax over the channel (last Keras) axis.</summary>
public sealed class Softmax(string? name = null) : Layer(name), IKerasLayer<Softmax>
{
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => Activations.Apply("softmax", x[0]);

    /// <summary>No arguments to write: Keras' axis is always the last one here (FromConfig accepts only -1).</summary>
    protected override void WriteConfig(JsonObject config)
    {
        // Only the name and trainable flag GetConfig already holds.
    }

    public static Softmax FromConfig(JsonObject config) => LayerConfig.Read(config, c =>
    {
        c.Expect("axis", -1);
        return new Softmax(c.Name);
    });

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) => g.Op(scope + "/Softmax", "Softmax", x[0]);
}
