using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>What the 2-D pooling layers share: window, strides, TensorFlow padding and the output shape they imply.</summary>
public abstract class Pooling2D : Layer
{
    protected Pooling2D(int[]? poolSize, int[]? strides, string padding, string? name) : base(name)
    {
        PoolSize = poolSize ?? [2, 2];
        Strides = strides ?? PoolSize;
        PaddingMode = Padding.Validate(padding);
    }

    public int[] PoolSize { get; }
    public int[] Strides { get; }
    public string PaddingMode { get; }

    public override int[] ComputeOutputShape(int[][] s) =>
        [Padding.OutSize(s[0][0], PoolSize[0], Strides[0], PaddingMode), Padding.OutSize(s[0][1], PoolSize[1], Strides[1], PaddingMode), s[0][2]];

    protected override void WriteConfig(JsonObject config)
    {
        config["pool_size"] = LayerConfig.Ints(PoolSize);
        config["strides"] = LayerConfig.Ints(Strides);
        config["padding"] = PaddingMode;
    }

    /// <summary>Reads pool_size, strides (null: the pool size, as in Keras) and padding for a subclass's FromConfig.</summary>
    private protected static T Read<T>(JsonObject config, Func<int[], int[]?, string, string?, T> make) where T : Pooling2D =>
        LayerConfig.Read(config, c =>
        {
            c.Expect("data_format", "channels_last");
            var pool = c.Ints("pool_size", 2, [2, 2])!;
            return make(pool, c.Ints("strides", 2, null), c.String("padding", "valid"), c.Name);
        });

    /// <summary>The TensorFlow pooling op (MaxPool, AvgPool) with NHWC ksize and strides.</summary>
    private protected string ExportPool(GraphEmitter g, string scope, string input, string op) =>
        g.Node(scope + "/" + op, op, input).FloatType().Ints("ksize", 1, PoolSize[0], PoolSize[1], 1).Ints("strides", 1, Strides[0], Strides[1], 1)
            .Str("padding", PaddingMode.ToUpperInvariant()).Str("data_format", "NHWC");
}
