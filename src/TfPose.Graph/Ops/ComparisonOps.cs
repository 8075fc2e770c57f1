using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>Comparisons, logical ops, float-class tests (bool results) and the selections that read a bool condition.</summary>
internal static class ComparisonOps
{
    public static IEnumerable<OpUnit> Units
    {
        get
        {
            var perElement = FlopRules.PerOutputElement();
            foreach (var (tf, onnx, rule) in Comparisons)
            {
                yield return new(tf, s => BoolShape(s, v => rule(v[0], v[1])), (n, c) =>
                {
                    var (a, b, layout) = ElementwiseOps.BroadcastPair(n, c);
                    // ONNX has no NotEqual.
                    var output = tf == "NotEqual"
                        ? c.Builder.Node("Not", [c.Builder.Node("Equal", [a, b])], name: n.Name)
                        : c.Builder.Node(onnx, [a, b], name: n.Name);
                    c.Set(n, 0, output, layout);
                }, perElement);
            }
            yield return new("LogicalAnd", s => BoolShape(s, v => v[0] != 0 && v[1] != 0), (n, c) => ElementwiseOps.BinaryOp(n, c, "And"), perElement);
            yield return new("LogicalOr", s => BoolShape(s, v => v[0] != 0 || v[1] != 0), (n, c) => ElementwiseOps.BinaryOp(n, c, "Or"), perElement);
            yield return new("LogicalNot", s => BoolShape(s, v => v[0] == 0, 1), (n, c) => ElementwiseOps.UnaryOp(n, c, "Not"), perElement);
            yield return new("IsNan", s => s.Set(0, s.Shape(0), DataType.DtBool), (n, c) => ElementwiseOps.UnaryOp(n, c, "IsNaN"), perElement);
            yield return new("IsInf", s => s.Set(0, s.Shape(0), DataType.DtBool), (n, c) => ElementwiseOps.UnaryOp(n, c, "IsInf"), perElement);
            yield return new("IsFinite", s => s.Set(0, s.Shape(0), DataType.DtBool), IsFinite, FlopRules.PerOutputElement(3));
            yield return new("Select", SelectShape, Select, perElement);
            yield return new("SelectV2", SelectV2Shape, SelectV2, perElement);
        }
    }

    private static readonly (string Tf, string Onnx, Func<long, long, bool> Rule)[] Comparisons =
    [
        ("Equal", "Equal", (p, q) => p == q), ("NotEqual", "Equal", (p, q) => p != q),
        ("Less", "Less", (p, q) => p < q), ("LessEqual", "LessOrEqual", (p, q) => p <= q),
        ("Greater", "Greater", (p, q) => p > q), ("GreaterEqual", "GreaterOrEqual", (p, q) => p >= q),
    ];

    /// <summary>Broadcast shape of the inputs, bool, and the value when the inputs are small known integers or bools.</summary>
    private static void BoolShape(ShapeContext s, Func<long[], bool> rule, int inputs = 2)
    {
        var shape = inputs == 1 ? s.Shape(0) : ShapeMath.Broadcast(s.Shape(0), s.Shape(1));
        var values = Enumerable.Range(0, inputs).Select(s.Value).ToArray();
        s.Set(0, shape, DataType.DtBool, MathOps.Fold(values, DataType.DtBool, v => rule(v) ? 1 : 0));
    }

    private static void IsFinite(NodeDef node, TranslationContext c)
    {
        var (x, layout) = c.Lookup(node.DataInput(0));
        var b = c.Builder;
        var special = b.Node("Or", [b.Node("IsNaN", [x]), b.Node("IsInf", [x])]);
        c.Set(node, 0, b.Node("Not", [special], name: node.Name), layout);
    }

    /// <summary>
    /// TF1 Select's condition is a scalar, x's shape, or (x of higher rank) a vector choosing whole rows along x's first axis.
    /// The last case is the others' broadcasting once the vector has x's rank with trailing ones.
    /// </summary>
    private static bool ChoosesRows(int? conditionRank, int? xRank) => conditionRank == 1 && xRank is > 1;

    private static void SelectShape(ShapeContext s)
    {
        var shape = ShapeMath.Broadcast(s.Shape(1), s.Shape(2));
        if (s.Shape(0) is { } condition && shape is not null && condition.Length == shape.Length)
            shape = ShapeMath.Broadcast(shape, condition);
        var conditionValue = s.Value(0);
        if (conditionValue is not null && ChoosesRows(conditionValue.Rank, s.Rank(1)))
            conditionValue = new TensorValue(conditionValue.Type, [conditionValue.Shape[0], .. Enumerable.Repeat(1L, s.Rank(1)!.Value - 1)], conditionValue.Bytes.ToArray());
        s.Set(0, shape, s.Type(1), MathOps.Fold([conditionValue, s.Value(1), s.Value(2)], s.Type(1), v => v[0] != 0 ? v[1] : v[2]));
    }

    private static void SelectV2Shape(ShapeContext s) =>
        s.Set(0, ShapeMath.Broadcast(ShapeMath.Broadcast(s.Shape(0), s.Shape(1)), s.Shape(2)), s.Type(1),
            MathOps.Fold([s.Value(0), s.Value(1), s.Value(2)], s.Type(1), v => v[0] != 0 ? v[1] : v[2]));

    private static void Select(NodeDef node, TranslationContext c)
    {
        var condition = node.DataInput(0);
        var x = node.DataInput(1);
        var y = node.DataInput(2);
        var conditionRank = c.Rank(condition);
        var xRank = c.Rank(x);
        var b = c.Builder;
        if (conditionRank == 0 || conditionRank is not null && conditionRank == xRank)
        {
            var (names, layout) = ElementwiseOps.BroadcastAll([condition, x, y], c);
            c.Set(node, 0, b.Node("Where", names, name: node.Name), layout);
            return;
        }
        string rows;
        if (ChoosesRows(conditionRank, xRank))
        {
            // Axis 0 is the batch in either layout, so the rows condition serves a channels-first x as well.
            long[] target = [-1, .. Enumerable.Repeat(1L, xRank!.Value - 1)];
            rows = c.Value(condition) is { } v
                ? b.Initializer("rows", OnnxBuilder.Reshape(v, [v.Count, .. target.Skip(1)]))
                : b.Node("Reshape", [c.Get(condition), b.Int64s("shape", target)]);
            var (pair, layout) = ElementwiseOps.BroadcastAll([x, y], c);
            c.Set(node, 0, b.Node("Where", [rows, pair[0], pair[1]], name: node.Name), layout);
            return;
        }
        // A rank unknown until run time: pad the condition's shape with ones up to x's rank, which serves all three cases.
        var xName = c.Get(x);
        var conditionName = c.Get(condition);
        var conditionShape = b.Node("Shape", [conditionName]);
        var missing = b.Node("Sub", [b.Node("Shape", [b.Node("Shape", [xName])]), b.Node("Shape", [conditionShape])]);
        missing = b.Node("Max", [missing, b.Int64s("zero", 0)]);
        var ones = b.Node("ConstantOfShape", [missing], attributes: ("value", OnnxBuilder.Tensor("one", TensorValue.FromArray<long>(DataType.DtInt64, [1], [1L]))));
        var padded = b.Node("Reshape", [conditionName, b.Node("Concat", [conditionShape, ones], attributes: ("axis", 0L))]);
        c.Set(node, 0, b.Node("Where", [padded, xName, c.Get(y)], name: node.Name));
    }

    /// <summary>Where with NumPy broadcasting of all three, which is SelectV2's definition.</summary>
    private static void SelectV2(NodeDef node, TranslationContext c)
    {
        var (names, layout) = ElementwiseOps.BroadcastAll(node.DataInputs().Take(3).ToList(), c);
        c.Set(node, 0, c.Builder.Node("Where", names, name: node.Name), layout);
    }
}
