using TfPose.Graph.Proto;
using S = TfPose.Graph.Formats.TfliteSchema;

namespace TfPose.Graph.Formats;

/// <summary>
/// IF and WHILE, whose branches and loop condition and body are other subgraphs of the model. Each called subgraph is
/// imported once, as its own GraphDef, and written into the graph's function library as a FunctionDef (its inputs the
/// arguments, its outputs the results), so that IF becomes TensorFlow 2's StatelessIf and WHILE its StatelessWhile:
/// the same ops, and the same ONNX If and Loop translation, as a SavedModel's functional control flow.
/// </summary>
internal sealed partial class TfliteImporter
{
    /// <summary>The importer of the main subgraph, which owns the function library; null for the main one itself.</summary>
    private TfliteImporter? _caller;

    private readonly Dictionary<int, string> _functions = [];
    private readonly HashSet<int> _importing = [];

    private TfliteImporter Main => _caller ?? this;

    /// <summary>Subgraphs calling subgraphs deeper than this are refused before the nesting can exhaust the stack.</summary>
    private const int MaxCallDepth = 32;

    private static AttrValue Function(string name) => new() { Func = new NameAttrList { Name = name } };

    private static AttrValue Types(IEnumerable<DataType> types)
    {
        var list = new AttrValue.Types.ListValue();
        list.Type.AddRange(types);
        return new AttrValue { List = list };
    }

    /// <summary>IF(condition, args...) with IfOptions then_subgraph_index (0) and else_subgraph_index (1).</summary>
    private void If(Op c)
    {
        var o = c.Options(S.Options.If) ?? throw new TfliteFormatException($"{c.Where} has no IfOptions naming its branches");
        if (c.InputCount < 1 || c.OutputCount < 1)
            throw new TfliteFormatException($"{c.Where} has {c.InputCount} inputs and {c.OutputCount} outputs; it needs a condition and at least one result");
        var then = FunctionOf(o.Int(0), c, "then branch");
        var otherwise = FunctionOf(o.Int(1), c, "else branch");
        var args = Enumerable.Range(1, c.InputCount - 1).ToList();
        CheckCall(c, then.Index, args.Count, c.OutputCount);
        CheckCall(c, otherwise.Index, args.Count, c.OutputCount);
        var node = Add(Reserve($"tflite_operator_{c.Source.Index}"), "StatelessIf", [c.In(0), .. args.Select(c.In)]);
        node.Attr["Tcond"] = TypeAttr(c.InType(0));
        node.Attr["Tin"] = Types(args.Select(c.InType));
        node.Attr["Tout"] = Types(Enumerable.Range(0, c.OutputCount).Select(k => c.OutType(k)));
        node.Attr["then_branch"] = Function(then.Name);
        node.Attr["else_branch"] = Function(otherwise.Name);
        Outputs(c, node);
    }

    /// <summary>WHILE(loop variables...) with WhileOptions cond_subgraph_index (0) and body_subgraph_index (1).</summary>
    private void While(Op c)
    {
        var o = c.Options(S.Options.While) ?? throw new TfliteFormatException($"{c.Where} has no WhileOptions naming its condition and body");
        if (c.InputCount != c.OutputCount)
            throw new TfliteFormatException($"{c.Where} has {c.InputCount} inputs but {c.OutputCount} outputs; a loop carries each variable through");
        var cond = FunctionOf(o.Int(0), c, "condition");
        var body = FunctionOf(o.Int(1), c, "body");
        CheckCall(c, cond.Index, c.InputCount, 1);
        CheckCall(c, body.Index, c.InputCount, c.InputCount);
        var node = Add(Reserve($"tflite_operator_{c.Source.Index}"), "StatelessWhile", [.. Enumerable.Range(0, c.InputCount).Select(c.In)]);
        node.Attr["T"] = Types(Enumerable.Range(0, c.InputCount).Select(c.InType));
        node.Attr["cond"] = Function(cond.Name);
        node.Attr["body"] = Function(body.Name);
        node.Attr["parallel_iterations"] = new AttrValue { I = 1 };
        Outputs(c, node);
    }

    private void CheckCall(Op c, int subgraph, int inputs, int outputs)
    {
        var called = _model.Subgraphs[subgraph];
        if (called.Inputs.Length != inputs || called.Outputs.Length != outputs)
            throw new TfliteFormatException($"{c.Where} calls subgraph {subgraph} with {inputs} value(s) for {outputs} result(s), " +
                $"but that subgraph takes {called.Inputs.Length} and returns {called.Outputs.Length}");
    }

    /// <summary>The library function of subgraph <paramref name="index"/>, importing it on first use.</summary>
    private (int Index, string Name) FunctionOf(int index, Op c, string role)
    {
        var main = Main;
        if (index <= 0 || index >= _model.Subgraphs.Count)
            throw new TfliteFormatException($"{c.Where}: its {role} is subgraph {index}, " +
                (index == 0 ? "the main one" : $"but the model has subgraphs 0 to {_model.Subgraphs.Count - 1}"));
        if (main._functions.TryGetValue(index, out var known))
            return (index, known);
        if (main._importing.Contains(index))
            throw new TfliteFormatException($"{c.Where}: its {role}, subgraph {index}, calls itself; TfPose runs no recursion");
        if (main._importing.Count >= MaxCallDepth)
            throw new TfliteFormatException($"{c.Where}: subgraphs call subgraphs more than {MaxCallDepth} deep");
        main._importing.Add(index);
        try
        {
            var subgraph = _model.Subgraphs[index];
            var importer = new TfliteImporter(_model, subgraph, _problems) { _caller = main };
            var signature = importer.Run();
            var name = $"tflite_subgraph_{index}";
            main._def.Library ??= new FunctionDefLibrary();
            main._def.Library.Function.Add(importer.AsFunction(name, signature));
            main._functions[index] = name;
            return (index, name);
        }
        finally
        {
            main._importing.Remove(index);
        }
    }

    /// <summary>
    /// This subgraph's GraphDef as a FunctionDef: Placeholders become the arguments; node outputs are read as
    /// <c>node:index</c>, as FunctionDefs write them (a bare name in a function is an argument).
    /// </summary>
    private FunctionDef AsFunction(string name, GraphSignature signature)
    {
        var function = new FunctionDef { Signature = new OpDef { Name = name } };
        var arguments = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in _graph.Inputs)
        {
            arguments.Add(_tensorNodes[input]);
            function.Signature.InputArg.Add(new OpDef.Types.ArgDef { Name = _tensorNodes[input], Type = TypeOf(_graph.Tensors[input]) });
        }
        string Read(string input) =>
            input.StartsWith('^') || input.Contains(':') || arguments.Contains(input) ? input : input + ":0";
        foreach (var node in _def.Node)
        {
            if (node.Op == "Placeholder" && arguments.Contains(node.Name))
                continue;
            var copy = node.Clone();
            copy.Input.Clear();
            copy.Input.AddRange(node.Input.Select(Read));
            function.NodeDef.Add(copy);
        }
        for (var k = 0; k < Math.Min(signature.Outputs.Count, _graph.Outputs.Length); k++)
        {
            var arg = $"output_{k}";
            function.Signature.OutputArg.Add(new OpDef.Types.ArgDef { Name = arg, Type = TypeOf(_graph.Tensors[_graph.Outputs[k]]) });
            function.Ret[arg] = Read(signature.Outputs[k].Tensor);
        }
        return function;
    }
}
