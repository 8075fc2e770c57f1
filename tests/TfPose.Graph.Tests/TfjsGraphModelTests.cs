using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Nodes;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Graph.Tests;

public class TfjsGraphModelTests
{
    private static string ModelJson(string folder) => SharedData.Path("data", "tfjs-models", folder, "model.json");

    public static TheoryData<string, string, DataType, long[], string[]> SharedModels => new()
    {
        { "movenet-lightning", "input", DataType.DtInt32, [1, 192, 192, 3], ["Identity"] },
        { "movenet-multipose", "input", DataType.DtInt32, [1, -1, -1, 3], ["Identity"] },
        { "blazepose-detector", "input", DataType.DtFloat, [-1, 224, 224, 3], ["Identity"] },
        // The signature lists blazepose-lite's outputs in this order (world landmarks first), not by name.
        { "blazepose-lite", "input_1", DataType.DtFloat, [-1, 256, 256, 3], ["Identity_4", "Identity", "Identity_1", "Identity_3", "Identity_2"] },
        { "selfie", "input_1", DataType.DtFloat, [1, 256, 256, 3], ["activation_10"] },
        { "faceboxes", "image_tensor", DataType.DtUint8, [-1, -1, -1, 3], ["scores", "boxes", "num_boxes"] },
    };

    [Theory]
    [MemberData(nameof(SharedModels))]
    public void Shared_models_load_with_their_inputs_outputs_and_every_weight(
        string folder, string input, DataType type, long[] shape, string[] outputs)
    {
        foreach (var path in new[] { ModelJson(folder), Path.GetDirectoryName(ModelJson(folder))! })
        {
            var graph = TfGraph.Load(path);
            Assert.Equal(ModelJson(folder), graph.SourcePath);
            var only = Assert.Single(graph.Inputs);
            Assert.Equal(input, only.Name);
            Assert.Equal(type, only.Type);
            Assert.Equal(shape, only.Shape);
            Assert.Equal(outputs, graph.Outputs);
            Assert.True(graph.IsFrozen);
            var consts = graph.Nodes.Where(n => n.Op == "Const").ToList();
            Assert.NotEmpty(consts);
            foreach (var node in consts)
            {
                var value = graph.GetConstant(node.Name);
                Assert.Equal(node.GetDataType("dtype"), value.Type);
                Assert.Equal(value.Count * DataTypes.SizeOf(value.Type), value.Bytes.Length);
                Assert.Equal(value.Bytes.Length, node.GetTensor("value")!.TensorContent.Length);
            }
        }
    }

    [Fact]
    public void Signature_keeps_its_keys_and_json_order()
    {
        var graph = TfGraph.Load(ModelJson("blazepose-lite"));
        Assert.NotNull(graph.Signature);
        Assert.Equal([new SignatureTensor("input_1", "input_1:0")], graph.Signature.Inputs);
        Assert.Equal(["world_3d", "activation_heatmap", "activation_segmentation", "output_poseflag", "ld_3d"],
            graph.Signature.Outputs.Select(o => o.Key));
        Assert.Equal("Identity_4:0", graph.Signature.Outputs[0].Tensor);

        // faceboxes names its outputs without ':0' and declares no inputs.
        var faceboxes = TfGraph.Load(ModelJson("faceboxes"));
        Assert.Empty(faceboxes.Signature!.Inputs);
        Assert.Equal(["scores", "boxes", "num_boxes"], faceboxes.Signature.Outputs.Select(o => o.Tensor));
    }

    [Fact]
    public void Float16_weights_decode_to_exactly_the_half_values_in_the_shard()
    {
        var path = ModelJson("movenet-lightning");
        var (weight, offset) = FirstWeight(path, w => w["quantization"]?["dtype"]?.GetValue<string>() == "float16" && Count(w) > 100);
        var bytes = File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(path)!, "movenet-lightning.bin"));
        var count = Count(weight);
        var expected = new float[count];
        for (var i = 0; i < count; i++)
            expected[i] = HalfBitsToFloat(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)offset + 2 * i)));

        var graph = TfGraph.Load(path);
        var value = graph.GetConstant(weight["name"]!.GetValue<string>());
        Assert.Equal(DataType.DtFloat, value.Type);
        Assert.Equal(weight["shape"]!.AsArray().Select(d => d!.GetValue<long>()), value.Shape);
        Assert.Equal(expected, value.ToFloatArray());
    }

    [Fact]
    public void Float64_constant_written_as_float32_is_widened_back_to_double()
    {
        // The converter writes float64 weights as float32; faceboxes' graph still computes this Mul in double.
        var graph = TfGraph.Load(ModelJson("faceboxes"));
        var value = graph.GetConstant("ConstantFolding/image_padding/truediv_recip");
        Assert.Equal(DataType.DtDouble, value.Type);
        Assert.Equal([1.0 / 128], value.Span<double>().ToArray());
    }

    [Fact]
    public void Uint8_and_uint16_quantized_weights_decode_to_q_times_scale_plus_min()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [2, 2], [0, 1, 128, 255], quantization: new() { ["dtype"] = "uint8", ["scale"] = 0.1, ["min"] = -1.5, ["original_dtype"] = "float32" });
        model.Weight("i", "int32", [3], [0, 1, 5], quantization: new() { ["dtype"] = "uint8", ["scale"] = 0.3, ["min"] = 0.1, ["original_dtype"] = "int32" });
        model.Weight("u", "float32", [2], U16(7, 60000), quantization: new() { ["dtype"] = "uint16", ["scale"] = 0.001, ["min"] = -2.0 });
        model.Weight("b", "bool", [3], [1, 0, 1]);
        var graph = model.Load();

        Assert.Equal([(float)(0 * 0.1 - 1.5), (float)(1 * 0.1 - 1.5), (float)(128 * 0.1 - 1.5), (float)(255 * 0.1 - 1.5)], graph.GetConstant("w").ToFloatArray());
        Assert.Equal([2, 2], graph.GetConstant("w").Shape);
        // int32 originals are rounded as TensorFlow.js' Math.round does: 0.1, 0.4, 1.6 -> 0, 0, 2.
        Assert.Equal([0, 0, 2], graph.GetConstant("i").Span<int>().ToArray());
        Assert.Equal([(float)(7 * 0.001 - 2.0), (float)(60000 * 0.001 - 2.0)], graph.GetConstant("u").ToFloatArray());
        Assert.Equal([1, 0, 1], graph.GetConstant("b").Bytes.ToArray());
    }

    [Fact]
    public void Int32_weight_of_an_int64_const_is_widened()
    {
        // The converter writes int64 weights as int32; the graph keeps its int64 Const.
        using var model = new TinyModel();
        model.Weight("k", "int32", [2], I32(-3, 1 << 30), topologyType: "DT_INT64");
        var value = model.Load().GetConstant("k");
        Assert.Equal(DataType.DtInt64, value.Type);
        Assert.Equal([-3L, 1L << 30], value.Span<long>().ToArray());
    }

    [Fact]
    public void A_folder_without_model_json_is_explained()
    {
        using var model = new TinyModel();
        Directory.CreateDirectory(model.Directory);
        File.WriteAllBytes(Path.Combine(model.Directory, "saved_model.pb"), [0x08, 0x01]);
        var error = Assert.Throws<GraphFormatException>(() => TfGraph.Load(model.Directory));
        Assert.Contains(model.Directory, error.Message);
        Assert.Contains("no model.json", error.Message);
        Assert.Contains("SavedModel", error.Message);
    }

    [Fact]
    public void A_weight_may_span_two_shards_of_its_group()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [3], F32(1.5f, -2f, 3.25f));
        model.Weight("v", "int32", [2], I32(7, -9));
        model.Shards = [5, 15]; // w's second float starts in the first shard and ends in the second
        var graph = model.Load();
        Assert.Equal([1.5f, -2f, 3.25f], graph.GetConstant("w").ToFloatArray());
        Assert.Equal([7L, -9L], graph.GetConstant("v").ToInt64Array());
    }

    [Fact]
    public void Missing_shard_is_named()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [2], F32(1, 2));
        model.Shards = [4, 4];
        model.Write();
        File.Delete(Path.Combine(model.Directory, "group1-shard2of2.bin"));
        var error = model.LoadFails();
        Assert.Contains("'group1-shard2of2.bin'", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public void Short_shard_says_how_many_bytes_were_expected_and_found()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [4], F32(1, 2, 3, 4));
        model.Write();
        var shard = Path.Combine(model.Directory, "group1-shard1of1.bin");
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..10]);
        var error = model.LoadFails();
        Assert.Contains("too short", error.Message);
        Assert.Contains("need 16 bytes", error.Message);
        Assert.Contains("holds 10 (6 bytes missing)", error.Message);
        Assert.Contains("'group1-shard1of1.bin'", error.Message);
    }

    [Fact]
    public void Manifest_weight_without_a_const_node_is_reported()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [1], F32(1));
        model.Weight("stray", "float32", [1], F32(2), inTopology: false);
        var error = model.LoadFails();
        Assert.Contains("manifest weight 'stray' has no Const node", error.Message);
    }

    [Fact]
    public void Const_node_without_a_weight_is_reported()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [1], F32(1));
        model.Weight("orphan", "float32", [1], F32(2), inManifest: false);
        var error = model.LoadFails();
        Assert.Contains("Const node 'orphan' has no value and no weight", error.Message);
    }

    [Fact]
    public void Shape_and_dtype_disagreements_are_reported()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [2, 3], F32(1, 2, 3, 4, 5, 6), topologyShape: [3, 2]);
        model.Weight("k", "int32", [1], I32(3), topologyType: "DT_FLOAT");
        var error = model.LoadFails();
        Assert.Contains("weight 'w': the manifest says shape [2,3] but the Const node has shape [3,2]", error.Message);
        Assert.Contains("weight 'k': the manifest says int32 but the Const node is float", error.Message);
    }

    [Fact]
    public void A_model_with_two_problems_lists_both()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [2], F32(1, 2), topologyShape: [3]);
        model.Weight("stray", "float32", [1], F32(2), inTopology: false);
        var error = model.LoadFails();
        Assert.Contains("2 problems", error.Message);
        Assert.Contains("'stray'", error.Message);
        Assert.Contains("shape [2]", error.Message);
    }

    [Fact]
    public void String_weights_are_reported_as_unsupported()
    {
        using var model = new TinyModel();
        model.Weight("s", "string", [1], [1, 0, 0, 0, (byte)'a']);
        var error = model.LoadFails();
        Assert.Contains("weight 's' is a string tensor", error.Message);
    }

    [Fact]
    public void Absurd_manifest_shape_is_rejected_before_anything_is_allocated()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [1], F32(1));
        model.Write();
        var json = JsonNode.Parse(File.ReadAllText(model.JsonPath))!;
        json["weightsManifest"]![0]!["weights"]![0]!["shape"] = new JsonArray(1 << 20, 1 << 20, 1 << 10);
        File.WriteAllText(model.JsonPath, json.ToJsonString());
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = model.LoadFails();
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20);
        Assert.Contains("more than", error.Message);
        Assert.Contains("elements", error.Message);
    }

    [Fact]
    public void Layers_model_is_told_apart_and_the_converter_named()
    {
        using var model = new TinyModel();
        Directory.CreateDirectory(model.Directory);
        File.WriteAllText(model.JsonPath, """{"format": "layers-model", "modelTopology": {"class_name": "Sequential"}, "weightsManifest": []}""");
        var error = model.LoadFails();
        Assert.Contains("layers model", error.Message);
        Assert.Contains("Keras", error.Message);
        Assert.Contains("--output_format=tfjs_graph_model", error.Message);
    }

    [Fact]
    public void Not_json_and_missing_sections_give_clear_errors()
    {
        using var model = new TinyModel();
        Directory.CreateDirectory(model.Directory);
        File.WriteAllBytes(model.JsonPath, [0x08, 0x01, 0x12, 0x00, 0xFF]);
        Assert.Contains("not valid JSON", model.LoadFails().Message);

        File.WriteAllText(model.JsonPath, """{"format": "graph-model", "weightsManifest": []}""");
        Assert.Contains("no 'modelTopology'", model.LoadFails().Message);

        File.WriteAllText(model.JsonPath, """{"format": "graph-model", "modelTopology": {"node": [{"name": "x", "op": "Placeholder"}]}}""");
        Assert.Contains("no 'weightsManifest'", model.LoadFails().Message);

        Assert.Contains("not found", Assert.Throws<GraphFormatException>(() => TfGraph.Load(Path.Combine(model.Directory, "absent.json"))).Message);
    }

    [Fact]
    public void Signature_shape_fills_a_placeholder_that_has_none()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [1], F32(1));
        model.Write();
        var json = JsonNode.Parse(File.ReadAllText(model.JsonPath))!;
        json["signature"] = JsonNode.Parse("""
            {"inputs": {"x": {"name": "x:0", "dtype": "DT_FLOAT", "tensorShape": {"dim": [{"size": "-1"}, {"size": "3"}]}}},
             "outputs": {"y": {"name": "y:0"}}}
            """);
        File.WriteAllText(model.JsonPath, json.ToJsonString());
        var graph = model.Load();
        Assert.Equal([-1L, 3], graph.Inputs.Single().Shape!);
        Assert.Equal(["y"], graph.Outputs);
    }

    [Fact]
    public void Function_library_in_json_is_parsed_into_messages_and_survives_binary_round_trip()
    {
        using var model = new TinyModel();
        model.Weight("w", "float32", [1], F32(1));
        model.Write();
        var json = JsonNode.Parse(File.ReadAllText(model.JsonPath))!;
        json["modelTopology"]!["library"] = JsonNode.Parse("""
            {"function": [{"signature": {"name": "f", "inputArg": [{"name": "a", "type": "DT_FLOAT"}], "outputArg": [{"name": "b", "typeAttr": "T"}]},
                           "nodeDef": [{"name": "n", "op": "Identity", "input": ["a"]}], "ret": {"b": "n:output:0"}}],
             "gradient": [{"functionName": "f", "gradientFunc": "g"}]}
            """);
        File.WriteAllText(model.JsonPath, json.ToJsonString());
        var graph = model.Load();
        var function = Assert.Single(graph.Proto.Library.Function);
        Assert.Equal("f", function.Signature.Name);
        Assert.Equal("n:output:0", function.Ret["b"]);
        Assert.Equal("g", graph.Proto.Library.Gradient.Single().GradientFunc);

        var again = TfGraph.Parse(graph.ToBytes(), "roundtrip.pb");
        Assert.Equal(graph.Proto.Library, again.Proto.Library);
    }

    [Fact]
    public void Imported_graph_saved_as_binary_reloads_with_identical_constants()
    {
        var graph = TfGraph.Load(ModelJson("movenet-lightning"));
        var path = Path.Combine(Path.GetTempPath(), $"tfjs-roundtrip-{Guid.NewGuid():N}.pb");
        try
        {
            graph.Save(path);
            var reloaded = TfGraph.Load(path);
            Assert.Null(reloaded.Signature);
            var consts = graph.Nodes.Where(n => n.Op == "Const").Select(n => n.Name).ToList();
            Assert.Equal(consts, reloaded.Nodes.Where(n => n.Op == "Const").Select(n => n.Name));
            foreach (var name in consts)
            {
                var a = graph.GetConstant(name);
                var b = reloaded.GetConstant(name);
                Assert.Equal(a.Type, b.Type);
                Assert.Equal(a.Shape, b.Shape);
                Assert.True(a.Bytes.SequenceEqual(b.Bytes), name);
            }
            // Without the signature the sink rule finds the same single output.
            Assert.Equal(["Identity"], reloaded.Outputs);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static long Count(JsonNode weight) => weight["shape"]!.AsArray().Aggregate(1L, (n, d) => n * d!.GetValue<long>());

    /// <summary>The first manifest weight matching <paramref name="pick"/> and its byte offset, computed from the manifest alone.</summary>
    private static (JsonNode Weight, long Offset) FirstWeight(string modelJson, Func<JsonNode, bool> pick)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(modelJson))!["weightsManifest"]![0]!["weights"]!.AsArray();
        long offset = 0;
        foreach (var weight in manifest)
        {
            if (pick(weight!))
                return (weight!, offset);
            var stored = weight!["quantization"]?["dtype"]?.GetValue<string>() ?? weight["dtype"]!.GetValue<string>();
            offset += Count(weight) * (stored switch { "float16" => 2, "uint8" or "bool" => 1, "uint16" => 2, _ => 4 });
        }
        throw new InvalidOperationException("no such weight");
    }

    /// <summary>IEEE 754 binary16 to float, from the bit fields (independent of System.Half).</summary>
    private static float HalfBitsToFloat(ushort bits)
    {
        var sign = (bits >> 15) == 1 ? -1.0 : 1.0;
        var exponent = (bits >> 10) & 0x1F;
        var fraction = bits & 0x3FF;
        double value = exponent switch
        {
            0 => Math.ScaleB(fraction, -24),
            0x1F => fraction == 0 ? double.PositiveInfinity : double.NaN,
            _ => Math.ScaleB(1024 + fraction, exponent - 25),
        };
        return (float)(sign * value);
    }

    private static byte[] F32(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    private static byte[] I32(params int[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    private static byte[] U16(params ushort[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>
    /// A model.json with one Placeholder 'x', Consts for the weights and an Identity 'y', written with its shards into a
    /// temporary folder that is deleted afterwards.
    /// </summary>
    private sealed class TinyModel : IDisposable
    {
        private readonly List<(string Name, string DType, long[] Shape, byte[] Bytes, JsonObject? Quantization, bool InTopology, bool InManifest, long[]? TopologyShape, string? TopologyType)> _weights = [];

        public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"tfjs-{Guid.NewGuid():N}");

        public string JsonPath => Path.Combine(Directory, "model.json");

        /// <summary>Shard sizes; the last shard takes whatever remains.</summary>
        public int[] Shards { get; set; } = [];

        public void Weight(string name, string dtype, long[] shape, byte[] bytes, JsonObject? quantization = null,
            bool inTopology = true, bool inManifest = true, long[]? topologyShape = null, string? topologyType = null) =>
            _weights.Add((name, dtype, shape, bytes, quantization, inTopology, inManifest, topologyShape, topologyType));

        public void Write()
        {
            System.IO.Directory.CreateDirectory(Directory);
            var nodes = new JsonArray
            {
                new JsonObject { ["name"] = "x", ["op"] = "Placeholder", ["attr"] = new JsonObject { ["dtype"] = new JsonObject { ["type"] = "DT_FLOAT" } } },
                new JsonObject { ["name"] = "y", ["op"] = "Identity", ["input"] = new JsonArray("x"), ["attr"] = new JsonObject { ["T"] = new JsonObject { ["type"] = "DT_FLOAT" } } },
            };
            var entries = new JsonArray();
            var data = new List<byte>();
            foreach (var w in _weights)
            {
                if (w.InTopology)
                {
                    var type = w.TopologyType ?? (w.DType switch { "int32" => "DT_INT32", "bool" => "DT_BOOL", "string" => "DT_STRING", _ => "DT_FLOAT" });
                    var dims = new JsonArray((w.TopologyShape ?? w.Shape).Select(d => (JsonNode)new JsonObject { ["size"] = d.ToString() }).ToArray());
                    nodes.Add(new JsonObject
                    {
                        ["name"] = w.Name,
                        ["op"] = "Const",
                        ["attr"] = new JsonObject
                        {
                            ["dtype"] = new JsonObject { ["type"] = type },
                            ["value"] = new JsonObject { ["tensor"] = new JsonObject { ["dtype"] = type, ["tensorShape"] = new JsonObject { ["dim"] = dims } } },
                        },
                    });
                }
                if (!w.InManifest)
                    continue;
                var entry = new JsonObject { ["name"] = w.Name, ["shape"] = new JsonArray(w.Shape.Select(d => (JsonNode)d).ToArray()), ["dtype"] = w.DType };
                if (w.Quantization is not null)
                    entry["quantization"] = w.Quantization.DeepClone();
                entries.Add(entry);
                data.AddRange(w.Bytes);
            }
            var sizes = Shards.Length == 0 ? [data.Count] : Shards[..^1].Append(data.Count - Shards[..^1].Sum()).ToArray();
            var paths = new JsonArray();
            var start = 0;
            for (var i = 0; i < sizes.Length; i++)
            {
                var file = $"group1-shard{i + 1}of{sizes.Length}.bin";
                File.WriteAllBytes(Path.Combine(Directory, file), data.GetRange(start, sizes[i]).ToArray());
                paths.Add(file);
                start += sizes[i];
            }
            var model = new JsonObject
            {
                ["format"] = "graph-model",
                ["modelTopology"] = new JsonObject { ["node"] = nodes, ["library"] = new JsonObject(), ["versions"] = new JsonObject() },
                ["weightsManifest"] = new JsonArray(new JsonObject { ["paths"] = paths, ["weights"] = entries }),
            };
            File.WriteAllText(JsonPath, model.ToJsonString());
        }

        public TfGraph Load()
        {
            if (!File.Exists(JsonPath))
                Write();
            return TfGraph.Load(JsonPath);
        }

        /// <summary>Loads, expecting failure, and checks the message names model.json.</summary>
        public GraphFormatException LoadFails()
        {
            if (!File.Exists(JsonPath))
                Write();
            var error = Assert.Throws<GraphFormatException>(() => TfGraph.Load(JsonPath));
            Assert.Contains(JsonPath, error.Message);
            return error;
        }

        public void Dispose()
        {
            if (System.IO.Directory.Exists(Directory))
                System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
