using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace TfPose.Keras;

/// <summary>Element-wise sum of inputs of equal shape.</summary>
public sealed class Add(string? name = null) : Layer(name), IKerasLayer<Add>
{

    public override int[] ComputeOutputShape(int[][] s)
    {
        if (s.Any(t => !t.SequenceEqual(s[0])))
            throw new ArgumentException($"Add '{Name}': input shapes differ: {string.Join(", ", s.Select(Layout.Format))}.");
        return s[0];
    }

    internal override Tensor Forward(Tensor[] x, CallContext ctx)
    {
        var y = x[0];
        for (int i = 1; i < x.Length; i++)
            y = y + x[i];
        return y;
    }

    protected override void WriteConfig(JsonObject config)
    {
        // Only the name and trainable flag GetConfig already holds.
    }

    public static Add FromConfig(JsonObject config) => LayerConfig.Read(config, c => new Add(c.Name));

    internal override string ExportGraphDef(GraphEmitter g, string scope, string[] x, int[][] inputShapes)
    {
        var y = x[0];
        for (int i = 1; i < x.Length; i++) y = g.Op(scope + "/add", "AddV2", y, x[i]);
        return y;
    }
}
