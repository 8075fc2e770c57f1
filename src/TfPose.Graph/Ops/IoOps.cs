using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>Graph inputs, constants, and the ops that only pass a tensor on.</summary>
internal static class IoOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("Placeholder", PlaceholderShape, Placeholder),
        new("PlaceholderV2", PlaceholderShape, Placeholder),
        new("PlaceholderWithDefault", s => s.Set(0, s.InputShapes?.GetValueOrDefault(s.Node.Name) ?? s.Shape(0), s.Node.GetDataType("dtype", s.Type(0))), Placeholder),
        new("Const", s =>
        {
            var value = s.Graph.GetConstant(s.Node.Name);
            s.Set(0, value.Shape, value.Type, value);
        }, (n, c) => c.SetConstant(n, 0, c.Value(new TensorName(n.Name, 0))!)),
        PassThrough("Identity"),
        PassThrough("StopGradient"),
        PassThrough("PreventGradient"),
        PassThrough("Snapshot"),
        new("NoOp", _ => { }, (_, _) => { }),
    ];

    /// <summary>An op that returns its input unchanged at inference time.</summary>
    public static OpUnit PassThrough(string op) => new(op, s => s.Set(0, s.Shape(0), s.Type(0), s.Value(0)), (n, c) => c.Alias(n, n.DataInput(0)));

    private static void PlaceholderShape(ShapeContext s) =>
        s.Set(0, s.InputShapes?.GetValueOrDefault(s.Node.Name) ?? s.Node.GetShape("shape"), s.Node.GetDataType("dtype", DataType.DtFloat));

    private static void Placeholder(NodeDef node, TranslationContext c)
    {
        var withDefault = node.Op == "PlaceholderWithDefault";
        var type = node.GetDataType("dtype", withDefault ? c.Type(node.DataInput(0)) : DataType.DtFloat);
        var shape = c.InputShapes?.GetValueOrDefault(node.Name) ?? node.GetShape("shape");
        if (withDefault)
        {
            shape ??= c.Shape(node.DataInput(0));
            // An ONNX input that is also an initializer is optional and defaults to that value.
            if (c.Value(node.DataInput(0)) is { } fallback)
                c.Builder.Graph.Initializer.Add(OnnxBuilder.Tensor(node.Name, fallback));
        }
        c.Builder.Graph.Input.Add(OnnxBuilder.ValueInfo(node.Name, type, shape));
        c.GraphInputs.Add(new GraphInput(node.Name, type, shape));
        c.Set(node, 0, node.Name);
    }
}
