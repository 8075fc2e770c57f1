using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>Options of <see cref="PoseEstimator"/>.</summary>
public sealed record PoseEstimatorOptions
{
    /// <summary>
    /// What the graph is and how to feed it. Null: detected from the graph file and its <c>.pose.json</c>
    /// override (<see cref="PoseModelDescription"/>); with an <see cref="IPoseNetwork"/> given directly,
    /// null means <see cref="PoseModel.OpenPose"/>.
    /// </summary>
    public PoseModel? Model { get; init; }

    /// <summary>Network input width (under the model's size rule); null = the model's default (OpenPose 432, PoseNet 353, CPM/hourglass 192).</summary>
    public int? Width { get; init; }

    /// <summary>Network input height; null = the model's default (OpenPose 368, PoseNet 257, CPM/hourglass 192).</summary>
    public int? Height { get; init; }

    /// <summary>Keep the image's aspect ratio by padding (with black) instead of stretching it to the network size.</summary>
    public bool KeepAspectRatio { get; init; }

    /// <summary>Number of scales averaged (OpenPose's scale_number); 1 = single scale. OpenPose models only.</summary>
    public int ScaleNumber { get; init; } = 1;

    /// <summary>Step between scales (OpenPose's scale_gap): scales are 1, 1 − gap, 1 − 2·gap, ...</summary>
    public float ScaleGap { get; init; } = 0.25f;

    /// <summary>
    /// How the networks run: threads (<see cref="Runtime.GraphSessionOptions.IntraOpThreads"/>), device (CPU, CUDA,
    /// TensorRT), whether threads spin between runs (off suits video, where decoding and encoding share the cores). Every
    /// network of the model (BlazePose: detector and landmarks) gets these options.
    /// </summary>
    public Runtime.GraphSessionOptions Session { get; init; } = new();

    /// <summary>OpenPose post-processing thresholds.</summary>
    public PafDecoderOptions Decoder { get; init; } = new();

    /// <summary>Single-person heatmap decoding (CPM, hourglass).</summary>
    public HeatmapDecoderOptions Heatmap { get; init; } = new();

    /// <summary>PoseNet decoding (single or multi-pose, tfjs defaults).</summary>
    public PoseNetDecoderOptions PoseNet { get; init; } = new();

    /// <summary>MoveNet pre- and post-processing (minimum pose score, MultiPose input size).</summary>
    public MoveNet.MoveNetOptions MoveNet { get; init; } = new();

    /// <summary>
    /// BlazePose: the person detector run before the landmark model (a model.json, its folder or a .pb). Null: a
    /// <c>blazepose-detector</c> folder beside the landmark model's folder.
    /// </summary>
    public string? DetectorModel { get; init; }

    /// <summary>
    /// BlazePose: compute the person segmentation mask (<see cref="PoseEstimator.LastSegmentation"/>). Off by default, as
    /// in pose-detection: the landmark models' full-resolution segmentation head costs more than the rest of them.
    /// </summary>
    public bool Segmentation { get; init; }

    /// <summary>
    /// Video: how people of multi-person models (OpenPose, PoseNet, MoveNet MultiPose) keep their ids from frame to frame
    /// (pose-detection's bounding-box tracker by default); null = no tracking.
    /// </summary>
    public Tracking.TrackerOptions? Tracker { get; init; } = Tracking.TrackerOptions.BoundingBox;

    /// <summary>
    /// Video: keypoint smoothing (One Euro over positions, low-pass over visibility). Null = the model's
    /// pose-detection preset (BlazePose's for BlazePose, MoveNet's otherwise); <c>Enabled = false</c> turns it off.
    /// Still images are never smoothed.
    /// </summary>
    public Tracking.SmoothingOptions? Smoothing { get; init; }
}

/// <summary>An image preprocessed for the network: one float input per scale and the way back to image pixels.</summary>
public sealed class PreparedImage : IDisposable
{
    internal PreparedImage(Runtime.MatBuffer[] inputs, ImageMapping mapping)
    {
        _buffers = inputs;
        Inputs = Array.ConvertAll(inputs, b => b.Mat);
        Mapping = mapping;
    }

    private readonly Runtime.MatBuffer[] _buffers;

    /// <summary>Network inputs (CV_32FC3), the first at full network size.</summary>
    public IReadOnlyList<Mat> Inputs { get; }

    public ImageMapping Mapping { get; }

    /// <summary>Frees the inputs.</summary>
    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
    }
}

/// <summary>
/// Pose estimation with a frozen graph of any supported kind: OpenPose (multi-person, PAFs), PoseNet
/// (single or multi-person) and single-person heatmap models (CPM, hourglass). The model description
/// (<see cref="Model"/>) picks the preprocessing and the decoder.
/// </summary>
/// <example>
/// <code>
/// using var estimator = new PoseEstimator("graph_opt.pb");
/// using var image = Cv2.ImRead("p1.jpg");
/// foreach (var person in estimator.Estimate(image)) Console.WriteLine(person);
/// </code>
/// </example>
/// <remarks>
/// <para>
/// <see cref="Estimate(Mat, Rect?)"/> is the simple path; the three stages it runs are <see cref="Prepare"/>,
/// <see cref="Infer"/> and <see cref="Decode"/>.
/// </para>
/// <para>
/// Threads: <see cref="Estimate(Mat, Rect?)"/> and the three stages may be called from any number of threads at once on
/// one estimator (a server, a parallel folder run). The networks are shared (runtime sessions are thread-safe); each
/// call rents its own decoder and buffers from a pool that grows to the most calls ever in flight at once and then
/// allocates nothing more. A network given to the constructor must itself allow concurrent
/// <see cref="IPoseNetwork.Run"/> calls for this to hold.
/// </para>
/// <para>
/// Video is sequential by nature: <see cref="EstimateFrame(Mat, TimeSpan)"/>, <see cref="Track"/> and
/// <see cref="ResetVideo"/> carry state (crop, tracks, filters) from one frame to the next, so they take one call at a
/// time, and one that overlaps another throws <see cref="InvalidOperationException"/> instead of mixing two streams
/// into one state. They may overlap still-image calls, which never touch the video state.
/// </para>
/// <para>
/// <see cref="LastOutput"/>, <see cref="LastTimings"/>, <see cref="LastSegmentation"/> and the per-decode state of
/// <see cref="Decoder"/> describe the last call to finish. That is well defined only while calls do not overlap: under
/// concurrent calls they may belong to another thread's call and change while being read. A thread sharing the estimator
/// takes them from its own call instead: <see cref="Estimate(Mat, Rect?, PoseEstimateDetails)"/> for timings and mask,
/// the stages with its own <see cref="PoseOutput"/> for the network's maps.
/// </para>
/// <para><see cref="Dispose"/> waits for calls still running on other threads; later calls throw <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public sealed class PoseEstimator : IDisposable
{
    private readonly IPoseNetwork? _network;
    private readonly IPosePipeline? _pipeline; // the first pipeline: it owns the networks its shares run on
    private readonly bool _ownsNetwork;
    private readonly WorkerPool<StagedWorker>? _staged;
    private readonly WorkerPool<IPosePipeline>? _stills;
    private IPosePipeline? _video; // made on the first frame: video state must not be disturbed by still images
    private StagedWorker? _lastStaged;
    private IPosePipeline? _lastPipeline;
    private readonly PoseOutput _noOutput = new();
    private readonly Tracking.PoseTracker? _tracker;
    private readonly Tracking.PoseSmoother _smoother;
    private readonly float[] _scales;
    private int _inFlight, _disposed, _videoBusy;

    /// <summary>
    /// What one staged call needs to itself: the decoder's work buffers, the network's output and the prepared image's
    /// Mats. The Mats keep their size (and so their memory) from call to call: OpenCV writes into them instead of
    /// allocating a canvas and a float input (about 2 MB of native memory at OpenPose's default size) per call, and the
    /// network repeats a run bound to the same input memory.
    /// </summary>
    private sealed class StagedWorker
    {
        public StagedWorker(IPoseDecoder decoder, int scales)
        {
            Decoder = decoder;
            Scaled = NewBuffers(scales);
            Inputs = NewBuffers(scales);
            InputMats = Array.ConvertAll(Inputs, b => b.Mat);
        }

        public IPoseDecoder Decoder { get; }

        public PoseOutput Output { get; } = new();

        public PoseOutput ScaleOutput { get; } = new();

        public Runtime.MatBuffer Canvas { get; } = new();

        /// <summary>The canvas resized to each scale (the first unused: scale 1 is the canvas itself).</summary>
        public Runtime.MatBuffer[] Scaled { get; }

        public Runtime.MatBuffer[] Inputs { get; }

        /// <summary>The inputs' Mats, as the network runs them.</summary>
        public Mat[] InputMats { get; }

        public static Runtime.MatBuffer[] NewBuffers(int n)
        {
            var buffers = new Runtime.MatBuffer[n];
            for (var i = 0; i < n; i++) buffers[i] = new Runtime.MatBuffer();
            return buffers;
        }

        public void Dispose()
        {
            Canvas.Dispose();
            foreach (var b in Scaled) b.Dispose();
            foreach (var b in Inputs) b.Dispose();
        }
    }

    /// <summary>Loads a frozen graph (.pb) or TensorFlow.js graph model (model.json) and prepares the runtime session.</summary>
    public PoseEstimator(string modelPath, PoseEstimatorOptions? options = null)
        : this(Load(modelPath, options ?? new PoseEstimatorOptions()))
    {
    }

    private PoseEstimator((IPoseNetwork? Network, IPosePipeline? Pipeline, PoseEstimatorOptions Options) created)
        : this(created.Network, created.Pipeline, created.Options, ownsNetwork: true)
    {
    }

    /// <summary>Uses an already created network (any engine) of a kind decoded in stages (OpenPose, PoseNet, heatmaps).</summary>
    public PoseEstimator(IPoseNetwork network, PoseEstimatorOptions? options = null, bool ownsNetwork = true)
        : this(network ?? throw new ArgumentNullException(nameof(network)), null, options, ownsNetwork)
    {
    }

    private PoseEstimator(IPoseNetwork? network, IPosePipeline? pipeline, PoseEstimatorOptions? options, bool ownsNetwork)
    {
        Options = options ?? new PoseEstimatorOptions();
        var model = Model = Options.Model ?? PoseModel.OpenPose;
        Width = Options.Width ?? model.DefaultWidth;
        Height = Options.Height ?? model.DefaultHeight;
        try
        {
            model.Validate(model.Name);
            model.ValidateSize(Width, Height);
            if (Options.ScaleNumber != 1 && model.Kind != PoseModelKind.OpenPose)
                throw new ArgumentOutOfRangeException(nameof(options), Options.ScaleNumber,
                    $"Multi-scale averaging is for OpenPose heatmaps and PAFs; a {model.Kind} model's output (positions, offsets) cannot be averaged across scales.");
            if (Options.ScaleNumber < 1)
                throw new ArgumentOutOfRangeException(nameof(options), Options.ScaleNumber, "ScaleNumber must be at least 1.");
            if (Options.ScaleNumber > 1 && (Options.ScaleGap <= 0 || 1 - (Options.ScaleNumber - 1) * Options.ScaleGap <= 0))
                throw new ArgumentOutOfRangeException(nameof(options), Options.ScaleGap,
                    $"ScaleGap {Options.ScaleGap} with {Options.ScaleNumber} scales reaches a non-positive scale.");
            _scales = Enumerable.Range(0, Options.ScaleNumber).Select(i => 1f - i * Options.ScaleGap).ToArray();
            if (model.RunsAsPipeline != (pipeline is not null))
                throw new ArgumentException($"A {model.Kind} model runs {(model.RunsAsPipeline ? "as one step per image" : "as a network with a decoder")}; the estimator was given the other.");
            if (!model.RunsAsPipeline)
            {
                _lastStaged = new StagedWorker(CreateDecoder(), _scales.Length);
                _staged = new WorkerPool<StagedWorker>(_lastStaged, () => new StagedWorker(CreateDecoder(), _scales.Length));
            }
        }
        catch
        {
            if (ownsNetwork)
            {
                network?.Dispose();
                pipeline?.Dispose();
            }
            throw;
        }
        _network = network;
        _pipeline = pipeline;
        if (pipeline is not null)
        {
            _lastPipeline = pipeline;
            _stills = new WorkerPool<IPosePipeline>(pipeline, () => pipeline.Share(video: false));
        }
        _ownsNetwork = ownsNetwork;
        _tracker = model.MultiPerson && Options.Tracker is { } tracking ? new Tracking.PoseTracker(tracking) : null;
        _smoother = new Tracking.PoseSmoother(Options.Smoothing ?? (model.Kind == PoseModelKind.BlazePose ? Tracking.SmoothingOptions.BlazePose : Tracking.SmoothingOptions.MoveNet));
    }

    private IPoseDecoder CreateDecoder() => Model.Kind switch
    {
        PoseModelKind.OpenPose => new PafDecoder(Model, Options.Decoder),
        PoseModelKind.PoseNet => new PoseNetDecoder(Model, Options.PoseNet),
        _ => new HeatmapDecoder(Model, Options.Heatmap),
    };

    private static (IPoseNetwork?, IPosePipeline?, PoseEstimatorOptions) Load(string modelPath, PoseEstimatorOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        if (!File.Exists(modelPath) && !Directory.Exists(modelPath))
            throw new FileNotFoundException($"Model not found: {modelPath}", modelPath);
        var graph = Graph.TfGraph.Load(modelPath);
        var model = options.Model ?? PoseModelDescription.Load(graph, modelPath);
        model.Validate(modelPath);
        var w = options.Width ?? model.DefaultWidth;
        var h = options.Height ?? model.DefaultHeight;
        model.ValidateSize(w, h); // fail before the (slow) graph translation
        var resolved = options with { Model = model };
        var session = options.Session;
        return model.Kind switch
        {
            PoseModelKind.MoveNet or PoseModelKind.MoveNetMultiPose => (null, new MoveNet.MoveNetPipeline(graph, options.MoveNet, session), resolved),
            // The filter is the video share's alone: every still image resets a pipeline's filter.
            PoseModelKind.BlazePose => (null, new BlazePose.BlazePoseAdapter(new BlazePose.BlazePosePipeline(FindDetector(modelPath, options), modelPath, new BlazePose.BlazePoseOptions
            {
                Session = session,
                EnableSegmentation = options.Segmentation,
            }), options.Smoothing is { Enabled: false } ? null : new Tracking.BlazePoseSmoothing(options.Smoothing)), resolved),
            _ => (new GraphPoseNetwork(graph, modelPath, model, session), null, resolved),
        };
    }

    /// <summary>
    /// BlazePose's detector: given, or a <c>blazepose-detector</c> folder beside the landmark model's own folder (a
    /// TensorFlow.js model in the model store) or beside the landmark model's file (a .tflite saved next to it).
    /// </summary>
    private static string FindDetector(string landmarkPath, PoseEstimatorOptions options)
    {
        if (options.DetectorModel is { } given)
            return given;
        var full = Path.GetFullPath(landmarkPath);
        var folder = Directory.Exists(full) ? full : Path.GetDirectoryName(full)!;
        var sibling = Path.Combine(Path.GetDirectoryName(folder) ?? ".", "blazepose-detector");
        var beside = Path.Combine(folder, "blazepose-detector");
        if (Directory.Exists(sibling))
            return sibling;
        if (File.Exists(full) && Directory.Exists(beside))
            return beside;
        throw new FileNotFoundException($"{landmarkPath} is a BlazePose landmark model, which needs the BlazePose person detector: " +
            $"none at {sibling}{(File.Exists(full) ? $" or {beside}" : "")}; give its model.json (PoseEstimatorOptions.DetectorModel, or --detector on the command line).", sibling);
    }

    /// <summary>
    /// The person segmentation mask of the last image or frame (CV_32FC1, the image's size, 0..1), for models that
    /// give one (BlazePose); null otherwise. Owned by the estimator and overwritten by a later call; with calls on
    /// several threads, use <see cref="PoseEstimateDetails.Segmentation"/> (see the class remarks).
    /// </summary>
    public Mat? LastSegmentation => Volatile.Read(ref _lastPipeline)?.Segmentation;

    /// <summary>
    /// For models that run as one step (MoveNet, BlazePose): where the last estimate spent its time; null for staged
    /// models, whose stages the caller times. With calls on several threads, use <see cref="PoseEstimateDetails.Timings"/>.
    /// </summary>
    public PoseTimings? LastTimings => Volatile.Read(ref _lastPipeline)?.LastTimings;

    private InvalidOperationException NotStaged(string stage) =>
        new($"{Model.Name} ({Model.Kind}) runs as one step per image (its crop follows the previous frame); call Estimate or EstimateFrame, not {stage}.");

    public PoseEstimatorOptions Options { get; }

    /// <summary>The model description in use (given, or detected from the graph).</summary>
    public PoseModel Model { get; }

    /// <summary>Network input width.</summary>
    public int Width { get; }

    /// <summary>Network input height.</summary>
    public int Height { get; }

    /// <summary>
    /// The decoder of <see cref="Estimate(Mat, Rect?)"/>/<see cref="Decode"/>: a <see cref="PafDecoder"/> (whose peaks
    /// and grid describe the last decode), <see cref="PoseNetDecoder"/> or <see cref="HeatmapDecoder"/>. Each concurrent
    /// call decodes with a decoder of its own; this is the one of the last call to finish (see the class remarks).
    /// </summary>
    public IPoseDecoder Decoder => Volatile.Read(ref _lastStaged)?.Decoder ?? throw NotStaged(nameof(Decoder));

    /// <summary>
    /// Estimates the poses of everyone in a BGR image (8-bit, 1, 3 or 4 channels), or only inside
    /// <paramref name="box"/> (a person box for single-person models; clipped to the image). Safe to call from several
    /// threads at once.
    /// </summary>
    public List<Person> Estimate(Mat image, Rect? box = null) => EstimateStill(image, box, null);

    /// <summary>
    /// <see cref="Estimate(Mat, Rect?)"/> that also fills <paramref name="details"/> with this call's timings and mask:
    /// what <see cref="LastTimings"/> and <see cref="LastSegmentation"/> show, but this call's even when other threads
    /// share the estimator.
    /// </summary>
    public List<Person> Estimate(Mat image, Rect? box, PoseEstimateDetails details)
    {
        ArgumentNullException.ThrowIfNull(details);
        return EstimateStill(image, box, details);
    }

    private List<Person> EstimateStill(Mat image, Rect? box, PoseEstimateDetails? details)
    {
        Enter();
        try
        {
            if (_stills is not null)
            {
                var pipeline = _stills.Rent();
                try
                {
                    var found = RunPipeline(pipeline, image, box, video: null);
                    details?.Capture(pipeline.LastTimings, pipeline.Segmentation);
                    Volatile.Write(ref _lastPipeline, pipeline);
                    return found;
                }
                finally
                {
                    _stills.Return(pipeline);
                }
            }
            var worker = _staged!.Rent();
            try
            {
                var mapping = Prepare(image, box, worker.Canvas, worker.Scaled, worker.Inputs);
                Infer(worker.InputMats, worker.Output, worker.ScaleOutput);
                var people = worker.Decoder.Decode(worker.Output, mapping);
                details?.Clear();
                Volatile.Write(ref _lastStaged, worker);
                return people;
            }
            finally
            {
                _staged.Return(worker);
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// One frame of a video: single-person models look where the person was in the previous frame (MoveNet's crop,
    /// BlazePose's region of interest), people of multi-person models get track ids (<see cref="Person.TrackId"/>), and
    /// keypoints are smoothed over time (<see cref="PoseEstimatorOptions.Smoothing"/>). Frames must come in order with
    /// increasing timestamps; <see cref="ResetVideo"/> before another video. One frame at a time: a call that overlaps
    /// another video call on this estimator throws <see cref="InvalidOperationException"/>; one estimator per video.
    /// </summary>
    public List<Person> EstimateFrame(Mat frame, TimeSpan timestamp) => EstimateFrame(frame, timestamp, null);

    /// <summary><see cref="EstimateFrame(Mat, TimeSpan)"/> that also fills <paramref name="details"/> with this frame's timings and mask.</summary>
    public List<Person> EstimateFrame(Mat frame, TimeSpan timestamp, PoseEstimateDetails? details)
    {
        EnterVideo(nameof(EstimateFrame));
        try
        {
            if (_pipeline is null)
                return [.. TrackFrame(EstimateStill(frame, null, details), timestamp)];
            Enter();
            try
            {
                var video = _video ??= _pipeline.Share(video: true);
                List<Person> people = Model.MultiPerson
                    ? [.. TrackFrame(RunPipeline(video, frame, null, new VideoStep(timestamp, null)), timestamp)]
                    : RunPipeline(video, frame, null, new VideoStep(timestamp, _smoother));
                details?.Capture(video.LastTimings, video.Segmentation);
                Volatile.Write(ref _lastPipeline, video);
                return people;
            }
            finally
            {
                Exit();
            }
        }
        finally
        {
            ExitVideo();
        }
    }

    /// <summary>
    /// Tracks and smooths one frame's people from the staged path (<see cref="Prepare"/>, <see cref="Infer"/>,
    /// <see cref="Decode"/>): ids for multi-person models, then smoothing. Call once per frame, in order, one at a time
    /// (as <see cref="EstimateFrame(Mat, TimeSpan)"/>).
    /// </summary>
    public IReadOnlyList<Person> Track(IReadOnlyList<Person> people, TimeSpan timestamp)
    {
        ArgumentNullException.ThrowIfNull(people);
        EnterVideo(nameof(Track));
        try
        {
            return TrackFrame(people, timestamp);
        }
        finally
        {
            ExitVideo();
        }
    }

    private IReadOnlyList<Person> TrackFrame(IReadOnlyList<Person> people, TimeSpan timestamp)
    {
        _tracker?.Update(people, timestamp);
        return _smoother.Smooth(people, timestamp, _tracker);
    }

    /// <summary>Forgets everything carried between video frames (crop, tracks, filters). Not while a frame is being estimated.</summary>
    public void ResetVideo()
    {
        EnterVideo(nameof(ResetVideo));
        try
        {
            _video?.Reset();
            _tracker?.Reset();
            _smoother.Reset();
        }
        finally
        {
            ExitVideo();
        }
    }

    /// <summary>Counts a call that uses the networks, so that <see cref="Dispose"/> can wait for it.</summary>
    private void Enter()
    {
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new ObjectDisposedException(nameof(PoseEstimator));
        }
    }

    private void Exit() => Interlocked.Decrement(ref _inFlight);

    // Failing is kinder than serialising: two threads feeding one video state interleave two streams' frames, which
    // no lock can put in order, so the tracks and filters would be silently wrong.
    private void EnterVideo(string call)
    {
        if (Interlocked.CompareExchange(ref _videoBusy, 1, 0) != 0)
            throw new InvalidOperationException(
                $"{call} overlapped another EstimateFrame, Track or ResetVideo call on this estimator. Video state (crop, tracks, filters) " +
                "goes from one frame to the next, so these calls take one frame at a time, in order: give each video its own estimator " +
                "(Estimate may be shared between threads).");
    }

    private void ExitVideo() => Volatile.Write(ref _videoBusy, 0);

    private static List<Person> RunPipeline(IPosePipeline pipeline, Mat image, Rect? box, VideoStep? video)
    {
        CheckImage(image);
        var region = Region(image, box);
        if (video is null)
            pipeline.Reset();
        List<Person> people;
        if (box is null && image.Type() == MatType.CV_8UC3 && image.IsContinuous())
        {
            // The common case, a whole BGR frame, goes in as it is: no copy per frame.
            people = pipeline.Estimate(image, video);
        }
        else
        {
            using var converted = ConvertToBgr(image);
            using var bgr = new Mat(converted ?? image, region);
            using var continuous = bgr.IsContinuous() ? null : bgr.Clone();
            people = pipeline.Estimate(continuous ?? bgr, video);
        }
        if (region.X == 0 && region.Y == 0 && region.Width == image.Width && region.Height == image.Height)
            return people;
        return people.Select(p => Offset(p, region, image.Width, image.Height)).ToList();
    }

    /// <summary>A person found in a crop, moved into the whole image's pixels.</summary>
    private static Person Offset(Person p, Rect region, int width, int height) =>
        new(p.KeypointSet, p.Keypoints.Select(k => k with { X = k.X + region.X, Y = k.Y + region.Y, NormalizedX = (k.X + region.X) / width, NormalizedY = (k.Y + region.Y) / height }), p.Score)
        {
            Box = p.Box is { } b ? new Rect2f(b.X + region.X, b.Y + region.Y, b.Width, b.Height) : null,
            WorldKeypoints = p.WorldKeypoints,
            TrackId = p.TrackId,
        };

    /// <summary>
    /// Output of the last <see cref="Estimate(Mat, Rect?)"/> call (for visualising heatmaps and PAFs); empty for models
    /// that run as one step. With calls on several threads, run the stages with a <see cref="PoseOutput"/> of your own.
    /// </summary>
    public PoseOutput LastOutput => Volatile.Read(ref _lastStaged)?.Output ?? _noOutput;

    /// <summary>
    /// Stage 1: crop to <paramref name="box"/> if given, resize (or letterbox) and convert to the network's
    /// float input, per scale.
    /// </summary>
    public PreparedImage Prepare(Mat image, Rect? box = null)
    {
        if (_pipeline is not null)
            throw NotStaged(nameof(Prepare));
        using var canvas = new Runtime.MatBuffer();
        var scaled = StagedWorker.NewBuffers(_scales.Length);
        var inputs = StagedWorker.NewBuffers(_scales.Length);
        try
        {
            return new PreparedImage(inputs, Prepare(image, box, canvas, scaled, inputs));
        }
        catch
        {
            foreach (var b in inputs) b.Dispose();
            throw;
        }
        finally
        {
            foreach (var b in scaled) b.Dispose();
        }
    }

    /// <summary>Prepares into the given buffers (a worker's, reused call after call) and returns the way back to image pixels.</summary>
    private ImageMapping Prepare(Mat image, Rect? box, Runtime.MatBuffer canvas, Runtime.MatBuffer[] scaled, Runtime.MatBuffer[] inputs)
    {
        if (_pipeline is not null)
            throw NotStaged(nameof(Prepare));
        CheckImage(image);
        var region = Region(image, box);
        using var converted = ConvertToBgr(image);
        var source = converted ?? image;
        // The whole image needs no view of itself; a box does.
        using var view = region == new Rect(0, 0, image.Width, image.Height) ? null : new Mat(source, region);
        // Disposed here rather than left to the finalizer, as an implicit Mat-to-InputArray conversion would be.
        using var bgr = InputArray.Create(view ?? source);
        ImageMapping mapping;
        if (!Options.KeepAspectRatio)
        {
            // tf-pose-estimation resizes with bicubic interpolation.
            canvas.Resize(bgr, new Size(Width, Height), InterpolationFlags.Cubic);
            mapping = new ImageMapping(image.Width, image.Height, region.Width, region.Height, region.X, region.Y);
        }
        else
        {
            var s = Math.Min(Width / (double)region.Width, Height / (double)region.Height);
            var nw = Math.Clamp((int)Math.Round(region.Width * s), 1, Width);
            var nh = Math.Clamp((int)Math.Round(region.Height * s), 1, Height);
            int ox = (Width - nw) / 2, oy = (Height - nh) / 2;
            canvas.Mat.Create(Height, Width, MatType.CV_8UC3);
            canvas.Mat.SetTo(Scalar.Black);
            using (var roi = new Mat(canvas.Mat, new Rect(ox, oy, nw, nh)))
                Cv2.Resize(bgr, roi, new Size(nw, nh), 0, 0, InterpolationFlags.Cubic);
            float kx = region.Width / (float)nw, ky = region.Height / (float)nh;
            mapping = new ImageMapping(image.Width, image.Height, Width * kx, Height * ky, region.X - ox * kx, region.Y - oy * ky);
        }
        for (var i = 0; i < _scales.Length; i++)
            Model.Pixels.ToFloat(Scale(canvas, i, scaled[i]), inputs[i]);
        return mapping;
    }

    /// <summary>The canvas at scale <paramref name="i"/>: itself for the first, else resized into <paramref name="scaled"/>.</summary>
    private Mat Scale(Runtime.MatBuffer canvas, int i, Runtime.MatBuffer scaled)
    {
        if (i == 0)
            return canvas.Mat;
        var size = new Size(Model.RoundToStride((int)(Width * _scales[i])), Model.RoundToStride((int)(Height * _scales[i])));
        scaled.Resize(canvas.Input, size, InterpolationFlags.Cubic);
        return scaled.Mat;
    }

    private static void CheckImage(Mat image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.IsDisposed || image.Empty() || image.Width <= 0 || image.Height <= 0)
            throw new ArgumentException("The image is empty (zero size or not decoded).", nameof(image));
        if (image.Depth() != MatType.CV_8U)
            throw new ArgumentException($"Expected an 8-bit image, got {image.Type()}.", nameof(image));
    }

    /// <summary>The part of the image to look at: all of it, or the box clipped to it.</summary>
    private static Rect Region(Mat image, Rect? box)
    {
        var region = new Rect(0, 0, image.Width, image.Height);
        if (box is { } b)
        {
            region = b & region;
            if (region.Width <= 0 || region.Height <= 0)
                throw new ArgumentException($"The box {b.X},{b.Y} {b.Width}x{b.Height} does not overlap the {image.Width}x{image.Height} image.", nameof(box));
        }
        return region;
    }

    /// <summary>
    /// A BGR copy of a 1 or 4 channel image; null for a BGR image, which is read in place (a view never writes to it),
    /// so that the common case costs no copy of the whole image per call.
    /// </summary>
    private static Mat? ConvertToBgr(Mat image) => image.Channels() == 3 ? null : ToBgr(image);

    private static Mat ToBgr(Mat image) => image.Channels() switch
    {
        3 => image.Clone(),
        1 => image.CvtColor(ColorConversionCodes.GRAY2BGR),
        4 => image.CvtColor(ColorConversionCodes.BGRA2BGR),
        var c => throw new ArgumentException($"Expected a 1, 3 or 4 channel image, got {c} channels."),
    };

    /// <summary>Stage 2: runs the network (every scale) and leaves the averaged output in <paramref name="output"/>.</summary>
    public void Infer(PreparedImage input, PoseOutput output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        if (_network is null)
            throw NotStaged(nameof(Infer));
        Enter();
        try
        {
            if (input.Inputs.Count == 1)
            {
                Infer(input.Inputs, output, scaleOutput: null);
                return;
            }
            var worker = _staged!.Rent();
            try
            {
                Infer(input.Inputs, output, worker.ScaleOutput);
            }
            finally
            {
                _staged.Return(worker);
            }
        }
        finally
        {
            Exit();
        }
    }

    private void Infer(IReadOnlyList<Mat> inputs, PoseOutput output, PoseOutput? scaleOutput)
    {
        var network = _network!;
        network.Run(inputs[0], output);
        CheckOutput(output, inputs[0]);
        if (inputs.Count == 1) return;
        ArgumentNullException.ThrowIfNull(scaleOutput);

        // Multi-scale: bring every scale's output onto the base grid and average (as OpenPose does).
        var baseData = output.Reset(output.Height, output.Width, output.Channels);
        for (var i = 1; i < inputs.Count; i++)
        {
            network.Run(inputs[i], scaleOutput);
            CheckOutput(scaleOutput, inputs[i]);
            AddResized(scaleOutput, baseData, output.Height, output.Width, output.Channels);
        }
        var inv = 1f / inputs.Count;
        for (var i = 0; i < baseData.Length; i++) baseData[i] *= inv;
    }

    private void CheckOutput(PoseOutput output, Mat input)
    {
        var model = Model;
        int h = model.OutputSize(input.Rows), w = model.OutputSize(input.Cols);
        if (output.Channels < model.OutputChannels || output.Height != h || output.Width != w)
            throw new InvalidDataException(
                $"The network output is {output.Height}x{output.Width}x{output.Channels} for a {input.Cols}x{input.Rows} input; " +
                $"{model.Name} ({model.Kind}, stride {model.Stride}) should give {h}x{w}x{model.OutputChannels}: {GraphPoseNetwork.Expected(model)}.");
    }

    // Bilinear (half-pixel centres) resize of an NHWC map onto dst's grid, accumulated into dst.
    private static void AddResized(PoseOutput src, Span<float> dst, int h, int w, int c)
    {
        var data = src.Data;
        float sy = src.Height / (float)h, sx = src.Width / (float)w;
        for (var y = 0; y < h; y++)
        {
            var fy = Math.Clamp((y + 0.5f) * sy - 0.5f, 0, src.Height - 1);
            var y0 = (int)fy; var y1 = Math.Min(y0 + 1, src.Height - 1); var ay = fy - y0;
            for (var x = 0; x < w; x++)
            {
                var fx = Math.Clamp((x + 0.5f) * sx - 0.5f, 0, src.Width - 1);
                var x0 = (int)fx; var x1 = Math.Min(x0 + 1, src.Width - 1); var ax = fx - x0;
                int i00 = (y0 * src.Width + x0) * src.Channels, i01 = (y0 * src.Width + x1) * src.Channels;
                int i10 = (y1 * src.Width + x0) * src.Channels, i11 = (y1 * src.Width + x1) * src.Channels;
                var o = (y * w + x) * c;
                for (var ch = 0; ch < c; ch++)
                {
                    var top = data[i00 + ch] + (data[i01 + ch] - data[i00 + ch]) * ax;
                    var bottom = data[i10 + ch] + (data[i11 + ch] - data[i10 + ch]) * ax;
                    dst[o + ch] += top + (bottom - top) * ay;
                }
            }
        }
    }

    /// <summary>Stage 3: turns network output into people in image pixels.</summary>
    public List<Person> Decode(PoseOutput output, ImageMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(output);
        var staged = _staged ?? throw NotStaged(nameof(Decode));
        var worker = staged.Rent();
        try
        {
            var people = worker.Decoder.Decode(output, mapping);
            Volatile.Write(ref _lastStaged, worker);
            return people;
        }
        finally
        {
            staged.Return(worker);
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // Calls already running on other threads still use the networks: they finish first (later ones fail in Enter).
        SpinWait.SpinUntil(() => Volatile.Read(ref _inFlight) == 0);
        // Shares run on the first pipeline's networks, so they go before it.
        foreach (var share in _stills?.All ?? [])
            if (!ReferenceEquals(share, _pipeline))
                share.Dispose();
        _video?.Dispose();
        foreach (var worker in _staged?.All ?? [])
            worker.Dispose();
        if (!_ownsNetwork)
            return;
        _network?.Dispose();
        _pipeline?.Dispose();
    }
}
