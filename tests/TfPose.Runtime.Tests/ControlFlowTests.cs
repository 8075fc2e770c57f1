using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>
/// TensorFlow control flow through the ONNX translation: TF1 while loops (→ Loop), tf.cond (→ If, or only the taken
/// side when the predicate is known), TensorArrays and TensorLists (→ sequences), built node by node as TensorFlow
/// writes them, against values worked out here.
/// </summary>
public class ControlFlowTests
{
    private const string Frame = "frame_name";

    /// <summary>
    /// The nodes tf.while_loop writes: per loop variable Enter → Merge(Enter, NextIteration) → Switch(Merge, LoopCond),
    /// the body reading Identity(Switch:1), an Exit on Switch:0; values used unchanged enter with is_constant.
    /// <paramref name="cond"/> and <paramref name="body"/> get the Merges (cond) or Identities (body) and the invariants' Enters.
    /// </summary>
    private static string[] WhileLoop(TfGraphBuilder b, string name, string[] initial, string[] invariants,
        Func<string[], string[], string> cond, Func<string[], string[], string[]> body)
    {
        NodeDef EnterNode(string nodeName, string input, bool constant)
        {
            var enter = b.Op(nodeName, "Enter", input);
            enter.Attr[Frame] = TfGraphBuilder.Str(name + "/while_context");
            enter.Attr["is_constant"] = TfGraphBuilder.Bool(constant);
            enter.Attr["parallel_iterations"] = TfGraphBuilder.Int(10);
            return enter;
        }
        string Suffix(int k) => k == 0 ? "" : $"_{k}";
        var merges = new string[initial.Length];
        for (var k = 0; k < initial.Length; k++)
        {
            EnterNode($"{name}/Enter{Suffix(k)}", initial[k], false);
            merges[k] = b.Op($"{name}/Merge{Suffix(k)}", "Merge", $"{name}/Enter{Suffix(k)}", $"{name}/NextIteration{Suffix(k)}").Name;
        }
        var inv = invariants.Select((x, j) => EnterNode($"{name}/Invariant{Suffix(j)}/Enter", x, true).Name).ToArray();
        var loopCond = b.Op($"{name}/LoopCond", "LoopCond", cond(merges, inv)).Name;
        var identities = new string[initial.Length];
        for (var k = 0; k < initial.Length; k++)
        {
            b.Op($"{name}/Switch{Suffix(k)}", "Switch", merges[k], loopCond);
            identities[k] = b.Op($"{name}/Identity{Suffix(k)}", "Identity", $"{name}/Switch{Suffix(k)}:1").Name;
        }
        var next = body(identities, inv);
        var exits = new string[initial.Length];
        for (var k = 0; k < initial.Length; k++)
        {
            b.Op($"{name}/NextIteration{Suffix(k)}", "NextIteration", next[k]);
            exits[k] = b.Op($"{name}/Exit{Suffix(k)}", "Exit", $"{name}/Switch{Suffix(k)}").Name;
        }
        return exits;
    }

    /// <summary>Cast to bool: TensorFlow's x != 0, the predicate "i &lt; n" of a counter stepping by one from at most n.</summary>
    private static string NotZero(TfGraphBuilder b, string name, string x)
    {
        var cast = b.Op(name, "Cast", x);
        cast.Attr["SrcT"] = TfGraphBuilder.Type(DataType.DtInt32);
        cast.Attr["DstT"] = TfGraphBuilder.Type(DataType.DtBool);
        return name;
    }

    /// <summary>A Const read inside a loop body or branch, with the control input TensorFlow gives it there.</summary>
    private static string ConstIn(TfGraphBuilder b, string name, int value, string pivot)
    {
        b.ConstInt(name, [value], []);
        b.Graph.Node.Last().Input.Add("^" + pivot);
        return name;
    }

    private static GraphResults Run(TfGraph graph, Dictionary<string, GraphTensor> feeds, params string[] fetches)
    {
        using var session = new GraphSession(graph);
        return session.Run(feeds, fetches);
    }

    /// <summary>sum = 0; i = 0; while i &lt; n: sum += i; i += 1 — with n fed, so the trip count is known only at run time.</summary>
    private static TfGraph CounterLoop()
    {
        var b = new TfGraphBuilder();
        b.PlaceholderOf("n", DataType.DtInt32, []);
        b.ConstInt("zero", [0], []);
        var exits = WhileLoop(b, "while", ["zero", "zero"], ["n"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, _) =>
            [
                b.Op("while/add", "Add", v[0], ConstIn(b, "while/add/y", 1, v[0])).Name,
                b.Op("while/add_1", "Add", v[1], v[0]).Name,
            ]);
        b.Op("sum", "Identity", exits[1]);
        b.Op("count", "Identity", exits[0]);
        return b.Build();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(100)]
    [OpTest("Enter", "Merge", "Switch", "LoopCond", "NextIteration", "Exit")]
    public void Counter_loop_sums_below_a_fed_bound(int n)
    {
        using var feed = GraphTensor.FromArray(new[] { n }, []);
        using var result = Run(CounterLoop(), new() { ["n"] = feed }, "sum", "count");
        Assert.Equal(n * (n - 1) / 2, result[0].ToArray<int>()[0]); // 0 + 1 + ... + (n-1)
        Assert.Equal(n, result[1].ToArray<int>()[0]);
    }

    [Fact]
    public void Loop_translates_to_one_onnx_loop_whose_predicate_is_evaluated_before_and_inside()
    {
        var model = GraphTranslator.Translate(CounterLoop(), new TranslationOptions { Outputs = ["sum"] });
        var proto = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(model.OnnxModel);
        var loop = Assert.Single(proto.Graph.Node, n => n.OpType == "Loop");
        // Initial predicate outside, then (no max trip count) condition and two carried values.
        Assert.Equal(["", loop.Input[1]], loop.Input.Take(2));
        Assert.Equal(4, loop.Input.Count);
        var body = loop.Attribute.Single(a => a.Name == "body").G;
        Assert.Equal(4, body.Input.Count);
        Assert.Equal(3, body.Output.Count);
        Assert.Contains(proto.Graph.Node, n => n.OpType == "Cast" && n.Output[0] == loop.Input[1] || n.OpType == "Identity" && n.Output[0] == loop.Input[1]);
    }

    /// <summary>x = [[1, 2]]; repeat n times: x = concat([x, x + 10], 0) — the carried tensor doubles in rows each time.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [OpTest("Enter", "Merge", "Switch", "NextIteration", "Exit")]
    public void Loop_carries_a_tensor_whose_shape_changes(int n)
    {
        var b = new TfGraphBuilder();
        b.PlaceholderOf("n", DataType.DtInt32, []);
        b.ConstInt("zero", [0], []);
        b.Const("x0", [1, 2], 1, 2);
        var exits = WhileLoop(b, "while", ["zero", "x0"], ["n"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, _) =>
            {
                var ten = b.Const("while/ten", [10], []);
                b.Graph.Node.Last().Input.Add("^" + v[0]);
                var shifted = b.Op("while/shifted", "Add", v[1], ten).Name;
                var axis = ConstIn(b, "while/axis", 0, v[0]);
                var concat = b.Op("while/concat", "ConcatV2", v[1], shifted, axis);
                concat.Attr["N"] = TfGraphBuilder.Int(2);
                return [b.Op("while/add", "Add", v[0], ConstIn(b, "while/one", 1, v[0])).Name, concat.Name];
            });
        b.Op("x", "Identity", exits[1]);
        var graph = b.Build();

        // Every iteration changes the row count, so shape inference may not claim one for the loop or what leaves it.
        var shapes = ShapeInference.Infer(graph);
        Assert.Equal([-1L, 2], shapes.Shape("while/Merge_1")!);
        Assert.Equal([-1L, 2], shapes.Shape("x")!);

        var expected = new List<float> { 1, 2 };
        for (var i = 0; i < n; i++)
            expected.AddRange(expected.Select(v => v + 10).ToList());
        using var feed = GraphTensor.FromArray(new[] { n }, []);
        using var result = Run(graph, new() { ["n"] = feed }, "x");
        Assert.Equal([1L << n, 2], result[0].Shape);
        Assert.Equal(expected, result[0].ToArray<float>());
    }

    /// <summary>y = y * w + c, k times, with w and c fed tensors that enter the loop as invariants (is_constant).</summary>
    [Fact]
    [OpTest("Enter", "Merge", "Switch", "LoopCond", "NextIteration", "Exit")]
    public void Loop_reads_invariant_tensors_from_outside()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("w", 3);
        b.Placeholder("c", 3);
        b.Placeholder("y0", 3);
        b.ConstInt("k", [4], []);
        b.ConstInt("zero", [0], []);
        var exits = WhileLoop(b, "while", ["zero", "y0"], ["k", "w", "c"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, inv) =>
            [
                b.Op("while/add", "Add", v[0], ConstIn(b, "while/one", 1, v[0])).Name,
                b.Op("while/axpy", "Add", b.Op("while/mul", "Mul", v[1], inv[1]).Name, inv[2]).Name,
            ]);
        b.Op("y", "Identity", exits[1]);
        float[] w = [0.5f, -1, 2], c = [1, 2, -3], y0 = [4, 5, 6];
        var expected = (float[])y0.Clone();
        for (var it = 0; it < 4; it++)
        {
            for (var i = 0; i < 3; i++)
                expected[i] = expected[i] * w[i] + c[i];
        }
        using var tw = GraphTensor.FromArray(w, 3);
        using var tc = GraphTensor.FromArray(c, 3);
        using var ty = GraphTensor.FromArray(y0, 3);
        using var result = Run(b.Build(), new() { ["w"] = tw, ["c"] = tc, ["y0"] = ty }, "y");
        Assert.Equal(expected, result[0].ToArray<float>());
    }
}
