using System.Buffers.Binary;
using TfPose.Graph.Proto;

namespace TfPose.Graph.Formats;

/// <summary>
/// MediaPipe's custom operators (mediapipe/util/tflite/operations), which its published .tflite models use. Their
/// options are a C struct copied into custom_options (TfLiteTransposeConvParams, TfLitePoolParams: little-endian
/// int32 fields) or a flexbuffer map. Those with a TensorFlow counterpart become it; the others become the op units
/// of <see cref="Ops.MediaPipeOps"/>. Any other custom operator is reported, with its index, as unsupported.
/// </summary>
internal sealed partial class TfliteImporter
{
    /// <summary>The custom operators (custom_code names) the importer translates.</summary>
    public static readonly IReadOnlySet<string> MappedCustomOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "Convolution2DTransposeBias", "MaxPoolingWithArgmax2D", "MaxUnpooling2D", "TransformTensorBilinear", "TransformTensor", "TransformLandmarks",
    };

    private void Custom(Op c)
    {
        switch (c.Source.CustomCode)
        {
            case "Convolution2DTransposeBias": TransposeConvBias(c); break;
            case "MaxPoolingWithArgmax2D": MaxPoolingWithArgmax(c); break;
            case "MaxUnpooling2D": MaxUnpooling(c); break;
            case "TransformTensorBilinear": TransformTensor(c, halfPixel: true); break;
            case "TransformTensor": TransformTensor(c, halfPixel: false); break;
            case "TransformLandmarks": TransformLandmarks(c); break;
            default: Unsupported(c, "custom operator"); break;
        }
    }

    /// <summary>The leading int32 fields of a C options struct; <paramref name="required"/> of them must be there.</summary>
    private static int[] StructFields(Op c, string structName, int required, int wanted)
    {
        var bytes = c.Source.CustomOptions;
        if (bytes.Length < 4 * required)
            throw new TfliteFormatException($"{c.Where}: its custom options hold {bytes.Length} bytes, fewer than the {4 * required} of {structName}");
        var fields = new int[wanted];
        for (var i = 0; i < wanted && 4 * i + 4 <= bytes.Length; i++)
            fields[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
        return fields;
    }

    /// <summary>TfLitePadding: 1 SAME, 2 VALID (the C enum, not the schema's).</summary>
    private static string StructPadding(int padding, string where) => padding switch
    {
        1 => "SAME",
        2 => "VALID",
        _ => throw new TfliteFormatException($"{where} has padding {padding} in its custom options, neither SAME (1) nor VALID (2)"),
    };

    /// <summary>
    /// Convolution2DTransposeBias(input, weights [out, h, w, in], bias [out]): TRANSPOSE_CONV with the bias added and
    /// the output size its kernel derives (stride · (in − 1) + filter − total padding, where SAME pads
    /// max(0, filter − (in − 1) mod stride − 1), half of it before): Conv2DBackpropInput to that size, then BiasAdd.
    /// </summary>
    private void TransposeConvBias(Op c)
    {
        // TfLiteTransposeConvParams: padding, stride_width, stride_height.
        var f = StructFields(c, "TfLiteTransposeConvParams", 3, 3);
        var padding = StructPadding(f[0], c.Where);
        int strideW = f[1], strideH = f[2];
        if (strideW < 1 || strideH < 1)
            throw new TfliteFormatException($"{c.Where} has strides {strideH}×{strideW} in its custom options; they must be positive");
        var type = c.OutType();
        var filter = c.InTensor(1);
        var input = c.InTensor(0);
        if (filter.Shape.Length != 4)
            throw new TfliteFormatException($"{c.Where}: its filter '{filter.Name}' has shape [{string.Join(",", filter.Shape)}], not [out, height, width, in]");
        if (input.Shape.Length != 4 || input.Shape[1] < 1 || input.Shape[2] < 1)
            throw new TfliteFormatException($"{c.Where}: its input '{input.Name}' has shape [{string.Join(",", input.Shape)}], not a known [batch, height, width, channels]");
        int Out(int size, int kernel, int stride) =>
            stride * (size - 1) + kernel - (padding == "SAME" ? Math.Max(0, kernel - (size - 1) % stride - 1) : 0);
        // The batch as declared: MediaPipe's models fix it (1); the kernel itself sizes the output from the input's.
        var batch = input.DeclaredShape[0] < 0 ? 1 : (int)input.DeclaredShape[0];
        var outputShape = Ints($"{c.Scope()}/output_shape", batch, Out(input.Shape[1], filter.Shape[1], strideH), Out(input.Shape[2], filter.Shape[2], strideW), filter.Shape[0]);
        var weights = c.FloatConstant(1) is { } w
            ? Derived(filter.Index, "hwoi", () => Permute(w, [1, 2, 0, 3]))
            : Node(c.Scope(), "Transpose", type, c.In(1), Ints($"{c.Scope()}/hwoi", 1, 2, 0, 3)).Name;
        var conv = Node(c.Scope(), "Conv2DBackpropInput", type, outputShape, weights, c.In(0));
        conv.Attr["strides"] = IntList(1, strideH, strideW, 1);
        conv.Attr["dilations"] = IntList(1, 1, 1, 1);
        conv.Attr["padding"] = Text(padding);
        conv.Attr["data_format"] = Text("NHWC");
        Name(c, Bias(c, conv, 2));
    }

    /// <summary>TfLitePoolParams: padding, stride_width, stride_height, filter_width, filter_height, activation.</summary>
    private static (string Padding, long[] Ksize, long[] Strides, byte Activation) PoolParams(Op c)
    {
        var f = StructFields(c, "TfLitePoolParams", 5, 6);
        if (f[1] < 1 || f[2] < 1 || f[3] < 1 || f[4] < 1)
            throw new TfliteFormatException($"{c.Where} has strides {f[2]}×{f[1]} and filter {f[4]}×{f[3]} in its custom options; they must be positive");
        if (f[5] is < 0 or > 4)
            throw new TfliteFormatException($"{c.Where} has fused activation {f[5]} in its custom options, which TfPose does not run");
        return (StructPadding(f[0], c.Where), [1, f[4], f[3], 1], [1, f[2], f[1], 1], (byte)f[5]);
    }

    /// <summary>MaxPoolingWithArgmax2D(x) → (max, window-local argmax as float); the fused activation applies to the max.</summary>
    private void MaxPoolingWithArgmax(Op c)
    {
        var (padding, ksize, strides, activation) = PoolParams(c);
        var pool = Node(c.Scope(), "MaxPoolingWithArgmax2D", c.OutType(), c.In(0));
        pool.Attr["ksize"] = IntList(ksize);
        pool.Attr["strides"] = IntList(strides);
        pool.Attr["padding"] = Text(padding);
        Name(c, Activate(c, pool, activation));
        // Named now: renamed by Name when it is the last node of output 0.
        var indices = Add(c.Scope(1), "Identity", $"{pool.Name}:1");
        indices.Attr["T"] = TypeAttr(c.OutType(1));
        _refs[c.Source.Outputs[1]] = indices.Name;
    }

    /// <summary>MaxUnpooling2D(x, argmax): the kernel ignores the options' padding and activation, so the op does too.</summary>
    private void MaxUnpooling(Op c)
    {
        var (_, ksize, strides, _) = PoolParams(c);
        var unpool = Node(c.Scope(), "MaxUnpooling2D", c.OutType(), c.In(0), c.In(1));
        unpool.Attr["ksize"] = IntList(ksize);
        unpool.Attr["strides"] = IntList(strides);
        Name(c, unpool);
    }

    /// <summary>
    /// TransformTensorBilinear (version 2, sampling at pixel centres) and TransformTensor (version 1, at corners):
    /// the output size is the output tensor's, as the kernel takes it, else the flexbuffer's output_height/width
    /// (output_size for version 1).
    /// </summary>
    private void TransformTensor(Op c, bool halfPixel)
    {
        var output = c.OutTensor(0);
        long oh = -1, ow = -1;
        if (output.DeclaredShape is [_, > 0 and var declaredH, > 0 and var declaredW, _])
            (oh, ow) = (declaredH, declaredW);
        if ((oh < 1 || ow < 1) && c.Source.CustomOptions.Length > 0)
        {
            var map = FlexBufferMap.Read(c.Source.CustomOptions, c.Where);
            if (map.GetString("mode") is { } mode && mode != "bilinear")
                throw new TfliteFormatException($"{c.Where} asks for '{mode}' interpolation; the operator only does bilinear");
            if (map.GetInts("output_size") is [var h, var w, ..])
                (oh, ow) = (h, w);
            (oh, ow) = (map.GetInt("output_height", oh), map.GetInt("output_width", ow));
        }
        if (oh < 1 || ow < 1)
            throw new TfliteFormatException($"{c.Where}: neither its output tensor '{output.Name}' nor its options give the output size");
        var node = Node(c.Scope(), "TransformTensorBilinear", c.OutType(), c.In(0), c.In(1));
        node.Attr["output_size"] = IntList(oh, ow);
        node.Attr["half_pixel"] = new AttrValue { B = halfPixel };
        Name(c, node);
    }

    /// <summary>
    /// TransformLandmarks: version 1 reads dimensions and scale from its flexbuffer options; version 2 takes the
    /// output's last dimension as the landmark size and scale 1, as MediaPipe's two kernels do.
    /// </summary>
    private void TransformLandmarks(Op c)
    {
        long dimensions;
        double scale = 1;
        if (c.Source.Version >= 2)
        {
            dimensions = c.OutTensor(0).Shape is { Length: > 0 } s ? s[^1] : -1;
        }
        else
        {
            var map = FlexBufferMap.Read(c.Source.CustomOptions, c.Where);
            dimensions = map.GetInt("dimensions", -1);
            scale = map.GetFloat("scale", 1);
        }
        if (dimensions is not (2 or 3))
            throw new TfliteFormatException($"{c.Where}: landmarks of {dimensions} dimensions; the operator takes 2 or 3");
        if (scale == 0)
            throw new TfliteFormatException($"{c.Where}: its scale is 0");
        var node = Node(c.Scope(), "TransformLandmarks", c.OutType(), c.In(0), c.In(1));
        node.Attr["dimensions"] = new AttrValue { I = dimensions };
        node.Attr["scale"] = new AttrValue { F = (float)scale };
        Name(c, node);
    }
}
