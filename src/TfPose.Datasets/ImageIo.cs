using System.Runtime.InteropServices;
using OpenCvSharp;
using TfPose.Datasets.PascalPart;
using TfPose.Imaging;
using TfPose.IO;
using CvMat = OpenCvSharp.Mat;

namespace TfPose.Datasets;

/// <summary>Moves pixels between OpenCV images and plain row-major byte arrays; writes PNGs atomically. Files are read by <see cref="ImageFile"/>.</summary>
public static class ImageIo
{
    /// <summary>Reads a single-channel 8-bit image (a label PNG) exactly as stored, through <see cref="ImageFile"/>'s checks.</summary>
    public static (int Height, int Width, byte[] Pixels) ReadGray(string path)
    {
        using var mat = ImageFile.Read(path, mode: ImreadModes.Unchanged);
        if (mat.Type() != MatType.CV_8UC1)
            throw new InvalidDataException($"{path}: not a single-channel 8-bit image (it is {mat.Type()}).");
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
