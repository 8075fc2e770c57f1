using System.Text.Json;
using TfPose.Datasets.CamVid;
using TfPose.Keras;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Segmentation;

/// <summary>What a checkpoint directory records besides weights: the architecture, the normalisation, the training crop.</summary>
public sealed record SegmentationSettings
{
    public required TiramisuConfig Model { get; init; }
    public required float[] Mean { get; init; }
    public required float[] Std { get; init; }
    public int CropHeight { get; init; } = 224;
    public int CropWidth { get; init; } = 224;
    public int Seed { get; init; }
    public float[]? ClassWeights { get; init; }

    public ChannelNormalization Normalization => new(Mean, Std);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    public void Save(string path) => TfPose.IO.AtomicFile.Write(path, s => JsonSerializer.Serialize(s, this, Json));

    public static SegmentationSettings Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: not found (a checkpoint directory holds config.json and the weights)", path);
        SegmentationSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<SegmentationSettings>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not a segmentation config: {ex.Message}", ex);
        }
        catch (ArgumentException ex) // invalid UTF-8 and similar decoding failures
        {
            throw new InvalidDataException($"{path}: not a segmentation config: {ex.Message}", ex);
        }
        if (settings is null)
            throw new InvalidDataException($"{path}: empty settings (the file holds JSON null)");
        settings.Validate(path);
        return settings;
    }

    /// <summary>Largest values a run config may hold: beyond them a model would not fit in memory anyway.</summary>
    public const int MaxBlocks = 7, MaxLayersPerBlock = 64, MaxGrowthRate = 256, MaxFilters = 1024, MaxClasses = 256, MaxCropSide = 4096;

    /// <summary>
    /// Every problem of these settings, or none: checked before anything is built, because a bad field otherwise
    /// surfaces as a native libtorch error, a NullReferenceException or a model that grows without bound.
    /// </summary>
    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        var m = Model;
        if (m is null)
            p.Add("Model: missing");
        else
        {
            if (string.IsNullOrWhiteSpace(m.Name))
                p.Add("Model.Name: missing");
            if (m.DownLayers is null || m.DownLayers.Length == 0)
                p.Add($"Model.DownLayers: give 1 to {MaxBlocks} layer counts (one per down block)");
            else
            {
                if (m.DownLayers.Length > MaxBlocks)
                    p.Add($"Model.DownLayers: {m.DownLayers.Length} blocks, at most {MaxBlocks}");
                for (int i = 0; i < m.DownLayers.Length; i++)
                    if (m.DownLayers[i] is < 1 or > MaxLayersPerBlock)
                        p.Add($"Model.DownLayers[{i}]: {m.DownLayers[i]} layers, must be 1 to {MaxLayersPerBlock}");
            }
            if (m.BottleneckLayers is < 1 or > MaxLayersPerBlock)
                p.Add($"Model.BottleneckLayers: {m.BottleneckLayers}, must be 1 to {MaxLayersPerBlock}");
            if (m.GrowthRate is < 1 or > MaxGrowthRate)
                p.Add($"Model.GrowthRate: {m.GrowthRate}, must be 1 to {MaxGrowthRate}");
            if (m.InitialFilters is < 1 or > MaxFilters)
                p.Add($"Model.InitialFilters: {m.InitialFilters}, must be 1 to {MaxFilters}");
            if (m.Classes is < 2 or > MaxClasses)
                p.Add($"Model.Classes: {m.Classes}, must be 2 to {MaxClasses}");
            if (!(m.DropoutRate is >= 0 and < 1))
                p.Add($"Model.DropoutRate: {m.DropoutRate}, must be at least 0 and below 1");
            if (!(m.WeightDecay >= 0 && double.IsFinite(m.WeightDecay)))
                p.Add($"Model.WeightDecay: {m.WeightDecay}, must be a finite number >= 0");
            if (!(m.BatchNormMomentum is >= 0 and < 1))
                p.Add($"Model.BatchNormMomentum: {m.BatchNormMomentum}, must be at least 0 and below 1");
            if (!Enum.IsDefined(m.TransitionDown))
                p.Add($"Model.TransitionDown: {(int)m.TransitionDown}, must be StridedConv or MaxPool");
        }
        CheckChannels(p, "Mean", Mean, positive: false);
        CheckChannels(p, "Std", Std, positive: true);
        int divisor = m?.DownLayers is { Length: > 0 and <= MaxBlocks } d ? 1 << d.Length : 1;
        foreach (var (name, v) in new[] { ("CropHeight", CropHeight), ("CropWidth", CropWidth) })
            if (v < 1 || v > MaxCropSide || v % divisor != 0)
                p.Add($"{name}: {v}, must be a positive multiple of {divisor} up to {MaxCropSide}");
        if (ClassWeights is { } w)
        {
            if (m is not null && w.Length != m.Classes)
                p.Add($"ClassWeights: {w.Length} values for {m.Classes} classes");
            if (w.Any(x => !(x >= 0 && float.IsFinite(x))))
                p.Add("ClassWeights: every weight must be a finite number >= 0");
        }
        return p;
    }

    private static void CheckChannels(List<string> p, string name, float[]? v, bool positive)
    {
        if (v is null)
            p.Add($"{name}: missing (3 per-channel values)");
        else if (v.Length != 3)
            p.Add($"{name}: {v.Length} values, needs 3 (R, G, B)");
        else if (v.Any(x => !float.IsFinite(x) || (positive && x <= 0)))
            p.Add($"{name}: [{string.Join(", ", v)}], every value must be finite{(positive ? " and above 0" : "")}");
    }

    /// <summary>Throws one error naming <paramref name="source"/> and listing every problem.</summary>
    public void Validate(string source)
    {
        var problems = Problems();
        if (problems.Count > 0)
            throw new InvalidDataException($"{source}: invalid segmentation config ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):\n  " + string.Join("\n  ", problems));
    }
}

/// <summary>
/// A Tiramisu with its normalisation. The Keras model is built for the training crop; inference at other sizes
/// uses models of the same architecture built for those sizes (layer names match), which receive the current
/// weights before each use. Inputs whose sides are not multiples of the size divisor are padded symmetrically with
/// zeros after normalisation (the mean colour) and the output is cropped back.
/// </summary>
public sealed class SegmentationNetwork : IDisposable
{
    private readonly Dictionary<(int H, int W), Model> _sized = [];
    private bool _sizedCurrent;

    public SegmentationNetwork(SegmentationSettings settings)
    {
        settings.Validate("segmentation settings");
        Settings = settings;
        Model = Tiramisu.Build(settings.Model, settings.CropHeight, settings.CropWidth, settings.Seed);
    }

    public SegmentationSettings Settings { get; }

    /// <summary>The model at the training crop size; it owns the weights that training updates and checkpoints store.</summary>
    public Model Model { get; }

    public const string ConfigFile = "config.json";
    public const string BestWeights = "best.safetensors";
    public const string LastWeights = "last.safetensors";

    /// <summary>Loads a checkpoint directory: config.json and <paramref name="weights"/> (best by default, else last).</summary>
    public static SegmentationNetwork Load(string dir, string? weights = null)
    {
        var settings = SegmentationSettings.Load(Path.Combine(dir, ConfigFile));
        var file = weights is not null ? Path.Combine(dir, weights)
            : File.Exists(Path.Combine(dir, BestWeights)) ? Path.Combine(dir, BestWeights) : Path.Combine(dir, LastWeights);
        if (!File.Exists(file))
            throw new FileNotFoundException($"{dir}: no weights ({BestWeights} or {LastWeights})", file);
        var net = new SegmentationNetwork(settings);
        try
        {
            net.Model.LoadWeights(file);
        }
        catch
        {
            net.Dispose();
            throw;
        }
        return net;
    }

    /// <summary>Call after the weights of <see cref="Model"/> changed (a training step, a load), so sized models refresh.</summary>
    public void WeightsChanged() => _sizedCurrent = false;

    /// <summary>The padded size a model needs for <paramref name="height"/>×<paramref name="width"/> images.</summary>
    public (int Height, int Width) PaddedSize(int height, int width)
    {
        int d = Settings.Model.SizeDivisor;
        return ((height + d - 1) / d * d, (width + d - 1) / d * d);
    }

    /// <summary>A model for padded inputs of this size, holding the current weights.</summary>
    public Model ModelFor(int paddedHeight, int paddedWidth)
    {
        if (paddedHeight == Settings.CropHeight && paddedWidth == Settings.CropWidth)
            return Model;
        if (!_sizedCurrent)
        {
            foreach (var m in _sized.Values)
                CopyWeights(Model, m);
            _sizedCurrent = true;
        }
        if (!_sized.TryGetValue((paddedHeight, paddedWidth), out var model))
        {
            model = Tiramisu.Build(Settings.Model, paddedHeight, paddedWidth, Settings.Seed);
            // Callers may be inside a dispose scope (evaluation loops); the cached model's weights must outlive it.
            foreach (var w in model.Layers.SelectMany(l => l.Weights))
                w.Value.DetachFromDisposeScope();
            CopyWeights(Model, model);
            _sized[(paddedHeight, paddedWidth)] = model;
        }
        return model;
    }

    private static void CopyWeights(Model from, Model to)
    {
        for (int i = 0; i < from.Layers.Count; i++)
        {
            var w = from.Layers[i].GetWeights();
            try
            {
                if (w.Length > 0)
                    to.Layers[i].SetWeights(w);
            }
            finally
            {
                foreach (var t in w) t.Dispose();
            }
        }
    }

    /// <summary>
    /// Writes the network for <paramref name="height"/>×<paramref name="width"/> images (padded to the size divisor) as a
    /// frozen GraphDef, batch 1, input <c>image</c> (normalised RGB), output <c>probabilities</c>, and the settings
    /// (normalisation, classes) beside it as <c>PATH.json</c> for <see cref="SegmentationGraph"/>.
    /// </summary>
    public void ExportGraphDef(string path, int height = 360, int width = 480)
    {
        var (ph, pw) = PaddedSize(height, width);
        ModelFor(ph, pw).ExportGraphDef(path, "image", "probabilities");
        Settings.Save(path + ".json");
    }

    /// <summary>Normalised NHWC float tensor of RGB bytes (H×W×3).</summary>
    public Tensor ToInput(ReadOnlySpan<byte> rgb, int height, int width)
    {
        var f = new float[height * width * 3];
        Settings.Normalization.Apply(rgb, f);
        return tensor(f, [1, height, width, 3]);
    }

    /// <summary>Class probabilities (NHWC) for normalised NHWC inputs of any size, in inference mode.</summary>
    public Tensor PredictProbabilities(Tensor input)
    {
        int h = (int)input.shape[1], w = (int)input.shape[2];
        var (ph, pw) = PaddedSize(h, w);
        using var scope = NewDisposeScope();
        int top = (ph - h) / 2, left = (pw - w) / 2;
        var x = ph == h && pw == w ? input : F.pad(input, [0, 0, left, pw - w - left, top, ph - h - top]);
        var y = ModelFor(ph, pw).PredictOnBatch(x);
        if (ph != h || pw != w)
            y = y[.., top..(top + h), left..(left + w), ..].contiguous();
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Arg-max class per pixel of one RGB image (H×W×3 bytes).</summary>
    public byte[] PredictLabels(ReadOnlySpan<byte> rgb, int height, int width)
    {
        using var x = ToInput(rgb, height, width);
        using var p = PredictProbabilities(x);
        using var a = p.argmax(-1).to_type(ScalarType.Byte).flatten();
        return a.data<byte>().ToArray();
    }

    /// <summary>
    /// Confusion matrix over a split at full resolution (the data set's ignore label ignored), up to
    /// <paramref name="batchSize"/> consecutive images of one size per pass; each image is padded to the size divisor
    /// on its own, as <see cref="PredictLabels"/> pads, so a score matches what predict shows.
    /// </summary>
    public ConfusionMatrix Evaluate(CamVidData data, int batchSize = 2, Action<int>? progress = null, CancellationToken ct = default)
    {
        if (data.Description.Classes != Settings.Model.Classes)
            throw new ArgumentException($"{data.Root}: {data.Description.Name} has {data.Description.Classes} classes but the network predicts {Settings.Model.Classes}; evaluate on the data set it was trained on");
        var cm = new ConfusionMatrix(Settings.Model.Classes, data.Description.IgnoreLabel);
        for (int i = 0; i < data.Count;)
        {
            ct.ThrowIfCancellationRequested();
            var (h, w) = data.SizeOf(i);
            int n = 1;
            while (n < batchSize && i + n < data.Count && data.SizeOf(i + n) == (h, w))
                n++;
            int px = h * w;
            var buf = new float[n * px * 3];
            var truth = new byte[n * px];
            for (int b = 0; b < n; b++)
            {
                Settings.Normalization.Apply(data.Image(i + b), buf.AsSpan(b * px * 3, px * 3));
                data.Label(i + b).CopyTo(truth.AsSpan(b * px, px));
            }
            using (var scope = NewDisposeScope())
            {
                var x = tensor(buf, [n, h, w, 3]);
                var pred = PredictProbabilities(x).argmax(-1);
                cm.Add(tensor(truth, [n, h, w]), pred);
            }
            i += n;
            progress?.Invoke(i);
        }
        return cm;
    }

    public void Dispose()
    {
        foreach (var m in _sized.Values) m.Dispose();
        _sized.Clear();
        Model.Dispose();
    }
}
