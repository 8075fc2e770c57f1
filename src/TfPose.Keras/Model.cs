using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// A Keras model: a graph of layers from inputs to outputs (the functional API), itself usable as a layer.
/// Data at the API is channels-last (NHWC) float32 tensors with the batch first; class-index targets are int64.
/// </summary>
public partial class Model : Layer
{
    private readonly List<Layer> _layers = [];
    private readonly List<Node> _nodes = [];
    private KerasTensor[] _inputs = [];
    private KerasTensor[] _outputs = [];
    private Generator? _generator;
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

    internal IReadOnlyList<Node> Nodes { get { EnsureGraph(); return _nodes; } }

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
