using TfPose.Graph.Proto;

namespace TfPose.Keras;

/// <summary>
/// Writes a trained model as a frozen TensorFlow GraphDef: a Placeholder input (NHWC, batch -1), each layer's ops as
/// the layer writes them (<see cref="Layer.ExportGraphDef"/>: weights as Const nodes in TensorFlow layouts, inference
/// semantics), nested models' layers scoped under the model's name, and an Identity output.
/// A layer whose ops need the batch as a constant (Conv2DTranspose's <c>input_sizes</c>) makes the whole export
/// fixed-batch (1 unless the caller asks for another), Placeholder included: a graph that declared batch -1 but
/// could only run one batch size would fail later and less clearly.
/// </summary>
internal static class GraphDefExporter
{
    public static GraphDef Export(Model model, string inputName, string outputName, int? batchSize = null)
    {
        var inputs = model.Inputs;
        if (inputs.Count != 1 || model.Outputs.Count != 1)
            throw new NotSupportedException($"ExportGraphDef supports single-input, single-output models; '{model.Name}' has {inputs.Count} and {model.Outputs.Count}.");
        if (batchSize is <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), $"ExportGraphDef: batch size must be positive, got {batchSize}.");
        bool needsFixedBatch = model.SelfAndDescendants().Any(l => l.ExportNeedsFixedBatch);
        var graph = new GraphDef();
        var e = new GraphEmitter(graph, batchSize ?? (needsFixedBatch ? 1 : -1));
        var ph = e.Node(inputName, "Placeholder").Type("dtype", DataType.DtFloat).Shape("shape", [e.Batch, .. inputs[0].Shape.Select(d => (long)d)]);
        var output = EmitModel(e, model, [ph.Name], "");
        e.Node(outputName, "Identity", output).FloatType();
        return graph;
    }

    private static string EmitModel(GraphEmitter e, Model model, string[] inputs, string prefix)
    {
        var values = new Dictionary<KerasTensor, string>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < inputs.Length; i++) values[model.Inputs[i]] = inputs[i];
        foreach (var node in model.Nodes)
        {
            var ins = node.Inputs.Select(t => values[t]).ToArray();
            values[node.Output] = node.Layer is Model inner
                ? EmitModel(e, inner, ins, prefix + inner.Name + "/")
                : node.Layer.ExportGraphDef(e, prefix + node.Layer.Name, ins, [.. node.Inputs.Select(t => t.Shape)]);
        }
        return values[model.Outputs[0]];
    }
}
