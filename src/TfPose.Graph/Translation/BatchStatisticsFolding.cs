using TfPose.Graph.Proto;

namespace TfPose.Graph.Translation;

/// <summary>
/// A 1×1 convolution followed by a batch-statistics FusedBatchNorm (one image): computed without normalising the
/// convolution's output in a separate pass where it widens, kept out of NCHWc reorders where it narrows.
/// </summary>
/// <remarks>
/// The convolution is linear, x = W·u, so the moments of its output follow from those of its much
/// narrower input: mean(x) = W·mean(u) and var(x_c) = w_cᵀ Σ_u w_c with Σ_u the input's channel
/// covariance (one Gram matrix). Scaling W's rows and adding a bias then gives the normalised output
/// from the convolution itself. On ONNX Runtime's CPU provider this removes, per layer, the
/// instance normalisation (single-threaded, three passes over the wide tensor) and the reorder out of
/// and back into the blocked NCHWc layout that it forces; the Relu6 after it fuses into the
/// convolution. Worth it where the convolution widens (expansion layers): the Gram matrix costs
/// Cin² per pixel against the convolution's Cin·Cout.
/// </remarks>
internal static class BatchStatisticsFolding
{
    /// <summary>
    /// Translates <paramref name="conv"/> together with the batch normalisation that is its only reader,
    /// if the pattern holds; returns false (having emitted nothing) otherwise.
    /// </summary>
    public static bool TryFold(NodeDef conv, TranslationContext c, string input, TensorValue filter, long[] strides, long[] dilations)
    {
        var fs = filter.Shape; // TensorFlow [kh, kw, in, out]
        if (fs[2] >= fs[3] || NormalisingReader(conv, c, input, filter, strides, dilations) is not { } bn)
            return false;
        // Only the normalised output may be read: the batch moments (outputs 1…) are not computed here.
        if (bn.GetString("data_format", "NHWC") != "NHWC" || c.Consumers(bn.Name).Any(r => r.Output != 0))
            return false;
        var shape = c.Shape(bn.DataInput(0));
        var gamma = c.Value(bn.DataInput(1));
        var beta = c.Value(bn.DataInput(2));
        if (shape is not { Length: 4 } || gamma is null || beta is null)
            return false;

        long cin = fs[2], cout = fs[3];
        var epsilon = bn.GetFloat("epsilon", 0.0001f);
        var b = c.Builder;
        // W as [out, in]: TensorFlow's [1, 1, in, out] transposed.
        var w = b.Initializer(conv.Name + "/W2", OnnxBuilder.Reshape(OnnxBuilder.Permute(filter, [3, 2, 0, 1]), [cout, cin]));

        // Input moments over the pixels of the one image: mean m (Cin×1) and covariance Σ = U·Uᵀ/n − m·mᵀ.
        var u = b.Node("Reshape", [input, b.Int64s("cin_pixels", cin, -1)]);
        var mean = b.Node("ReduceMean", [u, b.Int64s("axes", 1)], attributes: ("keepdims", 1L));
        string moments; // U·Uᵀ/n
        if (shape[1] > 0 && shape[2] > 0)
        {
            // A static size (GraphSession translates these graphs per input shape): 1/n is Gemm's alpha.
            moments = b.Node("Gemm", [u, u], attributes: [("transB", 1L), ("alpha", 1f / (shape[1] * shape[2]))]);
        }
        else
        {
            var pixels = b.Node("Cast", [b.Node("Gather", [b.Node("Shape", [u]), b.Int64Scalar("pixel_axis", 1)])], attributes: ("to", (long)TfPose.Graph.Onnx.TensorProto.Types.DataType.Float));
            moments = b.Node("Div", [b.Node("Gemm", [u, u], attributes: ("transB", 1L)), pixels]);
        }
        var outer = b.Node("Mul", [mean, b.Node("Reshape", [mean, b.Int64s("row", 1, cin)])]);
        var covariance = b.Node("Sub", [moments, outer]);

        // Output moments per channel: mean W·m, variance diag(W Σ Wᵀ) (never below zero after rounding).
        var outMean = b.Node("MatMul", [w, mean]);
        var variance = b.Node("ReduceSum", [b.Node("Mul", [b.Node("MatMul", [w, covariance]), w]), b.Int64s("axes", 1)], attributes: ("keepdims", 1L));
        var zero = b.Floats("zero", [], [0f]);
        var std = b.Node("Sqrt", [b.Node("Add", [b.Node("Max", [variance, zero]), b.Floats("epsilon", [], [epsilon])])]);
        var scale = b.Node("Div", [b.Initializer(bn.Name + "/scale", OnnxBuilder.Reshape(gamma, [cout, 1])), std]);

        // y = scale·(W·u − W·m) + β = (scale ⊙ W)·u + (β − scale·W·m).
        var weights = b.Node("Reshape", [b.Node("Mul", [scale, w]), b.Int64s("conv_w", cout, cin, 1, 1)]);
        var bias = b.Node("Reshape", [b.Node("Sub", [b.Initializer(bn.Name + "/offset", OnnxBuilder.Reshape(beta, [cout, 1])), b.Node("Mul", [scale, outMean])]), b.Int64s("conv_b", cout)]);
        var output = b.Node("Conv", [input, weights, bias], name: bn.Name, attributes: ("kernel_shape", new long[] { 1, 1 }));
        c.Set(bn, 0, output, Layout.Nchw);
        return true;
    }

    /// <summary>
    /// A 1×1 convolution that <see cref="TryFold"/> does not take (it narrows) but whose only reader normalises with
    /// batch statistics, as a MatMul over the channels: that instance normalisation runs in plain NCHW anyway, and
    /// as a Conv ONNX Runtime would reorder its input into NCHWc and its output back out (one image, static size).
    /// </summary>
    public static bool TryAsMatMul(NodeDef conv, TranslationContext c, string input, TensorValue filter, long[] strides, long[] dilations)
    {
        var shape = c.Shape(conv.DataInput(0));
        if (shape is not { Length: 4 } || shape[1] <= 0 || shape[2] <= 0 || NormalisingReader(conv, c, input, filter, strides, dilations) is null)
            return false;
        var fs = filter.Shape;
        long cin = fs[2], cout = fs[3];
        var b = c.Builder;
        var w = b.Initializer(conv.Name + "/W2", OnnxBuilder.Reshape(OnnxBuilder.Permute(filter, [3, 2, 0, 1]), [cout, cin]));
        var y = b.Node("MatMul", [w, b.Node("Reshape", [input, b.Int64s("cin_pixels", cin, -1)])]);
        c.Set(conv, 0, b.Node("Reshape", [y, b.Int64s("nchw", 1, cout, shape[1], shape[2])], name: conv.Name), Layout.Nchw);
        return true;
    }

    /// <summary>
    /// The batch-statistics FusedBatchNorm that alone reads a 1×1, stride-1 NHWC convolution of one image (not
    /// fetched, float filter, input channels not padded); null when the pattern does not hold.
    /// </summary>
    private static NodeDef? NormalisingReader(NodeDef conv, TranslationContext c, string input, TensorValue filter, long[] strides, long[] dilations)
    {
        var fs = filter.Shape;
        if (conv.Op != "Conv2D" || filter.Type != DataType.DtFloat || fs[0] != 1 || fs[1] != 1 ||
            strides.Any(s => s != 1) || dilations.Any(d => d != 1) || c.IsFetched(conv.Name) ||
            conv.GetString("data_format", "NHWC") != "NHWC" || conv.GetString("padding", "VALID") == "EXPLICIT" ||
            c.Shape(conv.DataInput(0)) is not { Length: 4 } shape || shape[0] != 1 || c.PhysicalChannels(input, fs[2]) != fs[2])
            return null;
        var readers = c.Consumers(conv.Name);
        if (readers.Count != 1 || readers[0].Input != 0)
            return null;
        var bn = readers[0].Node;
        return bn.Op.StartsWith("FusedBatchNorm", StringComparison.Ordinal) && bn.GetBool("is_training", true) ? bn : null;
    }
}
