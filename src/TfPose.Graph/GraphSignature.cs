namespace TfPose.Graph;

/// <summary>
/// A model's declared inputs and outputs, in the order the model file lists them (a TensorFlow.js
/// <c>signature</c>). A plain GraphDef has none: its inputs and outputs are inferred from the graph.
/// </summary>
public sealed record GraphSignature(IReadOnlyList<SignatureTensor> Inputs, IReadOnlyList<SignatureTensor> Outputs);

/// <summary>One signature entry: the key the model gives it and the tensor it names (<c>node</c> or <c>node:index</c>).</summary>
public sealed record SignatureTensor(string Key, string Tensor);
