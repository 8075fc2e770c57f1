using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>Element-wise maths: unary and broadcasting binary ops, activations, casts, bias and matrix products.</summary>
internal static class ElementwiseOps
{
    public static IEnumerable<OpUnit> Units
    {
        get
        {
            var perElement = FlopRules.PerOutputElement();
            foreach (var (tf, onnx) in Unary)
                yield return new(tf, s => UnaryShape(s, IntegerUnaryRule(tf)), (n, c) => UnaryOp(n, c, onnx), perElement);
            foreach (var (tf, onnx) in Binary)
                yield return new(tf, s => BinaryShape(s, IntegerRule(tf)), (n, c) => BinaryOp(n, c, onnx), perElement);
            yield return new("Relu6", Same, Relu6, perElement);
            yield return new("LeakyRelu", Same, LeakyRelu, perElement);
            yield return new("Rsqrt", Same, Rsqrt, perElement);
            yield return new("Square", s => UnaryShape(s, v => v * v), Square, perElement);
            yield return new("SquaredDifference", s => BinaryShape(s, (p, q) => (p - q) * (p - q)), SquaredDifference, FlopRules.PerOutputElement(2));
            yield return new("BiasAdd", Same, BiasAdd, perElement);
            yield return new("BiasAddV1", Same, BiasAdd, perElement);
            yield return new("Softmax", Same, Softmax, FlopRules.PerOutputElement(3));
            yield return new("Cast", CastShape, Cast);
            yield return new("MatMul", MatMulShape, MatMul, MatMulFlops);
        }
    }

    private static void Same(ShapeContext s) => s.SameAsInput();

    /// <summary>Input 0's shape and dtype, and the value when the input is a small known integer tensor and the op has an integer rule.</summary>
    public static void UnaryShape(ShapeContext s, Func<long, long>? integerRule)
    {
        var v = s.Value(0);
        TensorValue? value = null;
        if (integerRule is not null && v is not null && ShapeMath.IsInteger(v) && v.Count <= ShapeMath.MaxFoldElements)
            value = MathOps.IntTensor(v.ToInt64Array().Select(integerRule).ToArray(), v.Shape, v.Type);
        s.Set(0, s.Shape(0), s.Type(0), value);
    }

    /// <summary>TensorFlow's integer semantics of a unary op (those defined for integers), for folding shape arithmetic.</summary>
    private static Func<long, long>? IntegerUnaryRule(string op) => op switch
    {
        "Neg" => v => -v,
        "Abs" => v => v < 0 ? -v : v,
        "Sign" => v => Math.Sign(v),
        "Round" => v => v,
        _ => null,
    };

    /// <summary>Broadcast shape, first operand's dtype, and the value when both operands are small known integers.</summary>
    public static void BinaryShape(ShapeContext s, Func<long, long, long?>? integerRule) =>
        s.Set(0, ShapeMath.Broadcast(s.Shape(0), s.Shape(1)), s.Type(0), integerRule is null ? null : ShapeMath.FoldBinary(s.Value(0), s.Value(1), integerRule));

    /// <summary>TensorFlow's integer semantics of a binary op, for folding shape arithmetic; null where it has none here.</summary>
    private static Func<long, long, long?>? IntegerRule(string op) => op switch
    {
        "Add" or "AddV2" => (p, q) => p + q,
        "Sub" => (p, q) => p - q,
        "Mul" => (p, q) => p * q,
        // Integer Div and RealDiv truncate toward zero (C semantics).
        "Div" or "RealDiv" => (p, q) => q == 0 ? null : p / q,
        "Maximum" => (p, q) => Math.Max(p, q),
        "Minimum" => (p, q) => Math.Min(p, q),
        _ => null,
    };

    private static void CastShape(ShapeContext s)
    {
        var dst = s.Node.GetDataType("DstT");
        var v = s.Value(0);
        var ints = v is not null && v.Count <= ShapeMath.MaxFoldElements ? MathOps.Longs(v) : null;
        // Integer and bool values (shape arithmetic, folded comparisons) stay known through integer and bool casts.
        s.Set(0, s.Shape(0), dst, ints is not null && dst is DataType.DtInt32 or DataType.DtInt64 or DataType.DtBool
            ? MathOps.IntTensor(dst == DataType.DtBool ? ints.Select(x => x != 0 ? 1L : 0L).ToArray() : ints, v!.Shape, dst)
            : null);
    }

    private static void MatMulShape(ShapeContext s)
    {
        var a = s.Shape(0);
        var b = s.Shape(1);
        var ta = s.Node.GetBool("transpose_a", false);
        var tb = s.Node.GetBool("transpose_b", false);
        s.Set(0, a is { Length: 2 } && b is { Length: 2 } ? [ta ? a[1] : a[0], tb ? b[0] : b[1]] : null, s.Type(0));
    }

    private static long? MatMulFlops(NodeDef node, GraphShapes shapes)
    {
        var output = shapes.Shape(new TensorName(node.Name, 0));
        var b = shapes.Shape(node.DataInput(1));
        if (!ShapeMath.IsKnown(output) || !ShapeMath.IsKnown(b) || b!.Length != 2)
            return null;
        return 2 * TensorValue.ElementCount(output) * (node.GetBool("transpose_b", false) ? b[1] : b[0]);
    }

    public static readonly (string Tf, string Onnx)[] Unary =
    [
        ("Relu", "Relu"), ("Elu", "Elu"), ("Selu", "Selu"), ("Sigmoid", "Sigmoid"), ("Tanh", "Tanh"), ("Sqrt", "Sqrt"),
        ("Exp", "Exp"), ("Log", "Log"), ("Neg", "Neg"), ("Abs", "Abs"), ("Floor", "Floor"), ("Ceil", "Ceil"),
        ("Round", "Round"), ("Softplus", "Softplus"), ("Reciprocal", "Reciprocal"), ("Sign", "Sign"), ("Erf", "Erf"),
    ];

    public static readonly (string Tf, string Onnx)[] Binary =
    [
        ("Add", "Add"), ("AddV2", "Add"), ("Sub", "Sub"), ("Mul", "Mul"), ("RealDiv", "Div"), ("Div", "Div"),
        ("Maximum", "Max"), ("Minimum", "Min"), ("Pow", "Pow"),
    ];

    /// <summary>Unary ops keep whatever layout their input has.</summary>
    public static void UnaryOp(NodeDef node, TranslationContext c, string onnx)
    {
        var input = node.DataInput(0);
        var (name, layout) = c.Lookup(input);
        // TensorFlow rounds integers to themselves; ONNX Runtime's Round has float kernels only.
        if (onnx == "Round" && !MathOps.IsFloat(c.Type(input)))
        {
            c.Alias(node, input);
            return;
        }
        c.Set(node, 0, c.Builder.Node(onnx, [name], name: node.Name), layout);
    }

    public static void Relu6(NodeDef node, TranslationContext c)
    {
        var (name, layout) = c.Lookup(node.DataInput(0));
        var lo = c.Builder.Floats("zero", [], [0f]);
        var hi = c.Builder.Floats("six", [], [6f]);
        c.Set(node, 0, c.Builder.Node("Clip", [name, lo, hi], name: node.Name), layout);
    }

    public static void LeakyRelu(NodeDef node, TranslationContext c)
    {
        var (name, layout) = c.Lookup(node.DataInput(0));
        c.Set(node, 0, c.Builder.Node("LeakyRelu", [name], name: node.Name, attributes: ("alpha", node.GetFloat("alpha", 0.2f))), layout);
    }

    public static void Rsqrt(NodeDef node, TranslationContext c)
    {
        var (name, layout) = c.Lookup(node.DataInput(0));
        c.Set(node, 0, c.Builder.Node("Reciprocal", [c.Builder.Node("Sqrt", [name])], name: node.Name), layout);
    }

    public static void Square(NodeDef node, TranslationContext c)
    {
        var (name, layout) = c.Lookup(node.DataInput(0));
        c.Set(node, 0, c.Builder.Node("Mul", [name, name], name: node.Name), layout);
    }

    public static void SquaredDifference(NodeDef node, TranslationContext c)
    {
        var (a, b, layout) = BroadcastPair(node, c);
        var diff = c.Builder.Node("Sub", [a, b]);
        c.Set(node, 0, c.Builder.Node("Mul", [diff, diff], name: node.Name), layout);
    }

    public static void BinaryOp(NodeDef node, TranslationContext c, string onnx)
    {
        var (a, b, layout) = BroadcastPair(node, c);
        c.Set(node, 0, c.Builder.Node(onnx, [a, b], name: node.Name), layout);
    }

    /// <summary>
    /// Both operands of a broadcasting op, in one layout. When a 4-D operand is channels-first the
    /// op runs channels-first: constants are permuted at translation time, small dynamic operands
    /// reshaped, and only a dynamic operand of another rank forces the 4-D one back to NHWC.
    /// </summary>
    public static (string A, string B, Layout Layout) BroadcastPair(NodeDef node, TranslationContext c)
    {
        var (names, layout) = BroadcastAll([node.DataInput(0), node.DataInput(1)], c);
        return (names[0], names[1], layout);
    }

    /// <summary>
    /// Any number of operands of a broadcasting op (Select's three, AddN's n), in one layout: channels-first
    /// when one of them is held so and every other one can broadcast against the channels-first copy, else TensorFlow's.
    /// </summary>
    public static (string[] Names, Layout Layout) BroadcastAll(IReadOnlyList<TensorName> operands, TranslationContext c)
    {
        if (operands.All(t => c.LayoutOf(t) == Layout.Tf) || !operands.All(t => CanBroadcastChannelsFirst(t, c)))
            return ([.. operands.Select(c.Get)], Layout.Tf);
        return ([.. operands.Select(t => ToChannelsFirstOperand(t, c))], Layout.Nchw);
    }

    /// <summary>Whether an operand that broadcasts against an NHWC tensor can be rewritten to broadcast against its NCHW copy.</summary>
    private static bool CanBroadcastChannelsFirst(TensorName t, TranslationContext c) =>
        c.LayoutOf(t) == Layout.Nchw || c.Rank(t) is { } rank && (rank is 0 or 1 or 4 || rank < 4 && (c.Value(t) ?? ConstantOf(t, c)) is not null);

    /// <summary>An operand that broadcasts against an NHWC tensor, rewritten to broadcast against its NCHW copy (see <see cref="CanBroadcastChannelsFirst"/>).</summary>
    private static string ToChannelsFirstOperand(TensorName t, TranslationContext c)
    {
        var rank = c.Rank(t);
        if (c.LayoutOf(t) == Layout.Nchw)
            return c.Get(t, Layout.Nchw);
        if (rank == 0)
            return c.Get(t);
        var value = c.Value(t) ?? ConstantOf(t, c);
        if (value is not null)
        {
            var full = Enumerable.Repeat(1L, 4 - value.Rank).Concat(value.Shape).ToArray();
            var permuted = OnnxBuilder.Permute(OnnxBuilder.Reshape(value, full), TranslationContext.ToNchw);
            return c.Builder.Initializer("bcast", permuted);
        }
        if (rank == 4)
            return c.Get(t, Layout.Nchw);
        var target = c.Builder.Int64s("shape", -1, 1, 1);
        return c.Builder.Node("Reshape", [c.Get(t), target]);
    }

    private static TensorValue? ConstantOf(TensorName t, TranslationContext c)
    {
        var node = c.Graph.FindNode(t.Node);
        while (node is not null && node.Op == "Identity")
            node = c.Graph.FindNode(node.DataInput(0).Node);
        return node?.Op == "Const" ? c.Graph.GetConstant(node.Name) : null;
    }

    public static void BiasAdd(NodeDef node, TranslationContext c)
    {
        if (c.IsKnown(new TensorName(node.Name, 0)))
            return; // an int32 bias the quantized convolution before it took as its own input (QuantizationOps.FoldableBias)
        var x = node.DataInput(0);
        var bias = node.DataInput(1);
        var channelsFirstTf = node.GetString("data_format", "NHWC") == "NCHW";
        var layout = c.LayoutOf(x);
        if (layout == Layout.Nchw || channelsFirstTf)
        {
            var b = ConstantOf(bias, c) is { } v
                ? c.Builder.Initializer("bias", OnnxBuilder.Reshape(v, [v.Count, 1, 1]))
                : c.Builder.Node("Reshape", [c.Get(bias), c.Builder.Int64s("shape", -1, 1, 1)]);
            var xName = channelsFirstTf ? c.Get(x) : c.Get(x, Layout.Nchw);
            c.Set(node, 0, c.Builder.Node("Add", [xName, b], name: node.Name), channelsFirstTf ? Layout.Tf : Layout.Nchw);
            return;
        }
        c.Set(node, 0, c.Builder.Node("Add", [c.Get(x), c.Get(bias)], name: node.Name));
    }

    public static void Softmax(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var (name, layout) = c.Lookup(x);
        c.Set(node, 0, c.Builder.Node("Softmax", [name], name: node.Name, attributes: ("axis", layout == Layout.Nchw ? 1L : -1L)), layout);
    }

    public static void MatMul(NodeDef node, TranslationContext c)
    {
        string Operand(int i, bool transpose)
        {
            var t = node.DataInput(i);
            if (!transpose)
                return c.Get(t);
            return ConstantOf(t, c) is { Rank: 2 } v
                ? c.Builder.Initializer("matmul_t", OnnxBuilder.Permute(v, [1, 0]))
                : c.Builder.Node("Transpose", [c.Get(t)], attributes: ("perm", new long[] { 1, 0 }));
        }
        var a = Operand(0, node.GetBool("transpose_a", false));
        var b = Operand(1, node.GetBool("transpose_b", false));
        c.Set(node, 0, c.Builder.Node("MatMul", [a, b], name: node.Name));
    }

    public static void Cast(NodeDef node, TranslationContext c)
    {
        var (name, layout) = c.Lookup(node.DataInput(0));
        var to = OnnxBuilder.ElementType(node.GetDataType("DstT"));
        c.Set(node, 0, c.Builder.Node("Cast", [name], name: node.Name, attributes: ("to", (long)to)), layout);
    }
}
