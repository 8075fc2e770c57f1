using OpenCvSharp;
using TfPose.Graph;
using TfPose.Runtime;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

/// <summary>
/// The network repeats runs bound to its inputs' memory: each run must still read what the input holds now, from
/// whichever Mat it is given, and give what a plain session run gives on the same input.
/// </summary>
public class GraphPoseNetworkTests
{
    private static Mat Noise(int size, int seed)
    {
        var rng = new Random(seed);
        var data = new float[size * size * 3];
        for (var i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
        return Mat.FromPixelData(size, size, MatType.CV_32FC3, data).Clone();
    }

    [Fact]
    public void Bound_runs_follow_the_input_contents_memory_and_size()
    {
        // OpenPose's graph takes any input size; small ones keep the test quick.
        var path = SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb");
        var graph = TfGraph.Load(path);
        var model = PoseModelDescription.Load(graph, path);
        using var network = new GraphPoseNetwork(graph, path, model);
        using var session = new GraphSession(path);
        float[] Reference(Mat input)
        {
            using var tensor = GraphTensor.FromMat(input);
            using var results = session.Run(new Dictionary<string, GraphTensor> { [model.InputName] = tensor }, model.OutputNames);
            return results[0].ToArray<float>();
        }
        float[] Network(Mat input)
        {
            var output = new PoseOutput();
            network.Run(input, output);
            return output.Data.ToArray();
        }

        using var a = Noise(96, 1);
        using var b = Noise(96, 2);
        using var large = Noise(128, 3);
        var expectedA = Reference(a);
        var expectedB = Reference(b);
        Assert.NotEqual(expectedA, expectedB);

        Assert.Equal(expectedA, Network(a)); // first run: through the session, then bound
        Assert.Equal(expectedA, Network(a)); // bound
        Assert.Equal(expectedB, Network(b)); // same size, other memory: the bound run moves to it
        Assert.Equal(expectedA, Network(a));
        a.SetTo(new Scalar(0.25, 0.5, 0.75)); // same memory, new contents
        Assert.Equal(Reference(a), Network(a));
        var output = new PoseOutput();
        network.Run(large, output); // another size: a run of its own
        Assert.Equal((16, 16), (output.Height, output.Width));
        Assert.Equal(Reference(large), output.Data.ToArray());
        Assert.Equal(expectedB, Network(b));
    }

    [Fact]
    public void Inputs_it_cannot_run_are_refused_as_before()
    {
        var path = SharedData.Model("hourglass-mobile", "model.pb");
        var graph = TfGraph.Load(path);
        using var network = new GraphPoseNetwork(graph, path, PoseModelDescription.Load(graph, path));
        using var a = Noise(192, 1);
        network.Run(a, new PoseOutput());
        using var bytes = new Mat(192, 192, MatType.CV_8UC3, Scalar.All(1));
        Assert.Contains("ConvertTo", Assert.Throws<ArgumentException>(() => network.Run(bytes, new PoseOutput())).Message);
        using var wide = Noise(384, 4);
        using var roi = new Mat(wide, new Rect(0, 0, 192, 192)); // same size as a bound run, but not continuous
        Assert.Contains("Clone", Assert.Throws<ArgumentException>(() => network.Run(roi, new PoseOutput())).Message);
    }
}
