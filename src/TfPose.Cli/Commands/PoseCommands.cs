using System.CommandLine;
using OpenCvSharp;
using Spectre.Console;
using TfPose.Pose;

namespace TfPose.Cli.Commands;

internal static class PoseCommands
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff" };
    private static readonly HashSet<string> VideoExtensions = new(StringComparer.OrdinalIgnoreCase) { ".mp4", ".avi", ".mov", ".mkv" };

    public static Option<string> ModelOption() => new("--model")
    {
        Description = "Frozen OpenPose graph: a .pb path, or a model name from 'tfpose models list' (downloaded).",
        Required = true,
    };

    public static Option<string> SizeOption() => new("--size")
    {
        Description = "Network input size WxH, multiples of 8.",
        DefaultValueFactory = _ => "432x368",
    };

    public static Command Create()
    {
        var inputs = new Argument<string[]>("INPUT")
        {
            Description = "Images, folders (searched recursively) or videos (.mp4, .avi; a number = webcam index).",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = ModelOption();
        var size = SizeOption();
        var ratio = new Option<float>("--ratio") { Description = "Upsampling of the network output before peak search (resize_out_ratio).", DefaultValueFactory = _ => 4f };
        var outDir = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => "tfpose-out" };
        var json = new Option<bool>("--json") { Description = "Write OpenPose JSON (per image, per video frame)." };
        var render = new Option<bool>("--render") { Description = "Write rendered images / annotated videos (default when neither --json nor --render is given: both)." };
        var keepAspect = new Option<bool>("--keep-aspect") { Description = "Pad to keep the aspect ratio instead of stretching to the network size." };
        var scales = new Option<int>("--scales") { Description = "Number of scales to average (OpenPose scale_number).", DefaultValueFactory = _ => 1 };
        var scaleGap = new Option<float>("--scale-gap") { Description = "Gap between scales (OpenPose scale_gap).", DefaultValueFactory = _ => 0.25f };
        var maps = new Option<bool>("--maps") { Description = "Also write heatmap and PAF visualisations for images." };

        var pose = new Command("pose", "Multi-person pose estimation with an OpenPose graph on images, folders and videos.");
        foreach (var o in new Option[] { model, size, ratio, outDir, json, render, keepAspect, scales, scaleGap, maps }) pose.Add(o);
        pose.Add(inputs);
        pose.Add(Eval());
        pose.SetAction(async (parseResult, ct) =>
        {
            var options = EstimatorOptions(parseResult.GetValue(size)!, parseResult.GetValue(ratio), parseResult.GetValue(keepAspect),
                parseResult.GetValue(scales), parseResult.GetValue(scaleGap));
            var modelPath = new ModelStore().Resolve(parseResult.GetValue(model)!);
            var writeJson = parseResult.GetValue(json);
            var writeRender = parseResult.GetValue(render);
            if (!writeJson && !writeRender) writeJson = writeRender = true;
            var output = parseResult.GetValue(outDir)!;
            Directory.CreateDirectory(output);

            using var estimator = new PoseEstimator(modelPath, options);
            var failures = 0;
            foreach (var input in parseResult.GetValue(inputs)!)
            {
                ct.ThrowIfCancellationRequested();
                if (Directory.Exists(input))
                {
                    var files = Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                        .Where(f => ImageExtensions.Contains(Path.GetExtension(f))).Order(StringComparer.Ordinal).ToList();
                    if (files.Count == 0) Console.Error.WriteLine($"warning: {input}: no images found");
                    foreach (var f in files)
                    {
                        if (ct.IsCancellationRequested) break;
                        var rel = Path.GetRelativePath(input, f);
                        try
                        {
                            ProcessImage(estimator, f, Path.Combine(output, Path.GetFileName(Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar)), Path.ChangeExtension(rel, null)),
                                writeJson, writeRender, parseResult.GetValue(maps));
                        }
                        catch (Exception e) when (e is IOException or ArgumentException or InvalidDataException or OpenCVException)
                        {
                            // A folder run goes on past a bad file.
                            Console.Error.WriteLine($"warning: skipping {f}: {e.Message}");
                            failures++;
                        }
                    }
                }
                else if (VideoExtensions.Contains(Path.GetExtension(input)) || (int.TryParse(input, out _) && !File.Exists(input)))
                {
                    await ProcessVideo(estimator, input, output, writeJson, writeRender, ct);
                }
                else if (File.Exists(input))
                {
                    ProcessImage(estimator, input, Path.Combine(output, Path.GetFileNameWithoutExtension(input)), writeJson, writeRender, parseResult.GetValue(maps));
                }
                else
                {
                    throw new FileNotFoundException($"Input not found: {input}", input);
                }
            }
            return failures == 0 ? 0 : 2;
        });
        return pose;
    }

    public static PoseEstimatorOptions EstimatorOptions(string size, float ratio, bool keepAspect = false, int scales = 1, float gap = 0.25f)
    {
        var (w, h) = ParseSize(size);
        return new PoseEstimatorOptions
        {
            Width = w, Height = h, KeepAspectRatio = keepAspect, ScaleNumber = scales, ScaleGap = gap,
            Decoder = new PafDecoderOptions { UpsampleRatio = ratio },
        };
    }

    public static (int W, int H) ParseSize(string size)
    {
        var parts = size.Split('x', 'X');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h))
            throw new ArgumentException($"--size '{size}' is not WIDTHxHEIGHT (e.g. 432x368).");
        return (w, h);
    }

    private static void ProcessImage(PoseEstimator estimator, string path, string outStem, bool json, bool render, bool maps)
    {
        using var image = Cv2.ImRead(path, ImreadModes.Color);
        if (image.Empty())
            throw new InvalidDataException($"{path}: cannot read the image (unsupported, corrupt or empty file).");
        var people = estimator.Estimate(image);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outStem))!);
        if (json) PoseJson.WriteOpenPose(outStem + "_keypoints.json", people);
        if (render)
        {
            using var canvas = image.Clone();
            PoseRenderer.Draw(canvas, people);
            WriteImage(outStem + "_rendered.png", canvas);
        }
        if (maps)
        {
            using var heat = PoseRenderer.RenderMaps(image, estimator.LastOutput, estimator.Options.Model);
            WriteImage(outStem + "_heatmaps.png", heat);
            using var paf = PoseRenderer.RenderMaps(image, estimator.LastOutput, estimator.Options.Model, pafs: true);
            WriteImage(outStem + "_pafs.png", paf);
        }
        Console.WriteLine($"{path}: {people.Count} {(people.Count == 1 ? "person" : "people")}");
    }

    // Encode in memory, then temp file + rename, so a stopped run never leaves a truncated image.
    private static void WriteImage(string path, Mat image)
    {
        Cv2.ImEncode(Path.GetExtension(path), image, out var bytes);
        TfPose.Graph.AtomicFile.WriteAllBytes(path, bytes);
    }

    private static async Task ProcessVideo(PoseEstimator estimator, string input, string output, bool json, bool render, CancellationToken ct)
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
                task.Value = task.MaxValue;
            });
        Console.WriteLine($"{input}: {result!.Frames} frames, {result.People} person detections, {result.FramesPerSecond:F1} fps{(result.Cancelled ? " (stopped; frames done so far are written)" : "")}");
        if (options.OutputVideo is not null) Console.WriteLine($"  video: {options.OutputVideo}");
        if (options.JsonDirectory is not null) Console.WriteLine($"  json:  {options.JsonDirectory}");
    }

    private static Command Eval()
    {
        var model = ModelOption();
        var size = SizeOption();
        var ratio = new Option<float>("--ratio") { Description = "Upsampling of the network output.", DefaultValueFactory = _ => 4f };
        var annotations = new Option<string>("--coco-annotations") { Description = "COCO person_keypoints JSON.", Required = true };
        var images = new Option<string>("--images") { Description = "Folder holding the annotation file's images.", Required = true };
        var results = new Option<string?>("--results") { Description = "Also write the COCO results JSON here." };
        var eval = new Command("eval", "Run the model on a COCO keypoints set and print AP/AR as pycocotools computes them.");
        foreach (var o in new Option[] { model, size, ratio, annotations, images, results }) eval.Add(o);
        eval.SetAction((parseResult, ct) =>
        {
            var gt = CocoKeypointDataset.Load(parseResult.GetValue(annotations)!);
            var dir = parseResult.GetValue(images)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"Images folder not found: {dir}");
            using var estimator = new PoseEstimator(new ModelStore().Resolve(parseResult.GetValue(model)!),
                EstimatorOptions(parseResult.GetValue(size)!, parseResult.GetValue(ratio)));
            var detections = new List<CocoDetection>();
            foreach (var img in gt.Images)
            {
                ct.ThrowIfCancellationRequested();
                var path = Path.Combine(dir, img.FileName);
                using var mat = Cv2.ImRead(path, ImreadModes.Color);
                if (mat.Empty()) { Console.Error.WriteLine($"warning: skipping {path}: cannot read the image"); continue; }
                var people = estimator.Estimate(mat);
                detections.AddRange(people.Select(p => new CocoDetection(img.Id, p)));
                Console.WriteLine($"{img.FileName}: {people.Count} people");
            }
            if (parseResult.GetValue(results) is { } resultsPath) PoseJson.WriteCocoResults(resultsPath, detections);
            var stats = CocoKeypointEval.Evaluate(gt, detections.Select(d => CocoKeypointResult.FromPerson(d.ImageId, d.Person)));
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
