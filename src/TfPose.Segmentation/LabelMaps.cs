using OpenCvSharp;
using TfPose.Datasets.CamVid;
using TfPose.Datasets;

namespace TfPose.Segmentation;

/// <summary>CamVid-coloured label maps and overlays, written as PNGs (temp file + rename).</summary>
public static class LabelMaps
{
    /// <summary>RGB bytes of a label map in the CamVid colours (void black).</summary>
    public static byte[] Colorize(ReadOnlySpan<byte> labels)
    {
        var rgb = new byte[labels.Length * 3];
        for (int i = 0; i < labels.Length; i++)
        {
            var (r, g, b) = CamVidClasses.Colors[Math.Min((int)labels[i], CamVidClasses.Colors.Count - 1)];
            rgb[i * 3] = r;
            rgb[i * 3 + 1] = g;
            rgb[i * 3 + 2] = b;
        }
        return rgb;
    }

    /// <summary>Image and colour map blended half and half.</summary>
    public static byte[] Overlay(ReadOnlySpan<byte> rgb, ReadOnlySpan<byte> labels, double alpha = 0.5)
    {
        var colors = Colorize(labels);
        var o = new byte[rgb.Length];
        for (int i = 0; i < rgb.Length; i++)
            o[i] = (byte)Math.Round(rgb[i] * (1 - alpha) + colors[i] * alpha);
        return o;
    }

    public static void WriteRgbPng(string path, ReadOnlySpan<byte> rgb, int height, int width)
    {
        using var m = ImageIo.FromBytes(height, width, 3, rgb);
        using var bgr = new OpenCvSharp.Mat();
        Cv2.CvtColor(m, bgr, ColorConversionCodes.RGB2BGR);
        ImageIo.WritePng(path, bgr);
    }
}
