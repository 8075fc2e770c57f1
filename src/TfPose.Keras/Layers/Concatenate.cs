using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Concatenates along a Keras axis (default -1, the channels).</summary>
public sealed class Concatenate(int axis = -1, string? name = null) : Layer(name), IKerasLayer<Concatenate>
{
    public int Axis { get; } = axis;

    public override int[] ComputeOutputShape(int[][] s)
    {
        int rank = s[0].Length, a = Axis < 0 ? Axis + rank : Axis - 1;
        var outShape = (int[])s[0].Clone();
        for (int i = 1; i < s.Length; i++)
        {
            if (s[i].Length != rank || Enumerable.Range(0, rank).Any(d => d != a && s[i][d] != s[0][d]))
                throw new ArgumentException($"Concatenate '{Name}': shapes {string.Join(" and ", s.Select(Layout.Format))} differ off the concatenation axis.");
            outShape[a] += s[i][a];
        }
        return outShape;
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        int rank = (int)x[0].dim();
        int kerasAxis = Axis < 0 ? Axis + rank : Axis;
        return cat(x, Layout.ToInternalAxis(kerasAxis, rank));
    }

    protected override void WriteConfig(JsonObject config) => config["axis"] = Axis;

    public static Concatenate FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Concatenate(c.Int("axis", -1), c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        int rank = inputShapes[0].Length + 1;
        return g.Node(scope + "/concat", "ConcatV2", [.. x, g.ConstInt(scope + "/axis", [Axis < 0 ? Axis + rank : Axis])])
            .FloatType().Int("N", x.Length).Type("Tidx", TfPose.Graph.Proto.DataType.DtInt32);
    }
}
