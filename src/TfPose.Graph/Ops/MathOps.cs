using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>
/// Maths beyond the common activations: trigonometry, precise exp/log variants, TensorFlow's integer and
/// floor/truncate division family, n-ary sums, clipping, cumulative sums and products, and the checks that
/// are identities at inference time.
/// </summary>
internal static class MathOps
{
    public static IEnumerable<OpUnit> Units
    {
        get
        {
            var perElement = FlopRules.PerOutputElement();
            foreach (var (tf, onnx) in Unary)
                yield return new(tf, s => s.SameAsInput(), (n, c) => ElementwiseOps.UnaryOp(n, c, onnx), perElement);
            yield return new("Expm1", s => s.SameAsInput(), Expm1, FlopRules.PerOutputElement(8));
            yield return new("Log1p", s => s.SameAsInput(), Log1p, FlopRules.PerOutputElement(8));
            yield return new("Atan2", s => ElementwiseOps.BinaryShape(s, null), Atan2, FlopRules.PerOutputElement(8));
            yield return new("FloorDiv", s => ElementwiseOps.BinaryShape(s, ShapeMath.FloorDiv), FloorDiv, perElement);
            yield return new("FloorMod", s => ElementwiseOps.BinaryShape(s, ShapeMath.FloorMod), FloorMod, perElement);
            yield return new("TruncateDiv", s => ElementwiseOps.BinaryShape(s, (p, q) => q == 0 ? null : p / q), TruncateDiv, perElement);
            // TensorFlow's Mod is the C remainder, like TruncateMod (FloorMod is the Python one).
            yield return new("TruncateMod", s => ElementwiseOps.BinaryShape(s, (p, q) => q == 0 ? null : p % q), TruncateMod, perElement);
            yield return new("Mod", s => ElementwiseOps.BinaryShape(s, (p, q) => q == 0 ? null : p % q), TruncateMod, perElement);
            yield return new("AddN", AddNShape, AddN, AddNFlops);
            yield return new("ClipByValue", ClipShape, ClipByValue, FlopRules.PerOutputElement(2));
            yield return new("LogSoftmax", s => s.SameAsInput(), LogSoftmax, FlopRules.PerOutputElement(3));
            yield return new("Cumsum", CumulativeShape, Cumsum, perElement);
            yield return new("Cumprod", CumulativeShape, Cumprod, perElement);
            yield return new("EnsureShape", EnsureShapeShape, (n, c) => c.Alias(n, n.DataInput(0)));
            // Raises on NaN or infinity in TensorFlow; inference passes the tensor on unchecked.
            yield return IoOps.PassThrough("CheckNumerics");
        }
    }

    /// <summary>Float-only unary ops with an ONNX equivalent of the same definition.</summary>
    public static readonly (string Tf, string Onnx)[] Unary =
    [
        ("Sin", "Sin"), ("Cos", "Cos"), ("Tan", "Tan"), ("Asin", "Asin"), ("Acos", "Acos"), ("Atan", "Atan"),
        ("Sinh", "Sinh"), ("Cosh", "Cosh"), ("Softsign", "Softsign"), ("Inv", "Reciprocal"),
        // Both round half to even, like ONNX Round.
        ("Rint", "Round"),
    ];

    public static bool IsFloat(DataType type) => DataTypes.BaseType(type) is DataType.DtFloat or DataType.DtDouble or DataType.DtHalf or DataType.DtBfloat16;

    /// <summary>An integer or bool tensor's elements widened to long (bools as 0/1); null for other dtypes.</summary>
    public static long[]? Longs(TensorValue v) => v.Type switch
    {
        DataType.DtInt32 or DataType.DtInt64 or DataType.DtUint8 => v.ToInt64Array(),
        DataType.DtBool => Array.ConvertAll(v.Bytes.ToArray(), b => b != 0 ? 1L : 0L),
        _ => null,
    };

    /// <summary>A folded int32, int64 or bool value; int32 wraps as TensorFlow's arithmetic does. Null for other dtypes.</summary>
    public static TensorValue? IntTensor(long[] values, long[] shape, DataType type) => type switch
    {
        DataType.DtInt64 => TensorValue.FromArray<long>(DataType.DtInt64, shape, values),
        DataType.DtInt32 => TensorValue.FromArray<int>(DataType.DtInt32, shape, Array.ConvertAll(values, v => unchecked((int)v))),
        DataType.DtBool => TensorValue.FromArray<byte>(DataType.DtBool, shape, Array.ConvertAll(values, v => v != 0 ? (byte)1 : (byte)0)),
        _ => null,
    };

    /// <summary>
    /// An element-wise op over small known integer or bool values with NumPy broadcasting (shape arithmetic);
    /// null when any input is unknown, not integer or bool, too large, not broadcastable, or the op declines.
    /// </summary>
    public static TensorValue? Fold(IReadOnlyList<TensorValue?> inputs, DataType outType, Func<long[], long?> op)
    {
        var arrays = new long[inputs.Count][];
        long[] shape = [];
        for (var i = 0; i < inputs.Count; i++)
        {
            if (inputs[i] is not { } v || v.Count > ShapeMath.MaxFoldElements || Longs(v) is not { } longs)
                return null;
            arrays[i] = longs;
            shape = ShapeMath.Broadcast(shape, v.Shape)!;
        }
        foreach (var v in inputs)
        {
            var lead = shape.Length - v!.Rank;
            for (var d = 0; d < v.Rank; d++)
            {
                if (v.Shape[d] != 1 && v.Shape[d] != shape[d + lead])
                    return null;
            }
        }
        var count = TensorValue.ElementCount(shape);
        if (count > ShapeMath.MaxFoldElements)
            return null;
        var result = new long[count];
        var index = new long[shape.Length];
        var args = new long[inputs.Count];
        for (long o = 0; o < count; o++)
        {
            for (var i = 0; i < inputs.Count; i++)
                args[i] = arrays[i][ShapeMath.BroadcastOffset(index, inputs[i]!.Shape, shape)];
            if (op(args) is not { } r)
                return null;
            result[o] = r;
            for (var d = shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d])
                    break;
                index[d] = 0;
            }
        }
        return IntTensor(result, shape, outType);
    }

    /// <summary>A scalar constant of a numeric dtype (float constants for float ops, integers for integer ones).</summary>
    public static string Scalar(TranslationContext c, DataType type, double value) => DataTypes.BaseType(type) switch
    {
        DataType.DtDouble => c.Builder.Initializer("c", TensorValue.FromArray<double>(DataType.DtDouble, [], [value])),
        DataType.DtInt32 => c.Builder.Initializer("c", TensorValue.FromArray<int>(DataType.DtInt32, [], [(int)value])),
        DataType.DtInt64 => c.Builder.Initializer("c", TensorValue.FromArray<long>(DataType.DtInt64, [], [(long)value])),
        DataType.DtFloat => c.Builder.Floats("c", [], [(float)value]),
        var t => throw new NotSupportedException($"{DataTypes.Name(t)} constants are not supported here."),
    };

    /// <summary>A unary op built from several ONNX nodes (the last named after the node), in its input's layout.</summary>
    private static void SameLayoutUnary(NodeDef node, TranslationContext c, Func<string, DataType, string> body)
    {
        var input = node.DataInput(0);
        var (name, layout) = c.Lookup(input);
        c.Set(node, 0, body(name, c.Type(input)), layout);
    }

    /// <summary>
    /// exp(x) - 1 accurate for small x, which is why graphs use Expm1 (Exp minus one gives 0 for |x| below 6e-8).
    /// Kahan's form (u-1)·x/log(u), with u = exp(x), cancels the rounding of u.
    /// </summary>
    private static void Expm1(NodeDef node, TranslationContext c) => SameLayoutUnary(node, c, (x, type) =>
    {
        var b = c.Builder;
        var one = Scalar(c, type, 1);
        var minusOne = Scalar(c, type, -1);
        var u = b.Node("Exp", [x]);
        var um1 = b.Node("Sub", [u, one]);
        var kahan = b.Node("Div", [b.Node("Mul", [um1, x]), b.Node("Log", [u])]);
        // Where u rounds to 1 the answer is x; where it is 0 (x below -104), -1; where it overflows, infinity.
        var r = b.Node("Where", [b.Node("Equal", [u, one]), x, kahan]);
        r = b.Node("Where", [b.Node("Equal", [um1, minusOne]), minusOne, r]);
        return b.Node("Where", [b.Node("IsInf", [u]), u, r], name: node.Name);
    });

    /// <summary>log(1 + x) accurate for small x: log(u)·x/(u-1) with u = 1 + x (Kahan), x itself where u rounds to 1.</summary>
    private static void Log1p(NodeDef node, TranslationContext c) => SameLayoutUnary(node, c, (x, type) =>
    {
        var b = c.Builder;
        var one = Scalar(c, type, 1);
        var zero = Scalar(c, type, 0);
        var u = b.Node("Add", [x, one]);
        var um1 = b.Node("Sub", [u, one]);
        var kahan = b.Node("Div", [b.Node("Mul", [b.Node("Log", [u]), x]), um1]);
        var r = b.Node("Where", [b.Node("Equal", [um1, zero]), x, kahan]);
        // log1p(+inf) = +inf (the quotient would be inf/inf).
        return b.Node("Where", [b.Node("IsInf", [u], attributes: ("detect_negative", 0L)), u, r], name: node.Name);
    });

    /// <summary>
    /// atan2(y, x) in all four quadrants: atan(y/x), moved by ±π where x &lt; 0 (by the sign of y), and ±π/2 (0 for y = 0)
    /// where x = 0. Signed zeros and infinite pairs are not distinguished (atan2(0, -0) gives 0, TensorFlow π).
    /// </summary>
    private static void Atan2(NodeDef node, TranslationContext c)
    {
        var (y, x, layout) = ElementwiseOps.BroadcastPair(node, c);
        var type = c.Type(node.DataInput(0));
        var b = c.Builder;
        var zero = Scalar(c, type, 0);
        var angle = b.Node("Atan", [b.Node("Div", [y, x])]);
        var turn = b.Node("Where", [b.Node("Less", [y, zero]), Scalar(c, type, -Math.PI), Scalar(c, type, Math.PI)]);
        var r = b.Node("Where", [b.Node("Less", [x, zero]), b.Node("Add", [angle, turn]), angle]);
        var onAxis = b.Node("Mul", [b.Node("Sign", [y]), Scalar(c, type, Math.PI / 2)]);
        c.Set(node, 0, b.Node("Where", [b.Node("Equal", [x, zero]), onAxis, r], name: node.Name), layout);
    }

    /// <summary>
    /// x mod y with the divisor's sign (Python's %). Integers: ONNX Mod with fmod=0 is exactly that. Floats: ONNX
    /// allows only fmod=1 (C's fmod, the dividend's sign), so a non-zero remainder of the wrong sign gets y added, as TensorFlow does.
    /// </summary>
    private static string FloorModOf(string a, string b, DataType type, TranslationContext c, string? name = null)
    {
        var builder = c.Builder;
        if (!IsFloat(type))
            return builder.Node("Mod", [a, b], name: name, attributes: ("fmod", 0L));
        var zero = Scalar(c, type, 0);
        var r = builder.Node("Mod", [a, b], attributes: ("fmod", 1L));
        var wrongSign = builder.Node("Xor", [builder.Node("Less", [b, zero]), builder.Node("Less", [r, zero])]);
        var fix = builder.Node("And", [builder.Node("Not", [builder.Node("Equal", [r, zero])]), wrongSign]);
        return builder.Node("Where", [fix, builder.Node("Add", [r, b]), r], name: name);
    }

    private static void FloorMod(NodeDef node, TranslationContext c)
    {
        var (a, b, layout) = ElementwiseOps.BroadcastPair(node, c);
        c.Set(node, 0, FloorModOf(a, b, c.Type(node.DataInput(0)), c, node.Name), layout);
    }

    /// <summary>
    /// x / y rounded toward negative infinity. Floats: floor of the quotient (TensorFlow's definition). Integers: ONNX Div
    /// truncates toward zero, so the exact multiple x - floormod(x, y) is divided instead.
    /// </summary>
    private static void FloorDiv(NodeDef node, TranslationContext c)
    {
        var (a, b, layout) = ElementwiseOps.BroadcastPair(node, c);
        var type = c.Type(node.DataInput(0));
        var builder = c.Builder;
        var output = IsFloat(type)
            ? builder.Node("Floor", [builder.Node("Div", [a, b])], name: node.Name)
            : builder.Node("Div", [builder.Node("Sub", [a, FloorModOf(a, b, type, c)]), b], name: node.Name);
        c.Set(node, 0, output, layout);
    }

    /// <summary>x / y rounded toward zero: ONNX integer Div already does; floats truncate the quotient.</summary>
    private static void TruncateDiv(NodeDef node, TranslationContext c)
    {
        var (a, b, layout) = ElementwiseOps.BroadcastPair(node, c);
        var type = c.Type(node.DataInput(0));
        var builder = c.Builder;
        if (!IsFloat(type))
        {
            c.Set(node, 0, builder.Node("Div", [a, b], name: node.Name), layout);
            return;
        }
        var q = builder.Node("Div", [a, b]);
        var truncated = builder.Node("Where", [builder.Node("Less", [q, Scalar(c, type, 0)]), builder.Node("Ceil", [q]), builder.Node("Floor", [q])], name: node.Name);
        c.Set(node, 0, truncated, layout);
    }

    /// <summary>The C remainder (the dividend's sign) for integers and floats: ONNX Mod with fmod=1.</summary>
    private static void TruncateMod(NodeDef node, TranslationContext c)
    {
        var (a, b, layout) = ElementwiseOps.BroadcastPair(node, c);
        c.Set(node, 0, c.Builder.Node("Mod", [a, b], name: node.Name, attributes: ("fmod", 1L)), layout);
    }

    private static void AddNShape(ShapeContext s)
    {
        var inputs = Enumerable.Range(0, s.InputCount).ToArray();
        // All inputs have one shape; merging them fills dimensions one input leaves unknown.
        var shape = inputs.Select(s.Shape).Aggregate((long[]?)null, (a, b) => a is null ? b : b is null ? a : ShapeMath.Broadcast(a, b));
        s.Set(0, shape, s.Type(0), Fold(inputs.Select(s.Value).ToArray(), s.Type(0), v => v.Sum()));
    }

    private static long? AddNFlops(NodeDef node, GraphShapes shapes) =>
        FlopRules.PerOutputElement(Math.Max(node.DataInputCount() - 1, 0))(node, shapes);

    private static void AddN(NodeDef node, TranslationContext c)
    {
        var inputs = node.DataInputs().ToList();
        if (inputs.Count == 1)
        {
            c.Alias(node, inputs[0]);
            return;
        }
        var (names, layout) = ElementwiseOps.BroadcastAll(inputs, c);
        var sum = names[0];
        for (var i = 1; i < names.Length; i++)
            sum = c.Builder.Node("Add", [sum, names[i]], name: i == names.Length - 1 ? node.Name : null);
        c.Set(node, 0, sum, layout);
    }

    private static void ClipShape(ShapeContext s) =>
        s.Set(0, s.Shape(0), s.Type(0), Fold([s.Value(0), s.Value(1), s.Value(2)], s.Type(0), v => Math.Max(Math.Min(v[0], v[2]), v[1])));

    /// <summary>
    /// max(min(t, hi), lo) in that order, as TensorFlow's kernel computes it (lo wins where lo &gt; hi; ONNX Clip lets hi win).
    /// Bounds are scalars or t's shape.
    /// </summary>
    private static void ClipByValue(NodeDef node, TranslationContext c)
    {
        var (names, layout) = ElementwiseOps.BroadcastAll(node.DataInputs().Take(3).ToList(), c);
        var upper = c.Builder.Node("Min", [names[0], names[2]]);
        c.Set(node, 0, c.Builder.Node("Max", [upper, names[1]], name: node.Name), layout);
    }

    private static void LogSoftmax(NodeDef node, TranslationContext c)
    {
        var (name, layout) = c.Lookup(node.DataInput(0));
        c.Set(node, 0, c.Builder.Node("LogSoftmax", [name], name: node.Name, attributes: ("axis", layout == Layout.Nchw ? 1L : -1L)), layout);
    }

    /// <summary>Input's shape and dtype; small known integer tensors are folded (offsets computed from sizes).</summary>
    private static void CumulativeShape(ShapeContext s) => s.Set(0, s.Shape(0), s.Type(0), FoldCumulative(s));

    private static TensorValue? FoldCumulative(ShapeContext s)
    {
        var x = s.Value(0);
        var axis = s.Ints(1);
        if (x is null || axis is not { Length: 1 } || x.Rank == 0 || x.Count > ShapeMath.MaxFoldElements || Longs(x) is not { } values)
            return null;
        var a = ShapeMath.NormalizeAxis(axis[0], x.Rank);
        if (a < 0 || a >= x.Rank)
            return null;
        var product = s.Node.Op == "Cumprod";
        var exclusive = s.Node.GetBool("exclusive", false);
        var reverse = s.Node.GetBool("reverse", false);
        var n = x.Shape[a];
        var inner = x.Shape.Skip(a + 1).Aggregate(1L, (p, d) => p * d);
        var outer = n * inner == 0 ? 0 : x.Count / (n * inner);
        var result = new long[values.Length];
        for (long o = 0; o < outer; o++)
        for (long i = 0; i < inner; i++)
        {
            var acc = product ? 1L : 0L;
            for (long k = 0; k < n; k++)
            {
                var at = (o * n + (reverse ? n - 1 - k : k)) * inner + i;
                if (exclusive)
                    result[at] = acc;
                acc = product ? acc * values[at] : acc + values[at];
                if (!exclusive)
                    result[at] = acc;
            }
        }
        return IntTensor(result, x.Shape, x.Type);
    }

    /// <summary>ONNX CumSum has TensorFlow's exclusive and reverse; a channels-first input keeps its layout with the axis moved.</summary>
    private static void Cumsum(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var axisInput = node.DataInput(1);
        var (name, layout) = c.Lookup(x);
        var axis = c.Value(axisInput)?.ToInt64Array();
        string axisName;
        if (axis is not null)
        {
            var a = axis[0];
            if (layout == Layout.Nchw)
                a = TranslationContext.NhwcAxisInNchw[ShapeMath.NormalizeAxis(a, 4)];
            axisName = c.Builder.Int64Scalar("axis", a);
        }
        else
        {
            (name, layout) = (c.Get(x), Layout.Tf);
            axisName = c.Get(axisInput);
        }
        c.Set(node, 0, c.Builder.Node("CumSum", [name, axisName], name: node.Name,
            attributes: [("exclusive", node.GetBool("exclusive", false) ? 1L : 0L), ("reverse", node.GetBool("reverse", false) ? 1L : 0L)]), layout);
    }

    /// <summary>
    /// ONNX has no cumulative product. Each output element is the product of the input elements a mask selects along the
    /// axis: x with a new axis i before the axis j, j's elements replaced by 1 where the [i, j] mask is false, reduced over j.
    /// O(n²) per row along the axis, as Cumprod rows are short in practice.
    /// </summary>
    private static void Cumprod(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var rank = c.Rank(x) ?? throw new NotSupportedException($"node '{node.Name}' (Cumprod): input rank unknown.");
        var axis = ShapeMath.NormalizeAxis(c.RequireInts(node, 1, "the cumprod axis")[0], rank);
        var (name, layout) = c.Lookup(x);
        var onnxAxis = layout == Layout.Nchw ? TranslationContext.NhwcAxisInNchw[axis] : axis;
        var exclusive = node.GetBool("exclusive", false);
        var reverse = node.GetBool("reverse", false);
        var trailing = rank - 1 - onnxAxis;
        var b = c.Builder;
        var n = c.Shape(x)?[axis] ?? -1;
        string mask;
        if (n >= 0)
        {
            var bits = new byte[n * n];
            for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
                bits[i * n + j] = (reverse ? (exclusive ? j > i : j >= i) : (exclusive ? j < i : j <= i)) ? (byte)1 : (byte)0;
            mask = b.Initializer("mask", new TensorValue(DataType.DtBool, [n, n, .. Enumerable.Repeat(1L, trailing)], bits));
        }
        else
        {
            var size = b.Node("Squeeze", [b.Node("Shape", [name], attributes: [("start", (long)onnxAxis), ("end", (long)onnxAxis + 1)])]);
            var range = b.Node("Range", [b.Int64Scalar("zero", 0), size, b.Int64Scalar("one", 1)]);
            var column = b.Node("Unsqueeze", [range, b.Int64s("axes", 1)]);
            var compare = reverse ? (exclusive ? "Greater" : "GreaterOrEqual") : (exclusive ? "Less" : "LessOrEqual");
            mask = b.Node(compare, [range, column]);
            if (trailing > 0)
                mask = b.Node("Unsqueeze", [mask, b.Int64s("axes", [.. Enumerable.Range(2, trailing).Select(d => (long)d)])]);
        }
        var expanded = b.Node("Unsqueeze", [name, b.Int64s("axes", onnxAxis)]);
        var factors = b.Node("Where", [mask, expanded, Scalar(c, c.Type(x), 1)]);
        c.Set(node, 0, b.Node("ReduceProd", [factors, b.Int64s("axes", onnxAxis + 1)], name: node.Name, attributes: ("keepdims", 0L)), layout);
    }

    /// <summary>The input, with dimensions it leaves unknown taken from the asserted shape.</summary>
    private static void EnsureShapeShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var asserted = s.Node.GetShape("shape");
        var shape = x is null ? asserted : asserted is null || asserted.Length != x.Length ? x : x.Select((d, i) => d >= 0 ? d : asserted[i]).ToArray();
        s.Set(0, shape, s.Type(0), s.Value(0));
    }
}
