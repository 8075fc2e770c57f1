using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NumSharp;
using OpenCvSharp;

namespace TfPose.Runtime;

/// <summary>Name, element type and TensorFlow-layout shape (-1 = any size) of a graph input or output.</summary>
public sealed record GraphTensorInfo(string Name, TensorElementType ElementType, long[]? Shape);

/// <summary>
/// A dense tensor in TensorFlow layout, fed to or returned by <see cref="GraphSession.Run"/>. Wraps an
/// ONNX Runtime <see cref="OrtValue"/>; tensors made from arrays, Mats or NDArrays share their memory
/// (no copy), so the source must outlive the tensor.
/// </summary>
public sealed class GraphTensor : IDisposable
{
    private readonly object? _keepAlive;
    private bool _disposed;

    internal GraphTensor(OrtValue value, object? keepAlive = null)
    {
        Value = value;
        _keepAlive = keepAlive;
        var info = value.GetTensorTypeAndShape();
        Shape = info.Shape;
        ElementType = info.ElementDataType;
    }

    public long[] Shape { get; }

    public TensorElementType ElementType { get; }

    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    internal OrtValue Value { get; }

    /// <summary>Wraps a managed array without copying; the array is pinned while the tensor lives.</summary>
    public static GraphTensor FromArray<T>(T[] data, params long[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (shape.Any(d => d < 0) || count != data.LongLength)
            throw new ArgumentException($"Shape [{string.Join(",", shape)}] holds {count} elements but the array has {data.LongLength}.");
        return new GraphTensor(OrtValue.CreateTensorValueFromMemory(data, shape), data);
    }

    /// <summary>
    /// Wraps a continuous float Mat (H×W×C, e.g. CV_32FC3) as a [1,H,W,C] tensor without copying.
    /// Convert 8-bit images first (<c>mat.ConvertTo(f, MatType.CV_32FC3)</c>).
    /// </summary>
    public static GraphTensor FromMat(Mat mat)
    {
        ArgumentNullException.ThrowIfNull(mat);
        if (mat.Empty())
            throw new ArgumentException("The Mat is empty.");
        if (mat.Depth() != MatType.CV_32F)
            throw new ArgumentException($"A {mat.Type()} Mat cannot be fed as float; convert it with ConvertTo(..., MatType.CV_32FC{mat.Channels()}).");
        if (!mat.IsContinuous())
            throw new ArgumentException("The Mat is not continuous (a ROI?); Clone() it first.");
        long[] shape = [1, mat.Rows, mat.Cols, mat.Channels()];
        var bytes = mat.Rows * (long)mat.Cols * mat.Channels() * sizeof(float);
        var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shape, mat.Data, bytes);
        return new GraphTensor(value, mat);
    }

    /// <summary>Wraps a contiguous NumSharp array without copying.</summary>
    public static unsafe GraphTensor FromNDArray(NDArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (!array.Shape.IsContiguous)
            array = array.copy();
        var type = array.typecode switch
        {
            NPTypeCode.Single => TensorElementType.Float,
            NPTypeCode.Double => TensorElementType.Double,
            NPTypeCode.Int32 => TensorElementType.Int32,
            NPTypeCode.Int64 => TensorElementType.Int64,
            NPTypeCode.Byte => TensorElementType.UInt8,
            NPTypeCode.Boolean => TensorElementType.Bool,
            _ => throw new ArgumentException($"NDArray of {array.dtype.Name} cannot be fed."),
        };
        var shape = array.shape.Select(d => (long)d).ToArray();
        var value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape,
            (IntPtr)array.Unsafe.Address, array.size * array.dtypesize);
        return new GraphTensor(value, array);
    }

    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Value.GetTensorDataAsSpan<T>();
    }

    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>A copy as a NumSharp array with the same shape.</summary>
    public NDArray ToNDArray()
    {
        var shape = new NumSharp.Shape(Shape.Select(d => (int)d).ToArray());
        return ElementType switch
        {
            TensorElementType.Float => new NDArray(ToArray<float>(), shape),
            TensorElementType.Int32 => new NDArray(ToArray<int>(), shape),
            TensorElementType.Int64 => new NDArray(ToArray<long>(), shape),
            TensorElementType.Double => new NDArray(ToArray<double>(), shape),
            _ => throw new NotSupportedException($"{ElementType} tensors cannot be converted to NDArray."),
        };
    }

    /// <summary>A copy of batch item <paramref name="index"/> of a [N,H,W,C] float tensor as an H×W×C Mat.</summary>
    public Mat ToMat(int index = 0)
    {
        if (Shape.Length != 4 || ElementType != TensorElementType.Float)
            throw new InvalidOperationException($"Only [N,H,W,C] float tensors convert to Mat; this one is {ElementType} [{string.Join(",", Shape)}].");
        int h = (int)Shape[1], w = (int)Shape[2], c = (int)Shape[3];
        var mat = new Mat(h, w, MatType.CV_32FC(c));
        var size = h * w * c;
        var source = AsSpan<float>().Slice(index * size, size);
        unsafe
        {
            source.CopyTo(new Span<float>((void*)mat.Data, size));
        }
        return mat;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Value.Dispose();
        GC.KeepAlive(_keepAlive);
    }
}

/// <summary>The fetched tensors of one run, by position (fetch order) or TensorFlow name. Dispose to free them.</summary>
public sealed class GraphResults : IReadOnlyList<GraphTensor>, IDisposable
{
    private readonly IReadOnlyList<GraphTensor> _tensors;
    private readonly IReadOnlyList<string> _names;

    internal GraphResults(IReadOnlyList<GraphTensor> tensors, IReadOnlyList<string> names)
    {
        _tensors = tensors;
        _names = names;
    }

    public IReadOnlyList<string> Names => _names;

    public GraphTensor this[int index] => _tensors[index];

    public GraphTensor this[string name]
    {
        get
        {
            var key = GraphSession.NormalizeName(name);
            for (var i = 0; i < _names.Count; i++)
            {
                if (_names[i] == key)
                    return _tensors[i];
            }
            throw new KeyNotFoundException($"'{name}' was not fetched; fetched: {string.Join(", ", _names)}.");
        }
    }

    public int Count => _tensors.Count;

    public IEnumerator<GraphTensor> GetEnumerator() => _tensors.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        foreach (var tensor in _tensors)
            tensor.Dispose();
    }
}
