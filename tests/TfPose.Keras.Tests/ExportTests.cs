using OpenCvSharp;
using OpenCvSharp.Dnn;
using TfPose.Gan;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>Exported frozen GraphDefs run in OpenCV DNN and match TorchSharp within 1e-4.</summary>
public class ExportTests
{
    private static float MaxDiffThroughOpenCv(Model model, Tensor input)
    {
        var path = Path.Combine(Path.GetTempPath(), $"export-{Guid.NewGuid():N}.pb");
        try
        {
            model.ExportGraphDef(path);
            using var expected = model.PredictOnBatch(input);
            using var net = CvDnn.ReadNetFromTensorflow(path);
            // OpenCV DNN takes NCHW blobs for 4-D inputs and returns NCHW for 4-D outputs.
            using var nchw = input.dim() == 4 ? input.permute(0, 3, 1, 2).contiguous() : input.contiguous();
            var data = nchw.data<float>().ToArray();
            using var blob = Mat.FromPixelData(nchw.shape.Select(d => (int)d).ToArray(), MatType.CV_32F, data);
            Assert.NotNull(net);
            net!.SetInput(blob);
            using var outMat = net.Forward();
            var got = new float[outMat.Total()];
            System.Runtime.InteropServices.Marshal.Copy(outMat.Data, got, 0, got.Length);
            using var exp = expected.dim() == 4 ? expected.permute(0, 3, 1, 2).contiguous() : expected.contiguous();
            var want = exp.data<float>().ToArray();
            Assert.Equal(want.Length, got.Length);
            return want.Zip(got).Max(p => Math.Abs(p.First - p.Second));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GeneratorRunsInOpenCvDnn()
    {
        using var gan = new FashionGan(seed: 5);
        using var z = randn(4, 100, generator: new TorchSharp.torch.Generator(1));
        Assert.True(MaxDiffThroughOpenCv(gan.Generator, z) < 1e-4);
    }

    [Fact]
    public void SmallCnnRunsInOpenCvDnn()
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
        // Non-trivial BatchNorm statistics, so the export of moving mean/variance is exercised.
        var bn = (BatchNormalization)model.Layers[1];
        using (no_grad())
        {
            bn.MovingMean.Value.uniform_(-0.5, 0.5);
            bn.MovingVariance.Value.uniform_(0.5, 2);
        }
        using var img = rand(2, 12, 12, 3, generator: new TorchSharp.torch.Generator(2));
        Assert.True(MaxDiffThroughOpenCv(model, img) < 1e-4);
    }
}
