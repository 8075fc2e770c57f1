using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>A layer variable: Keras name and (Keras-layout) shape, the TorchSharp tensor that holds it.</summary>
public sealed class Weight
{
    internal Weight(string name, Tensor value, bool trainable, Regularizer? regularizer)
    {
        Name = name;
        Value = value;
        IsTrainableWeight = trainable;
        Regularizer = regularizer;
    }

    /// <summary>Name within its layer, e.g. "kernel", "moving_mean".</summary>
    public string Name { get; }

    /// <summary>The storage; for trainable weights a leaf tensor with requires_grad.</summary>
    public Tensor Value { get; internal set; }

    /// <summary>False for statistics such as BatchNormalization's moving mean and variance.</summary>
    public bool IsTrainableWeight { get; }

    internal Regularizer? Regularizer { get; }
}

/// <summary>State of one forward pass: training or inference, the random source, and which layers the
/// compiled model treats as trainable (Keras freezes at compile time).</summary>
internal sealed class CallContext
{
    public CallContext(bool training, Generator generator, IReadOnlySet<Layer>? trainableLayers)
    {
        Training = training;
        Generator = generator;
        TrainableLayers = trainableLayers;
    }

    public bool Training { get; }
    public Generator Generator { get; }
    public IReadOnlySet<Layer>? TrainableLayers { get; }

    /// <summary>Whether <paramref name="layer"/> trains in this pass: training mode and not frozen when the model was compiled.</summary>
    public bool IsTraining(Layer layer) => Training && (TrainableLayers is null || TrainableLayers.Contains(layer));
}

/// <summary>
/// Base of all layers. Shapes at the API are channels-last without the batch dimension; weights are created
/// when the owning model is built (so the model's seed decides them) in Keras layouts.
/// </summary>
public abstract class Layer : IDisposable
{
    private readonly List<Weight> _weights = [];
    private string? _name;

    protected Layer(string? name)
    {
        TorchBackend.EnsureConfigured();
        _name = name;
    }

    /// <summary>
    /// The layer's name. Unnamed layers are named by the first model that contains them, Keras style
    /// ("dense", "dense_1", ...), unique within that model; names key saved weights and exported nodes.
    /// </summary>
    public string Name => _name ?? KerasName.ToLowerInvariant() + "_unnamed";

    internal bool HasName => _name is not null;

    internal void AssignName(string name) => _name ??= name;

    /// <summary>Keras class name, e.g. "Dense": the key of the layer's config in saved models.</summary>
    public virtual string KerasName => GetType().Name;

    /// <summary>
    /// Whether the layer's weights are updated by training. As in Keras, a change takes effect for a model
    /// at its next <c>Compile</c>: a model compiled while this was true keeps training the layer.
    /// </summary>
    public bool Trainable { get; set; } = true;

    public bool Built { get; private set; }

    internal void MarkBuilt() => Built = true;

    public IReadOnlyList<Weight> Weights => _weights;

    /// <summary>Input shapes of the first call, used to build the weights.</summary>
    internal int[][]? InputShapes { get; private set; }

    internal List<Node> InboundNodes { get; } = [];

    /// <summary>Calls the layer on symbolic tensors (functional API).</summary>
    public KerasTensor Call(params KerasTensor[] inputs)
    {
        var shapes = inputs.Select(i => i.Shape).ToArray();
        if (InputShapes is null)
            InputShapes = shapes;
        else if (!ShapesCompatible(InputShapes, shapes))
            throw new ArgumentException($"Layer '{Name}' was first called on {string.Join(", ", InputShapes.Select(Layout.Format))} and cannot be reused on {string.Join(", ", shapes.Select(Layout.Format))}.");
        var outShape = ComputeOutputShape(shapes);
        var node = new Node(this, inputs);
        node.Output = new KerasTensor(outShape, node, $"{Name}/output_{InboundNodes.Count}");
        InboundNodes.Add(node);
        return node.Output;
    }

    /// <summary>Shorthand for <see cref="Call(KerasTensor[])"/>: <c>var y = new Dense(10).Apply(x)</c>.</summary>
    public KerasTensor Apply(params KerasTensor[] inputs) => Call(inputs);

    private static bool ShapesCompatible(int[][] a, int[][] b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.SequenceEqual(p.Second));

    /// <summary>Output shape (no batch dimension, channels-last) for the given input shapes.</summary>
    public abstract int[] ComputeOutputShape(int[][] inputShapes);

    /// <summary>Creates weights for the recorded input shapes (once).</summary>
    internal void EnsureBuilt(Generator generator, Device device)
    {
        if (Built)
            return;
        if (InputShapes is null)
            throw new InvalidOperationException($"Layer '{Name}' has never been called on an input, so its weight shapes are unknown.");
        Build(InputShapes, generator, device);
        Built = true;
    }

    protected virtual void Build(int[][] inputShapes, Generator generator, Device device)
    {
    }

    /// <summary>Adds a weight of the given torch-layout shape, initialised with Keras fans.</summary>
    protected Weight AddWeight(string name, long[] shape, Initializer init, long fanIn, long fanOut, Generator generator, Device device,
        bool trainable = true, Regularizer? regularizer = null)
    {
        var t = empty(shape, ScalarType.Float32, device);
        init.Fill(t, fanIn, fanOut, generator);
        if (trainable)
            t.requires_grad_(true);
        var w = new Weight(name, t, trainable, regularizer);
        _weights.Add(w);
        return w;
    }

    /// <summary>Converts a stored weight to its Keras layout (conv kernels are stored torch-style).</summary>
    internal virtual Tensor ToKerasLayout(Weight w, Tensor stored) => stored;

    internal virtual Tensor FromKerasLayout(Weight w, Tensor keras) => keras;

    /// <summary>Copies of this layer's weights in Keras layouts (Dense kernel [in, out], Conv2D kernel [kh, kw, in, out]), on the CPU.</summary>
    public Tensor[] GetWeights()
    {
        using var _ = no_grad();
        return _weights.Select(w => ToKerasLayout(w, w.Value).detach().cpu().contiguous().clone()).ToArray();
    }

    /// <summary>Sets weights from Keras-layout tensors, in the order of <see cref="GetWeights"/>.</summary>
    public void SetWeights(IReadOnlyList<Tensor> values)
    {
        if (values.Count != _weights.Count)
            throw new ArgumentException($"Layer '{Name}' has {_weights.Count} weights, got {values.Count}.");
        using var _ = no_grad();
        for (int i = 0; i < values.Count; i++)
        {
            using var v = FromKerasLayout(_weights[i], values[i]).to(_weights[i].Value.device).to_type(ScalarType.Float32);
            if (!v.shape.SequenceEqual(_weights[i].Value.shape))
                throw new ArgumentException($"Layer '{Name}' weight '{_weights[i].Name}' has shape [{string.Join(", ", ToKerasLayout(_weights[i], _weights[i].Value).shape)}] (Keras layout), got [{string.Join(", ", values[i].shape)}].");
            _weights[i].Value.copy_(v);
        }
    }

    /// <summary>Runs the layer on internal-layout tensors (rank-4 tensors are NCHW).</summary>
    internal abstract Tensor Forward(Tensor[] inputs, CallContext ctx);

    /// <summary>Every layer nested in this one, this one included (models override).</summary>
    internal virtual IEnumerable<Layer> SelfAndDescendants() => [this];

    /// <summary>Layers that train when this layer is compiled with its current Trainable flags.</summary>
    internal virtual IEnumerable<Layer> TrainableLayers() => Trainable ? [this] : [];

    /// <summary>
    /// Keras' <c>get_config</c>: "name", "trainable", then the constructor arguments under Keras' names and in its
    /// units (activation names, initializers as <c>{"class_name", "config"}</c>). The layer's static <c>FromConfig</c>
    /// (<see cref="IKerasLayer{TSelf}"/>) rebuilds an equal layer from it; weights are not part of it.
    /// </summary>
    /// <exception cref="NotSupportedException">The layer has no config (models are saved whole by <see cref="Model.Save"/>).</exception>
    public JsonObject GetConfig()
    {
        var config = new JsonObject { ["name"] = Name, ["trainable"] = Trainable };
        WriteConfig(config);
        return config;
    }

    /// <summary>Adds the constructor arguments to <see cref="GetConfig"/>'s result.</summary>
    protected virtual void WriteConfig(JsonObject config) =>
        throw new NotSupportedException($"{KerasName} '{Name}' has no config.");

    /// <summary>
    /// Writes this layer's inference ops into an exported GraphDef and returns the name of the node holding its output.
    /// <paramref name="scope"/> prefixes the node names; <paramref name="inputShapes"/> are channels-last without batch.
    /// </summary>
    internal virtual string ExportGraphDef(GraphEmitter graph, string scope, string[] inputs, int[][] inputShapes) =>
        throw new NotSupportedException($"ExportGraphDef: layer '{Name}' ({KerasName}) is not supported yet.");

    /// <summary>Whether the exported ops need the batch size as a constant (see <see cref="GraphEmitter.Batch"/>).</summary>
    internal virtual bool ExportNeedsFixedBatch => false;

    /// <summary>A one-line description of the configuration for summary().</summary>
    internal virtual string Describe() => KerasName;

    internal IEnumerable<Weight> AllWeights() => SelfAndDescendants().SelectMany(l => l._weights);

    public long CountParams() => SelfAndDescendants().Distinct().SelectMany(l => l._weights).Sum(w => w.Value.numel());

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
            return;
        foreach (var w in _weights)
            w.Value.Dispose();
        _weights.Clear();
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>The layer behind <see cref="Keras.Input"/>: identity, it only names the input and its shape.</summary>
public sealed class InputLayer : Layer
{
    public InputLayer(int[] shape, string? name = null) : base(name)
    {
        Shape = (int[])shape.Clone();
        Output = new KerasTensor(Shape, null, name ?? "input") { Input = this };
    }

    public int[] Shape { get; }
    public KerasTensor Output { get; }
    public override string KerasName => "InputLayer";
    public override int[] ComputeOutputShape(int[][] inputShapes) => Shape;
    internal override Tensor Forward(Tensor[] inputs, CallContext ctx) => inputs[0];
}
