using OpenCvSharp;
using TfPose.Pose.BlazePose;
using TfPose.Runtime;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Pose.Tests;

/// <summary>
/// MediaPipe's own .tflite landmark model (lite) in the BlazePose pipeline. It is the same trained network as the
/// TensorFlow.js blazepose-lite, but stops at the heatmap and segmentation logits, where the TensorFlow.js graph
/// applies a sigmoid: TensorFlow Lite's outputs stored beside the model and pose-detection's keypoints are the references.
/// </summary>
public class BlazePoseTfliteTests(ITestOutputHelper output)
{
    private static string TfliteModel => SharedData.Path("data", "tflite-models", "pose-landmark-lite", "model.tflite");

    private static string Reference(string file) => SharedData.Path("data", "tflite-models", "pose-landmark-lite", "reference", "p1", file);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void Tflite_landmark_model_is_read_as_logits_and_gives_tensorflow_lites_outputs()
    {
        using var model = new LandmarkModel(TfliteModel, new GraphSessionOptions(), segmentation: true);
        Assert.True(model.HeatmapLogits, "the .tflite heatmap output is a convolution's logits");
        Assert.True(model.SegmentationLogits, "the .tflite segmentation output is a convolution's logits");
        using (var input = NpyFile.Read(Reference("input.npy")))
            input.AsSpan<float>().CopyTo(model.Input);
        model.Run();

        // Outputs matched by shape: Identity [1,195] landmarks, Identity_1 pose flag, Identity_3 heatmap logits,
        // Identity_4 world landmarks, as TensorFlow Lite computed them (to 1e-3 of each output's largest magnitude).
        void Near(string file, ReadOnlySpan<float> actual, Func<double, double> map, double tolerance)
        {
            using var expected = NpyFile.Read(Reference(file));
            var e = expected.AsSpan<float>();
            Assert.Equal(e.Length, actual.Length);
            double worst = 0;
            for (var i = 0; i < e.Length; i++)
                worst = Math.Max(worst, Math.Abs(map(e[i]) - actual[i]));
            output.WriteLine($"{file}: largest difference {worst:G3}");
            Assert.InRange(worst, 0, tolerance);
        }
        Near("Identity.npy", model.Landmarks, v => v, 0.05);
        Near("Identity_1.npy", model.PoseFlag, v => v, 1e-4);
        Near("Identity_3.npy", model.Heatmap, v => v, 0.02);
        Near("Identity_4.npy", model.World, v => v, 1e-4);
        // The mask comes out as probabilities: the sigmoid of TensorFlow Lite's logits.
        Near("Identity_2.npy", model.Segmentation, Sigmoid, 2e-3);
    }

    [Fact]
    public void Heatmap_refinement_of_logits_weights_by_their_sigmoid()
    {
        const int size = 64, channels = 2;
        // Logit −30 is a confidence of 1e-13: only the cells set below weigh anything.
        var heatmap = Enumerable.Repeat(-30f, size * size * channels).ToArray();
        void Set(int row, int col, int channel, float v) => heatmap[(row * size + col) * channels + channel] = v;
        // Landmark 0 at x = 0.5, y = 0.25: cell (row 16, column 32). Logits ln 9 and ln(3/7) are confidences 0.9 and 0.3.
        Set(16, 33, 0, MathF.Log(9));
        Set(18, 31, 0, MathF.Log(3f / 7));
        // Landmark 1: logit 0 is confidence 0.5, enough to refine: it moves to that cell.
        Set(40, 41, 1, 0);
        BlazePoseLandmark[] lms = [new(0.5f, 0.25f, 0, 0, 0), new(40.5f / 64, 40.5f / 64, 0, 0, 0)];
        BlazePoseLandmarkDecoder.RefineFromHeatmap(lms, heatmap, size, size, kernelSize: 7, minConfidence: 0.5f, logits: true);
        Assert.Equal((33 * 0.9 + 31 * 0.3) / 1.2 / 64, lms[0].X, 5);
        Assert.Equal((16 * 0.9 + 18 * 0.3) / 1.2 / 64, lms[0].Y, 5);
        Assert.Equal(41.0 / 64, lms[1].X, 5);
        Assert.Equal(40.0 / 64, lms[1].Y, 5);

        // Read as confidences, logit −30 everywhere would be far below 0.5 and 0 exactly 0: landmark 1 stays put.
        BlazePoseLandmark[] raw = [new(0.5f, 0.25f, 0, 0, 0), new(40.5f / 64, 40.5f / 64, 0, 0, 0)];
        BlazePoseLandmarkDecoder.RefineFromHeatmap(raw, heatmap, size, size, kernelSize: 7, minConfidence: 0.5f);
        Assert.Equal(40.5f / 64, raw[1].X);
    }

    [Fact]
    public void Pipeline_with_the_tflite_landmark_model_finds_pose_detections_keypoints_on_p1()
    {
        // The TensorFlow.js detector with MediaPipe's .tflite landmark model.
        using var pipeline = new BlazePosePipeline(SharedData.Path("data", "tfjs-models", "blazepose-detector", "model.json"), TfliteModel);
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        var result = pipeline.Estimate(image, video: false);
        var person = Assert.IsType<Person>(result.Person);
        Assert.Same(KeypointSet.BlazePose33, person.KeypointSet);
        // pose-detection ran the TensorFlow.js form of the same network: the two engines' landmark outputs differ by a
        // few thousandths of a crop pixel (shared README: 4e-3; a crop pixel is ~1 image pixel here), so the keypoints
        // agree as closely as the TensorFlow.js model's own: x and y to 0.01 px, z to 0.05, scores to 1e-4.
        var p = BlazePosePipelineTests.PoseDetectionP1;
        double worst = 0;
        for (var i = 0; i < 33; i++)
        {
            var k = person[i]!.Value;
            Assert.Equal(p[i, 0], k.X, 0.01);
            Assert.Equal(p[i, 1], k.Y, 0.01);
            Assert.Equal(p[i, 2], k.Z!.Value, 0.05);
            Assert.Equal(p[i, 3], k.Score, 1e-4);
            worst = Math.Max(worst, Math.Max(Math.Abs(p[i, 0] - k.X), Math.Abs(p[i, 1] - k.Y)));
        }
        output.WriteLine($"largest x/y difference from pose-detection (TensorFlow.js model): {worst:G3} px");

        // The mask is probabilities (the pipeline applied the sigmoid): pose-detection's values on the person's edge.
        var mask = result.Segmentation!;
        (int X, int Y, double V)[] edge = [(82, 56, 0.77403), (117, 134, 0.54110), (160, 198, 0.39762), (120, 80, 1.0), (10, 10, 0)];
        foreach (var (x, y, v) in edge)
            Assert.Equal(v, mask.At<float>(y, x), 2e-3);
    }

    [Fact]
    public void Pose_estimator_takes_a_tflite_file_named_after_it_with_the_detector_folder_beside_it()
    {
        // As a user keeps MediaPipe's file: pose_landmark_lite.tflite with a blazepose-detector folder next to it.
        var folder = Directory.CreateTempSubdirectory("tfpose-tflite-");
        try
        {
            var model = Path.Combine(folder.FullName, "pose_landmark_lite.tflite");
            File.Copy(TfliteModel, model);
            var detector = Directory.CreateDirectory(Path.Combine(folder.FullName, "blazepose-detector"));
            foreach (var file in Directory.GetFiles(SharedData.Path("data", "tfjs-models", "blazepose-detector")))
                File.Copy(file, Path.Combine(detector.FullName, Path.GetFileName(file)));
            using var estimator = new PoseEstimator(model);
            Assert.Equal(PoseModelKind.BlazePose, estimator.Model.Kind);
            Assert.Equal("pose_landmark_lite", estimator.Model.Name);
            using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
            var person = Assert.Single(estimator.Estimate(image));
            var p = BlazePosePipelineTests.PoseDetectionP1;
            Assert.Equal(p[0, 0], person[0]!.Value.X, 0.01);
            Assert.Equal(p[0, 1], person[0]!.Value.Y, 0.01);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}

