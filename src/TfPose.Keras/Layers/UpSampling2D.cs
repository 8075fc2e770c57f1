using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Nearest-neighbour upsampling by integer factors (Keras' default interpolation).</summary>
public sealed class UpSampling2D : Layer, IKerasLayer<UpSampling2D>
{
    public UpSampling2D(int[]? size = null, string? name = null) : base(name) => Size = size ?? [2, 2];

    public int[] Size { get; }
    public override int[] ComputeOutputShape(int[][] s) => [s[0][0] * Size[0], s[0][1] * Size[1], s[0][2]];
    internal override Tensor Forward(Tensor[] x, CallContext ctx) => x[0].repeat_interleave(Size[0], 2).repeat_interleave(Size[1], 3);

    protected override void WriteConfig(JsonObject config) => config["size"] = LayerConfig.Ints(Size);

    public static UpSampling2D FromConfig(JsonObject config) => LayerConfig.Read(config, c =>
    {
        c.Expect("interpolation", "nearest");
        return new UpSampling2D(c.ExpectChannelsLast().Ints("size", 2, [2, 2]), c.Name);
    });

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) =>
        g.Node(scope + "/ResizeNearestNeighbor", "ResizeNearestNeighbor", x[0], g.ConstInt(scope + "/size", [inputShapes[0][0] * Size[0], inputShapes[0][1] * Size[1]], 2))
            .FloatType().Bool("align_corners", false).Bool("half_pixel_centers", false);
}
