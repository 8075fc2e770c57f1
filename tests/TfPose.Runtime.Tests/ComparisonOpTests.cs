using TfPose.Graph.Proto;
using TfPose.Tests;
using static TfPose.Runtime.Tests.ElementwiseOpTests;
using static TfPose.Runtime.Tests.OpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>Comparisons, logical ops, float-class tests and selections, against TensorFlow's definitions written out here.</summary>
public class ComparisonOpTests
{
    private static bool Compare(string op, double a, double b) => op switch
    {
        "Equal" => a == b,
        "NotEqual" => a != b, // NaN is unequal to everything, itself included
        "Less" => a < b,
        "LessEqual" => a <= b,
        "Greater" => a > b,
        "GreaterEqual" => a >= b,
        _ => throw new ArgumentException(op),
    };

    public static TheoryData<string, DataType, bool> ComparisonCases()
    {
        var data = new TheoryData<string, DataType, bool>();
        foreach (var op in new[] { "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual" })
        {
            data.Add(op, DataType.DtFloat, true);
            data.Add(op, DataType.DtFloat, false);
            data.Add(op, DataType.DtInt32, false);
            data.Add(op, DataType.DtInt64, true);
        }
        return data;
    }

    [Theory]
    [OpTest("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual")]
    [MemberData(nameof(ComparisonCases))]
    public void Comparison_broadcasts_to_a_bool_tensor(string op, DataType type, bool constantRow)
    {
        // Each row meets y = [1, 3, 2] at an equal, a smaller and a larger value; floats add NaN.
        double[] x = type == DataType.DtFloat ? [1, 2, 3, double.NaN, -1, 2.5] : [1, 2, 3, -4, 5, 2];
        double[] y = [1, 3, 2];
        var expected = Broadcast2(x, [2, 3], y, [3], (a, b) => Compare(op, a, b));
        var b = new TfGraphBuilder();
        b.TypedPlaceholder("x", type, [2, 3]);
        var feeds = new List<(string, GraphTensor)> { TypedFeed("x", type, x, 2, 3) };
        if (constantRow)
            TypedConst(b, "y", type, y, 3);
        else
        {
            b.TypedPlaceholder("y", type, [3]);
            feeds.Add(TypedFeed("y", type, y, 3));
        }
        b.Op("z", op, type, "x", "y");
        var (actual, shape) = Run<bool>(b, "z", [.. feeds]);
        Assert.Equal([2, 3], shape);
        Assert.Equal(expected, actual);

        if (type != DataType.DtFloat)
        {
            // Integer comparisons known at translation time are folded to a bool constant.
            var folded = new TfGraphBuilder();
            TypedConst(folded, "x", type, x, 2, 3);
            TypedConst(folded, "y", type, y, 3);
            folded.Op("z", op, type, "x", "y");
            var value = Folded(folded, "z");
            Assert.Equal(DataType.DtBool, value?.Type);
            Assert.Equal(expected, value!.Span<bool>().ToArray());
            Assert.Equal(expected, Run<bool>(folded, "z").Values);
        }
    }

    private static (string, GraphTensor) TypedFeed(string name, DataType type, double[] values, params long[] shape) => type switch
    {
        DataType.DtFloat => Feed(name, values.Select(v => (float)v).ToArray(), shape),
        DataType.DtInt32 => Feed(name, values.Select(v => (int)v).ToArray(), shape),
        _ => Feed(name, values.Select(v => (long)v).ToArray(), shape),
    };

    private static void TypedConst(TfGraphBuilder b, string name, DataType type, double[] values, params long[] shape)
    {
        if (type == DataType.DtFloat)
            b.Const(name, values.Select(v => (float)v).ToArray(), shape);
        else
            ConstInts(b, name, type, values.Select(v => (long)v).ToArray(), shape);
    }

    [Fact]
    [OpTest("Equal", "NotEqual")]
    public void Equality_of_bools()
    {
        bool[] x = [true, true, false, false], y = [true, false, true, false];
        var b = new TfGraphBuilder();
        b.TypedPlaceholder("x", DataType.DtBool, [4]);
        b.TypedPlaceholder("y", DataType.DtBool, [4]);
        b.Op("eq", "Equal", DataType.DtBool, "x", "y");
        b.Op("ne", "NotEqual", DataType.DtBool, "x", "y");
        Assert.Equal([true, false, false, true], Run<bool>(b, "eq", Feed("x", x, 4), Feed("y", y, 4)).Values);
        Assert.Equal([false, true, true, false], Run<bool>(b, "ne", Feed("x", x, 4), Feed("y", y, 4)).Values);
    }

    [Fact]
    [OpTest("LogicalAnd", "LogicalOr", "LogicalNot")]
    public void Logical_ops_broadcast_and_fold()
    {
        bool[] x = [true, true, false, false], y = [true, false];
        var b = new TfGraphBuilder();
        b.TypedPlaceholder("x", DataType.DtBool, [2, 2]);
        b.TypedPlaceholder("y", DataType.DtBool, [2]);
        b.Op("and", "LogicalAnd", "x", "y").Attr.Remove("T");
        b.Op("or", "LogicalOr", "x", "y").Attr.Remove("T");
        b.Op("not", "LogicalNot", "x").Attr.Remove("T");
        (string Name, GraphTensor Tensor)[] Feeds() => [Feed("x", x, 2, 2), Feed("y", y, 2)];
        Assert.Equal([true, false, false, false], Run<bool>(b, "and", Feeds()).Values);
        Assert.Equal([true, true, true, false], Run<bool>(b, "or", Feeds()).Values);
        Assert.Equal([false, false, true, true], Run<bool>(b, "not", Feed("x", x, 2, 2)).Values);

        var folded = new TfGraphBuilder();
        folded.ConstBool("x", x, 2, 2);
        folded.ConstBool("y", y, 2);
        folded.Op("and", "LogicalAnd", "x", "y");
        folded.Op("or", "LogicalOr", "x", "y");
        folded.Op("not", "LogicalNot", "and");
        Assert.Equal([true, false, false, false], FoldedBools(folded, "and"));
        Assert.Equal([true, true, true, false], FoldedBools(folded, "or"));
        Assert.Equal([false, true, true, true], FoldedBools(folded, "not"));
        Assert.Equal([false, true, true, true], Run<bool>(folded, "not").Values);
    }

    [Fact]
    [OpTest("IsNan", "IsInf", "IsFinite")]
    public void Float_class_tests()
    {
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0, -1.5f, float.MaxValue, float.Epsilon];
        var b = new TfGraphBuilder();
        b.Placeholder("x", x.Length);
        b.Op("nan", "IsNan", "x");
        b.Op("inf", "IsInf", "x");
        b.Op("finite", "IsFinite", "x");
        Assert.Equal(x.Select(float.IsNaN).ToArray(), Run<bool>(b, "nan", Feed("x", x, x.Length)).Values);
        Assert.Equal(x.Select(float.IsInfinity).ToArray(), Run<bool>(b, "inf", Feed("x", x, x.Length)).Values);
        Assert.Equal(x.Select(float.IsFinite).ToArray(), Run<bool>(b, "finite", Feed("x", x, x.Length)).Values);
    }

    /// <summary>TF1 Select: condition of x's shape (per element), a vector over x's first axis (per row), or a scalar.</summary>
    private static float[] SelectReference(bool[] condition, long[] conditionShape, float[] x, float[] y, long[] shape) =>
        Indices(shape).Select((idx, i) =>
        {
            var chosen = conditionShape.Length == 0 ? condition[0] : conditionShape.Length == shape.Length ? condition[i] : condition[idx[0]];
            return chosen ? x[i] : y[i];
        }).ToArray();

    public static TheoryData<long[], bool> SelectCases() => new()
    {
        { new long[] { 2, 3 }, false },    // same shape as x
        { new long[] { 2 }, false },       // rows of a [2, 3] x
        { new long[] { 2 }, true },
        { Array.Empty<long>(), false },    // scalar
        { new long[] { 2, 3 }, true },
        { Array.Empty<long>(), true },
    };

    [Theory]
    [OpTest("Select")]
    [MemberData(nameof(SelectCases))]
    public void Select_takes_elements_rows_or_everything(long[] conditionShape, bool unknownRanks)
    {
        long[] shape = [2, 3];
        var condition = conditionShape.Length switch { 0 => [false], 1 => [false, true], _ => new[] { true, false, false, true, true, false } };
        var x = Enumerable.Range(0, 6).Select(i => (float)i).ToArray();
        var y = Enumerable.Range(0, 6).Select(i => -10f - i).ToArray();
        var b = new TfGraphBuilder();
        // With ranks unknown until run time the translation cannot tell the three cases apart statically.
        b.TypedPlaceholder("c", DataType.DtBool, unknownRanks ? null : conditionShape);
        b.TypedPlaceholder("x", DataType.DtFloat, unknownRanks ? null : shape);
        b.TypedPlaceholder("y", DataType.DtFloat, unknownRanks ? null : shape);
        b.Op("s", "Select", "c", "x", "y");
        var (actual, outShape) = Run<float>(b, "s", Feed("c", condition, conditionShape), Feed("x", x, shape), Feed("y", y, shape));
        Assert.Equal(shape, outShape);
        Assert.Equal(SelectReference(condition, conditionShape, x, y, shape), actual);
    }

    [Fact]
    [OpTest("Select")]
    public void Select_rows_of_a_rank_three_tensor_with_integers_fed_and_folded()
    {
        long[] shape = [3, 2, 2];
        bool[] rows = [true, false, true];
        var x = Enumerable.Range(0, 12).Select(i => (long)i).ToArray();
        var y = Enumerable.Range(0, 12).Select(i => (long)(100 + i)).ToArray();
        var expected = Indices(shape).Select((idx, i) => rows[idx[0]] ? x[i] : y[i]).ToArray();

        var b = new TfGraphBuilder();
        b.ConstBool("c", rows, 3);
        b.TypedPlaceholder("x", DataType.DtInt32, shape);
        b.TypedPlaceholder("y", DataType.DtInt32, shape);
        b.Op("s", "Select", DataType.DtInt32, "c", "x", "y");
        Assert.Equal(expected, RunInts(b, "s", DataType.DtInt32, [("x", x, shape), ("y", y, shape)]));

        var folded = new TfGraphBuilder();
        folded.ConstBool("c", rows, 3);
        ConstInts(folded, "x", DataType.DtInt64, x, shape);
        ConstInts(folded, "y", DataType.DtInt64, y, shape);
        folded.Op("s", "Select", DataType.DtInt64, "c", "x", "y");
        Assert.Equal(expected, FoldedInts(folded, "s"));
        Assert.Equal(expected, RunInts(folded, "s", DataType.DtInt64));
    }

    [Theory]
    [OpTest("SelectV2")]
    [InlineData(DataType.DtFloat)]
    [InlineData(DataType.DtInt32)]
    [InlineData(DataType.DtInt64)]
    public void SelectV2_broadcasts_all_three(DataType type)
    {
        // condition [2,1,1], t [1,3,1], e [4] → [2,3,4].
        bool[] condition = [true, false];
        double[] t = [1, 2, 3];
        double[] e = [-1, -2, -3, -4];
        long[] shape = [2, 3, 4];
        var expected = Indices(shape).Select(i => condition[i[0]] ? t[i[1]] : e[i[2]]).ToArray();

        var b = new TfGraphBuilder();
        b.TypedPlaceholder("c", DataType.DtBool, [2, 1, 1]);
        b.TypedPlaceholder("t", type, [1, 3, 1]);
        TypedConst(b, "e", type, e, 4);
        b.Op("s", "SelectV2", type, "c", "t", "e");
        var feeds = new[] { Feed("c", condition, 2, 1, 1), TypedFeed("t", type, t, 1, 3, 1) };
        if (type == DataType.DtFloat)
        {
            var (values, outShape) = Run<float>(b, "s", feeds);
            Assert.Equal(shape, outShape);
            Assert.Equal(expected.Select(v => (float)v), values);
        }
        else
        {
            var values = type == DataType.DtInt32 ? Run<int>(b, "s", feeds).Values.Select(v => (double)v) : Run<long>(b, "s", feeds).Values.Select(v => (double)v);
            Assert.Equal(expected, values);

            var folded = new TfGraphBuilder();
            folded.ConstBool("c", condition, 2, 1, 1);
            TypedConst(folded, "t", type, t, 1, 3, 1);
            TypedConst(folded, "e", type, e, 4);
            folded.Op("s", "SelectV2", type, "c", "t", "e");
            Assert.Equal(expected.Select(v => (long)v), FoldedInts(folded, "s"));
        }
    }
}
