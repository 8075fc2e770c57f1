using TfPose.Tests;
using static TfPose.Runtime.Tests.TfliteOpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>TensorFlow Lite's shape, indexing, reduction and selection builtins, each alone, against values worked out by hand.</summary>
public class TfliteShapeOpTests
{
    /// <summary>x = 0, 1, 2, … in a [3, 4] matrix: x[r, c] = 4r + c.</summary>
    private static readonly float[] M = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();

    private static (float[] Values, long[] Shape) Unary(string op, int[] inShape, int[] outShape, int[] extra, string? options = null,
        Func<Google.FlatBuffers.FlatBufferBuilder, int>? table = null, float[]? x = null)
    {
        var b = new TfliteModelBuilder();
        var input = b.Input("x", inShape);
        var inputs = new List<int> { input };
        if (extra.Length > 0)
            inputs.Add(b.Ints("arg", extra, extra.Length));
        var y = b.Tensor("y", F32, outShape);
        b.Operator(op, [.. inputs], [y], options, table);
        b.Output(y);
        return Run<float>(b, "y", Feed("x", x ?? M[..inShape.Aggregate(1, (p, d) => p * d)], [.. inShape.Select(d => (long)d)]));
    }

    [Fact]
    [TfliteOpTest("RESHAPE")]
    public void Reshape_from_its_shape_input_or_its_options()
    {
        var (values, shape) = Unary("RESHAPE", [3, 4], [2, 6], [2, -1]);
        Assert.Equal([2, 6], shape);
        Assert.Equal(M, values);

        // Older converters give the new shape only in the options.
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [3, 4]);
        var y = b.Tensor("y", F32, [6, 2]);
        b.Operator("RESHAPE", [x], [y], "Reshape", TfliteModelBuilder.Options((0, new[] { 6, 2 })));
        b.Output(y);
        (values, shape) = Run<float>(b, "y", Feed("x", M, 3, 4));
        Assert.Equal([6, 2], shape);
        Assert.Equal(M, values);
    }

    [Fact]
    [TfliteOpTest("SQUEEZE", "EXPAND_DIMS", "TRANSPOSE")]
    public void Squeeze_expand_dims_and_transpose()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 3, 1, 4]);
        var squeezed = b.Tensor("squeezed", F32, [3, 4]);
        b.Operator("SQUEEZE", [x], [squeezed], "Squeeze", TfliteModelBuilder.Options((0, new[] { 0, 2 })));
        var all = b.Tensor("all", F32, [3, 4]);
        b.Operator("SQUEEZE", [x], [all]);
        var expanded = b.Tensor("expanded", F32, [3, 4, 1]);
        b.Operator("EXPAND_DIMS", [squeezed, b.Ints("axis", [-1])], [expanded]);
        var transposed = b.Tensor("transposed", F32, [4, 3]);
        b.Operator("TRANSPOSE", [all, b.Ints("perm", [1, 0], 2)], [transposed]);
        foreach (var t in new[] { squeezed, all, expanded, transposed })
            b.Output(t);
        var results = RunAll(b, ["squeezed", "all", "expanded", "transposed"], Feed("x", M, 1, 3, 1, 4));
        Assert.Equal([3, 4], results[0].Shape);
        Assert.Equal([3, 4], results[1].Shape);
        Assert.Equal([3, 4, 1], results[2].Shape);
        Assert.Equal([4, 3], results[3].Shape);
        Assert.Equal([0f, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], (float[])results[3].Values);
    }

    [Fact]
    [TfliteOpTest("CONCATENATION", "PACK", "UNPACK")]
    public void Concatenation_with_activation_pack_and_unpack()
    {
        var b = new TfliteModelBuilder();
        var p = b.Input("p", [2, 2]);
        var q = b.Input("q", [2, 1]);
        var cat = b.Tensor("cat", F32, [2, 3]);
        b.Operator("CONCATENATION", [p, q], [cat], "Concatenation", TfliteModelBuilder.Options((0, -1), (1, (byte)1)));
        var packed = b.Tensor("packed", F32, [2, 2, 3]);
        b.Operator("PACK", [cat, cat], [packed], "Pack", TfliteModelBuilder.Options((0, 2), (1, 1)));
        var u0 = b.Tensor("u0", F32, [3]);
        var u1 = b.Tensor("u1", F32, [3]);
        b.Operator("UNPACK", [cat], [u0, u1], "Unpack", TfliteModelBuilder.Options((0, 2), (1, 0)));
        foreach (var t in new[] { cat, packed, u0, u1 })
            b.Output(t);
        var results = RunAll(b, ["cat", "packed", "u0", "u1"], Feed("p", new[] { 1f, -2, 3, 4 }, 2, 2), Feed("q", new[] { -5f, 6 }, 2, 1));
        Assert.Equal([1f, 0, 0, 3, 4, 6], (float[])results[0].Values); // RELU fused
        Assert.Equal([2, 2, 3], results[1].Shape);
        Assert.Equal([1f, 0, 0, 1, 0, 0, 3, 4, 6, 3, 4, 6], (float[])results[1].Values);
        Assert.Equal([1f, 0, 0], (float[])results[2].Values);
        Assert.Equal([3f, 4, 6], (float[])results[3].Values);
    }

    [Fact]
    [TfliteOpTest("SPLIT", "SPLIT_V")]
    public void Split_and_split_v()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [3, 4]);
        var s0 = b.Tensor("s0", F32, [3, 2]);
        var s1 = b.Tensor("s1", F32, [3, 2]);
        b.Operator("SPLIT", [b.Ints("axis", [1]), x], [s0, s1], "Split", TfliteModelBuilder.Options((0, 2)));
        var v0 = b.Tensor("v0", F32, [1, 4]);
        var v1 = b.Tensor("v1", F32, [2, 4]);
        b.Operator("SPLIT_V", [x, b.Ints("sizes", [1, -1], 2), b.Ints("axis0", [0])], [v0, v1], "SplitV", TfliteModelBuilder.Options((0, 2)));
        foreach (var t in new[] { s0, s1, v0, v1 })
            b.Output(t);
        var results = RunAll(b, ["s0", "s1", "v0", "v1"], Feed("x", M, 3, 4));
        Assert.Equal([0f, 1, 4, 5, 8, 9], (float[])results[0].Values);
        Assert.Equal([2f, 3, 6, 7, 10, 11], (float[])results[1].Values);
        Assert.Equal([0f, 1, 2, 3], (float[])results[2].Values);
        Assert.Equal([2, 4], results[3].Shape);
    }

    [Fact]
    [TfliteOpTest("SLICE")]
    public void Slice_with_a_size_to_the_end()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [3, 4]);
        var y = b.Tensor("y", F32, [2, 3]);
        b.Operator("SLICE", [x, b.Ints("begin", [1, 1], 2), b.Ints("size", [2, -1], 2)], [y]);
        b.Output(y);
        var (values, shape) = Run<float>(b, "y", Feed("x", M, 3, 4));
        Assert.Equal([2, 3], shape);
        Assert.Equal([5f, 6, 7, 9, 10, 11], values);
    }

    public static TheoryData<string, int[], int[], int[], int[], int, long[], float[]> StridedSlices => new()
    {
        // name, begin, end, strides, masks (begin, end, ellipsis, new axis, shrink), offset, shape, values
        { "begin/end masks", [1, 2], [0, 3], [1, 2], [0b10, 0b01, 0, 0, 0], 0, [2, 2], [4, 6, 8, 10] },
        { "shrink axis", [1, 0], [2, 4], [1, 1], [0, 0, 0, 0, 0b01], 0, [4], [4, 5, 6, 7] },
        { "new axis", [0, 0, 1], [0, 3, 2], [1, 1, 1], [0, 0, 0, 0b001, 0], 0, [1, 3, 1], [1, 5, 9] },
        { "ellipsis", [0, 1], [0, 3], [1, 1], [0, 0, 0b01, 0, 0], 0, [3, 2], [1, 2, 5, 6, 9, 10] },
        { "negative stride", [-1, 0], [0, 0], [-1, 3], [0, 0b11, 0, 0, 0], 0, [3, 2], [8, 11, 4, 7, 0, 3] },
        { "offset", [1, 1], [2, 2], [1, 1], [0, 0, 0, 0, 0], 1, [2, 2], [5, 6, 9, 10] },
    };

    [Theory]
    [MemberData(nameof(StridedSlices))]
    [TfliteOpTest("STRIDED_SLICE")]
    public void Strided_slice_with_every_mask(string name, int[] begin, int[] end, int[] strides, int[] masks, int offset, long[] shape, float[] values)
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [3, 4]);
        var y = b.Tensor("y", F32, [.. shape.Select(d => (int)d)]);
        b.Operator("STRIDED_SLICE", [x, b.Ints("begin", begin, begin.Length), b.Ints("end", end, end.Length), b.Ints("strides", strides, strides.Length)], [y],
            "StridedSlice", TfliteModelBuilder.Options((0, masks[0]), (1, masks[1]), (2, masks[2]), (3, masks[3]), (4, masks[4]), (5, offset == 1)));
        b.Output(y);
        var (actual, actualShape) = Run<float>(b, "y", Feed("x", M, 3, 4));
        Assert.True(shape.SequenceEqual(actualShape), $"{name}: shape [{string.Join(",", actualShape)}]");
        Assert.Equal(values, actual);
    }

    [Fact]
    [TfliteOpTest("GATHER", "GATHER_ND", "EMBEDDING_LOOKUP")]
    public void Gathers()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [3, 4]);
        var cols = b.Tensor("cols", F32, [3, 2]);
        b.Operator("GATHER", [x, b.Ints("idx", [3, 0], 2)], [cols], "Gather", TfliteModelBuilder.Options((0, 1)));
        var batched = b.Tensor("batched", F32, [3, 2]);
        b.Operator("GATHER", [x, b.Ints("per_row", [1, 2, 0, 0, 3, 3], 3, 2)], [batched], "Gather", TfliteModelBuilder.Options((0, 1), (1, 1)));
        var nd = b.Tensor("nd", F32, [2]);
        b.Operator("GATHER_ND", [x, b.Ints("coords", [2, 1, 0, 3], 2, 2)], [nd]);
        var rows = b.Tensor("rows", F32, [2, 4]);
        b.Operator("EMBEDDING_LOOKUP", [b.Ints("ids", [2, 0], 2), x], [rows]);
        foreach (var t in new[] { cols, batched, nd, rows })
            b.Output(t);
        var results = RunAll(b, ["cols", "batched", "nd", "rows"], Feed("x", M, 3, 4));
        Assert.Equal([3f, 0, 7, 4, 11, 8], (float[])results[0].Values);
        Assert.Equal([1f, 2, 4, 4, 11, 11], (float[])results[1].Values);
        Assert.Equal([9f, 3], (float[])results[2].Values);
        Assert.Equal([8f, 9, 10, 11, 0, 1, 2, 3], (float[])results[3].Values);
    }

    [Fact]
    [TfliteOpTest("PAD", "PADV2", "MIRROR_PAD")]
    public void Pads()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 3]);
        var paddings = b.Ints("paddings", [1, 0, 0, 2], 2, 2);
        var pad = b.Tensor("pad", F32, [3, 5]);
        b.Operator("PAD", [x, paddings], [pad]);
        var padv2 = b.Tensor("padv2", F32, [3, 5]);
        b.Operator("PADV2", [x, paddings, b.Floats("value", [7], 1)], [padv2]);
        var mirror = b.Ints("mirror", [0, 0, 2, 2], 2, 2);
        var reflect = b.Tensor("reflect", F32, [2, 7]);
        b.Operator("MIRROR_PAD", [x, mirror], [reflect], "MirrorPad", TfliteModelBuilder.Options((0, (byte)0)));
        var symmetric = b.Tensor("symmetric", F32, [2, 7]);
        b.Operator("MIRROR_PAD", [x, mirror], [symmetric], "MirrorPad", TfliteModelBuilder.Options((0, (byte)1)));
        foreach (var t in new[] { pad, padv2, reflect, symmetric })
            b.Output(t);
        var results = RunAll(b, ["pad", "padv2", "reflect", "symmetric"], Feed("x", new[] { 1f, 2, 3, 4, 5, 6 }, 2, 3));
        Assert.Equal([0f, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0], (float[])results[0].Values);
        Assert.Equal([7f, 7, 7, 7, 7, 1, 2, 3, 7, 7, 4, 5, 6, 7, 7], (float[])results[1].Values);
        Assert.Equal([3f, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4], (float[])results[2].Values);
        Assert.Equal([2f, 1, 1, 2, 3, 3, 2, 5, 4, 4, 5, 6, 6, 5], (float[])results[3].Values);
    }

    [Fact]
    [TfliteOpTest("TILE", "BROADCAST_TO", "REVERSE_V2")]
    public void Tile_broadcast_to_and_reverse()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 3]);
        var tiled = b.Tensor("tiled", F32, [2, 6]);
        b.Operator("TILE", [x, b.Ints("multiples", [1, 2], 2)], [tiled]);
        var row = b.Input("row", [3]);
        var broadcast = b.Tensor("broadcast", F32, [2, 3]);
        b.Operator("BROADCAST_TO", [row, b.Ints("shape", [2, 3], 2)], [broadcast]);
        var reversed = b.Tensor("reversed", F32, [2, 3]);
        b.Operator("REVERSE_V2", [x, b.Ints("axis", [1], 1)], [reversed]);
        foreach (var t in new[] { tiled, broadcast, reversed })
            b.Output(t);
        var results = RunAll(b, ["tiled", "broadcast", "reversed"], Feed("x", new[] { 1f, 2, 3, 4, 5, 6 }, 2, 3), Feed("row", new[] { 7f, 8, 9 }, 3));
        Assert.Equal([1f, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6], (float[])results[0].Values);
        Assert.Equal([7f, 8, 9, 7, 8, 9], (float[])results[1].Values);
        Assert.Equal([3f, 2, 1, 6, 5, 4], (float[])results[2].Values);
    }

    [Fact]
    [TfliteOpTest("SHAPE", "RANK", "FILL", "RANGE")]
    public void Shape_rank_fill_and_range()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 3, 4], signature: [-1, 3, 4]);
        var shape = b.Tensor("shape", I32, [3]);
        b.Operator("SHAPE", [x], [shape]);
        var shape64 = b.Tensor("shape64", I64, [3]);
        b.Operator("SHAPE", [x], [shape64], "Shape", TfliteModelBuilder.Options((0, (sbyte)4)));
        var rank = b.Tensor("rank", I32, []);
        b.Operator("RANK", [x], [rank]);
        var filled = b.Tensor("filled", F32, [2, 3]);
        b.Operator("FILL", [b.Ints("dims", [2, 3], 2), b.Floats("value", [1.5f])], [filled]);
        var range = b.Tensor("range", I32, [3]);
        b.Operator("RANGE", [b.Ints("start", [1]), b.Ints("limit", [10]), b.Ints("delta", [3])], [range]);
        var frange = b.Tensor("frange", F32, [4]);
        b.Operator("RANGE", [b.Floats("fstart", [0.5f]), b.Floats("flimit", [-1.5f]), b.Floats("fdelta", [-0.5f])], [frange]);
        foreach (var t in new[] { shape, shape64, rank, filled, range, frange })
            b.Output(t);
        var results = RunAll(b, ["shape", "shape64", "rank", "filled", "range", "frange"], Feed("x", new float[24], 2, 3, 4));
        Assert.Equal([2, 3, 4], (int[])results[0].Values);
        Assert.Equal([2L, 3, 4], (long[])results[1].Values);
        Assert.Equal([3], (int[])results[2].Values);
        Assert.Equal([1.5f, 1.5f, 1.5f, 1.5f, 1.5f, 1.5f], (float[])results[3].Values);
        Assert.Equal([1, 4, 7], (int[])results[4].Values);
        Assert.Equal([0.5f, 0, -0.5f, -1], (float[])results[5].Values);
    }

    [Theory]
    [InlineData("MEAN", false)]
    [InlineData("MEAN", true)]
    [InlineData("SUM", false)]
    [InlineData("REDUCE_MAX", true)]
    [InlineData("REDUCE_MIN", false)]
    [InlineData("REDUCE_PROD", false)]
    [TfliteOpTest("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD")]
    public void Reductions_with_and_without_keep_dims(string op, bool keepDims)
    {
        var x = Values(2 * 3 * 4, 20);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [2, 3, 4]);
        var y = b.Tensor("y", F32, keepDims ? [2, 1, 1] : [2]);
        b.Operator(op, [input, b.Ints("axes", [1, -1], 2)], [y], "Reducer", TfliteModelBuilder.Options((0, keepDims)));
        b.Output(y);
        var expected = Enumerable.Range(0, 2).Select(n =>
        {
            var cells = x.Skip(12 * n).Take(12).Select(v => (double)v).ToList();
            return op switch
            {
                "MEAN" => cells.Average(),
                "SUM" => cells.Sum(),
                "REDUCE_MAX" => cells.Max(),
                "REDUCE_MIN" => cells.Min(),
                _ => cells.Aggregate(1.0, (p, v) => p * v),
            };
        }).ToList();
        var (actual, shape) = Run<float>(b, "y", Feed("x", x, 2, 3, 4));
        Assert.Equal(keepDims ? [2, 1, 1] : [2], shape);
        Close(expected, actual, 1e-5, op);
    }

    [Fact]
    [TfliteOpTest("REDUCE_ANY", "REDUCE_ALL")]
    public void Boolean_reductions()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 3], Bool);
        var axis = b.Ints("axis", [1], 1);
        var any = b.Tensor("any", Bool, [2]);
        b.Operator("REDUCE_ANY", [x, axis], [any]);
        var all = b.Tensor("all", Bool, [2]);
        b.Operator("REDUCE_ALL", [x, axis], [all]);
        b.Output(any);
        b.Output(all);
        var results = RunAll(b, ["any", "all"], Feed("x", new[] { false, true, false, true, true, true }, 2, 3));
        Assert.Equal([true, true], (bool[])results[0].Values);
        Assert.Equal([false, true], (bool[])results[1].Values);
    }

    [Fact]
    [TfliteOpTest("ARG_MAX", "ARG_MIN")]
    public void Arg_max_and_min_with_their_output_types()
    {
        float[] x = [3, 9, 1, 9, -4, 2, 0, 7];
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [2, 4]);
        var axis = b.Ints("axis", [1]);
        var max = b.Tensor("max", I64, [2]);
        b.Operator("ARG_MAX", [input, axis], [max], "ArgMax", TfliteModelBuilder.Options((0, (sbyte)4)));
        var min = b.Tensor("min", I32, [2]);
        b.Operator("ARG_MIN", [input, axis], [min], "ArgMin", TfliteModelBuilder.Options((0, (sbyte)2)));
        b.Output(max);
        b.Output(min);
        var results = RunAll(b, ["max", "min"], Feed("x", x, 2, 4));
        Assert.Equal([1L, 3], (long[])results[0].Values); // the first of equal maxima
        Assert.Equal([2, 0], (int[])results[1].Values);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [TfliteOpTest("CUMSUM")]
    public void Cumsum_exclusive_and_reverse(bool exclusive, bool reverse)
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 3]);
        var y = b.Tensor("y", F32, [2, 3]);
        b.Operator("CUMSUM", [x, b.Ints("axis", [1])], [y], "Cumsum", TfliteModelBuilder.Options((0, exclusive), (1, reverse)));
        b.Output(y);
        var (actual, _) = Run<float>(b, "y", Feed("x", new[] { 1f, 2, 3, 4, 5, 6 }, 2, 3));
        float[] expected = (exclusive, reverse) switch
        {
            (false, false) => [1, 3, 6, 4, 9, 15],
            (true, false) => [0, 1, 3, 0, 4, 9],
            (false, true) => [6, 5, 3, 15, 11, 6],
            _ => [5, 3, 0, 11, 6, 0],
        };
        Assert.Equal(expected, actual);
    }

    [Fact]
    [TfliteOpTest("WHERE", "ONE_HOT", "SPARSE_TO_DENSE")]
    public void Where_one_hot_and_sparse_to_dense()
    {
        var b = new TfliteModelBuilder();
        var mask = b.Input("mask", [2, 3], Bool);
        var where = b.Tensor("where", I64, [-1, 2]);
        b.Operator("WHERE", [mask], [where]);
        var indices = b.Input("indices", [3], TfliteModelBuilder.Int32);
        var hot = b.Tensor("hot", F32, [3, 3]);
        b.Operator("ONE_HOT", [indices, b.Ints("depth", [3]), b.Floats("on", [5]), b.Floats("off", [-1])], [hot], "OneHot", TfliteModelBuilder.Options((0, -1)));
        var dense = b.Tensor("dense", F32, [3, 3]);
        b.Operator("SPARSE_TO_DENSE", [b.Ints("coords", [0, 1, 2, 0], 2, 2), b.Ints("dense_shape", [3, 3], 2), b.Floats("values", [5, 6], 2), b.Floats("default", [0.5f])],
            [dense], "SparseToDense");
        foreach (var t in new[] { where, hot, dense })
            b.Output(t);
        var results = RunAll(b, ["where", "hot", "dense"],
            Feed("mask", new[] { false, true, false, true, false, true }, 2, 3), Feed("indices", new[] { 0, 2, -1 }, 3));
        Assert.Equal([3, 2], results[0].Shape);
        Assert.Equal([0L, 1, 1, 0, 1, 2], (long[])results[0].Values);
        Assert.Equal([5f, -1, -1, -1, -1, 5, -1, -1, -1], (float[])results[1].Values);
        Assert.Equal([0.5f, 5, 0.5f, 0.5f, 0.5f, 0.5f, 6, 0.5f, 0.5f], (float[])results[2].Values);
    }

    [Fact]
    [TfliteOpTest("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND")]
    public void Space_to_batch_and_back()
    {
        var x = Enumerable.Range(0, 16).Select(i => (float)i).ToArray();
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 4, 4, 1]);
        var block = b.Ints("block", [2, 2], 2);
        var batched = b.Tensor("batched", F32, [4, 2, 2, 1]);
        b.Operator("SPACE_TO_BATCH_ND", [input, block, b.Ints("paddings", [0, 0, 0, 0], 2, 2)], [batched]);
        var back = b.Tensor("back", F32, [1, 4, 4, 1]);
        b.Operator("BATCH_TO_SPACE_ND", [batched, block, b.Ints("crops", [0, 0, 0, 0], 2, 2)], [back]);
        b.Output(batched);
        b.Output(back);
        var results = RunAll(b, ["batched", "back"], Feed("x", x, 1, 4, 4, 1));
        // Batch (i, j) of the block holds x[2r + i, 2c + j].
        Assert.Equal([0f, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15], (float[])results[0].Values);
        Assert.Equal(x, (float[])results[1].Values);
    }

    [Fact]
    [TfliteOpTest("TOPK_V2")]
    public void Top_k_values_and_indices()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 5]);
        var values = b.Tensor("values", F32, [2, 3]);
        var indices = b.Tensor("indices", I32, [2, 3]);
        b.Operator("TOPK_V2", [x, b.Ints("k", [3])], [values, indices]);
        b.Output(values);
        b.Output(indices);
        var results = RunAll(b, ["values", "indices"], Feed("x", new[] { 1f, 5, 3, 4, 2, -1, -5, 0, 8, 7 }, 2, 5));
        Assert.Equal([5f, 4, 3, 8, 7, 0], (float[])results[0].Values);
        Assert.Equal([1, 3, 2, 3, 4, 2], (int[])results[1].Values);
    }

    [Fact]
    [TfliteOpTest("NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5")]
    public void Non_max_suppression_pads_to_the_maximum()
    {
        // Box 1 overlaps box 0 (IoU 0.81), box 2 is apart, box 3 scores under the threshold.
        float[] boxes = [0, 0, 10, 10, 0, 1, 10, 11, 20, 20, 30, 30, 40, 40, 50, 50];
        float[] scores = [0.9f, 0.8f, 0.7f, 0.05f];
        var b = new TfliteModelBuilder();
        var boxT = b.Input("boxes", [4, 4]);
        var scoreT = b.Input("scores", [4]);
        var max = b.Ints("max", [3]);
        var iou = b.Floats("iou", [0.5f]);
        var threshold = b.Floats("threshold", [0.1f]);
        var selected = b.Tensor("selected", I32, [3]);
        var valid = b.Tensor("valid", I32, []);
        b.Operator("NON_MAX_SUPPRESSION_V4", [boxT, scoreT, max, iou, threshold], [selected, valid]);
        var selected5 = b.Tensor("selected5", I32, [3]);
        var scores5 = b.Tensor("scores5", F32, [3]);
        var valid5 = b.Tensor("valid5", I32, []);
        b.Operator("NON_MAX_SUPPRESSION_V5", [boxT, scoreT, max, iou, threshold, b.Floats("sigma", [0])], [selected5, scores5, valid5]);
        foreach (var t in new[] { selected, valid, selected5, scores5, valid5 })
            b.Output(t);
        var results = RunAll(b, ["selected", "valid", "selected5", "scores5", "valid5"], Feed("boxes", boxes, 4, 4), Feed("scores", scores, 4));
        Assert.Equal([0, 2, 0], (int[])results[0].Values);
        Assert.Equal([2], (int[])results[1].Values);
        Assert.Equal([0, 2, 0], (int[])results[2].Values);
        Assert.Equal([0.9f, 0.7f, 0], (float[])results[3].Values);
        Assert.Equal([2], (int[])results[4].Values);
    }

    [Fact]
    [TfliteOpTest("DEQUANTIZE")]
    public void Dequantize_folds_int8_per_channel_weights_and_casts_float16_activations()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [2, 3]);
        var q = b.Const("q", TfliteModelBuilder.Int8, [2, 3], new sbyte[] { 1, 3, -1, -2, 2, 10 }, [0.5f, 0.25f], [1, -2], dimension: 0);
        var w = b.Tensor("w", F32, [2, 3]);
        b.Operator("DEQUANTIZE", [q], [w]);
        var sum = b.Tensor("sum", F32, [2, 3]);
        b.Operator("ADD", [x, w], [sum]);
        var half = b.Tensor("half", TfliteModelBuilder.Float16, [2, 3]);
        b.Operator("CAST", [sum], [half]);
        var back = b.Tensor("back", F32, [2, 3]);
        b.Operator("DEQUANTIZE", [half], [back]);
        b.Output(back);
        var graph = Load(b);
        Assert.Equal(TfPose.Graph.Proto.DataType.DtFloat, DataType(graph, "w"));
        var (actual, _) = Run<float>(b, "back", Feed("x", new[] { 0.125f, 0, 0, 0, 0, 0.001f }, 2, 3));
        // 0.5·(1−1), 0.5·(3−1), 0.5·(−1−1); 0.25·(−2+2), 0.25·(2+2), 0.25·(10+2); then rounded through float16.
        Assert.Equal([0.125f, 1, -1, 0, 1, (float)(Half)3.001f], actual);
    }

    private static TfPose.Graph.Proto.DataType DataType(TfPose.Graph.TfGraph graph, string node) =>
        TfPose.Graph.NodeAttributes.GetDataType(graph.GetNode(node), "dtype");
}
