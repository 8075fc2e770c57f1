using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Flattens to (batch, features) in channels-last order, so a following Dense matches Keras weights.</summary>
public sealed class Flatten(string? name = null) : Layer(name), IKerasLayer<Flatten>
{
    public override int[] ComputeOutputShape(int[][] s) => [s[0].Aggregate(1, (a, b) => a * b)];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => Layout.ToKeras(x[0]).reshape(x[0].shape[0], -1);

    protected override void WriteConfig(JsonObject config)
    {
        // Only the name and trainable flag GetConfig already holds.
    }

    public static Flatten FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Flatten(c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) =>
        g.Node(scope + "/Reshape", "Reshape", x[0], g.ConstInt(scope + "/shape", [-1, inputShapes[0].Aggregate(1, (p, q) => p * q)], 2))
            .FloatType().Type("Tshape", TfPose.Graph.Proto.DataType.DtInt32);
}
