using BenchmarkDotNet.Attributes;
using OpenCvSharp;
using TfPose.Pose;

namespace TfPose.Benchmarks.Micro;

/// <summary>
/// The stages around inference for OpenPose on p2.jpg: preprocessing (resize, channel order, scaling) and PAF decoding
/// of a real network output (computed once in setup, so the network's time stays out).
/// </summary>
[MemoryDiagnoser]
public class PoseStages : IDisposable
{
    private PoseEstimator? _estimator;
    private Mat? _image;
    private PreparedImage? _prepared;
    private readonly PoseOutput _output = new();

    [GlobalSetup]
    public void Setup()
    {
        var shared = Environment.GetEnvironmentVariable("TFPOSE_SHARED") is { Length: > 0 } s ? s : FindShared();
        _estimator = new PoseEstimator(Path.Combine(shared, "data", "models", "openpose-mobilenet-v2-small", "graph_opt.pb"));
        _image = TfPose.Imaging.ImageFile.Read(Path.Combine(shared, "data", "images", "p2.jpg"));
        if (_image.Empty())
            throw new InvalidDataException($"{shared}/data/images/p2.jpg: cannot read the image.");
        _prepared = _estimator.Prepare(_image);
        _estimator.Infer(_prepared, _output);
    }

    [Benchmark]
    public void Prepare()
    {
        using var prepared = _estimator!.Prepare(_image!);
    }

    [Benchmark]
    public int Decode() => _estimator!.Decode(_output, _prepared!.Mapping).Count;

    [GlobalCleanup]
    public void Dispose()
    {
        _prepared?.Dispose();
        _image?.Dispose();
        _estimator?.Dispose();
        GC.SuppressFinalize(this);
    }

    // ../shared beside the repository: walk up from the build output to the folder holding TfPose.sln.
    private static string FindShared()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TfPose.sln")))
                return Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared");
        throw new DirectoryNotFoundException("Shared data not found (no TfPose.sln above the build output); set TFPOSE_SHARED.");
    }
}
