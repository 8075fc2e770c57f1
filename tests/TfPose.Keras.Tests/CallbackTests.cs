using System.Globalization;
using static TorchSharp.torch;

namespace TfPose.Keras.Tests;

/// <summary>
/// Fit's callbacks against traces worked by hand from Keras' rules. Monitored values are scripted by a callback listed
/// first (callbacks share the epoch's logs), so the expected decisions do not depend on training noise.
/// </summary>
public sealed class CallbackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("callbacks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Callback Script(string key, params double[] values) =>
        new LambdaCallback(onEpochEnd: (e, logs) => logs[key] = values[e]);

    /// <summary>y = w·x with w = [1, 0], one sample x = [1, 0], target 0: loss w0², gradient 2·w0, SGD w0 ← w0·(1 − 2·lr).</summary>
    private static (Sequential Model, Tensor X, Tensor Y) OneWeight(double lr = 0.1)
    {
        var m = T.Linear(1, 0);
        m.Compile(new SGD(lr), "mse");
        return (m, T.F([1, 0], 1, 2), T.F([0], 1, 1));
    }

    [Fact]
    public void EarlyStopping_counts_patience_from_the_last_improvement_larger_than_min_delta()
    {
        var (m, x, y) = OneWeight();
        using (m) using (x) using (y)
        {
            // 1.0, 0.97, 0.96, 0.5 with patience 2: without min_delta every epoch improves, so all 4 run.
            var plain = new EarlyStopping(patience: 2);
            Assert.Equal(4, m.Fit(x, y, epochs: 4, callbacks: [Script("val_loss", 1.0, 0.97, 0.96, 0.5), plain], verbose: 0)["loss"].Count);
            Assert.Equal(0, plain.StoppedEpoch);
            // min_delta 0.05: 0.97 and 0.96 are not 0.05 below 1.0, so the wait reaches 2 at epoch index 2 and training stops.
            var strict = new EarlyStopping(minDelta: 0.05, patience: 2);
            Assert.Equal(3, m.Fit(x, y, epochs: 4, callbacks: [Script("val_loss", 1.0, 0.97, 0.96, 0.5), strict], verbose: 0)["loss"].Count);
            Assert.Equal(2, strict.StoppedEpoch);
            // mode auto maximises accuracies: 0.5, 0.6, 0.55, 0.58 with patience 1 stops at index 2.
            var acc = new EarlyStopping("val_accuracy", patience: 1);
            Assert.Equal(3, m.Fit(x, y, epochs: 4, callbacks: [Script("val_accuracy", 0.5, 0.6, 0.55, 0.58), acc], verbose: 0)["loss"].Count);
        }
    }

    [Fact]
    public void EarlyStopping_restore_best_weights_puts_back_the_best_epochs_weights()
    {
        var (m, x, y) = OneWeight();
        using (m) using (x) using (y)
        {
            var w0 = new List<float>();
            var record = new LambdaCallback(onEpochEnd: (_, _) => { using var k = m.Layers[0].GetWeights()[0]; w0.Add(T.Values(k)[0]); });
            var stop = new EarlyStopping(patience: 2, restoreBestWeights: true);
            // Best at index 1; indices 2 and 3 do not improve, so it stops after index 3 and restores index 1's weights.
            m.Fit(x, y, epochs: 6, callbacks: [Script("val_loss", 5, 1, 2, 3, 0, 0), record, stop], verbose: 0);
            Assert.Equal(4, w0.Count);
            Assert.Equal(3, stop.StoppedEpoch);
            Assert.Equal(1, stop.BestEpoch);
            // w0 after 2 updates of lr 0.1: 1 · 0.8 · 0.8.
            Assert.Equal(0.64f, w0[1], 5);
            using var k = m.Layers[0].GetWeights()[0];
            Assert.Equal(0.64f, T.Values(k)[0], 5);
            Assert.NotEqual(w0[3], T.Values(k)[0]);
        }
    }

    [Fact]
    public void ReduceLROnPlateau_follows_factor_patience_cooldown_and_min_lr()
    {
        var (m, x, y) = OneWeight(lr: 0.1);
        using (m) using (x) using (y)
        {
            // A flat val_loss: index 0 sets the best; waits reach 2 at index 2 (0.1 → 0.05, cooldown 1); index 3 spends
            // the cooldown and counts 1; index 4 reaches 2 (0.05 · 0.5 = 0.025, raised to min_lr 0.03); index 6 would
            // reduce again but the rate is at min_lr. The logged rate is the one the epoch trained with.
            var h = m.Fit(x, y, epochs: 7, callbacks: [Script("val_loss", 1, 1, 1, 1, 1, 1, 1),
                new ReduceLROnPlateau(factor: 0.5, patience: 2, cooldown: 1, minLr: 0.03)], verbose: 0);
            Assert.Equal([0.1, 0.1, 0.1, 0.05, 0.05, 0.03, 0.03], h["learning_rate"].Select(v => Math.Round(v, 10)));
            Assert.Equal(0.03, m.Optimizer!.LearningRate, 12);
            Assert.Throws<ArgumentException>(() => new ReduceLROnPlateau(factor: 1.0));
        }
    }

    [Fact]
    public void LearningRateScheduler_sets_the_rate_each_epoch_and_the_updates_use_it()
    {
        var (m, x, y) = OneWeight(lr: 0.1);
        using (m) using (x) using (y)
        {
            var h = m.Fit(x, y, epochs: 4, callbacks: [new LearningRateScheduler((e, lr) => e < 2 ? lr : lr * 0.5)], verbose: 0);
            Assert.Equal([0.1, 0.1, 0.05, 0.025], h["learning_rate"].Select(v => Math.Round(v, 12)));
            // w0 = 1 · (1 − 0.2)(1 − 0.2)(1 − 0.1)(1 − 0.05) = 0.5472; each epoch's loss is w0² before its update.
            using var k = m.Layers[0].GetWeights()[0];
            Assert.Equal(0.5472f, T.Values(k)[0], 5);
            Assert.Equal([1.0, 0.64, 0.4096, 0.331776], h["loss"].Select(v => Math.Round(v, 6)));
        }
    }

    [Fact]
    public void CSVLogger_writes_epoch_then_sorted_keys_and_appends()
    {
        var (m, x, y) = OneWeight(lr: 0.1);
        using (m) using (x) using (y)
        {
            var path = Path.Combine(_dir, "log.csv");
            m.Fit(x, y, epochs: 2, callbacks: [Script("val_loss", 3, 2), new CSVLogger(path)], verbose: 0);
            var lines = File.ReadAllLines(path);
            Assert.Equal("epoch,loss,val_loss", lines[0]);
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("0,1,3", lines[1], StringComparison.Ordinal);
            var second = lines[2].Split(',');
            Assert.Equal("1", second[0]);
            Assert.Equal(0.64, double.Parse(second[1], CultureInfo.InvariantCulture), 6);
            Assert.Equal("2", second[2]);
            // append continues the file (Fit restarts its epochs at 0, as Keras' does); without append it starts over.
            m.Fit(x, y, epochs: 1, initialEpoch: 0, callbacks: [Script("val_loss", 7), new CSVLogger(path, separator: ",", append: true)], verbose: 0);
            Assert.Equal(2, File.ReadAllLines(path).Length);
            m.Fit(x, y, epochs: 3, initialEpoch: 2, callbacks: [Script("val_loss", 0, 0, 9), new CSVLogger(path, append: true)], verbose: 0);
            var rows = CSVLogger.Read(path);
            Assert.Equal([0.0, 2.0], rows.Select(r => r["epoch"]));
            Assert.Equal(9, rows[1]["val_loss"]);
        }
    }

    [Fact]
    public void ModelCheckpoint_save_best_only_saves_improvements_with_formatted_names()
    {
        var (m, x, y) = OneWeight();
        using (m) using (x) using (y)
        {
            var template = Path.Combine(_dir, "w{epoch:02d}-{val_loss:.1f}.safetensors");
            m.Fit(x, y, epochs: 4, callbacks: [Script("val_loss", 3, 1, 2, 0.5), new ModelCheckpoint(template, saveBestOnly: true, saveWeightsOnly: true)], verbose: 0);
            Assert.Equal(["w01-3.0.safetensors", "w02-1.0.safetensors", "w04-0.5.safetensors"],
                Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var meta = m.LoadWeights(Path.Combine(_dir, "w02-1.0.safetensors"));
            Assert.Equal("2", meta["epoch"]);
            // The weights of epoch 2 (two updates): w0 = 0.64.
            using var k = m.Layers[0].GetWeights()[0];
            Assert.Equal(0.64f, T.Values(k)[0], 5);
        }
    }

    [Fact]
    public void ModelCheckpoint_with_a_batch_frequency_saves_mid_epoch_counting_across_epochs()
    {
        // 5 samples, batch 1, 2 epochs: every 2nd batch saves, counting across the epoch boundary, so the file of
        // epoch 1 is last written after its 4th batch and that of epoch 2 after the 10th (the final weights).
        var m = T.Linear(1, 0);
        m.Compile(new SGD(0.05), "mse");
        using (m)
        using (var x = T.F([1, 0, 1, 0, 1, 0, 1, 0, 1, 0], 5, 2))
        using (var y = zeros(5, 1))
        {
            var afterBatch = new Dictionary<(int, int), float>();
            var record = new LambdaCallback(onTrainBatchEnd: (b, _) => { using var k = m.Layers[0].GetWeights()[0]; afterBatch[(m.Optimizer!.Iterations > 5 ? 1 : 0, b)] = T.Values(k)[0]; });
            var template = Path.Combine(_dir, "ck{epoch}.safetensors");
            m.Fit(x, y, batchSize: 1, epochs: 2, shuffle: false, callbacks: [record, new ModelCheckpoint(template, saveWeightsOnly: true, saveFreq: "2")], verbose: 0);
            float W(string file)
            {
                using var other = T.Linear(0, 0);
                other.LoadWeights(Path.Combine(_dir, file));
                using var k = other.Layers[0].GetWeights()[0];
                return T.Values(k)[0];
            }
            // w0 = 0.9^n after n updates.
            Assert.Equal(MathF.Pow(0.9f, 4), W("ck1.safetensors"), 5);
            Assert.Equal(afterBatch[(0, 3)], W("ck1.safetensors"));
            Assert.Equal(MathF.Pow(0.9f, 10), W("ck2.safetensors"), 5);
            Assert.Throws<ArgumentException>(() => new ModelCheckpoint(template, saveFreq: "0"));
        }
    }

    private sealed class Interrupt(int epoch, int batch) : Callback
    {
        public override void OnTrainBatchEnd(int b, Logs logs)
        {
            if (State.Epoch == epoch && b == batch)
                throw new OperationCanceledException("interrupted");
        }
    }

    private static Sequential Net() => new([new Dense(8, "relu", inputShape: [3]), new Dropout(0.5), new Dense(1)], seed: 11);

    [Fact]
    public void BackupAndRestore_resumes_mid_epoch_to_the_same_weights_history_and_csv()
    {
        using var gen = new Generator(5);
        using var x = randn([8, 3], generator: gen);
        using var y = randn([8, 1], generator: gen);

        // The uninterrupted run: 3 epochs of 4 batches.
        using var a = Net();
        a.Compile(new Adam(0.01), "mse");
        var csvA = Path.Combine(_dir, "a.csv");
        var ha = a.Fit(x, y, batchSize: 2, epochs: 3, callbacks: [new CSVLogger(csvA, append: true)], verbose: 0);

        // The same run stopped after batch 3 of epoch 1 (backups every 3 batches: the last one after that batch), then
        // resumed by a fresh model and optimizer.
        var backup = Path.Combine(_dir, "backup");
        var csvB = Path.Combine(_dir, "b.csv");
        using (var b1 = Net())
        {
            b1.Compile(new Adam(0.01), "mse");
            Assert.Throws<OperationCanceledException>(() => b1.Fit(x, y, batchSize: 2, epochs: 3, verbose: 0,
                callbacks: [new CSVLogger(csvB, append: true), new BackupAndRestore(backup, saveFreq: "3"), new Interrupt(1, 2)]));
        }
        using var b2 = Net();
        b2.Compile(new Adam(0.01), "mse");
        var restore = new BackupAndRestore(backup, saveFreq: "3");
        var hb = b2.Fit(x, y, batchSize: 2, epochs: 3, verbose: 0, callbacks: [new CSVLogger(csvB, append: true), restore]);

        Assert.True(restore.Restored);
        Assert.Equal([1, 2], hb.Epoch);
        Assert.Equal(ha["loss"].Skip(1), hb["loss"]);
        Assert.Equal(12, b2.Optimizer!.Iterations);
        foreach (var (wa, wb) in a.Layers.SelectMany(l => l.GetWeights()).Zip(b2.Layers.SelectMany(l => l.GetWeights())))
            using (wa) using (wb)
                Assert.Equal(T.Values(wa), T.Values(wb));
        Assert.Equal(File.ReadAllLines(csvA), File.ReadAllLines(csvB));
        // Completed: Keras' default deletes the backup.
        Assert.False(File.Exists(restore.Path));
    }

    [Fact]
    public void Progress_reports_every_batch_and_epoch_end()
    {
        var (m, x, y) = OneWeight();
        using (m) using (x) using (y)
        {
            var reports = new List<FitProgress>();
            m.Fit(x, y, epochs: 2, callbacks: [new ProgressCallback(new Sync(reports.Add))], verbose: 0);
            Assert.Equal([false, true, false, true], reports.Select(r => r.EpochEnd));
            Assert.Equal([1L, 1, 2, 2], reports.Select(r => r.StepsDone));
            Assert.Equal([1L, 1, 0, 0], reports.Select(r => r.StepsLeft));
            Assert.Equal(0.64, reports[2].Logs["loss"], 6);
        }
    }

    private sealed class Sync(Action<FitProgress> report) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => report(value);
    }

    [Fact]
    public void Array_overloads_train_evaluate_and_predict()
    {
        // Two classes separated by the sign of x0 − x1.
        var rng = new Random(3);
        int n = 200;
        var xs = new float[n, 2];
        var ys = new int[n];
        for (int i = 0; i < n; i++)
        {
            xs[i, 0] = (float)(rng.NextDouble() * 2 - 1);
            xs[i, 1] = (float)(rng.NextDouble() * 2 - 1);
            ys[i] = xs[i, 0] > xs[i, 1] ? 1 : 0;
        }
        using var model = new Sequential([new Dense(2, "softmax", inputShape: [2])], seed: 1);
        model.Compile(new Adam(0.05), "sparse_categorical_crossentropy", ["accuracy"]);
        model.Fit(xs, ys, batchSize: 20, epochs: 20, verbose: 0);
        Assert.True(model.Evaluate(xs, ys)["accuracy"] > 0.95);
        var p = model.Predict(xs);
        Assert.Equal(n, p.GetLength(0));
        Assert.Equal(2, p.GetLength(1));
        Assert.Equal(1f, p[0, 0] + p[0, 1], 5);
        var ex = Assert.Throws<ArgumentException>(() => model.Fit(new float[3, 5], new int[3], verbose: 0));
        Assert.Contains("5 columns", ex.Message);
    }
}
