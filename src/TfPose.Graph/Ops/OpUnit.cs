using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>Sets a node's output shapes, dtypes and (where cheap) values from its inputs'. Must not assume anything is known.</summary>
internal delegate void ShapeRule(ShapeContext s);

/// <summary>Emits the ONNX nodes that compute a TensorFlow node.</summary>
internal delegate void OpConverter(NodeDef node, TranslationContext c);

/// <summary>Floating-point operations of one node at the inferred shapes; null when the shapes needed are unknown.</summary>
internal delegate long? FlopRule(NodeDef node, GraphShapes shapes);

/// <summary>
/// Rewrites one node into plain nodes that compute the same outputs (fused ops into the ops they fuse), so that
/// every later stage, and the layout and fusion work of the translator, sees only the plain form. The last node
/// returned takes over the original node's name; <see cref="Lowering.Renamed"/> maps its other outputs.
/// </summary>
internal delegate Lowering? LowerRule(NodeDef node, TfGraph graph);

/// <summary>Replacement nodes for a lowered node, and where readers of its outputs other than 0 must now read.</summary>
internal sealed record Lowering(IReadOnlyList<NodeDef> Nodes, IReadOnlyDictionary<int, string>? Renamed = null);

/// <summary>
/// Everything TfPose knows about one TensorFlow op, in one place: how its output shapes follow from its inputs,
/// how it becomes ONNX, and what it costs. An op either translates or lowers into ops that do.
/// </summary>
internal sealed record OpUnit(string Name, ShapeRule Shapes, OpConverter? Translate, FlopRule? Flops = null, LowerRule? Lower = null);

/// <summary>Common FLOP counts.</summary>
internal static class FlopRules
{
    /// <summary><paramref name="perElement"/> operations per element of output 0.</summary>
    public static FlopRule PerOutputElement(long perElement = 1) => (node, shapes) =>
        shapes.Shape(new TensorName(node.Name, 0)) is { } s && s.All(d => d >= 0) ? perElement * TensorValue.ElementCount(s) : null;
}
