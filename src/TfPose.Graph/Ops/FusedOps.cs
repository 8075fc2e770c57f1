using System.Text;
using Google.Protobuf;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>
/// Ops that TensorFlow's graph optimizer and the TensorFlow.js converter fuse (a convolution or matrix product with
/// its bias, batch normalisation, residual add and activation). They are lowered back into the plain ops, so they
/// take exactly the translation, layout and ONNX Runtime fusions (Conv with activation, NCHWc) that plain graphs get.
/// </summary>
internal static class FusedOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("_FusedConv2D", Unlowered, null, Lower: (n, _) => LowerContraction(n, "Conv2D")),
        new("FusedDepthwiseConv2dNative", Unlowered, null, Lower: (n, _) => LowerContraction(n, "DepthwiseConv2dNative")),
        new("_FusedDepthwiseConv2dNative", Unlowered, null, Lower: (n, _) => LowerContraction(n, "DepthwiseConv2dNative")),
        new("_FusedMatMul", Unlowered, null, Lower: (n, _) => LowerContraction(n, "MatMul")),
        new("_FusedBatchNormEx", Unlowered, null, Lower: (n, _) => LowerBatchNormEx(n)),
        new("Prelu", s => s.Set(0, ShapeMath.Broadcast(s.Shape(0), s.Shape(1)), s.Type(0)), Prelu, FlopRules.PerOutputElement(2)),
    ];

    /// <summary>A fused node whose combination could not be lowered: its outputs stay unknown and it is reported unsupported.</summary>
    private static void Unlowered(ShapeContext s) => s.Unknown();

    /// <summary>The activations a fused op may end with, and the plain op that computes each.</summary>
    private static readonly HashSet<string> Activations = new(StringComparer.Ordinal) { "Relu", "Relu6", "Elu", "LeakyRelu", "Sigmoid", "Tanh", "Prelu", "Selu" };

    public static string[] FusedOpList(NodeDef node) =>
        node.Attr.TryGetValue("fused_ops", out var v) && v.List is { } list ? list.S.Select(b => b.ToString(Encoding.UTF8)).ToArray() : [];

    /// <summary>Why a fused node cannot be lowered, or null when it can.</summary>
    public static string? Unsupported(NodeDef node)
    {
        var ops = FusedOpList(node);
        if (node.Op == "_FusedBatchNormEx")
            return node.GetString("activation_mode", "Identity") is "Identity" or "Relu" ? null : $"activation_mode {node.GetString("activation_mode", "")}";
        return Plan(node, ops, node.DataInputCount() - 2) is null ? $"fused_ops [{string.Join(", ", ops)}] with {node.DataInputCount() - 2} argument(s)" : null;
    }

    /// <summary>
    /// The steps of a fused contraction, each with the number of extra arguments it reads, in the orders TensorFlow
    /// defines: BiasAdd or FusedBatchNorm first, then an optional Add (a residual input), then an optional activation.
    /// </summary>
    private static List<(string Op, int Args)>? Plan(NodeDef node, string[] ops, int args)
    {
        var steps = new List<(string, int)>();
        var i = 0;
        if (i < ops.Length && ops[i] == "BiasAdd")
            steps.Add(("BiasAdd", 1));
        else if (i < ops.Length && ops[i] == "FusedBatchNorm" && node.Op != "_FusedMatMul")
            steps.Add(("FusedBatchNorm", 4));
        else
            return null;
        i++;
        if (i < ops.Length && ops[i] is "Add" or "AddV2")
        {
            steps.Add(("AddV2", 1));
            i++;
        }
        if (i < ops.Length && Activations.Contains(ops[i]))
        {
            steps.Add((ops[i], ops[i] == "Prelu" ? 1 : 0));
            i++;
        }
        if (i != ops.Length || steps.Sum(s => s.Item2) != args)
            return null;
        return steps;
    }

    private static Lowering? LowerContraction(NodeDef node, string plainOp)
    {
        var ops = FusedOpList(node);
        var inputs = node.Input.ToList();
        var data = node.DataInputs().Select(t => t.ToString()).ToList();
        var control = inputs.Where(i => i.StartsWith('^')).ToList();
        if (data.Count < 2 || Plan(node, ops, data.Count - 2) is not { } plan)
            return null;
        var prefix = node.Name + "/_fused/";
        var nodes = new List<NodeDef>();
        var contraction = new NodeDef { Name = prefix + plainOp, Op = plainOp, Device = node.Device };
        contraction.Input.Add(data[0]);
        contraction.Input.Add(data[1]);
        contraction.Input.AddRange(control);
        string[] kept = plainOp == "MatMul" ? ["T", "transpose_a", "transpose_b"] : ["T", "strides", "padding", "explicit_paddings", "data_format", "dilations"];
        foreach (var key in kept)
        {
            if (node.Attr.TryGetValue(key, out var value))
                contraction.Attr[key] = value.Clone();
        }
        nodes.Add(contraction);
        var current = contraction.Name;
        var arg = 2;
        var dataFormat = node.Attr.TryGetValue("data_format", out var df) ? df.Clone() : new AttrValue { S = ByteString.CopyFromUtf8("NHWC") };
        foreach (var (op, count) in plan)
        {
            var step = new NodeDef { Name = prefix + op, Op = op == "FusedBatchNorm" ? "FusedBatchNormV3" : op, Device = node.Device };
            step.Input.Add(current);
            for (var k = 0; k < count; k++)
                step.Input.Add(data[arg++]);
            if (node.Attr.TryGetValue("T", out var t))
                step.Attr["T"] = t.Clone();
            switch (op)
            {
                case "BiasAdd":
                    step.Attr["data_format"] = dataFormat.Clone();
                    break;
                case "FusedBatchNorm":
                    step.Attr["data_format"] = dataFormat.Clone();
                    step.Attr["epsilon"] = new AttrValue { F = node.GetFloat("epsilon", 0.0001f) };
                    step.Attr["is_training"] = new AttrValue { B = false };
                    if (node.Attr.TryGetValue("T", out var u))
                        step.Attr["U"] = u.Clone();
                    break;
                case "LeakyRelu":
                    step.Attr["alpha"] = new AttrValue { F = node.GetFloat("leakyrelu_alpha", 0.2f) };
                    break;
            }
            nodes.Add(step);
            current = step.Name;
        }
        nodes[^1].Name = node.Name;
        return new Lowering(nodes);
    }

    /// <summary>_FusedBatchNormEx: FusedBatchNormV3, then an optional side input added, then an optional Relu.</summary>
    private static Lowering? LowerBatchNormEx(NodeDef node)
    {
        var mode = node.GetString("activation_mode", "Identity");
        if (mode is not ("Identity" or "Relu"))
            return null;
        var data = node.DataInputs().Select(t => t.ToString()).ToList();
        var sideInputs = (int)node.GetInt("num_side_inputs", 0);
        if (data.Count != 5 + sideInputs || sideInputs > 1)
            return null;
        var bn = new NodeDef { Name = node.Name + "/_fused/FusedBatchNormV3", Op = "FusedBatchNormV3", Device = node.Device };
        bn.Input.AddRange(data.Take(5));
        bn.Input.AddRange(node.Input.Where(i => i.StartsWith('^')));
        foreach (var key in new[] { "T", "U", "epsilon", "data_format", "is_training", "exponential_avg_factor" })
        {
            if (node.Attr.TryGetValue(key, out var value))
                bn.Attr[key] = value.Clone();
        }
        var nodes = new List<NodeDef> { bn };
        var current = bn.Name;
        if (sideInputs == 1)
        {
            var add = new NodeDef { Name = node.Name + "/_fused/AddV2", Op = "AddV2", Input = { current, data[5] } };
            nodes.Add(add);
            current = add.Name;
        }
        if (mode == "Relu")
            nodes.Add(new NodeDef { Name = node.Name + "/_fused/Relu", Op = "Relu", Input = { current } });
        if (nodes.Count == 1)
        {
            // Nothing fused after all: the node is a plain batch normalisation under its own name.
            bn.Name = node.Name;
            return new Lowering(nodes);
        }
        nodes[^1].Name = node.Name;
        var renamed = Enumerable.Range(1, 5).ToDictionary(i => i, i => $"{bn.Name}:{i}");
        return new Lowering(nodes, renamed);
    }

    /// <summary>x where x ≥ 0, alpha·x elsewhere; alpha broadcasts against x (per channel in practice).</summary>
    private static void Prelu(NodeDef node, TranslationContext c)
    {
        var (x, alpha, layout) = ElementwiseOps.BroadcastPair(node, c);
        c.Set(node, 0, c.Builder.Node("PRelu", [x, alpha], name: node.Name), layout);
    }
}
