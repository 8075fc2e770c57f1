namespace TfPose.Pose;

/// <summary>Options of <see cref="HeatmapDecoder"/>.</summary>
public sealed record HeatmapDecoderOptions
{
    /// <summary>Keypoints whose map maximum is below this are left out (the map's maximum is the keypoint's score).</summary>
    public float MinScore { get; init; } = 0.1f;

    /// <summary>Refine the argmax with a parabola through it and its two neighbours, per axis.</summary>
    public bool SubPixel { get; init; } = true;

    internal void Validate()
    {
        if (float.IsNaN(MinScore)) throw new ArgumentOutOfRangeException(nameof(MinScore), MinScore, "MinScore must be a number.");
    }
}

/// <summary>
/// Single-person decoding of one heatmap per keypoint (Convolutional Pose Machines, stacked hourglass):
/// each keypoint is its map's argmax, refined to sub-pixel precision, with the map value as score.
/// </summary>
/// <remarks>
/// A map pixel (i, j) stands for the centre of the input cell it covers, so its normalised position is
/// ((j + 0.5) / width, (i + 0.5) / height). The refinement fits a parabola through the maximum and its
/// two neighbours along each axis; the vertex offset lies within ±0.5 pixel by construction, so a flat
/// or one-sided neighbourhood (map border, plateau) leaves the integer position. Allocation-free apart
/// from the returned person.
/// </remarks>
public sealed class HeatmapDecoder : IPoseDecoder
{
    private readonly PoseModel _model;
    private readonly Keypoint[] _buffer;

    public HeatmapDecoder(PoseModel model, HeatmapDecoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        Options = options ?? new HeatmapDecoderOptions();
        Options.Validate();
        _buffer = new Keypoint[model.Keypoints.Count];
    }

    public HeatmapDecoderOptions Options { get; }

    public List<Person> Decode(PoseOutput output, ImageMapping mapping) =>
        Decode(output.Data, output.Height, output.Width, output.Channels, mapping);

    /// <summary>Decodes an NHWC map of <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/>.</summary>
    public List<Person> Decode(ReadOnlySpan<float> data, int height, int width, int channels, ImageMapping mapping)
    {
        var k = _model.Keypoints.Count;
        var first = _model.HeatmapOffset;
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"The heatmaps must have a positive size, got {height}x{width}.");
        if (first < 0 || first + k > channels)
            throw new ArgumentException($"A {_model.Keypoints.Name} heatmap output needs {k} maps from channel {first}, but it has {channels} channels.");
        if (data.Length < (long)height * width * channels)
            throw new ArgumentException($"The output holds {data.Length} floats, fewer than {height}x{width}x{channels}.");

        var n = 0;
        var sum = 0f;
        for (var part = 0; part < k; part++)
        {
            var ch = first + part;
            var best = float.NegativeInfinity;
            var bi = 0;
            for (var i = 0; i < height * width; i++)
            {
                var v = data[i * channels + ch];
                if (v > best) { best = v; bi = i; }
            }
            int y = bi / width, x = bi % width;
            float dx = 0, dy = 0;
            if (Options.SubPixel)
            {
                if (x > 0 && x < width - 1)
                    dx = Vertex(data[(bi - 1) * channels + ch], best, data[(bi + 1) * channels + ch]);
                if (y > 0 && y < height - 1)
                    dy = Vertex(data[(bi - width) * channels + ch], best, data[(bi + width) * channels + ch]);
            }
            var score = _model.HeatmapLogits ? Sigmoid(best) : best;
            sum += score;
            if (score < Options.MinScore) continue;
            var nx = (x + 0.5f + dx) / width;
            var ny = (y + 0.5f + dy) / height;
            _buffer[n++] = Map(part, nx, ny, score, mapping);
        }
        if (n == 0) return [];
        return [new Person(_model.Keypoints, _buffer.AsSpan(0, n), sum / k)];
    }

    // Vertex of the parabola through (−1, a), (0, b), (1, c) when b is a maximum: within [−0.5, 0.5].
    private static float Vertex(float a, float b, float c)
    {
        var curvature = a - 2 * b + c;
        if (!(curvature < 0)) return 0;
        return Math.Clamp(0.5f * (a - c) / curvature, -0.5f, 0.5f);
    }

    internal static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));

    internal static Keypoint Map(int part, float nx, float ny, float score, ImageMapping map)
    {
        var x = nx * map.ScaleX + map.OffsetX;
        var y = ny * map.ScaleY + map.OffsetY;
        return new Keypoint(part, x, y, map.ImageWidth > 0 ? x / map.ImageWidth : nx, map.ImageHeight > 0 ? y / map.ImageHeight : ny, score);
    }
}
