using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using OnnxType = TfPose.Graph.Onnx.TensorProto.Types.DataType;

namespace TfPose.Graph.Ops;

/// <summary>
/// TensorArrays (TensorFlow 1, handle + "flow" tensor) and TensorLists (TensorFlow 2, one variant tensor) as ONNX
/// sequences. A TensorArray's handle carries nothing at run time; its flow tensor, which TensorFlow threads through
/// every write and through while loops to order the accesses, is the sequence itself, so a loop carries it like any
/// other value. An array of size n starts as n placeholder elements (zeros of the element shape when that is known,
/// which is what TensorFlow reads from an element never written), and a write replaces one element.
/// </summary>
internal static class TensorArrayOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("TensorArrayV3", s =>
        {
            s.Set(0, [2], DataType.DtResource);
            s.Set(1, [], DataType.DtFloat);
        }, TensorArray),
        new("TensorArrayWriteV3", FlowShape, Write),
        new("TensorArrayScatterV3", FlowShape, Scatter),
        new("TensorArraySplitV3", FlowShape, Split),
        new("TensorArrayReadV3", s => s.Set(0, ElementShape(s, s.Input(0)), s.Node.GetDataType("dtype", DataType.DtFloat)), Read),
        new("TensorArrayGatherV3", GatherShape, Gather),
        new("TensorArrayConcatV3", ConcatShape, Concat),
        new("TensorArraySizeV3", SizeShape, Size),
        new("TensorArrayCloseV3", _ => { }, (_, _) => { }),

        new("TensorListReserve", ListShape, Reserve),
        new("EmptyTensorList", ListShape, EmptyList),
        new("TensorListFromTensor", ListShape, FromTensor),
        new("TensorListSetItem", ListShape, SetItem),
        new("TensorListPushBack", ListShape, PushBack),
        new("TensorListGetItem", s => s.Set(0, ElementShape(s, s.Input(0)), s.Node.GetDataType("element_dtype", DataType.DtFloat)), GetItem),
        new("TensorListStack", ListStackShape, Stack),
        new("TensorListGather", ListGatherShape, ListGather),
        new("TensorListLength", s => s.Set(0, [], DataType.DtInt32), Length),
    ];

    private static void FlowShape(ShapeContext s) => s.Set(0, [], DataType.DtFloat);

    private static void ListShape(ShapeContext s) => s.Set(0, [], DataType.DtVariant);

    // ---- Which array a handle or list is, and what its elements look like ----

    private static readonly HashSet<string> Creators = new(StringComparer.Ordinal)
    {
        "TensorArrayV3", "TensorListReserve", "EmptyTensorList", "TensorListFromTensor",
    };

    /// <summary>
    /// The node that created the array a handle (TensorArray) or list value (TensorList) refers to, following it
    /// through loops, conditionals and the list ops that return an updated list.
    /// </summary>
    public static NodeDef? Creator(TfGraph graph, TensorName t)
    {
        for (var steps = 0; steps < 10_000; steps++)
        {
            var node = graph.FindNode(t.Node);
            if (node is null)
                return null;
            if (Creators.Contains(node.Op))
                return node;
            switch (node.Op)
            {
                case "Enter" or "Identity" or "Switch" or "Exit" or "NextIteration" or "TensorListSetItem" or "TensorListPushBack":
                    t = node.DataInput(0);
                    break;
                case "Merge":
                    // What enters the loop (or either side of a cond) is the same array.
                    t = node.DataInputs().FirstOrDefault(i => graph.FindNode(i.Node)?.Op is not "NextIteration");
                    if (t.Node is null)
                        return null;
                    break;
                default:
                    return null;
            }
        }
        return null;
    }

    /// <summary>
    /// An element's shape: declared on the array, or seen in what is written into it (scatters give their value's
    /// shape without its first axis). Null when nothing says.
    /// </summary>
    private static long[]? ElementShape(ShapeContext s, TensorName array, long[]? declared = null)
    {
        var creator = Creator(s.Graph, array);
        if (creator is null)
            return declared;
        var known = new List<long[]>();
        if (declared is not null)
            known.Add(declared);
        if (creator.Op == "TensorArrayV3" && creator.GetShape("element_shape") is { } attr)
            known.Add(attr);
        if (creator.Op is "TensorListReserve" or "EmptyTensorList" && s.Shapes.Value(creator.DataInput(0)) is { } listShape && ShapeFromValue(listShape) is { } fromValue)
            known.Add(fromValue);
        foreach (var node in s.Graph.Nodes)
        {
            long[]? seen = node.Op switch
            {
                "TensorArrayWriteV3" => ShapeOf(s, node, 2, 0),
                "TensorArrayScatterV3" => ShapeOf(s, node, 2, 1),
                "TensorListSetItem" => ShapeOf(s, node, 2, 0),
                "TensorListPushBack" => ShapeOf(s, node, 1, 0),
                "TensorListFromTensor" when node == creator => ShapeOf(s, node, 0, 1),
                _ => null,
            };
            if (seen is not null && !ReferenceEquals(node, creator) && !ReferenceEquals(Creator(s.Graph, node.DataInput(0)), creator))
                continue;
            if (seen is not null)
                known.Add(seen);
        }
        if (known.Count == 0)
            return null;
        // Everything said about the elements must hold; where one source knows a dimension another does not, keep it.
        var result = known[0];
        foreach (var k in known.Skip(1))
        {
            if (k.Length != result.Length)
                return null;
            result = result.Select((d, i) => d < 0 ? k[i] : k[i] < 0 || k[i] == d ? d : -1).ToArray();
        }
        return result;
    }

    /// <summary>The shape of input <paramref name="input"/> with its first <paramref name="drop"/> axes removed, when known.</summary>
    private static long[]? ShapeOf(ShapeContext s, NodeDef node, int input, int drop)
    {
        if (node.DataInputCount() <= input)
            return null;
        var t = node.DataInput(input);
        if (!s.Shapes.Has(t) || s.Shapes.Shape(t) is not { } shape || shape.Length < drop)
            return null;
        return shape[drop..];
    }

    /// <summary>A TensorList element_shape tensor: -1 for an unknown dimension, a scalar -1 for an unknown rank.</summary>
    private static long[]? ShapeFromValue(TensorValue value)
    {
        if (!ShapeMath.IsInteger(value) || value.Rank != 1)
            return null;
        return value.ToInt64Array().Select(d => d < 0 ? -1 : d).ToArray();
    }

    private static void GatherShape(ShapeContext s)
    {
        var element = ElementShape(s, s.Input(0), s.Node.GetShape("element_shape"));
        var n = s.Shape(1) is [var count] ? count : -1;
        s.Set(0, element is null ? null : [n, .. element], s.Node.GetDataType("dtype", DataType.DtFloat));
    }

    private static void ConcatShape(ShapeContext s)
    {
        var element = ElementShape(s, s.Input(0));
        s.Set(0, element is { Length: > 0 } ? [-1, .. element[1..]] : null, s.Node.GetDataType("dtype", DataType.DtFloat));
        s.Set(1, [-1], DataType.DtInt64);
    }

    private static void SizeShape(ShapeContext s)
    {
        // A fixed-size array's size is what it was created with.
        var creator = Creator(s.Graph, s.Input(0));
        TensorValue? value = null;
        if (creator is { Op: "TensorArrayV3" } && !creator.GetBool("dynamic_size", false) && s.Shapes.Value(creator.DataInput(0)) is { } size && ShapeMath.IsInteger(size))
            value = ShapeMath.IntValue([size.ToInt64Array()[0]], [], DataType.DtInt32);
        s.Set(0, [], DataType.DtInt32, value);
    }

    private static void ListStackShape(ShapeContext s)
    {
        var declared = s.InputCount > 1 && s.Value(1) is { } v ? ShapeFromValue(v) : null;
        var element = ElementShape(s, s.Input(0), declared);
        var n = s.Node.GetInt("num_elements", -1);
        if (Creator(s.Graph, s.Input(0)) is { Op: "TensorListFromTensor" } from && s.Shapes.Shape(from.DataInput(0)) is [var rows, ..])
            n = n < 0 ? rows : n;
        s.Set(0, element is null ? null : [n, .. element], s.Node.GetDataType("element_dtype", DataType.DtFloat));
    }

    private static void ListGatherShape(ShapeContext s)
    {
        var declared = s.InputCount > 2 && s.Value(2) is { } v ? ShapeFromValue(v) : null;
        var element = ElementShape(s, s.Input(0), declared);
        var n = s.Shape(1) is [var count] ? count : -1;
        s.Set(0, element is null ? null : [n, .. element], s.Node.GetDataType("element_dtype", DataType.DtFloat));
    }

    // ---- Translation ----

    /// <summary>A TensorArray handle has no run-time value; what reads it reads the flow (the sequence) instead.</summary>
    private const string NoHandle = "";

    /// <summary>
    /// <paramref name="count"/> (an int64 scalar) placeholder elements: zeros of <paramref name="element"/> when it is
    /// fully known (TensorFlow reads an unwritten element of a known shape as zeros), otherwise zero scalars.
    /// </summary>
    private static string Placeholders(TranslationContext c, string count, DataType type, long[]? element)
    {
        var b = c.Builder;
        var dims = b.Node("Unsqueeze", [count, b.Int64s("axes", 0)]);
        if (ShapeMath.IsKnown(element) && element!.Length > 0)
            dims = b.Node("Concat", [dims, b.Int64s("element_shape", element)], attributes: ("axis", 0L));
        var zero = OnnxBuilder.Tensor("zero", new TensorValue(type, [1], new byte[DataTypes.SizeOf(type)]));
        var zeros = b.Node("ConstantOfShape", [dims], attributes: ("value", zero));
        // SplitToSequence cannot split zero rows into zero elements; an empty array is an empty sequence.
        return SequenceIf(c, b.Node("Equal", [count, b.Int64Scalar("zero", 0)]), type,
            then => then.Node("SequenceEmpty", [], attributes: ("dtype", (long)OnnxBuilder.ElementType(type))),
            otherwise => otherwise.Node("SplitToSequence", [zeros], attributes: [("axis", 0L), ("keepdims", 0L)]));
    }

    /// <summary>An ONNX If whose branches each build a sequence of <paramref name="type"/>.</summary>
    private static string SequenceIf(TranslationContext c, string condition, DataType type, Func<OnnxBuilder, string> then, Func<OnnxBuilder, string> otherwise)
    {
        GraphProtoOf(c.Builder, "then", type, then, out var thenGraph);
        GraphProtoOf(c.Builder, "else", type, otherwise, out var elseGraph);
        var output = c.Builder.Node("If", [condition], attributes: [("then_branch", thenGraph), ("else_branch", elseGraph)]);
        c.Builder.SetSequence(output, type);
        return output;
    }

    private static void GraphProtoOf(OnnxBuilder parent, string hint, DataType type, Func<OnnxBuilder, string> build, out Onnx.GraphProto graph)
    {
        var child = parent.Child(hint);
        var result = child.Node("Identity", [build(child)]);
        child.Graph.Output.Add(OnnxBuilder.ValueInfoOf(result, type, sequence: true));
        graph = child.Graph;
    }

    private static string Int64Scalar(TranslationContext c, TensorName t) =>
        c.Builder.Node("Reshape", [c.GetInt64(t), c.Builder.Int64s("scalar")]);

    private static void TensorArray(NodeDef node, TranslationContext c)
    {
        var type = node.GetDataType("dtype", DataType.DtFloat);
        c.Set(node, 0, NoHandle);
        var flow = Placeholders(c, Int64Scalar(c, node.DataInput(0)), type, node.GetShape("element_shape"));
        c.SetSequence(node, 1, flow, type);
    }

    /// <summary>The sequence an op reads: the flow input of a TensorArray op, the list of a TensorList op.</summary>
    private static (string Sequence, DataType Type) SequenceOf(NodeDef node, TranslationContext c, int input)
    {
        var t = node.DataInput(input);
        var name = c.Get(t);
        if (c.Builder.SequenceType(name) is not { } type)
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): its TensorArray/TensorList input '{t}' does not come from an array TfPose translated.");
        return (name, type);
    }

    /// <summary>The sequence with element <paramref name="index"/> replaced by <paramref name="value"/>.</summary>
    private static string Replace(OnnxBuilder b, string sequence, string index, string value) =>
        b.Node("SequenceInsert", [b.Node("SequenceErase", [sequence, index]), value, index]);

    private static bool IsDynamic(TranslationContext c, NodeDef node) =>
        Creator(c.Graph, node.DataInput(0)) is not { Op: "TensorArrayV3" } creator || creator.GetBool("dynamic_size", false);

    private static void Write(NodeDef node, TranslationContext c)
    {
        var (sequence, type) = SequenceOf(node, c, 3);
        var index = c.Get(node.DataInput(1));
        var value = c.Get(node.DataInput(2));
        string result;
        if (!IsDynamic(c, node))
        {
            result = Replace(c.Builder, sequence, index, value);
        }
        else
        {
            // A growing array: writing one past the end appends (TensorFlow writes growing arrays in order).
            var length = c.Builder.Node("SequenceLength", [sequence]);
            var inside = c.Builder.Node("Less", [c.Builder.Node("Cast", [index], attributes: ("to", (long)OnnxType.Int64)), length]);
            result = SequenceIf(c, inside, type, b => Replace(b, sequence, index, value), b => b.Node("SequenceInsert", [sequence, value]));
        }
        c.SetSequence(node, 0, result, type);
    }

    private static void Read(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 2);
        c.Set(node, 0, c.Builder.Node("SequenceAt", [sequence, c.Get(node.DataInput(1))], name: node.Name));
    }

    /// <summary>Indices 0, 1, ..., n-1 written as Range(0, n, 1): the whole array in order.</summary>
    private static bool IsWholeRange(TranslationContext c, TensorName indices, Func<NodeDef?, bool> limitIsSize)
    {
        var node = c.Graph.FindNode(indices.Node);
        if (node is not { Op: "Range" } || node.DataInputCount() != 3)
            return false;
        return c.Value(node.DataInput(0)) is { } start && ShapeMath.IsInteger(start) && start.ToInt64Array() is [0] &&
               c.Value(node.DataInput(2)) is { } delta && ShapeMath.IsInteger(delta) && delta.ToInt64Array() is [1] &&
               limitIsSize(c.Graph.FindNode(node.DataInput(1).Node));
    }

    private static void Scatter(NodeDef node, TranslationContext c)
    {
        var (sequence, type) = SequenceOf(node, c, 3);
        var indices = node.DataInput(1);
        var value = c.Get(node.DataInput(2));
        var fresh = c.Graph.FindNode(node.DataInput(3).Node) is { Op: "TensorArrayV3" };
        string result;
        if (fresh && IsWholeRange(c, indices, _ => true))
        {
            // tf.TensorArray.unstack: the rows of the value are the array (TensorFlow checks that the counts agree).
            result = SplitRows(c, value, type);
        }
        else
        {
            // Element indices[i] = value[i], one at a time.
            var b = c.Builder;
            var indexTensor = c.Get(indices);
            var count = b.Node("Gather", [b.Node("Shape", [indexTensor]), b.Int64Scalar("zero", 0)]);
            var body = b.Child("scatter");
            var i = body.Fresh("i");
            var condIn = body.Fresh("cond");
            var seqIn = body.Fresh("seq");
            body.Graph.Input.Add(OnnxBuilder.ValueInfo(i, DataType.DtInt64, []));
            body.Graph.Input.Add(OnnxBuilder.ValueInfo(condIn, DataType.DtBool, []));
            body.Graph.Input.Add(OnnxBuilder.ValueInfoOf(seqIn, type, true));
            var at = body.Node("Gather", [indexTensor, i]);
            var row = body.Node("Gather", [value, i], attributes: ("axis", 0L));
            var condOut = body.Node("Identity", [condIn]);
            var seqOut = Replace(body, seqIn, at, row);
            body.Graph.Output.Add(OnnxBuilder.ValueInfo(condOut, DataType.DtBool, []));
            body.Graph.Output.Add(OnnxBuilder.ValueInfoOf(seqOut, type, true));
            result = b.Node("Loop", [count, "", sequence], attributes: ("body", body.Graph));
        }
        c.SetSequence(node, 0, result, type);
    }

    private static string SplitRows(TranslationContext c, string value, DataType type)
    {
        var b = c.Builder;
        var rows = b.Node("Gather", [b.Node("Shape", [value]), b.Int64Scalar("zero", 0)]);
        return SequenceIf(c, b.Node("Equal", [rows, b.Int64Scalar("zero", 0)]), type,
            then => then.Node("SequenceEmpty", [], attributes: ("dtype", (long)OnnxBuilder.ElementType(type))),
            otherwise => otherwise.Node("SplitToSequence", [value], attributes: [("axis", 0L), ("keepdims", 0L)]));
    }

    private static void Split(NodeDef node, TranslationContext c)
    {
        var (_, type) = SequenceOf(node, c, 3);
        var value = c.Get(node.DataInput(1));
        var lengths = c.GetInt64(node.DataInput(2));
        var result = c.Builder.Node("SplitToSequence", [value, lengths], attributes: [("axis", 0L), ("keepdims", 1L)]);
        c.SetSequence(node, 0, result, type);
    }

    /// <summary>
    /// Every element stacked on a new first axis, then the requested ones. ONNX cannot stack an empty sequence; when
    /// the element shape is known an empty array stacks to [0, ...element shape], as in TensorFlow.
    /// </summary>
    private static string GatherElements(NodeDef node, TranslationContext c, string sequence, TensorName indices, bool whole)
    {
        var b = c.Builder;
        var type = b.SequenceType(sequence) ?? DataType.DtFloat;
        var shape = c.Shape(new TensorName(node.Name, 0));
        string Stack(OnnxBuilder builder) => builder.Node("ConcatFromSequence", [sequence], attributes: [("axis", 0L), ("new_axis", 1L)]);
        string stacked;
        if (shape is { Length: > 0 } && ShapeMath.IsKnown(shape[1..]))
        {
            var empty = b.Node("Equal", [b.Node("SequenceLength", [sequence]), b.Int64Scalar("zero", 0)]);
            var zero = OnnxBuilder.Tensor("zero", new TensorValue(type, [1], new byte[DataTypes.SizeOf(type)]));
            Onnx.GraphProto Branch(string hint, Func<OnnxBuilder, string> build)
            {
                var child = b.Child(hint);
                var output = child.Node("Identity", [build(child)]);
                child.Graph.Output.Add(OnnxBuilder.ValueInfoOf(output, type, sequence: false));
                return child.Graph;
            }
            var then = Branch("empty", x => x.Node("ConstantOfShape", [x.Int64s("shape", [0, .. shape[1..]])], attributes: ("value", zero)));
            var otherwise = Branch("stack", Stack);
            stacked = b.Node("If", [empty], attributes: [("then_branch", then), ("else_branch", otherwise)]);
        }
        else
        {
            stacked = Stack(b);
        }
        return whole ? stacked : b.Node("Gather", [stacked, c.Get(indices)], attributes: ("axis", 0L));
    }

    private static void Gather(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 2);
        var whole = IsWholeRange(c, node.DataInput(1), n => n?.Op is "TensorArraySizeV3");
        c.Set(node, 0, GatherElements(node, c, sequence, node.DataInput(1), whole));
    }

    private static void Concat(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 1);
        c.Set(node, 0, c.Builder.Node("ConcatFromSequence", [sequence], name: node.Name, attributes: ("axis", 0L)));
        if (c.Consumers(node.Name).Any(r => r.Output == 1))
            throw new NotSupportedException($"node '{node.Name}' (TensorArrayConcatV3): the element lengths (output 1) are not supported.");
    }

    private static void Size(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 1);
        c.Set(node, 0, c.Builder.Node("Cast", [c.Builder.Node("SequenceLength", [sequence])], name: node.Name, attributes: ("to", (long)OnnxType.Int32)));
    }

    private static long[]? ListElementShape(NodeDef node, TranslationContext c, int input) =>
        node.DataInputCount() > input && c.Value(node.DataInput(input)) is { } v ? ShapeFromValue(v) : null;

    private static void Reserve(NodeDef node, TranslationContext c)
    {
        var type = node.GetDataType("element_dtype", DataType.DtFloat);
        c.SetSequence(node, 0, Placeholders(c, Int64Scalar(c, node.DataInput(1)), type, ListElementShape(node, c, 0)), type);
    }

    private static void EmptyList(NodeDef node, TranslationContext c)
    {
        var type = node.GetDataType("element_dtype", DataType.DtFloat);
        c.SetSequence(node, 0, c.Builder.Node("SequenceEmpty", [], name: node.Name, attributes: ("dtype", (long)OnnxBuilder.ElementType(type))), type);
    }

    private static void FromTensor(NodeDef node, TranslationContext c)
    {
        var type = node.GetDataType("element_dtype", c.Type(node.DataInput(0)));
        c.SetSequence(node, 0, SplitRows(c, c.Get(node.DataInput(0)), type), type);
    }

    private static void SetItem(NodeDef node, TranslationContext c)
    {
        var (sequence, type) = SequenceOf(node, c, 0);
        c.SetSequence(node, 0, Replace(c.Builder, sequence, c.Get(node.DataInput(1)), c.Get(node.DataInput(2))), type);
    }

    private static void PushBack(NodeDef node, TranslationContext c)
    {
        var (sequence, type) = SequenceOf(node, c, 0);
        c.SetSequence(node, 0, c.Builder.Node("SequenceInsert", [sequence, c.Get(node.DataInput(1))]), type);
    }

    private static void GetItem(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 0);
        c.Set(node, 0, c.Builder.Node("SequenceAt", [sequence, c.Get(node.DataInput(1))], name: node.Name));
    }

    private static void Stack(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 0);
        c.Set(node, 0, GatherElements(node, c, sequence, default, whole: true));
    }

    private static void ListGather(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 0);
        c.Set(node, 0, GatherElements(node, c, sequence, node.DataInput(1), whole: false));
    }

    private static void Length(NodeDef node, TranslationContext c)
    {
        var (sequence, _) = SequenceOf(node, c, 0);
        c.Set(node, 0, c.Builder.Node("Cast", [c.Builder.Node("SequenceLength", [sequence])], name: node.Name, attributes: ("to", (long)OnnxType.Int32)));
    }
}
