using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Keras shapes are channels-last (NHWC); TorchSharp's convolution kernels want NCHW. Rank-4 tensors are
/// therefore NCHW inside a model and NHWC at its edges (inputs, outputs, targets). These helpers do the
/// conversion once per batch so layers never guess.
/// </summary>
internal static class Layout
{
    /// <summary>Internal axis of a Keras axis for a tensor of the given rank (batch included).</summary>
    public static int ToInternalAxis(int kerasAxis, int rank)
    {
        var a = kerasAxis < 0 ? kerasAxis + rank : kerasAxis;
        if (rank != 4)
            return a;
        return a switch { 0 => 0, 1 => 2, 2 => 3, 3 => 1, _ => throw new ArgumentOutOfRangeException(nameof(kerasAxis)) };
    }

    public static Tensor ToInternal(Tensor nhwc) => nhwc.dim() == 4 ? nhwc.permute(0, 3, 1, 2).contiguous() : nhwc;

    public static Tensor ToKeras(Tensor internalTensor) => internalTensor.dim() == 4 ? internalTensor.permute(0, 2, 3, 1).contiguous() : internalTensor;

    public static string Format(int[] shape) => "(None, " + string.Join(", ", shape) + ")";
}
