namespace TfPose.Keras;

/// <summary>
/// A symbolic tensor of the functional API: a shape without the batch dimension, channels-last
/// as in Keras (e.g. [28, 28, 1]), and the layer call that produces it.
/// </summary>
public sealed class KerasTensor
{
    internal KerasTensor(int[] shape, Node? producer, string name)
    {
        Shape = shape;
        Producer = producer;
        Name = name;
    }

    /// <summary>Shape without the batch dimension, channels-last.</summary>
    public int[] Shape { get; }

    public string Name { get; }

    internal Node? Producer { get; }

    /// <summary>The <see cref="InputLayer"/> that feeds this tensor, when it is a model input.</summary>
    internal InputLayer? Input { get; init; }

    public override string ToString() => $"KerasTensor({Name}, shape=(None, {string.Join(", ", Shape)}))";
}

/// <summary>One call of a layer on symbolic inputs (a layer called twice has two nodes).</summary>
internal sealed class Node
{
    public Node(Layer layer, KerasTensor[] inputs)
    {
        Layer = layer;
        Inputs = inputs;
    }

    public Layer Layer { get; }
    public KerasTensor[] Inputs { get; }
    public KerasTensor Output { get; internal set; } = null!;
}
