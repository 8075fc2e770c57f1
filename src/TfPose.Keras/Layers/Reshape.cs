using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Reshapes to a channels-last target shape (batch excluded), as Keras' Reshape.</summary>
public sealed class Reshape : Layer, IKerasLayer<Reshape>
{
    public Reshape(int[] targetShape, string? name = null) : base(name) => TargetShape = (int[])targetShape.Clone();

    public int[] TargetShape { get; }

    public override int[] ComputeOutputShape(int[][] s)
    {
        var total = s[0].Aggregate(1, (a, b) => a * b);
        var known = TargetShape.Where(d => d != -1).Aggregate(1, (a, b) => a * b);
        var shape = TargetShape.Select(d => d == -1 ? total / known : d).ToArray();
        if (shape.Aggregate(1, (a, b) => a * b) != total)
            throw new ArgumentException($"Reshape '{Name}': cannot reshape {Layout.Format(s[0])} to {Layout.Format(TargetShape)}.");
        return shape;
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var outShape = ComputeOutputShape([InputShapes![0]]);
        var keras = Layout.ToKeras(x[0]).reshape([x[0].shape[0], .. outShape.Select(d => (long)d)]);
        return Layout.ToInternal(keras);
    }

    protected override void WriteConfig(JsonObject config) => config["target_shape"] = LayerConfig.Ints(TargetShape);

    public static Reshape FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Reshape(c.Ints("target_shape", 0), c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        var target = ComputeOutputShape([inputShapes[0]]);
        return g.Node(scope + "/Reshape", "Reshape", x[0], g.ConstInt(scope + "/shape", [-1, .. target], target.Length + 1))
            .FloatType().Type("Tshape", TfPose.Graph.Proto.DataType.DtInt32);
    }
}
