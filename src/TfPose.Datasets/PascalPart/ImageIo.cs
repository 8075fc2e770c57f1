using System.Runtime.InteropServices;
using OpenCvSharp;
using TfPose.IO;
using CvMat = OpenCvSharp.Mat;

namespace TfPose.Datasets.PascalPart;

/// <summary>Moves pixels between OpenCV images and plain row-major byte arrays; writes PNGs atomically.</summary>
public static class ImageIo
{
    /// <summary>Reads an image as 8-bit BGR; fails with the path when OpenCV cannot decode it.</summary>
    public static CvMat ReadColor(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"image not found: {path}", path);
        var mat = Cv2.ImRead(path, ImreadModes.Color);
        if (mat.Empty())
        {
            mat.Dispose();
            throw new InvalidDataException($"{path}: not an image OpenCV can decode");
        }
        return mat;
    }

    /// <summary>Reads a single-channel 8-bit image (a label PNG) exactly as stored.</summary>
    public static (int Height, int Width, byte[] Pixels) ReadGray(string path)
    {
        using var mat = Cv2.ImRead(path, ImreadModes.Unchanged);
        if (mat.Empty() || mat.Type() != MatType.CV_8UC1)
            throw new InvalidDataException($"{path}: not a single-channel 8-bit image");
        return (mat.Rows, mat.Cols, ToBytes(mat));
    }

    public static CvMat FromBytes(int height, int width, int channels, ReadOnlySpan<byte> pixels)
    {
        if (pixels.Length != height * width * channels)
            throw new ArgumentException($"{pixels.Length} bytes for {height}x{width}x{channels}", nameof(pixels));
        var mat = new CvMat(height, width, channels == 1 ? MatType.CV_8UC1 : MatType.CV_8UC3);
        pixels.CopyTo(Span(mat));
        return mat;
    }

    public static byte[] ToBytes(CvMat mat)
    {
        using var continuous = mat.IsContinuous() ? null : mat.Clone();
        return Span(continuous ?? mat).ToArray();
    }

    public static void WritePng(string path, CvMat image) =>
        AtomicFile.WriteThroughPath(path, temp =>
        {
            if (!Cv2.ImWrite(temp, image))
                throw new IOException($"could not write {path}");
        });

    private static unsafe Span<byte> Span(CvMat mat) =>
        new((void*)mat.Data, checked((int)(mat.Total() * mat.ElemSize())));
}
