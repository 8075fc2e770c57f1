using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Rectified linear unit, optionally capped (max_value) as Keras' ReLU layer.</summary>
public sealed class ReLU(double? maxValue = null, string? name = null) : Layer(name), IKerasLayer<ReLU>
{
    public double? MaxValue { get; } = maxValue;
    public override int[] ComputeOutputShape(int[][] s) => s[0];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => MaxValue is { } m ? x[0].clamp(0, m) : x[0].relu();

    protected override void WriteConfig(JsonObject config) => config["max_value"] = MaxValue;

    public static ReLU FromConfig(JsonObject config) => LayerConfig.Read(config, c =>
    {
        c.Expect("negative_slope", 0, 0.0);
        c.Expect("threshold", 0, 0.0);
        return new ReLU(c.NullableDouble("max_value"), c.Name);
    });

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        if (MaxValue is null)
            return g.Op(scope + "/Relu", "Relu", x[0]);
        if (MaxValue == 6)
            return g.Op(scope + "/Relu6", "Relu6", x[0]);
        // min(relu(x), m) = (m/6)·relu6(6x/m). TensorFlow writes Relu + Minimum, but OpenCV DNN has no
        // Minimum layer while every consumer knows Relu6 and Mul by a constant.
        var m = (float)MaxValue.Value;
        using var up = tensor(6f / m);
        using var down = tensor(m / 6f);
        var scaled = g.Op(scope + "/mul", "Mul", x[0], g.Const(scope + "/mul/y", up));
        return g.Op(scope + "/mul_1", "Mul", g.Op(scope + "/Relu6", "Relu6", scaled), g.Const(scope + "/mul_1/y", down));
    }
}
