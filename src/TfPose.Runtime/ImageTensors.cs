using OpenCvSharp;

namespace TfPose.Runtime;

/// <summary>How an image becomes a network input: size, channel order, and value scaling (pixel * Scale + Offset).</summary>
public sealed record ImagePreprocessing(int Width, int Height, bool Rgb = false, float Scale = 1f, float Offset = 0f);

/// <summary>Image files to [1,H,W,3] float tensors in TensorFlow layout.</summary>
public static class ImageTensors
{
    public static Mat ReadImage(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: image not found.", path);
        if (new FileInfo(path).Length == 0)
            throw new InvalidDataException($"{path}: the image file is empty.");
        var image = Cv2.ImRead(path, ImreadModes.Color);
        if (image.Empty())
        {
            image.Dispose();
            throw new InvalidDataException($"{path}: not a readable image (OpenCV could not decode it).");
        }
        return image;
    }

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
