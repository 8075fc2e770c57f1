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
        "Landmarks2TransformMatrix",
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
            case "Landmarks2TransformMatrix" when c.Source.Version >= 2: LandmarksToTransformMatrix(c); break;
            case "Landmarks2TransformMatrix": LandmarksToTransformMatrixV1(c); break;
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

    /// <summary>
    /// Landmarks2TransformMatrix version 2: from landmarks [1, N, 3], the 4×4 matrix mapping an output crop
    /// (output_width × output_height) into the landmarks' frame. The rotation r = target_rotation_radians −
    /// atan2(right − left); the subset's points, rotated by r, give the box's size (w, h) and centre, rotated back to
    /// (cx, cy); then, with a = cos r, b = sin r, sx = scale_x·w/output_width, sy = scale_y·h/output_height, the matrix
    /// is shift(cx, cy) · rotation(−r) · scale(sx, sy) · shift(−output_width/2, −output_height/2), as MediaPipe's kernel
    /// multiplies it out: rows (a·sx, b·sy, 0, cx − a·sx·ow/2 − b·sy·oh/2), (−b·sx, a·sy, 0, cy + b·sx·ow/2 − a·sy·oh/2),
    /// (0, 0, 1, 0), (0, 0, 0, 1). Written in TensorFlow ops (GatherV2, Atan2, Cos, Sin, Min, Max, Pack).
    /// </summary>
    private void LandmarksToTransformMatrix(Op c)
    {
        var map = FlexBufferMap.Read(c.Source.CustomOptions, c.Where);
        var subset = map.GetInts("subset_idxs") ?? throw new TfliteFormatException($"{c.Where}: its options give no subset_idxs");
        var count = c.InTensor(0).Shape is [_, var n, 3] ? n : throw new TfliteFormatException(
            $"{c.Where}: its landmarks '{c.InTensor(0).Name}' have shape [{string.Join(",", c.InTensor(0).Shape)}], not [1, N, 3]");
        var left = map.GetInt("left_rotation_idx", -1);
        var right = map.GetInt("right_rotation_idx", -1);
        var outH = map.GetInt("output_height", 0);
        var outW = map.GetInt("output_width", 0);
        if (subset.Length == 0 || subset.Append(left).Append(right).Any(i => i < 0 || i >= count) || outH < 1 || outW < 1)
            throw new TfliteFormatException($"{c.Where}: its options name landmarks outside 0..{count - 1} or an empty output size");
        var target = (float)map.GetFloat("target_rotation_radians", 0);
        var scaleX = (float)map.GetFloat("scale_x", 1);
        var scaleY = (float)map.GetFloat("scale_y", 1);

        var g = new FloatNodes(this, c.Scope());
        var points = g.Reshape(c.In(0), -1, 3).Name;
        var xs = g.Gather(points, g.Index(0), 1);
        var ys = g.Gather(points, g.Index(1), 1);
        string At(string column, long index) => g.Gather(column, g.Index((int)index));
        var angle = g.Op2("Atan2", g.Sub(At(ys, right), At(ys, left)), g.Sub(At(xs, right), At(xs, left)));
        var r = g.Sub(g.K(target), angle);
        var a = g.Unary("Cos", r);
        var b = g.Unary("Sin", r);

        var chosen = g.Indices("subset", [.. subset.Select(i => (int)i)]);
        var px = g.Gather(xs, chosen);
        var py = g.Gather(ys, chosen);
        var rx = g.Sub(g.Mul(a, px), g.Mul(b, py));
        var ry = g.Add(g.Mul(b, px), g.Mul(a, py));
        string maxX = g.Reduce("Max", rx), minX = g.Reduce("Min", rx), maxY = g.Reduce("Max", ry), minY = g.Reduce("Min", ry);
        var half = g.K(0.5f);
        var mx = g.Mul(g.Add(maxX, minX), half);
        var my = g.Mul(g.Add(maxY, minY), half);
        var cx = g.Add(g.Mul(a, mx), g.Mul(b, my));
        var cy = g.Sub(g.Mul(a, my), g.Mul(b, mx));
        var sx = g.Mul(g.Sub(maxX, minX), g.K(scaleX / outW));
        var sy = g.Mul(g.Sub(maxY, minY), g.K(scaleY / outH));
        var m00 = g.Mul(a, sx);
        var m01 = g.Mul(b, sy);
        var m10 = g.Unary("Neg", g.Mul(b, sx));
        var m11 = g.Mul(a, sy);
        var m03 = g.Sub(g.Sub(cx, g.Mul(m00, g.K(outW / 2f))), g.Mul(m01, g.K(outH / 2f)));
        var m13 = g.Sub(g.Sub(cy, g.Mul(m10, g.K(outW / 2f))), g.Mul(m11, g.K(outH / 2f)));
        string zero = g.K(0), one = g.K(1);
        var pack = g.Pack(m00, m01, zero, m03, m10, m11, zero, m13, zero, zero, one, zero, zero, zero, zero, one);
        Name(c, g.Reshape(pack, 1, 4, 4));
    }

    /// <summary>
    /// Landmarks2TransformMatrix version 1: from landmarks [1, 1, 1, K] (x, y, z triples), the inverse transformation
    /// matrix of an output_hw crop in an input_hw image, as MediaPipe's CPU kernel builds it. α = −atan(Δy / Δx) of the
    /// right rotation landmark less the left (atan, not atan2: a pair pointing left gives the same α as one pointing
    /// right); the subset's points rotated by α give a box (from ∓100000, the kernel's start values), whose size times
    /// bbox_size_multiplier over landmarks_range scales, and whose middle, rotated back, over landmarks_range shifts;
    /// itm = to_absolute · rotation · scale · to_relative (3 × 3), laid out as the kernel writes it: rows
    /// (itm00, itm01, 0, itm02), (itm10, itm11, 0, itm12), (itm20, itm21, itm22, 0), (0, 0, 0, 1). Written in TensorFlow
    /// ops (GatherV2, RealDiv, Atan, Cos, Sin, Min/Max, Pack, MatMul with the two constant matrices).
    /// </summary>
    private void LandmarksToTransformMatrixV1(Op c)
    {
        var map = FlexBufferMap.Read(c.Source.CustomOptions, c.Where);
        var landmarks = c.InTensor(0);
        var length = landmarks.Shape is [1, 1, 1, var k and > 0] ? k : throw new TfliteFormatException(
            $"{c.Where}: its landmarks '{landmarks.Name}' have shape [{string.Join(",", landmarks.Shape)}], not [1, 1, 1, K]");
        var count = length / 3;
        var problems = new List<string>();
        var inputHw = map.GetInts("input_hw");
        var outputHw = map.GetInts("output_hw");
        if (inputHw is not [> 0, > 0, ..])
            problems.Add("input_hw is not two positive sizes");
        if (outputHw is not [> 0, > 0, ..])
            problems.Add("output_hw is not two positive sizes");
        var dimensions = map.GetInt("dimensions", 0);
        if (dimensions != 3)
            problems.Add($"dimensions is {dimensions}, not 3");
        var range = map.GetInt("landmarks_range", 0);
        if (range <= 0)
            problems.Add($"landmarks_range is {range}, not positive");
        var multiplier = (float)map.GetFloat("bbox_size_multiplier", 0);
        if (multiplier == 0)
            problems.Add("bbox_size_multiplier is 0");
        var left = map.GetInt("left_rotation_idx", -1);
        var right = map.GetInt("right_rotation_idx", -1);
        var subset = map.GetInts("subset") ?? [];
        if (subset.Length == 0)
            problems.Add("subset is empty");
        // The kernel reads x and y of landmark i at 3·i and 3·i + 1.
        if (subset.Append(left).Append(right).Any(i => i < 0 || 3 * i + 1 >= length))
            problems.Add($"its rotation or subset indices are outside the {count} landmarks");
        if (problems.Count > 0)
            throw new TfliteFormatException($"{c.Where}: {string.Join("; ", problems)}");
        long ih = inputHw![0], iw = inputHw[1], oh = outputHw![0], ow = outputHw[1];

        var g = new FloatNodes(this, c.Scope());
        string Constant3x3(params float[] values) => Const($"{g.Scope}/matrix", TensorValue.FromArray<float>(DataType.DtFloat, [3, 3], values));

        var flat = g.Reshape(c.In(0), -1).Name;
        string At(long index) => g.Gather(flat, g.Index((int)index));
        var alpha = g.Unary("Neg", g.Unary("Atan", g.Op2("RealDiv", g.Sub(At(3 * right + 1), At(3 * left + 1)), g.Sub(At(3 * right), At(3 * left)))));
        var a = g.Unary("Cos", alpha);
        var b = g.Unary("Sin", alpha);

        var px = g.Gather(flat, g.Indices("subset_x", [.. subset.Select(i => (int)(3 * i))]));
        var py = g.Gather(flat, g.Indices("subset_y", [.. subset.Select(i => (int)(3 * i + 1))]));
        var rx = g.Sub(g.Mul(px, a), g.Mul(py, b));
        var ry = g.Add(g.Mul(px, b), g.Mul(py, a));
        string Bound(string op, string reduce, string values, float start) => g.Op2(op, g.Reduce(reduce, values), g.K(start));
        string maxX = Bound("Maximum", "Max", rx, -100000), maxY = Bound("Maximum", "Max", ry, -100000);
        string minX = Bound("Minimum", "Min", rx, 100000), minY = Bound("Minimum", "Min", ry, 100000);
        var toScale = g.K(multiplier / range);
        var sx = g.Mul(g.Sub(maxX, minX), toScale);
        var sy = g.Mul(g.Sub(maxY, minY), toScale);
        var half = g.K(0.5f);
        var mx = g.Mul(g.Add(maxX, minX), half);
        var my = g.Mul(g.Add(maxY, minY), half);
        // The middle rotated by −α: cos(−α) = a, sin(−α) = −b.
        var toShift = g.K(2f / range);
        var tx = g.Sub(g.Mul(g.Add(g.Mul(mx, a), g.Mul(my, b)), toShift), g.K(1));
        var ty = g.Sub(g.Mul(g.Sub(g.Mul(my, a), g.Mul(mx, b)), toShift), g.K(1));
        string zero = g.K(0), one = g.K(1);
        var rotation = g.Reshape(g.Pack(a, b, tx, g.Unary("Neg", b), a, ty, zero, zero, one), 3, 3).Name;
        var scale = g.Reshape(g.Pack(sx, zero, zero, zero, sy, zero, zero, zero, one), 3, 3).Name;
        var toRelative = Constant3x3(2f / (ow - 1), 0, -1, 0, 2f / (oh - 1), -1, 0, 0, 1);
        var toAbsolute = Constant3x3((iw - 1) / 2f, 0, (iw - 1) / 2f, 0, (ih - 1) / 2f, (ih - 1) / 2f, 0, 0, 1);
        var itm = g.Reshape(g.Op2("MatMul", g.Op2("MatMul", g.Op2("MatMul", toAbsolute, rotation), scale), toRelative), -1).Name;
        string Entry(int r, int col) => g.Gather(itm, g.Index(3 * r + col));
        var output = g.Pack(
            Entry(0, 0), Entry(0, 1), zero, Entry(0, 2),
            Entry(1, 0), Entry(1, 1), zero, Entry(1, 2),
            Entry(2, 0), Entry(2, 1), Entry(2, 2), zero,
            zero, zero, zero, one);
        Name(c, g.Reshape(output, 1, 4, 4));
    }

    /// <summary>
    /// Float arithmetic written as TensorFlow nodes under one operator's scope: the custom ops that have no TensorFlow
    /// counterpart are spelt out in these, so they reach the same op units as everything else.
    /// </summary>
    private sealed class FloatNodes(TfliteImporter importer, string scope)
    {
        private const DataType F = DataType.DtFloat;

        public string Scope => scope;
        public string Op2(string op, string x, string y) => importer.Node(scope, op, F, x, y).Name;
        public string Mul(string x, string y) => Op2("Mul", x, y);
        public string Sub(string x, string y) => Op2("Sub", x, y);
        public string Add(string x, string y) => Op2("AddV2", x, y);
        public string Unary(string op, string x) => importer.Node(scope, op, F, x).Name;
        public string K(float value) => importer.Scalar($"{scope}/k", value, F);
        public string Index(int value) => importer.IntScalar($"{scope}/index", value);
        public string Indices(string name, int[] values) => importer.Ints($"{scope}/{name}", values);

        public string Gather(string x, string indices, int axis = 0)
        {
            var node = importer.Node(scope, "GatherV2", null, x, indices, importer.IntScalar($"{scope}/axis", axis));
            Typed(node, ("Tparams", F), ("Tindices", DataType.DtInt32), ("Taxis", DataType.DtInt32));
            node.Attr["batch_dims"] = new AttrValue { I = 0 };
            return node.Name;
        }

        /// <summary>Max, Min, ... over axis 0, dropping it.</summary>
        public string Reduce(string op, string x)
        {
            var node = importer.Node(scope, op, F, x, importer.Ints($"{scope}/axes", 0));
            node.Attr["keep_dims"] = new AttrValue { B = false };
            node.Attr["Tidx"] = TypeAttr(DataType.DtInt32);
            return node.Name;
        }

        public NodeDef Reshape(string x, params int[] shape)
        {
            var node = importer.Node(scope, "Reshape", F, x, importer.Ints($"{scope}/shape", shape));
            node.Attr["Tshape"] = TypeAttr(DataType.DtInt32);
            return node;
        }

        public string Pack(params string[] entries)
        {
            var pack = importer.Node(scope, "Pack", F, entries);
            pack.Attr["N"] = new AttrValue { I = entries.Length };
            pack.Attr["axis"] = new AttrValue { I = 0 };
            return pack.Name;
        }
    }
}
