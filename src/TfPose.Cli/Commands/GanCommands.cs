using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Spectre.Console;
using TfPose.Datasets.FashionMnist;
using TfPose.Gan;
using TfPose.Plotting;
using static TorchSharp.torch;

namespace TfPose.Cli.Commands;

/// <summary><c>tfpose gan train|sample|export|eval</c> and <c>tfpose bench gan</c>.</summary>
internal static class GanCommands
{
    private static Option<string> DataOption() => new("--data") { Description = "Fashion-MNIST folder (IDX files).", Required = true };

    private static Option<string> ClassifierOption() => new("--classifier")
    {
        Description = "Feature classifier weights for the Fréchet distance; trained once (CNN, 5 epochs on the 60,000 training images) and saved there when missing.",
        DefaultValueFactory = _ => GanTrainer.DefaultClassifierPath,
    };
    private static Option<string> CheckpointOption() => new("--checkpoint") { Description = "Checkpoint folder (a run's checkpoint/ folder).", Required = true };

    public static Command Create()
    {
        var gan = new Command("gan", "Train, sample, export and evaluate the reference Fashion-MNIST GAN.");
        gan.Add(Train());
        gan.Add(Sample());
        gan.Add(Export());
        gan.Add(Eval());
        return gan;
    }

    private static Command Train()
    {
        var data = DataOption();
        var epochs = new Option<int>("--epochs") { Description = "Epochs (the reference trains 400; sample grids at 1 and every --sample-every).", DefaultValueFactory = _ => 50 };
        var batch = new Option<int>("--batch-size") { Description = "Batch size.", DefaultValueFactory = _ => 128 };
        var outDir = new Option<string>("--out") { Description = "Run folder: grids, loss.png, losses.csv, checkpoint/, generator.pb. Re-running resumes from its checkpoint.", DefaultValueFactory = _ => "gan-run" };
        var realLabel = new Option<float>("--real-label") { Description = "Label of real images for the discriminator (1.0 as the reference; 0.9 = one-sided label smoothing).", DefaultValueFactory = _ => 1.0f };
        var every = new Option<int>("--sample-every") { Description = "Write a 10x10 sample grid every N epochs.", DefaultValueFactory = _ => 20 };
        var seed = new Option<int>("--seed") { Description = "Seed for weights, noise, dropout and shuffling.", DefaultValueFactory = _ => 0 };
        var fid = new Option<bool>("--fid") { Description = "Score each epoch by the Fréchet distance to the test set (adds frechet and class_entropy to losses.csv); needs the --classifier, trained once when missing." };
        var clfPath = ClassifierOption();
        var noFd = new Option<bool>("--no-fid") { Description = "Kept for old scripts: the Fréchet distance is off unless --fid is given.", Hidden = true };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N training images." };
        var cmd = new Command("train", "Train the GAN with progress, sample grids, loss curve and checkpoints.") { data, epochs, batch, outDir, realLabel, every, seed, fid, clfPath, noFd, limit };
        cmd.SetAction((p, ct) =>
        {
            var run = p.GetValue(outDir)!;
            var display = new TrainingDisplay("gan train", plain: false, r =>
                string.Create(CultureInfo.InvariantCulture, $"epoch {r.Epoch + 1}/{r.Epochs} d {r.Logs.GetValueOrDefault("d_loss"):0.000} g {r.Logs.GetValueOrDefault("g_loss"):0.000}")
                + (r.Logs.TryGetValue("frechet", out var fd) ? string.Create(CultureInfo.InvariantCulture, $" FD {fd:0.0}") : ""));
            var o = new GanTrainOptions
            {
                DataDir = p.GetValue(data)!, OutDir = run, Epochs = p.GetValue(epochs), BatchSize = p.GetValue(batch),
                RealLabel = p.GetValue(realLabel), SampleEvery = p.GetValue(every), Seed = p.GetValue(seed), Limit = p.GetValue(limit),
                ClassifierPath = p.GetValue(fid) && !p.GetValue(noFd) ? p.GetValue(clfPath) : null,
                Progress = display.Progress, Logger = display.Logger,
                // After the trainer's CSVLogger, so the curve includes every epoch of a resumed run.
                Callbacks = [new PlotLogger(Path.Combine(run, GanTrainer.CurvesFile), "Fashion-MNIST GAN", historyCsv: Path.Combine(run, GanTrainer.HistoryFile),
                    labels: new Dictionary<string, string> { ["d_loss"] = "discriminator", ["g_loss"] = "generator" }, leftLabel: "binary cross-entropy", series: ["d_loss", "g_loss"])],
            };
            AnsiConsole.MarkupLine(o.ClassifierPath is null
                ? "[grey]training the GAN; no Fréchet distance (--fid adds it)[/]"
                : $"[grey]training the GAN with a per-epoch Fréchet distance (classifier {Markup.Escape(o.ClassifierPath)})[/]");
            var rows = display.Run(() => GanTrainer.Train(o, ct));
            foreach (var r in rows.TakeLast(3))
                AnsiConsole.WriteLine(string.Join(", ", r.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {(kv.Key == "epoch" ? kv.Value + 1 : kv.Value):0.####}"))));
            using var g = new FashionGan(o.Seed);
            g.LoadCheckpoint(Path.Combine(o.OutDir, GanTrainer.CheckpointFolder));
            var pb = Path.Combine(o.OutDir, "generator.pb");
            g.Generator.ExportGraphDef(pb, "noise", "image");
            AnsiConsole.WriteLine($"generator graph: {pb}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static Command Sample()
    {
        var ckpt = new Option<string?>("--checkpoint") { Description = "Checkpoint folder (a run's checkpoint/ folder): sample with the TorchSharp model." };
        var graph = new Option<string?>("--graph") { Description = "Exported generator (.pb, e.g. a run's generator.pb): sample through the graph runtime, no TorchSharp model." };
        var count = new Option<int>("--count") { Description = "Number of images.", DefaultValueFactory = _ => 100 };
        var outPath = new Option<string>("--out") { Description = "Grid PNG.", DefaultValueFactory = _ => "grid.png" };
        var seed = new Option<int>("--seed") { Description = "Noise seed (the same seed gives the same noise for --checkpoint and --graph).", DefaultValueFactory = _ => 1 };
        var cmd = new Command("sample", "Write a grid of generated images from a checkpoint or from an exported generator graph.") { ckpt, graph, count, outPath, seed };
        cmd.Validators.Add(r =>
        {
            if ((r.GetValue(ckpt) is null) == (r.GetValue(graph) is null))
                r.AddError("Give exactly one of --checkpoint and --graph.");
        });
        cmd.SetAction((p, ct) =>
        {
            int n = p.GetValue(count);
            if (n <= 0)
                throw new ArgumentException($"--count must be positive, got {n}.");
            Tensor s;
            if (p.GetValue(graph) is { } pb)
            {
                using var g = new GeneratorGraph(pb);
                s = g.Sample(n, p.GetValue(seed));
            }
            else
            {
                using var g = new FashionGan(p.GetValue(seed));
                g.LoadCheckpoint(p.GetValue(ckpt)!);
                s = g.Sample(n);
            }
            using (s)
                ImageGrid.SavePng(p.GetValue(outPath)!, FashionGan.ToBytes(s), n, 28, 10);
            AnsiConsole.WriteLine($"wrote {Path.GetFullPath(p.GetValue(outPath)!)}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static Command Export()
    {
        var ckpt = CheckpointOption();
        var outPath = new Option<string>("--out") { Description = "Frozen GraphDef (.pb): Placeholder 'noise' [-1,100] -> 'image' [-1,784] in [-1,1].", DefaultValueFactory = _ => "generator.pb" };
        var cmd = new Command("export", "Export the generator as a frozen TensorFlow GraphDef.") { ckpt, outPath };
        cmd.SetAction((p, ct) =>
        {
            using var g = new FashionGan();
            g.LoadCheckpoint(p.GetValue(ckpt)!);
            g.Generator.ExportGraphDef(p.GetValue(outPath)!, "noise", "image");
            AnsiConsole.WriteLine($"wrote {Path.GetFullPath(p.GetValue(outPath)!)}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    private static Command Eval()
    {
        var ckpt = CheckpointOption();
        var data = DataOption();
        var clfPath = ClassifierOption();
        var count = new Option<int>("--count") { Description = "Generated samples to score.", DefaultValueFactory = _ => 5000 };
        var clfEpochs = new Option<int>("--classifier-epochs") { Description = "Epochs when the classifier has to be trained.", DefaultValueFactory = _ => 5 };
        var cmd = new Command("eval", "Fréchet distance to the test set (classifier features) and spread of predicted classes.") { ckpt, data, clfPath, count, clfEpochs };
        cmd.SetAction((p, ct) =>
        {
            using var g = new FashionGan(1);
            g.LoadCheckpoint(p.GetValue(ckpt)!);
            var display = new TrainingDisplay("feature classifier", plain: false, r => string.Create(CultureInfo.InvariantCulture, $"classifier epoch {r.Epoch + 1}/{r.Epochs} loss {r.Logs["loss"]:0.000}"));
            using var clf = display.Run(() => GanTrainer.LoadOrTrainClassifier(p.GetValue(data)!, p.GetValue(clfPath)!, epochs: p.GetValue(clfEpochs),
                logger: display.Logger, progress: display.Progress));
            var test = FashionMnistData.Load(p.GetValue(data)!, "test");
            using var xt = FashionGan.ToTensor(test);
            using var yt = FashionClassifier.Labels(test);
            var acc = clf.Model.Evaluate(xt, yt, 500)["accuracy"];
            using var real = clf.Features(xt);
            using var s = g.Sample(p.GetValue(count));
            using var f = clf.Features(s);
            using var probs = clf.Predict(s);
            var (frac, entropy) = GanQuality.ClassSpread(probs);
            AnsiConsole.WriteLine($"classifier test accuracy: {acc:P2}");
            AnsiConsole.WriteLine($"Fréchet distance ({p.GetValue(count)} samples vs 10,000 test images): {GanQuality.FrechetDistance(f, real):0.00}");
            AnsiConsole.WriteLine($"class spread (normalised entropy, 1 = uniform): {entropy:0.000}");
            for (int c = 0; c < 10; c++)
                AnsiConsole.WriteLine($"  {FashionMnistData.ClassNames[c],-12} {frac[c]:P1}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    /// <summary><c>tfpose bench gan</c>: one epoch with the Keras API against the same loop in raw TorchSharp.</summary>
    public static Command Bench()
    {
        var data = DataOption();
        var batches = new Option<int>("--batches") { Description = "Batches to time (468 = one 60,000-image epoch at batch 128).", DefaultValueFactory = _ => 468 };
        var repeats = new Option<int>("--repeats") { Description = "Alternating Keras/TorchSharp repetitions; medians are reported (a shared machine's load drifts).", DefaultValueFactory = _ => 3 };
        var cmd = new Command("gan", "Seconds per GAN epoch: Keras-style API vs the same loop written directly in TorchSharp.") { data, batches, repeats };
        cmd.SetAction((p, ct) =>
        {
            var train = FashionMnistData.Load(p.GetValue(data)!, "train");
            using var x = FashionGan.ToTensor(train);
            int nb = Math.Min(p.GetValue(batches), (int)(x.shape[0] / 128));
            int reps = Math.Max(1, p.GetValue(repeats));
            var keras = new List<double>();
            var raw = new List<double>();
            var kerasCpu = new List<double>();
            var rawCpu = new List<double>();
            var proc = Process.GetCurrentProcess();
            double Cpu() { proc.Refresh(); return proc.TotalProcessorTime.TotalSeconds; }
            // Back to back and alternating, so both loops see the same machine load on average. Process CPU seconds
            // are reported beside wall time: on a shared machine they move far less with other people's load.
            for (int rep = 0; rep < reps; rep++)
            {
                ct.ThrowIfCancellationRequested();
                using (var gan = new FashionGan(0))
                {
                    for (int i = 0; i < 5; i++) { using var r = x[0..128]; gan.TrainStep(r); } // warm-up
                    var c0 = Cpu();
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < nb; i++) { using var r = x[(i * 128)..((i + 1) * 128)]; gan.TrainStep(r); }
                    keras.Add(sw.Elapsed.TotalSeconds / nb * 468);
                    kerasCpu.Add((Cpu() - c0) / nb * 468);
                }
                var c1 = Cpu();
                var wall = RawTorchSharpGan.Time(x, nb);
                rawCpu.Add((Cpu() - c1) / nb * 468); // includes the raw loop's 5 warm-up steps: ~1% at 468 batches
                raw.Add(wall / nb * 468);
                AnsiConsole.WriteLine($"run {rep + 1}/{reps}: Keras API {keras[^1]:0.0} s/epoch ({kerasCpu[^1]:0.0} CPU s), TorchSharp {raw[^1]:0.0} s/epoch ({rawCpu[^1]:0.0} CPU s), overhead {(keras[^1] / raw[^1] - 1) * 100:0.0}% wall, {(kerasCpu[^1] / rawCpu[^1] - 1) * 100:0.0}% CPU");
            }
            static double Median(List<double> v) => TfPose.Benchmarks.SampleStatistics.Median(v);
            AnsiConsole.WriteLine($"median over {reps} runs of {nb} batches (scaled to a 60k-image epoch):");
            AnsiConsole.WriteLine($"Keras API : {Median(keras):0.0} s per epoch, {Median(kerasCpu):0.0} CPU s");
            AnsiConsole.WriteLine($"TorchSharp: {Median(raw):0.0} s per epoch, {Median(rawCpu):0.0} CPU s");
            AnsiConsole.WriteLine($"overhead  : {Median(keras.Zip(raw, (k, r) => k / r - 1).ToList()) * 100:0.0}% wall, {Median(kerasCpu.Zip(rawCpu, (k, r) => k / r - 1).ToList()) * 100:0.0}% CPU (medians of per-run ratios)");
            return Task.FromResult(0);
        });
        return cmd;
    }
}

/// <summary>The same GAN step written directly in TorchSharp modules and torch.optim, as the benchmark baseline.</summary>
internal static class RawTorchSharpGan
{
    public static double Time(Tensor x, int batches)
    {
        using var g = nn.Sequential(nn.Linear(100, 256), nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.LeakyReLU(0.2), nn.Linear(512, 1024), nn.LeakyReLU(0.2), nn.Linear(1024, 784), nn.Tanh());
        using var d = nn.Sequential(nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(256, 1), nn.Sigmoid());
        using var og = optim.Adam(g.parameters(), 0.0002, 0.5, 0.999);
        using var od = optim.Adam(d.parameters(), 0.0002, 0.5, 0.999);
        void Step(Tensor real)
        {
            using var scope = NewDisposeScope();
            long b = real.shape[0];
            Tensor fake;
            using (no_grad()) fake = g.call(randn(b, 100));
            od.zero_grad();
            var lossD = nn.functional.binary_cross_entropy(d.call(cat([real, fake], 0)), cat([ones(b, 1), zeros(b, 1)], 0));
            lossD.backward();
            od.step();
            og.zero_grad();
            // The discriminator is frozen for the generator step, as in the Keras loop: no gradients for its weights.
            foreach (var q in d.parameters()) q.requires_grad_(false);
            var lossG = nn.functional.binary_cross_entropy(d.call(g.call(randn(b, 100))), ones(b, 1));
            lossG.backward();
            og.step();
            foreach (var q in d.parameters()) q.requires_grad_(true);
        }
        for (int i = 0; i < 5; i++) { using var r = x[0..128]; Step(r); }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < batches; i++) { using var r = x[(i * 128)..((i + 1) * 128)]; Step(r); }
        return sw.Elapsed.TotalSeconds;
    }
}
