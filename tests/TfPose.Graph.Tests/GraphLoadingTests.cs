using Google.Protobuf;
using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Graph.Tests;

public class GraphLoadingTests
{
    private static string PoseGraph => SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb");

    [Theory]
    [InlineData("openpose-mobilenet-v2-small/graph_opt.pb", "image", "Openpose/concat_stage7")]
    [InlineData("cpm-mobile/model.pb", "image", "Convolutional_Pose_Machine/stage_5_out")]
    [InlineData("hourglass-mobile/model.pb", "image", "hourglass_out_3")]
    [InlineData("tf2onnx-tests/fc-layers/frozen.pb", "X", "output")]
    public void Loads_frozen_graphs_with_their_documented_inputs_and_outputs(string file, string input, string output)
    {
        var parts = file.Split('/');
        var graph = TfGraph.Load(SharedData.Path(["data", "models", .. parts]));
        Assert.True(graph.IsFrozen);
        Assert.Equal([input], graph.Inputs.Select(i => i.Name));
        Assert.Contains(output, graph.Outputs);
        Assert.Equal(graph.Nodes.Count, graph.TopologicalOrder().Count);
    }

    [Fact]
    public void Posenet_has_its_four_outputs()
    {
        var graph = TfGraph.Load(SharedData.Model("posenet-mobilenet-v1-050", "model.pb"));
        Assert.Equal(["displacement_bwd_2", "displacement_fwd_2", "heatmap", "offset_2"], graph.Outputs.Order());
    }

    [Fact]
    public void Text_format_training_graph_is_parsed_and_reported_as_not_frozen()
    {
        var path = SharedData.Model("openpose-mobilenet-thin-unfrozen", "graph.pb");
        var graph = TfGraph.Load(path);
        Assert.False(graph.IsFrozen);
        Assert.Contains(graph.VariableNodes, n => n.Op == "VariableV2" && n.Name == "MobilenetV1/Conv2d_0/weights");
        var error = Assert.Throws<GraphFormatException>(graph.EnsureFrozen);
        Assert.Contains(path, error.Message);
        Assert.Contains("not frozen", error.Message);
        Assert.Contains("MobilenetV1/Conv2d_0/weights (VariableV2)", error.Message);
        Assert.Contains("convert_variables_to_constants", error.Message);
    }

    [Fact]
    public void Text_format_values_escapes_and_maps_are_decoded()
    {
        const string text = """
            # a comment
            node {
              name: "c"
              op: "Const"
              attr { key: "dtype" value { type: DT_FLOAT } }
              attr {
                key: "value"
                value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 2 } } tensor_content: "\000\000\200?\000\000\000@" } }
              }
            }
            node { name: "s" op: "Identity" input: "c" attr { key: "note" value { s: "a\tb\"\x41" } } }
            versions { producer: 27 }
            """;
        var graph = TfGraph.Parse(System.Text.Encoding.UTF8.GetBytes(text), "inline.pbtxt");
        Assert.Equal([1f, 2f], graph.GetConstant("c").ToFloatArray());
        Assert.Equal("a\tb\"A", graph.GetNode("s").Attr["note"].S.ToStringUtf8());
        Assert.Equal(27, graph.Proto.Versions.Producer);
    }

    [Fact]
    public void Truncated_file_is_reported_with_its_path()
    {
        var bytes = File.ReadAllBytes(PoseGraph);
        var path = Path.Combine(Path.GetTempPath(), $"truncated-{Guid.NewGuid():N}.pb");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var error = Assert.Throws<GraphFormatException>(() => TfGraph.Load(path));
            Assert.Contains(path, error.Message);
            Assert.Contains("truncated", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_jpeg_is_not_mistaken_for_a_graph()
    {
        var path = SharedData.Image("p1.jpg");
        var error = Assert.Throws<GraphFormatException>(() => TfGraph.Load(path));
        Assert.Contains("JPEG", error.Message);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void Empty_and_missing_files_give_clear_errors()
    {
        Assert.Contains("empty", Assert.Throws<GraphFormatException>(() => TfGraph.Parse([], "empty.pb")).Message);
        Assert.Contains("not found", Assert.Throws<GraphFormatException>(() => TfGraph.Load("/nonexistent/model.pb")).Message);
    }

    [Fact]
    public void Absurd_constant_size_is_rejected_before_allocation()
    {
        var tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = TensorValue.ShapeProto([1 << 20, 1 << 20, 1 << 10]) };
        tensor.FloatVal.Add(1f);
        var node = new NodeDef { Name = "huge", Op = "Const" };
        node.Attr["value"] = new AttrValue { Tensor = tensor };
        var graph = TfGraph.Parse(new GraphDef { Node = { node } }.ToByteArray(), "huge.pb");
        // This thread's count only: the process-wide one also counts test classes running in parallel.
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidDataException>(() => graph.GetConstant("huge"));
        Assert.Contains("huge.pb", error.Message);
        Assert.Contains("more than", error.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
    }

    [Fact]
    public void Dangling_input_is_reported()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1);
        b.Op("y", "Relu", "missing:0");
        var error = Assert.Throws<GraphFormatException>(b.Build);
        Assert.Contains("'missing:0'", error.Message);
    }

    [Fact]
    public void Saved_graph_round_trips_byte_for_byte()
    {
        var graph = TfGraph.Load(PoseGraph);
        var path = Path.Combine(Path.GetTempPath(), $"roundtrip-{Guid.NewGuid():N}.pb");
        try
        {
            graph.Save(path);
            Assert.Equal(File.ReadAllBytes(PoseGraph), File.ReadAllBytes(path));
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $".roundtrip-*.tmp"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
