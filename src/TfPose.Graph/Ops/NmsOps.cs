using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using OnnxType = TfPose.Graph.Onnx.TensorProto.Types.DataType;

namespace TfPose.Graph.Ops;

/// <summary>
/// TensorFlow's greedy non-max suppression over one set of boxes, on ONNX NonMaxSuppression (one batch, one class).
/// TensorFlow visits candidates by descending score, equal scores by ascending index, keeps those with score
/// strictly above score_threshold, and suppresses a candidate whose IoU with a kept box is strictly above
/// iou_threshold. ONNX Runtime's kernel uses the same strict comparisons, but ONNX leaves the order of equal scores
/// unspecified (ONNX Runtime's CPU kernel has kept candidates in a heap ordered by score alone; 1.31 happens to
/// take the lower index first, other providers need not). So the candidates are sorted here (TopK puts the lower
/// index first among equals) and NonMaxSuppression sees their ranks, all distinct, as scores: it then visits them
/// in exactly TensorFlow's order whatever runs it.
/// </summary>
internal static class NmsOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("NonMaxSuppressionV2", s => NmsShape(s, 1), (n, c) => Nms(n, c, hasScoreThreshold: false, padded: false, withScores: false)),
        new("NonMaxSuppressionV3", s => NmsShape(s, 1), (n, c) => Nms(n, c, hasScoreThreshold: true, padded: false, withScores: false)),
        new("NonMaxSuppressionV4", s => NmsShape(s, 2), (n, c) => Nms(n, c, hasScoreThreshold: true, padded: n.GetBool("pad_to_max_output_size", false), withScores: false)),
        new("NonMaxSuppressionV5", s => NmsShape(s, 3), (n, c) => Nms(n, c, hasScoreThreshold: true, padded: n.GetBool("pad_to_max_output_size", false), withScores: true)),
    ];

    /// <summary>
    /// selected_indices (int32), then for V5 selected_scores, then for V4/V5 valid_outputs (int32 scalar). Padded
    /// outputs have max_output_size entries, others an unknown count.
    /// </summary>
    private static void NmsShape(ShapeContext s, int outputs)
    {
        var padded = outputs > 1 && s.Node.GetBool("pad_to_max_output_size", false);
        var count = padded && s.Ints(2) is [var max] ? max : -1;
        s.Set(0, [count], DataType.DtInt32);
        if (outputs == 3)
            s.Set(1, [count], s.Type(1));
        if (outputs > 1)
            s.Set(outputs - 1, [], DataType.DtInt32);
    }

    private static string Float(TranslationContext c, TensorName t) =>
        c.Type(t) == DataType.DtFloat ? c.Get(t) : c.Builder.Node("Cast", [c.Get(t)], attributes: ("to", (long)OnnxType.Float));

    private static float Scalar(TensorValue v) => v.Type == DataType.DtHalf ? (float)v.Span<Half>()[0] : v.ToFloatArray()[0];

    private static void Nms(NodeDef node, TranslationContext c, bool hasScoreThreshold, bool padded, bool withScores)
    {
        if (withScores)
        {
            var sigma = c.Value(node.DataInput(5)) is { Count: 1 } v ? Scalar(v) : (float?)null;
            if (sigma != 0f)
                throw new NotSupportedException($"node '{node.Name}' (NonMaxSuppressionV5): soft-NMS is not supported; soft_nms_sigma must be a constant 0, " +
                    $"it is {(sigma is { } value ? value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "not a known scalar")}.");
        }
        var b = c.Builder;
        var boxes = Float(c, node.DataInput(0));
        var scores = Float(c, node.DataInput(1));
        var count = b.Node("Shape", [scores]);
        var sorted = b.NodeMulti("TopK", [scores, count], 2, node.Name + "/sorted", ("axis", 0L), ("largest", 1L), ("sorted", 1L));
        var order = sorted[1];
        // Without a score threshold (V2) TensorFlow still requires score > lowest float.
        var threshold = hasScoreThreshold ? Float(c, node.DataInput(4)) : b.Floats("lowest", [], [float.MinValue]);
        var ranks = b.Node("Neg", [b.Node("Cast", [b.Node("Range", [b.Int64Scalar("zero", 0), b.Node("Squeeze", [count]), b.Int64Scalar("one", 1)])],
            attributes: ("to", (long)OnnxType.Float))]);
        var candidates = b.Node("Where", [b.Node("Greater", [sorted[0], threshold]), ranks, b.Floats("excluded", [], [float.NegativeInfinity])]);
        var max = c.GetInt64(node.DataInput(2));
        var selected = b.Node("NonMaxSuppression",
        [
            b.Node("Unsqueeze", [b.Node("Gather", [boxes, order], attributes: ("axis", 0L)), b.Int64s("axes", 0)]),
            b.Node("Reshape", [candidates, b.Int64s("shape", 1, 1, -1)]),
            b.Node("Reshape", [max, b.Int64s("shape", 1)]),
            b.Node("Reshape", [Float(c, node.DataInput(3)), b.Int64s("shape", 1)]),
            b.Floats("lowest", [1], [float.MinValue]),
        ]);
        var positions = b.Node("Gather", [selected, b.Int64Scalar("box", 2)], attributes: ("axis", 1L));
        var indices = b.Node("Gather", [order, positions], attributes: ("axis", 0L));
        string? pads = null;
        if (padded)
        {
            var missing = b.Node("Sub", [b.Node("Reshape", [max, b.Int64s("shape", 1)]), b.Node("Shape", [indices])]);
            pads = b.Node("Concat", [b.Int64s("none", 0), missing], attributes: ("axis", 0L));
        }
        string Pad(string x, string name) => pads is null ? b.Node("Identity", [x], name: name) : b.Node("Pad", [x, pads], name: name);
        c.Set(node, 0, Pad(b.Node("Cast", [indices], attributes: ("to", (long)OnnxType.Int32)), node.Name));
        if (withScores)
            c.Set(node, 1, Pad(b.Node("Gather", [c.Get(node.DataInput(1)), indices], attributes: ("axis", 0L)), node.Name + "/scores"));
        if (node.Op is "NonMaxSuppressionV4" or "NonMaxSuppressionV5")
            c.Set(node, withScores ? 2 : 1, b.Node("Cast", [b.Node("Size", [indices])], name: node.Name + "/valid_outputs", attributes: ("to", (long)OnnxType.Int32)));
    }
}
