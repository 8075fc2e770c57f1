using OpenCvSharp;
using CvMat = OpenCvSharp.Mat;

namespace TfPose.Datasets.FashionMnist;

/// <summary>Writes square grey images as one PNG grid (used for data previews and GAN samples).</summary>
public static class ImageGrid
{
    /// <param name="images">count × side² bytes.</param>
    /// <param name="scale">Integer upscaling of each cell (nearest), so 28-pixel images stay visible.</param>
    public static void SavePng(string path, ReadOnlySpan<byte> images, int count, int side, int columns, int scale = 2, int gap = 2)
    {
        if (count <= 0)
            throw new ArgumentException("No images to write.", nameof(count));
        if (images.Length < count * side * side)
            throw new ArgumentException($"Expected {count * side * side} bytes for {count} images of {side}×{side}, got {images.Length}.");
        int rows = (count + columns - 1) / columns, cell = side * scale;
        using var grid = new CvMat(rows * (cell + gap) + gap, columns * (cell + gap) + gap, MatType.CV_8UC1, new Scalar(128));
        var buffer = images.ToArray();
        for (int i = 0; i < count; i++)
        {
            using var img = CvMat.FromPixelData(side, side, MatType.CV_8UC1, buffer.AsMemory(i * side * side).ToArray());
            using var big = new CvMat();
            Cv2.Resize(img, big, new Size(cell, cell), 0, 0, InterpolationFlags.Nearest);
            int r = i / columns, c = i % columns;
            using var roi = new CvMat(grid, new Rect(gap + c * (cell + gap), gap + r * (cell + gap), cell, cell));
            big.CopyTo(roi);
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
            Directory.CreateDirectory(dir);
        var tmp = path + ".tmp.png";
        if (!Cv2.ImWrite(tmp, grid))
            throw new IOException($"Could not write PNG {path}.");
        File.Move(tmp, path, overwrite: true);
    }
}
