using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Keras;

/// <summary>Average pooling; with "same" padding the average excludes padded cells, as TensorFlow does.</summary>
public sealed class AveragePooling2D : Pooling2D, IKerasLayer<AveragePooling2D>
{
    public AveragePooling2D(int[]? poolSize = null, int[]? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        long[] k = [PoolSize[0], PoolSize[1]], st = [Strides[0], Strides[1]];
        if (PaddingMode != "same")
            return F.avg_pool2d(input, k, st);
        var (t, b) = Padding.Same((int)input.shape[2], PoolSize[0], Strides[0]);
        var (l, r) = Padding.Same((int)input.shape[3], PoolSize[1], Strides[1]);
        if (t + b + l + r == 0)
            return F.avg_pool2d(input, k, st);
        using var ones = torch.ones([1, 1, input.shape[2], input.shape[3]], input.dtype, input.device);
        using var count = F.avg_pool2d(F.pad(ones, [l, r, t, b]), k, st);
        return F.avg_pool2d(F.pad(input, [l, r, t, b]), k, st) / count;
    }

    public static AveragePooling2D FromConfig(JsonObject config) => Read(config, (pool, strides, padding, name) => new AveragePooling2D(pool, strides, padding, name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) => ExportPool(g, scope, x[0], "AvgPool");
}
