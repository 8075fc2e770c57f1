using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Graph.Tests;

/// <summary>What `graph inspect` reports: always everything, never a crash, for any graph that could be read.</summary>
public class InspectionTests
{
    [Fact]
    public void Everything_that_keeps_a_graph_from_running_is_listed_at_once()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 1, 4);
        b.Op("a", "FancyOp", "x");
        b.Op("b", "OtherOp", "a");
        b.Op("c", "FancyOp", "b");
        // Fill whose dims come from an op of unknown output: its rank is unknown (this used to crash shape inference).
        b.Op("dims", "Mystery", "x");
        b.Const("one", [1f]);
        b.Op("filled", "Fill", "dims", "one");
        b.Op("sum", "AddV2", "c", "filled");
        // Two ops reading each other: a cycle that is not a while loop.
        b.Op("p", "Relu", "q");
        b.Op("q", "Relu", "p");
        b.Op("out", "AddV2", "sum", "q");
        var graph = b.Build();

        var report = GraphInspection.Inspect(graph);
        Assert.Equal(["FancyOp", "FancyOp", "Mystery", "OtherOp", "Relu", "Relu"], report.Unsupported.Select(u => u.Op).Order());
        Assert.Equal(["a", "c"], report.Unsupported.Where(u => u.Op == "FancyOp").Select(u => u.Node).Order());
        Assert.All(report.Unsupported.Where(u => u.Op == "Relu"), u => Assert.Contains("cycle", u.Reason));
        Assert.Null(report.Outputs.Single(o => o.Name == "out").Shape);
        Assert.False(report.Runnable);
    }

    [Fact]
    public void A_constant_that_cannot_be_decoded_is_a_problem_not_a_crash()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2);
        var tensor = new TensorProto { Dtype = DataType.DtFloat, TensorShape = TensorValue.ShapeProto([3]), TensorContent = Google.Protobuf.ByteString.CopyFrom(new byte[5]) };
        var node = b.Graph.Node.Count;
        b.Const("bad", [0f, 0f, 0f], 3);
        b.Graph.Node[node].Attr["value"] = new AttrValue { Tensor = tensor };
        b.Op("y", "AddV2", "x", "bad");
        var report = GraphInspection.Inspect(b.Build());
        var (where, problem) = Assert.Single(report.Problems);
        Assert.Equal("bad", where);
        Assert.Contains("5 bytes", problem);
        Assert.False(report.Runnable);
    }

    public static TheoryData<string> SharedGraphs => new()
    {
        "models/openpose-mobilenet-v2-small/graph_opt.pb", "models/cpm-mobile/model.pb", "models/hourglass-mobile/model.pb",
        "models/posenet-mobilenet-v1-050/model.pb", "models/tf2onnx-tests/lstm/frozen.pb", "models/tf2onnx-tests/gru/frozen.pb",
        "tfjs-models/movenet-lightning", "tfjs-models/movenet-multipose", "tfjs-models/blazepose-detector",
        "tfjs-models/blazepose-lite", "tfjs-models/selfie", "tfjs-models/faceboxes",
    };

    [Theory]
    [MemberData(nameof(SharedGraphs))]
    public void Real_graphs_infer_without_problems(string path)
    {
        var graph = TfGraph.Load(SharedData.Path(["data", .. path.Split('/')]));
        var report = GraphInspection.Inspect(graph);
        Assert.Empty(report.Problems);
        Assert.NotEmpty(report.Outputs);
        Assert.True(report.Stats.Parameters > 0);
    }
}
