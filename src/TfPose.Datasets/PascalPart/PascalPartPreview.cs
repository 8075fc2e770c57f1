using OpenCvSharp;
using CvMat = OpenCvSharp.Mat;

namespace TfPose.Datasets.PascalPart;

/// <summary>
/// A 2×2 tiled picture like the dataset's MATLAB demo: the photo, then object classes, instances and
/// part labels in the VOC colour map, with a legend of the part labels present.
/// </summary>
public static class PascalPartPreview
{
    /// <param name="image">The photo (BGR) or null to leave the first tile grey.</param>
    public static CvMat Render(PascalPartAnnotation annotation, PascalPartLabelMaps maps, PartLabelScheme scheme, CvMat? image)
    {
        int h = Math.Max(annotation.Height, 1), w = Math.Max(annotation.Width, 1);
        var canvas = new CvMat(h * 2, w * 2, MatType.CV_8UC3, Scalar.All(64));
        if (image is not null)
        {
            if (image.Rows != annotation.Height || image.Cols != annotation.Width)
                throw new InvalidDataException($"{annotation.ImageName}: image is {image.Rows}x{image.Cols} but the masks are {annotation.Height}x{annotation.Width}");
            image.CopyTo(canvas[new Rect(0, 0, w, h)]);
        }
        if (annotation.Height > 0)
        {
            Tile(canvas, new Rect(w, 0, w, h), maps.Classes, w);
            Tile(canvas, new Rect(0, h, w, h), maps.Instances, w);
            Tile(canvas, new Rect(w, h, w, h), maps.Parts, w);
        }
        Title(canvas, new Point(0, 0), image is null ? $"{annotation.ImageName} (image not found)" : annotation.ImageName);
        Title(canvas, new Point(w, 0), "classes: " + string.Join(", ", annotation.Objects.Select(o => o.ClassName).Distinct()));
        Title(canvas, new Point(0, h), $"instances: {annotation.Objects.Count}");
        Title(canvas, new Point(w, h), $"parts ({scheme.Name})");
        Legend(canvas, new Point(w, h), h, maps.Parts, scheme);
        return canvas;
    }

    private static void Tile(CvMat canvas, Rect where, byte[] labels, int width)
    {
        var bgr = new byte[labels.Length * 3];
        for (var i = 0; i < labels.Length; i++)
        {
            var (r, g, b) = VocPalette.Color(labels[i]);
            (bgr[3 * i], bgr[3 * i + 1], bgr[3 * i + 2]) = (b, g, r);
        }
        using var colored = ImageIo.FromBytes(labels.Length / width, width, 3, bgr);
        colored.CopyTo(canvas[where]);
    }

    private static void Title(CvMat canvas, Point at, string text)
    {
        var size = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, 0.45, 1, out _);
        Cv2.Rectangle(canvas, new Rect(at.X, at.Y, Math.Min(canvas.Cols / 2, size.Width + 8), 20), Scalar.All(0), -1);
        Cv2.PutText(canvas, text, new Point(at.X + 4, at.Y + 15), HersheyFonts.HersheySimplex, 0.45, Scalar.All(255), 1, LineTypes.AntiAlias);
    }

    private static void Legend(CvMat canvas, Point tile, int tileHeight, byte[] parts, PartLabelScheme scheme)
    {
        var present = new bool[256];
        foreach (var p in parts)
            present[p] = true;
        var y = tile.Y + tileHeight - 6;
        for (var id = scheme.Labels.Count; id >= 1; id--)
        {
            if (!present[id])
                continue;
            var (r, g, b) = VocPalette.Color(id);
            Cv2.Rectangle(canvas, new Rect(tile.X + 4, y - 12, 12, 12), new Scalar(b, g, r), -1);
            Cv2.Rectangle(canvas, new Rect(tile.X + 4, y - 12, 12, 12), Scalar.All(255), 1);
            Cv2.PutText(canvas, scheme.Labels[id - 1].Name, new Point(tile.X + 20, y - 2), HersheyFonts.HersheySimplex, 0.4, Scalar.All(255), 1, LineTypes.AntiAlias);
            y -= 16;
            if (y < tile.Y + 40)
                break;
        }
    }
}
