using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>
/// Inverted dropout: in training each unit is zeroed with probability <c>rate</c> and the rest scaled by
/// 1/(1-rate); identity at inference. The mask comes from the running model's seeded generator.
/// </summary>
public sealed class Dropout : Layer, IKerasLayer<Dropout>
{
    public Dropout(double rate, string? name = null) : base(name)
    {
        if (rate is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(rate), "Dropout rate must be in [0, 1).");
        Rate = rate;
    }

    public double Rate { get; }
    public override int[] ComputeOutputShape(int[][] s) => s[0];

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        // Keras applies dropout whenever training=True, even in a frozen (trainable=False) sub-model.
        if (!ctx.Training || Rate == 0)
            return x[0];
        using var u = rand(x[0].shape, ScalarType.Float32, x[0].device, generator: ctx.Generator);
        using var keep = u.ge(Rate);
        return x[0].mul(keep).mul(1.0 / (1.0 - Rate));
    }

    protected override void WriteConfig(JsonObject config) => config["rate"] = Rate;

    public static Dropout FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Dropout(c.Double("rate"), c.Name));

    /// <summary>Inference: the identity, named as TensorFlow names it.</summary>
    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes) => g.Op(scope + "/Identity", "Identity", x[0]);

    internal override string Describe() => $"Dropout({Rate})";
}
