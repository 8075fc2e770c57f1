using TfPose.Graph.Formats;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Graph.Tests;

/// <summary>The GraphDef the TFLite importer writes: TensorFlow ops, TensorFlow layouts, TFLite tensor names.</summary>
public class TfliteImporterTests
{
    private static TfGraph Parse(TfliteModelBuilder b) => TfliteGraphModel.Parse(b.Build(), "test.tflite");

    [Fact]
    public void A_builtin_becomes_its_tensorflow_op_with_bias_and_activation_as_following_nodes()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("image", [1, 5, 5, 2]);
        var w = b.Floats("conv/kernel", Enumerable.Range(0, 3 * 3 * 3 * 2).Select(i => (float)i).ToArray(), 3, 3, 3, 2);
        var bias = b.Floats("conv/bias", [1, 2, 3], 3);
        var y = b.Tensor("conv/Relu6", TfliteModelBuilder.Float32, [1, 3, 3, 3]);
        b.Operator("CONV_2D", [x, w, bias], [y], "Conv2D", TfliteModelBuilder.Options((0, (byte)1), (1, 2), (2, 2), (3, (byte)3)));
        b.Output(y);
        var graph = Parse(b);
        var conv = graph.GetNode("conv/Relu6/Conv2D");
        Assert.Equal("Conv2D", conv.Op);
        Assert.Equal(["image", "conv/kernel/hwio"], conv.Input);
        Assert.Equal([1, 2, 2, 1], conv.GetInts("strides"));
        Assert.Equal("VALID", conv.GetString("padding"));
        Assert.Equal("NHWC", conv.GetString("data_format"));
        Assert.Equal(["conv/Relu6/Conv2D", "conv/bias"], graph.GetNode("conv/Relu6/BiasAdd").Input);
        var last = graph.GetNode("conv/Relu6");
        Assert.Equal("Relu6", last.Op);
        Assert.Equal(["conv/Relu6/BiasAdd"], last.Input);
        // TFLite's [out, h, w, in] filter is written as TensorFlow's [h, w, in, out].
        var filter = graph.GetConstant("conv/kernel/hwio");
        Assert.Equal([3, 3, 2, 3], filter.Shape);
        var f = filter.Span<float>();
        for (var o = 0; o < 3; o++)
        for (var i = 0; i < 2; i++)
            Assert.Equal(((o * 3 + 1) * 3 + 2) * 2 + i, f[((1 * 3 + 2) * 2 + i) * 3 + o]);
        Assert.Null(graph.FindNode("conv/kernel")); // the TFLite-layout constant is never written when nothing reads it
    }

    [Fact]
    public void Depthwise_filters_become_height_width_channels_multiplier()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 4, 4, 3]);
        var w = b.Floats("dw", Enumerable.Range(0, 2 * 2 * 6).Select(i => (float)i).ToArray(), 1, 2, 2, 6);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [1, 4, 4, 6]);
        b.Operator("DEPTHWISE_CONV_2D", [x, w, -1], [y], "DepthwiseConv2D", TfliteModelBuilder.Options((1, 1), (2, 1), (3, 2)));
        b.Output(y);
        var graph = Parse(b);
        var node = graph.GetNode("y");
        Assert.Equal("DepthwiseConv2dNative", node.Op);
        Assert.Equal("SAME", node.GetString("padding"));
        Assert.Equal([2, 2, 3, 2], graph.GetConstant(node.Input[1]).Shape);
    }

    [Fact]
    public void Float16_weights_behind_dequantize_are_folded_into_float_constants()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 3]);
        var half = b.Halves("w_fp16", [0.5f, -1.25f, 2, 4, 8, -0.125f], 2, 3);
        var w = b.Tensor("w", TfliteModelBuilder.Float32, [2, 3]);
        b.Operator("DEQUANTIZE", [half], [w]);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [2, 2]);
        b.Operator("FULLY_CONNECTED", [x, w, -1], [y], "FullyConnected");
        b.Output(y);
        var graph = Parse(b);
        Assert.DoesNotContain(graph.Nodes, n => n.Op is "Cast" or "Dequantize");
        Assert.DoesNotContain(graph.Nodes, n => n.Op == "Const" && n.GetDataType("dtype") != DataType.DtFloat);
        var matmul = graph.GetNode("y");
        Assert.Equal("MatMul", matmul.Op);
        var weights = graph.GetConstant(matmul.Input[1]);
        Assert.Equal([3, 2], weights.Shape); // transposed for MatMul
        Assert.Equal([0.5f, 4, -1.25f, 8, 2, -0.125f], weights.ToFloatArray());
    }

    [Fact]
    public void Tensor_names_are_made_valid_and_unique_node_names()
    {
        Assert.Equal("StatefulPartitionedCall_0", TfliteGraphModel.NodeName("StatefulPartitionedCall:0"));
        Assert.Equal("model/conv/Conv2D_model/bn/FusedBatchNormV3", TfliteGraphModel.NodeName("model/conv/Conv2D;model/bn/FusedBatchNormV3"));
        Assert.Equal("t_private", TfliteGraphModel.NodeName("_private"));
        var b = new TfliteModelBuilder();
        var x = b.Input("a:0", [2]);
        var y = b.Tensor("a_0", TfliteModelBuilder.Float32, [2]);
        b.Operator("RELU", [x], [y]);
        var z = b.Tensor("", TfliteModelBuilder.Float32, [2]);
        b.Operator("TANH", [y], [z]);
        b.Output(z);
        var graph = Parse(b);
        Assert.Equal("a_0", Assert.Single(graph.Inputs).Name);
        Assert.Equal("Relu", graph.GetNode("a_0_1").Op);
        Assert.Equal("Tanh", graph.GetNode("tensor_2").Op);
        Assert.Equal("a:0", graph.Signature!.Inputs[0].Key);
    }

    [Fact]
    public void Unmapped_multi_output_operators_keep_the_graph_connected()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 3, 4]);
        var h = b.Tensor("h", TfliteModelBuilder.Float32, [1, 3, 4]);
        var c = b.Tensor("c", TfliteModelBuilder.Float32, [1, 3, 4]);
        b.Custom("FancyRnn", [x], [h, c]);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [1, 3, 4]);
        b.Operator("ADD", [h, c], [y]);
        b.Output(y);
        var graph = Parse(b);
        var op = graph.GetNode("tflite_operator_0");
        Assert.Equal("tflite:FancyRnn", op.Op);
        Assert.Equal(["tflite_operator_0"], graph.GetNode("h").Input);
        Assert.Equal(["tflite_operator_0:1"], graph.GetNode("c").Input);
        Assert.Equal(["h", "c"], graph.GetNode("y").Input);
        var unsupported = Assert.Single(GraphInspection.Inspect(graph).Unsupported);
        Assert.Equal("tflite:FancyRnn", unsupported.Op);
    }

    [Fact]
    public void A_fully_quantized_model_becomes_quantize_and_dequantize_around_float_ops()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 4, 4, 1]);
        var q = b.Tensor("x_q", TfliteModelBuilder.Int8, [1, 4, 4, 1], scale: [0.02f], zeroPoint: [-1]);
        b.Operator("QUANTIZE", [x], [q]);
        var w = b.Const("w", TfliteModelBuilder.Int8, [1, 1, 1, 1], new sbyte[] { 64 }, [0.01f]);
        var conv = b.Tensor("conv", TfliteModelBuilder.Int8, [1, 4, 4, 1], scale: [0.05f], zeroPoint: [3]);
        b.Operator("CONV_2D", [q, w, -1], [conv], "Conv2D", TfliteModelBuilder.Options((1, 1), (2, 1)));
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [1, 4, 4, 1]);
        b.Operator("DEQUANTIZE", [conv], [y]);
        b.Output(y);
        var graph = Parse(b);
        Assert.Empty(GraphInspection.Inspect(graph).Unsupported);
        // The quantized tensors keep their names and int8 type; the convolution reads both its input and its
        // weights (still int8) through dequantizes, and its float result is requantized to the output's parameters.
        Assert.Equal("UniformQuantize", graph.GetNode("x_q").Op);
        Assert.Equal(DataType.DtInt8, graph.GetNode("x_q").Attr["Tout"].Type);
        var requantize = graph.GetNode("conv");
        Assert.Equal("UniformQuantize", requantize.Op);
        var filter = graph.GetNode(graph.GetNode(requantize.Input[0]).Input[1]);
        Assert.Equal("UniformDequantize", filter.Op);
        Assert.Equal(DataType.DtInt8, graph.GetNode(filter.Input[0]).Attr["dtype"].Type);
        Assert.Equal("UniformDequantize", graph.GetNode("y").Op);
    }

    [Fact]
    public void Quantized_int32_activations_are_listed_as_unsupported()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [4], TfliteModelBuilder.Int32, scale: [0.5f], zeroPoint: [0]);
        var y = b.Tensor("y", TfliteModelBuilder.Int32, [4], scale: [0.5f], zeroPoint: [0]);
        b.Operator("ABS", [x], [y]);
        b.Output(y);
        var unsupported = Assert.Single(GraphInspection.Inspect(Parse(b)).Unsupported);
        Assert.Equal("tflite:ABS", unsupported.Op);
        Assert.Equal("TFLite operator 0, quantized activations (int32 'x') are not run", unsupported.Reason);
    }

    [Fact]
    public void Inputs_without_a_shape_signature_keep_their_static_shape()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 8, 8, 3]);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [1, 8, 8, 3]);
        b.Operator("LOGISTIC", [x], [y]);
        b.Output(y);
        var graph = Parse(b);
        Assert.Equal([1, 8, 8, 3], graph.Inputs[0].Shape!);
        Assert.Equal("Sigmoid", graph.GetNode("y").Op);
    }
}
