using TfPose.Graph;
using TfPose.Graph.Proto;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>
/// Gathers, arg-max/min, top-k, where, range, one-hot and sparse-to-dense against values worked out here from
/// TensorFlow's definitions. Theories run with constant inputs (integer results fold while shapes are inferred)
/// and with the same inputs fed at run time (ONNX Runtime computes them).
/// </summary>
public class IndexingOpTests
{
    private static readonly DataType I32 = DataType.DtInt32;
    private static readonly DataType F32 = DataType.DtFloat;

    /// <summary>m[r, c] = 10 r + c for a 3x4 matrix: every value names its position.</summary>
    private static readonly int[] M = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23];

    private static void AssertFoldedUnlessFed(IndexOpGraph g, string node)
    {
        if (!g.IsFed)
            Assert.True(g.Folded(node), $"{node} should have been folded from its constant inputs");
    }

    private static NodeDef GatherV2(IndexOpGraph g, string name, DataType t, int batchDims = 0, DataType? indexType = null)
    {
        var node = g.Op(name, "GatherV2", t, "p", "i", "axis");
        node.Attr["Tparams"] = TfGraphBuilder.Type(t);
        node.Attr["Tindices"] = TfGraphBuilder.Type(indexType ?? I32);
        node.Attr["Taxis"] = TfGraphBuilder.Type(I32);
        node.Attr["batch_dims"] = new AttrValue { I = batchDims };
        return node;
    }

    // ---- GatherV2, Gather, GatherNd ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("GatherV2")]
    public void GatherV2_along_first_and_negative_axes(bool fed)
    {
        var rows = new IndexOpGraph(fed);
        rows.Input("p", M, 3, 4);
        rows.Input("i", new[] { 2, 0 }, 2);
        rows.Const("axis", new[] { 0 });
        GatherV2(rows, "g", I32);
        rows.Check("g", [2, 4], new[] { 20, 21, 22, 23, 0, 1, 2, 3 });
        AssertFoldedUnlessFed(rows, "g");

        // axis -1 with 2-D int64 indices: out[r, i, j] = m[r, idx[i, j]]
        var cols = new IndexOpGraph(fed);
        cols.Input("p", M, 3, 4);
        long[] idx = [3, 1, 0, 0];
        cols.Input("i", idx, 2, 2);
        cols.Const("axis", new[] { -1 });
        GatherV2(cols, "g", I32, indexType: DataType.DtInt64);
        var expected = new int[12];
        for (var r = 0; r < 3; r++)
            for (var k = 0; k < 4; k++)
                expected[r * 4 + k] = M[r * 4 + idx[k]];
        cols.Check("g", [3, 2, 2], expected);

        // A scalar index drops the axis.
        var scalar = new IndexOpGraph(fed);
        scalar.Input("p", M.Select(v => (float)v).ToArray(), 3, 4);
        scalar.Input("i", new[] { 1 });
        scalar.Const("axis", new[] { 1 });
        GatherV2(scalar, "g", F32);
        scalar.Check("g", [3], new[] { 1f, 11f, 21f });
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, -1)]
    [InlineData(true, -1)]
    public void GatherV2_with_batch_dims_gathers_per_batch(bool fed, int batchDims)
    {
        // batch_dims 1 (or -1 = rank(indices) - 1), axis 1: out[b, i] = p[b, idx[b, i]]
        var g = new IndexOpGraph(fed);
        g.Input("p", new[] { 0, 1, 2, 10, 11, 12 }, 2, 3);
        g.Input("i", new[] { 2, 0, 1, 1 }, 2, 2);
        g.Const("axis", new[] { 1 });
        GatherV2(g, "g", I32, batchDims);
        g.Check("g", [2, 2], new[] { 2, 0, 11, 11 });
        AssertFoldedUnlessFed(g, "g");

        // axis 2 past the batch axis: out[b, a, i] = p[b, a, idx[b, i]] with p[b, a, c] = 100 b + 10 a + c
        var deep = new IndexOpGraph(fed);
        var p = new float[2 * 3 * 4];
        for (var b = 0; b < 2; b++)
            for (var a = 0; a < 3; a++)
                for (var c = 0; c < 4; c++)
                    p[(b * 3 + a) * 4 + c] = 100 * b + 10 * a + c;
        int[] idx = [3, 0, 1, 2];
        deep.Input("p", p, 2, 3, 4);
        deep.Input("i", idx, 2, 2);
        deep.Const("axis", new[] { -1 });
        GatherV2(deep, "g", F32, batchDims);
        var expected = new float[2 * 3 * 2];
        for (var b = 0; b < 2; b++)
            for (var a = 0; a < 3; a++)
                for (var i = 0; i < 2; i++)
                    expected[(b * 3 + a) * 2 + i] = p[(b * 3 + a) * 4 + idx[b * 2 + i]];
        deep.Check("g", [2, 3, 2], expected);
    }

    /// <summary>
    /// TensorFlow's CPU kernel rejects negative indices; TfPose documents that it counts them from the end (ONNX's
    /// rule), identically when folding and when running.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GatherV2_counts_a_negative_index_from_the_end(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("p", new[] { 5, 6, 7 }, 3);
        g.Input("i", new[] { -1, 0 }, 2);
        g.Const("axis", new[] { 0 });
        GatherV2(g, "g", I32);
        g.Check("g", [2], new[] { 7, 5 });
    }

    [Fact]
    public void GatherV2_of_a_shape_folds_while_other_dims_stay_dynamic()
    {
        var g = new IndexOpGraph(true);
        g.Fed("x", new float[24], [2, 3, 4], [2, 3, 4]);
        g.Op("shape", "Shape", F32, "x");
        g.Const("i", new[] { 2, 0 }, 2);
        g.Const("axis", new[] { 0 });
        g.Op("g", "GatherV2", I32, "shape", "i", "axis");
        Assert.True(g.Folded("g"));
        g.Check("g", [2], new[] { 4, 2 });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Gather")]
    public void Gather_v1_picks_rows(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("p", new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 3, 2);
        g.Input("i", new[] { 1, 1, 0 }, 3);
        g.Op("g", "Gather", F32, "p", "i");
        g.Check("g", [3, 2], new[] { 3f, 4f, 3f, 4f, 1f, 2f });
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("GatherNd")]
    public void GatherNd_full_and_partial_indices(bool fed)
    {
        // Full index pairs pick elements: m[1, 2] = 12, m[2, 0] = 20.
        var full = new IndexOpGraph(fed);
        full.Input("p", M, 3, 4);
        full.Input("i", new[] { 1, 2, 2, 0 }, 2, 2);
        full.Op("g", "GatherNd", I32, "p", "i");
        full.Check("g", [2], new[] { 12, 20 });
        AssertFoldedUnlessFed(full, "g");

        // One index per entry picks whole rows; the indices' leading shape [2, 1] is kept.
        var rows = new IndexOpGraph(fed);
        rows.Input("p", M, 3, 4);
        rows.Input("i", new long[] { 2, 0 }, 2, 1, 1);
        rows.Op("g", "GatherNd", I32, "p", "i");
        rows.Check("g", [2, 1, 4], new[] { 20, 21, 22, 23, 0, 1, 2, 3 });

        // 3-D float params, pairs of indices pick rows of the last axis: p[a, b, :] with p = 0..11 as [2, 3, 2].
        var deep = new IndexOpGraph(fed);
        deep.Input("p", Enumerable.Range(0, 12).Select(v => (float)v).ToArray(), 2, 3, 2);
        deep.Input("i", new[] { 1, 2, 0, 1 }, 2, 2);
        deep.Op("g", "GatherNd", F32, "p", "i");
        // p[1, 2, :] = [10, 11], p[0, 1, :] = [2, 3]
        deep.Check("g", [2, 2], new[] { 10f, 11f, 2f, 3f });
    }

    // ---- ArgMax, ArgMin, TopKV2 ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("ArgMax", "ArgMin")]
    public void ArgMax_and_argmin_pick_the_first_of_ties(bool fed)
    {
        void Case(string op, int[] x, int axis, DataType? outputType, long[] shape, long[] expected)
        {
            var g = new IndexOpGraph(fed);
            g.Input("x", x, 2, 3);
            g.Const("axis", new[] { axis });
            var node = g.Op("a", op, I32, "x", "axis");
            if (outputType is { } type)
                node.Attr["output_type"] = TfGraphBuilder.Type(type);
            var r = g.Run("a");
            Assert.Equal(shape, r.Shape());
            if (outputType == I32)
                Assert.Equal(expected.Select(v => (int)v).ToArray(), r.Values<int>());
            else
                Assert.Equal(expected, r.Values<long>());
            AssertFoldedUnlessFed(g, "a");
        }
        // [[1,3,3],[5,5,0]]
        Case("ArgMax", [1, 3, 3, 5, 5, 0], 1, null, [2], [1, 0]);
        Case("ArgMax", [1, 3, 3, 5, 5, 0], -1, I32, [2], [1, 0]);
        Case("ArgMax", [1, 3, 3, 5, 5, 0], 0, DataType.DtInt64, [3], [1, 1, 0]);
        // [[2,1,1],[0,4,0]]
        Case("ArgMin", [2, 1, 1, 0, 4, 0], 1, null, [2], [1, 0]);
        Case("ArgMin", [2, 1, 1, 0, 4, 0], -2, I32, [3], [1, 0, 1]);

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 0.5f, -2f, 0.5f, 7f, 7f, -7f }, 3, 2);
        f.Const("axis", new[] { 0 });
        f.Op("max", "ArgMax", F32, "x", "axis");
        f.Op("min", "ArgMin", F32, "x", "axis");
        // columns [0.5, 0.5, 7] and [-2, 7, -7]
        var rf = f.Run("max", "min");
        Assert.Equal(new[] { 2L, 1L }, rf.Values<long>(0));
        Assert.Equal(new[] { 0L, 2L }, rf.Values<long>(1));
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [OpTest("TopKV2")]
    public void TopKV2_orders_ties_by_lower_index(bool fed, bool sorted)
    {
        var g = new IndexOpGraph(fed);
        g.Input("x", new[] { 1f, 3f, 2f, 3f, 4f, 4f, 4f, 0f }, 2, 4);
        // k is fed too in the fed run.
        g.Input("k", new[] { 2 });
        g.Op("t", "TopKV2", F32, "x", "k").Attr["sorted"] = new AttrValue { B = sorted };
        var r = g.Run("t:0", "t:1");
        // rows [1,3,2,3] and [4,4,4,0]: the two 3s at 1 and 3; the first two 4s at 0 and 1
        Assert.Equal([2L, 2], r.Shape(0));
        Assert.Equal(new[] { 3f, 3f, 4f, 4f }, r.Values<float>(0));
        Assert.Equal(new[] { 1, 3, 0, 1 }, r.Values<int>(1));

        var i = new IndexOpGraph(fed);
        i.Input("x", new[] { 5, -1, 9, 5 }, 4);
        i.Input("k", new[] { 3 });
        var node = i.Op("t", "TopKV2", I32, "x", "k");
        node.Attr["index_type"] = TfGraphBuilder.Type(DataType.DtInt64);
        var ri = i.Run("t:0", "t:1");
        Assert.Equal(new[] { 9, 5, 5 }, ri.Values<int>(0));
        Assert.Equal(new[] { 2L, 0L, 3L }, ri.Values<long>(1));
    }

    // ---- Where, Range ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Where")]
    public void Where_lists_coordinates_of_true_elements_in_row_major_order(bool fed)
    {
        var b = new IndexOpGraph(fed);
        b.Input("x", new[] { true, false, false, true, true, true }, 3, 2);
        b.B.Raw("w", "Where", "x").Attr["T"] = TfGraphBuilder.Type(DataType.DtBool);
        b.Check("w", [4, 2], new long[] { 0, 0, 1, 1, 2, 0, 2, 1 });
        AssertFoldedUnlessFed(b, "w");

        var f = new IndexOpGraph(fed);
        f.Input("x", new[] { 0f, 1.5f, 0f, -2f }, 4);
        f.Op("w", "Where", F32, "x");
        f.Check("w", [2, 1], new long[] { 1, 3 });

        var none = new IndexOpGraph(fed);
        none.Input("x", new int[8], 2, 2, 2);
        none.Op("w", "Where", I32, "x");
        none.Check("w", [0, 3], new long[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("Range")]
    public void Range_counts_ceil_of_span_over_delta(bool fed)
    {
        void Case<T>(T start, T limit, T delta, T[] expected) where T : unmanaged
        {
            var g = new IndexOpGraph(fed);
            // start and limit are fed in the fed run; delta stays a constant
            g.Input("start", new[] { start });
            g.Input("limit", new[] { limit });
            g.Const("delta", new[] { delta });
            g.Op("r", "Range", IndexOpGraph.TypeOf<T>(), "start", "limit", "delta").Attr["Tidx"] = TfGraphBuilder.Type(IndexOpGraph.TypeOf<T>());
            g.Check("r", [expected.Length], expected);
        }
        Case(0, 10, 3, [0, 3, 6, 9]);          // ceil(10/3) = 4
        Case(10, 1, -4, [10, 6, 2]);           // ceil(9/4) = 3
        Case(3, 3, 1, new int[0]);             // empty
        Case(-5L, 0L, 2L, [-5L, -3L, -1L]);    // int64
        Case(0.5f, 2f, 0.25f, [0.5f, 0.75f, 1f, 1.25f, 1.5f, 1.75f]);  // ceil(1.5/0.25) = 6
        Case(1f, -1f, -0.5f, [1f, 0.5f, 0f, -0.5f]);
        Case(0.0, 1.0, 0.5, [0.0, 0.5]);

        var folded = new IndexOpGraph(false);
        folded.Const("start", new[] { 2 });
        folded.Const("limit", new[] { 7 });
        folded.Const("delta", new[] { 2 });
        folded.Op("r", "Range", I32, "start", "limit", "delta").Attr["Tidx"] = TfGraphBuilder.Type(I32);
        Assert.True(folded.Folded("r"));
    }

    [Theory]
    [InlineData(0, 5, 0)]
    [InlineData(5, 0, 1)]
    [InlineData(0, 5, -1)]
    public void Range_that_tensorflow_rejects_is_rejected(int start, int limit, int delta)
    {
        var g = new IndexOpGraph(false);
        g.Const("start", new[] { start });
        g.Const("limit", new[] { limit });
        g.Const("delta", new[] { delta });
        g.Op("r", "Range", I32, "start", "limit", "delta").Attr["Tidx"] = TfGraphBuilder.Type(I32);
        Assert.Contains(ShapeInference.Infer(g.Build()).Problems, p => p.Node == "r");
    }

    // ---- OneHot, SparseToDense ----

    private static NodeDef OneHot(IndexOpGraph g, DataType t, long axis = -1)
    {
        var node = g.Op("h", "OneHot", t, "i", "depth", "on", "off");
        node.Attr["TI"] = TfGraphBuilder.Type(g.B.Graph.Node.First(n => n.Name == "i").Attr["dtype"].Type);
        node.Attr["axis"] = new AttrValue { I = axis };
        return node;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("OneHot")]
    public void OneHot_gives_all_off_rows_for_negative_and_too_large_indices(bool fed)
    {
        var g = new IndexOpGraph(fed);
        g.Input("i", new[] { 0, 2, -1, 3 }, 4);
        // depth is fed too in the fed run
        g.Input("depth", new[] { 3 });
        g.Const("on", new[] { 5 });
        g.Const("off", new[] { 0 });
        OneHot(g, I32);
        // -1 and 3 are outside [0, 3): all-off rows (ONNX OneHot would wrap -1 to the last column)
        g.Check("h", [4, 3], new[] { 5, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0 });

        var first = new IndexOpGraph(fed);
        first.Input("i", new long[] { 1, -3, 0 }, 3);
        first.Input("depth", new[] { 2 });
        first.Const("on", new[] { 1f });
        first.Const("off", new[] { -1f });
        OneHot(first, F32, axis: 0);
        // depth first: out[d, j] = idx[j] == d ? on : off
        first.Check("h", [2, 3], new[] { -1f, -1f, 1f, 1f, -1f, -1f });

        // 2-D indices, depth in the middle: out[i, d, j] = idx[i, j] == d ? on : off
        var mid = new IndexOpGraph(fed);
        int[] idx = [0, 2, 1, -1];
        mid.Input("i", idx, 2, 2);
        mid.Input("depth", new[] { 3 });
        mid.Const("on", new[] { 1f });
        mid.Const("off", new[] { 0f });
        OneHot(mid, F32, axis: 1);
        var expected = new float[2 * 3 * 2];
        for (var i = 0; i < 2; i++)
            for (var d = 0; d < 3; d++)
                for (var j = 0; j < 2; j++)
                    expected[(i * 3 + d) * 2 + j] = idx[i * 2 + j] == d ? 1f : 0f;
        mid.Check("h", [2, 3, 2], expected);
    }

    private static void SparseToDense(IndexOpGraph g, DataType t, DataType indexType)
    {
        var node = g.Op("d", "SparseToDense", t, "i", "shape", "values", "default");
        node.Attr["Tindices"] = TfGraphBuilder.Type(indexType);
        node.Attr["validate_indices"] = new AttrValue { B = true };
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    [OpTest("SparseToDense")]
    public void SparseToDense_from_scalar_vector_and_matrix_indices(bool fed)
    {
        var scalar = new IndexOpGraph(fed);
        scalar.Input("i", new[] { 2 });
        scalar.Input("shape", new[] { 5 }, 1);
        scalar.Input("values", new[] { 7 });
        scalar.Const("default", new[] { 0 });
        SparseToDense(scalar, I32, I32);
        scalar.Check("d", [5], new[] { 0, 0, 7, 0, 0 });

        var vector = new IndexOpGraph(fed);
        vector.Input("i", new long[] { 0, 3 }, 2);
        vector.Input("shape", new long[] { 5 }, 1);
        vector.Input("values", new[] { 1f, 2f }, 2);
        vector.Const("default", new[] { 0.5f });
        SparseToDense(vector, F32, DataType.DtInt64);
        vector.Check("d", [5], new[] { 1f, 0.5f, 0.5f, 2f, 0.5f });

        // [N, rank] indices with one value for all: dense[0, 1] = dense[2, 0] = 9
        var matrix = new IndexOpGraph(fed);
        matrix.Input("i", new[] { 0, 1, 2, 0 }, 2, 2);
        matrix.Input("shape", new[] { 3, 2 }, 2);
        matrix.Input("values", new[] { 9 });
        matrix.Const("default", new[] { -1 });
        SparseToDense(matrix, I32, I32);
        matrix.Check("d", [3, 2], new[] { -1, 9, -1, -1, 9, -1 });
    }

    // ---- Shape inference never fails on unknown inputs ----

    /// <summary>
    /// Every op of these families with every input of unknown rank (and unknown value): shape inference must leave
    /// the outputs unknown (or as far as the attributes fix them) without reporting a problem.
    /// </summary>
    [Fact]
    public void Shape_rules_accept_inputs_of_unknown_rank_and_value()
    {
        (string Op, int Inputs, Action<NodeDef>? Attrs)[] ops =
        [
            ("GatherV2", 3, n => n.Attr["batch_dims"] = new AttrValue { I = -1 }), ("Gather", 2, null), ("GatherNd", 2, null),
            ("ArgMax", 2, null), ("ArgMin", 2, null), ("TopKV2", 2, null), ("Where", 1, null), ("Range", 3, null),
            ("OneHot", 4, n => n.Attr["axis"] = new AttrValue { I = 1 }), ("SparseToDense", 4, null),
            ("ConcatV2", 3, null), ("Concat", 3, null), ("Pad", 2, null), ("PadV2", 3, null), ("MirrorPad", 2, null),
            ("Reshape", 2, null), ("Squeeze", 1, n => n.Attr["squeeze_dims"] = TfGraphBuilder.Ints(0)), ("Squeeze", 1, null),
            ("ExpandDims", 2, null), ("Transpose", 2, null), ("Shape", 1, null), ("ShapeN", 2, null), ("Size", 1, null),
            ("Rank", 1, null), ("StridedSlice", 4, n => n.Attr["shrink_axis_mask"] = new AttrValue { I = 1 }), ("Slice", 3, null),
            ("Pack", 2, n => n.Attr["axis"] = new AttrValue { I = -1 }), ("Unpack", 1, n => n.Attr["num"] = new AttrValue { I = 2 }),
            ("Split", 2, n => n.Attr["num_split"] = new AttrValue { I = 2 }), ("SplitV", 3, n => n.Attr["num_split"] = new AttrValue { I = 2 }),
            ("Fill", 2, null), ("ZerosLike", 1, null), ("OnesLike", 1, null), ("Tile", 2, null), ("BroadcastTo", 2, null),
            ("BroadcastArgs", 2, null), ("ReverseV2", 2, null), ("RandomUniform", 1, null),
            ("Mean", 2, null), ("Sum", 2, n => n.Attr["keep_dims"] = new AttrValue { B = true }), ("Max", 2, null), ("Min", 2, null),
            ("Prod", 2, null), ("All", 2, null), ("Any", 2, null),
        ];
        var b = new TfGraphBuilder();
        b.PlaceholderOf("f", F32, null);
        b.PlaceholderOf("n", I32, null);
        b.PlaceholderOf("v", I32, [-1]);
        var k = 0;
        foreach (var (op, inputs, attrs) in ops)
        {
            // Data inputs float of unknown rank; index-like inputs int32 of unknown rank or unknown length.
            var names = Enumerable.Range(0, inputs).Select(i => i == 0 && op is not ("Concat" or "Split" or "Fill" or "Range" or "RandomUniform" or "BroadcastArgs" or "SparseToDense") ? "f" : i % 2 == 0 ? "n" : "v").ToArray();
            var node = b.Op($"{op}_{k++}", op, names);
            attrs?.Invoke(node);
        }
        var graph = b.Build();
        var shapes = ShapeInference.Infer(graph);
        Assert.Empty(shapes.Problems);
        foreach (var node in graph.Nodes.Where(n => n.Op is "Fill" or "Reshape" or "Range" or "Tile" or "Slice" or "BroadcastTo"))
            Assert.True(shapes.Shape($"{node.Name}:0") is null or [-1], $"{node.Name}: {shapes.Shape($"{node.Name}:0")?.Length}");
    }
}
