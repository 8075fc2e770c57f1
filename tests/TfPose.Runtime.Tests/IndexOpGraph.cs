using System.Runtime.InteropServices;
using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>
/// A small test graph for the shape and indexing ops whose inputs are either constants (so the op is evaluated
/// while shapes are inferred, where it folds) or placeholders fed the same values (so ONNX Runtime computes it).
/// </summary>
internal sealed class IndexOpGraph(bool fed)
{
    private readonly Dictionary<string, Array> _feeds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long[]> _feedShapes = new(StringComparer.Ordinal);

    public TfGraphBuilder B { get; } = new();

    public bool IsFed => fed;

    public static DataType TypeOf<T>() => typeof(T) == typeof(float) ? DataType.DtFloat
        : typeof(T) == typeof(double) ? DataType.DtDouble
        : typeof(T) == typeof(int) ? DataType.DtInt32
        : typeof(T) == typeof(long) ? DataType.DtInt64
        : typeof(T) == typeof(bool) ? DataType.DtBool
        : throw new ArgumentException(typeof(T).Name);

    /// <summary>An input that is a constant or a fed placeholder depending on the graph's mode.</summary>
    public string Input<T>(string name, T[] values, params long[] shape) where T : unmanaged =>
        fed ? Fed(name, values, shape) : Const(name, values, shape);

    public string Const<T>(string name, T[] values, params long[] shape) where T : unmanaged
    {
        shape = VectorUnlessOne(values, shape);
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        return B.ConstValue(name, new TensorValue(TypeOf<T>(), shape, bytes));
    }

    /// <summary>No shape given: a scalar for one value, else a vector.</summary>
    private static long[] VectorUnlessOne<T>(T[] values, long[] shape) => shape.Length == 0 && values.Length != 1 ? [values.Length] : shape;

    /// <summary>A placeholder of the values' shape (or <paramref name="declared"/>, -1 for unknown dims) fed with them.</summary>
    public string Fed<T>(string name, T[] values, long[] shape, long[]? declared = null) where T : unmanaged
    {
        shape = VectorUnlessOne(values, shape);
        B.PlaceholderOf(name, TypeOf<T>(), declared ?? shape);
        _feeds[name] = values;
        _feedShapes[name] = shape;
        return name;
    }

    /// <summary>A placeholder of unknown rank fed with the values.</summary>
    public string FedAnyRank<T>(string name, T[] values, long[] shape) where T : unmanaged
    {
        B.PlaceholderOf(name, TypeOf<T>(), null);
        _feeds[name] = values;
        _feedShapes[name] = shape;
        return name;
    }

    /// <summary>An op node with its T attribute (and any further type attributes) set.</summary>
    public NodeDef Op(string name, string op, DataType t, params string[] inputs)
    {
        var node = B.Raw(name, op, inputs);
        node.Attr["T"] = TfGraphBuilder.Type(t);
        return node;
    }

    public TfGraph Build() => B.Build();

    /// <summary>Whether shape inference worked out the tensor's value (so it is a constant in the ONNX graph).</summary>
    public bool Folded(string tensor) => ShapeInference.Infer(Build()).Value(TensorName.Parse(tensor)) is not null;

    public Results Run(params string[] fetches)
    {
        var tensors = new List<GraphTensor>();
        try
        {
            var feeds = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
            foreach (var (name, values) in _feeds)
            {
                var tensor = values switch
                {
                    float[] f => GraphTensor.FromArray(f, _feedShapes[name]),
                    int[] i => GraphTensor.FromArray(i, _feedShapes[name]),
                    long[] l => GraphTensor.FromArray(l, _feedShapes[name]),
                    double[] d => GraphTensor.FromArray(d, _feedShapes[name]),
                    bool[] b => GraphTensor.FromArray(b, _feedShapes[name]),
                    _ => throw new ArgumentException(values.GetType().Name),
                };
                tensors.Add(tensor);
                feeds[name] = tensor;
            }
            using var session = new GraphSession(Build());
            using var results = session.Run(feeds, fetches);
            return new Results(results.Select(r => (r.Shape, (Array)ToArray(r))).ToList());
        }
        finally
        {
            foreach (var t in tensors)
                t.Dispose();
        }
    }

    private static Array ToArray(GraphTensor t) => t.ElementType switch
    {
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float => t.ToArray<float>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Double => t.ToArray<double>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int32 => t.ToArray<int>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64 => t.ToArray<long>(),
        Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Bool => t.ToArray<bool>(),
        _ => throw new ArgumentException(t.ElementType.ToString()),
    };

    /// <summary>One run's outputs, copied out: shape and values of each fetch.</summary>
    public sealed class Results(List<(long[] Shape, Array Values)> outputs)
    {
        public long[] Shape(int i = 0) => outputs[i].Shape;

        /// <summary>Output <paramref name="i"/>'s values; fails if its element type is not <typeparamref name="T"/>.</summary>
        public T[] Values<T>(int i = 0) => outputs[i].Values is T[] v ? v
            : throw new InvalidCastException($"output {i} is {outputs[i].Values.GetType().GetElementType()!.Name}, not {typeof(T).Name}");
    }

    /// <summary>Runs one fetch and checks its shape and values.</summary>
    public void Check<T>(string fetch, long[] shape, T[] expected)
    {
        var r = Run(fetch);
        Assert.Equal(shape, r.Shape());
        Assert.Equal(expected, r.Values<T>());
    }
}
