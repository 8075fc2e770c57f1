using TfPose.Graph;
using TfPose.Graph.Formats;
using TfPose.Tests;
using Xunit.Abstractions;
using static TfPose.Runtime.Tests.TfliteOpTestKit;
using static TfPose.Runtime.Tests.TfliteQuantOpTests;

namespace TfPose.Runtime.Tests;

/// <summary>
/// A small full-integer (int8) network built here — QUANTIZE, convolution with per-channel weights and fused RELU6,
/// depthwise convolution, 1×1 convolution, residual ADD, average pool, RESHAPE, FULLY_CONNECTED, SOFTMAX, DEQUANTIZE —
/// against the outputs TensorFlow Lite's own interpreter computed for it (the independent engine). Those outputs are
/// stored below: they came from <c>shared/tools/tflite-reference/run.sh</c> (TensorFlow Lite 2.x WebAssembly,
/// @tensorflow/tfjs-tflite 0.0.1-alpha.10) on the model and input this test builds, written out by setting
/// TFPOSE_TFLITE_QUANT_EXPORT to a folder. The model's bytes are pinned by their SHA-256 so a change to the builder
/// cannot silently compare against the outputs of another model.
/// </summary>
public class TfliteQuantModelTests(ITestOutputHelper output)
{
    /// <summary>
    /// The network, int8 (<paramref name="quantized"/>) or float with the same (dequantized) weights. Both have a float
    /// input [1, size, size, 3] and outputs "probabilities" (float [1, 5]) and "features" (the residual sum: int8 or float).
    /// </summary>
    internal static TfliteModelBuilder Network(int size, int width, int blocks, bool quantized)
    {
        var b = new TfliteModelBuilder();
        var random = new Random(42);
        var seed = 100;
        int Act(string name, int[] shape, float scale, long zero) =>
            quantized ? b.Tensor(name, I8, shape, scale: [scale], zeroPoint: [zero]) : b.Tensor(name, F32, shape);

        // Weights: int8 levels with per-channel scales a / 127, a = √(3 / fan-in), so activations stay near unit size.
        (int Tensor, float[] Scales) Weights(string name, int[] shape, int dimension, int fanIn)
        {
            var channels = shape[dimension];
            var q = Levels(shape.Aggregate(1, (x, y) => x * y), seed++, -127, 127);
            var scales = Enumerable.Range(0, channels).Select(_ => (float)(Math.Sqrt(3.0 / fanIn) / 127 * (0.5 + random.NextDouble()))).ToArray();
            if (quantized)
                return (b.Const(name, I8, shape, Int8s(q), scales, new long[channels], dimension), scales);
            long inner = shape.Skip(dimension + 1).Aggregate(1, (x, y) => x * y);
            return (b.Floats(name, q.Select((v, i) => (float)((double)scales[(int)(i / inner % channels)] * v)).ToArray(), shape), scales);
        }
        int Bias(string name, int channels, float inScale, (int Tensor, float[] Scales) weights)
        {
            var q = Levels(channels, seed++, -200, 200);
            var scales = weights.Scales.Select(s => inScale * s).ToArray();
            return quantized
                ? b.Const(name, TfTypeInt32, [channels], Array.ConvertAll(q, v => (int)v), scales, new long[channels], 0)
                : b.Floats(name, q.Select((v, i) => (float)((double)scales[i] * v)).ToArray(), channels);
        }

        var input = b.Input("image", [1, size, size, 3]);
        var x = input;
        var inScale = 1 / 128f;
        if (quantized)
        {
            x = b.Tensor("image_int8", I8, [1, size, size, 3], scale: [inScale], zeroPoint: [0]);
            b.Operator("QUANTIZE", [input], [x]);
        }
        var half = size / 2;
        var stem = Act("stem", [1, half, half, width], 3 / 255f, -128);
        var w0 = Weights("stem_w", [width, 3, 3, 3], 0, 27);
        b.Operator("CONV_2D", [x, w0.Tensor, Bias("stem_b", width, inScale, w0)], [stem], "Conv2D", TfliteModelBuilder.Options((0, (byte)0), (1, 2), (2, 2), (3, (byte)3)));
        var current = stem;
        var currentScale = 3 / 255f;
        int features = stem;
        for (var block = 0; block < blocks; block++)
        {
            var dw = Act($"b{block}_dw", [1, half, half, width], 3 / 255f, -128);
            var wd = Weights($"b{block}_dw_w", [1, 3, 3, width], 3, 9);
            b.Operator("DEPTHWISE_CONV_2D", [current, wd.Tensor, Bias($"b{block}_dw_b", width, currentScale, wd)], [dw], "DepthwiseConv2D",
                TfliteModelBuilder.Options((0, (byte)0), (1, 1), (2, 1), (3, 1), (4, (byte)3)));
            var pw = Act($"b{block}_pw", [1, half, half, width], 4 / 128f, 0);
            var wp = Weights($"b{block}_pw_w", [width, 1, 1, width], 0, width);
            b.Operator("CONV_2D", [dw, wp.Tensor, Bias($"b{block}_pw_b", width, 3 / 255f, wp)], [pw], "Conv2D", TfliteModelBuilder.Options((0, (byte)0), (1, 1), (2, 1)));
            var sum = Act(block == blocks - 1 ? "features" : $"b{block}_sum", [1, half, half, width], 3 / 255f, -128);
            b.Operator("ADD", [current, pw], [sum], "Add", TfliteModelBuilder.Options((0, (byte)3)));
            current = features = sum;
            currentScale = 3 / 255f;
        }
        var pooled = Act("pooled", [1, 1, 1, width], currentScale, -128);
        b.Operator("AVERAGE_POOL_2D", [current], [pooled], "Pool2D", TfliteModelBuilder.Options((0, (byte)1), (1, half), (2, half), (3, half), (4, half)));
        var flat = Act("flat", [1, width], currentScale, -128);
        b.Operator("RESHAPE", [pooled, b.Ints("flat_shape", [1, width], 2)], [flat]);
        var logits = Act("logits", [1, 5], 8 / 128f, 0);
        var wf = Weights("fc_w", [5, width], 0, width);
        b.Operator("FULLY_CONNECTED", [flat, wf.Tensor, Bias("fc_b", 5, currentScale, wf)], [logits], "FullyConnected", TfliteModelBuilder.Options());
        var soft = Act(quantized ? "probabilities_int8" : "probabilities", [1, 5], 1 / 256f, -128);
        b.Operator("SOFTMAX", [logits], [soft], "Softmax", TfliteModelBuilder.Options((0, 1f)));
        if (quantized)
        {
            var probabilities = b.Tensor("probabilities", F32, [1, 5]);
            b.Operator("DEQUANTIZE", [soft], [probabilities]);
            soft = probabilities;
        }
        b.Output(soft);
        b.Output(features);
        return b;
    }

    private const sbyte TfTypeInt32 = TfliteModelBuilder.Int32;

    /// <summary>The input: a smooth pattern in [-1, 1] (not on quantization ties everywhere, but on some).</summary>
    public static float[] Image(int size) =>
        Enumerable.Range(0, size * size * 3).Select(i => (float)Math.Round(Math.Sin(i * 0.37) * Math.Cos(i * 0.011), 4)).ToArray();

    [Fact]
    public void Small_int8_network_matches_tensorflow_lite()
    {
        const int size = 8, width = 8;
        var model = Network(size, width, 1, quantized: true);
        var bytes = model.Build();
        if (Environment.GetEnvironmentVariable("TFPOSE_TFLITE_QUANT_EXPORT") is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "int8.tflite"), bytes);
            using var image = GraphTensor.FromArray(Image(size), 1, size, size, 3);
            NpyFile.Write(Path.Combine(folder, "input.npy"), image);
            // A larger pair, int8 and float with the same weights, for `tfpose bench graph`.
            File.WriteAllBytes(Path.Combine(folder, "bench-int8.tflite"), Network(224, 64, 8, quantized: true).Build());
            File.WriteAllBytes(Path.Combine(folder, "bench-float.tflite"), Network(224, 64, 8, quantized: false).Build());
        }
        output.WriteLine(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)));
        Assert.Equal(ModelSha256, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)));

        using var session = new GraphSession(TfliteGraphModel.Parse(bytes, "int8.tflite"));
        using var feed = GraphTensor.FromArray(Image(size), 1, size, size, 3);
        using var results = session.Run(new Dictionary<string, GraphTensor> { ["image"] = feed }, ["probabilities", "features"]);
        var probabilities = results[0].ToArray<float>();
        var features = results[1].ToArray<sbyte>();

        // Features: int8, within one step of TensorFlow Lite everywhere and equal on most.
        Assert.Equal(TfliteFeatures.Length, features.Length);
        var diffs = features.Select((v, i) => Math.Abs(v - TfliteFeatures[i])).ToArray();
        output.WriteLine($"features: {diffs.Count(d => d == 0)} of {diffs.Length} equal, {diffs.Count(d => d == 1)} one step off, max {diffs.Max()}");
        Assert.True(diffs.Max() <= 1, $"features differ from TensorFlow Lite by up to {diffs.Max()} steps");
        Assert.True(diffs.Count(d => d == 0) >= 0.9 * diffs.Length);
        // Probabilities: dequantized int8 softmax (steps of 1/256).
        for (var i = 0; i < probabilities.Length; i++)
            Assert.True(Math.Abs(probabilities[i] - TfliteProbabilities[i]) <= 1 / 256f + 1e-6, $"probability {i}: {probabilities[i]} vs {TfliteProbabilities[i]}");
    }

    private const string ModelSha256 = "A6B964695C66D5C94C57BB3790CDFFD6120E507562EAE12F1A9A68DC898B805D";

    private static readonly sbyte[] TfliteFeatures =
    [
        19, -128, -128, -128, -128, -109, -76, -98, -123, -128, -128, -43, -67, -89, -128, -120,
        -128, -128, -98, -115, -128, -84, -128, -123, -37, -128, -123, -94, -128, -117, -107, -69,
        -60, -128, -128, -123, -109, -109, -95, -127, -76, -128, -128, -62, -68, -123, -111, -93,
        -128, -128, -99, -104, -128, -62, -128, -117, -99, -128, -123, -128, -128, -120, -113, -120,
        -120, -128, -128, -117, -120, -116, -123, -123, -84, -128, -128, -109, -112, -123, -97, -111,
        -128, -127, -128, -120, -123, -117, -128, -125, -128, -128, -123, -124, -128, -123, -126, -128,
        -106, -128, -128, -123, -125, -125, -114, -128, -125, -125, -123, -123, -110, -116, -128, -128,
        -128, -121, -116, -125, -128, -128, -123, -124, -107, -128, -128, -121, -128, -125, -123, -127,
    ];

    private static readonly float[] TfliteProbabilities = [0.2265625f, 0.15625f, 0.2265625f, 0.2265625f, 0.1640625f];
}
