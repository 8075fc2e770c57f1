using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TfPose.Datasets.CamVid;
using TfPose.Segmentation;

namespace TfPose.Cli.Commands;

/// <summary><c>tfpose segment train|eval|predict|summary</c>: the Tiramisu on CamVid.</summary>
internal static class SegmentCommands
{
    private static Option<string> DataOption() => new("--data") { Description = "CamVid folder (SegNet layout: train.txt, val.txt, test.txt, *annot/).", DefaultValueFactory = _ => "../shared/data/camvid" };
    private static Option<string> CheckpointOption() => new("--checkpoint") { Description = "Run folder of segment train (config.json, best.safetensors).", Required = true };
    private static Option<string> ModelOption() => new("--model") { Description = "fcdn56, fcdn67, fcdn103, or layers per block ending with the bottleneck (e.g. 4,4,4,4,4,4).", DefaultValueFactory = _ => "fcdn56" };
    private static Option<int?> GrowthOption() => new("--growth") { Description = "Growth rate (default: the model's, 12 for custom lists)." };

    public static Command Create()
    {
        var seg = new Command("segment", "Semantic segmentation: FC-DenseNet (Tiramisu) on CamVid.");
        seg.Add(Train());
        seg.Add(Eval());
        seg.Add(Predict());
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
        var crop = new Option<int>("--crop") { Description = "Square training crop (reference: 224).", DefaultValueFactory = _ => 224 };
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
                Log = p.GetValue(log) ? s => Console.WriteLine($"{DateTime.Now:HH:mm:ss} {s}") : null,
            };
            var h = SegmentationTrainer.Train(o, ct);
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
        var cmd = new Command("eval", "Global accuracy, mean class accuracy, per-class IoU and mIoU at full 360x480 (void ignored).") { data, ckpt, split, limit };
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
            for (int c = 0; c < CamVidClasses.Count; c++)
                table.AddRow(CamVidClasses.Names[c], Pct(acc[c]), Pct(iou[c]));
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine($"{s}: {d.Count} images, global accuracy {Pct(cm.GlobalAccuracy)}, mean class accuracy {Pct(cm.MeanClassAccuracy)}, mIoU {Pct(cm.MeanIoU)}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static string Pct(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("0.0", CultureInfo.InvariantCulture);

    private static Command Predict()
    {
        var images = new Argument<string[]>("images") { Description = "Image files.", Arity = ArgumentArity.OneOrMore };
        var ckpt = CheckpointOption();
        var outDir = new Option<string>("--out") { Description = "Folder for NAME_labels.png (CamVid colours) and NAME_overlay.png.", DefaultValueFactory = _ => "segment-out" };
        var cmd = new Command("predict", "Colour label maps and overlays for images.") { images, ckpt, outDir };
        cmd.SetAction((p, ct) =>
        {
            using var net = SegmentationNetwork.Load(p.GetValue(ckpt)!);
            var o = p.GetValue(outDir)!;
            foreach (var path in p.GetValue(images)!)
            {
                ct.ThrowIfCancellationRequested();
                var (rgb, h, w) = CamVidData.ReadRgb(path);
                var labels = net.PredictLabels(rgb, h, w);
                var name = Path.GetFileNameWithoutExtension(path);
                LabelMaps.WriteRgbPng(Path.Combine(o, name + "_labels.png"), LabelMaps.Colorize(labels), h, w);
                LabelMaps.WriteRgbPng(Path.Combine(o, name + "_overlay.png"), LabelMaps.Overlay(rgb, labels), h, w);
                AnsiConsole.WriteLine($"{path} -> {Path.Combine(o, name + "_labels.png")}, {name}_overlay.png");
            }
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
