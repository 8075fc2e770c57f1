using TfPose.Graph.Ops;
using TfPose.Graph.Proto;

namespace TfPose.Graph.Translation;

/// <summary>What a function is called with, per argument: the dtype, the shape (null: unknown rank) and, for small integer values, the value.</summary>
internal sealed record FunctionArgument(DataType Type, long[]? Shape, TensorValue? Value = null);

/// <summary>A function of the graph's library as a graph of its own: a Placeholder (or Const) per argument, and its results.</summary>
internal sealed record FunctionInstance(string Name, TfGraph Graph, IReadOnlyList<string> Arguments, IReadOnlyList<TensorName> Results);

/// <summary>
/// TensorFlow 2's function library (<c>library.function</c>): calls (PartitionedCall, StatefulPartitionedCall, or a
/// function named as the op) are inlined into the calling graph, and the bodies of While and If become graphs of their
/// own. Inside a FunctionDef, a node reads an argument by its name and another node's output as
/// <c>node:output_arg:index</c>, which is mapped here to TensorFlow's flat output index.
/// </summary>
internal static class FunctionLibrary
{
    public static readonly IReadOnlySet<string> CallOps = new HashSet<string>(StringComparer.Ordinal) { "PartitionedCall", "StatefulPartitionedCall" };

    /// <summary>Nested calls deeper than this are taken for recursion.</summary>
    private const int MaxDepth = 64;

    public static FunctionDef? Find(TfGraph graph, string name) =>
        graph.Proto.Library?.Function.FirstOrDefault(f => f.Signature?.Name == name);

    /// <summary>The function a call node runs: its <c>f</c> attribute, or the op itself when the op names a library function.</summary>
    public static NameAttrList? CalledFunction(NodeDef node, TfGraph graph)
    {
        if (CallOps.Contains(node.Op))
            return node.Attr.TryGetValue("f", out var f) && f.ValueCase == AttrValue.ValueOneofCase.Func ? f.Func : null;
        if (Find(graph, node.Op) is not null)
        {
            var call = new NameAttrList { Name = node.Op };
            call.Attr.Add(node.Attr);
            return call;
        }
        return null;
    }

    /// <summary>Why a call cannot be inlined, or null when it can.</summary>
    public static string? Unsupported(NodeDef node, TfGraph graph) =>
        CalledFunction(node, graph) is not { } f ? "no function attribute 'f'"
        : Find(graph, f.Name) is null ? $"function '{f.Name}' is not in the graph's library"
        : null;

    /// <summary>Replaces a call node with the nodes of its function (named <c>call/node</c>), the last an Identity named as the call.</summary>
    public static Lowering? Inline(NodeDef call, TfGraph graph)
    {
        if (CalledFunction(call, graph) is not { } f || Find(graph, f.Name) is not { } function)
            return null;
        var nodes = new List<NodeDef>();
        var arguments = call.DataInputs().Select(t => t.ToString()).ToList();
        var controls = call.Input.Where(i => i.StartsWith('^')).ToList();
        var results = Expand(graph, function, f, call.Name + "/", arguments, controls, nodes, [f.Name]);
        var renamed = new Dictionary<int, string>();
        for (var k = 1; k < results.Count; k++)
            renamed[k] = results[k];
        var last = new NodeDef { Name = call.Name, Op = results.Count > 0 ? "Identity" : "NoOp" };
        if (results.Count > 0)
            last.Input.Add(results[0]);
        nodes.Add(last);
        return new Lowering(nodes, renamed);
    }

    /// <summary>
    /// The function as a graph with one Placeholder per argument (a Const where the argument's small integer value is
    /// known, so shape arithmetic folds through), inner calls inlined.
    /// </summary>
    public static FunctionInstance Instantiate(TfGraph graph, NameAttrList f, IReadOnlyList<FunctionArgument> arguments)
    {
        var function = Find(graph, f.Name) ?? throw new NotSupportedException($"function '{f.Name}' is not in the graph's library.");
        var inputs = function.Signature.InputArg;
        if (inputs.Count != arguments.Count)
            throw new NotSupportedException($"function '{f.Name}' takes {inputs.Count} argument(s) but is called with {arguments.Count}.");
        var proto = new GraphDef { Library = graph.Proto.Library, Versions = graph.Proto.Versions };
        var names = new List<string>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var arg = arguments[i];
            NodeDef node;
            if (arg.Value is { } value && ShapeMath.IsInteger(value) && value.Count <= ShapeMath.MaxFoldElements)
            {
                node = ShapeFolder.MakeConst(inputs[i].Name, value);
            }
            else
            {
                node = new NodeDef { Name = inputs[i].Name, Op = "Placeholder" };
                node.Attr["dtype"] = new AttrValue { Type = arg.Type };
                node.Attr["shape"] = new AttrValue { Shape = arg.Shape is null ? new TensorShapeProto { UnknownRank = true } : TensorValue.ShapeProto(arg.Shape) };
            }
            proto.Node.Add(node);
            names.Add(node.Name);
        }
        var nodes = new List<NodeDef>();
        var results = Expand(graph, function, f, "", names, [], nodes, [f.Name]);
        proto.Node.AddRange(nodes);
        var outputs = new List<TensorName>();
        for (var k = 0; k < results.Count; k++)
        {
            // An Identity per result, so a result that is an argument is still a node's output.
            var ret = new NodeDef { Name = $"{function.Signature.OutputArg[k].Name}/_result_{k}", Op = "Identity" };
            ret.Input.Add(results[k]);
            proto.Node.Add(ret);
            outputs.Add(new TensorName(ret.Name, 0));
        }
        return new FunctionInstance(f.Name, new TfGraph(proto, $"function '{f.Name}'"), names, outputs);
    }

    /// <summary>
    /// Appends the function's nodes, renamed with <paramref name="prefix"/> and reading <paramref name="arguments"/>, to
    /// <paramref name="output"/>; returns the tensors of its results in signature order.
    /// </summary>
    private static List<string> Expand(TfGraph graph, FunctionDef function, NameAttrList call, string prefix, IReadOnlyList<string> arguments,
        IReadOnlyList<string> controls, List<NodeDef> output, List<string> stack)
    {
        var signature = function.Signature;
        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < signature.InputArg.Count && i < arguments.Count; i++)
            args[signature.InputArg[i].Name] = arguments[i];
        var byName = function.NodeDef.ToDictionary(n => n.Name, StringComparer.Ordinal);
        // Outputs of nodes that were themselves replaced (inner calls, fused ops), by "node:index".
        var renamed = new Dictionary<string, string>(StringComparer.Ordinal);

        string Map(string input)
        {
            if (input.StartsWith('^'))
            {
                var name = input[1..];
                return args.TryGetValue(name, out var a) ? "^" + TensorName.Parse(a).Node : "^" + prefix + name;
            }
            var parts = input.Split(':');
            if (parts.Length == 1)
            {
                return args.TryGetValue(input, out var a) ? a
                    : throw new NotSupportedException($"function '{signature.Name}': '{input}' is neither an argument nor a node output.");
            }
            var producer = parts[0];
            if (!byName.TryGetValue(producer, out var node))
                throw new NotSupportedException($"function '{signature.Name}' reads '{input}', but has no node '{producer}'.");
            var index = parts.Length == 3 && int.TryParse(parts[2], out var i) ? i : 0;
            var flat = parts.Length == 3 ? FlatIndex(graph, node, parts[1], index) : int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
            var tensor = flat == 0 ? prefix + producer : $"{prefix}{producer}:{flat}";
            return renamed.GetValueOrDefault(tensor, tensor);
        }

        foreach (var original in OrderWithin(function))
        {
            var node = original.Clone();
            node.Name = prefix + original.Name;
            node.Input.Clear();
            node.Input.AddRange(original.Input.Select(Map));
            if (node.Input.Count == 0)
                node.Input.AddRange(controls);
            Substitute(node, call);
            if (CalledFunction(node, graph) is { } inner && Find(graph, inner.Name) is { } innerFunction)
            {
                if (stack.Count >= MaxDepth || stack.Contains(inner.Name))
                    throw new NotSupportedException($"function '{inner.Name}' calls itself (through {string.Join(" → ", stack)}).");
                stack.Add(inner.Name);
                var results = Expand(graph, innerFunction, inner, node.Name + "/", node.DataInputs().Select(t => t.ToString()).ToList(),
                    node.Input.Where(i => i.StartsWith('^')).ToList(), output, stack);
                stack.RemoveAt(stack.Count - 1);
                for (var k = 0; k < results.Count; k++)
                    renamed[k == 0 ? node.Name : $"{node.Name}:{k}"] = results[k];
                continue;
            }
            if (OpRegistry.Find(node.Op)?.Lower is { } rule && rule(node, graph) is { } lowering)
            {
                output.AddRange(lowering.Nodes);
                foreach (var (k, tensor) in lowering.Renamed ?? new Dictionary<int, string>())
                    renamed[$"{node.Name}:{k}"] = tensor;
                continue;
            }
            output.Add(node);
        }
        var results2 = new List<string>();
        foreach (var arg in signature.OutputArg)
        {
            if (!function.Ret.TryGetValue(arg.Name, out var ret))
                throw new NotSupportedException($"function '{signature.Name}' does not return its output '{arg.Name}'.");
            results2.Add(Map(ret));
        }
        return results2;
    }

    /// <summary>The function's nodes, each after those it reads (a FunctionDef may list them in any order).</summary>
    private static IEnumerable<NodeDef> OrderWithin(FunctionDef function)
    {
        var byName = function.NodeDef.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var done = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<NodeDef>();
        foreach (var root in function.NodeDef)
        {
            var stack = new Stack<(NodeDef Node, bool Expanded)>();
            stack.Push((root, false));
            while (stack.Count > 0)
            {
                var (node, expanded) = stack.Pop();
                if (done.Contains(node.Name))
                    continue;
                if (expanded)
                {
                    done.Add(node.Name);
                    result.Add(node);
                    continue;
                }
                stack.Push((node, true));
                foreach (var input in node.Input)
                {
                    var name = input.TrimStart('^').Split(':')[0];
                    // Back edges of TF1 loops inside a function (NextIteration → Merge) do not order anything.
                    if (byName.TryGetValue(name, out var producer) && !done.Contains(name) &&
                        !(node.Op is "Merge" && producer.Op is "NextIteration") && !stack.Any(s => s.Node.Name == name && s.Expanded))
                        stack.Push((producer, false));
                }
            }
        }
        return result;
    }

    /// <summary>Attributes the function leaves to its caller (<c>placeholder: "T"</c>) take the call's values.</summary>
    private static void Substitute(NodeDef node, NameAttrList call)
    {
        foreach (var key in node.Attr.Keys.ToList())
        {
            var value = node.Attr[key];
            if (value.ValueCase == AttrValue.ValueOneofCase.Placeholder && call.Attr.TryGetValue(value.Placeholder, out var bound))
                node.Attr[key] = bound;
        }
    }

    /// <summary>Output arguments of ops with more than one (in order), for mapping <c>node:arg:index</c> to a flat index.</summary>
    private static readonly Dictionary<string, string[]> OutputArgs = new(StringComparer.Ordinal)
    {
        ["Switch"] = ["output_false", "output_true"],
        ["RefSwitch"] = ["output_false", "output_true"],
        ["Merge"] = ["output", "value_index"],
        ["FusedBatchNorm"] = ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
        ["FusedBatchNormV2"] = ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2"],
        ["FusedBatchNormV3"] = ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"],
        ["_FusedBatchNormEx"] = ["y", "batch_mean", "batch_variance", "reserve_space_1", "reserve_space_2", "reserve_space_3"],
        ["TopKV2"] = ["values", "indices"],
        ["TensorArrayV3"] = ["handle", "flow"],
        ["TensorArrayConcatV3"] = ["value", "lengths"],
        ["NonMaxSuppressionV4"] = ["selected_indices", "valid_outputs"],
        ["NonMaxSuppressionV5"] = ["selected_indices", "selected_scores", "valid_outputs"],
        ["Unique"] = ["y", "idx"],
        ["TensorListPopBack"] = ["output_handle", "tensor"],
    };

    private static int FlatIndex(TfGraph graph, NodeDef producer, string arg, int index)
    {
        if (Find(graph, producer.Op) is { } function)
        {
            // A function used as an op: its output arguments, each one tensor.
            var position = function.Signature.OutputArg.Select(a => a.Name).ToList().IndexOf(arg);
            return position < 0 ? index : position + index;
        }
        if (OutputArgs.TryGetValue(producer.Op, out var args))
        {
            var position = Array.IndexOf(args, arg);
            return position < 0 ? index : position + index;
        }
        // One output argument (possibly a list, as Split, Unpack, IdentityN, While, If and calls have).
        return index;
    }
}
