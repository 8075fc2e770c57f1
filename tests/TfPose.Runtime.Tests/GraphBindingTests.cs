using OpenCvSharp;
using TfPose.Tests;

namespace TfPose.Runtime.Tests;

/// <summary>A bound run repeats a run on the bound tensors' current contents, and costs nothing per run but the run itself.</summary>
public class GraphBindingTests
{
    /// <summary>y = x·w + b and z = x − b on [2,3], small enough to check by hand.</summary>
    private static GraphSession Affine()
    {
        var g = new TfGraphBuilder();
        g.Placeholder("x", 2, 3);
        g.Const("w", [2f], []);
        g.Const("b", [1f, -1f, 0.5f], 3);
        g.Op("xw", "Mul", "x", "w");
        g.Op("y", "AddV2", "xw", "b");
        g.Op("z", "Sub", "x", "b");
        return new GraphSession(g.Build());
    }

    [Fact]
    public void Each_run_reads_the_inputs_as_they_are_now_and_writes_every_bound_output()
    {
        using var session = Affine();
        var x = new float[6];
        var y = new float[6];
        var z = new float[6];
        using var input = GraphTensor.FromArray(x, 2, 3);
        using var ty = GraphTensor.FromArray(y, 2, 3);
        using var tz = GraphTensor.FromArray(z, 2, 3);
        using var run = session.Bind(new Dictionary<string, GraphTensor> { ["x:0"] = input }, ["y", "z:0"], [ty, tz]);
        float[] b = [1f, -1f, 0.5f];
        for (var frame = 0; frame < 3; frame++)
        {
            for (var i = 0; i < 6; i++) x[i] = frame * 10 + i;
            run.Run();
            for (var i = 0; i < 6; i++)
            {
                Assert.Equal(2 * x[i] + b[i % 3], y[i]);
                Assert.Equal(x[i] - b[i % 3], z[i]);
            }
        }
    }

    [Fact]
    public void An_input_moves_to_other_memory_of_the_same_shape_and_only_that()
    {
        using var session = Affine();
        float[] first = [1, 2, 3, 4, 5, 6], second = [-1, -2, -3, -4, -5, -6];
        var y = new float[6];
        using var a = GraphTensor.FromArray(first, 2, 3);
        using var b = GraphTensor.FromArray(second, 2, 3);
        using var output = GraphTensor.FromArray(y, 2, 3);
        using var run = session.Bind(new Dictionary<string, GraphTensor> { ["x"] = a }, ["y"], [output]);
        run.BindInput("x:0", b);
        run.Run();
        Assert.Equal([-1f, -5f, -5.5f, -7f, -11f, -11.5f], y);
        using var wrong = GraphTensor.FromArray(new float[3], 1, 3);
        Assert.Contains("was bound as float[2,3]", Assert.Throws<ArgumentException>(() => run.BindInput("x", wrong)).Message);
        Assert.Contains("'w' is not an input", Assert.Throws<ArgumentException>(() => run.BindInput("w", b)).Message);
    }

    [Fact]
    public void A_bound_run_allocates_nothing()
    {
        using var session = Affine();
        using var input = GraphTensor.FromArray(new float[6], 2, 3);
        using var output = GraphTensor.FromArray(new float[6], 2, 3);
        using var run = session.Bind(new Dictionary<string, GraphTensor> { ["x"] = input }, ["y"], [output]);
        for (var i = 0; i < 10; i++) run.Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) run.Run();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Binding_checks_names_and_shapes_once_with_the_sessions_errors()
    {
        using var session = Affine();
        using var input = GraphTensor.FromArray(new float[6], 2, 3);
        using var wrongShape = GraphTensor.FromArray(new float[4], 2, 2);
        using var output = GraphTensor.FromArray(new float[6], 2, 3);
        Assert.Contains("no input named 'q'", Assert.Throws<ArgumentException>(() =>
            session.Bind(new Dictionary<string, GraphTensor> { ["q"] = input }, ["y"], [output])).Message);
        Assert.Contains("expects shape [2,3]", Assert.Throws<ArgumentException>(() =>
            session.Bind(new Dictionary<string, GraphTensor> { ["x"] = wrongShape }, ["y"], [output])).Message);
        Assert.Contains("cannot fetch 'nope'", Assert.Throws<ArgumentException>(() =>
            session.Bind(new Dictionary<string, GraphTensor> { ["x"] = input }, ["nope"], [output])).Message);
        Assert.Contains("2 fetches but 1 output", Assert.Throws<ArgumentException>(() =>
            session.Bind(new Dictionary<string, GraphTensor> { ["x"] = input }, ["y", "z"], [output])).Message);
        // An output of the wrong shape only shows when the graph runs: ONNX Runtime checks it against the result.
        using var small = GraphTensor.FromArray(new float[3], 1, 3);
        using var run = session.Bind(new Dictionary<string, GraphTensor> { ["x"] = input }, ["y"], [small]);
        Assert.Contains("running the graph failed", Assert.Throws<InvalidOperationException>(run.Run).Message);
    }

    [Fact]
    public void A_binding_outliving_its_session_or_itself_says_so()
    {
        var session = Affine();
        using var input = GraphTensor.FromArray(new float[6], 2, 3);
        using var output = GraphTensor.FromArray(new float[6], 2, 3);
        var run = session.Bind(new Dictionary<string, GraphTensor> { ["x"] = input }, ["y"], [output]);
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(run.Run);
        run.Dispose();
        Assert.Throws<ObjectDisposedException>(run.Run);
    }

    [Fact]
    public void Bindings_on_one_session_run_from_several_threads_at_once()
    {
        using var session = Affine();
        var failures = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            var x = new float[6];
            var y = new float[6];
            using var input = GraphTensor.FromArray(x, 2, 3);
            using var output = GraphTensor.FromArray(y, 2, 3);
            using var run = session.Bind(new Dictionary<string, GraphTensor> { ["x"] = input }, ["y"], [output]);
            for (var i = 0; i < 200; i++)
            {
                for (var k = 0; k < 6; k++) x[k] = t * 1000 + i + k;
                run.Run();
                for (var k = 0; k < 6; k++)
                    if (y[k] != 2 * x[k] + (k % 3 == 0 ? 1f : k % 3 == 1 ? -1f : 0.5f))
                        Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }
}

/// <summary>MatBuffer's operations are OpenCV's, written into one Mat through views made once.</summary>
public class MatBufferTests
{
    private static Mat Noise(int rows, int cols, MatType type, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[rows * cols * type.Channels];
        rng.NextBytes(bytes);
        return Mat.FromPixelData(rows, cols, type, bytes).Clone();
    }

    [Fact]
    public void Operations_match_Cv2_and_stop_allocating_once_the_size_is_known()
    {
        using var src = Noise(37, 53, MatType.CV_8UC3, 1);
        using var buffer = new MatBuffer();
        using var floats = new MatBuffer();
        using var map = new MatBuffer();
        map.Mat.Create(2, 3, MatType.CV_64FC1);
        map.Mat.SetTo(Scalar.All(0));
        map.Mat.Set(0, 0, 1.5); map.Mat.Set(0, 2, 2.0); map.Mat.Set(1, 1, 0.75); map.Mat.Set(1, 2, -3.0);
        using var source = InputArray.Create(src);
        void All()
        {
            buffer.Resize(source, new Size(20, 16), InterpolationFlags.Cubic);
            floats.ConvertFrom(buffer.Mat, MatType.CV_32FC3, 1 / 127.5, -1);
            floats.CvtColor(ColorConversionCodes.BGR2RGB);
        }
        All();
        using var resized = src.Resize(new Size(20, 16), 0, 0, InterpolationFlags.Cubic);
        using var converted = new Mat();
        resized.ConvertTo(converted, MatType.CV_32FC3, 1 / 127.5, -1);
        using var rgb = converted.CvtColor(ColorConversionCodes.BGR2RGB);
        Assert.Equal(0, Cv2.Norm(resized, buffer.Mat, NormTypes.INF));
        Assert.Equal(0, Cv2.Norm(rgb, floats.Mat, NormTypes.INF));

        using var warped = new MatBuffer();
        warped.WarpAffine(source, map, new Size(24, 18), InterpolationFlags.Linear | InterpolationFlags.WarpInverseMap, BorderTypes.Constant, Scalar.Black);
        using var expected = new Mat();
        Cv2.WarpAffine(src, expected, map.Mat, new Size(24, 18), InterpolationFlags.Linear | InterpolationFlags.WarpInverseMap, BorderTypes.Constant, Scalar.Black);
        Assert.Equal(0, Cv2.Norm(expected, warped.Mat, NormTypes.INF));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++) All();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_region_buffer_writes_into_its_parent()
    {
        using var parent = new Mat(10, 12, MatType.CV_8UC3, Scalar.All(7));
        using var region = new MatBuffer(parent, new Rect(0, 0, 6, 5));
        using var src = Noise(9, 11, MatType.CV_8UC3, 2);
        using var source = InputArray.Create(src);
        region.Resize(source, new Size(6, 5), InterpolationFlags.Linear);
        using var expected = src.Resize(new Size(6, 5), 0, 0, InterpolationFlags.Linear);
        using var top = new Mat(parent, new Rect(0, 0, 6, 5));
        Assert.Equal(0, Cv2.Norm(expected, top, NormTypes.INF));
        Assert.Equal(new Vec3b(7, 7, 7), parent.Get<Vec3b>(9, 11)); // outside the region: untouched
    }

    [Fact]
    public void OpenCV_errors_surface_as_exceptions()
    {
        using var buffer = new MatBuffer();
        using var empty = new Mat();
        using var source = InputArray.Create(empty);
        Assert.ThrowsAny<OpenCVException>(() => buffer.Resize(source, new Size(4, 4), InterpolationFlags.Linear));
    }
}
