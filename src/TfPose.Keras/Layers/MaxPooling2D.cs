using System.Text.Json.Nodes;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace TfPose.Keras;

/// <summary>Max pooling with TensorFlow padding (padding never wins the max).</summary>
public sealed class MaxPooling2D : Pooling2D, IKerasLayer<MaxPooling2D>
{
    public MaxPooling2D(int[]? poolSize = null, int[]? strides = null, string padding = "valid", string? name = null)
        : base(poolSize, strides, padding, name)
    {
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var input = x[0];
        if (PaddingMode == "same")
        {
            var (t, b) = Padding.Same((int)input.shape[2], PoolSize[0], Strides[0]);
            var (l, r) = Padding.Same((int)input.shape[3], PoolSize[1], Strides[1]);
            if (t + b + l + r > 0)
                input = F.pad(input, [l, r, t, b], value: double.NegativeInfinity);
        }
        return F.max_pool2d(input, [PoolSize[0], PoolSize[1]], [Strides[0], Strides[1]]);
    }

    public static MaxPooling2D FromConfig(JsonObject config) => Read(config, (pool, strides, padding, name) => new MaxPooling2D(pool, strides, padding, name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) => ExportPool(g, scope, x[0], "MaxPool");
}
