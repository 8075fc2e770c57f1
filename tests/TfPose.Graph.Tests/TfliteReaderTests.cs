using System.Buffers.Binary;
using TfPose.Graph.Formats;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Graph.Tests;

/// <summary>Reading .tflite flatbuffers: what is read, and the clear error every kind of bad file gives.</summary>
public class TfliteReaderTests
{
    private static string SharedModel => SharedData.Path("data", "tflite-models", "pose-landmark-lite", "model.tflite");

    /// <summary>x [N?, 4] float input, ADD with a float16 constant behind DEQUANTIZE, fused RELU.</summary>
    internal static TfliteModelBuilder Small()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("serving_default_x:0", [1, 4], signature: [-1, 4]);
        var half = b.Halves("bias_fp16", [1, -2, 3, 0.5f], 4);
        var bias = b.Tensor("bias", TfliteModelBuilder.Float32, [4]);
        b.Operator("DEQUANTIZE", [half], [bias]);
        var y = b.Tensor("StatefulPartitionedCall:0", TfliteModelBuilder.Float32, [1, 4], signature: [-1, 4]);
        b.Operator("ADD", [x, bias], [y], "Add", TfliteModelBuilder.Options((0, (byte)1)));
        b.Output(y);
        b.Metadata("min_runtime_version", "1.14.0\0\0\0\0\0\0\0\0\0\0"u8.ToArray());
        return b;
    }

    private static GraphFormatException Fails(byte[] bytes, string path = "bad.tflite") =>
        Assert.Throws<GraphFormatException>(() => TfliteGraphModel.Parse(bytes, path));

    [Fact]
    public void Shared_model_reads_with_its_inputs_outputs_and_operators()
    {
        var graph = TfGraph.Load(SharedModel);
        Assert.Equal(SharedModel, graph.SourcePath);
        var input = Assert.Single(graph.Inputs);
        Assert.Equal(("input_1", DataType.DtFloat), (input.Name, input.Type));
        Assert.Equal([1, 256, 256, 3], input.Shape!);
        Assert.Equal(["Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4"], graph.Outputs);
        var info = graph.Tflite!;
        Assert.Equal(3u, info.Version);
        Assert.Equal(1, info.SubgraphCount);
        var histogram = info.OperatorHistogram.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(["ADD", "CONV_2D", "DEPTHWISE_CONV_2D", "DEQUANTIZE", "LOGISTIC", "MAX_POOL_2D", "PAD", "RESHAPE", "RESIZE_BILINEAR"],
            histogram.Keys.Order(StringComparer.Ordinal));
        // Every weight is float16 behind DEQUANTIZE; folding leaves only float constants and no DEQUANTIZE in the graph.
        Assert.DoesNotContain(graph.Nodes, n => n.Op == "Const" && n.GetDataType("dtype") == DataType.DtHalf);
        Assert.DoesNotContain(graph.Nodes, n => n.Op == "Cast");
        Assert.Equal(histogram["CONV_2D"], graph.Nodes.Count(n => n.Op == "Conv2D"));
        Assert.Equal(histogram["DEPTHWISE_CONV_2D"], graph.Nodes.Count(n => n.Op == "DepthwiseConv2dNative"));
        Assert.True(graph.IsFrozen);
    }

    [Fact]
    public void Small_model_reads_inputs_signature_shapes_names_metadata_and_description()
    {
        var graph = TfliteGraphModel.Parse(Small().Build(), "small.tflite");
        // shape_signature's -1 is an unknown size; ':' cannot be in a node name, so it becomes '_'.
        var input = Assert.Single(graph.Inputs);
        Assert.Equal(("serving_default_x_0", DataType.DtFloat), (input.Name, input.Type));
        Assert.Equal([-1, 4], input.Shape!);
        Assert.Equal(["StatefulPartitionedCall_0"], graph.Outputs);
        Assert.Equal("serving_default_x:0", graph.Signature!.Inputs[0].Key);
        Assert.Equal(new SignatureTensor("StatefulPartitionedCall:0", "StatefulPartitionedCall_0"), graph.Signature.Outputs[0]);
        Assert.Equal("1.14.0", graph.Tflite!.MinRuntimeVersion);
        Assert.Equal("TfPose test model", graph.Tflite.Description);
        Assert.Equal([new("DEQUANTIZE", 1), new KeyValuePair<string, int>("ADD", 1)],
            graph.Tflite.OperatorHistogram.OrderBy(p => p.Key == "ADD").ToList());
    }

    [Fact]
    public void Load_dispatches_on_the_extension_and_on_the_identifier()
    {
        var bytes = Small().Build();
        var dir = Directory.CreateTempSubdirectory("tfpose-tflite-");
        try
        {
            foreach (var name in new[] { "m.tflite", "m.bin", "m.pb" })
            {
                var path = Path.Combine(dir.FullName, name);
                File.WriteAllBytes(path, bytes);
                var graph = TfGraph.Load(path);
                Assert.NotNull(graph.Tflite);
                Assert.Equal(path, graph.SourcePath);
            }
            Assert.NotNull(TfGraph.Parse(bytes, "memory").Tflite);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Signature_def_names_are_the_signature_keys()
    {
        var b = Small();
        b.Signature("serving_default", [("x", 0)], [("output_0", 3)]);
        var graph = TfliteGraphModel.Parse(b.Build());
        Assert.Equal("x", graph.Signature!.Inputs[0].Key);
        Assert.Equal("output_0", graph.Signature.Outputs[0].Key);
        Assert.Equal("StatefulPartitionedCall_0", graph.Signature.Outputs[0].Tensor);
        Assert.Equal("serving_default", Assert.Single(graph.Tflite!.Signatures).Key);
    }

    [Fact]
    public void Quantization_parameters_are_read_per_tensor_and_per_channel()
    {
        var c = new TfliteModelBuilder();
        var xi = c.Input("x", [1, 2, 2, 3], TfliteModelBuilder.Int8);
        var wi = c.Const("w", TfliteModelBuilder.Int8, [2, 1, 1, 3], new sbyte[6], scale: [0.25f, 0.125f], zeroPoint: [0, 0], dimension: 0);
        var yi = c.Tensor("y", TfliteModelBuilder.Int8, [1, 2, 2, 2], scale: [0.75f], zeroPoint: [4]);
        c.Operator("CONV_2D", [xi, wi], [yi], "Conv2D", TfliteModelBuilder.Options((1, 1), (2, 1)));
        c.Output(yi);
        var graph = TfliteGraphModel.Parse(c.Build());
        var output = Assert.Single(graph.Tflite!.Outputs);
        Assert.Equal("int8 scale 0.75 zero point 4", TfliteModelInfo.QuantizationText(output));
        Assert.Equal([0.75f], output.Quantization!.Scale);
        Assert.Equal("int8 per-channel (2 scales 0.125…0.25 along dimension 0, zero points 0)", TfliteModelInfo.QuantizationText(graph.Tflite.Inputs[0] with
        {
            Quantization = new TfliteQuantization([0.25f, 0.125f], [0, 0], 0, [], []),
        }));
        // The int8 input has no scale, so the quantized convolution cannot read it as reals: reported with its operator index.
        var unsupported = GraphInspection.Inspect(graph).Unsupported;
        var node = Assert.Single(unsupported);
        Assert.Equal("tflite:CONV_2D", node.Op);
        Assert.Equal("TFLite operator 0, it computes on quantized tensors but its input int8 'x' has no quantization parameters", node.Reason);
    }

    [Fact]
    public void Wrong_identifier_is_named_with_a_hint()
    {
        var bytes = Small().Build();
        bytes[4] = (byte)'X';
        var error = Fails(bytes);
        Assert.StartsWith("bad.tflite: not a TensorFlow Lite model", error.Message);
        Assert.Contains("\"XFL3\"", error.Message);
        Assert.Contains("zip archive", Fails("PK\x03\x04 zip archive bytes"u8.ToArray()).Message);
        Assert.Contains("JSON", Fails("{\"format\": \"graph-model\"}"u8.ToArray()).Message);
    }

    [Fact]
    public void Tiny_and_empty_files_are_rejected()
    {
        Assert.Contains("too short", Fails([]).Message);
        Assert.Contains("too short", Fails("\0\0\0\0TFL3"u8.ToArray()[..7]).Message);
        var dir = Directory.CreateTempSubdirectory("tfpose-tflite-");
        try
        {
            var path = Path.Combine(dir.FullName, "empty.tflite");
            File.WriteAllBytes(path, []);
            var error = Assert.Throws<GraphFormatException>(() => TfGraph.Load(path));
            Assert.Equal(path, error.FilePath);
            Assert.Contains("file not found", Assert.Throws<GraphFormatException>(() => TfGraph.Load(Path.Combine(dir.FullName, "none.tflite"))).Message);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Unsupported_schema_version_is_named()
    {
        var b = Small();
        b.Version = 2;
        var error = Fails(b.Build());
        Assert.Contains("schema version 2 is not supported", error.Message);
    }

    [Fact]
    public void Root_offset_past_the_end_is_reported_not_followed()
    {
        var bytes = Small().Build();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0xFFFFFF00);
        Assert.Contains("outside the file", Fails(bytes).Message);
        bytes = Small().Build();
        var root = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        // The root table's vtable offset pointing before the file's start.
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(root), root + 100);
        Assert.Contains("outside the file", Fails(bytes).Message);
    }

    [Fact]
    public void Absurd_vector_length_is_rejected_before_anything_is_allocated()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [4]);
        var marker = new float[] { 1234.5f, -9876.25f, 42.125f, 7.0625f };
        var c = b.Floats("c", marker, 4);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [4]);
        b.Operator("ADD", [x, c], [y]);
        b.Output(y);
        var bytes = b.Build();
        var at = bytes.AsSpan().IndexOf(System.Runtime.InteropServices.MemoryMarshal.AsBytes(marker.AsSpan()));
        Assert.True(at > 4);
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at - 4)));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at - 4), 0x7FFFFFF0);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Fails(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20, "a claimed 2 GB vector was allocated");
        Assert.Contains("buffer 1", error.Message);
        Assert.Contains("2147483632 elements", error.Message);
    }

    /// <summary>
    /// Offsets may point many times at the same data: 100,000 tensor entries sharing one table whose shape has 60,000
    /// sizes would decode to 6·10⁹ values from a 700 KB file. The reader stops at a budget proportional to the file.
    /// </summary>
    [Fact]
    public void Tables_that_reuse_one_huge_vector_are_rejected_before_decoding_it_over_and_over()
    {
        var fb = new Google.FlatBuffers.FlatBufferBuilder(1 << 20);
        fb.StartVector(4, 60_000, 4);
        for (var i = 0; i < 60_000; i++)
            fb.AddInt(1);
        var shape = fb.EndVector();
        fb.StartTable(9);
        fb.AddOffset(0, shape.Value, 0);
        var tensor = fb.EndTable();
        fb.StartVector(4, 100_000, 4);
        for (var i = 0; i < 100_000; i++)
            fb.AddOffset(tensor);
        var tensors = fb.EndVector();
        fb.StartTable(5);
        fb.AddOffset(0, tensors.Value, 0);
        var subgraph = fb.EndTable();
        fb.StartVector(4, 1, 4);
        fb.AddOffset(subgraph);
        var subgraphs = fb.EndVector();
        fb.StartTable(8);
        fb.AddUint(0, 3, 0);
        fb.AddOffset(2, subgraphs.Value, 0);
        fb.Finish(fb.EndTable(), "TFL3");
        var bytes = fb.SizedByteArray();
        Assert.True(bytes.Length < 1 << 20);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Fails(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 256 << 20, "the reader decoded the shared vector without limit");
        Assert.Contains("far more elements than its", error.Message);
    }

    [Fact]
    public void Buffers_stored_past_the_flatbuffer_are_read_and_checked()
    {
        var b = new TfliteModelBuilder { ExternalBuffers = true };
        var x = b.Input("x", [3]);
        var c = b.Floats("c", [1.5f, 2.5f, -3], 3);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [3]);
        b.Operator("MUL", [x, c], [y]);
        b.Output(y);
        var bytes = b.Build();
        var graph = TfliteGraphModel.Parse(bytes);
        Assert.Equal([1.5f, 2.5f, -3f], graph.GetConstant("c").ToFloatArray());

        var error = Fails(bytes[..^4]);
        Assert.Contains("buffer 1 says its 12 bytes are at file offset", error.Message);
        Assert.Contains("past the end of the file", error.Message);
    }

    [Fact]
    public void Constant_buffer_of_the_wrong_size_is_reported()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [4]);
        var c = b.Floats("c", [1, 2, 3], 4);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [4]);
        b.Operator("ADD", [x, c], [y]);
        b.Output(y);
        var error = Fails(b.Build());
        Assert.Contains("tensor 1 'c' is float32 of shape [4] (16 bytes) but its buffer 1 holds 12 bytes", error.Message);
    }

    [Fact]
    public void Every_problem_is_listed_at_once()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [4]);
        var c = b.Floats("c", [1, 2, 3], 4);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [4]);
        b.Operator("ADD", [x, c, 17], [y]);
        var z = b.Tensor("z", TfliteModelBuilder.Float32, [4], scale: [1f, 2f], dimension: 3);
        b.Operator("MUL", [y, y], [z]);
        b.Output(z);
        var error = Fails(b.Build());
        Assert.Contains("3 problems", error.Message);
        Assert.Contains("buffer 1 holds 12 bytes", error.Message);
        Assert.Contains("name tensor 17", error.Message);
        Assert.Contains("2 per-channel scales along dimension 3", error.Message);
    }

    [Fact]
    public void Custom_and_unmapped_builtins_are_listed_by_name_and_operator_index()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 4, 4, 2]);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [1, 4, 4, 2]);
        b.Custom("FaceFancyCustomOp", [x], [y]);
        var z = b.Tensor("z", TfliteModelBuilder.Float32, [1, 4, 4, 2]);
        b.Operator("LOCAL_RESPONSE_NORMALIZATION", [y], [z]);
        var w = b.Tensor("w", TfliteModelBuilder.Float32, [1, 4, 4, 2]);
        b.Operator("RELU", [z], [w]);
        b.Output(w);
        var graph = TfliteGraphModel.Parse(b.Build(), "two.tflite");
        var unsupported = GraphInspection.Inspect(graph).Unsupported.OrderBy(u => u.Node).ToList();
        Assert.Equal(2, unsupported.Count);
        Assert.Equal(("y", "tflite:FaceFancyCustomOp", "TFLite operator 0, custom operator"),
            (unsupported[0].Node, unsupported[0].Op, unsupported[0].Reason));
        Assert.Equal(("z", "tflite:LOCAL_RESPONSE_NORMALIZATION", "TFLite operator 1"), (unsupported[1].Node, unsupported[1].Op, unsupported[1].Reason));
        Assert.Equal("CUSTOM:FaceFancyCustomOp", graph.Tflite!.OperatorHistogram.First(p => p.Key.StartsWith("CUSTOM")).Key);
        var described = Translation.GraphTranslator.Describe(unsupported);
        Assert.Contains("tflite:FaceFancyCustomOp (y: TFLite operator 0, custom operator)", described);
        Assert.Contains("tflite:LOCAL_RESPONSE_NORMALIZATION (z: TFLite operator 1)", described);
    }

    [Fact]
    public void Operators_reading_undefined_or_variable_tensors_are_reported()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2]);
        var ghost = b.Tensor("ghost", TfliteModelBuilder.Float32, [2]);
        var y = b.Tensor("y", TfliteModelBuilder.Float32, [2]);
        b.Operator("ADD", [x, ghost], [y]);
        var z = b.Tensor("z", TfliteModelBuilder.Float32, [2]);
        b.Operator("ADD", [x, x], [x]);
        b.Operator("ADD", [x, x], [z]);
        var after = b.Tensor("after", TfliteModelBuilder.Float32, [2]);
        b.Operator("MUL", [y, z], [after]);
        b.Output(after);
        var error = Fails(b.Build());
        // The MUL reading y is not reported: y's failure is, once.
        Assert.Contains("2 problems", error.Message);
        Assert.Contains("operator 0 (ADD) reads tensor 1 'ghost', which no operator before it produces", error.Message);
        Assert.Contains("operator 1 (ADD) writes tensor 0 'x', which is already a subgraph input", error.Message);
    }
}
