using System.Text.Json.Nodes;
using TfPose.Runtime;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>
/// The contract every registered layer keeps: its config survives GetConfig → JSON → FromConfig (same config, same
/// outputs with the same weights), and its GraphDef export computes what the layer computes, run by the project's
/// graph runtime (GraphDef → ONNX → ONNX Runtime), an implementation independent of the TorchSharp forward pass.
/// <see cref="EveryRegisteredLayerHasACaseAndEveryLayerIsRegistered"/> fails for a layer type without cases here.
/// </summary>
public class LayerContractTests
{
    /// <summary>A layer built with non-default arguments, the input shape it runs on, and how it is called.</summary>
    public sealed record LayerCase(string Label, Func<Layer> Make, int[] InputShape, Func<Layer, KerasTensor, KerasTensor>? Apply = null)
    {
        public KerasTensor Call(Layer layer, KerasTensor x) => Apply is null ? layer.Call(x) : Apply(layer, x);

        public override string ToString() => Label;
    }

    private static readonly LayerCase[] Cases =
    [
        new("Dense tanh, he_uniform, constant bias, L2", () => new Dense(4, "tanh", kernelInitializer: Initializer.HeUniform(),
            biasInitializer: Initializer.Constant(0.25), kernelRegularizer: Regularizer.L2(0.01), name: "d"), [5]),
        new("Dense no bias, random_normal", () => new Dense(3, useBias: false, kernelInitializer: Initializer.RandomNormal(0.1, 0.3)), [6]),
        new("Conv2D 3x2 strides 2x1 same relu", () => new Conv2D(3, [3, 2], [2, 1], "same", "relu", biasInitializer: Initializer.Constant(0.1)), [7, 6, 2]),
        new("Conv2D dilated valid sigmoid no bias", () => new Conv2D(2, [3, 3], null, "valid", "sigmoid", useBias: false, dilationRate: [2, 1]), [8, 7, 3]),
        new("Conv2DTranspose 3x3 strides 2 same elu", () => new Conv2DTranspose(3, [3, 3], [2, 2], "same", "elu"), [4, 5, 2]),
        new("Conv2DTranspose 2x3 strides 2x1 valid no bias", () => new Conv2DTranspose(2, [2, 3], [2, 1], "valid", useBias: false), [3, 4, 2]),
        new("MaxPooling2D 3x3 strides 2 same", () => new MaxPooling2D([3, 3], [2, 2], "same"), [7, 6, 2]),
        new("AveragePooling2D 2x3 strides 1x2 same", () => new AveragePooling2D([2, 3], [1, 2], "same"), [5, 7, 2]),
        new("AveragePooling2D default valid", () => new AveragePooling2D(), [6, 4, 3]),
        new("BatchNormalization images, no center", () => new BatchNormalization(momentum: 0.9, epsilon: 0.01, center: false), [4, 3, 3]),
        new("BatchNormalization features, no scale", () => new BatchNormalization(epsilon: 0.1, scale: false), [5]),
        new("Concatenate channels of three", () => new Concatenate(), [3, 4, 2], (l, x) => l.Call(x, x, x)),
        new("Concatenate height", () => new Concatenate(axis: 1), [3, 4, 2], (l, x) => l.Call(x, x)),
        new("Add of three", () => new Add(), [3, 3, 2], (l, x) => l.Call(x, x, x)),
        new("ZeroPadding2D uneven", () => new ZeroPadding2D([1, 0, 2, 1]), [3, 3, 2]),
        new("Cropping2D uneven with open ends", () => new Cropping2D([1, 0, 0, 2]), [5, 5, 2]),
        new("Cropping2D all sides", () => new Cropping2D(1), [5, 4, 2]),
        new("UpSampling2D 2x3", () => new UpSampling2D([2, 3]), [2, 3, 2]),
        new("Activation softplus", () => new Activation("softplus"), [4]),
        new("Activation softmax on images", () => new Activation("softmax"), [2, 2, 3]),
        new("LeakyReLU 0.1", () => new LeakyReLU(0.1), [2, 3, 2]),
        new("ReLU", () => new ReLU(), [6]),
        new("ReLU max 6", () => new ReLU(6), [6]),
        new("ReLU max 0.5", () => new ReLU(0.5), [2, 2, 2]),
        new("Softmax", () => new Softmax(), [3, 3, 4]),
        new("Dropout 0.4", () => new Dropout(0.4), [6]),
        new("Flatten", () => new Flatten(), [2, 3, 2]),
        new("Reshape to images", () => new Reshape([4, 3, 1]), [2, 3, 2]),
        new("Reshape with -1", () => new Reshape([-1]), [2, 3, 2]),
    ];

    public static TheoryData<LayerCase> All() => [.. Cases];

    private static Model Wrap(LayerCase c, Layer layer, int seed)
    {
        var input = Keras.Input(c.InputShape);
        return new Model(input, c.Call(layer, input), seed: seed);
    }

    /// <summary>Weights away from their initial values (moving variance stays positive), so every weight matters.</summary>
    private static void Randomize(Layer layer, int seed)
    {
        var g = new TorchSharp.torch.Generator((ulong)seed);
        var values = layer.GetWeights();
        try
        {
            layer.SetWeights([.. values.Select(v => rand(v.shape, generator: g) + 0.5)]);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private static Tensor Input(LayerCase c, long batch, int seed) =>
        rand([batch, .. c.InputShape.Select(d => (long)d)], generator: new TorchSharp.torch.Generator((ulong)seed)) * 4 - 2;

    [Theory]
    [MemberData(nameof(All))]
    public void ConfigRoundTripsToTheSameConfigAndOutputs(LayerCase c)
    {
        var layer = c.Make();
        using var model = Wrap(c, layer, seed: 1);
        Randomize(layer, 2);
        layer.Trainable = false;
        var config = layer.GetConfig();
        var json = config.ToJsonString();
        Assert.Equal(layer.Name, config["name"]!.GetValue<string>());

        // Through text, as in a saved file.
        Assert.True(LayerRegistry.TryFromConfig(layer.KerasName, (JsonObject)JsonNode.Parse(json)!, out var copy));
        Assert.IsType(layer.GetType(), copy);
        Assert.Equal(layer.Name, copy!.Name);
        Assert.False(copy.Trainable);
        Assert.Equal(json, copy.GetConfig().ToJsonString());

        using var copyModel = Wrap(c, copy, seed: 99);
        var weights = layer.GetWeights();
        try
        {
            copy.SetWeights(weights);
        }
        finally
        {
            foreach (var w in weights) w.Dispose();
        }
        using var x = Input(c, 3, 5);
        using var want = model.PredictOnBatch(x);
        using var got = copyModel.PredictOnBatch(x);
        Assert.Equal(want.shape, got.shape);
        Assert.True(want.allclose(got, rtol: 0, atol: 0), $"{c}: outputs differ by {(want - got).abs().max().item<float>()} after FromConfig");
    }

    [Theory]
    [MemberData(nameof(All))]
    public void ExportedGraphComputesTheLayer(LayerCase c)
    {
        var layer = c.Make();
        using var model = Wrap(c, layer, seed: 3);
        Randomize(layer, 4);
        const int batch = 2;
        var path = Path.Combine(Path.GetTempPath(), $"layer-export-{Guid.NewGuid():N}.pb");
        try
        {
            model.ExportGraphDef(path, batchSize: layer.ExportNeedsFixedBatch ? batch : null);
            using var x = Input(c, batch, 6);
            using var want = model.PredictOnBatch(x);
            using var session = new GraphSession(path);
            using var feed = GraphTensor.FromArray(x.contiguous().data<float>().ToArray(), x.shape);
            using var results = session.Run(feed);
            Assert.Equal(want.shape, results[0].Shape);
            var expected = want.contiguous().data<float>().ToArray();
            var actual = results[0].ToArray<float>();
            var diff = expected.Zip(actual).Max(p => Math.Abs(p.First - p.Second));
            Assert.True(diff < 1e-4, $"{c}: graph runtime differs from TorchSharp by {diff}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void EveryRegisteredLayerHasACaseAndEveryLayerIsRegistered()
    {
        var cased = Cases.Select(c => c.Make().KerasName).ToHashSet(StringComparer.Ordinal);
        var registered = LayerRegistry.ClassNames.ToHashSet(StringComparer.Ordinal);
        var uncovered = registered.Except(cased).Order().ToList();
        Assert.True(uncovered.Count == 0, $"registered layer(s) without a case in {nameof(LayerContractTests)}: {string.Join(", ", uncovered)}");
        var unknown = cased.Except(registered).Order().ToList();
        Assert.True(unknown.Count == 0, $"cases for layer(s) that are not registered: {string.Join(", ", unknown)}");

        // Models are saved and exported whole by the walkers; an InputLayer is written as the model's input.
        var unregistered = typeof(Layer).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(Layer)) && !t.IsAbstract && !t.IsAssignableTo(typeof(Model)) && t != typeof(InputLayer))
            .Where(t => !LayerRegistry.LayerTypes.Contains(t))
            .Select(t => t.Name).Order().ToList();
        Assert.True(unregistered.Count == 0, $"layer class(es) not registered (implement IKerasLayer<T>): {string.Join(", ", unregistered)}");
    }

    /// <summary>Keras' defaults, as documented for keras.layers (absent keys): a config naming only what is required.</summary>
    [Fact]
    public void AbsentKeysTakeKerasDefaults()
    {
        var conv = Conv2D.FromConfig(new JsonObject { ["filters"] = 2, ["kernel_size"] = 3 });
        Assert.Equal([3, 3], conv.KernelSize);
        Assert.Equal([1, 1], conv.Strides);
        Assert.Equal([1, 1], conv.DilationRate);
        Assert.Equal("valid", conv.PaddingMode);
        Assert.Equal("linear", conv.Activation);
        Assert.True(conv.UseBias);
        Assert.True(conv.Trainable);
        Assert.Null(conv.KernelRegularizer);

        var bn = BatchNormalization.FromConfig(new JsonObject());
        Assert.Equal((0.99, 1e-3, true, true), (bn.Momentum, bn.Epsilon, bn.Center, bn.Scale));
        var pool = MaxPooling2D.FromConfig(new JsonObject { ["pool_size"] = 3 });
        Assert.Equal([3, 3], pool.PoolSize);
        Assert.Equal([3, 3], pool.Strides);              // strides None: the pool size
        Assert.Equal(0.3, LeakyReLU.FromConfig(new JsonObject()).Alpha);
        Assert.Equal([2, 2], UpSampling2D.FromConfig(new JsonObject()).Size);
        Assert.Equal([1, 1, 1, 1], ZeroPadding2D.FromConfig(new JsonObject()).Pad);
        Assert.Equal(-1, Concatenate.FromConfig(new JsonObject()).Axis);
    }

    /// <summary>A Conv2D config as Keras 3's get_config writes it (extra keys such as dtype and data_format are ignored).</summary>
    [Fact]
    public void KerasWrittenConfigsLoad()
    {
        var conv = Conv2D.FromConfig((JsonObject)JsonNode.Parse("""
            {"name": "conv2d_7", "trainable": false, "dtype": "float32", "filters": 16, "kernel_size": [5, 3], "strides": [2, 2],
             "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": false,
             "kernel_initializer": {"module": "keras.initializers", "class_name": "HeUniform", "config": {"seed": null}, "registered_name": null},
             "bias_initializer": {"module": "keras.initializers", "class_name": "Constant", "config": {"value": 0.0}, "registered_name": null},
             "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.0005}, "registered_name": null},
             "bias_regularizer": null, "activity_regularizer": null, "kernel_constraint": null, "bias_constraint": null}
            """)!);
        Assert.Equal(("conv2d_7", false, 16, "same", "relu", false), (conv.Name, conv.Trainable, conv.Filters, conv.PaddingMode, conv.Activation, conv.UseBias));
        Assert.Equal([5, 3], conv.KernelSize);
        Assert.Equal([2, 2], conv.Strides);
        Assert.Equal("he_uniform", conv.KernelInitializer.Describe());
        Assert.NotNull(conv.KernelRegularizer);
        // Keras 3 names LeakyReLU's slope negative_slope; Keras writes ZeroPadding2D's padding as pairs.
        Assert.Equal(0.2, LeakyReLU.FromConfig(new JsonObject { ["negative_slope"] = 0.2 }).Alpha);
        Assert.Equal([1, 2, 3, 4], ZeroPadding2D.FromConfig((JsonObject)JsonNode.Parse("""{"padding": [[1, 2], [3, 4]]}""")!).Pad);
        Assert.Equal([2, 2, 1, 1], Cropping2D.FromConfig((JsonObject)JsonNode.Parse("""{"cropping": [2, 1]}""")!).Crop);
    }

    [Fact]
    public void BadConfigListsEveryProblem()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dense.FromConfig((JsonObject)JsonNode.Parse("""
            {"units": 2.5, "use_bias": "yes", "kernel_initializer": {"class_name": "Nope"}, "activation": "relu"}
            """)!));
        Assert.StartsWith("Dense config:", ex.Message);
        Assert.Contains("'units'", ex.Message);
        Assert.Contains("'use_bias'", ex.Message);
        Assert.Contains("Nope", ex.Message);
        var missing = Assert.Throws<ArgumentException>(() => Conv2D.FromConfig(new JsonObject()));
        Assert.Contains("missing 'filters'", missing.Message);
        Assert.Contains("missing 'kernel_size'", missing.Message);
        // A value the constructor rejects is reported as the constructor words it.
        var rate = Assert.Throws<ArgumentException>(() => Dropout.FromConfig(new JsonObject { ["rate"] = 1.5 }));
        Assert.Contains("[0, 1)", rate.Message);
        Assert.Throws<ArgumentException>(() => UpSampling2D.FromConfig(new JsonObject { ["interpolation"] = "bilinear" }));

        // Keras arguments this implementation does not follow are refused, not ignored; Keras' own defaults pass.
        var unsupported = Assert.Throws<ArgumentException>(() => Conv2D.FromConfig((JsonObject)JsonNode.Parse("""
            {"filters": 1, "kernel_size": 1, "data_format": "channels_first", "groups": 2, "bias_constraint": {"class_name": "NonNeg"}}
            """)!));
        Assert.Contains("'data_format'", unsupported.Message);
        Assert.Contains("'groups'", unsupported.Message);
        Assert.Contains("'bias_constraint'", unsupported.Message);
        Assert.Null(ReLU.FromConfig((JsonObject)JsonNode.Parse("""{"max_value": null, "negative_slope": 0.0, "threshold": 0.0}""")!).MaxValue);
        Assert.Contains("'threshold'", Assert.Throws<ArgumentException>(() => ReLU.FromConfig(new JsonObject { ["threshold"] = 0.5 })).Message);
    }

    /// <summary>
    /// A config.json as the format has been written since tfpose-keras-model-1 (before layers owned their configs):
    /// it still loads, and saving the same model writes the same JSON, so files stay readable by older builds.
    /// </summary>
    [Fact]
    public void SavedModelFormatIsUnchanged()
    {
        const string written = """
            {"format": "tfpose-keras-model-1", "model": {"class_name": "Sequential", "name": "seq", "seed": 4, "trainable": true,
             "input_shape": [8, 8, 2], "layers": [
              {"class_name": "Conv2D", "name": "conv2d", "trainable": true, "config": {"filters": 4, "kernel_size": [3, 3],
               "strides": [1, 1], "padding": "valid", "dilation_rate": [1, 1], "activation": "softplus", "use_bias": true,
               "kernel_initializer": {"class_name": "GlorotUniform", "config": {}},
               "bias_initializer": {"class_name": "Constant", "config": {"value": 0}}, "kernel_regularizer": null}},
              {"class_name": "MaxPooling2D", "name": "max_pooling2d", "trainable": false, "config": {"pool_size": [2, 2], "strides": [1, 1], "padding": "same"}},
              {"class_name": "Flatten", "name": "flatten", "trainable": true, "config": {}},
              {"class_name": "Dense", "name": "dense", "trainable": true, "config": {"units": 3, "activation": "linear", "use_bias": true,
               "kernel_initializer": {"class_name": "GlorotUniform", "config": {}},
               "bias_initializer": {"class_name": "Constant", "config": {"value": 0}}, "kernel_regularizer": null}}]}}
            """;
        var dir = Path.Combine(Path.GetTempPath(), $"model-format-{Guid.NewGuid():N}");
        try
        {
            using var seq = new Sequential([new Conv2D(4, 3, inputShape: [8, 8, 2], activation: "softplus"),
                new MaxPooling2D([2, 2], [1, 1], "same") { Trainable = false }, new Flatten(), new Dense(3)], name: "seq", seed: 4);
            seq.Save(dir);
            var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")));
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(written), saved), saved!.ToJsonString());

            File.WriteAllText(Path.Combine(dir, "config.json"), written);
            using var loaded = Model.Load(dir);
            Assert.False(loaded.Layers[1].Trainable);
            using var x = rand(2, 8, 8, 2, generator: new TorchSharp.torch.Generator(8));
            using var want = seq.PredictOnBatch(x);
            using var got = loaded.PredictOnBatch(x);
            Assert.True(want.allclose(got, rtol: 0, atol: 0));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
