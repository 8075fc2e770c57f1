using System.Runtime.InteropServices;
using Google.Protobuf;
using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>
/// A dense tensor value held in memory as little-endian bytes: a decoded <c>Const</c> node, or a
/// value computed while folding shapes. Immutable once built.
/// </summary>
public sealed class TensorValue
{
    /// <summary>Upper bound on the elements one constant may declare; checked before anything is allocated.</summary>
    public const long MaxElements = 1L << 28;

    private readonly byte[] _bytes;

    public TensorValue(DataType type, long[] shape, byte[] bytes)
    {
        Type = DataTypes.BaseType(type);
        Shape = shape;
        var expected = ElementCount(shape) * DataTypes.SizeOf(Type);
        if (bytes.LongLength != expected)
            throw new ArgumentException($"{bytes.Length} bytes do not hold a {DataTypes.Name(Type)} tensor of shape {ShapeText(shape)}.");
        _bytes = bytes;
    }

    public DataType Type { get; }

    public long[] Shape { get; }

    public int Rank => Shape.Length;

    public long Count => ElementCount(Shape);

    public ReadOnlySpan<byte> Bytes => _bytes;

    public ReadOnlySpan<T> Span<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(_bytes);

    public static TensorValue FromArray<T>(DataType type, long[] shape, ReadOnlySpan<T> values) where T : unmanaged =>
        new(type, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static TensorValue Scalar(int value) => FromArray(DataType.DtInt32, [], [value]);

    /// <summary>Integer contents widened to long (int32, int64, or float holding integers), for shape arithmetic.</summary>
    public long[] ToInt64Array() => Type switch
    {
        DataType.DtInt32 => Array.ConvertAll(Span<int>().ToArray(), v => (long)v),
        DataType.DtInt64 => Span<long>().ToArray(),
        DataType.DtUint8 => Array.ConvertAll(_bytes, v => (long)v),
        DataType.DtInt8 => Array.ConvertAll(Span<sbyte>().ToArray(), v => (long)v),
        DataType.DtInt16 => Array.ConvertAll(Span<short>().ToArray(), v => (long)v),
        DataType.DtUint16 => Array.ConvertAll(Span<ushort>().ToArray(), v => (long)v),
        _ => throw new NotSupportedException($"A {DataTypes.Name(Type)} tensor is not an integer tensor."),
    };

    public float[] ToFloatArray() => Type switch
    {
        DataType.DtFloat => Span<float>().ToArray(),
        DataType.DtDouble => Array.ConvertAll(Span<double>().ToArray(), v => (float)v),
        DataType.DtInt32 => Array.ConvertAll(Span<int>().ToArray(), v => (float)v),
        DataType.DtInt64 => Array.ConvertAll(Span<long>().ToArray(), v => (float)v),
        _ => throw new NotSupportedException($"A {DataTypes.Name(Type)} tensor cannot be read as float."),
    };

    public static long ElementCount(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"Shape {ShapeText(shape)} is not fully known.");
            n = checked(n * d);
        }
        return n;
    }

    public static string ShapeText(ReadOnlySpan<long> shape) =>
        "[" + string.Join(",", shape.ToArray().Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    /// <summary>
    /// Decodes a TensorProto as TensorFlow does: raw <c>tensor_content</c>, or the typed value list where a
    /// shorter list is padded with its last element. Sizes are validated before any allocation.
    /// </summary>
    public static TensorValue FromProto(TensorProto proto, string where)
    {
        var type = DataTypes.BaseType(proto.Dtype);
        var size = DataTypes.SizeOf(type);
        if (size == 0)
            throw new NotSupportedException($"{where}: {DataTypes.Name(type)} constants are not supported.");
        var dims = proto.TensorShape?.Dim ?? [];
        var shape = new long[dims.Count];
        long count = 1;
        for (var i = 0; i < shape.Length; i++)
        {
            shape[i] = dims[i].Size;
            if (shape[i] < 0)
                throw new InvalidDataException($"{where}: constant has a negative dimension {shape[i]}.");
            if (shape[i] > 0 && count > MaxElements / shape[i])
                throw new InvalidDataException($"{where}: constant declares shape {ShapeText(shape.AsSpan(0, i + 1))}…, more than {MaxElements:N0} elements.");
            count *= shape[i];
        }
        if (count > MaxElements)
            throw new InvalidDataException($"{where}: constant declares {count:N0} elements, more than {MaxElements:N0}.");
        var byteCount = count * size;

        if (!proto.TensorContent.IsEmpty)
        {
            if (proto.TensorContent.Length != byteCount)
                throw new InvalidDataException($"{where}: tensor_content holds {proto.TensorContent.Length} bytes but shape {ShapeText(shape)} of {DataTypes.Name(type)} needs {byteCount}.");
            return new TensorValue(type, shape, proto.TensorContent.ToByteArray());
        }

        var bytes = new byte[byteCount];
        switch (type)
        {
            case DataType.DtFloat: Fill(proto.FloatVal, bytes, count, where); break;
            case DataType.DtDouble: Fill(proto.DoubleVal, bytes, count, where); break;
            case DataType.DtInt32 or DataType.DtInt16 or DataType.DtInt8 or DataType.DtUint8 or DataType.DtUint16 or DataType.DtQint32 or DataType.DtQint8 or DataType.DtQuint8:
                FillNarrowed(proto.IntVal, bytes, count, size, where); break;
            case DataType.DtInt64: Fill(proto.Int64Val, bytes, count, where); break;
            case DataType.DtBool: FillNarrowed(proto.BoolVal.Select(b => b ? 1 : 0).ToList(), bytes, count, 1, where); break;
            case DataType.DtHalf or DataType.DtBfloat16: FillNarrowed(proto.HalfVal, bytes, count, 2, where); break;
            case DataType.DtUint32: Fill(proto.Uint32Val, bytes, count, where); break;
            case DataType.DtUint64: Fill(proto.Uint64Val, bytes, count, where); break;
            default: throw new NotSupportedException($"{where}: {DataTypes.Name(type)} constants are not supported.");
        }
        return new TensorValue(type, shape, bytes);
    }

    private static void Fill<T>(IList<T> values, byte[] bytes, long count, string where) where T : unmanaged
    {
        var target = MemoryMarshal.Cast<byte, T>(bytes.AsSpan());
        if (values.Count > count)
            throw new InvalidDataException($"{where}: constant lists {values.Count} values for {count} elements.");
        if (values.Count == 0)
            return; // all zeros
        for (var i = 0; i < target.Length; i++)
            target[i] = values[Math.Min(i, values.Count - 1)];
    }

    private static void FillNarrowed(IList<int> values, byte[] bytes, long count, int size, string where)
    {
        if (values.Count > count)
            throw new InvalidDataException($"{where}: constant lists {values.Count} values for {count} elements.");
        if (values.Count == 0)
            return;
        for (long i = 0; i < count; i++)
        {
            var v = values[(int)Math.Min(i, values.Count - 1)];
            switch (size)
            {
                case 1: bytes[i] = unchecked((byte)v); break;
                case 2: BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * 2), 2), unchecked((short)v)); break;
                default: BitConverter.TryWriteBytes(bytes.AsSpan((int)(i * 4), 4), v); break;
            }
        }
    }

    public TensorProto ToProto()
    {
        var proto = new TensorProto { Dtype = Type, TensorShape = ShapeProto(Shape) };
        proto.TensorContent = ByteString.CopyFrom(_bytes);
        return proto;
    }

    public static TensorShapeProto ShapeProto(ReadOnlySpan<long> shape)
    {
        var proto = new TensorShapeProto();
        foreach (var d in shape)
            proto.Dim.Add(new TensorShapeProto.Types.Dim { Size = d });
        return proto;
    }
}
