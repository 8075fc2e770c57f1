using TfPose.Graph.Onnx;
using NodeDef = TfPose.Graph.Proto.NodeDef;
using TfDataType = TfPose.Graph.Proto.DataType;

namespace TfPose.Graph.Translation;

/// <summary>
/// Translates one region of a graph (the top level, a while loop's frame, a tf.cond branch) on demand: from the tensors
/// wanted, back to what they need, in dependency order. A nested while loop is one item that becomes an ONNX Loop, a
/// run-time conditional one item that becomes an ONNX If; their bodies are regions of their own, built into subgraphs
/// by the same op units, reading the enclosing graph's tensors as outer-scope values.
/// </summary>
internal sealed class RegionTranslator(ControlFlowGraph flow)
{
    public bool UsesBatchStatistics;

    private sealed record Item(string Key, NodeDef? Node = null, LoopInfo? Loop = null, CondInfo? Cond = null);

    private readonly Dictionary<FlowContext, List<TensorName>> _loopInputs = [];
    private readonly Dictionary<CondInfo, List<TensorName>> _condInputs = [];

    /// <summary>Translates into <paramref name="c"/> everything in <paramref name="region"/> that <paramref name="roots"/> need.</summary>
    public void Translate(TranslationContext c, FlowContext region, IEnumerable<TensorName> roots)
    {
        foreach (var item in Order(c, region, roots))
        {
            if (item.Node is { } node)
                GraphTranslator.TranslateNode(node, c, ref UsesBatchStatistics);
            else if (item.Loop is { } loop)
                TranslateLoop(c, loop);
            else
                TranslateCond(c, item.Cond!);
        }
    }

    /// <summary>The items <paramref name="roots"/> need, each after the items it reads (depth first, iteratively).</summary>
    private List<Item> Order(TranslationContext c, FlowContext region, IEnumerable<TensorName> roots)
    {
        var order = new List<Item>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var active = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<(Item Item, IEnumerator<TensorName> Inputs)>();
        foreach (var root in roots)
        {
            Push(Resolve(c, region, root, null));
            while (stack.Count > 0)
            {
                var (item, inputs) = stack.Peek();
                if (inputs.MoveNext())
                {
                    Push(Resolve(c, region, inputs.Current, item));
                    continue;
                }
                stack.Pop();
                active.Remove(item.Key);
                done.Add(item.Key);
                order.Add(item);
            }
        }
        return order;

        void Push(Item? item)
        {
            if (item is null || done.Contains(item.Key))
                return;
            if (!active.Add(item.Key))
                throw new NotSupportedException($"the {region} has a dependency cycle through {Describe(item)} that TfPose cannot order.");
            stack.Push((item, Inputs(item).GetEnumerator()));
        }
    }

    private static string Describe(Item item) =>
        item.Node is { } n ? $"'{n.Name}' ({n.Op})" : item.Loop is { } l ? l.Context.ToString() : $"the cond on '{item.Cond!.Predicate}'";

    /// <summary>What must be translated (in this region) before the tensor can be read; null when it already can.</summary>
    private Item? Resolve(TranslationContext c, FlowContext region, TensorName t, Item? reader)
    {
        if (t.IsControl || c.IsKnown(t))
            return null;
        var where = reader is null ? "" : $" (read by {Describe(reader)})";
        var context = flow.TensorContext(t)
            ?? throw new NotSupportedException($"'{t}'{where} is on the untaken side of a tf.cond whose predicate is known.");
        if (!context.IsWithin(region))
            return null; // an enclosing scope translated it
        var node = c.Graph.GetNode(t.Node);
        var nodeContext = flow.NodeContext(node.Name)!;
        if (!nodeContext.IsWithin(region))
        {
            // One side of the Switch that opens this branch: inside the branch, it is the Switch's input.
            if (node.Op is not ("Switch" or "RefSwitch"))
                throw new NotSupportedException($"'{t}'{where} enters the {region} other than through a Switch.");
            var value = c.Lookup(node.DataInput(0));
            c.Set(node, t.Index, value.Name, value.Layout);
            return null;
        }
        if (!ReferenceEquals(context, region))
            throw new NotSupportedException($"'{t}'{where} is read from outside the {context} without leaving it through an Exit or Merge.");
        if (node.Op is "Exit" or "RefExit")
        {
            var loop = flow.TensorContext(node.DataInput(0)) is { } inner ? flow.LoopOf(inner) : null;
            return loop is null
                ? throw new NotSupportedException($"Exit '{node.Name}' does not leave a while loop TfPose recognises.")
                : new Item("loop:" + loop.Context.Frame, Loop: loop);
        }
        if (node.Op is "Merge" or "RefMerge" && flow.CondOf(node.Name) is { } cond)
            return new Item("cond:" + cond.Merges[0].Name, Cond: cond);
        return new Item(node.Name, Node: node);
    }

    private IEnumerable<TensorName> Inputs(Item item)
    {
        if (item.Node is { } node)
            return node.DataInputs().Where(i => flow.TensorContext(i) is not null);
        if (item.Loop is { } loop)
        {
            if (!_loopInputs.TryGetValue(loop.Context, out var inputs))
            {
                var roots = loop.Variables.SelectMany(v => new[] { new TensorName(v.NextIteration.Name, 0), new TensorName(v.Switch.Name, 0) })
                    .Concat(loop.LoopCond is null ? [] : [new TensorName(loop.LoopCond.Name, 0)]);
                flow.Closure(roots, ctx => ctx.IsWithin(loop.Context), out inputs);
                _loopInputs[loop.Context] = inputs;
            }
            return inputs;
        }
        var cond = item.Cond!;
        if (!_condInputs.TryGetValue(cond, out var condInputs))
        {
            flow.Closure(cond.Merges.SelectMany(m => m.DataInputs()), ctx => ctx.IsWithin(cond.WhenTrue!) || ctx.IsWithin(cond.WhenFalse!), out condInputs);
            condInputs.Add(cond.Predicate);
            _condInputs[cond] = condInputs;
        }
        return condInputs;
    }

    /// <summary>A subgraph input or output for a value: a sequence when the ONNX value is one, otherwise a tensor of its TensorFlow type.</summary>
    private static ValueInfoProto Info(OnnxBuilder builder, string name, string valueLike, TfDataType type) =>
        builder.SequenceType(valueLike) is { } element
            ? OnnxBuilder.ValueInfoOf(name, element, sequence: true)
            : OnnxBuilder.ValueInfoOf(name, type, sequence: false);

    /// <summary>
    /// A TensorFlow 1 while loop as an ONNX Loop. ONNX checks the condition before each iteration from a value
    /// given to it and the body returns the next one, so the loop's predicate is computed once on the values entering
    /// the loop (outside) and once in the body on the values the body hands to the next iteration. The loop-carried
    /// values are the Merges; the body reads them where TensorFlow's Switches pass them on; values entering with
    /// is_constant are outer-scope values; each Exit is the final value of its Merge.
    /// </summary>
    private void TranslateLoop(TranslationContext c, LoopInfo loop)
    {
        var frame = loop.Context;
        var predicateNode = loop.LoopCond ?? throw new NotSupportedException($"the {frame} has no LoopCond.");
        var predicate = predicateNode.DataInput(0);
        var variables = loop.Variables;
        var initial = variables.Select(v => c.Get(v.Enter.DataInput(0))).ToList();

        var entry = new TranslationContext(c, c.Builder);
        for (var k = 0; k < variables.Count; k++)
            entry.Set(variables[k].Merge, 0, initial[k]);
        Translate(entry, frame, [predicate]);
        var enter = entry.Get(predicate);

        var builder = c.Builder.Child("loop_body");
        var body = new TranslationContext(c, builder);
        var iteration = builder.Fresh("iteration");
        var condIn = builder.Fresh("cond_in");
        builder.Graph.Input.Add(OnnxBuilder.ValueInfo(iteration, TfDataType.DtInt64, []));
        builder.Graph.Input.Add(OnnxBuilder.ValueInfo(condIn, TfDataType.DtBool, []));
        var types = variables.Select(v => body.Type(new TensorName(v.Merge.Name, 0))).ToList();
        for (var k = 0; k < variables.Count; k++)
        {
            var carried = builder.Fresh("carried");
            if (builder.SequenceType(initial[k]) is { } element)
                builder.SetSequence(carried, element);
            builder.Graph.Input.Add(Info(builder, carried, initial[k], types[k]));
            body.Set(variables[k].Merge, 0, carried);
            body.Set(variables[k].Switch, 1, carried);
        }
        Translate(body, frame, variables.Select(v => v.NextIteration.DataInput(0)));
        var next = variables.Select(v => body.Get(v.NextIteration.DataInput(0))).ToList();

        var again = new TranslationContext(body, builder);
        for (var k = 0; k < variables.Count; k++)
            again.Set(variables[k].Merge, 0, next[k]);
        Translate(again, frame, [predicate]);
        var condOut = builder.Node("Identity", [again.Get(predicate)]);
        builder.Graph.Output.Add(OnnxBuilder.ValueInfo(condOut, TfDataType.DtBool, []));
        for (var k = 0; k < variables.Count; k++)
        {
            // Identity: a body output may not be a body input or an outer value as it is.
            var output = builder.Node("Identity", [next[k]]);
            builder.Graph.Output.Add(Info(builder, output, next[k], types[k]));
        }

        var outputs = c.Builder.NodeMulti("Loop", ["", enter, .. initial], variables.Count, "loop", ("body", builder.Graph));
        for (var k = 0; k < variables.Count; k++)
        {
            if (builder.SequenceType(initial[k]) is { } element)
                c.Builder.SetSequence(outputs[k], element);
            foreach (var exit in variables[k].Exits)
                c.Set(exit, 0, outputs[k]);
        }
    }

    /// <summary>A tf.cond whose predicate is known only at run time as an ONNX If; each Merge is one of its outputs.</summary>
    private void TranslateCond(TranslationContext c, CondInfo cond)
    {
        var predicate = c.Get(cond.Predicate);
        var sequences = new TfDataType?[cond.Merges.Count];
        GraphProto Branch(FlowContext side, bool whenTrue)
        {
            var builder = c.Builder.Child(whenTrue ? "then" : "else");
            var scope = new TranslationContext(c, builder);
            var roots = cond.Merges.Select(m => m.DataInput(whenTrue ? cond.TrueInput[m.Name] : 1 - cond.TrueInput[m.Name])).ToList();
            Translate(scope, side, roots);
            for (var i = 0; i < roots.Count; i++)
            {
                var value = scope.Get(roots[i]);
                var output = builder.Node("Identity", [value]);
                builder.Graph.Output.Add(Info(builder, output, value, c.Type(new TensorName(cond.Merges[i].Name, 0))));
                sequences[i] ??= builder.SequenceType(value);
            }
            return builder.Graph;
        }
        var then = Branch(cond.WhenTrue!, true);
        var otherwise = Branch(cond.WhenFalse!, false);
        var outputs = c.Builder.NodeMulti("If", [predicate], cond.Merges.Count, "cond", ("then_branch", then), ("else_branch", otherwise));
        for (var i = 0; i < cond.Merges.Count; i++)
        {
            var merge = cond.Merges[i];
            if (sequences[i] is { } element)
                c.Builder.SetSequence(outputs[i], element);
            c.Set(merge, 0, outputs[i]);
            if (c.Consumers(merge.Name).Any(r => r.Output == 1))
            {
                // value_index: which input the Merge forwarded.
                var taken = cond.TrueInput[merge.Name] == 1 ? predicate : c.Builder.Node("Not", [predicate]);
                c.Set(merge, 1, c.Builder.Node("Cast", [taken], attributes: ("to", (long)TensorProto.Types.DataType.Int32)));
            }
        }
    }
}
