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

    private static string PlaceholderOf(TfGraphBuilder b, string name, DataType type, long[]? shape)
    {
        var node = b.Op(name, "Placeholder");
        node.Attr.Remove("T");
        node.Attr["dtype"] = new AttrValue { Type = type };
        node.Attr["shape"] = new AttrValue { Shape = shape is null ? new TensorShapeProto { UnknownRank = true } : TensorValue.ShapeProto(shape) };
        return name;
    }

    private static AttrValue AttrType(DataType type) => new() { Type = type };

    private static AttrValue AttrBool(bool value) => new() { B = value };

    private static AttrValue AttrInt(long value) => new() { I = value };

    private static AttrValue AttrShape(params long[] dims) => new() { Shape = TensorValue.ShapeProto(dims) };

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
            enter.Attr["is_constant"] = AttrBool(constant);
            enter.Attr["parallel_iterations"] = AttrInt(10);
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
        cast.Attr["SrcT"] = AttrType(DataType.DtInt32);
        cast.Attr["DstT"] = AttrType(DataType.DtBool);
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
        PlaceholderOf(b, "n", DataType.DtInt32, []);
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
        PlaceholderOf(b, "n", DataType.DtInt32, []);
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
                concat.Attr["N"] = AttrInt(2);
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

    private static NodeDef CastTo(TfGraphBuilder b, string name, string x, DataType from, DataType to)
    {
        var cast = b.Op(name, "Cast", x);
        cast.Attr["SrcT"] = AttrType(from);
        cast.Attr["DstT"] = AttrType(to);
        return cast;
    }

    private static NodeDef TensorArray(TfGraphBuilder b, string name, string size, DataType type, long[]? elementShape = null)
    {
        var ta = b.Op(name, "TensorArrayV3", size);
        ta.Attr.Remove("T");
        ta.Attr["dtype"] = AttrType(type);
        ta.Attr["element_shape"] = elementShape is null ? new AttrValue { Shape = new TensorShapeProto { UnknownRank = true } } : AttrShape(elementShape);
        ta.Attr["dynamic_size"] = AttrBool(false);
        ta.Attr["clear_after_read"] = AttrBool(true);
        ta.Attr["identical_element_shapes"] = AttrBool(true);
        ta.Attr["tensor_array_name"] = TfGraphBuilder.Str("");
        return ta;
    }

    /// <summary>
    /// ta = TensorArray(size n); for i in range(n): ta = ta.write(i, float(i)²); then gather [2, 0, 3], size and
    /// read(1) — the write inside the loop threads the array's flow through the loop as a carried value.
    /// </summary>
    [Fact]
    [OpTest("TensorArrayV3", "TensorArrayWriteV3", "TensorArrayGatherV3", "TensorArraySizeV3", "TensorArrayReadV3", "TensorArrayCloseV3")]
    public void Loop_writes_a_tensor_array_that_is_gathered_after_it()
    {
        var b = new TfGraphBuilder();
        PlaceholderOf(b, "n", DataType.DtInt32, []);
        b.ConstInt("zero", [0], []);
        TensorArray(b, "TensorArray", "n", DataType.DtFloat);
        var exits = WhileLoop(b, "while", ["zero", "TensorArray:1"], ["n", "TensorArray"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, inv) =>
            {
                var f = CastTo(b, "while/ToFloat", v[0], DataType.DtInt32, DataType.DtFloat).Name;
                var square = b.Op("while/square", "Mul", f, f).Name;
                var write = b.Op("while/TensorArrayWriteV3", "TensorArrayWriteV3", inv[1], v[0], square, v[1]).Name;
                return [b.Op("while/add", "Add", v[0], ConstIn(b, "while/one", 1, v[0])).Name, write];
            });
        b.ConstInt("indices", [2, 0, 3], 3);
        var gather = b.Op("gathered", "TensorArrayGatherV3", "TensorArray", "indices", exits[1]);
        gather.Attr["dtype"] = AttrType(DataType.DtFloat);
        gather.Attr["element_shape"] = AttrShape();
        b.Op("size", "TensorArraySizeV3", "TensorArray", exits[1]);
        b.ConstInt("one", [1], []);
        b.Op("read", "TensorArrayReadV3", "TensorArray", "one", exits[1]).Attr["dtype"] = AttrType(DataType.DtFloat);
        b.Op("close", "TensorArrayCloseV3", "TensorArray").Input.Add("^gathered");
        b.Op("out", "Identity", "gathered").Input.Add("^close");

        using var feed = GraphTensor.FromArray(new[] { 4 }, []);
        using var result = Run(b.Build(), new() { ["n"] = feed }, "out", "size", "read");
        Assert.Equal([4f, 0f, 9f], result[0].ToArray<float>());
        Assert.Equal([3L], result[0].Shape);
        Assert.Equal(4, result[1].ToArray<int>()[0]);
        Assert.Equal(1f, result[2].ToArray<float>()[0]);
    }

    /// <summary>
    /// What tf.map_fn writes: the rows of x are scattered into a TensorArray (unstack), the loop reads row i,
    /// computes f(row) = sum(row * row) + i and writes it into a second array, which is stacked after the loop.
    /// </summary>
    [Fact]
    [OpTest("TensorArrayV3", "TensorArrayScatterV3", "TensorArrayReadV3", "TensorArrayWriteV3", "TensorArrayGatherV3")]
    public void Map_over_rows_scatters_reads_writes_and_gathers()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 3, 4);
        b.ConstInt("rows", [3], []);
        b.ConstInt("zero", [0], []);
        b.ConstInt("range", [0, 1, 2], 3);
        TensorArray(b, "map/TensorArray", "rows", DataType.DtFloat);
        TensorArray(b, "map/TensorArray_1", "rows", DataType.DtFloat);
        b.Op("map/TensorArrayUnstack/TensorArrayScatterV3", "TensorArrayScatterV3", "map/TensorArray", "range", "x", "map/TensorArray:1");
        var exits = WhileLoop(b, "map/while", ["zero", "map/TensorArray_1:1"],
            ["rows", "map/TensorArray", "map/TensorArrayUnstack/TensorArrayScatterV3", "map/TensorArray_1"],
            (m, inv) => NotZero(b, "map/while/NotEqual", b.Op("map/while/remaining", "Sub", inv[0], m[0]).Name),
            (v, inv) =>
            {
                var row = b.Op("map/while/TensorArrayReadV3", "TensorArrayReadV3", inv[1], v[0], inv[2]);
                row.Attr["dtype"] = AttrType(DataType.DtFloat);
                var squares = b.Op("map/while/mul", "Mul", row.Name, row.Name).Name;
                var sum = b.Op("map/while/Sum", "Sum", squares, ConstIn(b, "map/while/axis", 0, v[0]));
                sum.Attr["keep_dims"] = AttrBool(false);
                var f = b.Op("map/while/plus_i", "Add", sum.Name, CastTo(b, "map/while/ToFloat", v[0], DataType.DtInt32, DataType.DtFloat).Name).Name;
                var write = b.Op("map/while/TensorArrayWriteV3", "TensorArrayWriteV3", inv[3], v[0], f, v[1]).Name;
                return [b.Op("map/while/add", "Add", v[0], ConstIn(b, "map/while/one", 1, v[0])).Name, write];
            });
        var stack = b.Op("map/TensorArrayStack/TensorArrayGatherV3", "TensorArrayGatherV3", "map/TensorArray_1", "range", exits[1]);
        stack.Attr["dtype"] = AttrType(DataType.DtFloat);
        stack.Attr["element_shape"] = AttrShape();
        var graph = b.Build();
        Assert.Equal([3L], ShapeInference.Infer(graph).Shape("map/TensorArrayStack/TensorArrayGatherV3")!);

        var x = Enumerable.Range(0, 12).Select(i => i * 0.5f - 2).ToArray();
        var expected = Enumerable.Range(0, 3).Select(r => Enumerable.Range(0, 4).Sum(c => x[r * 4 + c] * x[r * 4 + c]) + r).ToArray();
        using var feed = GraphTensor.FromArray(x, 3, 4);
        using var result = Run(graph, new() { ["x"] = feed }, "map/TensorArrayStack/TensorArrayGatherV3");
        var actual = result[0].ToArray<float>();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], actual[i], 4);
    }

    /// <summary>
    /// tf.cond as TensorFlow 1 writes it: the pivot Switch(pred, pred), the inputs switched on Identity(pred), branch
    /// constants with a control input from switch_t/switch_f, and one Merge(false, true) per output.
    /// </summary>
    private static TfGraphBuilder Cond(string predicate, Action<TfGraphBuilder>? addPredicate = null, string falseOp = "Add")
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2);
        addPredicate?.Invoke(b);
        b.Op("cond/Switch", "Switch", predicate, predicate);
        b.Op("cond/switch_t", "Identity", "cond/Switch:1");
        b.Op("cond/switch_f", "Identity", "cond/Switch:0");
        b.Op("cond/pred_id", "Identity", predicate);
        // true: t = x * 2; outputs t and t + 1
        b.Op("cond/mul/Switch", "Switch", "x", "cond/pred_id");
        b.Const("cond/mul/y", [2], []);
        b.Graph.Node.Last().Input.Add("^cond/switch_t");
        b.Op("cond/mul", "Mul", "cond/mul/Switch:1", "cond/mul/y");
        b.Const("cond/one", [1], []);
        b.Graph.Node.Last().Input.Add("^cond/switch_t");
        b.Op("cond/plus", "Add", "cond/mul", "cond/one");
        // false: f = x + 100 (through falseOp); outputs f and f - 1
        b.Op("cond/add/Switch", "Switch", "x", "cond/pred_id");
        b.Const("cond/add/y", [100], []);
        b.Graph.Node.Last().Input.Add("^cond/switch_f");
        b.Op("cond/add", falseOp, "cond/add/Switch:0", "cond/add/y");
        b.Const("cond/one_f", [1], []);
        b.Graph.Node.Last().Input.Add("^cond/switch_f");
        b.Op("cond/minus", "Sub", "cond/add", "cond/one_f");
        b.Op("cond/Merge", "Merge", "cond/add", "cond/mul");
        b.Op("cond/Merge_1", "Merge", "cond/minus", "cond/plus");
        b.Op("y", "Identity", "cond/Merge");
        b.Op("z", "Identity", "cond/Merge_1");
        b.Op("index", "Identity", "cond/Merge:1");
        return b;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [OpTest("Switch", "Merge")]
    public void Cond_with_a_known_predicate_translates_only_the_taken_side(bool predicate)
    {
        // The untaken side uses an op TfPose does not have: it must be neither translated nor reported.
        var b = Cond("pred", b => b.ConstValue("pred", TensorValue.FromArray<byte>(DataType.DtBool, [], [predicate ? (byte)1 : (byte)0])),
            falseOp: predicate ? "NoSuchOp" : "Add");
        if (!predicate)
            b.Graph.Node.Single(n => n.Name == "cond/mul").Op = "NoSuchOp";
        var graph = b.Build();
        Assert.Empty(GraphTranslator.UnsupportedOps(graph, ["y", "z", "index"]));
        var model = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(graph, new TranslationOptions { Outputs = ["y", "z", "index"] }).OnnxModel);
        Assert.DoesNotContain(model.Graph.Node, n => n.OpType == "If");

        float[] x = [1.5f, -4];
        using var feed = GraphTensor.FromArray(x, 2);
        using var result = Run(graph, new() { ["x"] = feed }, "y", "z", "index");
        Assert.Equal(predicate ? x.Select(v => v * 2) : x.Select(v => v + 100), result[0].ToArray<float>());
        Assert.Equal(predicate ? x.Select(v => v * 2 + 1) : x.Select(v => v + 99), result[1].ToArray<float>());
        Assert.Equal(predicate ? 1 : 0, result[2].ToArray<int>()[0]); // Merge's value_index: the input it forwarded
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [OpTest("Switch", "Merge")]
    public void Cond_on_a_fed_predicate_becomes_one_onnx_if(bool predicate)
    {
        var graph = Cond("pred", b => PlaceholderOf(b, "pred", DataType.DtBool, [])).Build();
        var model = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(graph, new TranslationOptions { Outputs = ["y", "z", "index"] }).OnnxModel);
        Assert.Single(model.Graph.Node, n => n.OpType == "If"); // both Merges are outputs of one conditional

        float[] x = [1.5f, -4];
        using var feed = GraphTensor.FromArray(x, 2);
        using var pred = GraphTensor.FromArray(new[] { predicate }, []);
        using var result = Run(graph, new() { ["x"] = feed, ["pred"] = pred }, "y", "z", "index");
        Assert.Equal(predicate ? x.Select(v => v * 2) : x.Select(v => v + 100), result[0].ToArray<float>());
        Assert.Equal(predicate ? x.Select(v => v * 2 + 1) : x.Select(v => v + 99), result[1].ToArray<float>());
        Assert.Equal(predicate ? 1 : 0, result[2].ToArray<int>()[0]);
    }

    /// <summary>count = 0; for i in range(n): for j in range(i): count += 1 — n(n-1)/2, the inner loop's frame inside the outer's.</summary>
    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [OpTest("Enter", "Merge", "Switch", "LoopCond", "NextIteration", "Exit")]
    public void Nested_loops_count_pairs(int n)
    {
        var b = new TfGraphBuilder();
        PlaceholderOf(b, "n", DataType.DtInt32, []);
        b.ConstInt("zero", [0], []);
        var exits = WhileLoop(b, "outer", ["zero", "zero"], ["n"],
            (m, inv) => NotZero(b, "outer/NotEqual", b.Op("outer/remaining", "Sub", inv[0], m[0]).Name),
            (v, _) =>
            {
                var innerZero = ConstIn(b, "outer/inner_zero", 0, v[0]);
                var inner = WhileLoop(b, "outer/inner", [innerZero, v[1]], [v[0]],
                    (m, inv) => NotZero(b, "outer/inner/NotEqual", b.Op("outer/inner/remaining", "Sub", inv[0], m[0]).Name),
                    (w, _) =>
                    [
                        b.Op("outer/inner/add", "Add", w[0], ConstIn(b, "outer/inner/one", 1, w[0])).Name,
                        b.Op("outer/inner/count", "Add", w[1], ConstIn(b, "outer/inner/one_1", 1, w[0])).Name,
                    ]);
                return [b.Op("outer/add", "Add", v[0], ConstIn(b, "outer/one", 1, v[0])).Name, inner[1]];
            });
        b.Op("count", "Identity", exits[1]);
        using var feed = GraphTensor.FromArray(new[] { n }, []);
        using var result = Run(b.Build(), new() { ["n"] = feed }, "count");
        Assert.Equal(n * (n - 1) / 2, result[0].ToArray<int>()[0]);
    }

    [Fact]
    public void Inspect_lists_unsupported_ops_inside_and_outside_a_loop_at_once()
    {
        var b = new TfGraphBuilder();
        PlaceholderOf(b, "n", DataType.DtInt32, []);
        b.ConstInt("zero", [0], []);
        var exits = WhileLoop(b, "while", ["zero"], ["n"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, _) => [b.Op("while/odd", "NoSuchLoopOp", v[0]).Name]);
        b.Op("after", "NoSuchOuterOp", exits[0]);
        var unsupported = GraphTranslator.UnsupportedOps(b.Build());
        Assert.Contains(unsupported, u => u.Node == "while/odd" && u.Op == "NoSuchLoopOp");
        Assert.Contains(unsupported, u => u.Node == "after" && u.Op == "NoSuchOuterOp");
        Assert.Equal(2, unsupported.Count);
    }

    private static NodeDef ListOp(TfGraphBuilder b, string name, string op, DataType element, params string[] inputs)
    {
        var node = b.Op(name, op, inputs);
        node.Attr.Remove("T");
        node.Attr["element_dtype"] = AttrType(element);
        node.Attr["shape_type"] = AttrType(DataType.DtInt32);
        return node;
    }

    /// <summary>
    /// tf.map_fn over a batch known only at run time, in TensorFlow 2's list form (a While lowered to TF1 control
    /// flow): the rows become a TensorList, the loop reads row i and sets item i of a reserved list to sum(row²),
    /// and the list is stacked after the loop. A batch of zero rows stacks to an empty result.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    [InlineData(0)]
    [OpTest("TensorListFromTensor", "TensorListReserve", "TensorListGetItem", "TensorListSetItem", "TensorListStack", "TensorListLength")]
    public void Map_over_a_run_time_batch_with_tensor_lists(int rows)
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", -1, 3);
        var shape = b.Op("shape", "Shape", "x");
        shape.Attr["out_type"] = AttrType(DataType.DtInt32);
        b.ConstInt("begin", [0], 1);
        b.ConstInt("end", [1], 1);
        b.ConstInt("stride", [1], 1);
        b.Op("n", "StridedSlice", "shape", "begin", "end", "stride").Attr["shrink_axis_mask"] = AttrInt(1);
        b.ConstInt("row_shape", [3], 1);
        b.ConstInt("unknown_shape", [-1], []);
        b.ConstInt("scalar_shape", [], 0);
        b.ConstInt("zero", [0], []);
        ListOp(b, "in", "TensorListFromTensor", DataType.DtFloat, "x", "row_shape");
        ListOp(b, "out", "TensorListReserve", DataType.DtFloat, "unknown_shape", "n");
        var exits = WhileLoop(b, "map/while", ["zero", "out"], ["n", "in", "row_shape"],
            (m, inv) => NotZero(b, "map/while/NotEqual", b.Op("map/while/remaining", "Sub", inv[0], m[0]).Name),
            (v, inv) =>
            {
                var row = ListOp(b, "map/while/GetItem", "TensorListGetItem", DataType.DtFloat, inv[1], v[0], inv[2]).Name;
                var sum = b.Op("map/while/Sum", "Sum", b.Op("map/while/square", "Mul", row, row).Name, ConstIn(b, "map/while/axis", 0, v[0]));
                var set = ListOp(b, "map/while/SetItem", "TensorListSetItem", DataType.DtFloat, v[1], v[0], sum.Name).Name;
                return [b.Op("map/while/add", "Add", v[0], ConstIn(b, "map/while/one", 1, v[0])).Name, set];
            });
        ListOp(b, "stacked", "TensorListStack", DataType.DtFloat, exits[1], "scalar_shape").Attr["num_elements"] = AttrInt(-1);
        ListOp(b, "length", "TensorListLength", DataType.DtFloat, exits[1]);

        var x = Enumerable.Range(0, rows * 3).Select(i => 1.5f - i * 0.25f).ToArray();
        var expected = Enumerable.Range(0, rows).Select(r => x[(r * 3)..(r * 3 + 3)].Sum(v => v * v)).ToArray();
        using var feed = GraphTensor.FromArray(x, rows, 3);
        using var result = Run(b.Build(), new() { ["x"] = feed }, "stacked", "length");
        Assert.Equal([(long)rows], result[0].Shape);
        var actual = result[0].ToArray<float>();
        for (var i = 0; i < rows; i++)
            Assert.Equal(expected[i], actual[i], 4);
        Assert.Equal(rows, result[1].ToArray<int>()[0]);
    }

    /// <summary>A list that grows: push i² for i in range(5), then gather items [4, 1] and take the length.</summary>
    [Fact]
    [OpTest("EmptyTensorList", "TensorListPushBack", "TensorListGather", "TensorListLength")]
    public void Loop_pushes_onto_a_growing_tensor_list()
    {
        var b = new TfGraphBuilder();
        b.ConstInt("scalar_shape", [], 0);
        b.ConstInt("no_limit", [-1], []);
        b.ConstInt("k", [5], []);
        b.ConstInt("zero", [0], []);
        b.ConstInt("indices", [4, 1], 2);
        ListOp(b, "list", "EmptyTensorList", DataType.DtInt32, "scalar_shape", "no_limit");
        var exits = WhileLoop(b, "while", ["zero", "list"], ["k"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, _) =>
            [
                b.Op("while/add", "Add", v[0], ConstIn(b, "while/one", 1, v[0])).Name,
                ListOp(b, "while/PushBack", "TensorListPushBack", DataType.DtInt32, v[1], b.Op("while/square", "Mul", v[0], v[0]).Name).Name,
            ]);
        ListOp(b, "gathered", "TensorListGather", DataType.DtInt32, exits[1], "indices", "scalar_shape");
        ListOp(b, "length", "TensorListLength", DataType.DtInt32, exits[1]);
        using var result = Run(b.Build(), [], "gathered", "length");
        Assert.Equal([16, 1], result[0].ToArray<int>());
        Assert.Equal(5, result[1].ToArray<int>()[0]);
    }

    /// <summary>tf.TensorArray.split then concat: rows [2, 3] of a 5×2 tensor become two elements; concat gives the rows back.</summary>
    [Fact]
    [OpTest("TensorArraySplitV3", "TensorArrayConcatV3", "TensorArrayReadV3")]
    public void Tensor_array_split_and_concat_round_trip()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 5, 2);
        b.ConstInt("two", [2], []);
        b.ConstInt("one", [1], []);
        b.ConstValue("lengths", TensorValue.FromArray<long>(DataType.DtInt64, [2], [2, 3]));
        TensorArray(b, "ta", "two", DataType.DtFloat);
        b.Op("split", "TensorArraySplitV3", "ta", "x", "lengths", "ta:1");
        var concat = b.Op("concat", "TensorArrayConcatV3", "ta", "split");
        concat.Attr["dtype"] = AttrType(DataType.DtFloat);
        b.Op("second", "TensorArrayReadV3", "ta", "one", "split").Attr["dtype"] = AttrType(DataType.DtFloat);
        var x = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        using var feed = GraphTensor.FromArray(x, 5, 2);
        using var result = Run(b.Build(), new() { ["x"] = feed }, "concat", "second");
        Assert.Equal(x, result[0].ToArray<float>());
        Assert.Equal([3L, 2], result[1].Shape);
        Assert.Equal(x[4..], result[1].ToArray<float>());
    }

    // ---- TensorFlow 2 functions ----

    /// <summary>A FunctionDef: arguments and results (all float unless given), nodes reading arguments by name and outputs as node:arg:index.</summary>
    private static FunctionDef Function(string name, (string Name, DataType Type)[] inputs, (string Name, DataType Type, string Ret)[] outputs, params NodeDef[] nodes)
    {
        var signature = new OpDef { Name = name };
        signature.InputArg.AddRange(inputs.Select(i => new OpDef.Types.ArgDef { Name = i.Name, Type = i.Type }));
        signature.OutputArg.AddRange(outputs.Select(o => new OpDef.Types.ArgDef { Name = o.Name, Type = o.Type }));
        var function = new FunctionDef { Signature = signature };
        function.NodeDef.AddRange(nodes);
        foreach (var o in outputs)
            function.Ret[o.Name] = o.Ret;
        return function;
    }

    private static NodeDef FNode(string name, string op, DataType type, params string[] inputs)
    {
        var node = new NodeDef { Name = name, Op = op };
        node.Input.AddRange(inputs);
        node.Attr["T"] = AttrType(type);
        return node;
    }

    private static NodeDef FConst(string name, TensorValue value)
    {
        var node = new NodeDef { Name = name, Op = "Const" };
        node.Attr["dtype"] = AttrType(value.Type);
        node.Attr["value"] = new AttrValue { Tensor = value.ToProto() };
        return node;
    }

    private static AttrValue Func(string name) => new() { Func = new NameAttrList { Name = name } };

    private static AttrValue Types(params DataType[] types)
    {
        var list = new AttrValue.Types.ListValue();
        list.Type.AddRange(types);
        return new AttrValue { List = list };
    }

    private static void AddLibrary(TfGraphBuilder b, params FunctionDef[] functions)
    {
        b.Graph.Library = new FunctionDefLibrary();
        b.Graph.Library.Function.AddRange(functions);
    }

    /// <summary>
    /// A frozen TF2 graph that still calls its library: scale_shift(x, y) = (x*y + 3, x*y), called directly, and
    /// square(x) = scale_shift(x, x)[1] calling it in turn. The calls are inlined.
    /// </summary>
    [Fact]
    [OpTest("StatefulPartitionedCall", "PartitionedCall")]
    public void Function_calls_are_inlined()
    {
        var b = new TfGraphBuilder();
        b.Placeholder("a", 3);
        b.Placeholder("b", 3);
        var scaleShift = Function("scale_shift", [("x", DataType.DtFloat), ("y", DataType.DtFloat)],
            [("sum", DataType.DtFloat, "add:z:0"), ("product", DataType.DtFloat, "mul:z:0")],
            FNode("add", "AddV2", DataType.DtFloat, "mul:z:0", "three:output:0"),
            FNode("mul", "Mul", DataType.DtFloat, "x", "y"),
            FConst("three", TensorValue.FromArray<float>(DataType.DtFloat, [], [3f])));
        var inner = FNode("call", "PartitionedCall", DataType.DtFloat, "x", "x");
        inner.Attr["f"] = Func("scale_shift");
        var square = Function("square", [("x", DataType.DtFloat)], [("y", DataType.DtFloat, "call:output:1")], inner);
        AddLibrary(b, scaleShift, square);
        var call = b.Op("call", "StatefulPartitionedCall", "a", "b");
        call.Attr["f"] = Func("scale_shift");
        call.Attr["Tin"] = Types(DataType.DtFloat, DataType.DtFloat);
        call.Attr["Tout"] = Types(DataType.DtFloat, DataType.DtFloat);
        b.Op("sum", "Identity", "call");
        b.Op("product", "Identity", "call:1");
        var sq = b.Op("sq", "PartitionedCall", "sum");
        sq.Attr["f"] = Func("square");
        b.Op("squared", "Identity", "sq");

        float[] a = [1, -2, 0.5f], bb = [4, 3, -6];
        using var ta = GraphTensor.FromArray(a, 3);
        using var tb = GraphTensor.FromArray(bb, 3);
        using var result = Run(b.Build(), new() { ["a"] = ta, ["b"] = tb }, "sum", "product", "squared");
        var sums = a.Zip(bb, (x, y) => x * y + 3).ToArray();
        Assert.Equal(sums, result[0].ToArray<float>());
        Assert.Equal(a.Zip(bb, (x, y) => x * y), result[1].ToArray<float>());
        Assert.Equal(sums.Select(v => v * v), result[2].ToArray<float>());
    }

    /// <summary>
    /// StatelessWhile(i = 0, acc, x = [1], n): while n - i != 0: i += 1, acc *= 2, x = concat(x, x + 1); n is passed
    /// through unchanged (a captured value). acc ends as acc·2ⁿ and x with 2ⁿ elements.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [OpTest("StatelessWhile", "While")]
    public void Functional_while_becomes_an_onnx_loop(int n)
    {
        var b = new TfGraphBuilder();
        PlaceholderOf(b, "n", DataType.DtInt32, []);
        b.Placeholder("acc0", 2);
        b.ConstInt("zero", [0], []);
        b.Const("x0", [1], 1);
        (string, DataType)[] vars = [("i", DataType.DtInt32), ("acc", DataType.DtFloat), ("x", DataType.DtFloat), ("n", DataType.DtInt32)];
        var cast = FNode("pred", "Cast", DataType.DtInt32, "remaining:z:0");
        cast.Attr["SrcT"] = AttrType(DataType.DtInt32);
        cast.Attr["DstT"] = AttrType(DataType.DtBool);
        var cond = Function("cond", vars, [("more", DataType.DtBool, "pred:y:0")],
            FNode("remaining", "Sub", DataType.DtInt32, "n", "i"), cast);
        var concat = FNode("concat", "ConcatV2", DataType.DtFloat, "x", "shifted:z:0", "axis:output:0");
        concat.Attr["N"] = AttrInt(2);
        var body = Function("body", vars,
            [("i_next", DataType.DtInt32, "next:z:0"), ("acc_next", DataType.DtFloat, "double:z:0"), ("x_next", DataType.DtFloat, "concat:output:0"), ("n_out", DataType.DtInt32, "n")],
            FNode("next", "AddV2", DataType.DtInt32, "i", "one:output:0"),
            FConst("one", TensorValue.Scalar(1)),
            FNode("double", "Mul", DataType.DtFloat, "acc", "two:output:0"),
            FConst("two", TensorValue.FromArray<float>(DataType.DtFloat, [], [2f])),
            FNode("shifted", "AddV2", DataType.DtFloat, "x", "onef:output:0"),
            FConst("onef", TensorValue.FromArray<float>(DataType.DtFloat, [], [1f])),
            FConst("axis", TensorValue.Scalar(0)),
            concat);
        AddLibrary(b, cond, body);
        var loop = b.Op("while", "StatelessWhile", "zero", "acc0", "x0", "n");
        loop.Attr.Remove("T");
        loop.Attr["T"] = Types(DataType.DtInt32, DataType.DtFloat, DataType.DtFloat, DataType.DtInt32);
        loop.Attr["cond"] = Func("cond");
        loop.Attr["body"] = Func("body");
        b.Op("count", "Identity", "while");
        b.Op("acc", "Identity", "while:1");
        b.Op("x", "Identity", "while:2");
        var graph = b.Build();
        Assert.Equal([-1L], ShapeInference.Infer(graph).Shape("x")!);

        var expected = new List<float> { 1 };
        for (var i = 0; i < n; i++)
            expected.AddRange(expected.Select(v => v + 1).ToList());
        using var tn = GraphTensor.FromArray(new[] { n }, []);
        using var tacc = GraphTensor.FromArray(new[] { 1.5f, -0.25f }, 2);
        using var result = Run(graph, new() { ["n"] = tn, ["acc0"] = tacc }, "count", "acc", "x");
        Assert.Equal(n, result[0].ToArray<int>()[0]);
        Assert.Equal([1.5f * (1 << n), -0.25f * (1 << n)], result[1].ToArray<float>());
        Assert.Equal(expected, result[2].ToArray<float>());
    }

    /// <summary>StatelessIf(cond, x): then x * 2, else x + 100; fed (an ONNX If) and constant (only the taken branch, the other using an op TfPose lacks).</summary>
    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [OpTest("StatelessIf", "If")]
    public void Functional_if_runs_the_branch_the_condition_selects(bool condition, bool known)
    {
        var b = new TfGraphBuilder();
        b.Placeholder("x", 2);
        if (known)
            b.ConstValue("c", TensorValue.FromArray<byte>(DataType.DtBool, [], [condition ? (byte)1 : (byte)0]));
        else
            PlaceholderOf(b, "c", DataType.DtBool, []);
        var then = Function("then", [("x", DataType.DtFloat)], [("y", DataType.DtFloat, "mul:z:0")],
            FNode("mul", known && !condition ? "NoSuchOp" : "Mul", DataType.DtFloat, "x", "two:output:0"),
            FConst("two", TensorValue.FromArray<float>(DataType.DtFloat, [], [2f])));
        var otherwise = Function("else", [("x", DataType.DtFloat)], [("y", DataType.DtFloat, "add:z:0")],
            FNode("add", known && condition ? "NoSuchOp" : "AddV2", DataType.DtFloat, "x", "hundred:output:0"),
            FConst("hundred", TensorValue.FromArray<float>(DataType.DtFloat, [], [100f])));
        AddLibrary(b, then, otherwise);
        var node = b.Op("if", known ? "If" : "StatelessIf", "c", "x");
        node.Attr["then_branch"] = Func("then");
        node.Attr["else_branch"] = Func("else");
        node.Attr["Tout"] = Types(DataType.DtFloat);
        b.Op("y", "Identity", "if");
        var graph = b.Build();
        Assert.Empty(GraphTranslator.UnsupportedOps(graph));

        float[] x = [1.5f, -4];
        using var tx = GraphTensor.FromArray(x, 2);
        var feeds = new Dictionary<string, GraphTensor> { ["x"] = tx };
        using var tc = GraphTensor.FromArray(new[] { condition }, []);
        if (!known)
            feeds["c"] = tc;
        using var result = Run(graph, feeds, "y");
        Assert.Equal(condition ? x.Select(v => v * 2) : x.Select(v => v + 100), result[0].ToArray<float>());
    }

    [Fact]
    public void Inspect_lists_unsupported_ops_inside_function_bodies()
    {
        var b = new TfGraphBuilder();
        PlaceholderOf(b, "n", DataType.DtInt32, []);
        b.ConstInt("zero", [0], []);
        (string, DataType)[] vars = [("i", DataType.DtInt32), ("n", DataType.DtInt32)];
        var cast = FNode("pred", "Cast", DataType.DtInt32, "remaining:z:0");
        cast.Attr["SrcT"] = AttrType(DataType.DtInt32);
        cast.Attr["DstT"] = AttrType(DataType.DtBool);
        AddLibrary(b,
            Function("cond", vars, [("more", DataType.DtBool, "pred:y:0")], FNode("remaining", "Sub", DataType.DtInt32, "n", "i"), cast),
            Function("body", vars, [("i_next", DataType.DtInt32, "next:z:0"), ("n_out", DataType.DtInt32, "n")], FNode("next", "NoSuchBodyOp", DataType.DtInt32, "i")));
        var loop = b.Op("while", "While", "zero", "n");
        loop.Attr["cond"] = Func("cond");
        loop.Attr["body"] = Func("body");
        var call = b.Op("call", "PartitionedCall", "while");
        call.Attr["f"] = Func("missing");
        var unsupported = GraphTranslator.UnsupportedOps(b.Build());
        Assert.Contains(unsupported, u => u.Node == "while/body/next" && u.Op == "NoSuchBodyOp");
        Assert.Contains(unsupported, u => u.Node == "call" && u.Reason!.Contains("'missing'"));
    }

    /// <summary>
    /// A tf.cond inside a while body, on a fed predicate that enters the loop as an invariant:
    /// for i in range(n): acc += i if pred else 1 — an ONNX If inside the Loop body.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    [OpTest("Switch", "Merge", "Enter")]
    public void Cond_inside_a_loop_body(bool predicate)
    {
        var b = new TfGraphBuilder();
        PlaceholderOf(b, "n", DataType.DtInt32, []);
        PlaceholderOf(b, "pred", DataType.DtBool, []);
        b.ConstInt("zero", [0], []);
        var exits = WhileLoop(b, "while", ["zero", "zero"], ["n", "pred"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, inv) =>
            {
                b.Op("while/cond/Switch", "Switch", inv[1], inv[1]);
                b.Op("while/cond/switch_t", "Identity", "while/cond/Switch:1");
                b.Op("while/cond/switch_f", "Identity", "while/cond/Switch:0");
                b.Op("while/cond/pred_id", "Identity", inv[1]);
                b.Op("while/cond/i/Switch", "Switch", v[0], "while/cond/pred_id");
                b.Op("while/cond/i", "Identity", "while/cond/i/Switch:1");
                var one = ConstIn(b, "while/cond/one", 1, "while/cond/switch_f");
                b.Op("while/cond/Merge", "Merge", one, "while/cond/i");
                return
                [
                    b.Op("while/add", "Add", v[0], ConstIn(b, "while/step", 1, v[0])).Name,
                    b.Op("while/acc", "Add", v[1], "while/cond/Merge").Name,
                ];
            });
        b.Op("acc", "Identity", exits[1]);
        using var tn = GraphTensor.FromArray(new[] { 5 }, []);
        using var tp = GraphTensor.FromArray(new[] { predicate }, []);
        using var result = Run(b.Build(), new() { ["n"] = tn, ["pred"] = tp }, "acc");
        Assert.Equal(predicate ? 0 + 1 + 2 + 3 + 4 : 5, result[0].ToArray<int>()[0]);
    }

    /// <summary>A TensorArray created empty with dynamic_size grows as the loop writes i + 0.5 at i, for i in range(4).</summary>
    [Fact]
    [OpTest("TensorArrayV3", "TensorArrayWriteV3", "TensorArrayGatherV3", "TensorArraySizeV3")]
    public void Loop_grows_a_dynamic_size_tensor_array()
    {
        var b = new TfGraphBuilder();
        b.ConstInt("zero", [0], []);
        b.ConstInt("k", [4], []);
        b.ConstInt("indices", [3, 0], 2);
        TensorArray(b, "TensorArray", "zero", DataType.DtFloat).Attr["dynamic_size"] = AttrBool(true);
        var exits = WhileLoop(b, "while", ["zero", "TensorArray:1"], ["k", "TensorArray"],
            (m, inv) => NotZero(b, "while/NotEqual", b.Op("while/remaining", "Sub", inv[0], m[0]).Name),
            (v, inv) =>
            {
                var f = CastTo(b, "while/ToFloat", v[0], DataType.DtInt32, DataType.DtFloat).Name;
                b.Const("while/half", [0.5f], []);
                b.Graph.Node.Last().Input.Add("^" + v[0]);
                var value = b.Op("while/value", "Add", f, "while/half").Name;
                var write = b.Op("while/TensorArrayWriteV3", "TensorArrayWriteV3", inv[1], v[0], value, v[1]).Name;
                return [b.Op("while/add", "Add", v[0], ConstIn(b, "while/one", 1, v[0])).Name, write];
            });
        var gather = b.Op("gathered", "TensorArrayGatherV3", "TensorArray", "indices", exits[1]);
        gather.Attr["dtype"] = AttrType(DataType.DtFloat);
        b.Op("size", "TensorArraySizeV3", "TensorArray", exits[1]);
        using var result = Run(b.Build(), [], "gathered", "size");
        Assert.Equal([3.5f, 0.5f], result[0].ToArray<float>());
        Assert.Equal(4, result[1].ToArray<int>()[0]);
    }

    /// <summary>
    /// FaceBoxes (TensorFlow.js graph model): its non-maximum suppression is a TF1 while loop mapping over the batch,
    /// with TensorArrays scattered before it, read and written inside, and gathered after. Against TensorFlow.js' own
    /// outputs on p2: scores and boxes within 1e-3 of their largest magnitude, the box count exactly.
    /// </summary>
    [Fact]
    public void Faceboxes_matches_tensorflow_js()
    {
        var folder = SharedData.Path("data", "tfjs-models", "faceboxes");
        var graph = TfGraph.Load(System.IO.Path.Combine(folder, "model.json"));
        Assert.Contains(graph.Nodes, n => n.Op == "LoopCond");
        using var session = new GraphSession(graph);
        using var input = NpyFile.Read(System.IO.Path.Combine(folder, "reference", "p2", "input.npy"));
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["image_tensor"] = input }, ["scores", "boxes", "num_boxes"]);
        foreach (var (name, i) in new[] { ("scores", 0), ("boxes", 1) })
        {
            using var expected = NpyFile.Read(System.IO.Path.Combine(folder, "reference", "p2", name + ".npy"));
            Assert.Equal(expected.Shape, result[i].Shape);
            var want = expected.ToArray<float>();
            var got = result[i].ToArray<float>();
            var tolerance = 1e-3f * want.Max(Math.Abs);
            for (var j = 0; j < want.Length; j++)
                Assert.True(Math.Abs(want[j] - got[j]) <= tolerance, $"{name}[{j}]: {got[j]} vs TensorFlow.js {want[j]}");
        }
        using var count = NpyFile.Read(System.IO.Path.Combine(folder, "reference", "p2", "num_boxes.npy"));
        Assert.Equal(count.ToArray<int>(), result[2].ToArray<int>());
    }

    /// <summary>
    /// tf.cond(tf.shape(x)[0] > 2, ...): the predicate is known once x's shape is (shape inference folds it), so only
    /// that side is translated; with the batch unknown the same graph becomes an ONNX If.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(1)]
    [OpTest("Switch", "Merge")]
    public void Cond_on_a_shape_folds_when_the_shape_is_known(int rows)
    {
        TfGraph Graph(long batch)
        {
            var b = Cond("pred", b =>
            {
                var shape = b.Op("shape", "Shape", "x");
                shape.Attr["out_type"] = AttrType(DataType.DtInt32);
                b.ConstInt("begin", [0], 1);
                b.ConstInt("end", [1], 1);
                b.ConstInt("stride", [1], 1);
                b.Op("rows", "StridedSlice", "shape", "begin", "end", "stride").Attr["shrink_axis_mask"] = AttrInt(1);
                b.ConstInt("two", [2], []);
                b.Op("pred", "Greater", "rows", "two").Attr["T"] = AttrType(DataType.DtInt32);
            });
            b.Graph.Node.Single(n => n.Name == "x").Attr["shape"] = AttrShape(batch, 2);
            return b.Build();
        }
        var x = Enumerable.Range(0, rows * 2).Select(i => i - 1.5f).ToArray();
        var expected = rows > 2 ? x.Select(v => v * 2) : x.Select(v => v + 100);
        foreach (var batch in new long[] { rows, -1 })
        {
            var graph = Graph(batch);
            var model = TfPose.Graph.Onnx.ModelProto.Parser.ParseFrom(GraphTranslator.Translate(graph, new TranslationOptions { Outputs = ["y"] }).OnnxModel);
            Assert.Equal(batch < 0, model.Graph.Node.Any(n => n.OpType == "If"));
            using var feed = GraphTensor.FromArray(x, rows, 2);
            using var result = Run(graph, new() { ["x"] = feed }, "y");
            Assert.Equal(expected, result[0].ToArray<float>());
        }
    }

    /// <summary>A While whose body runs the same While again: reported, not a stack overflow.</summary>
    [Fact]
    public void Recursive_function_bodies_are_reported()
    {
        var b = new TfGraphBuilder();
        PlaceholderOf(b, "n", DataType.DtInt32, []);
        (string, DataType)[] vars = [("n", DataType.DtInt32)];
        var cast = FNode("pred", "Cast", DataType.DtInt32, "n");
        cast.Attr["SrcT"] = AttrType(DataType.DtInt32);
        cast.Attr["DstT"] = AttrType(DataType.DtBool);
        var inner = FNode("again", "While", DataType.DtInt32, "n");
        inner.Attr["cond"] = Func("cond");
        inner.Attr["body"] = Func("body");
        AddLibrary(b,
            Function("cond", vars, [("more", DataType.DtBool, "pred:y:0")], cast),
            Function("body", vars, [("n_out", DataType.DtInt32, "again:output:0")], inner));
        var loop = b.Op("while", "While", "n");
        loop.Attr["cond"] = Func("cond");
        loop.Attr["body"] = Func("body");
        b.Op("out", "Identity", "while");
        var graph = b.Build();
        Assert.NotEmpty(GraphTranslator.UnsupportedOps(graph));
        Assert.Throws<GraphFormatException>(() => GraphTranslator.Translate(graph));
    }
}
