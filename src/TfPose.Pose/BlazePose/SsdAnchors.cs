namespace TfPose.Pose.BlazePose;

/// <summary>One SSD anchor: centre and size normalised to the detector input (0..1).</summary>
public readonly record struct SsdAnchor(float XCenter, float YCenter, float Width, float Height);

/// <summary>
/// How MediaPipe's SsdAnchorsCalculator lays out anchors (its <c>SsdAnchorsCalculatorOptions</c>). Layers that
/// share a stride share one feature map; each layer adds one anchor per aspect ratio and, when
/// <see cref="InterpolatedScaleAspectRatio"/> is positive, one more at the geometric mean of its scale and the next.
/// </summary>
public sealed record SsdAnchorOptions
{
    public required int InputWidth { get; init; }
    public required int InputHeight { get; init; }
    public required int NumLayers { get; init; }
    public required IReadOnlyList<int> Strides { get; init; }
    public float MinScale { get; init; }
    public float MaxScale { get; init; }
    public IReadOnlyList<float> AspectRatios { get; init; } = [1f];
    public float AnchorOffsetX { get; init; } = 0.5f;
    public float AnchorOffsetY { get; init; } = 0.5f;
    public float InterpolatedScaleAspectRatio { get; init; } = 1f;
    public bool ReduceBoxesInLowestLayer { get; init; }

    /// <summary>Every anchor is 1×1 (the network regresses absolute sizes); otherwise sizes come from the scales.</summary>
    public bool FixedAnchorSize { get; init; }

    /// <summary>
    /// The BlazePose person detector, as MediaPipe's pose_detection_cpu.pbtxt and pose-detection's
    /// BLAZEPOSE_DETECTOR_ANCHOR_CONFIGURATION configure it: 224×224 input, 5 layers with strides 8, 16, 32, 32,
    /// 32, scales 0.1484375..0.75, aspect ratio 1, offsets 0.5, fixed anchor size. This gives 28²·2 + 14²·2 + 7²·6
    /// = 2254 anchors.
    /// </summary>
    public static SsdAnchorOptions BlazePoseDetector { get; } = new()
    {
        InputWidth = 224,
        InputHeight = 224,
        NumLayers = 5,
        Strides = [8, 16, 32, 32, 32],
        MinScale = 0.1484375f,
        MaxScale = 0.75f,
        AspectRatios = [1f],
        AnchorOffsetX = 0.5f,
        AnchorOffsetY = 0.5f,
        InterpolatedScaleAspectRatio = 1f,
        FixedAnchorSize = true,
    };
}

/// <summary>SSD anchor generation as MediaPipe's SsdAnchorsCalculator (and pose-detection's createSsdAnchors) does it.</summary>
public static class SsdAnchors
{
    public static SsdAnchor[] Generate(SsdAnchorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.NumLayers <= 0 || options.Strides.Count < options.NumLayers)
            throw new ArgumentException($"{options.NumLayers} layers need as many strides; {options.Strides.Count} given.", nameof(options));
        if (options.InputWidth <= 0 || options.InputHeight <= 0)
            throw new ArgumentException("The input size must be positive.", nameof(options));

        var anchors = new List<SsdAnchor>();
        var layer = 0;
        while (layer < options.NumLayers)
        {
            var heights = new List<double>();
            var widths = new List<double>();
            // Consecutive layers with the same stride are merged into one feature map, their anchors interleaved per cell.
            var last = layer;
            while (last < options.Strides.Count && options.Strides[last] == options.Strides[layer])
            {
                var scale = Scale(options, last);
                if (last == 0 && options.ReduceBoxesInLowestLayer)
                {
                    Add(heights, widths, 0.1, 1.0);
                    Add(heights, widths, scale, 2.0);
                    Add(heights, widths, scale, 0.5);
                }
                else
                {
                    foreach (var ratio in options.AspectRatios)
                        Add(heights, widths, scale, ratio);
                    if (options.InterpolatedScaleAspectRatio > 0)
                    {
                        var next = last == options.Strides.Count - 1 ? 1.0 : Scale(options, last + 1);
                        Add(heights, widths, Math.Sqrt(scale * next), options.InterpolatedScaleAspectRatio);
                    }
                }
                last++;
            }

            var stride = options.Strides[layer];
            var rows = (int)Math.Ceiling(options.InputHeight / (double)stride);
            var cols = (int)Math.Ceiling(options.InputWidth / (double)stride);
            for (var y = 0; y < rows; y++)
            {
                for (var x = 0; x < cols; x++)
                {
                    var xc = (float)((x + options.AnchorOffsetX) / cols);
                    var yc = (float)((y + options.AnchorOffsetY) / rows);
                    for (var a = 0; a < heights.Count; a++)
                    {
                        anchors.Add(options.FixedAnchorSize
                            ? new SsdAnchor(xc, yc, 1f, 1f)
                            : new SsdAnchor(xc, yc, (float)widths[a], (float)heights[a]));
                    }
                }
            }
            layer = last;
        }
        return [.. anchors];
    }

    private static void Add(List<double> heights, List<double> widths, double scale, double aspectRatio)
    {
        var root = Math.Sqrt(aspectRatio);
        heights.Add(scale / root);
        widths.Add(scale * root);
    }

    private static double Scale(SsdAnchorOptions o, int strideIndex) => o.Strides.Count == 1
        ? (o.MinScale + o.MaxScale) * 0.5
        : o.MinScale + (o.MaxScale - (double)o.MinScale) * strideIndex / (o.Strides.Count - 1);
}
