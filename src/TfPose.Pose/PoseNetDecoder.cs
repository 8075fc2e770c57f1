namespace TfPose.Pose;

/// <summary>Options of <see cref="PoseNetDecoder"/>; defaults are tfjs-models PoseNet's.</summary>
public sealed record PoseNetDecoderOptions
{
    /// <summary>Decode one pose (argmax per keypoint) instead of the multi-person greedy decoding.</summary>
    public bool SinglePose { get; init; }

    /// <summary>Multi-pose: at most this many people (maxDetections).</summary>
    public int MaxDetections { get; init; } = 10;

    /// <summary>Multi-pose: a root keypoint needs at least this heatmap score (scoreThreshold).</summary>
    public float ScoreThreshold { get; init; } = 0.5f;

    /// <summary>Multi-pose: a root, and a keypoint's share of a person's score, is rejected within this many network-input pixels of the same keypoint of an earlier person (nmsRadius).</summary>
    public float NmsRadius { get; init; } = 20f;

    /// <summary>Multi-pose: a root must be the maximum of its keypoint's heatmap within this many cells (kLocalMaximumRadius).</summary>
    public int LocalMaximumRadius { get; init; } = 1;

    /// <summary>Times a displaced keypoint is re-anchored with the offsets of the cell it lands in (offsetRefineStep).</summary>
    public int OffsetRefineSteps { get; init; } = 2;

    /// <summary>
    /// People scoring below this are dropped after decoding; single-pose decoding is not filtered. tfjs' decoder
    /// returns every pose (its old demos hide those under minPoseConfidence 0.15); Google's C++ PoseNet decoder (Coral
    /// Edge TPU, posenet_decoder.cc) drops poses whose score is below the root threshold, 0.5, and so does this default.
    /// Two kinds of pose fall under it: a copy re-grown from a second local maximum of someone's keypoint (it shares
    /// most keypoints with the first, which do not count towards its score), and a ghost grown from a strong part
    /// response where nobody stands (on p3.jpg at 353x257 a skeleton collapsed into 40 px scores 0.31 against 0.64 to
    /// 0.75 for the three people). 0.15 gives the tfjs demos' behaviour.
    /// </summary>
    public float MinPoseScore { get; init; } = 0.5f;

    /// <summary>Keypoints scoring below this are left out of a person (tfjs returns all 17; its demos draw those above 0.1).</summary>
    public float MinKeypointScore { get; init; }

    internal void Validate()
    {
        if (MaxDetections < 1) throw new ArgumentOutOfRangeException(nameof(MaxDetections), MaxDetections, "MaxDetections must be at least 1.");
        if (!(NmsRadius >= 0)) throw new ArgumentOutOfRangeException(nameof(NmsRadius), NmsRadius, "NmsRadius must be 0 or more.");
        if (LocalMaximumRadius < 0) throw new ArgumentOutOfRangeException(nameof(LocalMaximumRadius), LocalMaximumRadius, "LocalMaximumRadius must be 0 or more.");
        if (OffsetRefineSteps < 0) throw new ArgumentOutOfRangeException(nameof(OffsetRefineSteps), OffsetRefineSteps, "OffsetRefineSteps must be 0 or more.");
        if (float.IsNaN(ScoreThreshold)) throw new ArgumentOutOfRangeException(nameof(ScoreThreshold), ScoreThreshold, "ScoreThreshold must be a number.");
    }
}

/// <summary>
/// PoseNet decoding as tfjs-models does it. Single pose: per keypoint the heatmap argmax plus its offset
/// vector. Multi-pose: heatmap local maxima above the score threshold, strongest first, each one not
/// within the NMS radius of the same keypoint of a person already found grows a person along the
/// 16-edge keypoint tree: backward displacements towards the root (nose), then forward displacements
/// to the leaves, each displaced point re-anchored with the offsets of the cell it falls in.
/// </summary>
/// <remarks>
/// Output layout per cell (channels): scores[K], offsets[2K] (y for keypoint k at k, x at K + k),
/// forward displacements[2E] (y for edge e at e, x at E + e), backward displacements[2E]. Positions are in
/// network-input pixels: cell (i, j) is pixel (i·stride, j·stride). Work buffers are reused between calls.
/// </remarks>
public sealed class PoseNetDecoder : IPoseDecoder
{
    /// <summary>tfjs-models' poseChain as (parent, child) COCO-17 indices; the nose is the root.</summary>
    public static IReadOnlyList<Bone> Tree { get; } =
    [
        new(0, 1), new(1, 3), new(0, 2), new(2, 4), new(0, 5), new(5, 7), new(7, 9), new(5, 11),
        new(11, 13), new(13, 15), new(0, 6), new(6, 8), new(8, 10), new(6, 12), new(12, 14), new(14, 16),
    ];

    private const int K = 17;
    private static readonly int E = Tree.Count;

    private readonly PoseModel _model;
    private float[] _scores = [];
    private readonly List<Root> _queue = [];
    private readonly List<Pose> _poses = [];
    private readonly Stack<Pose> _free = new();

    private readonly record struct Root(float Score, int Y, int X, int Part, int Order);

    private sealed class Pose
    {
        public readonly float[] X = new float[K], Y = new float[K], S = new float[K];
        public readonly bool[] Has = new bool[K];
        public float Score;
    }

    public PoseNetDecoder(PoseModel model, PoseNetDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Validate(model.Name);
        if (model.Kind != PoseModelKind.PoseNet)
            throw new ArgumentException($"{model.Name} is a {model.Kind} model, not PoseNet.", nameof(model));
        _model = model;
        Options = options ?? new PoseNetDecoderOptions();
        Options.Validate();
    }

    public PoseNetDecoderOptions Options { get; }

    public List<Person> Decode(PoseOutput output, ImageMapping mapping) =>
        Decode(output.Data, output.Height, output.Width, output.Channels, mapping);

    /// <summary>Decodes an NHWC output of <paramref name="height"/> × <paramref name="width"/> cells.</summary>
    public List<Person> Decode(ReadOnlySpan<float> data, int height, int width, int channels, ImageMapping mapping)
    {
        var first = _model.HeatmapOffset;
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"The PoseNet output must have a positive size, got {height}x{width}.");
        if (first < 0 || first + K + 2 * K + 4 * E > channels)
            throw new ArgumentException($"A PoseNet output needs {K + 2 * K + 4 * E} channels from {first} (heatmap, offsets, forward and backward displacements), but it has {channels}.");
        if (data.Length < (long)height * width * channels)
            throw new ArgumentException($"The output holds {data.Length} floats, fewer than {height}x{width}x{channels}.");

        // Scores in one contiguous buffer (sigmoid applied for graphs that stop at the logits).
        var n = height * width;
        if (_scores.Length < n * K) _scores = new float[n * K];
        var scores = _scores.AsSpan(0, n * K);
        for (var i = 0; i < n; i++)
            for (var k = 0; k < K; k++)
            {
                var v = data[i * channels + first + k];
                scores[i * K + k] = _model.HeatmapLogits ? HeatmapDecoder.Sigmoid(v) : v;
            }

        var map = new Layout(data, channels, first, height, width, _model.Stride);
        foreach (var p in _poses) _free.Push(p);
        _poses.Clear();
        if (Options.SinglePose) DecodeSingle(scores, map);
        else DecodeMultiple(scores, map);

        // Network-input pixels → normalised (the input is (cells − 1)·stride + 1 pixels for PoseNet sizes).
        float inW = _model.SizeRule == InputSizeRule.StrideMultiplePlusOne ? (width - 1) * _model.Stride + 1 : width * _model.Stride;
        float inH = _model.SizeRule == InputSizeRule.StrideMultiplePlusOne ? (height - 1) * _model.Stride + 1 : height * _model.Stride;
        var people = new List<Person>(_poses.Count);
        Span<Keypoint> buffer = stackalloc Keypoint[K];
        foreach (var pose in _poses)
        {
            if (!Options.SinglePose && pose.Score < Options.MinPoseScore) continue;
            var count = 0;
            for (var k = 0; k < K; k++)
                if (pose.Has[k] && pose.S[k] >= Options.MinKeypointScore)
                    buffer[count++] = HeatmapDecoder.Map(k, pose.X[k] / inW, pose.Y[k] / inH, pose.S[k], mapping);
            people.Add(new Person(_model.Keypoints, buffer[..count], pose.Score));
        }
        return people;
    }

    private readonly ref struct Layout(ReadOnlySpan<float> data, int channels, int first, int height, int width, int stride)
    {
        public readonly ReadOnlySpan<float> Data = data;
        public readonly int Channels = channels, Height = height, Width = width, Stride = stride;
        private readonly int _offsets = first + K, _forward = first + 3 * K, _backward = first + 3 * K + 2 * E;

        private int Cell(int y, int x) => (y * Width + x) * Channels;
        public float OffsetY(int y, int x, int k) => Data[Cell(y, x) + _offsets + k];
        public float OffsetX(int y, int x, int k) => Data[Cell(y, x) + _offsets + K + k];
        public float DisplacementY(int y, int x, int edge, bool forward) => Data[Cell(y, x) + (forward ? _forward : _backward) + edge];
        public float DisplacementX(int y, int x, int edge, bool forward) => Data[Cell(y, x) + (forward ? _forward : _backward) + E + edge];

        // tfjs getStridedIndexNearPoint: nearest cell, clamped to the map. Math.round rounds halves up.
        public int CellY(float py) => Math.Clamp((int)MathF.Floor(py / Stride + 0.5f), 0, Height - 1);
        public int CellX(float px) => Math.Clamp((int)MathF.Floor(px / Stride + 0.5f), 0, Width - 1);
    }

    private Pose Rent()
    {
        var p = _free.Count > 0 ? _free.Pop() : new Pose();
        Array.Clear(p.Has);
        p.Score = 0;
        return p;
    }

    private void DecodeSingle(ReadOnlySpan<float> scores, Layout map)
    {
        var pose = Rent();
        var sum = 0f;
        for (var k = 0; k < K; k++)
        {
            // First maximum in row-major order, as tf.argMax over the flattened map.
            var best = float.NegativeInfinity;
            var bi = 0;
            for (var i = 0; i < map.Height * map.Width; i++)
                if (scores[i * K + k] > best) { best = scores[i * K + k]; bi = i; }
            int y = bi / map.Width, x = bi % map.Width;
            pose.Y[k] = y * map.Stride + map.OffsetY(y, x, k);
            pose.X[k] = x * map.Stride + map.OffsetX(y, x, k);
            pose.S[k] = best;
            pose.Has[k] = true;
            sum += best;
        }
        pose.Score = sum / K;
        _poses.Add(pose);
    }

    private void DecodeMultiple(ReadOnlySpan<float> scores, Layout map)
    {
        // Candidate roots: local maxima at or above the threshold, strongest first (ties: scan order).
        _queue.Clear();
        int h = map.Height, w = map.Width, r = Options.LocalMaximumRadius;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
                for (var k = 0; k < K; k++)
                {
                    var s = scores[(y * w + x) * K + k];
                    if (s < Options.ScoreThreshold) continue;
                    if (IsLocalMaximum(scores, k, s, y, x, r, h, w)) _queue.Add(new Root(s, y, x, k, _queue.Count));
                }
        _queue.Sort(static (a, b) => b.Score != a.Score ? b.Score.CompareTo(a.Score) : a.Order.CompareTo(b.Order));

        var sq = Options.NmsRadius * Options.NmsRadius;
        foreach (var root in _queue)
        {
            if (_poses.Count >= Options.MaxDetections) break;
            var ry = root.Y * map.Stride + map.OffsetY(root.Y, root.X, root.Part);
            var rx = root.X * map.Stride + map.OffsetX(root.Y, root.X, root.Part);
            if (WithinNms(sq, rx, ry, root.Part)) continue;

            var pose = Rent();
            pose.X[root.Part] = rx; pose.Y[root.Part] = ry; pose.S[root.Part] = root.Score; pose.Has[root.Part] = true;
            // Towards the root with the backward displacements, then to the leaves with the forward ones.
            for (var e = E - 1; e >= 0; e--)
            {
                int source = Tree[e].To, target = Tree[e].From;
                if (pose.Has[source] && !pose.Has[target]) Traverse(pose, e, source, target, scores, map, forward: false);
            }
            for (var e = 0; e < E; e++)
            {
                int source = Tree[e].From, target = Tree[e].To;
                if (pose.Has[source] && !pose.Has[target]) Traverse(pose, e, source, target, scores, map, forward: true);
            }

            // Instance score: keypoints not claimed by an earlier person, averaged over all 17.
            var sum = 0f;
            for (var k = 0; k < K; k++)
                if (pose.Has[k] && !WithinNms(sq, pose.X[k], pose.Y[k], k)) sum += pose.S[k];
            pose.Score = sum / K;
            _poses.Add(pose);
        }
    }

    private static bool IsLocalMaximum(ReadOnlySpan<float> scores, int k, float s, int y, int x, int r, int h, int w)
    {
        int y0 = Math.Max(y - r, 0), y1 = Math.Min(y + r + 1, h);
        int x0 = Math.Max(x - r, 0), x1 = Math.Min(x + r + 1, w);
        for (var yy = y0; yy < y1; yy++)
            for (var xx = x0; xx < x1; xx++)
                if (scores[(yy * w + xx) * K + k] > s) return false;
        return true;
    }

    private bool WithinNms(float sq, float x, float y, int k)
    {
        foreach (var p in _poses)
        {
            float dx = p.X[k] - x, dy = p.Y[k] - y;
            if (dx * dx + dy * dy <= sq) return true;
        }
        return false;
    }

    private void Traverse(Pose pose, int edge, int source, int target, ReadOnlySpan<float> scores, Layout map, bool forward)
    {
        // Displacement read at the cell nearest the source keypoint.
        int sy = map.CellY(pose.Y[source]), sx = map.CellX(pose.X[source]);
        var ty = pose.Y[source] + map.DisplacementY(sy, sx, edge, forward);
        var tx = pose.X[source] + map.DisplacementX(sy, sx, edge, forward);
        for (var i = 0; i < Options.OffsetRefineSteps; i++)
        {
            int cy = map.CellY(ty), cx = map.CellX(tx);
            ty = cy * map.Stride + map.OffsetY(cy, cx, target);
            tx = cx * map.Stride + map.OffsetX(cy, cx, target);
        }
        int fy = map.CellY(ty), fx = map.CellX(tx);
        pose.Y[target] = ty;
        pose.X[target] = tx;
        pose.S[target] = scores[(fy * map.Width + fx) * K + target];
        pose.Has[target] = true;
    }
}
