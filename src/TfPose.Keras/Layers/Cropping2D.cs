using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Crops height and width: top, bottom, left, right.</summary>
public sealed class Cropping2D : Layer, IKerasLayer<Cropping2D>
{
    public Cropping2D(int cropping, string? name = null) : this([cropping, cropping, cropping, cropping], name) { }

    /// <param name="cropping">top, bottom, left, right.</param>
    public Cropping2D(int[] cropping, string? name = null) : base(name) => Crop = cropping;

    public int[] Crop { get; }
    public override int[] ComputeOutputShape(int[][] s) => [s[0][0] - Crop[0] - Crop[1], s[0][1] - Crop[2] - Crop[3], s[0][2]];

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        long h = x[0].shape[2], w = x[0].shape[3];
        return x[0][.., .., Crop[0]..(int)(h - Crop[1]), Crop[2]..(int)(w - Crop[3])];
    }

    /// <summary>Written flat, [top, bottom, left, right]; read also in Keras' forms (see <see cref="ConfigReader.Sides"/>).</summary>
    protected override void WriteConfig(JsonObject config) => config["cropping"] = LayerConfig.Ints(Crop);

    public static Cropping2D FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Cropping2D(c.ExpectChannelsLast().Sides("cropping", [0, 0, 0, 0]), c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        // As Keras writes inputs[:, top:-bottom, left:-right, :]: a zero crop at the end leaves that end open
        // (end_mask), since -0 would mean an empty slice.
        int[] begin = [0, Crop[0], Crop[2], 0];
        int[] end = [0, -Crop[1], -Crop[3], 0];
        long endMask = 1 | 8 | (Crop[1] == 0 ? 2 : 0) | (Crop[3] == 0 ? 4 : 0);
        return g.Node(scope + "/strided_slice", "StridedSlice", x[0],
                g.ConstInt(scope + "/strided_slice/stack", begin, 4), g.ConstInt(scope + "/strided_slice/stack_1", end, 4),
                g.ConstInt(scope + "/strided_slice/stack_2", [1, 1, 1, 1], 4))
            .FloatType().Type("Index", TfPose.Graph.Proto.DataType.DtInt32).Int("begin_mask", 9).Int("end_mask", endMask)
            .Int("ellipsis_mask", 0).Int("new_axis_mask", 0).Int("shrink_axis_mask", 0);
    }
}
