using Google.Protobuf;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;

namespace TfPose.Graph.Ops;

/// <summary>
/// Ops that move data between the spatial axes and the channel or batch axis (DepthToSpace, SpaceToBatchND, ...) and
/// mirror padding. SpaceToBatchND → convolution → BatchToSpaceND, TensorFlow's way of writing a dilated convolution,
/// is lowered into the one dilated convolution it computes.
/// </summary>
internal static class SpatialOps
{
    public static IEnumerable<OpUnit> Units =>
    [
        new("DepthToSpace", s => BlockShape(s, toSpace: true), (n, c) => Block(n, c, "DepthToSpace")),
        new("SpaceToDepth", s => BlockShape(s, toSpace: false), (n, c) => Block(n, c, "SpaceToDepth")),
        new("SpaceToBatchND", SpaceToBatchShape, SpaceToBatch),
        new("BatchToSpaceND", BatchToSpaceShape, BatchToSpace, Lower: FoldAtrousConvolution),
        new("MirrorPad", MirrorPadShape, MirrorPad),
    ];

    private static bool IsNchw(NodeDef node) => node.GetString("data_format", "NHWC") == "NCHW";

    private static long Product(long[] values) => values.Aggregate(1L, (a, b) => a * b);

    private static void BlockShape(ShapeContext s, bool toSpace)
    {
        var x = s.Shape(0);
        var block = s.Node.GetInt("block_size");
        if (x is not { Length: 4 })
        {
            s.Set(0, x?.Select(_ => -1L).ToArray(), s.Type(0));
            return;
        }
        var (h, w, ch) = IsNchw(s.Node) ? (2, 3, 1) : (1, 2, 3);
        var shape = (long[])x.Clone();
        long Spatial(long d) => d < 0 ? -1 : toSpace ? d * block : d / block;
        shape[h] = Spatial(x[h]);
        shape[w] = Spatial(x[w]);
        shape[ch] = x[ch] < 0 ? -1 : toSpace ? x[ch] / (block * block) : x[ch] * block * block;
        if (block < 1 || (toSpace ? x[ch] >= 0 && x[ch] % (block * block) != 0 : (x[h] >= 0 && x[h] % block != 0) || (x[w] >= 0 && x[w] % block != 0)))
            throw new InvalidDataException($"block_size {block} does not divide the input {TensorValue.ShapeText(x)}.");
        s.Set(0, shape, s.Type(0));
    }

    /// <summary>
    /// TensorFlow's channel order (block row, block column, channel: the high part of the channel index picks the
    /// position in the block) is ONNX's DCR order on the channels-first tensor, so the op runs on our NCHW copy.
    /// </summary>
    private static void Block(NodeDef node, TranslationContext c, string onnx)
    {
        var format = node.GetString("data_format", "NHWC");
        if (format is not ("NHWC" or "NCHW"))
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): data_format {format} is not supported.");
        var nchw = format == "NCHW";
        var x = node.DataInput(0);
        var layout = nchw ? Layout.Tf : Layout.Nchw;
        var input = c.Get(x, layout);
        var block = node.GetInt("block_size");
        string output;
        if (c.Type(x) is DataType.DtFloat or DataType.DtDouble)
        {
            var attrs = new List<(string, object)> { ("blocksize", block) };
            if (onnx == "DepthToSpace")
                attrs.Add(("mode", "DCR"));
            output = c.Builder.Node(onnx, [input], name: node.Name, attributes: [.. attrs]);
        }
        else
        {
            // ONNX Runtime implements the ops for floating-point types only; other types move by the definition.
            var shape = c.Shape(x) is { Length: 4 } s ? (nchw ? s : [s[0], s[3], s[1], s[2]]) : null;
            var d = DimsOf(c, input, shape, 4);
            Dim[] split;
            long[] perm;
            Dim[] merged;
            if (onnx == "DepthToSpace")
            {
                var channels = Over(c, d[1], block * block);
                split = [d[0], new(block), new(block), channels, d[2], d[3]];
                perm = [0, 3, 4, 1, 5, 2];
                merged = [d[0], channels, Times(c, d[2], block), Times(c, d[3], block)];
            }
            else
            {
                Dim h = Over(c, d[2], block), w = Over(c, d[3], block);
                split = [d[0], d[1], h, new(block), w, new(block)];
                perm = [0, 3, 5, 1, 2, 4];
                merged = [d[0], Times(c, d[1], block * block), h, w];
            }
            var moved = c.Builder.Node("Transpose", [Reshape(c, input, split)], attributes: ("perm", perm));
            output = Reshape(c, moved, merged, node.Name);
        }
        c.Set(node, 0, output, layout);
    }

    /// <summary>The block's length M from its value or its shape, or null.</summary>
    private static int? BlockRank(ShapeContext s) => s.Ints(1)?.Length ?? (s.Shape(1) is [var m] && m >= 0 ? (int)m : null);

    private static void SpaceToBatchShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var block = s.Ints(1);
        var pads = s.Ints(2);
        if (x is null || BlockRank(s) is not { } m || m > x.Length - 1)
        {
            s.Set(0, x?.Select(_ => -1L).ToArray(), s.Type(0));
            return;
        }
        var shape = (long[])x.Clone();
        shape[0] = block is not null && x[0] >= 0 ? x[0] * Product(block) : -1;
        for (var i = 0; i < m; i++)
        {
            shape[1 + i] = -1;
            if (block is null || pads is null || x[1 + i] < 0)
                continue;
            var padded = x[1 + i] + pads[2 * i] + pads[2 * i + 1];
            if (block[i] < 1 || padded % block[i] != 0)
                throw new InvalidDataException($"block_shape[{i}] = {block[i]} does not divide the padded spatial size {padded}.");
            shape[1 + i] = padded / block[i];
        }
        s.Set(0, shape, s.Type(0));
    }

    private static void BatchToSpaceShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var block = s.Ints(1);
        var crops = s.Ints(2);
        if (x is null || BlockRank(s) is not { } m || m > x.Length - 1)
        {
            s.Set(0, x?.Select(_ => -1L).ToArray(), s.Type(0));
            return;
        }
        var shape = (long[])x.Clone();
        shape[0] = -1;
        if (block is not null && x[0] >= 0)
        {
            var product = Product(block);
            if (product < 1 || x[0] % product != 0)
                throw new InvalidDataException($"the batch {x[0]} is not divisible by the block size {product}.");
            shape[0] = x[0] / product;
        }
        for (var i = 0; i < m; i++)
            shape[1 + i] = block is not null && crops is not null && x[1 + i] >= 0 ? x[1 + i] * block[i] - crops[2 * i] - crops[2 * i + 1] : -1;
        s.Set(0, shape, s.Type(0));
    }

    /// <summary>One dimension of a shape being assembled: a size known now, or an int64 [1] tensor computed at run time.</summary>
    private readonly record struct Dim(long Size, string? Runtime = null);

    /// <summary>The dimensions of an ONNX tensor: static where shape inference knows them, else read from it at run time.</summary>
    private static Dim[] DimsOf(TranslationContext c, string tensor, long[]? shape, int rank)
    {
        string? runtime = null;
        var dims = new Dim[rank];
        for (var i = 0; i < rank; i++)
        {
            if (shape is not null && shape[i] >= 0)
            {
                dims[i] = new Dim(shape[i]);
                continue;
            }
            runtime ??= c.Builder.Node("Shape", [tensor]);
            dims[i] = new Dim(-1, c.Builder.Node("Slice", [runtime, c.Builder.Int64s("start", i), c.Builder.Int64s("end", i + 1)]));
        }
        return dims;
    }

    private static Dim Times(TranslationContext c, Dim d, long k) =>
        d.Runtime is null ? new Dim(d.Size * k) : k == 1 ? d : new Dim(-1, c.Builder.Node("Mul", [d.Runtime, c.Builder.Int64s("k", k)]));

    private static Dim Over(TranslationContext c, Dim d, long k) =>
        d.Runtime is null ? new Dim(d.Size / k) : k == 1 ? d : new Dim(-1, c.Builder.Node("Div", [d.Runtime, c.Builder.Int64s("k", k)]));

    /// <summary>A 1-D int64 shape tensor: one initializer when every size is known, else a Concat of known runs and run-time sizes.</summary>
    private static string ShapeTensor(TranslationContext c, IEnumerable<Dim> dims)
    {
        var parts = new List<string>();
        var pending = new List<long>();
        foreach (var d in dims)
        {
            if (d.Runtime is null)
            {
                pending.Add(d.Size);
                continue;
            }
            if (pending.Count > 0)
                parts.Add(c.Builder.Int64s("dims", [.. pending]));
            pending.Clear();
            parts.Add(d.Runtime);
        }
        if (pending.Count > 0 || parts.Count == 0)
            parts.Add(c.Builder.Int64s("dims", [.. pending]));
        return parts.Count == 1 ? parts[0] : c.Builder.Node("Concat", parts, attributes: ("axis", 0L));
    }

    // allowzero: a zero-sized dimension is a size, not ONNX's "copy this dimension".
    private static string Reshape(TranslationContext c, string x, IEnumerable<Dim> dims, string? name = null) =>
        c.Builder.Node("Reshape", [x, ShapeTensor(c, dims)], name: name, attributes: ("allowzero", 1L));

    /// <summary>A TensorFlow [M, 2] (begin, end) tensor as ONNX's begins-then-ends int64 vector.</summary>
    private static string BeginsThenEnds(TranslationContext c, TensorName pairs) =>
        c.Builder.Node("Reshape", [c.Builder.Node("Transpose", [c.GetInt64(pairs)], attributes: ("perm", new long[] { 1, 0 })), c.Builder.Int64s("flat", -1)]);

    private static (int Rank, long[] Block) BlockArguments(NodeDef node, TranslationContext c)
    {
        var rank = c.Rank(node.DataInput(0)) ?? throw new NotSupportedException($"node '{node.Name}' ({node.Op}): the input rank must be known.");
        var block = c.RequireInts(node, 1, "block_shape");
        if (block.Length == 0 || block.Length > rank - 1 || block.Any(b => b < 1))
            throw new NotSupportedException($"node '{node.Name}' ({node.Op}): block_shape [{string.Join(", ", block)}] does not fit an input of rank {rank}.");
        return (rank, block);
    }

    /// <summary>
    /// TensorFlow's definition step by step: zero-pad the M spatial axes, split each into (size / block, block),
    /// move the block axes in front of the batch, and merge them into it (batch index = block offset · batch + b).
    /// </summary>
    private static void SpaceToBatch(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var (rank, block) = BlockArguments(node, c);
        var m = block.Length;
        var axes = c.Builder.Int64s("axes", [.. Enumerable.Range(1, m).Select(i => (long)i)]);
        var padded = c.Get(x);
        var paddedShape = c.Shape(x) is { } known ? (long[])known.Clone() : null;
        if (c.Value(node.DataInput(2))?.ToInt64Array() is { } pads)
        {
            if (pads.Any(p => p != 0))
            {
                long[] onnxPads = [.. Enumerable.Range(0, m).Select(i => pads[2 * i]), .. Enumerable.Range(0, m).Select(i => pads[2 * i + 1])];
                padded = c.Builder.Node("Pad", [padded, c.Builder.Int64s("pads", onnxPads), "", axes]);
                for (var i = 0; paddedShape is not null && i < m; i++)
                    paddedShape[1 + i] = paddedShape[1 + i] < 0 ? -1 : paddedShape[1 + i] + pads[2 * i] + pads[2 * i + 1];
            }
        }
        else
        {
            padded = c.Builder.Node("Pad", [padded, BeginsThenEnds(c, node.DataInput(2)), "", axes]);
            for (var i = 0; paddedShape is not null && i < m; i++)
                paddedShape[1 + i] = -1;
        }
        var dims = DimsOf(c, padded, paddedShape, rank);
        var cells = Enumerable.Range(0, m).Select(i => Over(c, dims[1 + i], block[i])).ToArray();
        var rest = dims[(m + 1)..];
        var split = new List<Dim> { dims[0] };
        for (var i = 0; i < m; i++)
        {
            split.Add(cells[i]);
            split.Add(new Dim(block[i]));
        }
        split.AddRange(rest);
        var perm = Enumerable.Range(0, m).Select(i => 2L + 2 * i)
            .Append(0)
            .Concat(Enumerable.Range(0, m).Select(i => 1L + 2 * i))
            .Concat(Enumerable.Range(2 * m + 1, rank - m - 1).Select(i => (long)i)).ToArray();
        var permuted = c.Builder.Node("Transpose", [Reshape(c, padded, split)], attributes: ("perm", perm));
        var merged = new List<Dim> { Times(c, dims[0], Product(block)) };
        merged.AddRange(cells);
        merged.AddRange(rest);
        c.Set(node, 0, Reshape(c, permuted, merged, node.Name));
    }

    /// <summary>The inverse: split the block offsets off the batch, interleave them with the spatial axes, merge, then crop.</summary>
    private static void BatchToSpace(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var (rank, block) = BlockArguments(node, c);
        var m = block.Length;
        var input = c.Get(x);
        var dims = DimsOf(c, input, c.Shape(x), rank);
        var batch = Over(c, dims[0], Product(block));
        var rest = dims[(m + 1)..];
        var split = block.Select(b => new Dim(b)).Append(batch).Concat(dims[1..]).ToList();
        var perm = new List<long> { m };
        for (var i = 0; i < m; i++)
        {
            perm.Add(m + 1 + i);
            perm.Add(i);
        }
        perm.AddRange(Enumerable.Range(2 * m + 1, rank - m - 1).Select(i => (long)i));
        var permuted = c.Builder.Node("Transpose", [Reshape(c, input, split)], attributes: ("perm", perm.ToArray()));
        var spatial = Enumerable.Range(0, m).Select(i => Times(c, dims[1 + i], block[i])).ToArray();
        var merged = new List<Dim> { batch };
        merged.AddRange(spatial);
        merged.AddRange(rest);
        var axes = c.Builder.Int64s("axes", [.. Enumerable.Range(1, m).Select(i => (long)i)]);
        var crops = node.DataInput(2);
        if (c.Value(crops)?.ToInt64Array() is { } known)
        {
            if (known.All(v => v == 0))
            {
                c.Set(node, 0, Reshape(c, permuted, merged, node.Name));
                return;
            }
            // An end crop counts back from the end, which needs no run-time size; no end crop slices to the end.
            var starts = Enumerable.Range(0, m).Select(i => known[2 * i]).ToArray();
            var ends = Enumerable.Range(0, m).Select(i => known[2 * i + 1] == 0 ? long.MaxValue : -known[2 * i + 1]).ToArray();
            c.Set(node, 0, c.Builder.Node("Slice", [Reshape(c, permuted, merged), c.Builder.Int64s("starts", starts), c.Builder.Int64s("ends", ends), axes], name: node.Name));
            return;
        }
        var pairs = c.GetInt64(crops);
        var begin = c.Builder.Node("Gather", [pairs, c.Builder.Int64Scalar("begin", 0)], attributes: ("axis", 1L));
        var end = c.Builder.Node("Gather", [pairs, c.Builder.Int64Scalar("end", 1)], attributes: ("axis", 1L));
        var limits = c.Builder.Node("Sub", [ShapeTensor(c, spatial), end]);
        c.Set(node, 0, c.Builder.Node("Slice", [Reshape(c, permuted, merged), begin, limits, axes], name: node.Name));
    }

    /// <summary>
    /// SpaceToBatchND → Conv2D / DepthwiseConv2dNative (VALID, stride 1) → BatchToSpaceND with one block shape r,
    /// TensorFlow's atrous convolution, is the convolution with dilation r (times its own) on the original input:
    /// output i reads padded input i + crop_begin + t·r, so the pads are paddings − crops on each side. Equal to
    /// the SAME pads of the dilated filter it becomes SAME (TensorFlow writes exactly that), zero VALID, else EXPLICIT.
    /// </summary>
    private static Lowering? FoldAtrousConvolution(NodeDef batchToSpace, TfGraph graph)
    {
        var conv = Producer(graph, batchToSpace.DataInput(0));
        if (conv is not { Op: "Conv2D" or "DepthwiseConv2dNative" } || conv.DataInputCount() != 2 ||
            conv.GetString("data_format", "NHWC") != "NHWC" || conv.GetString("padding", "VALID") != "VALID" ||
            conv.GetInts("strides", [1, 1, 1, 1]).Any(v => v != 1))
            return null;
        var spaceToBatch = Producer(graph, conv.DataInput(0));
        if (spaceToBatch is not { Op: "SpaceToBatchND" })
            return null;
        var block = ConstantInts(graph, batchToSpace.DataInput(1));
        var crops = ConstantInts(graph, batchToSpace.DataInput(2));
        var paddings = ConstantInts(graph, spaceToBatch.DataInput(2));
        if (block is not { Length: 2 } || crops is not { Length: 4 } || paddings is not { Length: 4 } ||
            ConstantInts(graph, spaceToBatch.DataInput(1)) is not { } inner || !inner.SequenceEqual(block) || block.Any(b => b < 1))
            return null;
        var pads = new long[4];
        for (var i = 0; i < 4; i++)
        {
            pads[i] = paddings[i] - crops[i];
            if (pads[i] < 0 || crops[i] < 0)
                return null;
        }
        var dilations = conv.GetInts("dilations", [1, 1, 1, 1]);
        if (dilations.Length != 4)
            return null;
        long[] rate = [block[0] * dilations[1], block[1] * dilations[2]];
        var filter = Producer(graph, conv.DataInput(1)) is { Op: "Const" } f ? Shape(f) : null;
        var padding = "EXPLICIT";
        if (pads.All(p => p == 0))
        {
            padding = "VALID";
        }
        else if (filter is { Length: 4 })
        {
            var same = true;
            for (var i = 0; i < 2; i++)
            {
                var total = (filter[i] - 1) * rate[i];
                same &= pads[2 * i] == total / 2 && pads[2 * i + 1] == total - total / 2;
            }
            if (same)
                padding = "SAME";
        }
        var folded = conv.Clone();
        folded.Name = batchToSpace.Name;
        folded.Input.Clear();
        folded.Input.Add(spaceToBatch.DataInput(0).ToString());
        folded.Input.Add(conv.DataInput(1).ToString());
        folded.Input.AddRange(batchToSpace.Input.Where(i => i.StartsWith('^')));
        folded.Attr["dilations"] = IntList(1, rate[0], rate[1], 1);
        folded.Attr["padding"] = new AttrValue { S = ByteString.CopyFromUtf8(padding) };
        folded.Attr.Remove("explicit_paddings");
        if (padding == "EXPLICIT")
            folded.Attr["explicit_paddings"] = IntList(0, 0, pads[0], pads[1], pads[2], pads[3], 0, 0);
        return new Lowering([folded]);
    }

    private static AttrValue IntList(params long[] values)
    {
        var list = new AttrValue.Types.ListValue();
        list.I.AddRange(values);
        return new AttrValue { List = list };
    }

    /// <summary>The node computing a tensor, looking through Identity; null for other outputs than 0 or a missing node.</summary>
    private static NodeDef? Producer(TfGraph graph, TensorName t)
    {
        var node = t.Index == 0 ? graph.FindNode(t.Node) : null;
        while (node is { Op: "Identity" } && node.DataInputCount() == 1 && node.DataInput(0).Index == 0)
            node = graph.FindNode(node.DataInput(0).Node);
        return node;
    }

    private static long[]? Shape(NodeDef constant) =>
        constant.GetTensor("value")?.TensorShape is { UnknownRank: false } shape ? [.. shape.Dim.Select(d => d.Size)] : null;

    private static long[]? ConstantInts(TfGraph graph, TensorName t)
    {
        if (Producer(graph, t) is not { Op: "Const" } node)
            return null;
        try
        {
            var value = graph.GetConstant(node.Name);
            return ShapeMath.IsInteger(value) ? value.ToInt64Array() : null;
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException)
        {
            return null; // a broken constant: the plain ops report it
        }
    }

    private static void MirrorPadShape(ShapeContext s)
    {
        var x = s.Shape(0);
        var pads = s.Ints(1);
        long[]? shape = x is not null && pads is not null
            ? x.Select((d, i) => d < 0 ? -1 : d + pads[2 * i] + pads[2 * i + 1]).ToArray()
            : x?.Select(_ => -1L).ToArray() ?? (s.Shape(1) is [var rank, 2] && rank >= 0 ? Enumerable.Repeat(-1L, (int)rank).ToArray() : null);
        s.Set(0, shape, s.Type(0));
    }

    /// <summary>
    /// REFLECT mirrors without repeating the edge (ONNX Pad "reflect"); SYMMETRIC repeats it, which ONNX has no mode
    /// for: each padded axis becomes reversed slices of its first and last cells concatenated around it.
    /// </summary>
    private static void MirrorPad(NodeDef node, TranslationContext c)
    {
        var x = node.DataInput(0);
        var paddings = c.RequireInts(node, 1, "the paddings");
        var mode = node.GetString("mode");
        var rank = paddings.Length / 2;
        var layout = rank == 4 ? c.LayoutOf(x) : Layout.Tf;
        int Axis(int i) => layout == Layout.Nchw ? TranslationContext.NhwcAxisInNchw[i] : i;
        var input = c.Get(x, layout);
        switch (mode)
        {
            case "REFLECT":
            {
                var pads = new long[2 * rank];
                for (var i = 0; i < rank; i++)
                {
                    pads[Axis(i)] = paddings[2 * i];
                    pads[rank + Axis(i)] = paddings[2 * i + 1];
                }
                c.Set(node, 0, c.Builder.Node("Pad", [input, c.Builder.Int64s("pads", pads)], name: node.Name, attributes: ("mode", "reflect")), layout);
                return;
            }
            case "SYMMETRIC":
            {
                var current = input;
                for (var i = 0; i < rank; i++)
                {
                    long begin = paddings[2 * i], end = paddings[2 * i + 1];
                    if (begin == 0 && end == 0)
                        continue;
                    var axis = c.Builder.Int64s("axis", Axis(i));
                    var step = c.Builder.Int64s("step", -1);
                    var parts = new List<string>();
                    // Cells begin-1 … 0, then the tensor, then cells n-1 … n-end (Slice backwards; INT64_MIN runs to the start).
                    if (begin > 0)
                        parts.Add(c.Builder.Node("Slice", [current, c.Builder.Int64s("start", begin - 1), c.Builder.Int64s("end", long.MinValue), axis, step]));
                    parts.Add(current);
                    if (end > 0)
                        parts.Add(c.Builder.Node("Slice", [current, c.Builder.Int64s("start", -1), c.Builder.Int64s("end", -end - 1), axis, step]));
                    current = c.Builder.Node("Concat", parts, attributes: ("axis", (long)Axis(i)));
                }
                c.Set(node, 0, c.Builder.Node("Identity", [current], name: node.Name), layout);
                return;
            }
            default:
                throw new NotSupportedException($"node '{node.Name}' (MirrorPad): mode {mode} is not supported, only REFLECT and SYMMETRIC.");
        }
    }
}
