using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TfPose.Datasets.CamVid;
using TfPose.Plotting;
using TfPose.Segmentation;

namespace TfPose.Cli.Commands;

/// <summary><c>tfpose segment train|eval|predict|export|summary</c>: the Tiramisu on CamVid.</summary>
internal static class SegmentCommands
{
    private static Option<string> DataOption() => new("--data")
    {
        Description = "Data folder in the CamVid layout (train.txt, val.txt, test.txt of 'image label' lines); its dataset.json, "
            + "as data pascal-part export writes, names the classes and the ignore label (without one: CamVid, 11 classes, void 11).",
        Required = true,
    };
    private static Option<string> CheckpointOption() => new("--checkpoint") { Description = "Run folder of segment train (config.json, best.safetensors).", Required = true };
    private static Option<string> ModelOption() => new("--model") { Description = "fcdn56, fcdn67, fcdn103, or layers per block ending with the bottleneck (e.g. 4,4,4,4,4,4).", DefaultValueFactory = _ => "fcdn56" };
    private static Option<int?> GrowthOption() => new("--growth") { Description = "Growth rate (default: the model's, 12 for custom lists)." };

    public static Command Create()
    {
        var seg = new Command("segment", "Semantic segmentation: FC-DenseNet (Tiramisu) on CamVid or a data set in its layout (e.g. a PASCAL-Part export).");
        seg.Add(Train());
        seg.Add(Eval());
        seg.Add(Predict());
        seg.Add(Export());
        seg.Add(Summary());
        return seg;
    }

    private static Command Train()
    {
        var data = DataOption();
        var model = ModelOption();
        var growth = GrowthOption();
        var epochs = new Option<int>("--epochs") { Description = "Epochs (reference: 30).", DefaultValueFactory = _ => 30 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size (reference: 10).", DefaultValueFactory = _ => 10 };
        var crop = new Option<int>("--crop") { Description = "Square training crop (reference: 224); images smaller than it are padded with the ignore label.", DefaultValueFactory = _ => 224 };
        var lr = new Option<double>("--lr") { Description = "RMSprop learning rate.", DefaultValueFactory = _ => 1e-3 };
        var decay = new Option<double>("--decay") { Description = "Keras time-based learning-rate decay per update.", DefaultValueFactory = _ => 5e-5 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout rate.", DefaultValueFactory = _ => 0.2 };
        var paper = new Option<bool>("--paper-transition") { Description = "Paper transition down (1x1 conv + 2x2 max-pool) instead of the fast.ai strided 1x1 conv." };
        var weights = new Option<bool>("--class-weights") { Description = "Median-frequency class weights in the loss." };
        var seed = new Option<int>("--seed") { Description = "Seed for weights, dropout, shuffling and crops.", DefaultValueFactory = _ => 1 };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training images." };
        var valLimit = new Option<int?>("--val-limit") { Description = "Use only the first N validation images." };
        var log = new Option<bool>("--log") { Description = "Plain progress lines instead of a live bar (for background runs writing to a file)." };
        var outDir = new Option<string>("--out") { Description = "Run folder: config.json, best/last.safetensors, history.csv, curves.png. Re-running resumes.", DefaultValueFactory = _ => "segment-run" };
        var cmd = new Command("train", "Train with the reference recipe; validation each epoch; resumable.")
            { data, model, growth, epochs, batch, crop, lr, decay, dropout, paper, weights, seed, limit, valLimit, log, outDir };
        cmd.SetAction((p, ct) =>
        {
            var cfg = TiramisuConfig.Parse(p.GetValue(model)!, p.GetValue(growth)) with
            {
                DropoutRate = p.GetValue(dropout),
                TransitionDown = p.GetValue(paper) ? TransitionDownKind.MaxPool : TransitionDownKind.StridedConv,
            };
            var o = new SegmentationTrainOptions
            {
                DataDir = p.GetValue(data)!, OutDir = p.GetValue(outDir)!, Model = cfg, Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch),
                CropHeight = p.GetValue(crop), CropWidth = p.GetValue(crop), LearningRate = p.GetValue(lr), Decay = p.GetValue(decay),
                ClassWeights = p.GetValue(weights), Seed = p.GetValue(seed), Limit = p.GetValue(limit), ValLimit = p.GetValue(valLimit),
            };
            var display = new TrainingDisplay("segment train", p.GetValue(log), r => r.EpochEnd
                ? string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch + 1}/{r.Epochs} done: loss {r.Logs["loss"]:0.0000} val mIoU {r.Logs.GetValueOrDefault("val_miou"):0.0000}")
                : string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch + 1}/{r.Epochs} step {r.Step}/{r.Steps} loss {r.Logs["loss"]:0.0000} acc {r.Logs["accuracy"]:0.0000}"));
            var runDir = o.OutDir;
            o = o with
            {
                Progress = display.Progress, Logger = display.Logger,
                // After the trainer's CSVLogger, so the curves include every epoch of a resumed run.
                Callbacks = [new PlotLogger(Path.Combine(runDir, SegmentationTrainer.CurvesFile), $"Tiramisu on {DatasetDescription.Load(o.DataDir).Name}",
                    historyCsv: Path.Combine(runDir, SegmentationTrainer.HistoryFile), labels: SegmentCurveLabels,
                    leftLabel: "accuracy / IoU (ignore label excluded)", rightLabel: "cross-entropy + L2")],
            };
            var h = display.Run(() => SegmentationTrainer.Train(o, ct));
            foreach (var r in h)
                AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {r.Epoch,3}: loss {r.Loss:0.0000}  val global acc {r.ValGlobalAccuracy:0.0000}  mean class acc {r.ValMeanClassAccuracy:0.0000}  mIoU {r.ValMeanIoU:0.0000}"));
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static Command Eval()
    {
        var data = DataOption();
        var ckpt = CheckpointOption();
        var split = new Option<string>("--split") { Description = "val or test.", DefaultValueFactory = _ => "val" };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N images of the split." };
        var cmd = new Command("eval", "Global accuracy, mean class accuracy, per-class IoU and mIoU at each image's full size (the ignore label, CamVid void, excluded).") { data, ckpt, split, limit };
        cmd.SetAction((p, ct) =>
        {
            var s = p.GetValue(split)!;
            if (s is not ("val" or "test"))
                throw new ArgumentException($"--split must be val or test, not '{s}'.");
            var d = CamVidData.Load(p.GetValue(data)!, s, p.GetValue(limit));
            using var net = SegmentationNetwork.Load(p.GetValue(ckpt)!);
            ConfusionMatrix cm = null!;
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(pr =>
                {
                    var t = pr.AddTask($"eval {s}", maxValue: d.Count);
                    cm = net.Evaluate(d, progress: n => t.Value = n, ct: ct);
                });
            var table = new Table().AddColumns("class", "accuracy", "IoU");
            var acc = cm.ClassAccuracy;
            var iou = cm.IoU;
            for (int c = 0; c < cm.Classes; c++)
                table.AddRow(Markup.Escape(d.Description.ClassNames[c]), Pct(acc[c]), Pct(iou[c]));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"{s}: {d.Count} images, global accuracy {Pct(cm.GlobalAccuracy)}, mean class accuracy {Pct(cm.MeanClassAccuracy)}, mIoU {Pct(cm.MeanIoU)}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static readonly Dictionary<string, string> SegmentCurveLabels = new()
    {
        ["accuracy"] = "train pixel accuracy (crops)",
        ["val_global_accuracy"] = "val global accuracy",
        ["val_mean_class_accuracy"] = "val mean class accuracy",
        ["val_miou"] = "val mIoU",
        ["loss"] = "train loss (right axis)",
    };

    private static string Pct(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("0.0", CultureInfo.InvariantCulture);

    private static Command Predict()
    {
        var images = new Argument<string[]>("images") { Description = "Image files.", Arity = ArgumentArity.OneOrMore };
        var ckpt = new Option<string?>("--checkpoint") { Description = "Run folder of segment train (config.json, best.safetensors): predict with TorchSharp." };
        var graph = new Option<string?>("--graph") { Description = "Graph written by segment export (MODEL.pb and MODEL.pb.json): predict through the graph runtime, no TorchSharp model." };
        var outDir = new Option<string>("--out") { Description = "Folder for NAME_labels.png (CamVid colours) and NAME_overlay.png.", DefaultValueFactory = _ => "segment-out" };
        var cmd = new Command("predict", "Colour label maps and overlays for images, from a checkpoint or an exported graph.") { images, ckpt, graph, outDir };
        cmd.Validators.Add(r =>
        {
            if ((r.GetValue(ckpt) is null) == (r.GetValue(graph) is null))
                r.AddError("Give exactly one of --checkpoint (a segment train run folder) and --graph (a .pb from segment export).");
        });
        cmd.SetAction((p, ct) =>
        {
            IDisposable model;
            Func<string, byte[], int, int, byte[]> labelsOf;
            if (p.GetValue(graph) is { } pb)
            {
                var g = new SegmentationGraph(pb);
                model = g;
                labelsOf = (path, rgb, h, w) =>
                {
                    if (h > g.Height || w > g.Width)
                        throw new ArgumentException($"{path}: image {w}x{h} is larger than the input of {pb} ({g.Width}x{g.Height}); export for this size with segment export --height {h} --width {w}.");
                    // A smaller image is padded to the graph's size; the checkpoint path pads only to the next multiple of the
                    // size divisor, and the extra border changes what the edge convolutions see.
                    var d = g.Settings.Model.SizeDivisor;
                    if ((h + d - 1) / d * d != g.Height || (w + d - 1) / d * d != g.Width)
                        AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(path)}: {w}x{h} is padded to the graph's {g.Width}x{g.Height}; labels near the border can differ from --checkpoint (export for {w}x{h} to match).[/]");
                    return g.PredictLabels(rgb, h, w);
                };
            }
            else
            {
                var net = SegmentationNetwork.Load(p.GetValue(ckpt)!);
                model = net;
                labelsOf = (_, rgb, h, w) => net.PredictLabels(rgb, h, w);
            }
            using (model)
            {
                var o = p.GetValue(outDir)!;
                foreach (var path in p.GetValue(images)!)
                {
                    ct.ThrowIfCancellationRequested();
                    var (rgb, h, w) = CamVidData.ReadRgb(path);
                    var labels = labelsOf(path, rgb, h, w);
                    var name = Path.GetFileNameWithoutExtension(path);
                    LabelMaps.WriteRgbPng(Path.Combine(o, name + "_labels.png"), LabelMaps.Colorize(labels), h, w);
                    LabelMaps.WriteRgbPng(Path.Combine(o, name + "_overlay.png"), LabelMaps.Overlay(rgb, labels), h, w);
                    AnsiConsole.WriteLine($"{path} -> {Path.Combine(o, name + "_labels.png")}, {name}_overlay.png");
                }
            }
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static Command Export()
    {
        var ckpt = CheckpointOption();
        var weights = new Option<string?>("--weights") { Description = "best or last (default: best when the run has it, else last)." };
        weights.AcceptOnlyFromAmong("best", "last");
        var height = new Option<int>("--height") { Description = "Image height the graph takes; padded up to the model's size divisor.", DefaultValueFactory = _ => 360 };
        var width = new Option<int>("--width") { Description = "Image width the graph takes; padded up to the model's size divisor.", DefaultValueFactory = _ => 480 };
        var outPath = new Option<string>("--out") { Description = "Frozen GraphDef to write (MODEL.pb); the normalisation and classes go beside it as MODEL.pb.json.", Required = true };
        var cmd = new Command("export", "Frozen TensorFlow GraphDef of a checkpoint (batch 1, inference-mode BatchNorm) for segment predict --graph and other TensorFlow runtimes.")
            { ckpt, weights, height, width, outPath };
        cmd.SetAction((p, ct) =>
        {
            int h = p.GetValue(height), w = p.GetValue(width);
            if (h <= 0 || w <= 0)
                throw new ArgumentException($"--height and --width must be positive, got {h}x{w}.");
            var dir = p.GetValue(ckpt)!;
            var file = p.GetValue(weights) switch { "best" => SegmentationNetwork.BestWeights, "last" => SegmentationNetwork.LastWeights, _ => null };
            if (file is not null && !File.Exists(Path.Combine(dir, file)))
                throw new FileNotFoundException($"{Path.Combine(dir, file)}: not found (--weights {p.GetValue(weights)})", Path.Combine(dir, file));
            var pb = p.GetValue(outPath)!;
            if (Path.GetDirectoryName(Path.GetFullPath(pb)) is { } parent)
                Directory.CreateDirectory(parent);
            using (var net = SegmentationNetwork.Load(dir, file))
                net.ExportGraphDef(pb, h, w);
            // Reopened through the graph runtime, so a graph that would not load fails here rather than at predict time.
            using var g = new SegmentationGraph(pb);
            AnsiConsole.WriteLine(pb);
            AnsiConsole.WriteLine($"  settings: {pb}.json (normalisation, {g.Settings.Model.Name}, {g.Settings.Model.Classes} classes)");
            AnsiConsole.WriteLine($"  input:  {g.Input.Name} float32 [{string.Join(", ", g.Input.Shape ?? [])}] (NHWC, RGB normalised with the training mean/std)");
            AnsiConsole.WriteLine($"  output: {g.Output.Name} float32 [{string.Join(", ", g.Output.Shape ?? [])}] (softmax over the classes)");
            if (g.Height != h || g.Width != w)
                AnsiConsole.WriteLine($"  {w}x{h} images are padded symmetrically to {g.Width}x{g.Height} (multiples of {g.Settings.Model.SizeDivisor}) and the labels cropped back.");
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static Command Summary()
    {
        var model = ModelOption();
        var growth = GrowthOption();
        var size = new Option<int>("--size") { Description = "Square input size for the shapes.", DefaultValueFactory = _ => 224 };
        var cmd = new Command("summary", "Layer table and parameter count.") { model, growth, size };
        cmd.SetAction((p, ct) =>
        {
            var cfg = TiramisuConfig.Parse(p.GetValue(model)!, p.GetValue(growth));
            using var m = Tiramisu.Build(cfg, p.GetValue(size), p.GetValue(size), 1);
            Console.Write(m.Summary());
            return Task.FromResult(0);
        });
        return cmd;
    }
}
