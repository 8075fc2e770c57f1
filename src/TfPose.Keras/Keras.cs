namespace TfPose.Keras;

/// <summary>Entry points of the functional API, named as in Keras (<c>keras.Input</c>).</summary>
public static class Keras
{
    /// <summary>A model input of the given channels-last shape (without the batch dimension).</summary>
    public static KerasTensor Input(int[] shape, string? name = null)
    {
        var layer = new InputLayer(shape, name);
        return layer.Output;
    }
}
