using System.Reflection;
using TfPose.Graph;
using TfPose.Graph.Formats;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>Marks a test that runs the named TensorFlow Lite builtins alone (in a .tflite built by the test) against values worked out by hand.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class TfliteOpTestAttribute(params string[] builtins) : Attribute
{
    public IReadOnlyList<string> Builtins { get; } = builtins;
}

/// <summary>Running one-operator .tflite models built with <see cref="TfliteModelBuilder"/>.</summary>
internal static class TfliteOpTestKit
{
    public const sbyte F32 = TfliteModelBuilder.Float32, I32 = TfliteModelBuilder.Int32, I64 = TfliteModelBuilder.Int64, Bool = TfliteModelBuilder.Bool;

    /// <summary>Loads the model as TfPose does from a file and checks no operator was left unmapped.</summary>
    public static TfGraph Load(TfliteModelBuilder b)
    {
        var graph = TfliteGraphModel.Parse(b.Build(), "op-test.tflite");
        Assert.DoesNotContain(graph.Nodes, n => n.Op.StartsWith("tflite:", StringComparison.Ordinal));
        return graph;
    }

    /// <summary>Runs the model and copies out the named outputs.</summary>
    public static List<(Array Values, long[] Shape)> RunAll(TfliteModelBuilder b, string[] fetches, params (string Name, GraphTensor Tensor)[] feeds)
    {
        try
        {
            using var session = new GraphSession(Load(b));
            using var results = session.Run(feeds.ToDictionary(f => f.Name, f => f.Tensor), fetches);
            return [.. results.Select(r => (Copy(r), r.Shape))];
        }
        finally
        {
            foreach (var (_, tensor) in feeds)
                tensor.Dispose();
        }
    }

    private static Array Copy(GraphTensor t) => t.ElementType switch
    {
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float => t.ToArray<float>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int32 => t.ToArray<int>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64 => t.ToArray<long>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Bool => t.ToArray<bool>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16 => Array.ConvertAll(t.ToArray<Half>(), h => (float)h),
        var other => throw new NotSupportedException(other.ToString()),
    };

    public static (T[] Values, long[] Shape) Run<T>(TfliteModelBuilder b, string fetch, params (string Name, GraphTensor Tensor)[] feeds)
    {
        var (values, shape) = RunAll(b, [fetch], feeds)[0];
        return ((T[])values, shape);
    }

    public static (string, GraphTensor) Feed<T>(string name, T[] values, params long[] shape) where T : unmanaged =>
        (name, GraphTensor.FromArray(values, shape));

    /// <summary>Deterministic test values in about [-2, 2), varied enough that a wrong index shows.</summary>
    public static float[] Values(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)Math.Round(random.NextDouble() * 4 - 2, 3)).ToArray();
    }

    public static void Close(IReadOnlyList<double> expected, float[] actual, double tolerance = 1e-5, string what = "") =>
        OpTestKit.Close(expected, actual, tolerance, tolerance, what);

    public static void Close(float[] expected, float[] actual, double tolerance = 1e-5, string what = "") =>
        Close(Array.ConvertAll(expected, v => (double)v), actual, tolerance, what);

    /// <summary>Every builtin a [TfliteOpTest] names.</summary>
    public static HashSet<string> Tested() => typeof(TfliteOpTestKit).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance))
        .SelectMany(m => m.GetCustomAttributes<TfliteOpTestAttribute>())
        .SelectMany(a => a.Builtins)
        .ToHashSet(StringComparer.Ordinal);
}

public class TfliteOpCoverageTests
{
    [Fact]
    public void Every_mapped_builtin_has_a_single_op_test()
    {
        var tested = TfliteOpTestKit.Tested();
        var untested = TfliteGraphModel.SupportedBuiltins.Where(op => !tested.Contains(op)).Order(StringComparer.Ordinal).ToList();
        Assert.True(untested.Count == 0, $"{untested.Count} mapped builtin(s) have no [TfliteOpTest]: {string.Join(", ", untested)}");
        var unknown = tested.Where(op => !TfliteGraphModel.SupportedBuiltins.Contains(op)).ToList();
        Assert.True(unknown.Count == 0, $"[TfliteOpTest] names builtins the importer does not map: {string.Join(", ", unknown)}");
    }
}
