using OpenCvSharp;
using OpenCvSharp.Dnn;
using TfPose.Graph;
using TfPose.Tests;
using TfPose.Imaging;

namespace TfPose.Runtime.Tests;

/// <summary>Whole graphs from ../shared, checked against OpenCV DNN and against arithmetic done here.</summary>
public class GraphCrossCheckTests
{
    private static readonly string PoseGraph = SharedData.Model("openpose-mobilenet-v2-small", "graph_opt.pb");

    private static Mat PoseInput(string image)
    {
        using var bgr = ImageFile.Read(SharedData.Image(image));
        return ImageTensors.Prepare(bgr, new ImagePreprocessing(432, 368));
    }

    [Theory]
    [InlineData("p1.jpg")]
    [InlineData("p2.jpg")]
    [InlineData("p3.jpg")]
    public void Pose_graph_matches_opencv_dnn_on_the_folded_graph(string image)
    {
        var folded = Path.Combine(Path.GetTempPath(), $"folded-{Guid.NewGuid():N}.pb");
        try
        {
            ShapeFolder.Fold(TfGraph.Load(PoseGraph), new Dictionary<string, long[]> { ["image"] = [1, 368, 432, 3] }).Save(folded);
            using var input = PoseInput(image);
            using var net = CvDnn.ReadNetFromTensorflow(folded) ?? throw new InvalidOperationException("OpenCV could not load " + folded);
            using var blob = CvDnn.BlobFromImage(input, 1, new Size(432, 368), new Scalar(0, 0, 0), false, false);
            net.SetInput(blob);
            using var cvOut = net.Forward();
            const int c = 57, h = 46, w = 54;
            Assert.Equal([1, c, h, w], Enumerable.Range(0, cvOut.Dims).Select(cvOut.Size));
            var reference = new float[c * h * w];
            System.Runtime.InteropServices.Marshal.Copy(cvOut.Data, reference, 0, reference.Length);

            using var session = new GraphSession(PoseGraph);
            using var tensor = GraphTensor.FromMat(input);
            using var result = session.Run(tensor);
            Assert.Equal([1L, h, w, c], result[0].Shape);
            var ours = result[0].ToArray<float>();
            double maxDiff = 0, sumDiff = 0;
            for (var ch = 0; ch < c; ch++)
            for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var d = Math.Abs(ours[(y * w + x) * c + ch] - reference[(ch * h + y) * w + x]);
                maxDiff = Math.Max(maxDiff, d);
                sumDiff += d;
            }
            // The graph normalises near-zero-variance channels with batch statistics, and OpenCV's MVN adds
            // epsilon to the deviation rather than the variance, so single values may differ noticeably;
            // what must agree is the bulk of the map and the heatmap peaks.
            Assert.True(maxDiff < 0.35, $"max |diff| {maxDiff}");
            Assert.True(sumDiff / reference.Length < 0.005, $"mean |diff| {sumDiff / reference.Length}");
            // Every confident heatmap peak of OpenCV's output is a peak of ours too (within one cell, value within 0.15).
            var peaks = 0;
            for (var ch = 0; ch < 18; ch++)
            for (var y = 1; y < h - 1; y++)
            for (var x = 1; x < w - 1; x++)
            {
                var v = reference[(ch * h + y) * w + x];
                if (v < 0.3 || !IsLocalMax(i => reference[ch * h * w + i], y, x, w))
                    continue;
                peaks++;
                var best = float.MinValue;
                for (var dy = -1; dy <= 1; dy++)
                for (var dx = -1; dx <= 1; dx++)
                    best = Math.Max(best, ours[((y + dy) * w + x + dx) * c + ch]);
                Assert.True(Math.Abs(best - v) < 0.15, $"{image} part {ch} at ({x},{y}): {best} vs {v}");
            }
            Assert.True(peaks >= 5, $"only {peaks} confident peaks in {image}");
        }
        finally
        {
            File.Delete(folded);
        }
    }

    private static bool IsLocalMax(Func<int, float> at, int y, int x, int w)
    {
        var v = at(y * w + x);
        for (var dy = -1; dy <= 1; dy++)
        for (var dx = -1; dx <= 1; dx++)
        {
            if (at((y + dy) * w + x + dx) > v)
                return false;
        }
        return true;
    }

    [Fact]
    public void Batch_of_two_equals_two_single_runs()
    {
        using var session = new GraphSession(PoseGraph);
        using var a = PoseInput("p1.jpg");
        using var b = PoseInput("p2.jpg");
        var size = 368 * 432 * 3;
        var batch = new float[2 * size];
        var single = new float[size];
        unsafe
        {
            new ReadOnlySpan<float>((void*)a.Data, size).CopyTo(batch);
            new ReadOnlySpan<float>((void*)a.Data, size).CopyTo(single);
            new ReadOnlySpan<float>((void*)b.Data, size).CopyTo(batch.AsSpan(size));
        }
        // Batch statistics are shared across the batch, so feed the same image twice to compare with one.
        new ReadOnlySpan<float>(single).CopyTo(batch.AsSpan(size));
        using var t2 = GraphTensor.FromArray(batch, 2, 368, 432, 3);
        using var t1 = GraphTensor.FromArray(single, 1, 368, 432, 3);
        using var r2 = session.Run(t2);
        using var r1 = session.Run(t1);
        var one = r1[0].AsSpan<float>();
        var two = r2[0].AsSpan<float>();
        Assert.Equal(2 * one.Length, two.Length);
        for (var i = 0; i < one.Length; i += 7)
        {
            Assert.Equal(one[i], two[i], 2);
            Assert.Equal(one[i], two[one.Length + i], 2);
        }
    }

    [Fact]
    public void Any_input_size_works_per_run()
    {
        using var session = new GraphSession(PoseGraph);
        foreach (var (w, h) in new[] { (432, 368), (320, 240), (656, 368) })
        {
            using var t = GraphTensor.FromArray(new float[h * w * 3], 1, h, w, 3);
            using var r = session.Run(t);
            Assert.Equal([1L, h / 8, w / 8, 57], r[0].Shape);
        }
    }

    [Fact]
    public void Dense_graph_matches_its_weights_multiplied_out()
    {
        var path = SharedData.Model("tf2onnx-tests/fc-layers", "frozen.pb");
        var graph = TfGraph.Load(path);
        var matmuls = graph.TopologicalOrder().Where(n => n.Op == "MatMul").ToList();
        var rng = new Random(7);
        var x = Enumerable.Range(0, 2 * 784).Select(_ => (float)rng.NextDouble()).ToArray();
        // Reference: walk the graph's own MatMul/BiasAdd/Relu chain with the constants it holds.
        var current = x;
        var rows = 2;
        foreach (var node in graph.TopologicalOrder())
        {
            if (node.Op == "MatMul")
            {
                var wNode = graph.GetNode(node.DataInput(1).Node);
                while (wNode.Op == "Identity")
                    wNode = graph.GetNode(wNode.DataInput(0).Node);
                var weights = graph.GetConstant(wNode.Name);
                int k = (int)weights.Shape[0], n = (int)weights.Shape[1];
                var wv = weights.ToFloatArray();
                var next = new float[rows * n];
                for (var r = 0; r < rows; r++)
                for (var j = 0; j < n; j++)
                {
                    double s = 0;
                    for (var i = 0; i < k; i++)
                        s += current[r * k + i] * wv[i * n + j];
                    next[r * n + j] = (float)s;
                }
                current = next;
            }
            else if (node.Op == "BiasAdd")
            {
                var bNode = graph.GetNode(node.DataInput(1).Node);
                while (bNode.Op == "Identity")
                    bNode = graph.GetNode(bNode.DataInput(0).Node);
                var bias = graph.GetConstant(bNode.Name).ToFloatArray();
                for (var i = 0; i < current.Length; i++)
                    current[i] += bias[i % bias.Length];
            }
            else if (node.Op == "Relu")
            {
                for (var i = 0; i < current.Length; i++)
                    current[i] = Math.Max(current[i], 0);
            }
        }
        Assert.Equal(3, matmuls.Count);
        using var session = new GraphSession(path);
        using var input = GraphTensor.FromArray(x, 2, 784);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["X:0"] = input }, ["output:0"]);
        var ours = result["output"].AsSpan<float>();
        Assert.Equal(current.Length, ours.Length);
        for (var i = 0; i < current.Length; i++)
            Assert.Equal(current[i], ours[i], 3);
    }

    [Theory]
    [InlineData("cpm-mobile", "model.pb", 192, 192, "Convolutional_Pose_Machine/stage_5_out", 96, 14)]
    [InlineData("hourglass-mobile", "model.pb", 192, 192, "hourglass_out_3", 48, 14)]
    [InlineData("posenet-mobilenet-v1-050", "model.pb", 257, 257, "heatmap", 17, 17)]
    public void Single_person_and_posenet_graphs_run_and_match_opencv(string folder, string file, int w, int h, string output, int outSize, int channels)
    {
        var path = SharedData.Model(folder, file);
        using var bgr = ImageFile.Read(SharedData.Image("p1.jpg"));
        using var input = ImageTensors.Prepare(bgr, new ImagePreprocessing(w, h, Rgb: true, Scale: 2f / 255, Offset: -1f));
        using var session = new GraphSession(path);
        using var tensor = GraphTensor.FromMat(input);
        using var result = session.Run(new Dictionary<string, GraphTensor> { ["image"] = tensor }, [output]);
        Assert.Equal([1L, outSize, outSize, channels], result[0].Shape);

        using var net = CvDnn.ReadNetFromTensorflow(path) ?? throw new InvalidOperationException("OpenCV could not load " + path);
        using var blob = CvDnn.BlobFromImage(input, 1, new Size(w, h), new Scalar(0, 0, 0), false, false);
        net.SetInput(blob);
        using var cvOut = net.Forward(output);
        var reference = new float[channels * outSize * outSize];
        System.Runtime.InteropServices.Marshal.Copy(cvOut.Data, reference, 0, reference.Length);
        var ours = result[0].AsSpan<float>();
        double maxDiff = 0;
        for (var ch = 0; ch < channels; ch++)
        for (var i = 0; i < outSize * outSize; i++)
            maxDiff = Math.Max(maxDiff, Math.Abs(ours[i * channels + ch] - reference[ch * outSize * outSize + i]));
        Assert.True(maxDiff < 1e-3, $"max |diff| {maxDiff}");
    }

    [Fact]
    public void Bad_feeds_and_fetches_name_the_problem()
    {
        using var session = new GraphSession(PoseGraph);
        using var good = GraphTensor.FromArray(new float[16 * 16 * 3], 1, 16, 16, 3);
        using var rank3 = GraphTensor.FromArray(new float[16 * 16 * 3], 16, 16, 3);
        using var ints = GraphTensor.FromArray(new int[16 * 16 * 3], 1, 16, 16, 3);
        using var wrongChannels = GraphTensor.FromArray(new float[16 * 16 * 4], 1, 16, 16, 4);
        Assert.Contains("no input named 'img'", Assert.Throws<ArgumentException>(() => session.Run(new Dictionary<string, GraphTensor> { ["img"] = good })).Message);
        Assert.Contains("rank 4", Assert.Throws<ArgumentException>(() => session.Run(rank3)).Message);
        Assert.Contains("takes float", Assert.Throws<ArgumentException>(() => session.Run(ints)).Message);
        Assert.Contains("dimension 3", Assert.Throws<ArgumentException>(() => session.Run(wrongChannels)).Message);
        var fetch = Assert.Throws<ArgumentException>(() => session.Run(good, ["Openpose/nope"])).Message;
        Assert.Contains("'Openpose/nope'", fetch);
        Assert.Contains(PoseGraph, fetch);
    }

    [Fact]
    public void Intermediate_tensors_can_be_fetched_by_name()
    {
        using var session = new GraphSession(PoseGraph);
        using var t = GraphTensor.FromArray(new float[368 * 432 * 3], 1, 368, 432, 3);
        var graph = TfGraph.Load(PoseGraph);
        var conv = graph.TopologicalOrder().First(n => n.Op == "Conv2D").Name;
        using var r = session.Run(t, [conv + ":0", "Openpose/concat_stage7"]);
        Assert.Equal(4, r[0].Shape.Length);
        Assert.Equal(184, r[0].Shape[1]); // first conv has stride 2
        Assert.Equal([1L, 46, 54, 57], r["Openpose/concat_stage7:0"].Shape);
    }

    [Fact]
    public void Npy_round_trip_preserves_shape_and_values()
    {
        var path = Path.Combine(Path.GetTempPath(), $"t-{Guid.NewGuid():N}.npy");
        try
        {
            float[] values = [1.5f, -2f, 3.25f, 0f, 7f, 8f];
            using (var t = GraphTensor.FromArray(values, 2, 3))
                NpyFile.Write(path, t);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(0, (bytes.Length - values.Length * 4) % 64); // header padded to 64 bytes as NumPy does
            using var back = NpyFile.Read(path);
            Assert.Equal([2L, 3], back.Shape);
            Assert.Equal(values, back.ToArray<float>());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
