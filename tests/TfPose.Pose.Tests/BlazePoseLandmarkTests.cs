using OpenCvSharp;
using TfPose.Pose.BlazePose;
using TfPose.Runtime;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

/// <summary>The landmark model's decoding, heatmap refinement and projection, checked by hand.</summary>
public class BlazePoseLandmarkTests
{
    private static string Reference(string file) =>
        SharedData.Path("data", "tfjs-models", "blazepose-lite", "reference", "p1", file);

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void Landmark_model_on_the_stored_input_decodes_as_tensorflow_js_output_by_hand()
    {
        using var model = new LandmarkModel(SharedData.Path("data", "tfjs-models", "blazepose-lite", "model.json"), new GraphSessionOptions(), segmentation: true);
        using (var input = NpyFile.Read(Reference("input.npy")))
            input.AsSpan<float>().CopyTo(model.Input);
        model.Run();

        // Decoded through an identity region: the 256×256 input is the "image", so crop pixels are image pixels.
        var roi = BlazePoseRoi.WholeImage(256, 256);
        var landmarks = new BlazePoseLandmark[39];
        BlazePoseLandmarkDecoder.DecodeLandmarks(model.Landmarks, landmarks);
        BlazePoseLandmarkDecoder.ProjectToImage(landmarks, LetterboxPadding.None, roi);

        // By hand from TensorFlow.js' Identity_2: 39 × (x, y, z, visibility logit, presence logit) in crop pixels.
        // x/256 · 256 = x; z/256 scaled by the region's width 256 = z; sigmoids for the two probabilities.
        using var expected = NpyFile.Read(Reference("Identity_2.npy"));
        var e = expected.AsSpan<float>();
        Assert.Equal(195, e.Length);
        // The two engines agree to 1.5e-4 of the largest value (~230 px): 0.05 px.
        for (var i = 0; i < 39; i++)
        {
            Assert.Equal(e[i * 5], landmarks[i].X, 0.05);
            Assert.Equal(e[i * 5 + 1], landmarks[i].Y, 0.05);
            Assert.Equal(e[i * 5 + 2], landmarks[i].Z, 0.05);
            Assert.Equal(Sigmoid(e[i * 5 + 3]), landmarks[i].Visibility, 1e-3);
            Assert.Equal(Sigmoid(e[i * 5 + 4]), landmarks[i].Presence, 1e-3);
        }
        // The person of p1 fills the input: nose above the hips, the shoulders wider apart than the eyes.
        Assert.True(landmarks[0].Y < landmarks[23].Y && landmarks[0].Y < landmarks[24].Y);
        Assert.True(Math.Abs(landmarks[11].X - landmarks[12].X) > Math.Abs(landmarks[2].X - landmarks[5].X));

        // Pose flag as TensorFlow.js computed it (already a probability).
        using (var flag = NpyFile.Read(Reference("Identity_3.npy")))
            Assert.Equal(flag.AsSpan<float>()[0], model.PoseFlag[0], 1e-4);

        // World landmarks with rotation 0: the first 33 triples as they are, visibility copied from the landmarks.
        using var world = NpyFile.Read(Reference("Identity_4.npy"));
        var w = world.AsSpan<float>();
        var decodedWorld = new BlazePoseLandmark[33];
        BlazePoseLandmarkDecoder.DecodeWorld(model.World, 0, landmarks, decodedWorld);
        for (var i = 0; i < 33; i++)
        {
            Assert.Equal(w[i * 3], decodedWorld[i].X, 1e-3);
            Assert.Equal(w[i * 3 + 1], decodedWorld[i].Y, 1e-3);
            Assert.Equal(w[i * 3 + 2], decodedWorld[i].Z, 1e-3);
            Assert.Equal(landmarks[i].Visibility, decodedWorld[i].Visibility);
        }

        // Heatmap refinement moves each landmark to the heatmap's local centre: within the 3-cell half-window of its
        // cell (under 4 cells, 16 px, per axis) and, on this clear image, typically under one 4-px cell.
        var refined = (BlazePoseLandmark[])landmarks.Clone();
        BlazePoseLandmarkDecoder.DecodeLandmarks(model.Landmarks, refined);
        BlazePoseLandmarkDecoder.RefineFromHeatmap(refined, model.Heatmap, 64, 64);
        BlazePoseLandmarkDecoder.ProjectToImage(refined, LetterboxPadding.None, roi);
        var shifts = refined.Zip(landmarks, (a, b) => Math.Sqrt((a.X - b.X) * (a.X - b.X) + (a.Y - b.Y) * (a.Y - b.Y))).ToArray();
        Assert.All(shifts, s => Assert.InRange(s, 0, 16 * Math.Sqrt(2)));
        Assert.InRange(shifts.Take(33).OrderBy(s => s).ElementAt(16), 0, 4);
    }

    [Fact]
    public void Heatmap_refinement_takes_the_weighted_mean_inside_the_kernel()
    {
        const int size = 64, channels = 5;
        var heatmap = new float[size * size * channels];
        void Set(int row, int col, int channel, float v) => heatmap[(row * size + col) * channels + channel] = v;

        // Landmark 0 at x = 0.5, y = 0.25: cell (row 16, column 32), 7×7 window rows 13..19, columns 29..35.
        Set(16, 33, 0, 0.9f);
        Set(18, 31, 0, 0.3f);
        Set(16, 36, 0, 1.0f); // column 36 is outside the window: ignored
        // Landmark 1: the window's peak (0.4) is below 0.5: unchanged.
        Set(40, 40, 1, 0.4f);
        // Landmark 2 in cell (0, 0): the window is cut to rows/columns 0..3.
        Set(0, 3, 2, 0.5f);
        Set(3, 0, 2, 0.5f);
        Set(3, 3, 2, 1.0f);
        // Landmark 3 just left of the map (x = −0.001 truncates to column 0, as in MediaPipe): refined all the same.
        Set(10, 1, 3, 0.8f);
        // Landmark 4 a whole cell left of the map (column −1): left alone.
        Set(10, 0, 4, 0.8f);

        BlazePoseLandmark[] lms =
        [
            new(0.5f, 0.25f, 0.1f, 0.7f, 0.8f),
            new(40.5f / 64, 40.5f / 64, 0, 0, 0),
            new(0.001f, 0.001f, 0, 0, 0),
            new(-0.001f, 10.2f / 64, 0, 0, 0),
            new(-1.5f / 64, 10.2f / 64, 0, 0, 0),
        ];
        var original = (BlazePoseLandmark[])lms.Clone();
        BlazePoseLandmarkDecoder.RefineFromHeatmap(lms, heatmap, size, size, kernelSize: 7, minConfidence: 0.5f);

        // (33·0.9 + 31·0.3) / 1.2 / 64 and (16·0.9 + 18·0.3) / 1.2 / 64; z and probabilities untouched.
        Assert.Equal((33 * 0.9 + 31 * 0.3) / 1.2 / 64, lms[0].X, 6);
        Assert.Equal((16 * 0.9 + 18 * 0.3) / 1.2 / 64, lms[0].Y, 6);
        Assert.Equal((0.1f, 0.7f, 0.8f), (lms[0].Z, lms[0].Visibility, lms[0].Presence));
        Assert.Equal(original[1], lms[1]);
        // (3·0.5 + 0·0.5 + 3·1) / 2 / 64 for both axes.
        Assert.Equal((3 * 0.5 + 3 * 1.0) / 2 / 64, lms[2].X, 6);
        Assert.Equal((3 * 0.5 + 3 * 1.0) / 2 / 64, lms[2].Y, 6);
        Assert.Equal(1.0 / 64, lms[3].X, 6);
        Assert.Equal(10.0 / 64, lms[3].Y, 6);
        Assert.Equal(original[4], lms[4]);
    }

    [Fact]
    public void Projection_through_a_rotated_region_by_hand()
    {
        // A 64-px square centred at (100, 80), rotated 30° clockwise on screen.
        var angle = (float)(Math.PI / 6);
        var roi = new BlazePoseRoi(100, 80, 64, 64, angle);
        double c = Math.Cos(angle), s = Math.Sin(angle);

        // The crop's centre is the region's centre.
        var centre = roi.ToImage(0.5f, 0.5f);
        Assert.Equal(100, centre.X, 4);
        Assert.Equal(80, centre.Y, 4);
        // The crop's top-left corner is the centre plus the rotated half-diagonal (−32, −32):
        // (100 + c·(−32) − s·(−32), 80 + s·(−32) + c·(−32)) = (88.29, 36.29).
        var corner = roi.ToImage(0, 0);
        Assert.Equal(100 - 32 * c + 32 * s, corner.X, 4);
        Assert.Equal(80 - 32 * s - 32 * c, corner.Y, 4);
        Assert.Equal(88.2872, corner.X, 3);
        Assert.Equal(36.2872, corner.Y, 3);

        // Through the decoder: z scales as x, by the region's width (0.1 · 64 = 6.4 px).
        BlazePoseLandmark[] lms = [new(0.5f, 0.5f, 0.1f, 0.9f, 0.95f), new(0, 0, 0, 0, 0), new(1, 0, 0, 0, 0)];
        BlazePoseLandmarkDecoder.ProjectToImage(lms, LetterboxPadding.None, roi);
        Assert.Equal(100, lms[0].X, 4);
        Assert.Equal(80, lms[0].Y, 4);
        Assert.Equal(6.4, lms[0].Z, 4);
        Assert.Equal((0.9f, 0.95f), (lms[0].Visibility, lms[0].Presence));
        Assert.Equal(corner.X, lms[1].X, 4);
        Assert.Equal(corner.Y, lms[1].Y, 4);
        // Top-right corner: centre + (c·32 − s·(−32), s·32 + c·(−32)).
        Assert.Equal(100 + 32 * c + 32 * s, lms[2].X, 4);
        Assert.Equal(80 + 32 * s - 32 * c, lms[2].Y, 4);

        // The crop the landmark model reads samples the same geometry: output pixel (0, 0) reads the corner, pixel
        // (128, 128) of a 256 crop the centre.
        var (a0, a1, a2, b0, b1, b2) = roi.CropToImageMatrix(256, 256);
        Assert.Equal(corner.X, a2, 4);
        Assert.Equal(corner.Y, b2, 4);
        Assert.Equal(100, a0 * 128 + a1 * 128 + a2, 4);
        Assert.Equal(80, b0 * 128 + b1 * 128 + b2, 4);

        // World landmarks turn by the same rotation (no scale or shift): (1, 0, 0.5) m → (c, s, 0.5).
        var world = new BlazePoseLandmark[1];
        BlazePoseLandmarkDecoder.DecodeWorld([1f, 0f, 0.5f], angle, lms, world);
        Assert.Equal(c, world[0].X, 6);
        Assert.Equal(s, world[0].Y, 6);
        Assert.Equal(0.5, world[0].Z, 6);
    }

    [Fact]
    public void Region_from_alignment_points_by_hand()
    {
        // Hips at (100, 200), scale point 100 px straight above: side 2·100·1.25 = 250, upright.
        var up = BlazePoseRoi.FromAlignmentPoints(new Point2f(100, 200), new Point2f(100, 100));
        Assert.Equal(new BlazePoseRoi(100, 200, 250, 250, 0), up);

        // Scale point to the right (a person lying with the head to the right): rotation 90° − atan2(0, 100) = 90°,
        // and the crop's top edge faces the scale point: crop (0.5, 0) → (100 + 125, 200).
        var right = BlazePoseRoi.FromAlignmentPoints(new Point2f(100, 200), new Point2f(200, 200));
        Assert.Equal(Math.PI / 2, right.Rotation, 6);
        var top = right.ToImage(0.5f, 0);
        Assert.Equal(225, top.X, 3);
        Assert.Equal(200, top.Y, 3);

        // Scale point below the hips (upside down): 90° − atan2(−100, 0) = 90° − (−90°) = 180°, normalised to −180°.
        var down = BlazePoseRoi.FromAlignmentPoints(new Point2f(100, 200), new Point2f(100, 300));
        Assert.Equal(-Math.PI, down.Rotation, 6);
    }

    [Fact]
    public void Letterboxed_landmarks_lose_the_padding_before_projection()
    {
        // A 200×100 region read into a square crop: padded to 200×200, a quarter of the crop above and below.
        var roi = new BlazePoseRoi(300, 200, 200, 100, 0);
        var (padded, padding) = roi.PadTo(256, 256);
        Assert.Equal(new LetterboxPadding(0, 0.25f, 0, 0.25f), padding);
        Assert.Equal(200, padded.Height);
        // Crop point (0.5, 0.25) is the top edge of the real region: (300, 150); z / (1 − 0) · 200.
        BlazePoseLandmark[] lms = [new(0.5f, 0.25f, 0.01f, 0, 0), new(1, 0.75f, 0, 0, 0)];
        BlazePoseLandmarkDecoder.ProjectToImage(lms, padding, roi);
        Assert.Equal(300, lms[0].X, 4);
        Assert.Equal(150, lms[0].Y, 4);
        Assert.Equal(2, lms[0].Z, 4);
        Assert.Equal(400, lms[1].X, 4);
        Assert.Equal(250, lms[1].Y, 4);
    }
}
