using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>
/// TensorFlow 1 control flow. A while loop is a frame: Enter → Merge(Enter, NextIteration) → Switch(Merge, LoopCond)
/// whose output 1 feeds the body and output 0 an Exit; a tf.cond is Switches on one predicate whose two sides meet
/// again in Merges. Neither translates node by node: <see cref="RegionTranslator"/> turns a frame into an ONNX Loop and
/// a conditional into an If (or, when the predicate is known, only its taken side). The converters here cover what is
/// left once that is done: values entering a loop unchanged, and Switches and Merges whose predicate is known.
/// </summary>
internal static class ControlFlowOps
{
    /// <summary>The control-flow ops, TensorArrays and TensorLists, and TensorFlow 2's functional ops (registered together).</summary>
    public static IEnumerable<OpUnit> Units => Basic.Concat(TensorArrayOps.Units).Concat(FunctionOps.Units);

    private static IEnumerable<OpUnit> Basic =>
    [
        new("Enter", s => s.Set(0, s.Shape(0), s.Type(0), s.Value(0)), (n, c) => c.Alias(n, n.DataInput(0))),
        new("Exit", s => s.Set(0, s.Shape(0), s.Type(0)), Structural),
        new("NextIteration", s => s.Set(0, s.Shape(0), s.Type(0), s.Value(0)), (n, c) => c.Alias(n, n.DataInput(0))),
        new("LoopCond", s => s.Set(0, s.Shape(0), DataType.DtBool), (n, c) => c.Alias(n, n.DataInput(0))),
        new("Switch", SwitchShape, Switch),
        new("Merge", MergeShape, Merge),
    ];

    /// <summary>Passes over a graph after which loop-carried shapes still changing are given up as unknown rank.</summary>
    private const int MaxPrecisePasses = 6;

    private static void Structural(NodeDef node, TranslationContext c) =>
        throw new NotSupportedException($"node '{node.Name}' ({node.Op}) is not part of a while loop TfPose recognises.");

    private static bool IsLoopSwitch(ShapeContext s) => s.InputCount >= 2 && s.Graph.FindNode(s.Input(1).Node)?.Op is "LoopCond";

    private static void SwitchShape(ShapeContext s)
    {
        // Each side of a Switch is its input; the predicate only decides which side exists.
        s.Set(0, s.Shape(0), s.Type(0), s.Value(0));
        s.Set(1, s.Shape(0), s.Type(0), s.Value(0));
        if (!IsLoopSwitch(s) && ControlFlowGraph.PredicateValue(s.Value(1)) is { } taken)
            s.Shapes.MarkDead(s.Node.Name, taken ? 0 : 1);
    }

    private static void MergeShape(ShapeContext s)
    {
        var inputs = Enumerable.Range(0, s.InputCount).ToList();
        var loopInputs = inputs.Where(i => s.Graph.FindNode(s.Input(i).Node)?.Op is "NextIteration" or "RefNextIteration").ToList();
        if (loopInputs.Count > 0)
        {
            // A loop-carried value: what enters, widened by what the body hands back (known from the previous pass).
            var enter = inputs.Except(loopInputs).FirstOrDefault(-1);
            long[]? shape = enter >= 0 ? s.Shape(enter) : null;
            var type = enter >= 0 ? s.Type(enter) : s.Type(loopInputs[0]);
            if (s.Shapes.Pass >= MaxPrecisePasses)
                shape = null;
            foreach (var i in loopInputs)
            {
                if (s.Shapes.Has(s.Input(i)) && !s.Shapes.IsDead(s.Input(i)))
                    shape = Join(shape, s.Shape(i));
            }
            s.Set(0, shape, type);
            s.Set(1, [], DataType.DtInt32);
            return;
        }
        var live = inputs.Where(i => !s.Shapes.IsDead(s.Input(i))).ToList();
        if (live.Count == 1)
        {
            // The predicate is known: the Merge is the one side that runs.
            var i = live[0];
            s.Set(0, s.Shape(i), s.Type(i), s.Value(i));
            s.Set(1, [], DataType.DtInt32, TensorValue.Scalar(i));
            return;
        }
        long[]? joined = live.Count > 0 ? s.Shape(live[0]) : null;
        foreach (var i in live.Skip(1))
            joined = Join(joined, s.Shape(i));
        s.Set(0, joined, live.Count > 0 ? s.Type(live[0]) : s.Type(0));
        s.Set(1, [], DataType.DtInt32);
    }

    /// <summary>A shape both shapes fit: dimensions that differ become unknown, ranks that differ an unknown rank.</summary>
    public static long[]? Join(long[]? a, long[]? b)
    {
        if (a is null || b is null || a.Length != b.Length)
            return null;
        return a.Select((d, i) => d == b[i] ? d : -1).ToArray();
    }

    /// <summary>
    /// A node never runs when any input (data or control) is dead, except a Merge, which runs when any of its inputs
    /// does (TensorFlow's dead-tensor propagation). A loop's Merge follows what enters the loop.
    /// </summary>
    internal static bool IsDeadNode(TfGraph graph, NodeDef node, GraphShapes shapes)
    {
        if (node.Input.Count == 0)
            return false;
        if (node.Op is "Merge" or "RefMerge")
        {
            var entering = node.DataInputs().Where(i => !IsNextIteration(graph, i)).ToList();
            return entering.Count > 0 && entering.All(shapes.IsDead);
        }
        foreach (var input in node.Input)
        {
            var t = TensorName.Parse(input);
            if (shapes.IsDead(t.IsControl ? new TensorName(t.Node, -1) : t))
                return true;
        }
        return false;
    }

    private static bool IsNextIteration(TfGraph graph, TensorName t) => graph.FindNode(t.Node)?.Op is "NextIteration" or "RefNextIteration";

    /// <summary>Whether a loop-carried value's shape changed in this pass, so that another pass is needed.</summary>
    internal static bool LoopShapesChanged(TfGraph graph, IReadOnlyList<NodeDef> order, GraphShapes shapes)
    {
        if (shapes.Pass >= MaxPrecisePasses)
            return false;
        foreach (var node in order)
        {
            if (node.Op is not ("Merge" or "RefMerge") || shapes.IsDead(new TensorName(node.Name, -1)))
                continue;
            var current = shapes.Shape(new TensorName(node.Name, 0));
            foreach (var input in node.DataInputs())
            {
                if (IsNextIteration(graph, input) && !shapes.IsDead(input) && !SameShape(current, Join(current, shapes.Shape(input))))
                    return true;
            }
        }
        return false;
    }

    private static bool SameShape(long[]? a, long[]? b) => a is null ? b is null : b is not null && a.SequenceEqual(b);

    private static void Switch(NodeDef node, TranslationContext c)
    {
        if (ControlFlowGraph.PredicateValue(c.Value(node.DataInput(1))) is not { } taken)
            throw new NotSupportedException($"node '{node.Name}' (Switch) is not part of a while loop or tf.cond TfPose recognises.");
        var value = c.Lookup(node.DataInput(0));
        c.Set(node, taken ? 1 : 0, value.Name, value.Layout);
    }

    private static void Merge(NodeDef node, TranslationContext c)
    {
        var inputs = node.DataInputs().ToList();
        var live = Enumerable.Range(0, inputs.Count).Where(i => !c.Shapes.IsDead(inputs[i])).ToList();
        if (live.Count != 1)
            throw new NotSupportedException($"node '{node.Name}' (Merge) is not part of a while loop or tf.cond TfPose recognises.");
        var value = c.Lookup(inputs[live[0]]);
        c.Set(node, 0, value.Name, value.Layout);
        c.SetConstant(node, 1, TensorValue.Scalar(live[0]));
    }
}
