using TfPose.Graph.Ops;
using TfPose.Graph.Proto;
using S = TfPose.Graph.Formats.TfliteSchema;

namespace TfPose.Graph.Formats;

/// <summary>
/// Quantized (integer-activation) operators. A quantized tensor stays an integer tensor in the graph; an operator that
/// computes on quantized tensors reads each one through a UniformDequantize, computes in float as its float form does,
/// and each quantized output is a UniformQuantize of that float result with the output tensor's scale and zero point.
/// Quantized constants are read through a UniformDequantize too (convolution and fully connected weights in TensorFlow's
/// layout, with the quantized dimension moved along), so the translated ONNX graph has the QuantizeLinear /
/// DequantizeLinear pairs around every float op from which ONNX Runtime picks its integer kernels.
/// </summary>
internal sealed partial class TfliteImporter
{
    /// <summary>The fused activation of the operator being written, when it clamps its quantized output (see <see cref="ClampsQuantized"/>).</summary>
    private byte? _clamp;

    /// <summary>
    /// A quantized operator's fused RELU, RELU6 or RELU_N1_TO_1 clamps its integer output, as TensorFlow Lite's kernels
    /// do (CalculateActivationRangeQuantized): between zero_point + round(low / scale) and zero_point + round(high /
    /// scale). The same values as clamping the reals before requantizing, but with no float op between the operator and
    /// its QuantizeLinear, which would keep ONNX Runtime from fusing them into its integer kernel.
    /// </summary>
    private bool ClampsQuantized(Op c, byte activation)
    {
        if (!c.Quantized || activation is not (S.ActRelu or S.ActRelu6 or S.ActReluN1To1) || !IsQuantizedActivation(c.OutTensor(0).Index))
            return false;
        _clamp = activation;
        return true;
    }

    /// <summary>The integer bounds the fused activation clamps a quantized output to; null when its type's range already is them.</summary>
    private (long Min, long Max)? ClampRange(TfliteTensor t)
    {
        if (_clamp is not { } activation)
            return null;
        var (low, high) = activation switch
        {
            S.ActRelu => (0f, float.PositiveInfinity),
            S.ActRelu6 => (0f, 6f),
            _ => (-1f, 1f),
        };
        var scale = t.Quantization!.Scale[0];
        var zero = t.Quantization.ZeroPointAt(0);
        var (typeMin, typeMax) = Range(t);
        long Level(float real) => float.IsPositiveInfinity(real) ? typeMax : zero + (long)MathF.Round(real / scale, MidpointRounding.AwayFromZero);
        var min = Math.Max(typeMin, Level(low));
        var max = Math.Min(typeMax, Level(high));
        return min == typeMin && max == typeMax ? null : (min, max);
    }

    private static (long Min, long Max) Range(TfliteTensor tensor) => tensor.Type switch
    {
        S.Int8 => (sbyte.MinValue, sbyte.MaxValue),
        S.UInt8 => (byte.MinValue, byte.MaxValue),
        S.Int16 => (short.MinValue, short.MaxValue),
        _ => (int.MinValue, int.MaxValue),
    };

    /// <summary>A tensor holding int8, uint8 or int16 quantized values computed at run time (not a constant).</summary>
    private bool IsQuantizedActivation(int tensor) =>
        _graph.Tensors[tensor] is { IsQuantized: true, Type: S.Int8 or S.UInt8 or S.Int16 } && !IsConstant(tensor);

    /// <summary>Whether an operator computes on quantized activations (QUANTIZE, DEQUANTIZE and CAST convert them instead).</summary>
    private bool ComputesQuantized(TfliteOperator op)
    {
        if (op.Code == S.Cast || op.Code == S.Custom || op.Name is "QUANTIZE" or "DEQUANTIZE")
            return false;
        foreach (var index in op.Inputs.Concat(op.Outputs))
        {
            if (index >= 0 && IsQuantizedActivation(index))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The reals a quantized activation stands for, dequantized once for each operator reading it: ONNX Runtime
    /// fuses a DequantizeLinear into one integer kernel only, and moves an int8 pair to uint8 (its x86 kernels'
    /// type) only where the QuantizeLinear's readers are such single-reader pairs.
    /// </summary>
    private string DequantizedActivation(int tensor, int reader)
    {
        var key = (tensor, $"dequantized@{reader}");
        if (_derived.TryGetValue(key, out var name))
            return name;
        var node = UniformDequantize(Reserve($"{_tensorNodes[tensor]}/dequantized"), Ref(tensor, $"tensor {tensor}"), _graph.Tensors[tensor]);
        return _derived[key] = node.Name;
    }

    /// <summary>A quantized constant read by a quantized operator: the stored integers behind a dequantize.</summary>
    private string DequantizedConstant(int tensor, string where)
    {
        if (_derived.TryGetValue((tensor, "dequantize"), out var name))
            return name;
        var node = UniformDequantize(Reserve($"{_tensorNodes[tensor]}/dequantize"), Ref(tensor, where), _graph.Tensors[tensor]);
        return _derived[(tensor, "dequantize")] = node.Name;
    }

    /// <summary>
    /// Integer weights of a quantized operator re-laid out for TensorFlow (<paramref name="relayout"/>) behind a
    /// dequantize along the axis their quantized dimension moves to (<paramref name="axisOf"/>; -1: it has none, and
    /// the weights are read as floats instead). Null when the operator or the weights are not quantized.
    /// </summary>
    private string? QuantizedWeights(Op c, int k, string form, Func<TensorValue, TensorValue> relayout, Func<int, int> axisOf)
    {
        if (!c.Quantized || !c.Has(k))
            return null;
        var t = c.InTensor(k);
        if (t is not { IsQuantized: true, Type: S.Int8 or S.UInt8 } || !IsConstant(t.Index))
            return null;
        var q = t.Quantization!;
        var axis = q.IsPerChannel ? axisOf(q.Dimension) : -1;
        if (q.IsPerChannel && axis < 0)
            return null;
        var key = (t.Index, $"{form}/dequantize");
        if (_derived.TryGetValue(key, out var name))
            return name;
        var where = c.Where;
        var integers = Derived(t.Index, form, () => relayout(Constant(t.Index, where)!));
        var node = UniformDequantize(Reserve($"{_tensorNodes[t.Index]}/{form}/dequantize"), integers, t, axis);
        return _derived[key] = node.Name;
    }

    /// <summary>QUANTIZE: float to quantized (rounding as TensorFlow Lite does), or quantized to other parameters or type.</summary>
    private void Quantize(Op c)
    {
        var input = c.InTensor(0);
        var output = c.OutTensor(0);
        if (!IsQuantizedActivation(output.Index))
            throw new TfliteFormatException($"{c.Where}: its output '{output.Name}' is {output.TypeName} " +
                (output.IsQuantized ? "" : "without quantization parameters ") + "(TfPose quantizes to int8, uint8 and int16 with a scale and zero point)");
        if (IsQuantizedActivation(input.Index))
        {
            // Requantization: TensorFlow Lite rescales in fixed point; the reals in between are exact.
            Name(c, UniformQuantize(c.Scope(), DequantizedActivation(input.Index, c.Source.Index), output, requantize: true));
            return;
        }
        var x = c.In(0);
        if (c.InType(0) != DataType.DtFloat)
        {
            var cast = Node(c.Scope(), "Cast", null, x);
            Typed(cast, ("SrcT", c.InType(0)), ("DstT", DataType.DtFloat));
            x = cast.Name;
        }
        Name(c, UniformQuantize(c.Scope(), x, output, requantize: false));
    }

    /// <summary>After a quantized operator: each quantized output becomes the requantized float result, under the tensor's name.</summary>
    private void RequantizeOutputs(Op c)
    {
        for (var k = 0; k < c.OutputCount; k++)
        {
            var t = c.OutTensor(k);
            if (!IsQuantizedActivation(t.Index) || _refs[t.Index] is not { } real)
                continue;
            // The float node took the tensor's name and nothing reads it yet: it gives the name to the quantized result.
            var named = _refs[t.Index] == _tensorNodes[t.Index] ? LastNode(real) : null;
            if (named is not null)
            {
                named.Name = Reserve($"{real}/real");
                real = named.Name;
                _names.Remove(_tensorNodes[t.Index]);
            }
            var q = UniformQuantize(named is not null ? _tensorNodes[t.Index] : $"{_tensorNodes[t.Index]}/quantized", real, t, requantize: true,
                k == 0 ? ClampRange(t) : null);
            _refs[t.Index] = q.Name;
        }
    }

    private NodeDef? LastNode(string name)
    {
        for (var i = _def.Node.Count - 1; i >= 0; i--)
        {
            if (_def.Node[i].Name == name)
                return _def.Node[i];
        }
        return null;
    }

    /// <summary>A UniformQuantize to the target's parameters, clamped to its type's range or to <paramref name="range"/> within it.</summary>
    private NodeDef UniformQuantize(string name, string x, TfliteTensor target, bool requantize, (long Min, long Max)? range = null)
    {
        var (scales, zeros, axis) = ParametersOf(target, target.Quantization!.IsPerChannel ? target.Quantization.Dimension : -1);
        var node = Add(Reserve(name), "UniformQuantize", x, Const($"{name}/scales", scales), Const($"{name}/zero_points", zeros));
        Typed(node, ("Tin", DataType.DtFloat), ("Tout", TypeOf(target)));
        SetRange(node, target, axis);
        if (range is { } bounds)
        {
            node.Attr["quantization_min_val"] = new AttrValue { I = bounds.Min };
            node.Attr["quantization_max_val"] = new AttrValue { I = bounds.Max };
        }
        if (requantize)
            node.Attr[QuantizationOps.RequantizeAttribute] = new AttrValue { B = true };
        return node;
    }

    private NodeDef UniformDequantize(string name, string q, TfliteTensor source, int? axis = null)
    {
        var (scales, zeros, along) = ParametersOf(source, axis ?? (source.Quantization!.IsPerChannel ? source.Quantization.Dimension : -1));
        var node = Add(name, "UniformDequantize", q, Const($"{name}/scales", scales), Const($"{name}/zero_points", zeros));
        Typed(node, ("Tin", TypeOf(source)), ("Tout", DataType.DtFloat));
        SetRange(node, source, along);
        return node;
    }

    private static void SetRange(NodeDef node, TfliteTensor tensor, int axis)
    {
        var (min, max) = Range(tensor);
        node.Attr["quantization_axis"] = new AttrValue { I = axis };
        node.Attr["quantization_min_val"] = new AttrValue { I = min };
        node.Attr["quantization_max_val"] = new AttrValue { I = max };
    }

    /// <summary>Scales and int32 zero points as constants: scalars per tensor, vectors along <paramref name="axis"/>.</summary>
    private static (TensorValue Scales, TensorValue Zeros, int Axis) ParametersOf(TfliteTensor tensor, int axis)
    {
        var q = tensor.Quantization!;
        if (!q.IsPerChannel || axis < 0)
        {
            return (TensorValue.FromArray<float>(DataType.DtFloat, [], [q.Scale[0]]),
                TensorValue.FromArray<int>(DataType.DtInt32, [], [(int)q.ZeroPointAt(0)]), -1);
        }
        if (q.ZeroPoint.Length is not (0 or 1) && q.ZeroPoint.Length != q.Scale.Length)
            throw new TfliteFormatException($"tensor '{tensor.Name}' has {q.Scale.Length} scales but {q.ZeroPoint.Length} zero points");
        var zeros = Enumerable.Range(0, q.Scale.Length).Select(i => (int)q.ZeroPointAt(i)).ToArray();
        return (TensorValue.FromArray<float>(DataType.DtFloat, [q.Scale.Length], q.Scale),
            TensorValue.FromArray<int>(DataType.DtInt32, [zeros.Length], zeros), axis);
    }
}
