using TfPose.Graph.Proto;

namespace TfPose.Graph.Translation;

internal enum FlowKind
{
    Root,
    Loop,
    Branch,
}

/// <summary>
/// Where a TensorFlow 1 node runs: at the top level, in the body of a while loop (a frame), or in one branch of a
/// tf.cond (the nodes downstream of one side of the Switches on one predicate). Contexts nest as the graph's loops
/// and conditionals do; they become the ONNX main graph, Loop bodies and If branches.
/// </summary>
internal sealed class FlowContext
{
    public static readonly FlowContext Root = new(FlowKind.Root, null);

    private FlowContext(FlowKind kind, FlowContext? parent)
    {
        Kind = kind;
        Parent = parent;
    }

    public FlowKind Kind { get; }

    /// <summary>Enclosing context; a loop's parent can move deeper while the graph is read (see <see cref="ControlFlowGraph"/>).</summary>
    public FlowContext? Parent { get; set; }

    /// <summary>A loop's frame name.</summary>
    public string Frame { get; private init; } = "";

    /// <summary>A branch's predicate and side (1 = taken when true).</summary>
    public TensorName Predicate { get; private init; }

    public int Branch { get; private init; }

    public int Depth => Parent is null ? 0 : Parent.Depth + 1;

    public static FlowContext Loop(string frame, FlowContext parent) => new(FlowKind.Loop, parent) { Frame = frame };

    public static FlowContext MakeBranch(TensorName predicate, int branch, FlowContext parent) =>
        new(FlowKind.Branch, parent) { Predicate = predicate, Branch = branch };

    /// <summary>This context or one nested in it.</summary>
    public bool IsWithin(FlowContext other)
    {
        for (var c = this; c is not null; c = c.Parent)
        {
            if (ReferenceEquals(c, other))
                return true;
        }
        return false;
    }

    public override string ToString() => Kind switch
    {
        FlowKind.Root => "top level",
        FlowKind.Loop => $"while loop '{Frame}'",
        _ => $"{(Branch == 1 ? "true" : "false")} branch of the cond on '{Predicate}'",
    };
}

/// <summary>One value a TensorFlow 1 while loop carries: Enter → Merge(Enter, NextIteration) → Switch → (Exit, body).</summary>
internal sealed record LoopVariable(NodeDef Enter, NodeDef Merge, NodeDef NextIteration, NodeDef Switch, IReadOnlyList<NodeDef> Exits);

internal sealed class LoopInfo(FlowContext context)
{
    public FlowContext Context { get; } = context;

    public NodeDef? LoopCond { get; set; }

    public List<LoopVariable> Variables { get; } = [];
}

/// <summary>One tf.cond (or several sharing nodes) decided at run time: its Merges become the outputs of one ONNX If.</summary>
internal sealed class CondInfo(TensorName predicate, FlowContext parent)
{
    public TensorName Predicate { get; } = predicate;

    public FlowContext Parent { get; } = parent;

    public FlowContext? WhenTrue { get; set; }

    public FlowContext? WhenFalse { get; set; }

    public List<NodeDef> Merges { get; } = [];

    /// <summary>For each Merge, which of its inputs the true branch produces.</summary>
    public Dictionary<string, int> TrueInput { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The TensorFlow 1 control flow of a graph (Enter/Exit/Merge/Switch/LoopCond/NextIteration): the context of every
/// node, each while loop's carried values, and each run-time conditional. Switches whose predicate shape inference
/// knows are not conditionals: their untaken side is dead and the taken side runs where the Switch does.
/// </summary>
internal sealed class ControlFlowGraph
{
    private readonly TfGraph _graph;
    private readonly GraphShapes _shapes;
    private readonly Dictionary<string, FlowContext> _nodeContext = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FlowContext> _frames = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Predicate, int Branch, FlowContext Parent), FlowContext> _branches = [];
    private readonly Dictionary<FlowContext, LoopInfo> _loops = [];
    private readonly Dictionary<string, CondInfo> _condOfMerge = new(StringComparer.Ordinal);
    private readonly List<(string Node, string Problem)> _problems = [];

    private ControlFlowGraph(TfGraph graph, GraphShapes shapes)
    {
        _graph = graph;
        _shapes = shapes;
    }

    public static bool IsControlFlowOp(string op) => op is "Enter" or "Exit" or "Merge" or "Switch" or "LoopCond" or "NextIteration"
        or "RefEnter" or "RefExit" or "RefMerge" or "RefSwitch" or "RefNextIteration";

    /// <summary>Nodes whose control flow TfPose cannot map to ONNX, with why.</summary>
    public IReadOnlyList<(string Node, string Problem)> Problems => _problems;

    public bool HasControlFlow { get; private set; }

    public IReadOnlyCollection<LoopInfo> Loops => _loops.Values;

    public static ControlFlowGraph Analyze(TfGraph graph, GraphShapes shapes, IReadOnlyList<NodeDef> order)
    {
        var flow = new ControlFlowGraph(graph, shapes);
        flow.HasControlFlow = graph.Nodes.Any(n => IsControlFlowOp(n.Op));
        if (!flow.HasControlFlow)
            return flow;
        foreach (var node in order)
            flow.Assign(node);
        flow.CollectLoops();
        flow.GroupConds();
        return flow;
    }

    /// <summary>The context a node runs in; null when it is dead (never runs).</summary>
    public FlowContext? NodeContext(string node)
    {
        if (!HasControlFlow)
            return FlowContext.Root;
        if (_shapes.IsDead(new TensorName(node, -1)))
            return null;
        return _nodeContext.GetValueOrDefault(node) ?? FlowContext.Root;
    }

    /// <summary>The context a tensor is available in (a Switch's outputs are in its branches); null when dead.</summary>
    public FlowContext? TensorContext(TensorName t)
    {
        if (!HasControlFlow)
            return FlowContext.Root;
        if (t.IsControl)
            return NodeContext(t.Node);
        if (_shapes.IsDead(t))
            return null;
        var context = NodeContext(t.Node);
        if (context is null)
            return null;
        var node = _graph.FindNode(t.Node);
        if (node is null || node.Op is not ("Switch" or "RefSwitch") || IsLoopSwitch(node) || node.DataInputCount() < 2)
            return context;
        var predicate = node.DataInput(1);
        if (PredicateValue(_shapes.Value(predicate)) is not null)
            return context;
        return BranchContext(Canonical(predicate), t.Index == 1 ? 1 : 0, context);
    }

    /// <summary>
    /// The predicate behind Identity copies: tf.cond switches its inputs on Identity(pred) but its own pivot on pred,
    /// and both sides of one cond must be one context.
    /// </summary>
    private TensorName Canonical(TensorName predicate)
    {
        for (var steps = 0; steps < 1000; steps++)
        {
            var node = _graph.FindNode(predicate.Node);
            if (node is null || node.Op is not ("Identity" or "Snapshot" or "StopGradient") || node.DataInputCount() != 1)
                break;
            var input = node.DataInput(0);
            if (!ReferenceEquals(NodeContext(input.Node), NodeContext(node.Name)))
                break;
            predicate = input;
        }
        return predicate;
    }

    public LoopInfo? LoopOf(FlowContext context) => _loops.GetValueOrDefault(context);

    /// <summary>The run-time conditional whose outputs include this Merge, if it is one.</summary>
    public CondInfo? CondOf(string merge) => _condOfMerge.GetValueOrDefault(merge);

    public bool IsLoopSwitch(NodeDef node) =>
        node.DataInputCount() >= 2 && _graph.FindNode(node.DataInput(1).Node)?.Op is "LoopCond";

    public bool IsLoopMerge(NodeDef node) =>
        node.DataInputs().Any(i => _graph.FindNode(i.Node)?.Op is "NextIteration" or "RefNextIteration");

    /// <summary>A known scalar predicate's truth; null when unknown.</summary>
    public static bool? PredicateValue(TensorValue? value)
    {
        if (value is null || value.Count != 1)
            return null;
        return value.Type switch
        {
            DataType.DtBool => value.Bytes[0] != 0,
            DataType.DtInt32 or DataType.DtInt64 or DataType.DtUint8 => value.ToInt64Array()[0] != 0,
            _ => null,
        };
    }

    private FlowContext BranchContext(TensorName predicate, int branch, FlowContext parent)
    {
        var key = (predicate.Key, branch, parent);
        if (!_branches.TryGetValue(key, out var context))
            _branches[key] = context = FlowContext.MakeBranch(predicate, branch, parent);
        return context;
    }

    /// <summary>The deepest of the contexts (they must nest); records a problem when two are unrelated.</summary>
    private FlowContext Deepest(NodeDef node, IEnumerable<FlowContext?> contexts)
    {
        var result = FlowContext.Root;
        foreach (var c in contexts)
        {
            if (c is null || c.IsWithin(result))
            {
                result = c ?? result;
                continue;
            }
            if (!result.IsWithin(c))
                _problems.Add((node.Name, $"reads tensors from two unrelated places: the {result} and the {c}"));
        }
        return result;
    }

    private void Assign(NodeDef node)
    {
        if (_shapes.IsDead(new TensorName(node.Name, -1)))
            return;
        var inputs = node.Input.Select(TensorName.Parse).ToList();
        FlowContext context;
        switch (node.Op)
        {
            case "Enter" or "RefEnter":
            {
                var outer = node.DataInputCount() > 0 ? TensorContext(node.DataInput(0)) ?? FlowContext.Root : FlowContext.Root;
                var frame = node.GetString("frame_name", node.Name);
                if (!_frames.TryGetValue(frame, out context!))
                {
                    _frames[frame] = context = FlowContext.Loop(frame, outer);
                }
                else if (!ReferenceEquals(outer, context.Parent))
                {
                    // The frame's parent is the deepest context any of its Enters reads from.
                    if (outer.IsWithin(context.Parent!) && !outer.IsWithin(context))
                        context.Parent = outer;
                    else if (!context.Parent!.IsWithin(outer))
                        _problems.Add((node.Name, $"enters loop '{frame}' from the {outer}, but other values enter it from the {context.Parent}"));
                }
                break;
            }
            case "Exit" or "RefExit":
            {
                var inner = node.DataInputCount() > 0 ? TensorContext(node.DataInput(0)) : null;
                if (inner is not { Kind: FlowKind.Loop })
                {
                    _problems.Add((node.Name, "an Exit whose input is not in a while loop"));
                    context = inner ?? FlowContext.Root;
                }
                else
                {
                    context = inner.Parent!;
                }
                break;
            }
            case "Merge" or "RefMerge" when IsLoopMerge(node):
            {
                var enter = node.DataInputs().FirstOrDefault(i => _graph.FindNode(i.Node)?.Op is "Enter" or "RefEnter");
                context = enter.Node is null ? FlowContext.Root : TensorContext(enter) ?? FlowContext.Root;
                if (context.Kind != FlowKind.Loop)
                    _problems.Add((node.Name, "a loop Merge without an Enter input"));
                break;
            }
            case "Merge" or "RefMerge":
                context = AssignCondMerge(node);
                break;
            default:
                context = Deepest(node, inputs.Select(TensorContext));
                break;
        }
        _nodeContext[node.Name] = context;
    }

    private FlowContext AssignCondMerge(NodeDef node)
    {
        var live = node.DataInputs().Select(i => (Input: i, Context: TensorContext(i))).Where(x => x.Context is not null).ToList();
        if (live.Count == 1)
            return live[0].Context!;
        if (live.Count == 2)
        {
            // The innermost pair of sibling branches (same predicate, same parent) that the two inputs lie in.
            for (var a = live[0].Context; a is not null; a = a.Parent)
            {
                if (a.Kind != FlowKind.Branch)
                    continue;
                for (var b = live[1].Context; b is not null; b = b.Parent)
                {
                    if (b.Kind == FlowKind.Branch && b.Predicate == a.Predicate && ReferenceEquals(b.Parent, a.Parent) && b.Branch != a.Branch)
                        return a.Parent!;
                }
            }
        }
        _problems.Add((node.Name, live.Count > 2
            ? "a Merge of more than two values (only tf.cond's two-way Merge and while loops translate)"
            : "a Merge whose inputs are not the two branches of one tf.cond"));
        return Deepest(node, live.Select(x => x.Context));
    }

    private void CollectLoops()
    {
        var consumers = new Dictionary<string, List<(NodeDef Node, TensorName Input)>>(StringComparer.Ordinal);
        foreach (var n in _graph.Nodes)
        {
            foreach (var input in n.DataInputs())
            {
                if (!consumers.TryGetValue(input.Node, out var list))
                    consumers[input.Node] = list = [];
                list.Add((n, input));
            }
        }
        foreach (var node in _graph.Nodes)
        {
            var context = NodeContext(node.Name);
            if (context is not { Kind: FlowKind.Loop })
                continue;
            if (!_loops.TryGetValue(context, out var loop))
                _loops[context] = loop = new LoopInfo(context);
            if (node.Op == "LoopCond")
            {
                if (loop.LoopCond is not null)
                    _problems.Add((node.Name, $"a second LoopCond in {context}"));
                loop.LoopCond = node;
            }
        }
        foreach (var node in _graph.Nodes)
        {
            if (node.Op is not ("Merge" or "RefMerge") || !IsLoopMerge(node) || NodeContext(node.Name) is not { Kind: FlowKind.Loop } context)
                continue;
            var loop = _loops[context];
            var inputs = node.DataInputs().Select(i => _graph.FindNode(i.Node)!).ToList();
            var enter = inputs.FirstOrDefault(i => i.Op is "Enter" or "RefEnter");
            var next = inputs.FirstOrDefault(i => i.Op is "NextIteration" or "RefNextIteration");
            var switches = consumers.GetValueOrDefault(node.Name, []).Where(x => x.Node.Op is "Switch" or "RefSwitch" && x.Input.Index == 0).Select(x => x.Node).Distinct().ToList();
            if (inputs.Count != 2 || enter is null || next is null || switches.Count != 1 || loop.LoopCond is null ||
                switches[0].DataInput(1) != new TensorName(loop.LoopCond.Name, 0))
            {
                _problems.Add((node.Name, $"a loop Merge that is not Merge(Enter, NextIteration) read by one Switch on the LoopCond of {context}"));
                continue;
            }
            var exits = consumers.GetValueOrDefault(switches[0].Name, []).Where(x => x.Input.Index == 0).Select(x => x.Node).ToList();
            if (exits.Any(e => e.Op is not ("Exit" or "RefExit")))
                _problems.Add((switches[0].Name, "a loop Switch whose exit side feeds something other than Exit"));
            loop.Variables.Add(new LoopVariable(enter, node, next, switches[0], exits.Where(e => e.Op is "Exit" or "RefExit").ToList()));
        }
        foreach (var loop in _loops.Values)
        {
            if (loop.LoopCond is null)
                _problems.Add((loop.Variables.FirstOrDefault()?.Merge.Name ?? loop.Context.Frame, $"{loop.Context} has no LoopCond"));
        }
    }

    private void GroupConds()
    {
        // Merges of one predicate and parent whose branches share nodes are one conditional (one tf.cond with
        // several outputs); Merges that share nothing stay apart, so a cond fed by another on the same predicate works.
        var owner = new Dictionary<string, CondInfo>(StringComparer.Ordinal);
        foreach (var node in _graph.Nodes)
        {
            if (node.Op is not ("Merge" or "RefMerge") || IsLoopMerge(node) || NodeContext(node.Name) is not { } parent)
                continue;
            var live = node.DataInputs().Where(i => TensorContext(i) is not null).ToList();
            if (live.Count != 2)
                continue;
            var (whenTrue, whenFalse, trueInput) = Sides(live, parent);
            if (whenTrue is null || whenFalse is null)
                continue;
            var nodes = Closure(live, c => c.IsWithin(whenTrue) || c.IsWithin(whenFalse), out _);
            var cond = nodes.Select(n => owner.GetValueOrDefault(n)).FirstOrDefault(c => c is not null && c.Predicate == whenTrue.Predicate && ReferenceEquals(c.Parent, parent));
            cond ??= new CondInfo(whenTrue.Predicate, parent) { WhenTrue = whenTrue, WhenFalse = whenFalse };
            cond.Merges.Add(node);
            cond.TrueInput[node.Name] = node.DataInputs().ToList().IndexOf(live[trueInput]);
            _condOfMerge[node.Name] = cond;
            foreach (var n in nodes)
                owner.TryAdd(n, cond);
        }
    }

    /// <summary>The true and false branches (children of <paramref name="parent"/>, one predicate) the two inputs of a Merge come from.</summary>
    private (FlowContext? True, FlowContext? False, int TrueInput) Sides(List<TensorName> live, FlowContext parent)
    {
        for (var i = 0; i < 2; i++)
        {
            for (var a = TensorContext(live[i]); a is not null; a = a.Parent)
            {
                if (a.Kind == FlowKind.Branch && a.Branch == 1 && ReferenceEquals(a.Parent, parent))
                {
                    var other = TensorContext(live[1 - i]);
                    for (var b = other; b is not null; b = b.Parent)
                    {
                        if (b.Kind == FlowKind.Branch && b.Branch == 0 && ReferenceEquals(b.Parent, parent) && b.Predicate == a.Predicate)
                            return (a, b, i);
                    }
                }
            }
        }
        return (null, null, 0);
    }

    /// <summary>
    /// The nodes inside a region (contexts for which <paramref name="inside"/> holds) that the tensors
    /// <paramref name="roots"/> depend on, and the tensors from outside that those nodes read. A Switch outside
    /// whose output is inside (a conditional's entry) contributes its inputs.
    /// </summary>
    public HashSet<string> Closure(IEnumerable<TensorName> roots, Func<FlowContext, bool> inside, out List<TensorName> external)
    {
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        var outside = new HashSet<string>(StringComparer.Ordinal);
        external = [];
        var stack = new Stack<TensorName>(roots);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            var context = TensorContext(t);
            if (context is null)
                continue;
            if (!inside(context))
            {
                if (outside.Add(t.Key))
                    external.Add(t);
                continue;
            }
            var node = _graph.GetNode(t.Node);
            var nodeContext = NodeContext(t.Node);
            if (nodeContext is null)
                continue;
            if (!inside(nodeContext))
            {
                foreach (var input in node.DataInputs())
                {
                    if (outside.Add(input.Key))
                        external.Add(input);
                }
                continue;
            }
            if (!nodes.Add(node.Name))
                continue;
            foreach (var input in node.DataInputs())
                stack.Push(input);
        }
        return nodes;
    }
}
