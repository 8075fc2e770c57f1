using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>
/// TensorFlow 2's functional ops. A call (PartitionedCall, StatefulPartitionedCall) is inlined when the graph is
/// lowered, so its body takes the same path as any other nodes. While and If keep their function bodies: a While
/// becomes an ONNX Loop whose body is the body function, with the cond function evaluated on the values entering the
/// loop and again in the body on the next values; an If becomes an ONNX If of its two branch functions, or, when shape
/// inference knows the condition, just the taken branch.
/// </summary>
internal static class FunctionOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("PartitionedCall", s => s.Unknown(), null, Lower: FunctionLibrary.Inline),
        new("StatefulPartitionedCall", s => s.Unknown(), null, Lower: FunctionLibrary.Inline),
        new("While", WhileShape, While),
        new("StatelessWhile", WhileShape, While),
        new("If", IfShape, If),
        new("StatelessIf", IfShape, If),
    ];

    /// <summary>Passes of the body's shape inference before carried shapes that still change are given up.</summary>
    private const int MaxPasses = 5;

    /// <summary>While and If bodies nested deeper than this are taken for a function that calls itself.</summary>
    private const int MaxNesting = 8;

    [ThreadStatic]
    private static int _nesting;

    private readonly struct Nesting : IDisposable
    {
        public void Dispose() => _nesting--;
    }

    /// <summary>Shape inference of a function body, which may hold While and If nodes whose rules infer their own bodies.</summary>
    private static GraphShapes Infer(FunctionInstance function)
    {
        using var _ = Nest(function.Name);
        return ShapeInference.Infer(function.Graph);
    }

    private static Nesting Nest(string function)
    {
        if (_nesting >= MaxNesting)
            throw new NotSupportedException($"function '{function}' is nested more than {MaxNesting} deep (does it call itself?).");
        _nesting++;
        return new Nesting();
    }

    private static NameAttrList Function(NodeDef node, string attr) =>
        node.Attr.TryGetValue(attr, out var v) && v.ValueCase == AttrValue.ValueOneofCase.Func ? v.Func
        : throw new NotSupportedException($"node '{node.Name}' ({node.Op}) has no function attribute '{attr}'.");

    /// <summary>The loop variables the body returns unchanged (captured values TensorFlow passes through the loop).</summary>
    private static bool[] Invariant(TfGraph graph, NodeDef node, int count)
    {
        var result = new bool[count];
        if (FunctionLibrary.Find(graph, Function(node, "body").Name) is not { } body)
            return result;
        var inputs = body.Signature.InputArg;
        var outputs = body.Signature.OutputArg;
        for (var k = 0; k < count && k < inputs.Count && k < outputs.Count; k++)
            result[k] = body.Ret.TryGetValue(outputs[k].Name, out var ret) && ret == inputs[k].Name;
        return result;
    }

    /// <summary>
    /// A While's outputs have the shapes the loop keeps: the body is inferred from the entering shapes, and dimensions
    /// it changes become unknown, until nothing changes. Values the body passes through keep their value.
    /// </summary>
    private static void WhileShape(ShapeContext s)
    {
        var count = s.InputCount;
        var types = Enumerable.Range(0, count).Select(s.Type).ToArray();
        var shapes = Enumerable.Range(0, count).Select(s.Shape).ToArray();
        var invariant = Invariant(s.Graph, s.Node, count);
        for (var pass = 0; ; pass++)
        {
            var body = FunctionLibrary.Instantiate(s.Graph, Function(s.Node, "body"),
                Enumerable.Range(0, count).Select(k => new FunctionArgument(types[k], shapes[k], invariant[k] ? s.Value(k) : null)).ToList());
            var inferred = Infer(body);
            var changed = false;
            for (var k = 0; k < count && k < body.Results.Count; k++)
            {
                var joined = ControlFlowOps.Join(shapes[k], inferred.Shape(body.Results[k]));
                if (!(joined is null ? shapes[k] is null : shapes[k] is not null && joined.SequenceEqual(shapes[k]!)))
                {
                    changed = true;
                    shapes[k] = pass + 1 >= MaxPasses ? null : joined;
                }
            }
            if (!changed || pass + 1 >= MaxPasses)
                break;
        }
        for (var k = 0; k < count; k++)
            s.Set(k, shapes[k], types[k], invariant[k] ? s.Value(k) : null);
    }

    /// <summary>What an If's branch functions are called with: its inputs after the condition.</summary>
    private static List<FunctionArgument> BranchArguments(ShapeContext s) =>
        Enumerable.Range(1, s.InputCount - 1).Select(i => new FunctionArgument(s.Type(i), s.Shape(i), s.Value(i))).ToList();

    private static void IfShape(ShapeContext s)
    {
        var arguments = BranchArguments(s);
        var types = s.Node.Attr.TryGetValue("Tout", out var tout) && tout.List is { } list ? list.Type.ToList() : [];
        if (ControlFlowGraph.PredicateValue(s.Value(0)) is { } taken)
        {
            // Only the taken branch runs: its shapes and values are the If's.
            var branch = FunctionLibrary.Instantiate(s.Graph, Function(s.Node, taken ? "then_branch" : "else_branch"), arguments);
            var inferred = Infer(branch);
            for (var k = 0; k < branch.Results.Count; k++)
                s.Set(k, inferred.Shape(branch.Results[k]), inferred.Type(branch.Results[k]), inferred.Value(branch.Results[k]));
            return;
        }
        var then = FunctionLibrary.Instantiate(s.Graph, Function(s.Node, "then_branch"), arguments);
        var otherwise = FunctionLibrary.Instantiate(s.Graph, Function(s.Node, "else_branch"), arguments);
        var thenShapes = Infer(then);
        var elseShapes = Infer(otherwise);
        for (var k = 0; k < then.Results.Count; k++)
        {
            var type = k < types.Count ? types[k] : thenShapes.Type(then.Results[k]);
            var shape = k < otherwise.Results.Count ? ControlFlowOps.Join(thenShapes.Shape(then.Results[k]), elseShapes.Shape(otherwise.Results[k])) : null;
            s.Set(k, shape, type);
        }
    }

    /// <summary>
    /// Translates a function instance into <paramref name="builder"/> with its arguments bound to ONNX values; returns
    /// its results. A function reads nothing but its arguments, so it gets a translation scope of its own.
    /// </summary>
    public static List<string> TranslateFunction(TranslationContext c, OnnxBuilder builder, FunctionInstance function, IReadOnlyList<string> arguments)
    {
        if (c.Functions.Count >= 64 || c.Functions.Contains(function.Name))
            throw new NotSupportedException($"function '{function.Name}' calls itself (through {string.Join(" → ", c.Functions)}).");
        var graph = function.Graph;
        var shapes = Infer(function);
        var lowered = graph.Lowered;
        var needed = lowered.Ancestors(function.Results.Select(r => r.Node));
        var unsupported = GraphTranslator.Unsupported(lowered, needed, shapes);
        if (unsupported.Count > 0)
            throw new NotSupportedException($"in function '{function.Name}': {GraphTranslator.Describe(unsupported)}");
        var problems = shapes.Problems.Where(p => needed.Contains(p.Node)).ToList();
        if (problems.Count > 0)
            throw new NotSupportedException($"function '{function.Name}' is inconsistent: " + string.Join("; ", problems.Take(5).Select(p => $"node '{p.Node}' ({p.Problem})")) + ".");
        var flow = ControlFlowGraph.Analyze(lowered, shapes, lowered.Order(out _));
        var scope = new TranslationContext(lowered, shapes, builder);
        scope.Functions.AddRange(c.Functions);
        scope.Functions.Add(function.Name);
        for (var i = 0; i < function.Arguments.Count; i++)
        {
            var node = lowered.GetNode(function.Arguments[i]);
            if (node.Op == "Placeholder")
                scope.Set(node, 0, arguments[i]);
        }
        var regions = new RegionTranslator(flow);
        regions.Translate(scope, FlowContext.Root, function.Results);
        return function.Results.Select(r => scope.Get(r)).ToList();
    }

    /// <summary>TensorFlow takes a non-boolean condition as "not zero"; ONNX wants a bool.</summary>
    private static string ToBool(OnnxBuilder builder, string value, DataType type) =>
        type == DataType.DtBool ? value : builder.Node("Cast", [value], attributes: ("to", (long)Onnx.TensorProto.Types.DataType.Bool));

    private static List<FunctionArgument> Arguments(NodeDef node, TranslationContext c, IEnumerable<int> inputs, bool[]? invariant = null, bool useOutputShapes = false) =>
        inputs.Select((i, k) =>
        {
            var t = node.DataInput(i);
            var shape = useOutputShapes ? c.Shape(new TensorName(node.Name, k)) : c.Shape(t);
            return new FunctionArgument(c.Type(t), shape, invariant is null || invariant[k] ? c.Value(t) : null);
        }).ToList();

    private static void While(NodeDef node, TranslationContext c)
    {
        var count = node.DataInputCount();
        var invariant = Invariant(c.Graph, node, count);
        var initial = Enumerable.Range(0, count).Select(k => c.Get(node.DataInput(k))).ToList();
        var loopShapes = Arguments(node, c, Enumerable.Range(0, count), invariant, useOutputShapes: true);
        var cond = FunctionLibrary.Instantiate(c.Graph, Function(node, "cond"), loopShapes);
        var body = FunctionLibrary.Instantiate(c.Graph, Function(node, "body"), loopShapes);
        var condType = cond.Results.Count == 1 ? Infer(cond).Type(cond.Results[0]) : DataType.DtBool;

        var enter = ToBool(c.Builder, TranslateFunction(c, c.Builder, cond, initial)[0], condType);
        var builder = c.Builder.Child("while_body");
        var iteration = builder.Fresh("iteration");
        var condIn = builder.Fresh("cond_in");
        builder.Graph.Input.Add(OnnxBuilder.ValueInfo(iteration, DataType.DtInt64, []));
        builder.Graph.Input.Add(OnnxBuilder.ValueInfo(condIn, DataType.DtBool, []));
        var carried = new List<string>();
        for (var k = 0; k < count; k++)
        {
            var name = builder.Fresh("carried");
            var sequence = builder.SequenceType(initial[k]);
            if (sequence is { } element)
                builder.SetSequence(name, element);
            builder.Graph.Input.Add(OnnxBuilder.ValueInfoOf(name, sequence ?? loopShapes[k].Type, sequence is not null));
            carried.Add(name);
        }
        var next = TranslateFunction(c, builder, body, carried);
        var again = ToBool(builder, TranslateFunction(c, builder, cond, next)[0], condType);
        var condOut = builder.Node("Identity", [again]);
        builder.Graph.Output.Add(OnnxBuilder.ValueInfo(condOut, DataType.DtBool, []));
        for (var k = 0; k < count; k++)
        {
            var output = builder.Node("Identity", [next[k]]);
            var sequence = builder.SequenceType(next[k]);
            builder.Graph.Output.Add(OnnxBuilder.ValueInfoOf(output, sequence ?? loopShapes[k].Type, sequence is not null));
        }
        var outputs = c.Builder.NodeMulti("Loop", ["", enter, .. initial], count, node.Name, ("body", builder.Graph));
        for (var k = 0; k < count; k++)
        {
            if (builder.SequenceType(initial[k]) is { } element)
                c.SetSequence(node, k, outputs[k], element);
            else
                c.Set(node, k, outputs[k]);
        }
    }

    private static void If(NodeDef node, TranslationContext c)
    {
        var count = node.DataInputCount();
        var arguments = Arguments(node, c, Enumerable.Range(1, count - 1));
        var values = Enumerable.Range(1, count - 1).Select(i => c.Get(node.DataInput(i))).ToList();
        var condition = node.DataInput(0);
        if (ControlFlowGraph.PredicateValue(c.Value(condition)) is { } taken)
        {
            var branch = FunctionLibrary.Instantiate(c.Graph, Function(node, taken ? "then_branch" : "else_branch"), arguments);
            var results = TranslateFunction(c, c.Builder, branch, values);
            for (var k = 0; k < results.Count; k++)
                c.Set(node, k, results[k]);
            return;
        }
        var sequences = new Dictionary<int, DataType>();
        Onnx.GraphProto Branch(string attr)
        {
            var function = FunctionLibrary.Instantiate(c.Graph, Function(node, attr), arguments);
            var builder = c.Builder.Child(attr);
            var results = TranslateFunction(c, builder, function, values);
            for (var k = 0; k < results.Count; k++)
            {
                var output = builder.Node("Identity", [results[k]]);
                var sequence = builder.SequenceType(results[k]);
                if (sequence is { } element)
                    sequences.TryAdd(k, element);
                builder.Graph.Output.Add(OnnxBuilder.ValueInfoOf(output, sequence ?? c.Type(new TensorName(node.Name, k)), sequence is not null));
            }
            return builder.Graph;
        }
        var then = Branch("then_branch");
        var otherwise = Branch("else_branch");
        var outputs = c.Builder.NodeMulti("If", [ToBool(c.Builder, c.Get(condition), c.Type(condition))], then.Output.Count, node.Name,
            ("then_branch", then), ("else_branch", otherwise));
        for (var k = 0; k < outputs.Length; k++)
        {
            if (sequences.TryGetValue(k, out var element))
                c.SetSequence(node, k, outputs[k], element);
            else
                c.Set(node, k, outputs[k]);
        }
    }

    /// <summary>Nodes inside the functions of a While or If (needed ones, recursively) that TfPose cannot run, named <c>node/function/inner</c>.</summary>
    public static IEnumerable<UnsupportedNode> UnsupportedInside(NodeDef node, TfGraph graph, GraphShapes shapes)
    {
        var isWhile = node.Op is "While" or "StatelessWhile";
        // With a known condition only the taken branch is translated.
        string[] attrs = isWhile ? ["cond", "body"]
            : ControlFlowGraph.PredicateValue(shapes.Value(node.DataInput(0))) is { } taken ? [taken ? "then_branch" : "else_branch"]
            : ["then_branch", "else_branch"];
        var inputs = isWhile ? Enumerable.Range(0, node.DataInputCount()) : Enumerable.Range(1, node.DataInputCount() - 1);
        var arguments = inputs.Select((i, k) => new FunctionArgument(shapes.Type(node.DataInput(i)),
            isWhile ? shapes.Shape(new TensorName(node.Name, k)) : shapes.Shape(node.DataInput(i)))).ToList();
        foreach (var attr in attrs)
        {
            if (!node.Attr.TryGetValue(attr, out var f) || f.ValueCase != AttrValue.ValueOneofCase.Func)
            {
                yield return new UnsupportedNode(node.Name, node.Op, $"no function attribute '{attr}'");
                continue;
            }
            if (FunctionLibrary.Find(graph, f.Func.Name) is null)
            {
                yield return new UnsupportedNode(node.Name, node.Op, $"function '{f.Func.Name}' is not in the graph's library");
                continue;
            }
            FunctionInstance? function = null;
            string? failure = null;
            try
            {
                function = FunctionLibrary.Instantiate(graph, f.Func, arguments);
            }
            catch (NotSupportedException ex)
            {
                failure = ex.Message;
            }
            if (function is null)
            {
                yield return new UnsupportedNode(node.Name, node.Op, failure);
                continue;
            }
            if (_nesting >= MaxNesting)
            {
                yield return new UnsupportedNode(node.Name, node.Op, $"function '{f.Func.Name}' is nested more than {MaxNesting} deep (does it call itself?)");
                continue;
            }
            List<UnsupportedNode> inside;
            using (Nest(f.Func.Name))
            {
                var lowered = function.Graph.Lowered;
                var needed = lowered.Ancestors(function.Results.Select(r => r.Node));
                inside = GraphTranslator.Unsupported(lowered, needed, ShapeInference.Infer(function.Graph));
            }
            foreach (var inner in inside)
                yield return inner with { Node = $"{node.Name}/{f.Func.Name}/{inner.Node}" };
        }
    }
}
