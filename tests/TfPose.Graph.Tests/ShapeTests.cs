using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Graph.Tests;

public class ShapeTests
{
    [Fact]
    public void Pose_graph_output_shape_is_an_eighth_of_the_input()
    {
        var graph = TfGraph.Load(SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb"));
        var shapes = ShapeInference.Infer(graph, new Dictionary<string, long[]> { ["image"] = [1, 368, 432, 3] });
        Assert.Equal([1L, 46, 54, 57], shapes.Shape("Openpose/concat_stage7")!);
    }

    [Fact]
    public void Conv_flops_and_parameters_match_hand_count()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 8, 8, 2);
        b.Const("w", new float[3 * 3 * 2 * 4], 3, 3, 2, 4);
        var conv = b.Op("conv", "Conv2D", "x", "w");
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, 1, 1, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str("SAME");
        var graph = b.Build();
        var stats = GraphStats.Compute(graph, ShapeInference.Infer(graph));
        Assert.Equal(72, stats.Parameters);
        Assert.Equal(2L * 8 * 8 * 4 * 3 * 3 * 2, stats.Flops);
        Assert.True(stats.FlopsComplete);
    }

    [Fact]
    public void Strided_conv_valid_padding_shape()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2, 9, 7, 3);
        b.Const("w", new float[3 * 3 * 3 * 5], 3, 3, 3, 5);
        var conv = b.Op("conv", "Conv2D", "x", "w");
        conv.Attr["strides"] = TfGraphBuilder.Ints(1, 2, 2, 1);
        conv.Attr["padding"] = TfGraphBuilder.Str("VALID");
        var graph = b.Build();
        // floor((9-3)/2)+1 = 4, floor((7-3)/2)+1 = 3
        Assert.Equal([2, 4, 3, 5], ShapeInference.Infer(graph).Shape("conv")!);
    }

    [Fact]
    public void Folding_replaces_the_runtime_shape_subgraph_with_constants()
    {
        var graph = TfGraph.Load(SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb"));
        Assert.Contains(graph.Nodes, n => n.Op == "Shape");
        var folded = ShapeFolder.Fold(graph, new Dictionary<string, long[]> { ["image"] = [1, 368, 432, 3] });
        Assert.DoesNotContain(folded.Nodes, n => n.Op is "Shape" or "StridedSlice");
        Assert.Equal([1L, 368, 432, 3], folded.Inputs.Single().Shape!);
        var resize = folded.Nodes.Single(n => n.Op == "ResizeBilinear");
        var size = folded.GetConstant(resize.DataInput(1).Node);
        // The size must equal the static shape of the tensor it was sliced from: H/8 x W/8 of the input.
        Assert.Equal([46L, 54L], size.ToInt64Array());
        Assert.Equal(["Openpose/concat_stage7"], folded.Outputs);
    }

    [Fact]
    public void Strided_slice_with_masks_follows_tensorflow()
    {
        // x[1:, ::2, 3] on a [4, 6, 5] tensor with shrink on the last axis -> [3, 3]
        var spec = StridedSliceSpec.Resolve([4, 6, 5], [1, 0, 3], [0, 0, 4], [1, 2, 1], beginMask: 0b010, endMask: 0b011, ellipsisMask: 0, newAxisMask: 0, shrinkMask: 0b100);
        Assert.Equal([3L, 3L], spec.OutputShape);
        // x[-1] on a vector of 4 -> scalar
        Assert.Empty(StridedSliceSpec.Resolve([4], [-1], [0], [1], 0, 0, 0, 0, 1).OutputShape);
    }

    [Fact]
    public void Broadcast_follows_numpy_rules()
    {
        Assert.Equal([2L, 3L, 4L], ShapeInference.Broadcast([2, 1, 4], [3, 1])!);
        Assert.Equal([5L, 7L], ShapeInference.Broadcast([7], [5, 1])!);
    }

    [Fact]
    public void Const_value_list_shorter_than_shape_repeats_its_last_element()
    {
        var proto = new TensorProto { Dtype = DataType.DtFloat, TensorShape = TensorValue.ShapeProto([2, 2]) };
        proto.FloatVal.Add(1.5f);
        proto.FloatVal.Add(2.5f);
        Assert.Equal([1.5f, 2.5f, 2.5f, 2.5f], TensorValue.FromProto(proto, "c").ToFloatArray());
    }
}
