using System.Runtime.InteropServices;
using TfPose.Graph;
using TfPose.Graph.Formats;
using TfPose.Tests;
using static TfPose.Runtime.Tests.TfliteOpTestKit;

namespace TfPose.Runtime.Tests;

/// <summary>
/// MediaPipe's TensorFlow Lite custom operators, each alone in a .tflite built here with its options encoded as
/// MediaPipe's kernels read them (C structs, flexbuffers), against values worked out by hand from the kernels in
/// mediapipe/util/tflite/operations.
/// </summary>
public class TfliteMediaPipeOpTests
{
    /// <summary>TfLitePoolParams / TfLiteTransposeConvParams: little-endian int32 fields (padding: 1 SAME, 2 VALID).</summary>
    private static byte[] Struct(params int[] fields) => MemoryMarshal.AsBytes(fields.AsSpan()).ToArray();

    private const int Same = 1, Valid = 2;

    // Flexbuffer maps as the flatbuffers npm package (23.5.26) encodes them: flexbuffers.encode({dimensions: 3, scale: 2.5})
    // and flexbuffers.encode({mode: 'bilinear', output_size: [4, 3]}).
    internal static readonly byte[] DimensionsAndScale =
        [100, 105, 109, 101, 110, 115, 105, 111, 110, 115, 0, 115, 99, 97, 108, 101, 0, 2, 18, 8, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 32, 64, 4, 14, 10, 38, 1];

    internal static readonly byte[] ModeAndOutputSize =
        [109, 111, 100, 101, 0, 8, 98, 105, 108, 105, 110, 101, 97, 114, 0, 111, 117, 116, 112, 117, 116, 95, 115, 105, 122, 101, 0, 4, 3, 2, 30, 16, 2, 1, 2, 29, 9, 20, 64, 4, 36, 1];

    [Fact]
    public void Truncated_flexbuffer_options_are_a_load_error_naming_the_operator()
    {
        // Every cut of the options either still reads (the map's root survives) or is one clear error: offsets are checked.
        for (var cut = 1; cut < DimensionsAndScale.Length; cut++)
        {
            var b = new TfliteModelBuilder();
            var input = b.Input("lm", [1, 1, 1, 3]);
            var m = b.Input("m", [1, 1, 4, 4]);
            var y = b.Tensor("y", F32, [1, 1, 1, 3]);
            b.Custom("TransformLandmarks", [input, m], [y], DimensionsAndScale[cut..], 1);
            b.Output(y);
            var error = Assert.Throws<GraphFormatException>(() => TfliteGraphModel.Parse(b.Build(), "cut.tflite"));
            Assert.Contains("operator 0 (TransformLandmarks)", error.Message);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Convolution2DTransposeBias_is_a_transposed_convolution_plus_bias(bool same)
    {
        // input 2×2×1, filter [1, 3, 3, 1] stride 2: VALID gives 2·1 + 3 = 5; SAME pads max(0, 3 − 1 mod 2 − 1) = 1
        // (0 before), giving 4: the kernel's scatter loop with the bias as the start value.
        float[] x = [1, 2, 3, 4];
        float[] f = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var size = same ? 4 : 5;
        var expected = Enumerable.Repeat(0.5, size * size).ToArray();
        for (var iy = 0; iy < 2; iy++)
        for (var ix = 0; ix < 2; ix++)
        for (var fy = 0; fy < 3; fy++)
        for (var fx = 0; fx < 3; fx++)
        {
            int oy = iy * 2 + fy, ox = ix * 2 + fx;
            if (oy < size && ox < size)
                expected[oy * size + ox] += x[iy * 2 + ix] * f[fy * 3 + fx];
        }
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 2, 2, 1]);
        var w = b.Floats("w", f, 1, 3, 3, 1);
        var bias = b.Floats("bias", [0.5f], 1);
        var y = b.Tensor("y", F32, [1, size, size, 1]);
        b.Custom("Convolution2DTransposeBias", [input, w, bias], [y], Struct(same ? Same : Valid, 2, 2));
        b.Output(y);
        var (values, shape) = Run<float>(b, "y", Feed("x", x, 1, 2, 2, 1));
        Assert.Equal([1L, size, size, 1], shape);
        Close(expected, values);
        // By hand, the corner cells: only x[0]·f[0] (+ bias) reaches (0, 0); (2, 2) gathers f[8]·1 + f[6]·2 + f[2]·3 + f[0]·4.
        Assert.Equal(1.5f, values[0]);
        Assert.Equal(0.5f + 9 + 14 + 9 + 4, values[2 * size + 2]);
    }

    [Fact]
    [OpTest("MaxPoolingWithArgmax2D")]
    public void MaxPoolingWithArgmax2D_gives_the_max_and_its_place_in_the_window()
    {
        // 4×4, two channels (the second the negation of the first), 2×2 windows, stride 2, fused RELU6.
        float[,] plane = { { 1, 5, 2, 0 }, { 3, 4, 9, 9 }, { 0, 0, 7, 1 }, { 8, 0, 1, 7 } };
        var x = new float[32];
        for (var r = 0; r < 4; r++)
        for (var c = 0; c < 4; c++)
            (x[(r * 4 + c) * 2], x[(r * 4 + c) * 2 + 1]) = (plane[r, c], -plane[r, c]);
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 4, 4, 2]);
        var y = b.Tensor("y", F32, [1, 2, 2, 2]);
        var argmax = b.Tensor("argmax", F32, [1, 2, 2, 2]);
        // TfLitePoolParams: VALID, stride 2×2, filter 2×2, activation RELU6 (3).
        b.Custom("MaxPoolingWithArgmax2D", [input], [y, argmax], Struct(Valid, 2, 2, 2, 2, 3));
        b.Output(y);
        b.Output(argmax);
        var results = RunAll(b, ["y", "argmax"], Feed("x", x, 1, 4, 4, 2));
        // Channel 0 maxima 5, 9, 8, 7 (RELU6: 5, 6, 6, 6) at window places (0,1), (1,0) (the first of the two 9s),
        // (1,0), (0,0) (the first 7); channel 1 maxima −1, 0, 0, −1 (RELU6: 0) at (0,0), (0,1), (0,0) (first 0), (0,1).
        Close([5, 0, 6, 0, 6, 0, 6, 0], (float[])results[0].Values);
        Close([1.1f, 0.1f, 2.1f, 1.1f, 2.1f, 0.1f, 0.1f, 1.1f], (float[])results[1].Values, 1e-6);
    }

    [Fact]
    [OpTest("MaxPoolingWithArgmax2D")]
    public void MaxPoolingWithArgmax2D_with_same_padding_cuts_the_window_at_the_edge()
    {
        // 3×3 (1..9), 2×2 windows, stride 2, SAME: 2×2 out, padding 1 after; the last window holds only 9.
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 3, 3, 1]);
        var y = b.Tensor("y", F32, [1, 2, 2, 1]);
        var argmax = b.Tensor("argmax", F32, [1, 2, 2, 1]);
        b.Custom("MaxPoolingWithArgmax2D", [input], [y, argmax], Struct(Same, 2, 2, 2, 2, 0));
        b.Output(y);
        b.Output(argmax);
        var results = RunAll(b, ["y", "argmax"], Feed("x", new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 }, 1, 3, 3, 1));
        Close([5, 6, 8, 9], (float[])results[0].Values);
        Close([3.1f, 2.1f, 1.1f, 0.1f], (float[])results[1].Values, 1e-6);
    }

    [Fact]
    [OpTest("MaxUnpooling2D")]
    public void MaxUnpooling2D_puts_each_value_back_where_its_index_says()
    {
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 2, 2, 1]);
        var indices = b.Input("argmax", [1, 2, 2, 1]);
        var y = b.Tensor("y", F32, [1, 4, 4, 1]);
        b.Custom("MaxUnpooling2D", [input, indices], [y], Struct(Same, 2, 2, 2, 2, 0));
        b.Output(y);
        var (values, shape) = Run<float>(b, "y", Feed("x", new float[] { 5, 9, 8, 7 }, 1, 2, 2, 1),
            Feed("argmax", new[] { 1.1f, 2.1f, 2.1f, 0.1f }, 1, 2, 2, 1));
        Assert.Equal([1L, 4, 4, 1], shape);
        // Window (0,0) place 1 → (0,1); (0,1) place 2 → (1,2); (1,0) place 2 → (3,0); (1,1) place 0 → (2,2).
        Close([0, 5, 0, 0, 0, 0, 9, 0, 0, 0, 7, 0, 8, 0, 0, 0], values);
    }

    /// <summary>v[r, c] = 10·r + c on a 3×4 image: bilinear sampling of a linear function is exact, so a point (x, y) reads 10·y + x.</summary>
    private static (float[] Values, long[] Shape) Sample(string op, float[] matrix, bool sizeFromOptions = false)
    {
        var image = new float[12];
        for (var r = 0; r < 3; r++)
        for (var c = 0; c < 4; c++)
            image[r * 4 + c] = 10 * r + c;
        var b = new TfliteModelBuilder();
        var input = b.Input("x", [1, 3, 4, 1]);
        var m = b.Input("m", [1, 1, 4, 4]);
        var y = sizeFromOptions ? b.Tensor("y", F32, [1, 1, 1, 1], signature: [1, -1, -1, 1]) : b.Tensor("y", F32, [1, 2, 6, 1]);
        b.Custom(op, [input, m], [y], op == "TransformTensor" ? ModeAndOutputSize : null, op == "TransformTensor" ? 1 : 2);
        b.Output(y);
        return Run<float>(b, "y", Feed("x", image, 1, 3, 4, 1), Feed("m", matrix, 1, 1, 4, 4));
    }

    [Fact]
    [OpTest("TransformTensorBilinear")]
    public void TransformTensor_version_1_samples_at_the_matrix_points_and_zeroes_outside()
    {
        // x = 0.75·column − 0.25, y = 0.5·row + 0.25 (the z column, 9, multiplies z = 0 and is ignored).
        float[] matrix = [0.75f, 0, 9, -0.25f, 0, 0.5f, 9, 0.25f, 0, 0, 1, 0, 0, 0, 0, 1];
        var (values, shape) = Sample("TransformTensor", matrix);
        Assert.Equal([1L, 2, 6, 1], shape);
        // Columns x = −0.25 (outside: 0, where a zero-padded sampler would blend 0.75·v), 0.5, 1.25, 2, 2.75, 3.5 (outside).
        double[] xs = [-0.25, 0.5, 1.25, 2, 2.75, 3.5];
        double[] ys = [0.25, 0.75];
        var expected = ys.SelectMany(y => xs.Select(x => x < 0 || x > 3 ? 0 : 10 * y + x)).ToArray();
        Close(expected, values, 1e-5);
    }

    [Fact]
    [OpTest("TransformTensorBilinear")]
    public void TransformTensor_output_size_comes_from_its_flexbuffer_options_when_the_tensor_does_not_say()
    {
        // Options {mode: 'bilinear', output_size: [4, 3]}: 4 rows, 3 columns, x = 0.75·c − 0.25, y = 0.5·r + 0.25.
        float[] matrix = [0.75f, 0, 0, -0.25f, 0, 0.5f, 0, 0.25f, 0, 0, 1, 0, 0, 0, 0, 1];
        var (values, shape) = Sample("TransformTensor", matrix, sizeFromOptions: true);
        Assert.Equal([1L, 4, 3, 1], shape);
        double[] xs = [-0.25, 0.5, 1.25];
        double[] ys = [0.25, 0.75, 1.25, 1.75];
        Close(ys.SelectMany(y => xs.Select(x => x < 0 ? 0 : 10 * y + x)).ToArray(), values, 1e-5);
    }

    [Fact]
    [OpTest("TransformTensorBilinear")]
    public void TransformTensorBilinear_version_2_samples_at_pixel_centres()
    {
        // The same kind of matrix, x = 0.5·c + 1.25, y = 0.5·r + 0.25, applied at (c + ½, r + ½) then less ½:
        // x = 0.5·c + 1, y = 0.5·r; x = 3 is the last column, still inside, 3.5 is outside.
        float[] matrix = [0.5f, 0, 0, 1.25f, 0, 0.5f, 0, 0.25f, 0, 0, 1, 0, 0, 0, 0, 1];
        var (values, _) = Sample("TransformTensorBilinear", matrix);
        double[] xs = [1, 1.5, 2, 2.5, 3, 3.5];
        double[] ys = [0, 0.5];
        Close(ys.SelectMany(y => xs.Select(x => x > 3 ? 0 : 10 * y + x)).ToArray(), values, 1e-5);
    }

    [Fact]
    [OpTest("TransformLandmarks")]
    public void TransformLandmarks_version_1_moves_xy_by_the_matrix_with_the_scaled_shift()
    {
        // Options {dimensions: 3, scale: 2.5}; matrix rows (2, 0.5, 9, 1) and (−1, 3, 9, 2): z multiplies 0 in the
        // kernel's (x, y, 0, 1), so the 9s are ignored; the shift column is scaled by 2.5.
        float[] matrix = [2, 0.5f, 9, 1, -1, 3, 9, 2, 0, 0, 1, 0, 0, 0, 0, 1];
        var b = new TfliteModelBuilder();
        var input = b.Input("lm", [1, 1, 2, 6]);
        var m = b.Input("m", [1, 1, 4, 4]);
        var y = b.Tensor("y", F32, [1, 1, 2, 6]);
        b.Custom("TransformLandmarks", [input, m], [y], DimensionsAndScale, 1);
        b.Output(y);
        var (values, shape) = Run<float>(b, "y", Feed("lm", new float[] { 1, 2, 7, -3, 0.5f, -1, 0, 0, 0, 1, 1, 1 }, 1, 1, 2, 6), Feed("m", matrix, 1, 1, 4, 4));
        Assert.Equal([1L, 1, 2, 6], shape);
        // (1, 2, 7): x' = 2 + 1 + 2.5 = 5.5, y' = −1 + 6 + 5 = 10. (−3, 0.5, −1): −6 + 0.25 + 2.5 = −3.25, 3 + 1.5 + 5 = 9.5.
        // (0, 0, 0): 2.5, 5. (1, 1, 1): 2 + 0.5 + 2.5 = 5, −1 + 3 + 5 = 7.
        Close([5.5f, 10, 7, -3.25f, 9.5f, -1, 2.5f, 5, 0, 5, 7, 1], values);
    }

    [Fact]
    [OpTest("TransformLandmarks")]
    public void TransformLandmarks_version_2_takes_the_landmark_size_from_the_output_and_no_scale()
    {
        float[] matrix = [2, 0.5f, 9, 1, -1, 3, 9, 2, 0, 0, 1, 0, 0, 0, 0, 1];
        var b = new TfliteModelBuilder();
        var input = b.Input("lm", [1, 2, 2]);
        var m = b.Input("m", [1, 1, 4, 4]);
        var y = b.Tensor("y", F32, [1, 2, 2]);
        b.Custom("TransformLandmarks", [input, m], [y], null, 2);
        b.Output(y);
        var (values, _) = Run<float>(b, "y", Feed("lm", new float[] { 1, 2, -3, 0.5f }, 1, 2, 2), Feed("m", matrix, 1, 1, 4, 4));
        // (1, 2): 2 + 1 + 1 = 4, −1 + 6 + 2 = 7. (−3, 0.5): −6 + 0.25 + 1 = −4.75, 3 + 1.5 + 2 = 6.5.
        Close([4, 7, -4.75f, 6.5f], values);
    }

    [Fact]
    public void Custom_operators_with_short_options_are_reported_by_index_with_every_other_problem()
    {
        var b = new TfliteModelBuilder();
        var x = b.Input("x", [1, 4, 4, 1]);
        var y = b.Tensor("y", F32, [1, 2, 2, 1]);
        var argmax = b.Tensor("argmax", F32, [1, 2, 2, 1]);
        b.Custom("MaxPoolingWithArgmax2D", [x], [y, argmax], Struct(Valid, 2));
        var z = b.Tensor("z", F32, [1, 4, 4, 1]);
        b.Custom("MaxUnpooling2D", [y, argmax], [z], Struct(Valid, 2, 2, 2, 2, 0));
        var t = b.Tensor("t", F32, [1, 4, 4, 1]);
        b.Custom("TransformLandmarks", [x, x], [t], [1, 2, 3], 1);
        b.Output(z);
        b.Output(t);
        var error = Assert.Throws<GraphFormatException>(() => TfliteGraphModel.Parse(b.Build(), "mp.tflite"));
        Assert.Contains("mp.tflite", error.Message);
        Assert.Contains("2 problems", error.Message);
        Assert.Contains("operator 0 (MaxPoolingWithArgmax2D): its custom options hold 8 bytes, fewer than the 20 of TfLitePoolParams", error.Message);
        Assert.Contains("operator 2 (TransformLandmarks): the custom options flexbuffer is unreadable", error.Message);
    }

    // flexbuffers.encode({subset_idxs: [0, 3], left_rotation_idx: 1, right_rotation_idx: 2, target_rotation_radians: 0,
    // output_height: 2, output_width: 4, scale_x: 1.5, scale_y: 1}) by the flatbuffers npm package (subset_idxs as a
    // fixed-size typed vector of two int8s).
    private static readonly byte[] TransformMatrixOptions =
    [
        108, 101, 102, 116, 95, 114, 111, 116, 97, 116, 105, 111, 110, 95, 105, 100, 120, 0, 111, 117, 116, 112, 117, 116, 95, 104, 101, 105, 103,
        104, 116, 0, 111, 117, 116, 112, 117, 116, 95, 119, 105, 100, 116, 104, 0, 114, 105, 103, 104, 116, 95, 114, 111, 116, 97, 116, 105, 111,
        110, 95, 105, 100, 120, 0, 115, 99, 97, 108, 101, 95, 120, 0, 115, 99, 97, 108, 101, 95, 121, 0, 115, 117, 98, 115, 101, 116, 95, 105,
        100, 120, 115, 0, 0, 3, 116, 97, 114, 103, 101, 116, 95, 114, 111, 116, 97, 116, 105, 111, 110, 95, 114, 97, 100, 105, 97, 110, 115, 0,
        8, 119, 102, 89, 77, 59, 52, 45, 32, 0, 9, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 0, 0, 192,
        63, 1, 0, 0, 0, 72, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 14, 4, 64, 4, 40, 38, 1,
    ];

    [Fact]
    public void Landmarks2TransformMatrix_version_2_builds_the_crop_matrix_from_rotation_and_subset_box()
    {
        // Landmarks 0 (1, 1), left 1 (0, 0), right 2 (0, 2), 3 (3, 5). Rotation r = 0 − atan2(2, 0) = −π/2: a = cos r = 0,
        // b = sin r = −1. The subset {0, 3} rotated by r: (a·x − b·y, b·x + a·y) = (1, −1) and (5, −3): box 4 × 2, centre
        // (3, −2), rotated back (a·3 + b·(−2), −b·3 + a·(−2)) = (2, 3). sx = 1.5·4/4 = 1.5, sy = 1·2/2 = 1. Rows:
        // (a·sx, b·sy, 0, 2 − 0·2 − (−1)·1) = (0, −1, 0, 3); (−b·sx, a·sy, 0, 3 − 1.5·2 − 0) = (1.5, 0, 0, 0).
        var b = new TfliteModelBuilder();
        var input = b.Input("lm", [1, 4, 3]);
        var m = b.Tensor("m", F32, [1, 4, 4]);
        b.Custom("Landmarks2TransformMatrix", [input], [m], TransformMatrixOptions, 2);
        b.Output(m);
        var (values, shape) = Run<float>(b, "m", Feed("lm", new float[] { 1, 1, 0, 0, 0, 0, 0, 2, 0, 3, 5, 9 }, 1, 4, 3));
        Assert.Equal([1L, 4, 4], shape);
        Close([0, -1, 0, 3, 1.5f, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], values, 1e-5);
    }

    // flexbuffers.encode({input_hw: [5, 9], output_hw: [3, 5], dimensions: 3, landmarks_range: 10,
    // bbox_size_multiplier: 2, left_rotation_idx: 0, right_rotation_idx: 1, subset: [2, 3, 4, 4, 3]}) by the flatbuffers
    // npm package: the hw pairs as fixed-size typed vectors, the subset as a typed vector of int8s.
    private static readonly byte[] TransformMatrixV1Options =
    [
        98, 98, 111, 120, 95, 115, 105, 122, 101, 95, 109, 117, 108, 116, 105, 112, 108, 105, 101, 114, 0, 100, 105, 109, 101, 110, 115, 105,
        111, 110, 115, 0, 105, 110, 112, 117, 116, 95, 104, 119, 0, 5, 9, 108, 97, 110, 100, 109, 97, 114, 107, 115, 95, 114, 97, 110, 103, 101,
        0, 108, 101, 102, 116, 95, 114, 111, 116, 97, 116, 105, 111, 110, 95, 105, 100, 120, 0, 111, 117, 116, 112, 117, 116, 95, 104, 119, 0, 3,
        5, 114, 105, 103, 104, 116, 95, 114, 111, 116, 97, 116, 105, 111, 110, 95, 105, 100, 120, 0, 115, 117, 98, 115, 101, 116, 0, 5, 2, 3, 4,
        4, 3, 8, 122, 102, 92, 82, 67, 50, 39, 21, 8, 1, 8, 2, 3, 94, 10, 0, 51, 1, 24, 4, 4, 64, 4, 4, 64, 4, 44, 16, 36, 1,
    ];

    // The same with output_hw: [0, 5], dimensions: 2, subset: [2, 3, 4, 4, 5].
    private static readonly byte[] BadTransformMatrixV1Options =
    [
        98, 98, 111, 120, 95, 115, 105, 122, 101, 95, 109, 117, 108, 116, 105, 112, 108, 105, 101, 114, 0, 100, 105, 109, 101, 110, 115, 105,
        111, 110, 115, 0, 105, 110, 112, 117, 116, 95, 104, 119, 0, 5, 9, 108, 97, 110, 100, 109, 97, 114, 107, 115, 95, 114, 97, 110, 103, 101,
        0, 108, 101, 102, 116, 95, 114, 111, 116, 97, 116, 105, 111, 110, 95, 105, 100, 120, 0, 111, 117, 116, 112, 117, 116, 95, 104, 119, 0, 0,
        5, 114, 105, 103, 104, 116, 95, 114, 111, 116, 97, 116, 105, 111, 110, 95, 105, 100, 120, 0, 115, 117, 98, 115, 101, 116, 0, 5, 2, 3, 4,
        4, 5, 8, 122, 102, 92, 82, 67, 50, 39, 21, 8, 1, 8, 2, 2, 94, 10, 0, 51, 1, 24, 4, 4, 64, 4, 4, 64, 4, 44, 16, 36, 1,
    ];

    // Landmarks (x, y, z): 0 left (4, 0), 1 right (0, 3), 2 (3, 4), 3 (17, 6), 4 (3.2, −2.4).
    private static readonly float[] V1Landmarks = [4, 0, 1, 0, 3, 1, 3, 4, 0, 17, 6, 0, 3.2f, -2.4f, 0];

    [Fact]
    public void Landmarks2TransformMatrix_version_1_builds_the_kernels_matrix_chain_with_atan_of_the_slope()
    {
        // Right − left = (−4, 3): α = −atan(3 / −4) = atan(0.75), a = cos α = 0.8, b = sin α = 0.6 (atan2 would turn α by
        // π, flipping a and b and every rotation entry below). The subset {2, 3, 4} (the odd last index pairs with
        // itself) rotated by α, (a·x − b·y, b·x + a·y): (0, 5), (10, 15), (4, 0); the box x 0..10, y 0..15 (landmark 1,
        // rotated to (−1.8, 2.4), is outside the subset and would widen it). Size × 2 / range 10: scale (2, 3). Middle
        // (5, 7.5), rotated by −α: (a·5 + b·7.5, −b·5 + a·7.5) = (8.5, 3), shift (2·8.5/10 − 1, 2·3/10 − 1) = (0.7, −0.4).
        // rotation · scale = ((1.6, 1.8, 0.7), (−1.2, 2.4, −0.4)); · to_relative (2/(5 − 1), 2/(3 − 1), −1, −1):
        // ((0.8, 1.8, −1.6 − 1.8 + 0.7), (−0.6, 2.4, 1.2 − 2.4 − 0.4)) = ((0.8, 1.8, −2.7), (−0.6, 2.4, −1.6));
        // to_absolute · that, ((9 − 1)/2 = 4, (5 − 1)/2 = 2, shifts 4 and 2): ((3.2, 7.2, −6.8), (−1.2, 4.8, −1.2)).
        var b = new TfliteModelBuilder();
        var input = b.Input("lm", [1, 1, 1, 15]);
        var m = b.Tensor("m", F32, [1, 4, 4]);
        b.Custom("Landmarks2TransformMatrix", [input], [m], TransformMatrixV1Options, 1);
        b.Output(m);
        var (values, shape) = Run<float>(b, "m", Feed("lm", V1Landmarks, 1, 1, 1, 15));
        Assert.Equal([1L, 4, 4], shape);
        Close([3.2f, 7.2f, 0, -6.8f, -1.2f, 4.8f, 0, -1.2f, 0, 0, 1, 0, 0, 0, 0, 1], values, 1e-5);
    }

    [Fact]
    public void Landmarks2TransformMatrix_version_1_takes_a_vertical_pair_through_the_infinite_slope()
    {
        // Left (1, 2), right (1, 0): −2 / +0 = −∞, atan −π/2, α = π/2, a = 0, b = 1 (the kernel divides unguarded). The
        // subset {2, 3, 4}, (0, 0), (10, −5), (4, 2), rotated to (−y, x): (0, 0), (5, 10), (−2, 4); box x −2..5, y 0..10,
        // scale (7·2/10, 10·2/10) = (1.4, 2). Middle (1.5, 5) rotated by −α: (b·5, −b·1.5) = (5, −1.5), shift (0, −1.3).
        // rotation · scale = ((0, 2, 0), (−1.4, 0, −1.3)); · to_relative: ((0, 2, −2), (−0.7, 0, 1.4 − 1.3));
        // to_absolute: ((0, 8, −8 + 4), (−1.4, 0, 0.2 + 2)).
        var b = new TfliteModelBuilder();
        var input = b.Input("lm", [1, 1, 1, 15]);
        var m = b.Tensor("m", F32, [1, 4, 4]);
        b.Custom("Landmarks2TransformMatrix", [input], [m], TransformMatrixV1Options, 1);
        b.Output(m);
        var (values, _) = Run<float>(b, "m", Feed("lm", new float[] { 1, 2, 0, 1, 0, 0, 0, 0, 0, 10, -5, 0, 4, 2, 0 }, 1, 1, 1, 15));
        Close([0, 8, 0, -4, -1.4f, 0, 0, 2.2f, 0, 0, 1, 0, 0, 0, 0, 1], values, 1e-5);
    }

    [Fact]
    public void Landmarks2TransformMatrix_version_1_options_the_kernel_refuses_are_one_load_error()
    {
        var b = new TfliteModelBuilder();
        var input = b.Input("lm", [1, 1, 1, 15]);
        var m = b.Tensor("m", F32, [1, 4, 4]);
        b.Custom("Landmarks2TransformMatrix", [input], [m], BadTransformMatrixV1Options, 1);
        b.Output(m);
        var error = Assert.Throws<GraphFormatException>(() => TfliteGraphModel.Parse(b.Build(), "v1.tflite"));
        Assert.Contains("v1.tflite", error.Message);
        Assert.Contains("operator 0 (Landmarks2TransformMatrix)", error.Message);
        Assert.Contains("output_hw is not two positive sizes", error.Message);
        Assert.Contains("dimensions is 2, not 3", error.Message);
        Assert.Contains("indices are outside the 5 landmarks", error.Message);
    }
}
