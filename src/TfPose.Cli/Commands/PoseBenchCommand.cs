using System.CommandLine;
using System.Diagnostics;
using OpenCvSharp;
using TfPose.Pose;
using TfPose.Imaging;

namespace TfPose.Cli.Commands;

internal static class PoseBenchCommand
{
    public static Command Create()
    {
        var model = PoseCommands.ModelOption();
        var size = PoseCommands.SizeOption();
        var image = new Option<string>("--image") { Description = "Image to benchmark on (e.g. ../shared/data/images/p2.jpg).", Required = true };
        var iterations = new Option<int>("--iterations") { Description = "Timed repetitions.", DefaultValueFactory = _ => 100 };
        var frames = new Option<int>("--frames") { Description = "Frames of the generated video for the end-to-end run.", DefaultValueFactory = _ => 120 };
        var decoder = new PoseCommands.DecoderOptions();
        var bench = new Command("pose", "Pose pipeline (any model kind): inference and post-processing medians, end-to-end frames/s on a video.");
        foreach (var o in new Option[] { model, size, image, iterations, frames }) bench.Add(o);
        decoder.AddTo(bench);
        bench.SetAction(async (parseResult, ct) =>
        {
            var options = decoder.Apply(parseResult, PoseCommands.EstimatorOptions(parseResult.GetValue(size)));
            using var estimator = new PoseEstimator(new ModelStore().Resolve(parseResult.GetValue(model)!), options);
            var path = parseResult.GetValue(image)!;
            using var mat = ImageFile.Read(path);
            var n = Math.Max(1, parseResult.GetValue(iterations));
            if (estimator.Model.RunsAsPipeline)
            {
                // The video runs with threads that do not spin between frames: decoding and encoding share the cores.
                using var video = new PoseEstimator(new ModelStore().Resolve(parseResult.GetValue(model)!), options with { SpinWait = false });
                await BenchPipeline(estimator, video, mat, path, n, parseResult.GetValue(frames), ct);
                return 0;
            }

            using var prepared = estimator.Prepare(mat);
            var output = new PoseOutput();
            var infer = new List<double>();
            var post = new List<double>();
            var people = 0;
            for (var i = 0; i < 5; i++) { estimator.Infer(prepared, output); people = estimator.Decode(output, prepared.Mapping).Count; }
            var sw = new Stopwatch();
            for (var i = 0; i < n; i++)
            {
                ct.ThrowIfCancellationRequested();
                sw.Restart(); estimator.Infer(prepared, output); infer.Add(sw.Elapsed.TotalMilliseconds);
                sw.Restart(); estimator.Decode(output, prepared.Mapping); post.Add(sw.Elapsed.TotalMilliseconds);
            }
            var grid = estimator.Decoder is PafDecoder paf ? $", grid {paf.UpsampledWidth}x{paf.UpsampledHeight}" : "";
            Console.WriteLine($"model {estimator.Model.Name} ({estimator.Model.Kind}, {estimator.Model.Keypoints.Name})");
            Console.WriteLine($"image {path} {mat.Width}x{mat.Height}, network {estimator.Width}x{estimator.Height}, output {output.Height}x{output.Width}x{output.Channels}{grid}, {people} people");
            Console.WriteLine($"post-processing ({estimator.Decoder.GetType().Name}): median {Median(post):F3} ms, p90 {Percentile(post, 0.9):F3} ms");
            Console.WriteLine($"inference: median {Median(infer):F2} ms, p90 {Percentile(infer, 0.9):F2} ms");

            // End to end on a video at the network size: decode, inference and post-processing overlapped.
            var dir = Directory.CreateTempSubdirectory("tfpose-bench-").FullName;
            try
            {
                var video = Path.Combine(dir, "bench.avi");
                using (var writer = new VideoWriter(video, FourCC.MJPG, 30, new Size(estimator.Width, estimator.Height)))
                using (var frame = mat.Resize(new Size(estimator.Width, estimator.Height)))
                    for (var i = 0; i < parseResult.GetValue(frames); i++) writer.Write(frame);
                var result = await PoseVideo.ProcessAsync(video, estimator, new PoseVideoOptions { OutputVideo = Path.Combine(dir, "out.avi") }, null, ct);
                Console.WriteLine($"end-to-end video ({result.Frames} frames {estimator.Width}x{estimator.Height}, rendered MJPG out): {result.FramesPerSecond:F1} frames/s");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
            return 0;
        });
        return bench;
    }

    /// <summary>
    /// Models that run as one step (MoveNet, BlazePose): each stage as the estimator timed it on the image, then a video
    /// of the image at its own size through the frame-to-frame path (crop tracking, smoothing).
    /// </summary>
    private static async Task BenchPipeline(PoseEstimator estimator, PoseEstimator videoEstimator, Mat mat, string path, int n, int frameCount, CancellationToken ct)
    {
        var people = 0;
        for (var i = 0; i < 5; i++) people = estimator.Estimate(mat).Count;
        var pre = new List<double>();
        var infer = new List<double>();
        var post = new List<double>();
        var total = new List<double>();
        var sw = new Stopwatch();
        for (var i = 0; i < n; i++)
        {
            ct.ThrowIfCancellationRequested();
            sw.Restart();
            estimator.Estimate(mat);
            total.Add(sw.Elapsed.TotalMilliseconds);
            var t = estimator.LastTimings!.Value;
            pre.Add(t.Preprocess.TotalMilliseconds);
            infer.Add(t.Inference.TotalMilliseconds);
            post.Add(t.Postprocess.TotalMilliseconds);
        }
        Console.WriteLine($"model {estimator.Model.Name} ({estimator.Model.Kind}, {estimator.Model.Keypoints.Name})");
        Console.WriteLine($"image {path} {mat.Width}x{mat.Height}, {people} {(people == 1 ? "person" : "people")}");
        Console.WriteLine($"pre-processing: median {Median(pre):F3} ms, p90 {Percentile(pre, 0.9):F3} ms");
        Console.WriteLine($"inference: median {Median(infer):F2} ms, p90 {Percentile(infer, 0.9):F2} ms");
        Console.WriteLine($"post-processing: median {Median(post):F3} ms, p90 {Percentile(post, 0.9):F3} ms");
        Console.WriteLine($"one image, all stages: median {Median(total):F2} ms, p90 {Percentile(total, 0.9):F2} ms");

        // Frames at the network's input size (as the staged models are measured), then at the photo's own size.
        foreach (var size in new[] { new Size(estimator.Width, estimator.Height), mat.Size() })
        {
            var dir = Directory.CreateTempSubdirectory("tfpose-bench-").FullName;
            try
            {
                var video = Path.Combine(dir, "bench.avi");
                using (var writer = new VideoWriter(video, FourCC.MJPG, 30, size))
                using (var frame = mat.Resize(size))
                    for (var i = 0; i < frameCount; i++) writer.Write(frame);
                videoEstimator.ResetVideo();
                var result = await PoseVideo.ProcessAsync(video, videoEstimator, new PoseVideoOptions { OutputVideo = Path.Combine(dir, "out.avi") }, null, ct);
                Console.WriteLine($"end-to-end video ({result.Frames} frames {size.Width}x{size.Height}, tracked crops, smoothing, rendered MJPG out): {result.FramesPerSecond:F1} frames/s");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static double Median(List<double> v) => Percentile(v, 0.5);

    private static double Percentile(List<double> v, double p)
    {
        var s = v.Order().ToList();
        return s[Math.Min(s.Count - 1, (int)(p * s.Count))];
    }
}
