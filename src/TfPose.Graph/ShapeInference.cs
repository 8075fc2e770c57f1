using TfPose.Graph.Proto;

namespace TfPose.Graph;

/// <summary>
/// Static shapes, dtypes and, where computable, values (constants and shape arithmetic) for every
/// tensor of a graph at given input shapes. Unknown dimensions are -1; an unknown rank is null.
/// </summary>
public sealed class GraphShapes
{
    internal readonly Dictionary<string, long[]?> ShapeMap = new(StringComparer.Ordinal);
    internal readonly Dictionary<string, DataType> TypeMap = new(StringComparer.Ordinal);
    internal readonly Dictionary<string, TensorValue> ValueMap = new(StringComparer.Ordinal);

    public long[]? Shape(TensorName t) => ShapeMap.GetValueOrDefault(t.Key);

    public long[]? Shape(string tensor) => Shape(TensorName.Parse(tensor));

    public DataType Type(TensorName t) => TypeMap.GetValueOrDefault(t.Key, DataType.DtFloat);

    /// <summary>The tensor's value when it is a constant or computable from constants and static shapes.</summary>
    public TensorValue? Value(TensorName t) => ValueMap.GetValueOrDefault(t.Key);

    public int? Rank(TensorName t) => Shape(t)?.Length;
}

public static class ShapeInference
{
    /// <summary>Small integer tensors (shape arithmetic) are evaluated; larger ones are left to the runtime.</summary>
    private const long MaxFoldElements = 1 << 16;

    public static GraphShapes Infer(TfGraph graph, IReadOnlyDictionary<string, long[]>? inputShapes = null)
    {
        var result = new GraphShapes();
        foreach (var node in graph.TopologicalOrder())
        {
            try
            {
                InferNode(graph, node, result, inputShapes);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidDataException or InvalidOperationException or OverflowException or IndexOutOfRangeException)
            {
                throw new GraphFormatException(graph.SourcePath, $"shape inference failed at node '{node.Name}' ({node.Op}): {ex.Message}", ex);
            }
        }
        return result;
    }

    private static void Set(GraphShapes r, NodeDef node, int index, long[]? shape, DataType type, TensorValue? value = null)
    {
        var key = $"{node.Name}:{index}";
        r.ShapeMap[key] = shape;
        r.TypeMap[key] = type;
        if (value is not null)
            r.ValueMap[key] = value;
    }

    private static void InferNode(TfGraph graph, NodeDef node, GraphShapes r, IReadOnlyDictionary<string, long[]>? inputShapes)
    {
        var inputs = node.DataInputs().ToArray();
        long[]? In(int i) => i < inputs.Length ? r.Shape(inputs[i]) : null;
        DataType T(int i) => i < inputs.Length ? r.Type(inputs[i]) : DataType.DtFloat;
        TensorValue? V(int i) => i < inputs.Length ? r.Value(inputs[i]) : null;
        var nhwc = node.GetString("data_format", "NHWC") is "NHWC" or "NDHWC";

        switch (node.Op)
        {
            case "Placeholder" or "PlaceholderV2":
            {
                var shape = inputShapes is not null && inputShapes.TryGetValue(node.Name, out var given) ? given : node.GetShape("shape");
                Set(r, node, 0, shape, node.GetDataType("dtype", DataType.DtFloat));
                break;
            }
            case "PlaceholderWithDefault":
                Set(r, node, 0, inputShapes?.GetValueOrDefault(node.Name) ?? In(0), T(0));
                break;
            case "Const":
            {
                var value = graph.GetConstant(node.Name);
                Set(r, node, 0, value.Shape, value.Type, value);
                break;
            }
            case "Identity" or "StopGradient" or "Snapshot" or "PreventGradient":
                Set(r, node, 0, In(0), T(0), V(0));
                break;
            case "Relu" or "Relu6" or "Elu" or "Selu" or "LeakyRelu" or "Sigmoid" or "Tanh" or "Softmax" or "LogSoftmax" or "Rsqrt" or "Sqrt"
                or "Square" or "Exp" or "Log" or "Neg" or "Abs" or "Floor" or "Ceil" or "Round" or "Softplus" or "Reciprocal" or "Sign"
                or "BiasAdd" or "BiasAddV1" or "LRN" or "Erf" or "Swish" or "HardSwish":
                Set(r, node, 0, In(0), T(0));
                break;
            case "Add" or "AddV2" or "Sub" or "Mul" or "RealDiv" or "Div" or "FloorDiv" or "FloorMod" or "Maximum" or "Minimum"
                or "SquaredDifference" or "Pow":
                Set(r, node, 0, Broadcast(In(0), In(1)), T(0), FoldBinary(node.Op, V(0), V(1)));
                break;
            case "Greater" or "Less" or "Equal" or "GreaterEqual" or "LessEqual" or "NotEqual":
                Set(r, node, 0, Broadcast(In(0), In(1)), DataType.DtBool);
                break;
            case "AddN":
                Set(r, node, 0, In(0), T(0));
                break;
            case "Cast":
            {
                var dst = node.GetDataType("DstT");
                Set(r, node, 0, In(0), dst, V(0) is { } v && dst is DataType.DtInt32 or DataType.DtInt64 && IsInt(v) ? IntValue(v.ToInt64Array(), v.Shape, dst) : null);
                break;
            }
            case "Shape":
            {
                var shape = In(0);
                var outType = node.GetDataType("out_type", DataType.DtInt32);
                var value = shape is not null && shape.All(d => d >= 0) ? IntValue(shape, [shape.Length], outType) : null;
                Set(r, node, 0, shape is null ? [-1] : [shape.Length], outType, value);
                break;
            }
            case "Size":
            {
                var shape = In(0);
                var outType = node.GetDataType("out_type", DataType.DtInt32);
                Set(r, node, 0, [], outType, shape is not null && shape.All(d => d >= 0) ? IntValue([TensorValue.ElementCount(shape)], [], outType) : null);
                break;
            }
            case "Rank":
                Set(r, node, 0, [], DataType.DtInt32, In(0) is { } rs ? IntValue([rs.Length], [], DataType.DtInt32) : null);
                break;
            case "Conv2D" or "DepthwiseConv2dNative":
            {
                var x = In(0);
                var w = In(1);
                var strides = node.GetInts("strides", [1, 1, 1, 1]);
                var dil = node.GetInts("dilations", [1, 1, 1, 1]);
                var padding = node.GetString("padding", "VALID");
                long[]? outShape = null;
                if (x is { Length: 4 } && w is { Length: 4 })
                {
                    var (h, wd, c) = nhwc ? (1, 2, 3) : (2, 3, 1);
                    var explicitPads = padding == "EXPLICIT" ? node.GetInts("explicit_paddings") : null;
                    outShape = (long[])x.Clone();
                    outShape[h] = ConvOut(x[h], w[0], strides[h], dil[h], padding, explicitPads, h);
                    outShape[wd] = ConvOut(x[wd], w[1], strides[wd], dil[wd], padding, explicitPads, wd);
                    outShape[c] = node.Op == "Conv2D" ? w[3] : w[2] * w[3];
                }
                Set(r, node, 0, outShape, T(0));
                break;
            }
            case "Conv2DBackpropInput":
            {
                var sizes = V(0);
                var w = In(1);
                long[]? outShape = sizes is not null ? sizes.ToInt64Array() : null;
                if (outShape is null && w is { Length: 4 })
                    outShape = nhwc ? [-1, -1, -1, w[2]] : [-1, w[2], -1, -1];
                Set(r, node, 0, outShape, T(2));
                break;
            }
            case "MaxPool" or "AvgPool":
            {
                var x = In(0);
                var k = node.GetInts("ksize");
                var s = node.GetInts("strides");
                var padding = node.GetString("padding", "VALID");
                long[]? outShape = null;
                if (x is { Length: 4 })
                {
                    outShape = (long[])x.Clone();
                    var (h, wd) = nhwc ? (1, 2) : (2, 3);
                    outShape[h] = ConvOut(x[h], k[h], s[h], 1, padding, null, h);
                    outShape[wd] = ConvOut(x[wd], k[wd], s[wd], 1, padding, null, wd);
                }
                Set(r, node, 0, outShape, T(0));
                break;
            }
            case "FusedBatchNorm" or "FusedBatchNormV2" or "FusedBatchNormV3":
            {
                var x = In(0);
                Set(r, node, 0, x, T(0));
                var c = x is { Length: 4 } ? x[nhwc ? 3 : 1] : -1;
                for (var i = 1; i <= (node.Op == "FusedBatchNormV3" ? 5 : 4); i++)
                    Set(r, node, i, [c], DataType.DtFloat);
                break;
            }
            case "MatMul":
            {
                var a = In(0);
                var b = In(1);
                var ta = node.GetBool("transpose_a", false);
                var tb = node.GetBool("transpose_b", false);
                long[]? outShape = a is { Length: 2 } && b is { Length: 2 } ? [ta ? a[1] : a[0], tb ? b[0] : b[1]] : null;
                Set(r, node, 0, outShape, T(0));
                break;
            }
            case "ConcatV2" or "Concat":
            {
                var axisIndex = node.Op == "ConcatV2" ? inputs.Length - 1 : 0;
                var parts = node.Op == "ConcatV2" ? inputs[..^1] : inputs[1..];
                var axisValue = r.Value(inputs[axisIndex]);
                var shapes = parts.Select(p => r.Shape(p)).ToList();
                long[]? outShape = null;
                if (axisValue is not null && shapes.All(s => s is not null))
                {
                    var rank = shapes[0]!.Length;
                    var axis = NormalizeAxis(axisValue.ToInt64Array()[0], rank);
                    outShape = (long[])shapes[0]!.Clone();
                    outShape[axis] = shapes.Any(s => s![axis] < 0) ? -1 : shapes.Sum(s => s![axis]);
                    for (var d = 0; d < rank; d++)
                    {
                        if (d != axis && outShape[d] < 0)
                            outShape[d] = shapes.Select(s => s![d]).FirstOrDefault(v => v >= 0, -1);
                    }
                }
                TensorValue? value = null;
                if (axisValue is not null && parts.All(p => r.Value(p) is { Rank: 1 } pv && IsInt(pv)))
                    value = IntValue(parts.SelectMany(p => r.Value(p)!.ToInt64Array()).ToArray(), null, r.Type(parts[0]));
                Set(r, node, 0, outShape, r.Type(parts[0]), value);
                break;
            }
            case "Mean" or "Sum" or "Max" or "Min" or "Prod" or "ArgMax" or "ArgMin" or "All" or "Any":
            {
                var x = In(0);
                var axes = V(1)?.ToInt64Array();
                var keep = node.GetBool("keep_dims", false);
                long[]? outShape = null;
                if (x is not null && axes is not null)
                {
                    var set = axes.Select(a => NormalizeAxis(a, x.Length)).ToHashSet();
                    outShape = keep ? x.Select((d, i) => set.Contains(i) ? 1 : d).ToArray()
                                    : x.Where((_, i) => !set.Contains(i)).ToArray();
                }
                var type = node.Op is "ArgMax" or "ArgMin" ? node.GetDataType("output_type", DataType.DtInt64) : T(0);
                Set(r, node, 0, outShape, type);
                break;
            }
            case "Pad" or "PadV2" or "MirrorPad":
            {
                var x = In(0);
                var pads = V(1)?.ToInt64Array();
                long[]? outShape = x is not null && pads is not null
                    ? x.Select((d, i) => d < 0 ? -1 : d + pads[2 * i] + pads[2 * i + 1]).ToArray()
                    : x?.Select(_ => -1L).ToArray();
                Set(r, node, 0, outShape, T(0));
                break;
            }
            case "Reshape":
            {
                var x = In(0);
                var target = V(1)?.ToInt64Array();
                long[]? outShape = null;
                if (target is not null)
                {
                    outShape = (long[])target.Clone();
                    var unknown = Array.IndexOf(outShape, -1);
                    if (unknown >= 0 && x is not null && x.All(d => d >= 0))
                    {
                        var known = outShape.Where(d => d >= 0).Aggregate(1L, (a, b) => a * b);
                        outShape[unknown] = known == 0 ? 0 : TensorValue.ElementCount(x) / known;
                    }
                }
                else if (In(1) is [var n] && n >= 0)
                {
                    outShape = Enumerable.Repeat(-1L, (int)n).ToArray();
                }
                var v0 = V(0);
                Set(r, node, 0, outShape, T(0), v0 is not null && outShape is not null && outShape.All(d => d >= 0) ? new TensorValue(v0.Type, outShape, v0.Bytes.ToArray()) : null);
                break;
            }
            case "Squeeze":
            {
                var x = In(0);
                var dims = node.GetInts("squeeze_dims", []);
                long[]? outShape = null;
                if (x is not null)
                {
                    var set = dims.Select(a => NormalizeAxis(a, x.Length)).ToHashSet();
                    outShape = x.Where((d, i) => set.Count > 0 ? !set.Contains(i) : d != 1).ToArray();
                }
                var v0 = V(0);
                Set(r, node, 0, outShape, T(0), v0 is not null && outShape is not null ? new TensorValue(v0.Type, outShape, v0.Bytes.ToArray()) : null);
                break;
            }
            case "ExpandDims":
            {
                var x = In(0);
                var axisV = V(1);
                long[]? outShape = null;
                if (x is not null && axisV is not null)
                {
                    var axis = (int)axisV.ToInt64Array()[0];
                    if (axis < 0)
                        axis += x.Length + 1;
                    var list = x.ToList();
                    list.Insert(axis, 1);
                    outShape = [.. list];
                }
                var v0 = V(0);
                Set(r, node, 0, outShape, T(0), v0 is not null && outShape is not null ? new TensorValue(v0.Type, outShape, v0.Bytes.ToArray()) : null);
                break;
            }
            case "Transpose":
            {
                var x = In(0);
                var perm = V(1)?.ToInt64Array();
                Set(r, node, 0, x is not null && perm is not null ? perm.Select(p => x[p]).ToArray() : x?.Select(_ => -1L).ToArray(), T(0));
                break;
            }
            case "StridedSlice":
                InferStridedSlice(node, r, inputs);
                break;
            case "Slice":
            {
                var x = In(0);
                var begin = V(1)?.ToInt64Array();
                var size = V(2)?.ToInt64Array();
                long[]? outShape = x is not null && begin is not null && size is not null
                    ? size.Select((s, i) => s >= 0 ? s : x[i] < 0 ? -1 : x[i] - begin[i]).ToArray()
                    : null;
                Set(r, node, 0, outShape, T(0));
                break;
            }
            case "Pack":
            {
                var axis = (int)node.GetInt("axis", 0);
                var first = In(0);
                long[]? outShape = null;
                if (first is not null)
                {
                    var list = first.ToList();
                    if (axis < 0)
                        axis += first.Length + 1;
                    list.Insert(axis, inputs.Length);
                    outShape = [.. list];
                }
                TensorValue? value = null;
                if (first is { Length: 0 } && inputs.All(i => r.Value(i) is { } v && IsInt(v)))
                    value = IntValue(inputs.Select(i => r.Value(i)!.ToInt64Array()[0]).ToArray(), null, T(0));
                Set(r, node, 0, outShape, T(0), value);
                break;
            }
            case "Unpack":
            {
                var x = In(0);
                var num = (int)node.GetInt("num");
                var axis = (int)node.GetInt("axis", 0);
                long[]? outShape = x is not null ? x.Where((_, i) => i != NormalizeAxis(axis, x.Length)).ToArray() : null;
                for (var i = 0; i < num; i++)
                    Set(r, node, i, outShape, T(0));
                break;
            }
            case "Split":
            {
                var x = In(1);
                var num = (int)node.GetInt("num_split");
                var dimV = V(0);
                long[]? outShape = null;
                if (x is not null && dimV is not null)
                {
                    var axis = NormalizeAxis(dimV.ToInt64Array()[0], x.Length);
                    outShape = (long[])x.Clone();
                    outShape[axis] = x[axis] < 0 ? -1 : x[axis] / num;
                }
                for (var i = 0; i < num; i++)
                    Set(r, node, i, outShape, T(1));
                break;
            }
            case "Fill":
                Set(r, node, 0, V(0)?.ToInt64Array() ?? (In(0) is [var fr] ? Enumerable.Repeat(-1L, (int)fr).ToArray() : null), T(1));
                break;
            case "RandomUniform" or "RandomStandardNormal" or "TruncatedNormal":
                Set(r, node, 0, V(0)?.ToInt64Array(), node.GetDataType("dtype", DataType.DtFloat));
                break;
            case "ResizeBilinear" or "ResizeNearestNeighbor" or "ResizeBicubic" or "ResizeArea":
            {
                var x = In(0);
                var size = V(1)?.ToInt64Array();
                long[]? outShape = x is { Length: 4 } ? [x[0], size?[0] ?? -1, size?[1] ?? -1, x[3]] : null;
                Set(r, node, 0, outShape, node.Op == "ResizeNearestNeighbor" ? T(0) : DataType.DtFloat);
                break;
            }
            case "NoOp":
                break;
            default:
                // Unknown op: outputs stay unknown; the translator reports unsupported ops separately.
                Set(r, node, 0, null, T(0));
                break;
        }
    }

    private static void InferStridedSlice(NodeDef node, GraphShapes r, TensorName[] inputs)
    {
        var x = r.Shape(inputs[0]);
        var begin = r.Value(inputs[1])?.ToInt64Array();
        var end = r.Value(inputs[2])?.ToInt64Array();
        var strides = r.Value(inputs[3])?.ToInt64Array();
        if (x is null || begin is null || end is null || strides is null)
        {
            Set(r, node, 0, null, r.Type(inputs[0]));
            return;
        }
        var spec = StridedSliceSpec.Resolve(x, begin, end, strides,
            node.GetInt("begin_mask", 0), node.GetInt("end_mask", 0), node.GetInt("ellipsis_mask", 0),
            node.GetInt("new_axis_mask", 0), node.GetInt("shrink_axis_mask", 0));
        TensorValue? value = null;
        var xv = r.Value(inputs[0]);
        if (xv is { Rank: 1 } && IsInt(xv) && spec.Dims.Count == 1 && spec.Dims[0].Input == 0)
        {
            var src = xv.ToInt64Array();
            var d = spec.Dims[0];
            var picked = new List<long>();
            for (long i = d.Begin; d.Stride > 0 ? i < d.End : i > d.End; i += d.Stride)
                picked.Add(src[i]);
            value = IntValue([.. picked], spec.OutputShape, xv.Type);
        }
        Set(r, node, 0, spec.OutputShape, r.Type(inputs[0]), value);
    }

    internal static int NormalizeAxis(long axis, int rank) => (int)(axis < 0 ? axis + rank : axis);

    private static long ConvOut(long input, long kernel, long stride, long dilation, string padding, long[]? explicitPads, int dim)
    {
        if (input < 0)
            return -1;
        var effective = (kernel - 1) * dilation + 1;
        return padding switch
        {
            "SAME" => (input + stride - 1) / stride,
            "EXPLICIT" => (input + explicitPads![2 * dim] + explicitPads[2 * dim + 1] - effective) / stride + 1,
            _ => (input - effective + stride) / stride,
        };
    }

    public static long[]? Broadcast(long[]? a, long[]? b)
    {
        if (a is null || b is null)
            return null;
        var rank = Math.Max(a.Length, b.Length);
        var result = new long[rank];
        for (var i = 0; i < rank; i++)
        {
            var da = i - (rank - a.Length) >= 0 ? a[i - (rank - a.Length)] : 1;
            var db = i - (rank - b.Length) >= 0 ? b[i - (rank - b.Length)] : 1;
            result[i] = da == 1 ? db : db == 1 ? da : da < 0 ? db : da;
        }
        return result;
    }

    private static bool IsInt(TensorValue v) => v.Type is DataType.DtInt32 or DataType.DtInt64;

    private static TensorValue IntValue(long[] values, long[]? shape, DataType type) =>
        type == DataType.DtInt64
            ? TensorValue.FromArray<long>(DataType.DtInt64, shape ?? [values.Length], values)
            : TensorValue.FromArray<int>(DataType.DtInt32, shape ?? [values.Length], values.Select(v => checked((int)v)).ToArray());

    private static TensorValue? FoldBinary(string op, TensorValue? a, TensorValue? b)
    {
        if (a is null || b is null || !IsInt(a) || !IsInt(b) || a.Count > MaxFoldElements || b.Count > MaxFoldElements)
            return null;
        var x = a.ToInt64Array();
        var y = b.ToInt64Array();
        if (x.Length != y.Length && x.Length != 1 && y.Length != 1)
            return null;
        var n = Math.Max(x.Length, y.Length);
        var result = new long[n];
        for (var i = 0; i < n; i++)
        {
            var p = x[x.Length == 1 ? 0 : i];
            var q = y[y.Length == 1 ? 0 : i];
            long? v = op switch
            {
                "Add" or "AddV2" => p + q,
                "Sub" => p - q,
                "Mul" => p * q,
                "FloorDiv" or "Div" or "RealDiv" when q != 0 => (long)Math.Floor((double)p / q),
                "Maximum" => Math.Max(p, q),
                "Minimum" => Math.Min(p, q),
                _ => null,
            };
            if (v is null)
                return null;
            result[i] = v.Value;
        }
        var shape = a.Count >= b.Count ? a.Shape : b.Shape;
        return IntValue(result, shape, a.Type);
    }
}
