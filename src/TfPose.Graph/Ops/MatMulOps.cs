using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>
/// Batched matrix products: x [..., r, c] · y [..., c, n] per batch entry, with adj_x / adj_y transposing the last two
/// axes first (the adjoint is the transpose for the real types ONNX has). ONNX MatMul broadcasts the batch axes as
/// V2 and V3 define; V1 requires equal batch axes, a special case.
/// </summary>
internal static class MatMulOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("BatchMatMul", BatchMatMulShape, BatchMatMul, BatchMatMulFlops),
        new("BatchMatMulV2", BatchMatMulShape, BatchMatMul, BatchMatMulFlops),
        new("BatchMatMulV3", BatchMatMulShape, BatchMatMul, BatchMatMulFlops),
    ];

    private static DataType OutputType(NodeDef node, DataType x) => node.Op == "BatchMatMulV3" ? node.GetDataType("Tout", x) : x;

    private static void BatchMatMulShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var y = s.Shape(1);
        var type = OutputType(s.Node, s.Type(0));
        if (x is not { Length: >= 2 } || y is not { Length: >= 2 })
        {
            s.Unknown(0, type);
            return;
        }
        var adjX = s.Node.GetBool("adj_x", false);
        var adjY = s.Node.GetBool("adj_y", false);
        var batch = ShapeMath.Broadcast(x[..^2], y[..^2])!;
        s.Set(0, [.. batch, adjX ? x[^1] : x[^2], adjY ? y[^2] : y[^1]], type);
    }

    /// <summary>A multiply and an add per output element per term of the inner dimension.</summary>
    private static long? BatchMatMulFlops(NodeDef node, GraphShapes shapes)
    {
        var output = shapes.Shape(new TensorName(node.Name, 0));
        var x = shapes.Shape(node.DataInput(0));
        if (!ShapeMath.IsKnown(output) || !ShapeMath.IsKnown(x) || x!.Length < 2)
            return null;
        return 2 * TensorValue.ElementCount(output) * (node.GetBool("adj_x", false) ? x[^2] : x[^1]);
    }

    /// <summary>Types ONNX Runtime multiplies directly; narrower ones are computed in a wider type and cast back.</summary>
    private static DataType ComputeType(DataType type) => type switch
    {
        DataType.DtFloat or DataType.DtDouble or DataType.DtInt32 or DataType.DtInt64 or DataType.DtUint32 or DataType.DtUint64 => type,
        DataType.DtHalf or DataType.DtBfloat16 => DataType.DtFloat,
        // Integer products wrap in TensorFlow; the low bits of the int32 result are the same.
        DataType.DtInt8 or DataType.DtUint8 or DataType.DtInt16 or DataType.DtUint16 => DataType.DtInt32,
        _ => throw new NotSupportedException($"BatchMatMul of {DataTypes.Name(type)} is not supported."),
    };

    private static void BatchMatMul(NodeDef node, TranslationContext c)
    {
        var outType = OutputType(node, c.Type(node.DataInput(0)));
        var compute = ComputeType(outType);
        string Operand(int i, bool adjoint)
        {
            var t = node.DataInput(i);
            var rank = c.Rank(t);
            if (adjoint && c.Value(t) is { Rank: >= 2 } value && DataTypes.BaseType(value.Type) == compute)
                return c.Builder.Initializer("batch_matmul_t", OnnxBuilder.Permute(value, SwapLast(value.Rank).Select(p => (int)p).ToArray()));
            var name = c.Get(t);
            if (c.Type(t) != compute)
                name = c.Builder.Node("Cast", [name], attributes: ("to", (long)OnnxBuilder.ElementType(compute)));
            if (!adjoint)
                return name;
            if (rank is null)
                throw new NotSupportedException($"node '{node.Name}' ({node.Op}): the rank of input {i} must be known to transpose it (adj_{(i == 0 ? 'x' : 'y')}).");
            return c.Builder.Node("Transpose", [name], attributes: ("perm", SwapLast(rank.Value)));
        }
        var x = Operand(0, node.GetBool("adj_x", false));
        var y = Operand(1, node.GetBool("adj_y", false));
        if (compute == outType)
        {
            c.Set(node, 0, c.Builder.Node("MatMul", [x, y], name: node.Name));
            return;
        }
        var product = c.Builder.Node("MatMul", [x, y]);
        c.Set(node, 0, c.Builder.Node("Cast", [product], name: node.Name, attributes: ("to", (long)OnnxBuilder.ElementType(outType))));
    }

    private static long[] SwapLast(int rank) => [.. Enumerable.Range(0, rank - 2).Select(i => (long)i), rank - 1, rank - 2];
}
