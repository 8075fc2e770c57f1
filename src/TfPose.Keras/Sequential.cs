namespace TfPose.Keras;

/// <summary>
/// A linear stack of layers, the first step of the Keras API:
/// <code>
/// using var model = new Sequential([new Dense(64, "relu", inputShape: [784]), new Dense(10, "softmax")], seed: 1);
/// model.Compile(new Adam(), "sparse_categorical_crossentropy", ["accuracy"]);
/// </code>
/// The input shape comes from the first layer's inputShape or from <see cref="Add"/>ing an <see cref="InputLayer"/>.
/// </summary>
public sealed class Sequential : Model
{
    private readonly List<Layer> _stack = [];
    private int[]? _inputShape;
    private bool _graphBuilt;

    public Sequential(IEnumerable<Layer>? layers = null, string? name = null, int? seed = null, string device = "cpu")
        : base(name, seed, device)
    {
        foreach (var l in layers ?? [])
            Add(l);
    }

    public override string KerasName => "Sequential";

    /// <summary>Appends a layer; not allowed once the model has been built (compiled, called or summarised).</summary>
    public void Add(Layer layer)
    {
        if (_graphBuilt)
            throw new InvalidOperationException($"Sequential '{Name}' is already built; create a new model to add layers.");
        if (layer is InputLayer input)
        {
            if (_stack.Count > 0)
                throw new InvalidOperationException("An InputLayer can only be the first layer of a Sequential model.");
            _inputShape = input.Shape;
            return;
        }
        if (_stack.Count == 0 && _inputShape is null)
            _inputShape = layer switch
            {
                Dense { InputShape: { } s } => s,
                Conv2D { InputShape: { } s } => s,
                Model m => m.Inputs[0].Shape,
                _ => null,
            };
        _stack.Add(layer);
    }

    protected override void EnsureGraph()
    {
        if (_graphBuilt)
            return;
        if (_inputShape is null)
            throw new InvalidOperationException($"Sequential '{Name}' does not know its input shape: give the first layer inputShape or Add(new InputLayer(shape)) first.");
        if (_stack.Count == 0)
            throw new InvalidOperationException($"Sequential '{Name}' has no layers.");
        _graphBuilt = true;
        var input = Keras.Input(_inputShape);
        var x = input;
        foreach (var l in _stack)
            x = l.Call(x);
        Initialize([input], [x]);
    }
}
