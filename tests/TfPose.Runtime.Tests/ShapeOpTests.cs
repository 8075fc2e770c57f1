using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>
/// Shape and data-movement ops and reductions, each against values worked out here from TensorFlow's definition.
/// Theories run twice: with constant inputs (integer results are then folded while shapes are inferred) and with
/// the same inputs fed at run time (ONNX Runtime computes them).
/// </summary>
public class ShapeOpTests
{
    private static readonly DataType I32 = DataType.DtInt32;
    private static readonly DataType F32 = DataType.DtFloat;

    /// <summary>m[r, c] = 10 r + c for a 3x4 matrix: every value names its position.</summary>
    private static readonly int[] M = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23];

    private static int[] Iota(int n) => Enumerable.Range(0, n).ToArray();

    private static void AssertFoldedUnlessFed(IndexOpGraph g, string node)
    {
        if (!g.IsFed)
            Assert.True(g.Folded(node), $"{node} should have been folded from its constant inputs");
    }

    // ---- Concat ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("ConcatV2")]
    public void ConcatV2_joins_along_a_negative_axis(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("a", new[] { 1, 2, 3, 4 }, 2, 2);
        g.Input("b", new[] { 5, 6 }, 2, 1);
        g.Const("axis", new[] { -1 });
        g.Op("cat", "ConcatV2", I32, "a", "b", "axis").Attr["N"] = new AttrValue { I = 2 };
        // [[1,2],[3,4]] ++ [[5],[6]] along the last axis
        g.Check("cat", [2, 3], new[] { 1, 2, 5, 3, 4, 6 });
        AssertFoldedUnlessFed(g, "cat");

        var f = new IndexOpGraph(fed);
        f.Input("a", new[] { 1f, 2f }, 1, 2);
        f.Input("b", new[] { 3f, 4f, 5f, 6f }, 2, 2);
        f.Const("axis", new[] { 0 });
        f.Op("cat", "ConcatV2", F32, "a", "b", "axis");
        f.Check("cat", [3, 2], new[] { 1f, 2f, 3f, 4f, 5f, 6f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Concat")]
    public void Concat_v1_takes_the_axis_first(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Const("axis", new[] { -2 });
        g.Input("a", new[] { 1, 2 }, 1, 2);
        g.Input("b", new[] { 3, 4, 5, 6 }, 2, 2);
        g.Input("c", new int[0], 0, 2);
        g.Op("cat", "Concat", I32, "axis", "a", "b", "c");
        // axis -2 of rank 2 is axis 0; the empty part adds nothing
        g.Check("cat", [3, 2], new[] { 1, 2, 3, 4, 5, 6 });
        AssertFoldedUnlessFed(g, "cat");
    }

    // ---- Pad ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Pad")]
    public void Pad_adds_zeros_before_and_after(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        // The paddings are fed too in the fed run: ONNX takes them as a tensor.
        g.Input("p", new[] { 1, 0, 0, 2 }, 2, 2);
        g.Op("pad", "Pad", F32, "x", "p");
        // one row of zeros on top, two columns of zeros on the right
        g.Check("pad", [3, 5], new[] { 0f, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0 });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("PadV2")]
    public void PadV2_pads_integers_with_the_given_value(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { 1, 2, 3 }, 3);
        g.Const("p", new[] { 2, 1 }, 1, 2);
        g.Const("v", new[] { 9 });
        g.Op("pad", "PadV2", I32, "x", "p", "v");
        g.Check("pad", [6], new[] { 9, 9, 1, 2, 3, 9 });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("MirrorPad")]
    public void MirrorPad_reflect_excludes_the_edge(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        g.Const("p", new[] { 1, 1, 2, 2 }, 2, 2);
        g.Op("pad", "MirrorPad", F32, "x", "p").Attr["mode"] = TfGraphBuilder.Str("REFLECT");
        // rows: [r1, r0, r1, r0]; each row [a,b,c] -> [c,b,a,b,c,b,a]
        g.Check("pad", [4, 7], new[]
        {
            6f, 5, 4, 5, 6, 5, 4,
            3, 2, 1, 2, 3, 2, 1,
            6, 5, 4, 5, 6, 5, 4,
            3, 2, 1, 2, 3, 2, 1,
        });

        var v = new IndexOpGraph(fed);
        v.Input("x", new[] { 1, 2, 3 }, 3);
        v.Const("p", new[] { 2, 1 }, 1, 2);
        v.Op("pad", "MirrorPad", I32, "x", "p").Attr["mode"] = TfGraphBuilder.Str("REFLECT");
        v.Check("pad", [6], new[] { 3, 2, 1, 2, 3, 2 });
    }

    // ---- Reshape, Squeeze, ExpandDims, Transpose ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Reshape")]
    public void Reshape_infers_minus_one_keeps_zero_sizes_and_makes_scalars(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", Iota(6), 2, 3);
        g.Input("shape", new[] { 3, -1 }, 2);
        g.Op("r", "Reshape", I32, "x", "shape");
        g.Check("r", [3, 2], Iota(6));
        AssertFoldedUnlessFed(g, "r");

        // A 0 in TensorFlow's target is a size of 0 (ONNX would copy the input's size without allowzero).
        var e = new IndexOpGraph(fed);
        e.Input("x", new float[0], 2, 0);
        e.Input("shape", new[] { 0, 5 }, 2);
        e.Op("r", "Reshape", F32, "x", "shape");
        e.Check("r", [0, 5], new float[0]);

        var m = new IndexOpGraph(fed);
        m.Input("x", new float[0], 0, 3);
        m.Input("shape", new[] { -1, 3 }, 2);
        m.Op("r", "Reshape", F32, "x", "shape");
        m.Check("r", [0, 3], new float[0]);

        var s = new IndexOpGraph(fed);
        s.Input("x", new[] { 4.5f }, 1, 1);
        s.Input("shape", new int[0], 0);
        s.Op("r", "Reshape", F32, "x", "shape");
        s.Check("r", [], new[] { 4.5f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Squeeze")]
    public void Squeeze_with_and_without_dims(bool fed)
    {
        void Case(long[] dims, long[] expected)
        {
            var g = new IndexOpGraph(fed);
            g.Input("x", Iota(6), 1, 2, 1, 3);
            var node = g.Op("s", "Squeeze", I32, "x");
            if (dims.Length > 0)
                node.Attr["squeeze_dims"] = TfGraphBuilder.Ints(dims);
            g.Check("s", expected, Iota(6));
        }
        Case([], [2, 3]);
        Case([-2], [1, 2, 3]);
        Case([0, 2], [2, 3]);
        Case([0], [2, 1, 3]);
    }

    [Fact]
    public void Squeeze_of_a_dimension_other_than_one_is_rejected_like_tensorflow()
    {
        var b = new TfGraphBuilder();
        b.PlaceholderOf("x", F32, [2, 3]);
        b.Op("s", "Squeeze", "x").Attr["squeeze_dims"] = TfGraphBuilder.Ints(1);
        Assert.Contains(ShapeInference.Infer(b.Build()).Problems, p => p.Node == "s");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("ExpandDims")]
    public void ExpandDims_counts_negative_axes_from_the_end_of_the_output(bool fed)
    {
        void Case(int axis, long[] expected)
        {
            var g = new IndexOpGraph(fed);
            g.Input("x", Iota(6), 2, 3);
            // The axis is fed as well in the fed run: ONNX Unsqueeze takes it as a tensor.
            g.Input("axis", new[] { axis });
            g.Op("e", "ExpandDims", I32, "x", "axis");
            g.Check("e", expected, Iota(6));
        }
        Case(0, [1, 2, 3]);
        Case(1, [2, 1, 3]);
        Case(-1, [2, 3, 1]);
        Case(-3, [1, 2, 3]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Transpose")]
    public void Transpose_permutes_axes(bool fed)
    {
        var g = new IndexOpGraph(fed);
        var x = Iota(24);
        g.Input("x", x.Select(v => (float)v).ToArray(), 2, 3, 4);
        g.Const("perm", new[] { 2, 0, 1 });
        g.Op("t", "Transpose", F32, "x", "perm");
        // out[k, i, j] = x[i, j, k]
        var expected = new float[24];
        for (var k = 0; k < 4; k++)
            for (var i = 0; i < 2; i++)
                for (var j = 0; j < 3; j++)
                    expected[(k * 2 + i) * 3 + j] = x[(i * 3 + j) * 4 + k];
        g.Check("t", [4, 2, 3], expected);
    }

    // ---- Shape, ShapeN, Size, Rank ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Shape")]
    public void Shape_gives_int32_or_int64(bool dynamicBatch)
    {
        var g = new IndexOpGraph(true);
        g.Fed("x", new float[24], [2, 3, 4], dynamicBatch ? [-1, 3, 4] : null);
        g.Op("s32", "Shape", F32, "x");
        g.Op("s64", "Shape", F32, "x").Attr["out_type"] = TfGraphBuilder.Type(DataType.DtInt64);
        var r = g.Run("s32", "s64");
        Assert.Equal(new[] { 2, 3, 4 }, r.Values<int>(0));
        Assert.Equal(new[] { 2L, 3, 4 }, r.Values<long>(1));
        Assert.Equal(!dynamicBatch, g.Folded("s32"));
    }

    [Fact]
    [OpTest("ShapeN")]
    public void ShapeN_gives_each_input_shape_known_or_not()
    {
        var g = new IndexOpGraph(true);
        g.Fed("a", new float[6], [2, 3]);
        g.Fed("b", new float[10], [5, 2], [-1, 2]);
        g.Op("s", "ShapeN", F32, "a", "b").Attr["N"] = new AttrValue { I = 2 };
        var r = g.Run("s:0", "s:1");
        Assert.Equal(new[] { 2, 3 }, r.Values<int>(0));
        Assert.Equal(new[] { 5, 2 }, r.Values<int>(1));

        var l = new IndexOpGraph(true);
        l.Fed("a", new float[6], [2, 3], [-1, 3]);
        l.Op("s", "ShapeN", F32, "a").Attr["out_type"] = TfGraphBuilder.Type(DataType.DtInt64);
        Assert.Equal(new[] { 2L, 3 }, l.Run("s:0").Values<long>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Size")]
    public void Size_counts_elements(bool dynamicBatch)
    {
        var g = new IndexOpGraph(true);
        g.Fed("x", new float[24], [2, 3, 4], dynamicBatch ? [-1, 3, 4] : null);
        g.Op("n", "Size", F32, "x");
        g.Op("n64", "Size", F32, "x").Attr["out_type"] = TfGraphBuilder.Type(DataType.DtInt64);
        var r = g.Run("n", "n64");
        Assert.Equal(new[] { 24 }, r.Values<int>(0));
        Assert.Equal(new[] { 24L }, r.Values<long>(1));
        Assert.Empty(r.Shape(0));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Rank")]
    public void Rank_counts_axes(bool unknownRank)
    {
        var g = new IndexOpGraph(true);
        if (unknownRank)
            g.FedAnyRank("x", new float[24], [2, 3, 4]);
        else
            g.Fed("x", new float[24], [2, 3, 4], [-1, 3, -1]);
        g.Op("r", "Rank", F32, "x");
        var r = g.Run("r");
        Assert.Equal(new[] { 3 }, r.Values<int>());
        Assert.Equal(!unknownRank, g.Folded("r"));
    }

    // ---- StridedSlice, Slice ----

    /// <summary>
    /// StridedSlice cases on v = [0..9] and the 3x4 matrix m[r, c] = 10 r + c: (input, begin, end, strides,
    /// begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, expected shape, expected values).
    /// </summary>
    public static TheoryData<int, int> StridedSliceCases()
    {
        var data = new TheoryData<int, int>();
        for (var i = 0; i < StridedCases.Length; i++)
            for (var mode = 0; mode < 3; mode++)
                data.Add(i, mode);
        return data;
    }

    private static readonly (bool Matrix, int[] Begin, int[] End, int[] Strides, int BeginMask, int EndMask, int Ellipsis, int NewAxis, int Shrink, long[] Shape, int[] Expected)[] StridedCases =
    [
        (false, [2], [8], [2], 0, 0, 0, 0, 0, [3], [2, 4, 6]),                       // v[2:8:2]
        (false, [-3], [0], [1], 0, 1, 0, 0, 0, [3], [7, 8, 9]),                      // v[-3:]
        (false, [0], [0], [-1], 1, 1, 0, 0, 0, [10], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]),  // v[::-1]
        (false, [8], [2], [-2], 0, 0, 0, 0, 0, [3], [8, 6, 4]),                      // v[8:2:-2]
        (false, [-1], [0], [1], 0, 0, 0, 0, 1, [], [9]),                             // v[-1]
        (false, [-2], [-12], [-3], 0, 0, 0, 0, 0, [3], [8, 5, 2]),                   // v[-2:-12:-3]: the end clamps before 0
        (false, [100], [0], [1], 0, 1, 0, 0, 0, [0], []),                            // v[100:]: empty
        (false, [-100], [3], [1], 0, 0, 0, 0, 0, [3], [0, 1, 2]),                    // v[-100:3]: the begin clamps to 0
        (true, [1], [0], [1], 0, 0, 0, 0, 1, [4], [10, 11, 12, 13]),                 // m[1]
        (true, [0, -1], [0, 0], [1, 1], 1, 1, 0, 0, 2, [3], [3, 13, 23]),            // m[:, -1]
        (true, [0, 1], [0, 3], [1, 1], 0, 0, 1, 0, 0, [3, 2], [1, 2, 11, 12, 21, 22]),  // m[..., 1:3]
        (true, [0, 1, 0], [0, 2, 0], [1, 1, -2], 4, 4, 0, 1, 2, [1, 2], [13, 11]),   // m[newaxis, 1, ::-2]
        (true, [1, 0], [0, 0], [1, 1], 0, 1, 0, 2, 0, [2, 1, 4], [10, 11, 12, 13, 20, 21, 22, 23]),  // m[1:, newaxis]
        (true, [-1, 0], [0, 0], [-1, 1], 0, 3, 0, 0, 0, [3, 4], [20, 21, 22, 23, 10, 11, 12, 13, 0, 1, 2, 3]),  // m[-1::-1]
        (true, [0, 0], [2, 4], [1, 3], 0, 0, 0, 0, 0, [2, 2], [0, 3, 10, 13]),       // m[0:2, 0:4:3]
        (true, [1], [2], [1], 0, 0, 0, 0, 0, [1, 4], [10, 11, 12, 13]),              // m[1:2]: the unnamed axis is kept whole
    ];

    /// <summary>Mode 0: constants (folded); 1: the input fed, begin/end constant; 2: begin and end fed too.</summary>
    [Theory]
    [MemberData(nameof(StridedSliceCases))]
    [OpTest("StridedSlice")]
    public void StridedSlice_follows_tensorflow_masks_and_clamping(int index, int mode)
    {
        var (matrix, begin, end, strides, beginMask, endMask, ellipsis, newAxis, shrink, shape, expected) = StridedCases[index];
        var g = new IndexOpGraph(mode > 0);
        if (matrix)
            g.Input("x", M, 3, 4);
        else
            g.Input("x", Iota(10), 10);
        if (mode == 2)
        {
            g.Fed("b", begin, [begin.Length]);
            g.Fed("e", end, [end.Length]);
        }
        else
        {
            g.Const("b", begin, begin.Length);
            g.Const("e", end, end.Length);
        }
        g.Const("s", strides, strides.Length);
        var node = g.Op("ss", "StridedSlice", I32, "x", "b", "e", "s");
        node.Attr["begin_mask"] = new AttrValue { I = beginMask };
        node.Attr["end_mask"] = new AttrValue { I = endMask };
        node.Attr["ellipsis_mask"] = new AttrValue { I = ellipsis };
        node.Attr["new_axis_mask"] = new AttrValue { I = newAxis };
        node.Attr["shrink_axis_mask"] = new AttrValue { I = shrink };
        g.Check("ss", shape, expected);
        if (mode == 0)
            Assert.True(g.Folded("ss"));
    }

    [Fact]
    public void StridedSlice_with_run_time_bounds_still_knows_its_rank_and_untouched_sizes()
    {
        var b = new TfGraphBuilder();
        b.PlaceholderOf("x", F32, [-1, 5, 6]);
        b.PlaceholderOf("begin", I32, [3]);
        b.PlaceholderOf("end", I32, [3]);
        b.ConstInt("strides", [1, 1, 1], 3);
        // x[:, b1:e1, newaxis, ...] is spelled with 3 entries: [:, b1:e1, newaxis]; the last axis is untouched.
        var node = b.Op("ss", "StridedSlice", "x", "begin", "end", "strides");
        node.Attr["begin_mask"] = new AttrValue { I = 1 };
        node.Attr["end_mask"] = new AttrValue { I = 1 };
        node.Attr["new_axis_mask"] = new AttrValue { I = 4 };
        var shapes = ShapeInference.Infer(b.Build());
        Assert.Empty(shapes.Problems);
        Assert.Equal([-1L, -1, 1, 6], shapes.Shape("ss")!);
    }

    [Fact]
    public void Known_sizes_picked_from_a_partly_known_shape_fold_to_constants()
    {
        // x has an unknown batch: Shape(x) is not a constant, but the sizes picked from it that are known fold.
        var g = new IndexOpGraph(true);
        g.Fed("x", new float[2 * 5 * 6 * 3], [2, 5, 6, 3], [-1, 5, 6, 3]);
        g.Op("shape", "Shape", F32, "x");
        g.Const("one", new[] { 1 }, 1);
        g.Const("three", new[] { 3 }, 1);
        g.Const("zero", new[] { 0 }, 1);
        g.Const("step", new[] { 1 }, 1);
        g.Op("hw", "StridedSlice", I32, "shape", "one", "three", "step");
        g.Op("batch", "StridedSlice", I32, "shape", "zero", "one", "step").Attr["shrink_axis_mask"] = new AttrValue { I = 1 };
        g.Const("picks", new[] { 3, -3 }, 2);
        g.Const("axis", new[] { 0 });
        g.Op("cw", "GatherV2", I32, "shape", "picks", "axis");
        g.Const("two", new[] { 2 }, 1);
        g.Const("rest", new[] { -1 }, 1);
        g.Op("tail", "Slice", I32, "shape", "two", "rest");
        var unpack = g.Op("dims", "Unpack", I32, "shape");
        unpack.Attr["num"] = new AttrValue { I = 4 };
        var shapes = ShapeInference.Infer(g.Build());
        Assert.Equal([5L, 6], shapes.Value(TensorName.Parse("hw"))!.ToInt64Array());
        Assert.Equal([3L, 5], shapes.Value(TensorName.Parse("cw"))!.ToInt64Array());
        Assert.Equal([6L, 3], shapes.Value(TensorName.Parse("tail"))!.ToInt64Array());
        Assert.Equal([6L], shapes.Value(TensorName.Parse("dims:2"))!.ToInt64Array());
        Assert.Null(shapes.Value(TensorName.Parse("batch")));
        Assert.Null(shapes.Value(TensorName.Parse("dims:0")));
        var r = g.Run("hw", "batch", "cw", "tail", "dims:0", "dims:3");
        Assert.Equal(new[] { 5, 6 }, r.Values<int>(0));
        Assert.Equal(new[] { 2 }, r.Values<int>(1));
        Assert.Equal(new[] { 3, 5 }, r.Values<int>(2));
        Assert.Equal(new[] { 6, 3 }, r.Values<int>(3));
        Assert.Equal(new[] { 2 }, r.Values<int>(4));
        Assert.Equal(new[] { 3 }, r.Values<int>(5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Slice")]
    public void Slice_size_minus_one_runs_to_the_end(bool fed)
    {
        void Case(int[] begin, int[] size, long[] shape, int[] expected)
        {
            var g = new IndexOpGraph(fed);
            g.Input("x", M, 3, 4);
            // begin and size are fed too in the fed run (the ends are then worked out in the ONNX graph)
            g.Input("b", begin, 2);
            g.Input("n", size, 2);
            g.Op("s", "Slice", I32, "x", "b", "n");
            g.Check("s", shape, expected);
            AssertFoldedUnlessFed(g, "s");
        }
        Case([1, 1], [2, -1], [2, 3], [11, 12, 13, 21, 22, 23]);
        Case([0, 2], [-1, 1], [3, 1], [2, 12, 22]);
        Case([2, 0], [1, 4], [1, 4], [20, 21, 22, 23]);
        Case([1, 3], [0, 1], [0, 1], []);

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 1f, 2f, 3f, 4f, 5f }, 5);
        f.Input("b", new[] { 3L }, 1);
        f.Input("n", new[] { -1L }, 1);
        f.Op("s", "Slice", F32, "x", "b", "n");
        f.Check("s", [2], new[] { 4f, 5f });
    }

    // ---- Pack, Unpack, Split, SplitV ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Pack")]
    public void Pack_stacks_on_a_new_axis(bool fed)
    {
        void Case(int axis, long[] shape, int[] expected)
        {
            var g = new IndexOpGraph(fed);
            g.Input("a", new[] { 1, 2 }, 2);
            g.Input("b", new[] { 3, 4 }, 2);
            g.Input("c", new[] { 5, 6 }, 2);
            var node = g.Op("p", "Pack", I32, "a", "b", "c");
            node.Attr["axis"] = new AttrValue { I = axis };
            node.Attr["N"] = new AttrValue { I = 3 };
            g.Check("p", shape, expected);
            AssertFoldedUnlessFed(g, "p");
        }
        Case(0, [3, 2], [1, 2, 3, 4, 5, 6]);
        Case(-1, [2, 3], [1, 3, 5, 2, 4, 6]);
        Case(1, [2, 3], [1, 3, 5, 2, 4, 6]);
        Case(-2, [3, 2], [1, 2, 3, 4, 5, 6]);

        var s = new IndexOpGraph(fed);
        s.Input("a", new[] { 1.5f });
        s.Input("b", new[] { -2f });
        s.Op("p", "Pack", F32, "a", "b");
        s.Check("p", [2], new[] { 1.5f, -2f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Unpack")]
    public void Unpack_splits_into_slices_along_an_axis(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", M, 3, 4);
        var node = g.Op("u", "Unpack", I32, "x");
        node.Attr["num"] = new AttrValue { I = 4 };
        node.Attr["axis"] = new AttrValue { I = -1 };
        var r = g.Run("u:0", "u:1", "u:2", "u:3");
        for (var c = 0; c < 4; c++)
        {
            Assert.Equal([3L], r.Shape(c));
            Assert.Equal(new[] { c, 10 + c, 20 + c }, r.Values<int>(c));
        }

        var rows = new IndexOpGraph(fed);
        rows.Input("x", M.Select(v => (float)v).ToArray(), 3, 4);
        var unpack = rows.Op("u", "Unpack", F32, "x");
        unpack.Attr["num"] = new AttrValue { I = 3 };
        var rr = rows.Run("u:0", "u:2");
        Assert.Equal(new[] { 0f, 1, 2, 3 }, rr.Values<float>(0));
        Assert.Equal(new[] { 20f, 21, 22, 23 }, rr.Values<float>(1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Split")]
    public void Split_into_equal_parts_along_a_negative_axis(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Const("dim", new[] { -1 });
        g.Input("x", Iota(12).Select(v => (float)v).ToArray(), 2, 6);
        g.Op("s", "Split", F32, "dim", "x").Attr["num_split"] = new AttrValue { I = 3 };
        var r = g.Run("s:0", "s:1", "s:2");
        // rows [0..5] and [6..11], cut into column pairs
        Assert.Equal(new[] { 0f, 1, 6, 7 }, r.Values<float>(0));
        Assert.Equal(new[] { 2f, 3, 8, 9 }, r.Values<float>(1));
        Assert.Equal(new[] { 4f, 5, 10, 11 }, r.Values<float>(2));
        Assert.Equal([2L, 2], r.Shape(2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("SplitV")]
    public void SplitV_resolves_its_one_minus_one(bool fed)
    {
        var g = new IndexOpGraph(fed);
        // In the fed run the axis size is unknown to shape inference as well, so the -1 is resolved in the graph.
        if (fed)
            g.Fed("x", Iota(14), [2, 7], [2, -1]);
        else
            g.Const("x", Iota(14), 2, 7);
        g.Input("sizes", new[] { 2, -1, 1 }, 3);
        g.Const("dim", new[] { -1 });
        g.Op("s", "SplitV", I32, "x", "sizes", "dim").Attr["num_split"] = new AttrValue { I = 3 };
        var r = g.Run("s:0", "s:1", "s:2");
        Assert.Equal([2L, 2], r.Shape(0));
        Assert.Equal([2L, 4], r.Shape(1));
        Assert.Equal([2L, 1], r.Shape(2));
        Assert.Equal(new[] { 0, 1, 7, 8 }, r.Values<int>(0));
        Assert.Equal(new[] { 2, 3, 4, 5, 9, 10, 11, 12 }, r.Values<int>(1));
        Assert.Equal(new[] { 6, 13 }, r.Values<int>(2));
    }

    // ---- Fill, ZerosLike, OnesLike, Tile, BroadcastTo, BroadcastArgs, ReverseV2, RandomUniform ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Fill")]
    public void Fill_makes_a_tensor_of_one_value(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("dims", new[] { 2, 3 }, 2);
        g.Const("v", new[] { 7 });
        g.Op("f", "Fill", I32, "dims", "v");
        g.Check("f", [2, 3], Enumerable.Repeat(7, 6).ToArray());
        AssertFoldedUnlessFed(g, "f");

        var f = new IndexOpGraph(fed);
        f.Input("dims", new[] { 2L, 0L }, 2);
        f.Input("v", new[] { 1.5f });
        f.Op("f", "Fill", F32, "dims", "v");
        f.Check("f", [2, 0], new float[0]);
    }

    [Fact]
    public void Fill_with_dims_of_unknown_length_leaves_the_rank_unknown_and_runs()
    {
        var g = new IndexOpGraph(true);
        g.Fed("dims", new[] { 2, 2 }, [2], [-1]);
        g.Const("v", new[] { 0.5f });
        g.Op("f", "Fill", F32, "dims", "v");
        var shapes = ShapeInference.Infer(g.Build());
        Assert.Empty(shapes.Problems);
        Assert.Null(shapes.Shape("f"));
        g.Check("f", [2, 2], new[] { 0.5f, 0.5f, 0.5f, 0.5f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("ZerosLike", "OnesLike")]
    public void ZerosLike_and_OnesLike_ignore_the_values_even_nan(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { float.NaN, float.PositiveInfinity, -1f, 2f, 0f, 3f }, 2, 3);
        g.Op("z", "ZerosLike", F32, "x");
        g.Op("o", "OnesLike", F32, "x");
        var r = g.Run("z", "o");
        Assert.Equal(new float[6], r.Values<float>(0));
        Assert.Equal(Enumerable.Repeat(1f, 6).ToArray(), r.Values<float>(1));
        Assert.Equal([2L, 3], r.Shape(1));

        var i = new IndexOpGraph(fed);
        i.Input("x", new[] { 5, -5, 9 }, 3);
        i.Op("z", "ZerosLike", I32, "x");
        i.Op("o", "OnesLike", I32, "x");
        var ri = i.Run("z", "o");
        Assert.Equal(new[] { 0, 0, 0 }, ri.Values<int>(0));
        Assert.Equal(new[] { 1, 1, 1 }, ri.Values<int>(1));
        AssertFoldedUnlessFed(i, "o");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Tile")]
    public void Tile_repeats_along_each_axis(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { 1, 2, 3, 4 }, 2, 2);
        // The multiples are fed too in the fed run.
        g.Input("m", new[] { 2, 3 }, 2);
        g.Op("t", "Tile", I32, "x", "m");
        int[] row0 = [1, 2, 1, 2, 1, 2], row1 = [3, 4, 3, 4, 3, 4];
        g.Check("t", [4, 6], [.. row0, .. row1, .. row0, .. row1]);
        AssertFoldedUnlessFed(g, "t");

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 0.5f, -1f }, 2);
        f.Input("m", new[] { 2L }, 1);
        f.Op("t", "Tile", F32, "x", "m");
        f.Check("t", [4], new[] { 0.5f, -1f, 0.5f, -1f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("BroadcastTo")]
    public void BroadcastTo_repeats_size_one_and_missing_axes(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { 1, 2, 3 }, 3);
        g.Input("shape", new[] { 2, 3 }, 2);
        g.Op("b", "BroadcastTo", I32, "x", "shape");
        g.Check("b", [2, 3], new[] { 1, 2, 3, 1, 2, 3 });
        AssertFoldedUnlessFed(g, "b");

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 1f, 2f }, 2, 1);
        f.Input("shape", new[] { 2, 2, 3 }, 3);
        f.Op("b", "BroadcastTo", F32, "x", "shape");
        f.Check("b", [2, 2, 3], new[] { 1f, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2 });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("BroadcastArgs")]
    public void BroadcastArgs_broadcasts_two_shape_vectors(bool fed)
    {
        void Case(int[] a, int[] b, int[] expected)
        {
            var g = new IndexOpGraph(fed);
            g.Input("a", a, a.Length);
            g.Input("b", b, b.Length);
            g.Op("s", "BroadcastArgs", I32, "a", "b");
            g.Check("s", [expected.Length], expected);
            AssertFoldedUnlessFed(g, "s");
        }
        Case([2, 1, 3], [4, 1], [2, 4, 3]);
        Case([5], [], [5]);
        Case([1, 0], [3, 1], [3, 0]);
    }

    [Fact]
    public void BroadcastArgs_of_incompatible_known_shapes_is_rejected_like_tensorflow()
    {
        var g = new IndexOpGraph(false);
        g.Const("a", new[] { 2 }, 1);
        g.Const("b", new[] { 3 }, 1);
        g.Op("s", "BroadcastArgs", I32, "a", "b");
        Assert.Contains(ShapeInference.Infer(g.Build()).Problems, p => p.Node == "s");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("ReverseV2")]
    public void ReverseV2_reverses_the_named_axes(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", M, 3, 4);
        g.Const("axes", new[] { 1 }, 1);
        g.Op("r", "ReverseV2", I32, "x", "axes");
        g.Check("r", [3, 4], new[] { 3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20 });
        AssertFoldedUnlessFed(g, "r");

        var f = new IndexOpGraph(fed);
        f.Input("x", M.Select(v => (float)v).ToArray(), 3, 4);
        f.Const("axes", new[] { -2L, 1L }, 2);
        f.Op("r", "ReverseV2", F32, "x", "axes");
        f.Check("r", [3, 4], new[] { 23f, 22, 21, 20, 13, 12, 11, 10, 3, 2, 1, 0 });
    }

    [Fact]
    [OpTest("RandomUniform")]
    public void RandomUniform_draws_from_zero_to_one_in_the_given_shape()
    {
        var g = new IndexOpGraph(false);
        g.Const("dims", new[] { 4, 5 }, 2);
        g.B.Raw("u", "RandomUniform", "dims").Attr["dtype"] = TfGraphBuilder.Type(F32);
        var r = g.Run("u");
        Assert.Equal([4L, 5], r.Shape());
        Assert.All(r.Values<float>(), v => Assert.InRange(v, 0f, 0.99999994f));
    }

    [Fact]
    public void Axis_ops_on_a_tensor_of_unknown_rank_count_negative_axes_from_the_end()
    {
        // ONNX counts negative axes from the end too, so these translate without knowing x's rank.
        var g = new IndexOpGraph(true);
        g.FedAnyRank("x", M, [3, 4]);
        g.Const("minus_one", new[] { -1 });
        g.Op("cat", "ConcatV2", I32, "x", "x", "minus_one");
        var pack = g.Op("pack", "Pack", I32, "x", "x");
        pack.Attr["axis"] = new AttrValue { I = -1 };
        var unpack = g.Op("unpack", "Unpack", I32, "x");
        unpack.Attr["num"] = new AttrValue { I = 4 };
        unpack.Attr["axis"] = new AttrValue { I = -1 };
        g.Const("first", new[] { 0 });
        g.Op("gather", "GatherV2", I32, "x", "first", "minus_one");
        g.Op("argmax", "ArgMax", I32, "x", "minus_one");
        g.Op("sum", "Sum", I32, "x", "minus_one");
        var r = g.Run("cat", "pack", "unpack:1", "gather", "argmax", "sum");
        Assert.Equal([3L, 8], r.Shape(0));
        Assert.Equal(new[] { 0, 1, 2, 3, 0, 1, 2, 3 }, r.Values<int>(0).Take(8));
        Assert.Equal([3L, 4, 2], r.Shape(1));
        Assert.Equal(new[] { 1, 11, 21 }, r.Values<int>(2));
        Assert.Equal(new[] { 0, 10, 20 }, r.Values<int>(3));
        Assert.Equal(new[] { 3L, 3, 3 }, r.Values<long>(4));
        Assert.Equal(new[] { 6, 46, 86 }, r.Values<int>(5));
    }

    // ---- Reductions ----

    private static NodeDef Reduction(IndexOpGraph g, string name, string op, DataType t, bool keep = false, string x = "x", string axes = "axes")
    {
        var node = g.Op(name, op, t, x, axes);
        node.Attr["keep_dims"] = new AttrValue { B = keep };
        node.Attr["Tidx"] = TfGraphBuilder.Type(I32);
        return node;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Sum")]
    public void Sum_over_negative_scalar_and_empty_axes(bool fed)
    {
        void Case(int[] axes, long[] axesShape, bool keep, long[] shape, int[] expected)
        {
            var g = new IndexOpGraph(fed);
            g.Input("x", new[] { 1, 2, 3, 4, 5, 6 }, 2, 3);
            g.Const("axes", axes, axesShape);
            Reduction(g, "s", "Sum", I32, keep);
            g.Check("s", shape, expected);
            AssertFoldedUnlessFed(g, "s");
        }
        // [[1,2,3],[4,5,6]]
        Case([1], [1], false, [2], [6, 15]);
        Case([-1], [1], true, [2, 1], [6, 15]);
        Case([0], [], false, [3], [5, 7, 9]);
        Case([0, -1], [2], false, [], [21]);
        Case([-2, 1], [2], true, [1, 1], [21]);
        Case([], [0], false, [2, 3], [1, 2, 3, 4, 5, 6]);

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 0.5f, 1.5f, -2f, 4f }, 2, 2);
        f.Const("axes", new[] { 0 });
        Reduction(f, "s", "Sum", F32);
        f.Check("s", [2], new[] { -1.5f, 5.5f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Mean")]
    public void Mean_of_integers_truncates_toward_zero(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { -1, -2, -4, 4, 5, 7 }, 2, 3);
        g.Const("axes", new[] { 1 });
        Reduction(g, "m", "Mean", I32);
        // -7/3 = -2.33 -> -2 (not -3), 16/3 = 5.33 -> 5
        g.Check("m", [2], new[] { -2, 5 });

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 1f, 2f, 4f, 4f, 5f, 7f }, 2, 3);
        f.Const("axes", new[] { 0 });
        Reduction(f, "m", "Mean", F32, keep: true);
        f.Check("m", [1, 3], new[] { 2.5f, 3.5f, 5.5f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Max", "Min", "Prod")]
    public void Max_min_and_prod_over_int_and_float(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { 3, -1, 2, -4, 5, 0 }, 2, 3);
        g.Const("axes", new[] { -1 });
        Reduction(g, "max", "Max", I32);
        Reduction(g, "min", "Min", I32);
        Reduction(g, "prod", "Prod", I32, keep: true);
        var r = g.Run("max", "min", "prod");
        // rows [3,-1,2] and [-4,5,0]
        Assert.Equal(new[] { 3, 5 }, r.Values<int>(0));
        Assert.Equal(new[] { -1, -4 }, r.Values<int>(1));
        Assert.Equal(new[] { -6, 0 }, r.Values<int>(2));
        Assert.Equal([2L, 1], r.Shape(2));

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 0.5f, -3f, 2f, 4f }, 2, 2);
        f.Const("axes", new[] { 0 });
        Reduction(f, "max", "Max", F32);
        Reduction(f, "min", "Min", F32);
        Reduction(f, "prod", "Prod", F32);
        var rf = f.Run("max", "min", "prod");
        Assert.Equal(new[] { 2f, 4f }, rf.Values<float>(0));
        Assert.Equal(new[] { 0.5f, -3f }, rf.Values<float>(1));
        Assert.Equal(new[] { 1f, -12f }, rf.Values<float>(2));
    }

    [Fact]
    public void Prod_and_sum_of_a_shape_fold_to_constants()
    {
        var g = new IndexOpGraph(true);
        g.Fed("x", new float[24], [2, 3, 4]);
        g.Op("shape", "Shape", F32, "x");
        g.Const("axes", new[] { 0 });
        Reduction(g, "count", "Prod", I32, x: "shape");
        Reduction(g, "total", "Sum", I32, x: "shape");
        Assert.True(g.Folded("count"));
        var r = g.Run("count", "total");
        Assert.Equal(new[] { 24 }, r.Values<int>(0));
        Assert.Equal(new[] { 9 }, r.Values<int>(1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("All", "Any")]
    public void All_and_any_reduce_booleans_including_empty_axes(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { true, false, true, true, true, true }, 2, 3);
        g.Const("rows", new[] { 1 });
        g.Const("cols", new[] { 0 });
        Reduction(g, "all_rows", "All", DataType.DtBool, axes: "rows");
        Reduction(g, "any_rows", "Any", DataType.DtBool, axes: "rows");
        Reduction(g, "all_cols", "All", DataType.DtBool, keep: true, axes: "cols");
        var r = g.Run("all_rows", "any_rows", "all_cols");
        Assert.Equal(new[] { false, true }, r.Values<bool>(0));
        Assert.Equal(new[] { true, true }, r.Values<bool>(1));
        Assert.Equal(new[] { true, false, true }, r.Values<bool>(2));
        Assert.Equal([1L, 3], r.Shape(2));

        // Over an empty axis All is true and Any false.
        var e = new IndexOpGraph(fed);
        e.Input("x", new bool[0], 2, 0);
        e.Const("axes", new[] { 1 });
        Reduction(e, "all", "All", DataType.DtBool);
        Reduction(e, "any", "Any", DataType.DtBool);
        var re = e.Run("all", "any");
        Assert.Equal(new[] { true, true }, re.Values<bool>(0));
        Assert.Equal(new[] { false, false }, re.Values<bool>(1));
    }

    [Fact]
    public void Reduction_axes_fed_at_run_time()
    {
        var g = new IndexOpGraph(true);
        g.Fed("x", new[] { 1f, 2f, 3f, 4f, 5f, 6f }, [2, 3]);
        g.Fed("axes", new[] { -1 }, [1]);
        g.Fed("scalar_axis", new[] { 0 }, []);
        Reduction(g, "sum", "Sum", F32);
        Reduction(g, "max", "Max", F32, keep: true, axes: "scalar_axis");
        var shapes = ShapeInference.Infer(g.Build());
        Assert.Null(shapes.Shape("sum"));
        Assert.Equal([-1L, -1], shapes.Shape("max")!);
        var r = g.Run("sum", "max");
        Assert.Equal(new[] { 6f, 15f }, r.Values<float>(0));
        Assert.Equal(new[] { 4f, 5f, 6f }, r.Values<float>(1));
        Assert.Equal([1L, 3], r.Shape(1));
    }

    [Fact]
    public void Reduction_naming_an_axis_twice_is_rejected_like_tensorflow()
    {
        var g = new IndexOpGraph(true);
        g.Fed("x", new float[6], [2, 3]);
        g.Const("axes", new[] { 1, -1 }, 2);
        Reduction(g, "s", "Sum", F32);
        Assert.Contains(ShapeInference.Infer(g.Build()).Problems, p => p.Node == "s" && p.Problem.Contains("twice"));
        Assert.Throws<GraphFormatException>(() => new GraphSession(g.Build()));
    }
}
