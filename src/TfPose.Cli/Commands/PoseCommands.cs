using System.CommandLine;
using OpenCvSharp;
using Spectre.Console;
using TfPose.Imaging;
using TfPose.Pose;

namespace TfPose.Cli.Commands;

internal static class PoseCommands
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff" };
    private static readonly HashSet<string> VideoExtensions = new(StringComparer.OrdinalIgnoreCase) { ".mp4", ".avi", ".mov", ".mkv" };

    public static Option<string> ModelOption() => new("--model")
    {
        Description = "Pose model (OpenPose, PoseNet, MoveNet SinglePose/MultiPose, BlazePose landmarks, or a single-person CPM/hourglass heatmap model): " +
                      "a .pb, a TensorFlow.js model.json or its folder, or a model name from 'tfpose models list' (downloaded). The kind is detected from the graph; " +
                      "NAME.pose.json beside it overrides the description.",
        Required = true,
    };

    public static Option<string?> SizeOption() => new("--size")
    {
        Description = "Network input size WxH (default: the model's; OpenPose multiples of 8, e.g. 432x368; PoseNet 16k+1, e.g. 353x257; CPM/hourglass fixed 192x192).",
    };

    public static Option<long> MaxPixelsOption() => new("--max-pixels")
    {
        Description = "Refuse images larger than this many pixels (width x height), read from the file's header before decoding: a guard against decompression bombs.",
        DefaultValueFactory = _ => ImageReadOptions.DefaultMaxPixels,
    };

    /// <summary>Decoder options shared by pose, pose eval and bench pose.</summary>
    internal sealed class DecoderOptions
    {
        public Option<float> Ratio { get; } = new("--ratio") { Description = "OpenPose: upsampling of the network output before peak search (resize_out_ratio).", DefaultValueFactory = _ => 4f };
        public Option<bool> Single { get; } = new("--single") { Description = "PoseNet: single-pose decoding (argmax per keypoint) instead of multi-pose." };
        public Option<int> MaxPeople { get; } = new("--max-people") { Description = "PoseNet multi-pose: at most this many people.", DefaultValueFactory = _ => 10 };
        public Option<float> ScoreThreshold { get; } = new("--score-threshold") { Description = "PoseNet multi-pose: minimum root keypoint score.", DefaultValueFactory = _ => 0.5f };
        public Option<float> NmsRadius { get; } = new("--nms-radius") { Description = "PoseNet multi-pose: NMS radius in network-input pixels.", DefaultValueFactory = _ => 20f };
        public Option<float?> MinScore { get; } = new("--min-score") { Description = "Leave out keypoints scoring below this (default: heatmap models 0.1, PoseNet 0 = all 17)." };
        public Option<float?> MinPoseScore { get; } = new("--min-pose-score") { Description = "MoveNet and PoseNet multi-pose: leave out people scoring below this (default: MoveNet pose-detection's 0.25, PoseNet 0.5)." };
        public Option<string?> Detector { get; } = new("--detector") { Description = "BlazePose: the person detector model (default: a blazepose-detector folder beside the landmark model's)." };
        public Option<int> Threads { get; } = new("--threads") { Description = "Threads ONNX Runtime may use inside one inference (0 = its default)." };
        public Option<TfPose.Runtime.ExecutionDevice> Device { get; } = new("--device")
        {
            Description = "Where the networks run: cpu, cuda or tensorrt (the last two need ONNX Runtime's GPU build).", DefaultValueFactory = _ => TfPose.Runtime.ExecutionDevice.Cpu,
        };

        public void AddTo(Command c)
        {
            foreach (var o in new Option[] { Ratio, Single, MaxPeople, ScoreThreshold, NmsRadius, MinScore, MinPoseScore, Detector, Threads, Device }) c.Add(o);
        }

        public PoseEstimatorOptions Apply(ParseResult r, PoseEstimatorOptions o)
        {
            var min = r.GetValue(MinScore);
            var heat = o.Heatmap;
            var net = o.PoseNet with
            {
                SinglePose = r.GetValue(Single), MaxDetections = r.GetValue(MaxPeople), ScoreThreshold = r.GetValue(ScoreThreshold), NmsRadius = r.GetValue(NmsRadius),
            };
            if (min is { } m) { heat = heat with { MinScore = m }; net = net with { MinKeypointScore = m }; }
            var minPose = r.GetValue(MinPoseScore);
            if (minPose is { } mp) net = net with { MinPoseScore = mp };
            return o with
            {
                Decoder = o.Decoder with { UpsampleRatio = r.GetValue(Ratio) }, Heatmap = heat, PoseNet = net,
                MoveNet = minPose is { } moveMin ? o.MoveNet with { MinPoseScore = moveMin } : o.MoveNet, DetectorModel = r.GetValue(Detector),
                Session = o.Session with { IntraOpThreads = r.GetValue(Threads), Device = r.GetValue(Device) },
            };
        }
    }

    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "Images, folders (searched recursively) or videos (.mp4, .avi; a number = webcam index).",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = ModelOption();
        var size = SizeOption();
        var decoder = new DecoderOptions();
        var box = new Option<string?>("--box") { Description = "Only look inside this box X,Y,W,H (image pixels), e.g. the person box for a single-person model." };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "tfpose-out" };
        var json = new Option<bool>("--json") { Description = "Write OpenPose JSON (per image, per video frame)." };
        var render = new Option<bool>("--render") { Description = "Write rendered images / annotated videos (default when neither --json nor --render is given: both)." };
        var keepAspect = new Option<bool>("--keep-aspect") { Description = "Pad to keep the aspect ratio instead of stretching to the network size." };
        var scales = new Option<int>("--scales") { Description = "Number of scales to average (OpenPose scale_number).", DefaultValueFactory = _ => 1 };
        var scaleGap = new Option<float>("--scale-gap") { Description = "Gap between scales (OpenPose scale_gap).", DefaultValueFactory = _ => 0.25f };
        var maps = new Option<bool>("--maps") { Description = "Also write heatmap and PAF visualisations for images." };
        var mask = new Option<string?>("--mask")
        {
            Description = "BlazePose: write the person segmentation mask as a grey PNG: to this file (one image), or NAME_mask.png beside the other outputs.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var tracker = new Option<string>("--tracker") { Description = "Video, multi-person models: how people keep their ids: box (IoU), keypoint (OKS) or none.", DefaultValueFactory = _ => "box" };
        var noSmooth = new Option<bool>("--no-smooth") { Description = "Video: do not smooth keypoints over time (One Euro filter)." };
        var maxPixels = MaxPixelsOption();

        var pose = new Command("pose", "Pose estimation (OpenPose, PoseNet, MoveNet, BlazePose, CPM/hourglass) on images, folders and videos.\n" +
            "Exit codes: 0 everything done; 1 an error stopped the run (a named input that is missing or unreadable, a bad model or option); " +
            "2 done, but files in a folder were skipped (a warning each, counted in the summary) or a video ended early; 130/143 stopped by Ctrl+C/SIGTERM.");
        foreach (var o in new Option[] { model, size, box, outDir, json, render, keepAspect, scales, scaleGap, maps, mask, tracker, noSmooth, maxPixels }) pose.Add(o);
        decoder.AddTo(pose);
        pose.Add(inputs);
        pose.Add(Eval());
        pose.SetAction(async (parseResult, ct) =>
        {
            var options = decoder.Apply(parseResult, EstimatorOptions(parseResult.GetValue(size), parseResult.GetValue(keepAspect),
                parseResult.GetValue(scales), parseResult.GetValue(scaleGap)));
            options = options with
            {
                Tracker = parseResult.GetValue(tracker)!.ToLowerInvariant() switch
                {
                    "box" => TfPose.Pose.Tracking.TrackerOptions.BoundingBox,
                    "keypoint" => TfPose.Pose.Tracking.TrackerOptions.Keypoint,
                    "none" => null,
                    var t => throw new ArgumentException($"--tracker '{t}': use box, keypoint or none."),
                },
                Smoothing = parseResult.GetValue(noSmooth) ? new TfPose.Pose.Tracking.SmoothingOptions { Enabled = false } : null,
            };
            var maskRequested = parseResult.GetResult(mask) is not null;
            // Videos share the cores with decoding and encoding: ONNX Runtime's threads should not spin between frames.
            var anyVideo = parseResult.GetValue(inputs)!.Any(i => VideoExtensions.Contains(Path.GetExtension(i)) || (int.TryParse(i, out _) && !File.Exists(i)));
            options = options with { Segmentation = maskRequested, Session = options.Session with { SpinWait = !anyVideo } };
            var maskFile = parseResult.GetValue(mask);
            if (maskFile is not null && (parseResult.GetValue(inputs)!.Length != 1 || !File.Exists(parseResult.GetValue(inputs)![0])))
                throw new ArgumentException($"--mask {maskFile}: a mask file name needs exactly one image input; give --mask alone to write NAME_mask.png per image.");
            var crop = ParseBox(parseResult.GetValue(box));
            var modelPath = new ModelStore().Resolve(parseResult.GetValue(model)!);
            var writeJson = parseResult.GetValue(json);
            var writeRender = parseResult.GetValue(render);
            if (!writeJson && !writeRender) writeJson = writeRender = true;
            var output = parseResult.GetValue(outDir)!;
            Directory.CreateDirectory(output);

            var read = new ImageReadOptions { MaxPixels = parseResult.GetValue(maxPixels) };
            using var estimator = new PoseEstimator(modelPath, options);
            PrintModel(estimator);
            var inputList = parseResult.GetValue(inputs)!;
            var failures = 0;
            int imagesFound = 0, imagesDone = 0, videosDone = 0, inputsStarted = 0, peopleFound = 0, filesSkipped = 0;
            string? videoStopped = null;
            foreach (var input in inputList)
            {
                if (ct.IsCancellationRequested) break;
                inputsStarted++;
                if (Directory.Exists(input))
                {
                    List<string> files;
                    try
                    {
                        files = FolderWalk.Files(input, f => ImageExtensions.Contains(Path.GetExtension(f)), ct, (path, e) =>
                        {
                            // A folder run goes on past what it cannot read, as past a bad file.
                            Console.Error.WriteLine($"warning: skipping {path}: {e.Message}");
                            failures++;
                            filesSkipped++;
                        });
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        break;
                    }
                    if (files.Count == 0) Console.Error.WriteLine($"warning: {input}: no images found");
                    imagesFound += files.Count;
                    for (var i = 0; i < files.Count; i++)
                    {
                        if (ct.IsCancellationRequested) break;
                        var f = files[i];
                        var rel = Path.GetRelativePath(input, f);
                        // N/total on every line: a long folder run shows how far it is, also in a log.
                        var counter = $"[{i + 1}/{files.Count}] ";
                        try
                        {
                            peopleFound += ProcessImage(estimator, f, Path.Combine(output, Path.GetFileName(Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar)), Path.ChangeExtension(rel, null)),
                                writeJson, writeRender, parseResult.GetValue(maps), crop, maskRequested ? "" : null, read, counter);
                            imagesDone++;
                        }
                        catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or OpenCVException)
                        {
                            // A folder run goes on past a bad file.
                            Console.Error.WriteLine($"warning: {counter}skipping {f}: {e.Message}");
                            failures++;
                            filesSkipped++;
                        }
                    }
                }
                else if (VideoExtensions.Contains(Path.GetExtension(input)) || (int.TryParse(input, out _) && !File.Exists(input)))
                {
                    if (crop is not null) throw new ArgumentException("--box applies to images, not videos.");
                    var result = await ProcessVideo(estimator, input, output, writeJson, writeRender, ct);
                    if (result.EndedEarly) failures++;
                    if (result.Cancelled) videoStopped = $"{result.Frames}{(result.ExpectedFrames > 0 ? $" of {result.ExpectedFrames}" : "")} frames of {input}";
                    else videosDone++;
                }
                else if (File.Exists(input))
                {
                    imagesFound++;
                    peopleFound += ProcessImage(estimator, input, Path.Combine(output, Path.GetFileNameWithoutExtension(input)), writeJson, writeRender, parseResult.GetValue(maps), crop,
                        maskRequested ? maskFile ?? "" : null, read, "");
                    imagesDone++;
                }
                else
                {
                    throw new FileNotFoundException($"Input not found: {input}", input);
                }
            }
            if (ct.IsCancellationRequested)
            {
                // The runner turns the code into 130/143; this line says how far the run got.
                var notStarted = inputList.Length - inputsStarted;
                var done = new List<string>();
                if (imagesFound > 0) done.Add($"{imagesDone} of {imagesFound} image(s) listed so far");
                if (videosDone > 0) done.Add($"{videosDone} whole video(s)");
                if (videoStopped is not null) done.Add(videoStopped);
                if (notStarted > 0) done.Add($"{notStarted} of {inputList.Length} input(s) not started");
                Console.Error.WriteLine("stopped: done " + (done.Count > 0 ? string.Join("; ", done) : "nothing yet"));
            }
            else if (imagesFound > 1 || filesSkipped > 0)
            {
                Console.WriteLine(Summary(imagesDone, imagesFound, peopleFound, filesSkipped, output));
            }
            return failures == 0 ? ExitCodes.Ok : ExitCodes.SomeInputsFailed;
        });
        return pose;
    }

    /// <summary>The closing line of a run over several images; the exit code (2) follows from the skipped count.</summary>
    internal static string Summary(int imagesDone, int imagesFound, int people, int skipped, string output) =>
        $"done: {imagesDone} of {imagesFound} image(s), {people} {(people == 1 ? "person" : "people")} found, " +
        (skipped == 0 ? "nothing skipped" : $"{skipped} skipped (warnings above; exit code {ExitCodes.SomeInputsFailed})") +
        $", output in {Path.GetFullPath(output)}";

    public static PoseEstimatorOptions EstimatorOptions(string? size, bool keepAspect = false, int scales = 1, float gap = 0.25f)
    {
        var (w, h) = size is null ? ((int?)null, (int?)null) : ParseSize(size);
        return new PoseEstimatorOptions { Width = w, Height = h, KeepAspectRatio = keepAspect, ScaleNumber = scales, ScaleGap = gap };
    }

    public static Rect? ParseBox(string? box)
    {
        if (box is null) return null;
        var p = box.Split(',');
        if (p.Length != 4 || !p.All(v => int.TryParse(v, out _)) || int.Parse(p[2]) <= 0 || int.Parse(p[3]) <= 0)
            throw new ArgumentException($"--box '{box}' is not X,Y,W,H with a positive width and height (e.g. 100,40,200,380).");
        return new Rect(int.Parse(p[0]), int.Parse(p[1]), int.Parse(p[2]), int.Parse(p[3]));
    }

    public static (int W, int H) ParseSize(string size)
    {
        var parts = size.Split('x', 'X');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h))
            throw new ArgumentException($"--size '{size}' is not WIDTHxHEIGHT (e.g. 432x368).");
        return (w, h);
    }

    private static void PrintModel(PoseEstimator estimator)
    {
        var m = estimator.Model;
        Console.WriteLine($"model {m.Name}: {m.Kind}, {m.Keypoints.Name} keypoints, input {estimator.Width}x{estimator.Height} {m.ChannelOrder} (pixel - {m.Mean:0.###}) x {m.Scale:0.#####}");
    }

    /// <param name="mask">Null: no mask; empty: NAME_mask.png beside the other outputs; else the mask file.</param>
    /// <returns>The number of people found.</returns>
    private static int ProcessImage(PoseEstimator estimator, string path, string outStem, bool json, bool render, bool maps, Rect? box, string? mask,
        ImageReadOptions read, string counter)
    {
        using var image = ImageFile.Read(path, read);
        var people = estimator.Estimate(image, box);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outStem))!);
        if (json) PoseJson.WriteOpenPose(outStem + "_keypoints.json", people, estimator.Model.Keypoints);
        if (render)
        {
            using var canvas = image.Clone();
            PoseRenderer.Draw(canvas, people);
            WriteImage(outStem + "_rendered.png", canvas);
        }
        if (mask is not null)
        {
            if (estimator.LastSegmentation is not { } segmentation)
                throw new ArgumentException($"--mask: {estimator.Model.Name} ({estimator.Model.Kind}) gives no segmentation mask; BlazePose does.");
            using var grey = new Mat();
            segmentation.ConvertTo(grey, MatType.CV_8UC1, 255);
            WriteImage(mask.Length > 0 ? mask : outStem + "_mask.png", grey);
        }
        if (maps)
        {
            using var heat = PoseRenderer.RenderMaps(image, estimator.LastOutput, estimator.Model);
            WriteImage(outStem + "_heatmaps.png", heat);
            if (estimator.Model.Kind == PoseModelKind.OpenPose)
            {
                using var paf = PoseRenderer.RenderMaps(image, estimator.LastOutput, estimator.Model, pafs: true);
                WriteImage(outStem + "_pafs.png", paf);
            }
        }
        Console.WriteLine($"{counter}{path}: {People(people.Count)}");
        return people.Count;
    }

    internal static string People(int count) => $"{count} {(count == 1 ? "person" : "people")}";

    // Encode in memory, then temp file + rename, so a stopped run never leaves a truncated image.
    private static void WriteImage(string path, Mat image)
    {
        Cv2.ImEncode(Path.GetExtension(path), image, out var bytes);
        TfPose.IO.AtomicFile.WriteAllBytes(path, bytes);
    }

    private static async Task<PoseVideoResult> ProcessVideo(PoseEstimator estimator, string input, string output, bool json, bool render, CancellationToken ct)
    {
        var stem = int.TryParse(input, out _) ? $"camera{input}" : Path.GetFileNameWithoutExtension(input);
        var ext = Path.GetExtension(input).Equals(".mp4", StringComparison.OrdinalIgnoreCase) ? ".mp4" : ".avi";
        var options = new PoseVideoOptions
        {
            OutputVideo = render ? Path.Combine(output, stem + "_rendered" + ext) : null,
            JsonDirectory = json ? Path.Combine(output, stem + "_json") : null,
            JsonPrefix = stem,
        };
        PoseVideoResult? result = null;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask(stem, maxValue: 1);
                var progress = new Progress<PoseVideoProgress>(p =>
                {
                    if (p.FrameCount > 0) { task.MaxValue = p.FrameCount; task.Value = Math.Min(p.FramesDone, p.FrameCount); }
                    else task.IsIndeterminate = true;
                    task.Description = $"{Markup.Escape(stem)} {p.FramesDone} frames, {p.FramesPerSecond:F1} fps";
                });
                result = await PoseVideo.ProcessAsync(input, estimator, options, progress, ct);
                // A full bar only for a video read to its end: a stopped or broken one shows how far it got.
                if (!result.Cancelled && !result.EndedEarly) task.Value = task.MaxValue;
            });
        var of = result!.ExpectedFrames > 0 ? $" of {result.ExpectedFrames}" : "";
        Console.WriteLine($"{input}: {result.Frames}{of} frames, {result.People} person detections, {result.FramesPerSecond:F1} fps" +
            (result.Cancelled ? " (stopped; the frames done are written)" : ""));
        if (result.EndedEarly)
            Console.Error.WriteLine($"warning: {input}: the video ended after {result.Frames} of the {result.ExpectedFrames} frames its container announces; " +
                "the file is damaged or cut short (the frames read are written)");
        if (options.OutputVideo is not null) Console.WriteLine($"  video: {options.OutputVideo}");
        if (options.JsonDirectory is not null) Console.WriteLine($"  json:  {options.JsonDirectory}");
        return result;
    }

    private static Command Eval()
    {
        var model = ModelOption();
        var size = SizeOption();
        var decoder = new DecoderOptions();
        var keepAspect = new Option<bool>("--keep-aspect") { Description = "Pad to keep the aspect ratio instead of stretching to the network size." };
        var gtBoxes = new Option<bool>("--gt-boxes") { Description = "Top-down: run once per ground-truth person box (enlarged 1.25x, aspect kept) instead of on the whole image; for single-person models." };
        var annotations = new Option<string>("--coco-annotations") { Description = "COCO person_keypoints JSON.", Required = true };
        var images = new Option<string>("--images") { Description = "Folder holding the annotation file's images.", Required = true };
        var results = new Option<string?>("--results") { Description = "Also write the COCO results JSON here." };
        var eval = new Command("eval", "Run the model on a COCO keypoints set and print AP/AR as pycocotools computes them (models whose keypoints map to COCO-17).");
        foreach (var o in new Option[] { model, size, keepAspect, gtBoxes, annotations, images, results }) eval.Add(o);
        decoder.AddTo(eval);
        eval.SetAction((parseResult, ct) =>
        {
            var gt = CocoKeypointDataset.Load(parseResult.GetValue(annotations)!);
            var dir = parseResult.GetValue(images)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Images folder not found: {dir}");
            var byBox = parseResult.GetValue(gtBoxes);
            using var estimator = new PoseEstimator(new ModelStore().Resolve(parseResult.GetValue(model)!),
                decoder.Apply(parseResult, EstimatorOptions(parseResult.GetValue(size), parseResult.GetValue(keepAspect) || byBox)));
            PrintModel(estimator);
            var set = estimator.Model.Keypoints;
            if (set.ToCoco17 is not null && set.CocoKeypointCount < 17)
                Console.WriteLine($"note: {set.Name} provides {set.CocoKeypointCount} of COCO's 17 keypoints; the others count as missed, as pycocotools scores them.");
            var run = PoseEvaluation.Run(estimator, gt, dir, new PoseEvaluationOptions { GroundTruthBoxes = byBox }, new InlineProgress<PoseEvaluationStep>(step =>
            {
                if (step.Skipped is { } why) Console.Error.WriteLine($"warning: skipping {why}");
                else Console.WriteLine($"{step.Image.FileName}: {People(step.People)}");
            }), ct);
            if (parseResult.GetValue(results) is { } resultsPath) PoseJson.WriteCocoResults(resultsPath, run.Detections);
            var stats = run.Stats;
            var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            foreach (var (name, v) in new[] { ("AP", stats.AP), ("AP50", stats.AP50), ("AP75", stats.AP75), ("APm", stats.APMedium), ("APl", stats.APLarge),
                         ("AR", stats.AR), ("AR50", stats.AR50), ("AR75", stats.AR75), ("ARm", stats.ARMedium), ("ARl", stats.ARLarge) })
                table.AddRow(name, v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            return Task.FromResult(0);
        });
        return eval;
    }
}

/// <summary>Progress reported on the reporting thread, in order (<see cref="Progress{T}"/> posts to the thread pool).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
