using OpenCvSharp;
using TfPose.Graph;
using TfPose.Runtime;

namespace TfPose.Pose.MoveNet;

/// <summary>Settings of MoveNet's pre- and post-processing (pose-detection's defaults).</summary>
public sealed record MoveNetOptions
{
    /// <summary>People (multi-pose) or the one person (single-pose) scoring below this are dropped.</summary>
    public float MinPoseScore { get; init; } = 0.25f;

    /// <summary>MultiPose: the image's longer side is resized to this (a multiple of 32), the other side padded up to one.</summary>
    public int MultiPoseMaxDimension { get; init; } = 256;
}

/// <summary>
/// Google's MoveNet, run as TensorFlow.js' pose-detection runs it. SinglePose (Lightning 192², Thunder 256²) looks at a
/// square crop region: on a still image the whole image padded to a square; in a video the region follows the person
/// from frame to frame. MultiPose resizes the image so its longer side is 256 and pads the other to a multiple of 32.
/// Inputs are int32 RGB 0..255; outputs are keypoints as (y, x, score) normalised to the network input.
/// An instance reuses its buffers from call to call: one thread at a time (<see cref="PoseEstimator"/> keeps one per
/// concurrent call).
/// </summary>
public sealed class MoveNetPipeline : IPosePipeline
{
    private const int Keypoints = 17;
    private const int InstanceSize = Keypoints * 3 + 5; // 17 × (y, x, score), then ymin, xmin, ymax, xmax, score
    private const float CropFilterAlpha = 0.9f;

    private readonly GraphSession _session;
    private readonly bool _ownsSession;
    private readonly MoveNetOptions _options;
    private readonly string _input;
    private readonly string[] _fetch;
    private readonly Keypoint[] _keypoints = new Keypoint[Keypoints];
    private readonly MatBuffer _warped = new();
    private readonly MatBuffer _affine = NewAffine();
    private MatBuffer? _resized;
    private (nint Data, int Cols, int Rows, int Width, int Height) _resizedKey;
    private int[] _pixels = [];
    private GraphTensor? _tensor;
    private readonly Dictionary<string, GraphTensor> _feeds = new(1);
    private long[] _tensorShape = [];
    private float[] _output = [];
    private GraphTensor? _outputTensor;
    private GraphBinding? _binding;
    private CropRegion? _crop;
    private StageClock _clock;

    public MoveNetPipeline(TfGraph graph, MoveNetOptions? options = null, GraphSessionOptions? sessionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        _options = options ?? new MoveNetOptions();
        if (_options.MultiPoseMaxDimension <= 0 || _options.MultiPoseMaxDimension % 32 != 0)
            throw new ArgumentException($"MultiPoseMaxDimension {_options.MultiPoseMaxDimension} must be a positive multiple of 32.", nameof(options));
        var where = graph.SourcePath ?? "the graph";
        if (Detect(graph) is not { } kind)
            throw new InvalidDataException($"{where}: not a MoveNet graph (one int32 [1,H,W,3] input; output [1,1,17,3] or [1,N,56]).");
        MultiPose = kind.MultiPose;
        InputSize = kind.InputSize;
        _input = graph.Inputs[0].Name;
        _fetch = [graph.Outputs[0]];
        _session = new GraphSession(graph, sessionOptions);
        _ownsSession = true;
    }

    private MoveNetPipeline(MoveNetPipeline source)
    {
        _options = source._options;
        MultiPose = source.MultiPose;
        InputSize = source.InputSize;
        _input = source._input;
        _fetch = source._fetch;
        _session = source._session;
    }

    /// <summary>
    /// Another pipeline on the same network (its session is thread-safe and translating the graph again would be slow)
    /// with buffers and a crop region of its own, so the two can run at once. The session stays this one's to dispose.
    /// </summary>
    internal MoveNetPipeline Share() => new(this);

    IPosePipeline IPosePipeline.Share(bool video) => Share();

    /// <summary>True for MultiPose (up to 6 people with boxes), false for SinglePose.</summary>
    public bool MultiPose { get; }

    /// <summary>SinglePose: the network's square input side (192 Lightning, 256 Thunder); MultiPose: 0 (any multiple of 32).</summary>
    public int InputSize { get; }

    /// <summary>
    /// Recognises MoveNet from its signature: one int32 image input and an output of [1,1,17,3] (single pose, whose input
    /// side is then fixed) or [1,N,56] (multi-pose); null for other graphs.
    /// </summary>
    public static (bool MultiPose, int InputSize)? Detect(TfGraph graph)
    {
        if (graph.Inputs is not [{ Type: Graph.Proto.DataType.DtInt32, Shape: { Length: 4 } inShape }] || inShape[3] != 3 || graph.Outputs.Count != 1)
            return null;
        var shapes = ShapeInference.Infer(graph, new Dictionary<string, long[]> { [graph.Inputs[0].Name] = [1, inShape[1] > 0 ? inShape[1] : 256, inShape[2] > 0 ? inShape[2] : 256, 3] });
        return shapes.Shape(graph.Outputs[0]) switch
        {
            [_, 1, Keypoints, 3] when inShape[1] > 0 && inShape[1] == inShape[2] => (false, (int)inShape[1]),
            [_, _, InstanceSize] => (true, 0),
            _ => null,
        };
    }

    /// <summary>
    /// The people in a BGR image, in its pixels. With <paramref name="video"/> a single-pose model looks where the
    /// person was in the previous frame (call <see cref="Reset"/> between unrelated videos); without, at the whole image.
    /// </summary>
    public List<Person> Estimate(Mat bgr, bool video = false) => Estimate(bgr, video ? new VideoStep(TimeSpan.Zero, null) : null);

    List<Person> IPosePipeline.Estimate(Mat bgr, VideoStep? video) => Estimate(bgr, video);

    private List<Person> Estimate(Mat bgr, VideoStep? video)
    {
        ArgumentNullException.ThrowIfNull(bgr);
        if (bgr.Empty() || bgr.Type() != MatType.CV_8UC3)
            throw new ArgumentException($"Expected a non-empty 8-bit BGR image, got {bgr.Type()} {bgr.Width}x{bgr.Height}.", nameof(bgr));
        _clock.Start();
        // MultiPose carries nothing between frames; its people are tracked, then smoothed, by the caller.
        var people = MultiPose ? EstimateMany(bgr) : EstimateOne(bgr, video);
        _clock.Postprocessed();
        return people;
    }

    /// <summary>Where the last <see cref="Estimate(Mat, bool)"/> spent its time.</summary>
    public PoseTimings LastTimings => _clock.Timings;

    /// <summary>Forgets the crop region carried between video frames.</summary>
    public void Reset() => _crop = null;

    /// <summary>The crop region the next video frame will use (null: the whole image).</summary>
    public CropRegion? NextCropRegion => _crop;

    private List<Person> EstimateOne(Mat bgr, VideoStep? video)
    {
        int w = bgr.Width, h = bgr.Height, s = InputSize;
        var region = video is not null && _crop is { } carried ? carried : CropRegion.WholeImage(w, h);
        // tf.image.cropAndResize samples input row y1·(H−1) + i·(y2−y1)·(H−1)/(size−1); outside the image is black.
        var ax = region.Width * (w - 1) / (s - 1);
        var ay = region.Height * (h - 1) / (s - 1);
        using (var source = InputArray.Create(bgr))
            _warped.WarpAffine(source, Affine(ax, region.XMin * (w - 1), ay, region.YMin * (h - 1)), new Size(s, s), InterpolationFlags.Linear | InterpolationFlags.WarpInverseMap, BorderTypes.Constant, Scalar.Black);
        var output = Run(_warped.Mat, s, s);
        var score = DecodeSingle(output, region, w, h, _keypoints);
        if (score < _options.MinPoseScore)
        {
            Reset();
            return [];
        }
        var person = new Person(KeypointSet.Coco17, _keypoints.AsSpan(), score);
        if (video is not { } step)
            return [person];
        // Smoothed before it decides the next crop, which keeps the crop steady too (pose-detection's order).
        if (step.Smoother is not null)
        {
            person = step.Smoother.Smooth([person], step.Timestamp)[0];
            for (var k = 0; k < Keypoints; k++)
                _keypoints[k] = person[k]!.Value;
        }
        _crop = Filter(CropRegion.Next(_keypoints, w, h));
        return [person];
    }

    /// <summary>
    /// SinglePose output [1,1,17,3] (y, x, score normalised to the crop) as keypoints in image pixels; returns the
    /// person's score, pose-detection's mean of the keypoint scores above <see cref="CropRegion.MinKeypointScore"/>.
    /// </summary>
    internal static float DecodeSingle(ReadOnlySpan<float> output, CropRegion region, int width, int height, Span<Keypoint> keypoints)
    {
        float score = 0;
        var counted = 0;
        for (var k = 0; k < Keypoints; k++)
        {
            var y = (region.YMin + output[3 * k] * region.Height) * height;
            var x = (region.XMin + output[3 * k + 1] * region.Width) * width;
            var c = output[3 * k + 2];
            keypoints[k] = new Keypoint(k, x, y, x / width, y / height, c);
            if (c > CropRegion.MinKeypointScore)
            {
                score += c;
                counted++;
            }
        }
        return counted > 0 ? score / counted : 0;
    }

    /// <summary>The crop region moves smoothly: each edge follows a low-pass filter (pose-detection's alpha 0.9).</summary>
    private CropRegion Filter(CropRegion next) => _crop is not { } previous ? next : new CropRegion(
        CropFilterAlpha * next.YMin + (1 - CropFilterAlpha) * previous.YMin, CropFilterAlpha * next.XMin + (1 - CropFilterAlpha) * previous.XMin,
        CropFilterAlpha * next.YMax + (1 - CropFilterAlpha) * previous.YMax, CropFilterAlpha * next.XMax + (1 - CropFilterAlpha) * previous.XMax);

    private List<Person> EstimateMany(Mat bgr)
    {
        int w = bgr.Width, h = bgr.Height, max = _options.MultiPoseMaxDimension;
        int rw, rh, pw, ph;
        if (w > h)
        {
            (rw, rh) = (max, Math.Max(1, (int)Math.Round(max * (double)h / w)));
            (pw, ph) = (rw, (rh + 31) / 32 * 32);
        }
        else
        {
            (rw, rh) = (Math.Max(1, (int)Math.Round(max * (double)w / h)), max);
            (pw, ph) = ((rw + 31) / 32 * 32, rh);
        }
        // tf.image.resizeBilinear without half-pixel centres samples input x·(W/w'); the padding below and right is black.
        _warped.Mat.Create(ph, pw, MatType.CV_8UC3);
        _warped.Mat.SetTo(Scalar.Black);
        using (var source = InputArray.Create(bgr))
            ResizedRegion(rw, rh).WarpAffine(source, Affine(w / (double)rw, 0, h / (double)rh, 0), new Size(rw, rh), InterpolationFlags.Linear | InterpolationFlags.WarpInverseMap, BorderTypes.Replicate, default);
        var output = Run(_warped.Mat, pw, ph);
        return DecodeMulti(output, w, h, rw, rh, pw, ph, _options.MinPoseScore);
    }

    /// <summary>
    /// MultiPose output [1,N,56] as people in image pixels: the values are normalised to the padded input, of which the
    /// image (resized to rw×rh) covers the top-left part.
    /// </summary>
    internal static List<Person> DecodeMulti(ReadOnlySpan<float> output, int width, int height, int rw, int rh, int pw, int ph, float minScore)
    {
        float sy = ph / (float)rh * height, sx = pw / (float)rw * width;
        var people = new List<Person>();
        Span<Keypoint> keypoints = stackalloc Keypoint[Keypoints];
        for (var i = 0; i + InstanceSize <= output.Length; i += InstanceSize)
        {
            var score = output[i + InstanceSize - 1];
            if (score < minScore)
                continue;
            for (var k = 0; k < Keypoints; k++)
            {
                float y = output[i + 3 * k] * sy, x = output[i + 3 * k + 1] * sx;
                keypoints[k] = new Keypoint(k, x, y, x / width, y / height, output[i + 3 * k + 2]);
            }
            var b = i + 3 * Keypoints;
            var box = new Rect2f(output[b + 1] * sx, output[b] * sy, (output[b + 3] - output[b + 1]) * sx, (output[b + 2] - output[b]) * sy);
            people.Add(new Person(KeypointSet.Coco17, keypoints, score) { Box = box });
        }
        return people;
    }

    /// <summary>The inverse map x = sx·x' + tx, y = sy·y' + ty, in the one 2×3 matrix this pipeline reuses.</summary>
    private MatBuffer Affine(double sx, double tx, double sy, double ty)
    {
        var m = _affine.Mat.AsSpan<double>();
        m[0] = sx; m[1] = 0; m[2] = tx;
        m[3] = 0; m[4] = sy; m[5] = ty;
        return _affine;
    }

    /// <summary>
    /// The top-left <paramref name="width"/>×<paramref name="height"/> of the warped input, as a view kept while the input
    /// keeps its memory and the region its size (a frame size seen before), so that a video makes it once.
    /// </summary>
    private MatBuffer ResizedRegion(int width, int height)
    {
        var key = (_warped.Mat.Data, _warped.Mat.Cols, _warped.Mat.Rows, width, height);
        if (_resized is null || _resizedKey != key)
        {
            _resized?.Dispose();
            _resized = new MatBuffer(_warped.Mat, new Rect(0, 0, width, height));
            _resizedKey = key;
        }
        return _resized;
    }

    private static MatBuffer NewAffine()
    {
        var map = new MatBuffer();
        map.Mat.Create(2, 3, MatType.CV_64FC1);
        return map;
    }

    /// <summary>
    /// Feeds an 8-bit BGR image as int32 RGB [1, height, width, 3] and returns the one output. The first run at a size
    /// finds the output's shape; later runs at that size repeat a bound run into the same output array.
    /// </summary>
    private float[] Run(Mat bgr, int width, int height)
    {
        var count = width * height * 3;
        Span<long> shape = [1, height, width, 3];
        if (_tensor is null || !_tensorShape.AsSpan().SequenceEqual(shape))
        {
            Unbind();
            _pixels = new int[count];
            _tensorShape = shape.ToArray();
            _tensor = GraphTensor.FromArray(_pixels, _tensorShape);
            _feeds[_input] = _tensor;
        }
        // The warped Mat is continuous (created here at this size): one pass turns BGR bytes into RGB int32.
        var src = bgr.AsSpan<byte>();
        var dst = _pixels.AsSpan();
        for (var p = 0; p < count; p += 3)
        {
            dst[p] = src[p + 2];
            dst[p + 1] = src[p + 1];
            dst[p + 2] = src[p];
        }
        _clock.Preprocessed();
        if (_binding is not null)
        {
            _binding.Run();
        }
        else
        {
            using var results = _session.Run(_feeds, _fetch);
            _output = results[0].ToArray<float>();
            _outputTensor = GraphTensor.FromArray(_output, results[0].Shape);
            _binding = _session.Bind(_feeds, _fetch, [_outputTensor]);
        }
        _clock.Inferred();
        return _output;
    }

    private void Unbind()
    {
        _binding?.Dispose();
        _binding = null;
        _outputTensor?.Dispose();
        _outputTensor = null;
        _tensor?.Dispose();
        _tensor = null;
    }

    public void Dispose()
    {
        Unbind();
        _warped.Dispose();
        _affine.Dispose();
        _resized?.Dispose();
        if (_ownsSession)
            _session.Dispose();
    }
}
