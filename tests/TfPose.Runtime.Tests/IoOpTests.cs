using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>Graph inputs, constants and the ops that pass a tensor on unchanged at inference time.</summary>
public class IoOpTests
{
    [Fact]
    [OpTest("Placeholder", "Const", "Identity", "StopGradient", "PreventGradient", "Snapshot", "NoOp")]
    public void Pass_through_ops_return_their_input()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2, 3);
        b.Const("c", [10f, 20f, 30f], 3);
        b.Op("id", "Identity", "x");
        b.Op("stop", "StopGradient", "id");
        b.Op("prevent", "PreventGradient", "stop");
        b.Op("snap", "Snapshot", "prevent");
        b.Op("noop", "NoOp");
        b.Op("sum", "AddV2", "snap", "c").Input.Add("^noop");
        float[] x = [1, 2, 3, 4, 5, 6];
        using var session = new GraphSession(b.Build());
        using var input = GraphTensor.FromArray(x, 2, 3);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["x"] = input }, ["snap", "sum", "c"]);
        Assert.Equal(x, result[0].ToArray<float>());
        Assert.Equal([11f, 22f, 33f, 14f, 25f, 36f], result[1].ToArray<float>());
        Assert.Equal([10f, 20f, 30f], result[2].ToArray<float>());
    }

    [Fact]
    [OpTest("PlaceholderWithDefault", "PlaceholderV2")]
    public void Placeholder_with_default_uses_its_default_unless_fed()
    {
        var b = new TfGraphBuilder();
        b.Const("default", [1f, 2f], 2);
        var node = b.Op("p", "PlaceholderWithDefault", "default");
        node.Attr["dtype"] = new AttrValue { Type = DataType.DtFloat };
        node.Attr["shape"] = new AttrValue { Shape = Graph.TensorValue.ShapeProto([2]) };
        b.Placeholder("v2", 2);
        b.Graph.Node.Single(n => n.Name == "v2").Op = "PlaceholderV2";
        b.Op("sum", "AddV2", "p", "v2");
        using var session = new GraphSession(b.Build());
        using var v2 = GraphTensor.FromArray([10f, 20f], 2);
        using (var result = session.Run(new Dictionary<string, GraphTensor> { ["v2"] = v2 }, ["sum"]))
            Assert.Equal([11f, 22f], result[0].ToArray<float>());
        using var fed = GraphTensor.FromArray([5f, 6f], 2);
        using (var result = session.Run(new Dictionary<string, GraphTensor> { ["v2"] = v2, ["p"] = fed }, ["sum"]))
            Assert.Equal([15f, 26f], result[0].ToArray<float>());
    }
}
