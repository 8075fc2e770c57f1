using System.Text.Json.Nodes;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Keras;

/// <summary>Zero padding of height and width: ((top, bottom), (left, right)).</summary>
public sealed class ZeroPadding2D : Layer, IKerasLayer<ZeroPadding2D>
{
    public ZeroPadding2D(int padding = 1, string? name = null) : this([padding, padding, padding, padding], name) { }

    /// <param name="padding">top, bottom, left, right.</param>
    public ZeroPadding2D(int[] padding, string? name = null) : base(name) => Pad = padding;

    public int[] Pad { get; }
    public override int[] ComputeOutputShape(int[][] s) => [s[0][0] + Pad[0] + Pad[1], s[0][1] + Pad[2] + Pad[3], s[0][2]];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => F.pad(x[0], [Pad[2], Pad[3], Pad[0], Pad[1]]);

    /// <summary>Written flat, [top, bottom, left, right]; read also in Keras' forms (see <see cref="ConfigReader.Sides"/>).</summary>
    protected override void WriteConfig(JsonObject config) => config["padding"] = LayerConfig.Ints(Pad);

    public static ZeroPadding2D FromConfig(JsonObject config) => LayerConfig.Read(config, c => new ZeroPadding2D(c.ExpectChannelsLast().Sides("padding", [1, 1, 1, 1]), c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        var paddings = g.ConstInt(scope + "/paddings", [0, 0, Pad[0], Pad[1], Pad[2], Pad[3], 0, 0], 4, 2);
        return g.Node(scope + "/Pad", "Pad", x[0], paddings).FloatType().Type("Tpaddings", TfPose.Graph.Proto.DataType.DtInt32);
    }
}
