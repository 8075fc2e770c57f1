namespace TfPose.Keras;

/// <summary>TensorFlow's padding arithmetic ("same" pads the extra pixel at the bottom/right).</summary>
internal static class Padding
{
    public static string Validate(string padding) => padding is "same" or "valid"
        ? padding
        : throw new ArgumentException($"Padding must be 'same' or 'valid', not '{padding}'.");

    public static int OutSize(int input, int kernel, int stride, string padding) =>
        padding == "same" ? (input + stride - 1) / stride : (input - kernel) / stride + 1;

    /// <summary>(before, after) padding TensorFlow applies for "same".</summary>
    public static (int Before, int After) Same(int input, int kernel, int stride)
    {
        var outSize = (input + stride - 1) / stride;
        var total = Math.Max((outSize - 1) * stride + kernel - input, 0);
        return (total / 2, total - total / 2);
    }
}
