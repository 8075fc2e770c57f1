using OpenCvSharp;
using TfPose.Runtime;

namespace TfPose.Pose.BlazePose;

/// <summary>Options of <see cref="BlazePosePipeline"/>; defaults are pose-detection's BlazePose "tfjs" runtime.</summary>
public sealed record BlazePoseOptions
{
    /// <summary>Detector decoding: score threshold, NMS.</summary>
    public BlazePoseDetectorOptions Detector { get; init; } = new();

    /// <summary>
    /// A crop whose pose flag (person-present probability) is below this yields no person, and the next frame runs
    /// the detector again (BLAZEPOSE_POSE_PRESENCE_SCORE; MediaPipe's ThresholdingCalculator threshold).
    /// </summary>
    public float MinPoseScore { get; init; } = 0.5f;

    /// <summary>Compute the segmentation mask (fetches the landmark model's segmentation output and warps it back).</summary>
    public bool EnableSegmentation { get; init; } = true;

    /// <summary>How both networks run (threads, device, spinning between runs).</summary>
    public GraphSessionOptions Session { get; init; } = new();

    /// <summary>Temporal smoothing applied on video frames (none by default); see <see cref="IBlazePoseFilter"/>.</summary>
    public IBlazePoseFilter? Filter { get; init; }
}

/// <summary>
/// The seam for temporal smoothing (pose-detection's PoseLandmarkFiltering: One Euro filters on landmarks, a low-pass
/// on visibility, and segmentation smoothing). <see cref="BlazePosePipeline"/> calls it on video frames only, after
/// the landmarks are projected into the image and before the next frame's ROI is derived from them, so the ROI
/// follows the filtered auxiliary landmarks as in pose-detection.
/// </summary>
public interface IBlazePoseFilter
{
    /// <summary>
    /// Smooths one frame in place. <paramref name="landmarks"/>: 35 landmarks in image pixels, the 33 body keypoints
    /// then the two auxiliary ones (33: hips' midpoint, 34: body scale point; pose-detection filters these with their
    /// own, heavier, settings; <see cref="BlazePoseRoi.FromAlignmentPoints"/> of them with scale 1 gives the object
    /// scale its filters use). <paramref name="worldLandmarks"/>: the 33 world landmarks in metres.
    /// <paramref name="timestamp"/> is the caller's frame time, null when none was given.
    /// </summary>
    void Apply(Span<BlazePoseLandmark> landmarks, Span<BlazePoseLandmark> worldLandmarks, int imageWidth, int imageHeight, TimeSpan? timestamp);

    /// <summary>Smooths the image-sized segmentation mask (CV_32FC1) in place; pose-detection blends it with the previous one.</summary>
    void ApplySegmentation(Mat mask)
    {
    }

    /// <summary>Forgets all state (the track was lost or <see cref="BlazePosePipeline.Reset"/> was called).</summary>
    void Reset();
}

/// <summary>What <see cref="BlazePosePipeline.Estimate"/> found in one image.</summary>
public sealed class BlazePoseResult
{
    internal BlazePoseResult(Person? person, Mat? segmentation, bool detectorRan, BlazePoseDetection? detection, BlazePoseRoi? roi, float poseScore)
    {
        DetectorRan = detectorRan;
        Person = person;
        Segmentation = segmentation;
        Detection = detection;
        Roi = roi;
        PoseScore = poseScore;
    }

    /// <summary>
    /// The person (<see cref="KeypointSet.BlazePose33"/>, keypoints in image pixels, Score = pose flag), or null.
    /// Keypoint Score = Visibility (as pose-detection reports it); <see cref="Person.WorldKeypoints"/> in metres;
    /// <see cref="Person.Box"/> = the box around the 33 keypoints (the detector's own box is the face's, see
    /// <see cref="Detection"/>).
    /// </summary>
    public Person? Person { get; }

    /// <summary>
    /// Person probability per image pixel (CV_32FC1, the image's size), or null when there is no person or
    /// segmentation is off. Owned by the pipeline and overwritten by its next call: Clone() to keep it.
    /// </summary>
    public Mat? Segmentation { get; }

    /// <summary>This frame's detection in image pixels; null when the region was tracked from the previous frame or the detector found no one.</summary>
    public BlazePoseDetection? Detection { get; }

    /// <summary>The region the landmark model read (image pixels); null when the detector found no one.</summary>
    public BlazePoseRoi? Roi { get; }

    /// <summary>The landmark model's pose flag for <see cref="Roi"/> (0 when it did not run).</summary>
    public float PoseScore { get; }

    /// <summary>Whether the detector ran for this frame.</summary>
    public bool DetectorRan { get; }
}

/// <summary>
/// MediaPipe BlazePose's two-stage pipeline as TensorFlow.js' pose-detection runs it (runtime "tfjs"): a person
/// detector (TensorFlow.js graph model or frozen graph) finds the body region, the landmark model (lite, full or
/// heavy) reads 33 keypoints, world keypoints and a segmentation mask from a rotated 256×256 crop of it. On video the
/// next region comes from this frame's landmarks, and the detector only runs again once the landmark model's pose
/// flag drops below <see cref="BlazePoseOptions.MinPoseScore"/>. Buffers are reused across frames; an instance is
/// not thread-safe.
/// </summary>
/// <example>
/// <code>
/// using var pose = new BlazePosePipeline("blazepose-detector/model.json", "blazepose-lite/model.json");
/// using var image = Cv2.ImRead("p1.jpg");
/// var result = pose.Estimate(image, video: false);
/// Console.WriteLine(result.Person);
/// </code>
/// </example>
public sealed class BlazePosePipeline : IDisposable
{
    private readonly DetectorModel _detector;
    private readonly LandmarkModel _landmarks;
    private readonly BlazePoseDetectorDecoder _decoder;
    private readonly List<BlazePoseDetection> _detections = [];
    private readonly BlazePoseLandmark[] _all = new BlazePoseLandmark[BlazePoseLandmarkDecoder.LandmarkCount];
    private readonly BlazePoseLandmark[] _world = new BlazePoseLandmark[BlazePoseLandmarkDecoder.KeypointCount];
    private readonly Keypoint[] _keypoints = new Keypoint[BlazePoseLandmarkDecoder.KeypointCount];
    private readonly Mat _bgr = new();
    private Mat? _mask;
    private BlazePoseRoi? _trackedRoi;
    private bool _disposed;
    private StageClock _clock;

    /// <summary>Loads both networks (TensorFlow.js model.json, its folder, a frozen .pb, or MediaPipe's .tflite landmark models) and prepares their sessions.</summary>
    public BlazePosePipeline(string detectorModelPath, string landmarkModelPath, BlazePoseOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(detectorModelPath);
        ArgumentException.ThrowIfNullOrEmpty(landmarkModelPath);
        Options = options ?? new BlazePoseOptions();
        _decoder = new BlazePoseDetectorDecoder(Options.Detector);
        var sessionOptions = Options.Session;
        _detector = new DetectorModel(detectorModelPath, sessionOptions);
        try
        {
            _landmarks = new LandmarkModel(landmarkModelPath, sessionOptions, Options.EnableSegmentation);
        }
        catch
        {
            _detector.Dispose();
            throw;
        }
    }

    private BlazePosePipeline(BlazePosePipeline source, BlazePoseOptions options)
    {
        Options = options;
        _decoder = new BlazePoseDetectorDecoder(Options.Detector);
        _detector = source._detector.Share();
        _landmarks = source._landmarks.Share();
    }

    /// <summary>
    /// Another pipeline on the same two networks (their sessions are thread-safe, and translating the graphs again would
    /// be slow) with buffers and a tracked region of its own, and <paramref name="filter"/> as its temporal filter, so
    /// the two can run at once. The sessions stay this one's to dispose: dispose the share first.
    /// </summary>
    internal BlazePosePipeline Share(IBlazePoseFilter? filter) => new(this, Options with { Filter = filter });

    public BlazePoseOptions Options { get; }

    /// <summary>Where the last <see cref="Estimate"/> spent its time (both stages: crops, networks, decoding).</summary>
    public PoseTimings LastTimings => _clock.Timings;

    /// <summary>How many times the detector network has run (to see tracking at work).</summary>
    public long DetectorRuns { get; private set; }

    /// <summary>The region the next video frame will be read from, or null when the next frame runs the detector.</summary>
    public BlazePoseRoi? TrackedRoi => _trackedRoi;

    /// <summary>Forgets the tracked person: the next frame runs the detector (and the filter is reset).</summary>
    public void Reset()
    {
        _trackedRoi = null;
        Options.Filter?.Reset();
    }

    /// <summary>
    /// Finds the person in a BGR image (8-bit, 1, 3 or 4 channels). With <paramref name="video"/> false every call
    /// is independent (the detector always runs, no filter); with true the region is tracked from the previous call
    /// and <see cref="BlazePoseOptions.Filter"/> is applied, given <paramref name="timestamp"/>.
    /// </summary>
    public BlazePoseResult Estimate(Mat bgrImage, bool video, TimeSpan? timestamp = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _clock.Start();
        var image = ToBgr(bgrImage);
        if (!video)
            Reset();

        BlazePoseDetection? detection = null;
        var roi = _trackedRoi;
        if (roi is null)
        {
            detection = Detect(image);
            roi = detection?.ToRoi();
            // A detection whose two alignment points coincide gives no region to read.
            if (roi is not { Width: > 0, Height: > 0 })
            {
                Reset();
                return new BlazePoseResult(null, null, true, detection, null, 0);
            }
        }

        var poseScore = RunLandmarks(image, roi.Value, out var padding);
        if (poseScore < Options.MinPoseScore)
        {
            Reset();
            return new BlazePoseResult(null, null, detection is not null, detection, roi, poseScore);
        }

        DecodeLandmarks(roi.Value, padding);
        if (video)
        {
            Options.Filter?.Apply(_all.AsSpan(0, BlazePoseLandmarkDecoder.BodyScaleIndex + 1), _world, image.Width, image.Height, timestamp);
            // The next frame's region, from the (filtered) auxiliary landmarks (pose_landmarks_to_roi). A still image
            // starts no track (pose-detection would keep it, MediaPipe's static_image_mode does not).
            var next = BlazePoseRoi.FromAlignmentPoints(
                new Point2f(_all[BlazePoseLandmarkDecoder.HipCenterIndex].X, _all[BlazePoseLandmarkDecoder.HipCenterIndex].Y),
                new Point2f(_all[BlazePoseLandmarkDecoder.BodyScaleIndex].X, _all[BlazePoseLandmarkDecoder.BodyScaleIndex].Y));
            _trackedRoi = next is { Width: > 0, Height: > 0 } ? next : null; // degenerate: detect again
        }

        Mat? mask = null;
        if (_landmarks.Segmentation is { } segmentation)
        {
            mask = WarpSegmentation(segmentation, roi.Value, image.Width, image.Height);
            if (video)
                Options.Filter?.ApplySegmentation(mask);
        }
        var result = new BlazePoseResult(MakePerson(image.Width, image.Height), mask, detection is not null, detection, roi, poseScore);
        _clock.Postprocessed();
        return result;
    }

    /// <summary>Runs the detector on the whole image (letterboxed to 224×224) and returns the best detection in image pixels.</summary>
    private BlazePoseDetection? Detect(Mat image)
    {
        var (padded, padding) = BlazePoseRoi.WholeImage(image.Width, image.Height).PadTo(DetectorModel.Size, DetectorModel.Size);
        TfjsWarp.CropBgrToRgb(image, Affine.From(padded.CropToImageMatrix(DetectorModel.Size, DetectorModel.Size)),
            DetectorModel.Size, DetectorModel.Size, 2f / 255f, -1f, _detector.Input);
        _clock.Preprocessed();
        _detector.Run();
        DetectorRuns++;
        _clock.Inferred();
        _decoder.Decode(_detector.Output, _detections);
        _clock.Postprocessed();
        return _detections.Count == 0 ? null : _detections[0].ToImage(padding, image.Width, image.Height);
    }

    /// <summary>Crops the region to 256×256 (RGB 0..1) as pose-detection does, runs the landmark model, returns the pose flag.</summary>
    private float RunLandmarks(Mat image, BlazePoseRoi roi, out LetterboxPadding padding)
    {
        var (padded, pad) = roi.PadTo(LandmarkModel.Size, LandmarkModel.Size);
        padding = pad;
        TfjsWarp.CropBgrToRgb(image, Affine.From(padded.CropToImageMatrix(LandmarkModel.Size, LandmarkModel.Size)),
            LandmarkModel.Size, LandmarkModel.Size, 1f / 255f, 0f, _landmarks.Input);
        _clock.Preprocessed();
        _landmarks.Run();
        _clock.Inferred();
        return _landmarks.PoseFlag[0];
    }

    private void DecodeLandmarks(BlazePoseRoi roi, LetterboxPadding padding)
    {
        BlazePoseLandmarkDecoder.DecodeLandmarks(_landmarks.Landmarks, _all);
        BlazePoseLandmarkDecoder.RefineFromHeatmap(_all, _landmarks.Heatmap, LandmarkModel.HeatmapSize, LandmarkModel.HeatmapSize, logits: _landmarks.HeatmapLogits);
        BlazePoseLandmarkDecoder.ProjectToImage(_all, padding, roi);
        BlazePoseLandmarkDecoder.DecodeWorld(_landmarks.World, roi.Rotation, _all, _world);
    }

    /// <summary>The 256×256 mask back into image pixels through the inverse of the crop's transform (zero outside the crop).</summary>
    private Mat WarpSegmentation(float[] segmentation, BlazePoseRoi roi, int width, int height)
    {
        if (_mask is null || _mask.Width != width || _mask.Height != height)
        {
            _mask?.Dispose();
            _mask = new Mat(height, width, MatType.CV_32FC1);
        }
        var (padded, _) = roi.PadTo(LandmarkModel.Size, LandmarkModel.Size);
        var toCrop = Affine.From(padded.CropToImageMatrix(LandmarkModel.Size, LandmarkModel.Size)).Inverse();
        // Only pixels near the crop can read a non-zero mask value: its box, grown by a crop pixel and a margin.
        var box = padded.BoundingBox();
        var margin = Math.Max(padded.Width, padded.Height) / LandmarkModel.Size + 2;
        var region = Rect.FromLTRB((int)Math.Floor(box.X - margin), (int)Math.Floor(box.Y - margin),
            (int)Math.Ceiling(box.X + box.Width + margin), (int)Math.Ceiling(box.Y + box.Height + margin));
        TfjsWarp.WarpToImage(segmentation, LandmarkModel.Size, LandmarkModel.Size, toCrop, _mask, region);
        return _mask;
    }

    private Person MakePerson(int width, int height)
    {
        // Built in a reused buffer and copied into the person: only what the person keeps is allocated.
        var keypoints = _keypoints;
        var world = new WorldKeypoint[BlazePoseLandmarkDecoder.KeypointCount];
        float x0 = float.MaxValue, y0 = float.MaxValue, x1 = float.MinValue, y1 = float.MinValue;
        for (var i = 0; i < keypoints.Length; i++)
        {
            var lm = _all[i];
            keypoints[i] = new Keypoint(i, lm.X, lm.Y, lm.X / width, lm.Y / height, lm.Visibility)
            {
                Z = lm.Z,
                Visibility = lm.Visibility,
                Presence = lm.Presence,
            };
            var w = _world[i];
            world[i] = new WorldKeypoint(i, w.X, w.Y, w.Z, w.Visibility);
            x0 = Math.Min(x0, lm.X); x1 = Math.Max(x1, lm.X);
            y0 = Math.Min(y0, lm.Y); y1 = Math.Max(y1, lm.Y);
        }
        return new Person(KeypointSet.BlazePose33, keypoints.AsSpan(), _landmarks.PoseFlag[0])
        {
            Box = new Rect2f(x0, y0, x1 - x0, y1 - y0),
            WorldKeypoints = world,
        };
    }

    private Mat ToBgr(Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.IsDisposed || image.Empty())
            throw new ArgumentException("The image is empty (zero size or not decoded).", nameof(image));
        if (image.Depth() != MatType.CV_8U)
            throw new ArgumentException($"Expected an 8-bit image, got {image.Type()}.", nameof(image));
        switch (image.Channels())
        {
            case 3:
                return image;
            case 1:
                Cv2.CvtColor(image, _bgr, ColorConversionCodes.GRAY2BGR);
                return _bgr;
            case 4:
                Cv2.CvtColor(image, _bgr, ColorConversionCodes.BGRA2BGR);
                return _bgr;
            default:
                throw new ArgumentException($"Expected a 1, 3 or 4 channel image, got {image.Channels()} channels.", nameof(image));
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _detector.Dispose();
        _landmarks.Dispose();
        _bgr.Dispose();
        _mask?.Dispose();
    }
}
