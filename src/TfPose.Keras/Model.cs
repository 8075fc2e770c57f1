using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// A Keras model: a graph of layers from inputs to outputs (the functional API), itself usable as a layer.
/// Data at the API is channels-last (NHWC) float32 tensors with the batch first; class-index targets are int64.
/// </summary>
public class Model : Layer
{
    private readonly List<Layer> _layers = [];
    private readonly List<Node> _nodes = [];
    private KerasTensor[] _inputs = [];
    private KerasTensor[] _outputs = [];
    private Generator? _generator;
    private Random _random;
    private Optimizer? _optimizer;
    private Loss? _loss;
    private bool _accuracy;
    private HashSet<Layer>? _compiledTrainable;
    private List<Weight> _trainableWeights = [];
    private List<Weight> _regularized = [];

    /// <summary>Functional model from symbolic inputs to outputs.</summary>
    /// <param name="seed">Seeds weight initialisation, dropout masks and shuffling; null draws a random seed.</param>
    /// <param name="device">"cpu" (default) or "cuda" when TorchSharp has CUDA.</param>
    public Model(KerasTensor[] inputs, KerasTensor[] outputs, string? name = null, int? seed = null, string device = "cpu")
        : this(name, seed, device)
    {
        Initialize(inputs, outputs);
    }

    public Model(KerasTensor input, KerasTensor output, string? name = null, int? seed = null, string device = "cpu")
        : this([input], [output], name, seed, device)
    {
    }

    protected Model(string? name, int? seed, string device) : base(name)
    {
        Seed = seed ?? Random.Shared.Next();
        Device = torch.device(device);
        _random = new Random(Seed);
    }

    public int Seed { get; }
    public Device Device { get; }
    public override string KerasName => "Functional";

    /// <summary>Layers in execution order (input layers excluded).</summary>
    public IReadOnlyList<Layer> Layers { get { EnsureGraph(); return _layers; } }

    public IReadOnlyList<KerasTensor> Inputs { get { EnsureGraph(); return _inputs; } }
    public IReadOnlyList<KerasTensor> Outputs { get { EnsureGraph(); return _outputs; } }

    public Optimizer? Optimizer => _optimizer;

    /// <summary>Weights the compiled model updates (empty before Compile).</summary>
    public IReadOnlyList<Weight> TrainableWeights => _trainableWeights;

    internal Generator Generator => _generator ??= new Generator((ulong)Seed, Device);

    /// <summary>Sequential builds its graph lazily; functional models are built in the constructor.</summary>
    protected virtual void EnsureGraph() { }

    protected void Initialize(KerasTensor[] inputs, KerasTensor[] outputs)
    {
        _inputs = inputs;
        _outputs = outputs;
        _nodes.Clear();
        _releasePlan = null;
        _layers.Clear();
        var visited = new HashSet<Node>();
        foreach (var o in outputs)
            Visit(o, visited);
        if (outputs.Length == 0)
            throw new ArgumentException($"Model '{Name}' has no outputs.");
        // Name unnamed layers Keras style, unique within this model.
        var used = new HashSet<string>(_layers.Where(l => l.HasName).Select(l => l.Name));
        foreach (var l in _layers.Where(l => !l.HasName))
        {
            var baseName = ToSnake(l.KerasName);
            var candidate = baseName;
            for (int i = 1; used.Contains(candidate); i++)
                candidate = $"{baseName}_{i}";
            used.Add(candidate);
            l.AssignName(candidate);
        }
        // Weights are created here, in execution order, from this model's seed: same seed, same weights.
        foreach (var l in _layers)
            l.EnsureBuilt(Generator, Device);
        foreach (var w in _layers.SelectMany(l => l.AllWeights()))
            if (w.Value.device != Device)
                w.Value = w.Value.to(Device).detach().requires_grad_(w.IsTrainableWeight);
        MarkBuilt();
    }

    private void Visit(KerasTensor t, HashSet<Node> visited)
    {
        if (t.Producer is null)
        {
            if (!_inputs.Contains(t))
                throw new ArgumentException($"Model '{Name}': graph disconnected, {t.Name} is an input of the graph that is not among the model inputs.");
            return;
        }
        if (!visited.Add(t.Producer))
            return;
        foreach (var i in t.Producer.Inputs)
            Visit(i, visited);
        _nodes.Add(t.Producer);
        if (!_layers.Contains(t.Producer.Layer))
            _layers.Add(t.Producer.Layer);
    }

    private static string ToSnake(string kerasName)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < kerasName.Length; i++)
        {
            var c = kerasName[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(kerasName[i - 1]) || (i + 1 < kerasName.Length && char.IsLower(kerasName[i + 1]))))
                sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    // ----- Layer behaviour (a model inside a model) -----

    public override int[] ComputeOutputShape(int[][] inputShapes)
    {
        EnsureGraph();
        for (int i = 0; i < _inputs.Length; i++)
            if (!_inputs[i].Shape.SequenceEqual(inputShapes[i]))
                throw new ArgumentException($"Model '{Name}' expects input {Layout.Format(_inputs[i].Shape)}, got {Layout.Format(inputShapes[i])}.");
        if (_outputs.Length != 1)
            throw new NotSupportedException($"Model '{Name}' has {_outputs.Length} outputs; only single-output models can be nested.");
        return _outputs[0].Shape;
    }

    internal override Tensor Forward(Tensor[] inputs, CallContext ctx) => Run(inputs, ctx)[0];

    internal override IEnumerable<Layer> SelfAndDescendants()
    {
        EnsureGraph();
        return _layers.SelectMany(l => l.SelfAndDescendants()).Prepend(this);
    }

    internal override IEnumerable<Layer> TrainableLayers()
    {
        EnsureGraph();
        // A frozen model freezes everything inside it, whatever the inner flags say (Keras semantics).
        return Trainable ? _layers.SelectMany(l => l.TrainableLayers()).Prepend(this) : [];
    }

    internal Tensor[] Run(Tensor[] inputs, CallContext ctx)
    {
        EnsureGraph();
        if (inputs.Length != _inputs.Length)
            throw new ArgumentException($"Model '{Name}' takes {_inputs.Length} input(s), got {inputs.Length}.");
        var values = new Dictionary<KerasTensor, Tensor>(ReferenceEqualityComparer.Instance);
        // Live bindings per tensor object: identity layers (Dropout at inference, a one-input Concatenate) return
        // their input itself, so a tensor may only be freed once no live value refers to it.
        var bindings = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        void Bind(KerasTensor k, Tensor t)
        {
            values[k] = t;
            bindings[t] = bindings.GetValueOrDefault(t) + 1;
        }
        for (int i = 0; i < inputs.Length; i++)
            Bind(_inputs[i], inputs[i]);
        var releaseAfter = ReleasePlan();
        for (int i = 0; i < _nodes.Count; i++)
        {
            var n = _nodes[i];
            var args = new Tensor[n.Inputs.Length];
            for (int j = 0; j < args.Length; j++)
                args[j] = values[n.Inputs[j]];
            Bind(n.Output, n.Layer.Forward(args, ctx));
            // A value's handle is disposed right after its last consumer ran. Autograd keeps (by reference count) what
            // backward needs; everything else — BatchNorm outputs after their ReLU, conv outputs after their Dropout —
            // is freed now instead of when the step's dispose scope ends, which bounds peak memory by what training
            // really needs (the Tiramisu at 224x224 otherwise held every intermediate of the whole network at once).
            foreach (var k in releaseAfter[i])
            {
                var t = values[k];
                values.Remove(k);
                if ((bindings[t] -= 1) == 0)
                {
                    bindings.Remove(t);
                    t.Dispose();
                }
            }
        }
        return _outputs.Select(o => values[o]).ToArray();
    }

    private List<KerasTensor>[]? _releasePlan;

    /// <summary>For each node, the intermediate values whose last consumer it is (never model inputs or outputs).</summary>
    private List<KerasTensor>[] ReleasePlan()
    {
        if (_releasePlan is { } plan && plan.Length == _nodes.Count)
            return plan;
        var lastUse = new Dictionary<KerasTensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < _nodes.Count; i++)
        {
            lastUse.TryAdd(_nodes[i].Output, i); // unused outputs go right after they are made
            foreach (var k in _nodes[i].Inputs)
                lastUse[k] = i;
        }
        plan = new List<KerasTensor>[_nodes.Count];
        for (int i = 0; i < plan.Length; i++)
            plan[i] = [];
        foreach (var (k, i) in lastUse)
            if (!_inputs.Contains(k) && !_outputs.Contains(k))
                plan[i].Add(k);
        return _releasePlan = plan;
    }

    // ----- Compile and training -----

    /// <summary>
    /// Configures training. As in Keras, the set of trainable weights is fixed here from the current
    /// <see cref="Layer.Trainable"/> flags: freezing a sub-model afterwards does not affect this model until it is compiled again.
    /// </summary>
    public void Compile(Optimizer optimizer, Loss loss, string[]? metrics = null)
    {
        EnsureGraph();
        foreach (var m in metrics ?? [])
            if (m is not ("accuracy" or "acc"))
                throw new ArgumentException($"Unknown metric '{m}'. Known: accuracy.");
        _optimizer = optimizer;
        _loss = loss;
        _accuracy = metrics?.Length > 0;
        _compiledTrainable = TrainableLayers().ToHashSet();
        _trainableWeights = _compiledTrainable.SelectMany(l => l.Weights).Where(w => w.IsTrainableWeight).Distinct().ToList();
        _regularized = _trainableWeights.Where(w => w.Regularizer is not null).ToList();
    }

    public bool IsCompiled => _loss is not null;

    private void RequireCompiled(string what)
    {
        if (_loss is null || _optimizer is null)
            throw new InvalidOperationException($"Model '{Name}' must be compiled before {what}.");
    }

    private Tensor[] PrepareInputs(Tensor x) => [Layout.ToInternal(x.to(Device))];

    private Tensor PrepareTargets(Tensor y) => _loss!.SparseTargets ? y.to(Device) : Layout.ToInternal(y.to(Device).to_type(ScalarType.Float32));

    /// <summary>One gradient step on one batch; returns the loss (including regularisation) and metrics.</summary>
    public Logs TrainOnBatch(Tensor x, Tensor y)
    {
        RequireCompiled("TrainOnBatch");
        using var scope = NewDisposeScope();
        var ctx = new CallContext(true, Generator, _compiledTrainable);
        var pred = Run(PrepareInputs(x), ctx)[0];
        var target = PrepareTargets(y);
        var loss = _loss!.Compute(target, pred);
        foreach (var w in _regularized)
            loss = loss + w.Regularizer!.Penalty(w.Value);
        if (_trainableWeights.Count > 0)
        {
            // autograd.grad (not backward) so frozen weights never accumulate .grad between models sharing them.
            var grads = autograd.grad([loss], _trainableWeights.Select(w => w.Value).ToList(), allow_unused: true);
            _optimizer!.Apply(_trainableWeights, grads);
        }
        var logs = new Logs { ["loss"] = loss.item<float>() };
        if (_accuracy)
            using (no_grad())
                logs["accuracy"] = _loss.Accuracy(target, pred.detach()).item<float>();
        return logs;
    }

    /// <summary>Loss and metrics on one batch in inference mode, no update.</summary>
    public Logs TestOnBatch(Tensor x, Tensor y)
    {
        RequireCompiled("TestOnBatch");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var pred = Run(PrepareInputs(x), new CallContext(false, Generator, null))[0];
        var target = PrepareTargets(y);
        var loss = _loss!.Compute(target, pred);
        foreach (var w in _regularized)
            loss = loss + w.Regularizer!.Penalty(w.Value);
        var logs = new Logs { ["loss"] = loss.item<float>() };
        if (_accuracy)
            logs["accuracy"] = _loss.Accuracy(target, pred).item<float>();
        return logs;
    }

    /// <summary>Inference on one batch; returns a channels-last tensor on the CPU that the caller disposes.</summary>
    public Tensor PredictOnBatch(Tensor x)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var y = Layout.ToKeras(Run(PrepareInputs(x), new CallContext(false, Generator, null))[0]).cpu();
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Inference in batches.</summary>
    public Tensor Predict(Tensor x, int batchSize = 32)
    {
        var n = x.shape[0];
        var parts = new List<Tensor>();
        try
        {
            for (long i = 0; i < n; i += batchSize)
            {
                using var xb = x[(int)i..(int)Math.Min(n, i + batchSize)];
                parts.Add(PredictOnBatch(xb));
            }
            return parts.Count == 1 ? parts[0].alias() : cat(parts, 0);
        }
        finally
        {
            foreach (var p in parts) p.Dispose();
        }
    }

    /// <summary>Mean loss and metrics over a data set, weighted by batch size.</summary>
    public Logs Evaluate(Tensor x, Tensor y, int batchSize = 32)
    {
        RequireCompiled("Evaluate");
        var n = x.shape[0];
        var sums = new Logs();
        for (long i = 0; i < n; i += batchSize)
        {
            long end = Math.Min(n, i + batchSize);
            using var xb = x[(int)i..(int)end];
            using var yb = y[(int)i..(int)end];
            foreach (var (k, v) in TestOnBatch(xb, yb))
                sums[k] = sums.GetValueOrDefault(k) + v * (end - i);
        }
        var result = new Logs();
        foreach (var (k, v) in sums)
            result[k] = v / n;
        return result;
    }

    /// <summary>
    /// Trains for a number of epochs, as Keras' fit: optional shuffling each epoch (from the model's seed),
    /// validation at each epoch end, callbacks, and a progress bar with ETA when <paramref name="verbose"/> is 1.
    /// </summary>
    public History Fit(Tensor x, Tensor y, int batchSize = 32, int epochs = 1, (Tensor X, Tensor Y)? validationData = null,
        bool shuffle = true, IReadOnlyList<Callback>? callbacks = null, int verbose = 1, CancellationToken cancellationToken = default)
    {
        RequireCompiled("Fit");
        var history = new History();
        callbacks ??= [];
        var n = x.shape[0];
        if (y.shape[0] != n)
            throw new ArgumentException($"Fit: x has {n} samples but y has {y.shape[0]}.");
        int steps = (int)((n + batchSize - 1) / batchSize);
        foreach (var c in callbacks) c.OnTrainBegin(this);

        void RunEpochs(Action<int, int>? progress)
        {
            for (int epoch = 0; epoch < epochs; epoch++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var c in callbacks) c.OnEpochBegin(epoch, this);
                var order = Enumerable.Range(0, (int)n).ToArray();
                if (shuffle)
                    _random.Shuffle(order);
                var sums = new Logs();
                for (int s = 0; s < steps; s++)
                {
                    int start = s * batchSize, count = (int)Math.Min(batchSize, n - start);
                    Logs logs;
                    if (shuffle)
                    {
                        using var idx = tensor(order.AsSpan(start, count).ToArray().Select(i => (long)i).ToArray());
                        using var xb = x.index_select(0, idx);
                        using var yb = y.index_select(0, idx);
                        logs = TrainOnBatch(xb, yb);
                    }
                    else
                    {
                        using var xb = x[start..(start + count)];
                        using var yb = y[start..(start + count)];
                        logs = TrainOnBatch(xb, yb);
                    }
                    foreach (var (k, v) in logs)
                        sums[k] = sums.GetValueOrDefault(k) + v * count;
                    foreach (var c in callbacks) c.OnBatchEnd(s, logs);
                    progress?.Invoke(epoch, s + 1);
                }
                var epochLogs = new Logs();
                foreach (var (k, v) in sums)
                    epochLogs[k] = v / n;
                if (validationData is { } val)
                    foreach (var (k, v) in Evaluate(val.X, val.Y, batchSize))
                        epochLogs["val_" + k] = v;
                history.Add(epochLogs);
                foreach (var c in callbacks) c.OnEpochEnd(epoch, epochLogs, this);
                if (verbose > 0)
                    AnsiConsole.MarkupLine($"Epoch {epoch + 1}/{epochs} - {Markup.Escape(epochLogs.ToString())}");
                if (callbacks.Any(c => c.StopTraining))
                    break;
            }
        }

        if (verbose > 0 && AnsiConsole.Profile.Capabilities.Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(p =>
                {
                    var task = p.AddTask($"fit {Name}", maxValue: (double)epochs * steps);
                    RunEpochs((e, s) => task.Value = (double)e * steps + s);
                });
        }
        else
        {
            RunEpochs(null);
        }
        foreach (var c in callbacks) c.OnTrainEnd(this);
        return history;
    }

    internal IReadOnlyList<Node> Nodes { get { EnsureGraph(); return _nodes; } }

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

    // ----- Save and load -----

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

    // ----- Summary -----

    /// <summary>Keras-style table of layers, output shapes and parameter counts.</summary>
    public string Summary()
    {
        EnsureGraph();
        var sb = new System.Text.StringBuilder();
        sb.AppendLine($"Model: \"{Name}\"");
        sb.AppendLine($"{"Layer (type)",-40}{"Output Shape",-24}{"Param #",12}");
        sb.AppendLine(new string('=', 76));
        foreach (var i in _inputs)
            sb.AppendLine($"{(i.Input?.Name ?? i.Name) + " (InputLayer)",-40}{Layout.Format(i.Shape),-24}{0,12}");
        foreach (var n in _nodes)
            sb.AppendLine($"{n.Layer.Name + " (" + n.Layer.KerasName + ")",-40}{Layout.Format(n.Output.Shape),-24}{n.Layer.CountParams(),12:N0}");
        sb.AppendLine(new string('=', 76));
        var all = CountParams();
        var trainable = TrainableLayers().SelectMany(l => l.Weights).Where(w => w.IsTrainableWeight).Distinct().Sum(w => w.Value.numel());
        sb.AppendLine($"Total params: {all:N0}");
        sb.AppendLine($"Trainable params: {trainable:N0}");
        sb.AppendLine($"Non-trainable params: {all - trainable:N0}");
        return sb.ToString();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _generator?.Dispose();
            _generator = null;
            // Layers may be shared with other models (the GAN's combined model), so a model disposes only
            // weights no one else holds: the caller disposes shared sub-models themselves.
            foreach (var l in _layers.Where(l => l is not Model))
                l.Dispose();
        }
        base.Dispose(disposing);
    }
}
