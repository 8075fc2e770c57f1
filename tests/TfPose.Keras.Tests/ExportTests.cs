using OpenCvSharp;
using OpenCvSharp.Dnn;
using TfPose.Gan;
using TfPose.Runtime;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>
/// Exported frozen GraphDefs run in two independent consumers, the project's graph runtime (GraphDef → ONNX →
/// ONNX Runtime) and OpenCV DNN's TensorFlow importer, and both match TorchSharp within 1e-4.
/// </summary>
public class ExportTests
{
    private sealed record Diffs(float Runtime, float OpenCv);

    private static Diffs MaxDiffs(Model model, Tensor input, int? batchSize = null)
    {
        var path = Path.Combine(Path.GetTempPath(), $"export-{Guid.NewGuid():N}.pb");
        try
        {
            model.ExportGraphDef(path, batchSize: batchSize);
            using var expected = model.PredictOnBatch(input);
            var want = expected.contiguous().data<float>().ToArray();
            using var nhwc = input.contiguous();
            var shape = nhwc.shape;

            float runtimeDiff;
            using (var session = new GraphSession(path))
            using (var feed = GraphTensor.FromArray(nhwc.data<float>().ToArray(), shape))
            using (var results = session.Run(feed))
            {
                var got = results[0].ToArray<float>();
                Assert.Equal(expected.shape, results[0].Shape);
                runtimeDiff = want.Zip(got).Max(p => Math.Abs(p.First - p.Second));
            }

            // OpenCV DNN takes NCHW blobs for 4-D inputs and returns NCHW for 4-D outputs.
            using var net = CvDnn.ReadNetFromTensorflow(path) ?? throw new InvalidOperationException("OpenCV could not load " + path);
            using var nchw = input.dim() == 4 ? input.permute(0, 3, 1, 2).contiguous() : input.contiguous();
            using var blob = Mat.FromPixelData(nchw.shape.Select(d => (int)d).ToArray(), MatType.CV_32F, nchw.data<float>().ToArray());
            net.SetInput(blob);
            using var outMat = net.Forward();
            var cv = new float[outMat.Total()];
            System.Runtime.InteropServices.Marshal.Copy(outMat.Data, cv, 0, cv.Length);
            using var expNchw = expected.dim() == 4 ? expected.permute(0, 3, 1, 2).contiguous() : expected.contiguous();
            var wantNchw = expNchw.data<float>().ToArray();
            Assert.Equal(wantNchw.Length, cv.Length);
            return new Diffs(runtimeDiff, wantNchw.Zip(cv).Max(p => Math.Abs(p.First - p.Second)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void AssertClose(Diffs d)
    {
        Assert.True(d.Runtime < 1e-4, $"graph runtime differs from TorchSharp by {d.Runtime}");
        Assert.True(d.OpenCv < 1e-4, $"OpenCV DNN differs from TorchSharp by {d.OpenCv}");
    }

    /// <summary>Moving statistics away from 0/1, so the export of moving mean and variance is exercised.</summary>
    private static void Randomize(BatchNormalization bn, int seed)
    {
        var g = new TorchSharp.torch.Generator((ulong)seed);
        using (no_grad())
        {
            bn.MovingMean.Value.uniform_(-0.5, 0.5, generator: g);
            bn.MovingVariance.Value.uniform_(0.5, 2, generator: g);
            bn.Gamma!.Value.uniform_(0.5, 1.5, generator: g);
            bn.Beta!.Value.uniform_(-0.5, 0.5, generator: g);
        }
    }

    [Fact]
    public void GeneratorRunsInGraphRuntimeAndOpenCvDnn()
    {
        using var gan = new FashionGan(seed: 5);
        using var z = randn(4, 100, generator: new TorchSharp.torch.Generator(1));
        AssertClose(MaxDiffs(gan.Generator, z));
    }

    [Fact]
    public void SmallCnnRunsInGraphRuntimeAndOpenCvDnn()
    {
        var input = Keras.Input([12, 12, 3]);
        var x = new Conv2D(8, 3, padding: "same", activation: "relu").Call(input);
        x = new BatchNormalization().Call(x);
        x = new MaxPooling2D().Call(x);
        x = new Conv2D(4, 3, strides: 2, padding: "valid").Call(x);
        x = new LeakyReLU(0.2).Call(x);
        x = new Flatten().Call(x);
        x = new Dropout(0.5).Call(x);
        var y = new Dense(5, "softmax").Call(x);
        using var model = new Model(input, y, seed: 3);
        Randomize((BatchNormalization)model.Layers[1], 7);
        using var img = rand(2, 12, 12, 3, generator: new TorchSharp.torch.Generator(2));
        AssertClose(MaxDiffs(model, img));
    }

    /// <summary>
    /// The Tiramisu's building blocks: BN → ReLU → 3x3 Conv2D (L2) → Dropout, a dense-block Concatenate, 1x1 conv,
    /// MaxPooling2D down, Conv2DTranspose up (odd kernel, "same", and even kernel, "valid"), Cropping2D to the skip's
    /// size, a skip Concatenate and a per-pixel Softmax.
    /// </summary>
    [Fact]
    public void UNetWithTransposedConvolutionsRunsInGraphRuntimeAndOpenCvDnn()
    {
        var l2 = Regularizer.L2(1e-4);
        var input = Keras.Input([10, 10, 3]);
        var c0 = new Conv2D(6, 3, padding: "same", kernelInitializer: Initializer.HeUniform(), kernelRegularizer: l2).Call(input);
        var b1 = new BatchNormalization().Call(c0);
        b1 = new ReLU().Call(b1);
        b1 = new Conv2D(4, 3, padding: "same", kernelRegularizer: l2).Call(b1);
        b1 = new Dropout(0.2).Call(b1);
        var skip = new Concatenate().Call(c0, b1);                       // 10x10x10
        var down = new BatchNormalization().Call(skip);
        down = new ReLU().Call(down);
        down = new Conv2D(8, 1, padding: "same").Call(down);
        down = new MaxPooling2D().Call(down);                            // 5x5x8
        var up = new Conv2DTranspose(6, 3, strides: 2, padding: "same").Call(down);   // 10x10x6
        var merged = new Concatenate().Call(up, skip);                   // 10x10x16
        var up2 = new Conv2DTranspose(4, 2, strides: 2, padding: "valid").Call(down); // 10x10x4
        var up3 = new Conv2DTranspose(4, 3, strides: 2, padding: "valid").Call(down); // 11x11x4
        up3 = new Cropping2D([0, 1, 1, 0]).Call(up3);                    // 10x10x4
        merged = new Concatenate().Call(merged, up2, up3);               // 10x10x24
        var cropped = new Cropping2D(1).Call(merged);                    // 8x8x24
        var logits = new Conv2D(5, 1, padding: "same").Call(cropped);
        var y = new Softmax().Call(logits);
        using var model = new Model(input, y, seed: 11);
        int s = 20;
        foreach (var bn in model.Layers.OfType<BatchNormalization>())
            Randomize(bn, s++);
        using var img = rand(1, 10, 10, 3, generator: new TorchSharp.torch.Generator(4));
        AssertClose(MaxDiffs(model, img));

        // A batch other than 1 needs the batch in Conv2DBackpropInput's constant output size.
        using var batch = rand(3, 10, 10, 3, generator: new TorchSharp.torch.Generator(5));
        AssertClose(MaxDiffs(model, batch, batchSize: 3));
    }

    [Fact]
    public void RankTwoBatchNormAndCappedReluExport()
    {
        var input = Keras.Input([6]);
        var x = new Dense(7).Call(input);
        x = new BatchNormalization().Call(x);
        x = new ReLU(maxValue: 0.4).Call(x);
        var y = new Dense(3, "sigmoid").Call(x);
        using var model = new Model(input, y, seed: 2);
        Randomize((BatchNormalization)model.Layers[1], 3);
        using var v = randn(5, 6, generator: new TorchSharp.torch.Generator(6));
        AssertClose(MaxDiffs(model, v));
    }
}

/// <summary>`tfpose gan sample --graph` samples from generator.pb the images `--checkpoint` samples from the model.</summary>
public class GeneratorGraphTests
{
    [Fact]
    public void GraphSamplesMatchCheckpointSamplesForTheSameSeed()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"gan-graph-{Guid.NewGuid():N}");
        try
        {
            using (var trained = new FashionGan(seed: 9))
            {
                // A few steps so the weights are not just the initialisation.
                using var real = rand(16, FashionGan.ImageSize, generator: new TorchSharp.torch.Generator(3)) * 2 - 1;
                for (int i = 0; i < 3; i++) trained.TrainStep(real);
                trained.SaveCheckpoint(dir, 1);
                trained.Generator.ExportGraphDef(Path.Combine(dir, "generator.pb"), "noise", "image");
            }
            using var fromCheckpoint = new FashionGan(seed: 4);
            fromCheckpoint.LoadCheckpoint(dir);
            using var want = fromCheckpoint.Sample(12);
            using var graph = new GeneratorGraph(Path.Combine(dir, "generator.pb"));
            using var got = graph.Sample(12, seed: 4);
            Assert.Equal(want.shape, got.shape);
            Assert.True((want - got).abs().max().item<float>() < 1e-4);
            // And a different seed gives different images, so the comparison above is not vacuous.
            using var other = graph.Sample(12, seed: 5);
            Assert.True((want - other).abs().max().item<float>() > 0.1);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void NonGeneratorGraphIsRejectedWithTheFileName()
    {
        var path = Path.Combine(Path.GetTempPath(), $"not-generator-{Guid.NewGuid():N}.pb");
        try
        {
            using var m = new Sequential([new Dense(3, inputShape: [7])], seed: 1);
            m.ExportGraphDef(path);
            var ex = Assert.Throws<InvalidDataException>(() => new GeneratorGraph(path));
            Assert.Contains(path, ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
