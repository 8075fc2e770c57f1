using OpenCvSharp;

namespace TfPose.Runtime;

/// <summary>How an image becomes a network input: size, channel order, and value scaling (pixel * Scale + Offset).</summary>
public sealed record ImagePreprocessing(int Width, int Height, bool Rgb = false, float Scale = 1f, float Offset = 0f);

/// <summary>Images (read with <c>TfPose.Imaging.ImageFile</c>) to [1,H,W,3] float tensors in TensorFlow layout.</summary>
public static class ImageTensors
{
    /// <summary>A float H×W×3 Mat ready for <see cref="GraphTensor.FromMat"/>.</summary>
    public static Mat Prepare(Mat bgr, ImagePreprocessing p)
    {
        using var resized = bgr.Width == p.Width && bgr.Height == p.Height ? bgr.Clone() : bgr.Resize(new Size(p.Width, p.Height), 0, 0, InterpolationFlags.Cubic);
        if (p.Rgb)
            Cv2.CvtColor(resized, resized, ColorConversionCodes.BGR2RGB);
        var result = new Mat();
        resized.ConvertTo(result, MatType.CV_32FC3, p.Scale, p.Offset);
        return result;
    }
}
