using NumSharp;
using OpenCvSharp;

namespace TfPose.Runtime.Tests;

public class InteropTests
{
    [Fact]
    public void Mat_is_wrapped_without_copying_and_converts_back()
    {
        using var mat = new Mat(2, 3, MatType.CV_32FC3);
        for (var i = 0; i < 2; i++)
        for (var j = 0; j < 3; j++)
            mat.Set(i, j, new Vec3f(i, j, i * 10 + j));
        using var tensor = GraphTensor.FromMat(mat);
        Assert.Equal([1L, 2, 3, 3], tensor.Shape);
        Assert.Equal(12f, tensor.AsSpan<float>()[(1 * 3 + 2) * 3 + 2]);
        mat.Set(0, 0, new Vec3f(7, 8, 9)); // shared memory: the tensor sees the change
        Assert.Equal(9f, tensor.AsSpan<float>()[2]);
        using var back = tensor.ToMat();
        Assert.Equal(new Vec3f(1, 2, 12), back.Get<Vec3f>(1, 2));
    }

    [Fact]
    public void Eight_bit_and_non_continuous_mats_are_refused_with_advice()
    {
        using var bytes = new Mat(2, 2, MatType.CV_8UC3);
        Assert.Contains("ConvertTo", Assert.Throws<ArgumentException>(() => GraphTensor.FromMat(bytes)).Message);
        using var big = new Mat(4, 4, MatType.CV_32FC3);
        using var roi = new Mat(big, new Rect(1, 1, 2, 2));
        Assert.Contains("Clone", Assert.Throws<ArgumentException>(() => GraphTensor.FromMat(roi)).Message);
    }

    [Fact]
    public void NDArray_round_trip_keeps_shape_and_values()
    {
        var array = np.arange(24).astype(np.float32).reshape(2, 3, 4);
        using var tensor = GraphTensor.FromNDArray(array);
        Assert.Equal([2L, 3, 4], tensor.Shape);
        Assert.Equal(23f, tensor.AsSpan<float>()[23]);
        var back = tensor.ToNDArray();
        Assert.Equal([2, 3, 4], back.shape.ToArray());
        Assert.Equal(17f, back.GetSingle(1, 1, 1));
    }

    [Fact]
    public void Array_shape_must_match_its_length()
    {
        Assert.Contains("holds 6 elements", Assert.Throws<ArgumentException>(() => GraphTensor.FromArray(new float[5], 2, 3)).Message);
    }
}

public class PreallocatedOutputTests
{
    [Fact]
    public void Run_writes_into_caller_owned_outputs_identical_to_a_normal_run()
    {
        using var session = new GraphSession(TfPose.Tests.SharedData.Model("hourglass-mobile", "model.pb"));
        var rng = new Random(4);
        var x = Enumerable.Range(0, 192 * 192 * 3).Select(_ => (float)rng.NextDouble()).ToArray();
        using var input = GraphTensor.FromArray(x, 1, 192, 192, 3);
        var feeds = new Dictionary<string, GraphTensor> { ["image"] = input };
        using var normal = session.Run(feeds, ["hourglass_out_3"]);
        var buffer = new float[48 * 48 * 14];
        using var output = GraphTensor.FromArray(buffer, 1, 48, 48, 14);
        session.Run(feeds, ["hourglass_out_3"], [output]);
        Assert.Equal(normal[0].ToArray<float>(), buffer);
        using var wrong = GraphTensor.FromArray(new float[10], 1, 10);
        Assert.Throws<InvalidOperationException>(() => session.Run(feeds, ["hourglass_out_3"], [wrong]));
    }
}
