using OpenCvSharp;
using TfPose.Pose.BlazePose;
using TfPose.Runtime;
using TfPose.Tests;

namespace TfPose.Pose.Tests;

/// <summary>
/// The BlazePose detector's anchors and decoding, checked by hand against MediaPipe's configuration
/// (pose_detection_cpu.pbtxt) and TensorFlow.js' stored output for p1.jpg.
/// </summary>
public class BlazePoseDetectorTests
{
    private static string Reference(string file) =>
        SharedData.Path("data", "tfjs-models", "blazepose-detector", "reference", "p1", file);

    [Fact]
    public void Anchors_follow_mediapipes_pose_detector_options()
    {
        var anchors = SsdAnchors.Generate(SsdAnchorOptions.BlazePoseDetector);

        // Strides 8, 16, 32, 32, 32 on 224: feature maps 28, 14 and 7 (the three stride-32 layers share one map).
        // Each layer adds aspect ratio 1 plus the interpolated scale: 2 anchors per cell for the first two maps,
        // 3 × 2 = 6 for the shared one. 28·28·2 + 14·14·2 + 7·7·6 = 1568 + 392 + 294 = 2254.
        Assert.Equal(2254, anchors.Length);

        // First anchor: cell (0, 0) of the 28×28 map, centre (0 + 0.5) / 28; fixed_anchor_size makes it 1×1.
        Assert.Equal(new SsdAnchor(0.5f / 28, 0.5f / 28, 1, 1), anchors[0]);
        Assert.Equal(anchors[0], anchors[1]); // the interpolated-scale anchor of the same cell
        // 1568 opens the 14×14 map, 1960 the 7×7 one (six anchors per cell there).
        Assert.Equal(new SsdAnchor(0.5f / 14, 0.5f / 14, 1, 1), anchors[1568]);
        Assert.Equal(new SsdAnchor(0.5f / 7, 0.5f / 7, 1, 1), anchors[1960]);
        Assert.Equal(anchors[1960], anchors[1965]);
        Assert.Equal(new SsdAnchor(1.5f / 7, 0.5f / 7, 1, 1), anchors[1966]);
        // Last anchor: cell (6, 6) of the 7×7 map, centre (6 + 0.5) / 7.
        Assert.Equal(new SsdAnchor(6.5f / 7, 6.5f / 7, 1, 1), anchors[^1]);
    }

    [Fact]
    public void Anchor_sizes_follow_the_scale_ladder_when_not_fixed()
    {
        var anchors = SsdAnchors.Generate(SsdAnchorOptions.BlazePoseDetector with { FixedAnchorSize = false });
        // Scale of stride index i of 5: 0.1484375 + (0.75 − 0.1484375)·i/4. Layer 0: 0.1484375, then the
        // interpolated anchor sqrt(0.1484375 · 0.298828125); aspect ratio 1 makes both square.
        const double s0 = 0.1484375, s1 = 0.1484375 + (0.75 - 0.1484375) / 4;
        Assert.Equal(s0, anchors[0].Width, 6);
        Assert.Equal(s0, anchors[0].Height, 6);
        Assert.Equal(Math.Sqrt(s0 * s1), anchors[1].Width, 6);
        // The last layer interpolates towards 1: its last anchor is sqrt(0.75 · 1).
        Assert.Equal(Math.Sqrt(0.75), anchors[^1].Width, 6);
        // The shared 7×7 map's six anchors per cell: scales of stride indices 2, 3, 4, each with its interpolation.
        double S(int i) => 0.1484375 + (0.75 - 0.1484375) * i / 4;
        double[] expected = [S(2), Math.Sqrt(S(2) * S(3)), S(3), Math.Sqrt(S(3) * S(4)), S(4), Math.Sqrt(S(4) * 1)];
        for (var k = 0; k < 6; k++)
            Assert.Equal(expected[k], anchors[1960 + k].Width, 6);
    }

    [Fact]
    public void Decodes_tensorflow_js_output_for_p1_by_hand()
    {
        using var stored = NpyFile.Read(Reference("Identity.npy"));
        Assert.Equal([1L, 2254, 13], stored.Shape);
        var raw = stored.AsSpan<float>();

        // Many anchors around the person pass the 0.5 score threshold; NMS (IoU 0.3) leaves one person even when it
        // may keep up to ten.
        var passing = 0;
        for (var i = 0; i < 2254; i++)
            passing += 1 / (1 + Math.Exp(-raw[i * 13])) >= 0.5 ? 1 : 0;
        Assert.True(passing > 3, $"{passing} anchors pass the threshold");
        var decoder = new BlazePoseDetectorDecoder(new BlazePoseDetectorOptions { MaxDetections = 10 });
        var detections = new List<BlazePoseDetection>();
        decoder.Decode(raw, detections);
        var d = Assert.Single(detections);

        // The best anchor by logit.
        var best = 0;
        for (var i = 1; i < 2254; i++)
            if (raw[i * 13] > raw[best * 13]) best = i;
        Assert.Equal(best, d.AnchorIndex);
        // Anchor 1638 is in the stride-16 map (anchors 1568..1959, two per cell): cell (1638 − 1568) / 2 = 35,
        // row 35 / 14 = 2, column 35 % 14 = 7, so its centre is (7.5 / 14, 2.5 / 14), size 1×1.
        Assert.Equal(1638, best);
        double ax = 7.5 / 14, ay = 2.5 / 14;
        var row = raw.Slice(best * 13, 13).ToArray();
        Assert.Equal(1 / (1 + Math.Exp(-row[0])), d.Score, 6);

        // Columns 1..4: x-centre, y-centre, width, height in 224-pixel units relative to the anchor.
        double xc = ax + row[1] / 224.0, yc = ay + row[2] / 224.0, w = row[3] / 224.0, h = row[4] / 224.0;
        const double tol = 1e-5; // normalised units (0.002 px of the 224 input)
        Assert.Equal(xc - w / 2, d.Box.X, tol);
        Assert.Equal(yc - h / 2, d.Box.Y, tol);
        Assert.Equal(w, d.Box.Width, tol);
        Assert.Equal(h, d.Box.Height, tol);
        // Columns 5..12: (x, y) of hips' midpoint, body scale point, shoulders' midpoint, upper-body scale point.
        Point2f[] keypoints = [d.HipCenter, d.BodyScale, d.ShoulderCenter, d.UpperBodyScale];
        for (var k = 0; k < 4; k++)
        {
            Assert.Equal(ax + row[5 + 2 * k] / 224.0, keypoints[k].X, tol);
            Assert.Equal(ay + row[6 + 2 * k] / 224.0, keypoints[k].Y, tol);
        }
        // In the 224 frame: a face box of about 45 px near the top centre; the hips lower, the scale point above.
        Assert.InRange(d.Box.Width * 224, 40, 50);
        Assert.InRange(d.Box.Y * 224, 10, 50);
        Assert.True(d.HipCenter.Y > d.Box.Y + d.Box.Height && d.BodyScale.Y < d.HipCenter.Y);

        // The stored input is p1.jpg (217×232) resized to 224×224 without padding (it matches a plain resize to
        // 0.4/255 on average, a letterbox by 18/255), so no padding is removed: x·217, y·232.
        using var image = Cv2.ImRead(SharedData.Image("p1.jpg"));
        Assert.Equal((217, 232), (image.Width, image.Height));
        var inImage = d.ToImage(LetterboxPadding.None, image.Width, image.Height);
        Assert.Equal(d.Box.X * 217, inImage.Box.X, 1e-3);
        Assert.Equal(d.Box.Height * 232, inImage.Box.Height, 1e-3);
        Assert.Equal(d.HipCenter.Y * 232, inImage.HipCenter.Y, 1e-3);
        var imageRect = new Rect2f(0, 0, image.Width, image.Height);
        foreach (var p in new[] { inImage.Box.TopLeft, inImage.Box.BottomRight, inImage.HipCenter, inImage.BodyScale })
            Assert.True(imageRect.Contains(p), $"{p} is outside the image");

        // The full-body region: centred on the hips, side 2·|hips → scale point|·1.25, upright (rotation near 0).
        var roi = inImage.ToRoi();
        double dx = inImage.BodyScale.X - inImage.HipCenter.X, dy = inImage.BodyScale.Y - inImage.HipCenter.Y;
        Assert.Equal(2 * Math.Sqrt(dx * dx + dy * dy) * 1.25, roi.Width, 1e-3);
        Assert.Equal(Math.PI / 2 - Math.Atan2(-dy, dx), roi.Rotation, 1e-5);
        Assert.InRange(roi.Rotation, -0.2, 0.2);
        // It covers the person: the face box lies inside it and it spans (nearly) the image's height.
        var bounds = roi.BoundingBox();
        Assert.True(bounds.Contains(inImage.Box.TopLeft) && bounds.Contains(inImage.Box.BottomRight));
        Assert.InRange(roi.Height, 0.9 * image.Height, 1.3 * image.Height);
    }

    [Fact]
    public void Letterbox_removal_maps_the_padded_frame_back_to_the_image()
    {
        // A 400×200 image letterboxed into 224×224: scaled by 224/400, 112 px tall, 56 px of padding above and below
        // = 0.25 of the input each side.
        var (padded, padding) = BlazePoseRoi.WholeImage(400, 200).PadTo(224, 224);
        Assert.Equal(new LetterboxPadding(0, 0.25f, 0, 0.25f), padding);
        Assert.Equal(400, padded.Height);
        var d = new BlazePoseDetection(0.9f, 0, new Rect2f(0.5f, 0.25f, 0.1f, 0.5f),
            new Point2f(0.5f, 0.5f), new Point2f(0.5f, 0.25f), new Point2f(0, 0), new Point2f(1, 1));
        var m = d.ToImage(padding, 400, 200);
        // y: (0.25 − 0.25) / 0.5 · 200 = 0; height 0.5 / 0.5 · 200 = 200; x unchanged · 400.
        Assert.Equal(new Rect2f(200, 0, 40, 200), m.Box);
        Assert.Equal(new Point2f(200, 100), m.HipCenter);
        Assert.Equal(new Point2f(200, 0), m.BodyScale);
        Assert.Equal(new Point2f(400, 300), m.UpperBodyScale);

        // The crop matrix samples the padded square: output pixel 0 reads image row −100 (padding), pixel 112 the centre.
        var (a0, a1, a2, b0, b1, b2) = padded.CropToImageMatrix(224, 224);
        Assert.Equal((400 / 224.0, 0, 0, 0, 400 / 224.0, -100), (a0, a1, a2, b0, b1, b2));
    }

    [Fact]
    public void Hard_nms_keeps_the_best_of_overlapping_boxes_and_separate_ones()
    {
        static BlazePoseDetection D(float score, int anchor, float x) =>
            new(score, anchor, new Rect2f(x, 0, 1, 1), default, default, default, default);
        // IoU of boxes shifted by 0.5: 0.5 / 1.5 = 1/3 ≥ 0.3 (suppressed); shifted by 0.6: 0.4 / 1.6 = 0.25 (kept).
        Assert.Equal(1 / 3f, BlazePoseDetectorDecoder.IntersectionOverUnion(new Rect2f(0, 0, 1, 1), new Rect2f(0.5f, 0, 1, 1)), 6);
        var candidates = new List<BlazePoseDetection> { D(0.6f, 1, 0.5f), D(0.9f, 2, 0), D(0.7f, 3, 5), D(0.8f, 4, 5.6f) };
        var kept = new List<BlazePoseDetection>();
        BlazePoseDetectorDecoder.NonMaxSuppression(candidates, 10, 0.3f, kept);
        Assert.Equal([2, 4, 3], kept.Select(k => k.AnchorIndex));
        BlazePoseDetectorDecoder.NonMaxSuppression(candidates, 1, 0.3f, kept);
        Assert.Equal([2], kept.Select(k => k.AnchorIndex));
    }
}
