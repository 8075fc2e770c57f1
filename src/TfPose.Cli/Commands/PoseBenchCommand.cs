using System.CommandLine;
using System.Globalization;
using AnsiConsole = Spectre.Console.AnsiConsole;
using OpenCvSharp;
using TfPose.Benchmarks.Pose;
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
        var soak = new Option<int>("--soak")
        {
            Description = "Instead of timing: N whole estimates on the image, then managed bytes allocated per call, garbage collections and the process' memory (RSS) before, at most and after.",
        };
        var decoder = new PoseCommands.DecoderOptions();
        var bench = new Command("pose", "Pose pipeline (any model kind): inference and post-processing medians, end-to-end frames/s on a video.");
        foreach (var o in new Option[] { model, size, image, iterations, frames, soak }) bench.Add(o);
        decoder.AddTo(bench);
        bench.SetAction(async (parseResult, ct) =>
        {
            var options = decoder.Apply(parseResult, PoseCommands.EstimatorOptions(parseResult.GetValue(size)));
            using var estimator = new PoseEstimator(new ModelStore().Resolve(parseResult.GetValue(model)!), options);
            var path = parseResult.GetValue(image)!;
            using var mat = ImageFile.Read(path);
            var n = Math.Max(1, parseResult.GetValue(iterations));
            var frameCount = parseResult.GetValue(frames);
            if (parseResult.GetValue(soak) is > 0 and var calls)
            {
                Soak(estimator, mat, path, calls, ct);
                return 0;
            }
            if (estimator.Model.RunsAsPipeline)
            {
                // The video runs with threads that do not spin between frames: decoding and encoding share the cores.
                using var video = new PoseEstimator(new ModelStore().Resolve(parseResult.GetValue(model)!), options with { Session = options.Session with { SpinWait = false } });
                var t = PoseLatencyBench.Pipeline(estimator, mat, n, ct);
                Console.WriteLine($"model {estimator.Model.Name} ({estimator.Model.Kind}, {estimator.Model.Keypoints.Name})");
                Console.WriteLine($"image {path} {mat.Width}x{mat.Height}, {t.People} {(t.People == 1 ? "person" : "people")}");
                Console.WriteLine($"pre-processing: median {t.PreProcessing.Median:F3} ms, p90 {t.PreProcessing.P90:F3} ms");
                Console.WriteLine($"inference: median {t.Inference.Median:F2} ms, p90 {t.Inference.P90:F2} ms");
                Console.WriteLine($"post-processing: median {t.PostProcessing.Median:F3} ms, p90 {t.PostProcessing.P90:F3} ms");
                Console.WriteLine($"one image, all stages: median {t.Total.Median:F2} ms, p90 {t.Total.P90:F2} ms");
                // Frames at the network's input size (as the staged models are measured), then at the photo's own size.
                foreach (var videoSize in new[] { new Size(estimator.Width, estimator.Height), mat.Size() })
                {
                    var result = await PoseLatencyBench.VideoAsync(video, mat, videoSize, frameCount, ct);
                    Console.WriteLine($"end-to-end video ({result.Frames} frames {videoSize.Width}x{videoSize.Height}, tracked crops, smoothing, rendered MJPG out): {result.FramesPerSecond:F1} frames/s");
                }
                return 0;
            }

            var staged = PoseLatencyBench.Staged(estimator, mat, n, ct);
            var output = staged.Output;
            var grid = estimator.Decoder is PafDecoder paf ? $", grid {paf.UpsampledWidth}x{paf.UpsampledHeight}" : "";
            Console.WriteLine($"model {estimator.Model.Name} ({estimator.Model.Kind}, {estimator.Model.Keypoints.Name})");
            Console.WriteLine($"image {path} {mat.Width}x{mat.Height}, network {estimator.Width}x{estimator.Height}, output {output.Height}x{output.Width}x{output.Channels}{grid}, {staged.People} people");
            Console.WriteLine($"post-processing ({estimator.Decoder.GetType().Name}): median {staged.PostProcessing.Median:F3} ms, p90 {staged.PostProcessing.P90:F3} ms");
            Console.WriteLine($"inference: median {staged.Inference.Median:F2} ms, p90 {staged.Inference.P90:F2} ms");

            // End to end on a video at the network size: decode, inference and post-processing overlapped.
            var e2e = await PoseLatencyBench.VideoAsync(estimator, mat, new Size(estimator.Width, estimator.Height), frameCount, ct);
            Console.WriteLine($"end-to-end video ({e2e.Frames} frames {estimator.Width}x{estimator.Height}, rendered MJPG out): {e2e.FramesPerSecond:F1} frames/s");
            return 0;
        });
        return bench;
    }

    private static void Soak(PoseEstimator estimator, Mat image, string path, int calls, CancellationToken ct)
    {
        PoseSoakResult? r = null;
        AnsiConsole.Progress().Start(ctx =>
        {
            var task = ctx.AddTask("estimating", maxValue: calls);
            r = PoseLatencyBench.Soak(estimator, image, calls, new Progress<int>(done => task.Value = done), ct);
            task.Value = calls;
        });
        static string Mb(long bytes) => (bytes / (1024.0 * 1024)).ToString("F1", CultureInfo.InvariantCulture);
        Console.WriteLine($"model {estimator.Model.Name} ({estimator.Model.Kind}), image {path} {image.Width}x{image.Height}, {r!.People} people");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Calls} estimates in {r.Elapsed.TotalSeconds:F1} s: {r.AllocatedBytesPerCall:F0} managed bytes allocated per call (people included)"));
        Console.WriteLine($"garbage collections during the run: gen0 {r.Gen0}, gen1 {r.Gen1}, gen2 {r.Gen2}");
        Console.WriteLine($"RSS: {Mb(r.RssBefore)} MB before, {Mb(r.RssPeak)} MB at most, {Mb(r.RssAfter)} MB after, {Mb(r.RssAfterCollection)} MB after a full collection");
        Console.WriteLine($"managed heap: {Mb(r.ManagedHeapBefore)} MB before, {Mb(r.ManagedHeapAfterCollection)} MB after a full collection");
    }
}
