using TfPose.Graph;
using TfPose.Graph.Translation;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>Running small graphs with typed feeds, and comparing against reference values, for the single-op tests.</summary>
internal static class OpTestKit
{
    public static (string Name, GraphTensor Tensor) Feed<T>(string name, T[] data, params long[] shape) where T : unmanaged =>
        (name, GraphTensor.FromArray(data, shape));

    /// <summary>Runs the graph once and copies one fetched tensor out.</summary>
    public static (T[] Values, long[] Shape) Run<T>(TfGraphBuilder b, string fetch, params (string Name, GraphTensor Tensor)[] feeds) where T : unmanaged
    {
        try
        {
            using var session = new GraphSession(b.Build());
            using var result = session.Run(feeds.ToDictionary(f => f.Name, f => f.Tensor), [fetch]);
            return (result[0].ToArray<T>(), result[0].Shape);
        }
        finally
        {
            foreach (var (_, tensor) in feeds)
                tensor.Dispose();
        }
    }

    /// <summary>The value shape inference worked out for a tensor (the constant-folded path), or null.</summary>
    public static TensorValue? Folded(TfGraphBuilder b, string tensor) => ShapeInference.Infer(b.Build()).Value(TensorName.Parse(tensor));

    /// <summary>The folded value of an integer tensor; fails when shape inference left it unknown.</summary>
    public static long[] FoldedInts(TfGraphBuilder b, string tensor)
    {
        var value = Folded(b, tensor);
        Assert.True(value is not null, $"{tensor} was not folded");
        return value.ToInt64Array();
    }

    public static bool[] FoldedBools(TfGraphBuilder b, string tensor)
    {
        var value = Folded(b, tensor);
        Assert.True(value is not null, $"{tensor} was not folded");
        Assert.Equal(TfPose.Graph.Proto.DataType.DtBool, value.Type);
        return value.Span<bool>().ToArray();
    }

    public static long[]? InferredShape(TfGraphBuilder b, string tensor) => ShapeInference.Infer(b.Build()).Shape(TensorName.Parse(tensor));

    /// <summary>How many ONNX nodes of an op type the translation of the graph has (to check that layouts were kept).</summary>
    public static int OnnxNodes(TfGraphBuilder b, string fetch, string opType)
    {
        var model = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(b.Build(), new TranslationOptions { Outputs = [fetch] }).OnnxModel);
        return model.Graph.Node.Count(n => n.OpType == opType);
    }

    /// <summary>Each value within <paramref name="abs"/> + <paramref name="rel"/>·|expected|; NaN must meet NaN, infinities their own sign.</summary>
    public static void Close(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double rel = 2e-6, double abs = 1e-6, string what = "")
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var a = actual[i];
            var ok = double.IsNaN(e) ? float.IsNaN(a) : double.IsInfinity(e) ? a == e : Math.Abs(a - e) <= abs + rel * Math.Abs(e);
            Assert.True(ok, $"{what}[{i}]: got {a:R}, expected {e:R}");
        }
    }

    /// <summary>Flat index of <paramref name="index"/> into <paramref name="shape"/> broadcast (NumPy rules) to an output of rank index.Length.</summary>
    public static int Broadcast(int[] index, long[] shape)
    {
        var lead = index.Length - shape.Length;
        var offset = 0;
        for (var d = 0; d < shape.Length; d++)
            offset = offset * (int)shape[d] + (shape[d] == 1 ? 0 : index[d + lead]);
        return offset;
    }

    /// <summary>Every multi-index of a shape, in row-major order.</summary>
    public static IEnumerable<int[]> Indices(long[] shape)
    {
        var count = shape.Aggregate(1L, (p, d) => p * d);
        var index = new int[shape.Length];
        for (long i = 0; i < count; i++)
        {
            yield return (int[])index.Clone();
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d])
                    break;
                index[d] = 0;
            }
        }
    }

    /// <summary>A binary op applied with NumPy broadcasting, for expected values.</summary>
    public static TOut[] Broadcast2<TA, TB, TOut>(TA[] a, long[] sa, TB[] b, long[] sb, Func<TA, TB, TOut> op)
    {
        var shape = BroadcastShape(sa, sb);
        return Indices(shape).Select(i => op(a[Broadcast(i, sa)], b[Broadcast(i, sb)])).ToArray();
    }

    public static long[] BroadcastShape(long[] a, long[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        return Enumerable.Range(0, rank).Select(i =>
        {
            var da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            var db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            return Math.Max(da, db);
        }).ToArray();
    }

    /// <summary>erf by its Maclaurin series in double (exact to ~1e-10 for |x| ≤ 4), since .NET has no erf.</summary>
    public static double Erf(double x)
    {
        double sum = 0, term = x;
        for (var n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
