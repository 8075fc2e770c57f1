using OpenCvSharp;

namespace TfPose.Pose;

/// <summary>Network output for one image, NHWC, in a buffer reused between runs.</summary>
public sealed class PoseOutput
{
    private float[] _data = [];

    public int Height { get; private set; }
    public int Width { get; private set; }
    public int Channels { get; private set; }

    public ReadOnlySpan<float> Data => _data.AsSpan(0, Height * Width * Channels);

    /// <summary>Resizes the buffer (reusing it when large enough) and returns it for writing.</summary>
    public Span<float> Reset(int height, int width, int channels)
    {
        var n = checked(height * width * channels);
        if (_data.Length < n) _data = new float[n];
        Height = height; Width = width; Channels = channels;
        return _data.AsSpan(0, n);
    }
}

/// <summary>
/// Something that runs a pose network: the graph runtime in production, or another engine (tests
/// use OpenCV DNN as an independent reference).
/// </summary>
/// <remarks>
/// A <see cref="PoseEstimator"/> shared between threads calls <see cref="Run"/> from all of them at once, each call with
/// its own input and output; an engine that cannot run concurrently must serialise itself. <see cref="GraphPoseNetwork"/> can.
/// </remarks>
public interface IPoseNetwork : IDisposable
{
    /// <summary>Runs one preprocessed input (continuous CV_32FC3, H×W) and fills <paramref name="output"/> (NHWC).</summary>
    void Run(Mat input, PoseOutput output);
}

/// <summary>Turns one network output into people (one implementation per <see cref="PoseModelKind"/>).</summary>
/// <remarks>Decoders reuse their work buffers between calls: one decoder per thread (a shared <see cref="PoseEstimator"/> keeps one per concurrent call).</remarks>
public interface IPoseDecoder
{
    /// <summary>Decodes <paramref name="output"/> (the model's channels, concatenated) into people in image pixels.</summary>
    List<Person> Decode(PoseOutput output, ImageMapping mapping);
}
