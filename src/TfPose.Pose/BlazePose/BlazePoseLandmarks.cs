namespace TfPose.Pose.BlazePose;

/// <summary>
/// One BlazePose landmark. X and Y are in the frame of the step that produced it (normalised to the 256×256 crop
/// after decoding, image pixels after projection; metres for world landmarks); Z is depth on X's scale (smaller is
/// nearer the camera; origin between the hips). Visibility and presence are probabilities (sigmoids of the logits).
/// </summary>
public readonly record struct BlazePoseLandmark(float X, float Y, float Z, float Visibility, float Presence);

/// <summary>
/// The landmark model's post-processing as pose-detection's BlazePose "tfjs" runtime does it (MediaPipe's
/// tensors_to_pose_landmarks_and_segmentation.pbtxt and pose_landmark_by_roi's inverse projection). Pure functions
/// over the raw outputs; nothing is allocated.
/// </summary>
public static class BlazePoseLandmarkDecoder
{
    /// <summary>The landmark model's input side (lite, full and heavy alike).</summary>
    public const int InputSize = 256;

    /// <summary>Landmarks the model predicts: 33 body keypoints then 6 auxiliary ones.</summary>
    public const int LandmarkCount = 39;

    /// <summary>Body keypoints (<see cref="KeypointSet.BlazePose33"/>).</summary>
    public const int KeypointCount = 33;

    /// <summary>Auxiliary landmark 33: the hips' midpoint (the next frame's ROI centre).</summary>
    public const int HipCenterIndex = 33;

    /// <summary>Auxiliary landmark 34: the point that sets the next frame's ROI size and rotation.</summary>
    public const int BodyScaleIndex = 34;

    /// <summary>RefineLandmarksFromHeatmapCalculator's kernel_size in pose_landmark_by_roi (and pose-detection).</summary>
    public const int HeatmapKernelSize = 7;

    /// <summary>A landmark moves to the heatmap's weighted centre only if the kernel's peak reaches this.</summary>
    public const float MinHeatmapConfidence = 0.5f;

    /// <summary>
    /// <c>Identity_2</c> / ld_3d [1,195]: 39 × (x, y, z, visibility logit, presence logit) in crop pixels → landmarks
    /// normalised to the crop (x/width, y/height, z/width), sigmoid visibility and presence (TensorsToLandmarksCalculator).
    /// </summary>
    public static void DecodeLandmarks(ReadOnlySpan<float> raw, Span<BlazePoseLandmark> landmarks, int inputWidth = InputSize, int inputHeight = InputSize)
    {
        var count = landmarks.Length;
        if (count == 0 || raw.Length != count * 5)
            throw new ArgumentException($"Expected {count}×5 values for {count} landmarks, got {raw.Length}.", nameof(raw));
        for (var i = 0; i < count; i++)
        {
            var r = raw.Slice(i * 5, 5);
            landmarks[i] = new BlazePoseLandmark(r[0] / inputWidth, r[1] / inputHeight, r[2] / inputWidth,
                BlazePoseDetectorDecoder.Sigmoid(r[3]), BlazePoseDetectorDecoder.Sigmoid(r[4]));
        }
    }

    /// <summary>
    /// RefineLandmarksFromHeatmapCalculator (pose-detection's refineLandmarksFromHeatmap): each landmark's x, y
    /// (normalised) become the confidence-weighted mean cell position inside a <paramref name="kernelSize"/>-wide
    /// window of its heatmap channel, centred on the cell the landmark falls in (truncated towards zero) and cut at
    /// the heatmap's edges, divided by the heatmap size; only when the window's largest confidence is at least
    /// <paramref name="minConfidence"/>. <paramref name="heatmap"/> is HWC with one channel per landmark and holds
    /// confidences (the TensorFlow.js graph has applied the sigmoid), or with <paramref name="logits"/> the logits
    /// MediaPipe's .tflite models give, each passed through the sigmoid as MediaPipe does here. Landmarks whose cell
    /// lies outside are left alone; like both originals, the row test compares the column with the height, which
    /// only matters for non-square heatmaps and rows below the map.
    /// </summary>
    public static void RefineFromHeatmap(Span<BlazePoseLandmark> landmarks, ReadOnlySpan<float> heatmap, int height, int width,
        int kernelSize = HeatmapKernelSize, float minConfidence = MinHeatmapConfidence, bool logits = false)
    {
        var channels = landmarks.Length;
        if (heatmap.Length != height * width * channels)
            throw new ArgumentException($"Expected a {height}×{width}×{channels} heatmap ({height * width * channels} values), got {heatmap.Length}.", nameof(heatmap));
        var offset = (kernelSize - 1) / 2;
        for (var i = 0; i < channels; i++)
        {
            var lm = landmarks[i];
            var col = (int)(lm.X * width);
            var row = (int)(lm.Y * height);
            if (col < 0 || col >= width || row < 0 || col >= height)
                continue;
            int c0 = Math.Max(0, col - offset), c1 = Math.Min(width, col + offset + 1);
            int r0 = Math.Max(0, row - offset), r1 = Math.Min(height, row + offset + 1);
            double sum = 0, weightedCol = 0, weightedRow = 0, max = 0; // JavaScript numbers, as pose-detection sums them
            for (var r = r0; r < r1; r++)
            {
                for (var c = c0; c < c1; c++)
                {
                    var value = heatmap[(r * width + c) * channels + i];
                    var confidence = logits ? BlazePoseDetectorDecoder.Sigmoid(value) : value;
                    sum += confidence;
                    max = Math.Max(max, confidence);
                    weightedCol += c * confidence;
                    weightedRow += r * confidence;
                }
            }
            if (max >= minConfidence && sum > 0)
                landmarks[i] = lm with { X = (float)(weightedCol / width / sum), Y = (float)(weightedRow / height / sum) };
        }
    }

    /// <summary>
    /// Crop-normalised landmarks to image pixels: letterbox removal (LandmarkLetterboxRemovalCalculator) then
    /// projection through the rotated <paramref name="roi"/> (LandmarkProjectionCalculator), Z scaled as X
    /// (by the ROI's width in pixels).
    /// </summary>
    public static void ProjectToImage(Span<BlazePoseLandmark> landmarks, LetterboxPadding padding, BlazePoseRoi roi)
    {
        var zScale = roi.Width / (1 - padding.Left - padding.Right);
        for (var i = 0; i < landmarks.Length; i++)
        {
            var lm = landmarks[i];
            var unpadded = padding.Remove(lm.X, lm.Y);
            var p = roi.ToImage(unpadded.X, unpadded.Y);
            landmarks[i] = lm with { X = p.X, Y = p.Y, Z = lm.Z * zScale };
        }
    }

    /// <summary>
    /// <c>Identity_4</c> / world_3d [1,117]: 39 × (x, y, z) in metres → the first <c>world.Length</c> (33) world
    /// landmarks, rotated in x-y by the ROI's rotation (WorldLandmarkProjectionCalculator: no scale or shift), with
    /// visibility and presence copied from the image landmarks (VisibilityCopyCalculator).
    /// </summary>
    public static void DecodeWorld(ReadOnlySpan<float> raw, float rotation, ReadOnlySpan<BlazePoseLandmark> landmarks, Span<BlazePoseLandmark> world)
    {
        if (raw.Length < world.Length * 3)
            throw new ArgumentException($"Expected at least {world.Length}×3 values, got {raw.Length}.", nameof(raw));
        if (landmarks.Length < world.Length)
            throw new ArgumentException($"Visibility is copied from {world.Length} landmarks; {landmarks.Length} given.", nameof(landmarks));
        double c = Math.Cos(rotation), s = Math.Sin(rotation);
        for (var i = 0; i < world.Length; i++)
        {
            double x = raw[i * 3], y = raw[i * 3 + 1];
            world[i] = new BlazePoseLandmark((float)(c * x - s * y), (float)(s * x + c * y), raw[i * 3 + 2],
                landmarks[i].Visibility, landmarks[i].Presence);
        }
    }
}
