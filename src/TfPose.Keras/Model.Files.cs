using static TorchSharp.torch;

namespace TfPose.Keras;

// Everything written to or read from disk: whole-model folders, weights with optimizer state, GraphDef export.
public partial class Model
{
    /// <summary>
    /// Writes the model as a frozen TensorFlow GraphDef (binary .pb) for TensorFlow, OpenCV DNN or the project's
    /// graph runtime: Placeholder <paramref name="inputName"/> (NHWC) to Identity <paramref name="outputName"/>.
    /// </summary>
    /// <param name="batchSize">
    /// Null: any batch (-1), except for models with a Conv2DTranspose, whose Conv2DBackpropInput needs a constant
    /// output size including the batch; those are exported for batch 1 unless a batch size is given here.
    /// </param>
    public void ExportGraphDef(string path, string inputName = "input", string outputName = "output", int? batchSize = null)
    {
        var graph = GraphDefExporter.Export(this, inputName, outputName, batchSize);
        TfPose.IO.AtomicFile.Write(path, s => Google.Protobuf.MessageExtensions.WriteTo(graph, s));
    }


    /// <summary>
    /// Saves the whole model, architecture and weights, to a folder (<c>config.json</c> + <c>model.safetensors</c>,
    /// format documented on <see cref="ModelFile"/> and in the README) that <see cref="Load"/> rebuilds without this code.
    /// </summary>
    public void Save(string directory) => ModelFile.Save(this, directory);

    /// <summary>Rebuilds a model saved by <see cref="Save"/>: a <see cref="Sequential"/> or functional model, uncompiled.</summary>
    public static Model Load(string directory, string device = "cpu") => ModelFile.Load(directory, device);

    /// <summary>Weights keyed "layer/weight"; layers of nested models get the model's name as a prefix.</summary>
    private IEnumerable<(string Key, Layer Layer, int Index, Weight Weight)> NamedWeights()
    {
        EnsureGraph();
        var seen = new HashSet<Weight>(ReferenceEqualityComparer.Instance);
        foreach (var item in NamedWeights(""))
            if (seen.Add(item.Weight))
                yield return item;
    }

    private IEnumerable<(string Key, Layer Layer, int Index, Weight Weight)> NamedWeights(string prefix)
    {
        EnsureGraph();
        foreach (var l in _layers)
        {
            if (l is Model m)
            {
                foreach (var item in m.NamedWeights(prefix + m.Name + "/"))
                    yield return item;
                continue;
            }
            for (int i = 0; i < l.Weights.Count; i++)
                yield return ($"{prefix}{l.Name}/{l.Weights[i].Name}", l, i, l.Weights[i]);
        }
    }

    /// <summary>
    /// Saves all weights (Keras layouts) as a safetensors file; with <paramref name="includeOptimizer"/> also the
    /// optimizer's moments and iteration count, so training resumes exactly (a checkpoint).
    /// </summary>
    public void SaveWeights(string path, bool includeOptimizer = false, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var meta = new Dictionary<string, string> { ["format"] = "tfpose-keras-weights-1", ["model"] = Name };
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>()) meta[k] = v;
        var list = new List<(string, Tensor)>();
        var owned = new List<Tensor>();
        try
        {
            foreach (var (key, layer, _, w) in NamedWeights())
            {
                var t = layer.ToKerasLayout(w, w.Value);
                if (!ReferenceEquals(t, w.Value))
                    owned.Add(t); // a permuted view; never dispose the weight itself
                list.Add((key, t));
                if (includeOptimizer && _optimizer is not null && _optimizer.HasSlots(w))
                {
                    var slots = _optimizer.Slots(w);
                    for (int s = 0; s < slots.Length; s++)
                        list.Add(($"optimizer/{key}/slot{s}", slots[s]));
                }
            }
            if (includeOptimizer && _optimizer is not null)
                meta["optimizer.iterations"] = _optimizer.Iterations.ToString(System.Globalization.CultureInfo.InvariantCulture);
            WeightsFile.Write(path, list, meta);
        }
        finally
        {
            foreach (var t in owned) t.Dispose();
        }
    }

    /// <summary>Loads weights saved by <see cref="SaveWeights"/> (matched by layer and weight name); returns the metadata.</summary>
    public IReadOnlyDictionary<string, string> LoadWeights(string path)
    {
        var (tensors, meta) = WeightsFile.Read(path);
        try
        {
            using var _ = no_grad();
            foreach (var (key, layer, _, w) in NamedWeights())
            {
                if (!tensors.TryGetValue(key, out var t))
                    throw new InvalidDataException($"{path}: no weight '{key}' for model '{Name}'.");
                using var stored = layer.FromKerasLayout(w, t);
                if (!stored.shape.SequenceEqual(w.Value.shape))
                    throw new InvalidDataException($"{path}: weight '{key}' has shape [{string.Join(", ", t.shape)}], the model expects Keras shape [{string.Join(", ", layer.ToKerasLayout(w, w.Value).shape)}].");
                w.Value.copy_(stored);
                if (_optimizer is not null && tensors.ContainsKey($"optimizer/{key}/slot0"))
                {
                    var slots = _optimizer.Slots(w);
                    for (int s = 0; s < slots.Length; s++)
                        if (tensors.TryGetValue($"optimizer/{key}/slot{s}", out var st))
                            slots[s].copy_(st);
                }
            }
            if (_optimizer is not null && meta.TryGetValue("optimizer.iterations", out var it))
                _optimizer.Iterations = long.Parse(it, System.Globalization.CultureInfo.InvariantCulture);
            return meta;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Copies of every weight (moving statistics included), in <see cref="NamedWeights()"/> order; the caller disposes them.</summary>
    internal Tensor[] SnapshotWeights()
    {
        using var _ = no_grad();
        return NamedWeights().Select(n => n.Weight.Value.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    /// <summary>Puts back weights taken by <see cref="SnapshotWeights"/>.</summary>
    internal void RestoreWeights(Tensor[] snapshot)
    {
        using var _ = no_grad();
        int i = 0;
        foreach (var n in NamedWeights())
            n.Weight.Value.copy_(snapshot[i++]);
    }
}
