using OpenCvSharp;

namespace TfPose.Runtime;

/// <summary>How an image becomes a network input: size, channel order, and value scaling (pixel * Scale + Offset).</summary>
public sealed record ImagePreprocessing(int Width, int Height, bool Rgb = false, float Scale = 1f, float Offset = 0f)
{
    public PixelScaling Pixels => new(Rgb, Scale, Offset);
}

/// <summary>
/// Channel order and value scaling of a network input (value = pixel · Scale + Offset): the one place an 8-bit BGR image
/// becomes float network input, for graphs run directly and for pose models, whose description carries these settings.
/// </summary>
public readonly record struct PixelScaling(bool Rgb, float Scale, float Offset)
{
    /// <summary>value = (pixel − mean) · scale, as model descriptions state it.</summary>
    public static PixelScaling FromMean(bool rgb, float mean, float scale) => new(rgb, scale, -mean * scale);

    /// <summary>A new CV_32FC3 Mat of <paramref name="bgr"/> (8-bit, 3 channels) in this order and scaling.</summary>
    public Mat ToFloat(Mat bgr)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        var result = new Mat();
        try
        {
            ToFloat(bgr, result);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="ToFloat(Mat)"/> into <paramref name="dst"/>, as OpenCV's functions take their output: a Mat already of
    /// this size and type is written in place, so a caller converting frame after frame allocates nothing.
    /// </summary>
    public void ToFloat(Mat bgr, Mat dst)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        ArgumentNullException.ThrowIfNull(dst);
        bgr.ConvertTo(dst, MatType.CV_32FC3, Scale, Offset);
        // Swapped after scaling, in place: Scale and Offset are the same for every channel, so the order does not change
        // the values, and no 8-bit RGB copy is needed.
        if (Rgb)
            Cv2.CvtColor(dst, dst, ColorConversionCodes.BGR2RGB);
    }

    /// <summary><see cref="ToFloat(Mat, Mat)"/> through a buffer's views: converting frame after frame allocates nothing.</summary>
    public void ToFloat(Mat bgr, MatBuffer dst)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        ArgumentNullException.ThrowIfNull(dst);
        dst.ConvertFrom(bgr, MatType.CV_32FC3, Scale, Offset);
        if (Rgb)
            dst.CvtColor(ColorConversionCodes.BGR2RGB);
    }
}

/// <summary>Images (read with <c>TfPose.Imaging.ImageFile</c>) to [1,H,W,3] float tensors in TensorFlow layout.</summary>
public static class ImageTensors
{
    /// <summary>A float H×W×3 Mat ready for <see cref="GraphTensor.FromMat"/>.</summary>
    public static Mat Prepare(Mat bgr, ImagePreprocessing p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (bgr.Width == p.Width && bgr.Height == p.Height)
            return p.Pixels.ToFloat(bgr);
        using var resized = bgr.Resize(new Size(p.Width, p.Height), 0, 0, InterpolationFlags.Cubic);
        return p.Pixels.ToFloat(resized);
    }
}
