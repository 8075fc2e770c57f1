using System.Buffers.Binary;
using TfPose.Graph.Formats;
using TfPose.Tests;

namespace TfPose.Graph.Tests;

/// <summary>
/// Seeded mutations of real and small .tflite files: every one either loads or fails with a GraphFormatException naming
/// the file; never another exception, a hang or an allocation the file's size cannot justify.
/// </summary>
public class TfliteFuzzTests
{
    /// <summary>TFPOSE_FUZZ_SCALE=N runs N times as many mutations (each with its own seed) for a longer campaign.</summary>
    private static int Scale => int.TryParse(Environment.GetEnvironmentVariable("TFPOSE_FUZZ_SCALE"), out var n) && n > 1 ? n : 1;

    private static readonly uint[] Interesting = [0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF0, 0x3FFFFFFF];

    /// <summary>
    /// Positions are drawn from the whole file and, more often, from the flatbuffer's tables (the given ranges), where
    /// corruption bites.
    /// </summary>
    private static byte[] Mutate(byte[] original, Random random, params (int Start, int End)[] structure)
    {
        var bytes = (byte[])original.Clone();
        var edits = random.Next(1, 6);
        for (var e = 0; e < edits; e++)
        {
            var (start, end) = random.Next(4) == 0 ? (0, bytes.Length) : structure[random.Next(structure.Length)];
            var at = start + random.Next(Math.Max(1, Math.Min(end, bytes.Length) - start - 4));
            switch (random.Next(6))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:
                    if (at + 4 <= bytes.Length)
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), Interesting[random.Next(Interesting.Length)]);
                    break;
                case 3:
                    if (at + 4 <= bytes.Length)
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)random.Next(bytes.Length * 2));
                    break;
                case 4:
                    var from = random.Next(Math.Max(1, bytes.Length - 4));
                    if (at + 4 <= bytes.Length && from + 4 <= bytes.Length)
                        bytes.AsSpan(from, 4).CopyTo(bytes.AsSpan(at));
                    break;
                default:
                    if (random.Next(4) == 0)
                        return bytes[..random.Next(bytes.Length)];
                    break;
            }
        }
        return bytes;
    }

    /// <summary>True when the bytes loaded, false when they failed as they should.</summary>
    private static bool LoadsOrFailsCleanly(byte[] bytes, string what)
    {
        try
        {
            var graph = TfliteGraphModel.Parse(bytes, "fuzz.tflite");
            Assert.NotEmpty(graph.Nodes);
            GraphInspection.Inspect(graph);
            return true;
        }
        catch (GraphFormatException ex)
        {
            Assert.StartsWith("fuzz.tflite: ", ex.Message);
            return false;
        }
        catch (Exception ex)
        {
            Assert.Fail($"{what}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            return false;
        }
    }

    [Fact]
    public void Mutations_of_the_shared_model_load_or_fail_cleanly()
    {
        var original = File.ReadAllBytes(SharedData.Path("data", "tflite-models", "pose-landmark-lite", "model.tflite"));
        // In this file the root table and buffer list take the first ~6 KB, the weights' data follows, and the subgraph's
        // tensors and operators take the last ~90 KB.
        (int, int)[] structure = [(0, 6 * 1024), (original.Length - 96 * 1024, original.Length)];
        var failures = 0;
        for (var i = 0; i < 120 * Scale; i++)
        {
            var random = new Random(7_000 + i);
            if (!LoadsOrFailsCleanly(Mutate(original, random, structure), $"shared model, seed {7_000 + i}"))
                failures++;
        }
        Assert.True(failures > 30 * Scale, $"only {failures} of {120 * Scale} mutations failed to load");
    }

    [Fact]
    public void Mutations_of_a_small_model_load_or_fail_cleanly()
    {
        var b = TfliteReaderTests.Small();
        b.Signature("serving_default", [("x", 0)], [("y", 3)]);
        var original = b.Build();
        var failures = 0;
        for (var i = 0; i < 4000 * Scale; i++)
        {
            var random = new Random(11_000 + i);
            if (!LoadsOrFailsCleanly(Mutate(original, random, (0, original.Length)), $"small model, seed {11_000 + i}"))
                failures++;
        }
        // Most mutations of a file this small hit its structure; a fuzzer that never fails is not fuzzing.
        Assert.True(failures > 1000 * Scale, $"only {failures} of {4000 * Scale} mutations failed to load");
    }

    /// <summary>A model using many option tables, a multi-output op, a custom op, quantization and a signature.</summary>
    private static byte[] Rich()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 6, 6, 2], signature: [-1, 6, 6, 2]);
        var w = b.Halves("w16", Enumerable.Range(0, 4 * 3 * 3 * 2).Select(i => i / 10f).ToArray(), 4, 3, 3, 2);
        var wf = b.Tensor("w", TfliteModelBuilder.Float32, [4, 3, 3, 2]);
        b.Operator("DEQUANTIZE", [w], [wf]);
        var conv = b.Tensor("conv", TfliteModelBuilder.Float32, [1, 6, 6, 4]);
        b.Operator("CONV_2D", [x, wf, b.Floats("bias", [1, 2, 3, 4], 4)], [conv], "Conv2D", TfliteModelBuilder.Options((1, 1), (2, 1), (3, (byte)3)));
        var dw = b.Tensor("dw", TfliteModelBuilder.Float32, [1, 3, 3, 8]);
        b.Operator("DEPTHWISE_CONV_2D", [conv, b.Floats("dwk", new float[2 * 2 * 8], 1, 2, 2, 8), -1], [dw], "DepthwiseConv2D",
            TfliteModelBuilder.Options((0, (byte)1), (1, 2), (2, 2), (3, 2), (4, (byte)1)));
        var flat = b.Tensor("flat", TfliteModelBuilder.Float32, [1, 72]);
        b.Operator("RESHAPE", [dw], [flat], "Reshape", TfliteModelBuilder.Options((0, new[] { 1, 72 })));
        var fc = b.Tensor("fc", TfliteModelBuilder.Int8, [1, 6], scale: [0.1f], zeroPoint: [2]);
        b.Operator("FULLY_CONNECTED", [flat, b.Const("fcw", TfliteModelBuilder.Int8, [6, 72], new sbyte[6 * 72], [0.5f, 1, 1, 1, 1, 1], dimension: 0), -1], [fc],
            "FullyConnected", TfliteModelBuilder.Options((0, (byte)1), (2, true)));
        var fcf = b.Tensor("fcf", TfliteModelBuilder.Float32, [1, 6]);
        b.Operator("DEQUANTIZE", [fc], [fcf]);
        var s0 = b.Tensor("s0", TfliteModelBuilder.Float32, [1, 3]);
        var s1 = b.Tensor("s1", TfliteModelBuilder.Float32, [1, 3]);
        b.Operator("SPLIT", [b.Ints("axis", [1]), fcf], [s0, s1], "Split", TfliteModelBuilder.Options((0, 2)));
        var cat = b.Tensor("cat", TfliteModelBuilder.Float32, [1, 6]);
        b.Operator("CONCATENATION", [s1, s0], [cat], "Concatenation", TfliteModelBuilder.Options((0, 1), (1, (byte)2)));
        var sl = b.Tensor("sl", TfliteModelBuilder.Float32, [4]);
        b.Operator("STRIDED_SLICE", [cat, b.Ints("b", [0, 1], 2), b.Ints("e", [1, 5], 2), b.Ints("s", [1, 1], 2)], [sl], "StridedSlice",
            TfliteModelBuilder.Options((4, 1)));
        var sm = b.Tensor("sm", TfliteModelBuilder.Float32, [4]);
        b.Operator("SOFTMAX", [sl], [sm], "Softmax", TfliteModelBuilder.Options((0, 1f)));
        var custom = b.Tensor("custom", TfliteModelBuilder.Float32, [4]);
        b.Custom("MyOp", [sm], [custom]);
        b.Output(custom);
        b.Output(sm);
        b.Signature("serving_default", [("input", x)], [("probabilities", sm)]);
        b.Metadata("min_runtime_version", "2.3.0\0"u8.ToArray());
        return b.Build();
    }

    [Fact]
    public void Mutations_of_a_model_with_many_options_load_or_fail_cleanly()
    {
        var original = Rich();
        Assert.NotNull(TfliteGraphModel.Parse(original).Tflite);
        var failures = 0;
        for (var i = 0; i < 3000 * Scale; i++)
        {
            if (!LoadsOrFailsCleanly(Mutate(original, new Random(23_000 + i), (0, original.Length)), $"rich model, seed {23_000 + i}"))
                failures++;
        }
        Assert.True(failures > 500 * Scale, $"only {failures} of {3000 * Scale} mutations failed to load");
    }

    [Fact]
    public void Every_truncation_of_a_small_model_fails_cleanly()
    {
        var original = TfliteReaderTests.Small().Build();
        for (var length = 0; length < original.Length; length++)
        {
            try
            {
                TfliteGraphModel.Parse(original[..length], "cut.tflite");
                // A cut that only drops trailing padding still holds the whole model.
                Assert.True(original.AsSpan(length).IndexOfAnyExcept((byte)0) < 0, $"a {length}-byte prefix loaded");
            }
            catch (GraphFormatException ex)
            {
                Assert.StartsWith("cut.tflite: ", ex.Message);
            }
        }
    }
}
