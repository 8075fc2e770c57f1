using TfPose.Runtime;
using static TorchSharp.torch;

namespace TfPose.Gan;

/// <summary>
/// The exported generator (<c>generator.pb</c>: Placeholder noise [-1, 100] → image [-1, 784] in [-1, 1]) run through
/// the project's graph runtime, with no TorchSharp model: how a deployed generator samples.
/// </summary>
public sealed class GeneratorGraph : IDisposable
{
    private readonly GraphSession _session;

    public GeneratorGraph(string path, GraphSessionOptions? options = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Generator graph not found: {path}", path);
        _session = new GraphSession(path, options);
        if (_session.Inputs.Count != 1 || _session.Inputs[0].Shape is not { Length: 2 } inShape || inShape[1] != FashionGan.LatentDim)
        {
            var got = string.Join(", ", _session.Inputs.Select(i => $"{i.Name}[{(i.Shape is null ? "?" : string.Join(",", i.Shape))}]"));
            _session.Dispose();
            throw new InvalidDataException($"{path}: expected one input of shape [-1, {FashionGan.LatentDim}] (the generator's noise), found {got}.");
        }
        Path = path;
    }

    public string Path { get; }

    /// <summary>Images in [-1, 1], shape (N, 784), for noise of shape (N, 100).</summary>
    public Tensor Generate(Tensor noise)
    {
        using var z = noise.to_type(ScalarType.Float32).cpu().contiguous();
        using var feed = GraphTensor.FromArray(z.data<float>().ToArray(), z.shape);
        using var results = _session.Run(feed);
        var output = results[0];
        if (output.ElementCount != z.shape[0] * FashionGan.ImageSize)
            throw new InvalidDataException($"{Path}: the graph produced shape [{string.Join(", ", output.Shape)}], expected [{z.shape[0]}, {FashionGan.ImageSize}].");
        return tensor(output.ToArray<float>()).reshape(z.shape[0], FashionGan.ImageSize);
    }

    /// <summary><paramref name="count"/> images from the same noise <c>new FashionGan(seed).Sample(count)</c> draws first.</summary>
    public Tensor Sample(long count, int seed)
    {
        using var z = FashionGan.SeededNoise(seed, count);
        return Generate(z);
    }

    public void Dispose() => _session.Dispose();
}
