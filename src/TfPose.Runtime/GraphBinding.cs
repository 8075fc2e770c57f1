using Microsoft.ML.OnnxRuntime;

namespace TfPose.Runtime;

/// <summary>
/// A run of a <see cref="GraphSession"/> set up once and repeated: its feeds and fetches are bound to caller-owned
/// tensors (ONNX Runtime's <see cref="OrtIoBinding"/>). <see cref="Run"/> then validates, looks up and allocates
/// nothing: a loop over frames writes each frame into the input tensors' memory, runs, and reads the output tensors'
/// memory. Made by <see cref="GraphSession.Bind"/>.
/// </summary>
/// <remarks>
/// The bound tensors must outlive the binding, and keep their shapes: the binding holds their memory, not copies. One
/// thread at a time per binding; threads sharing a session each bind their own (the session's runs are thread-safe).
/// </remarks>
/// <example>
/// <code>
/// var pixels = new float[1 * 368 * 432 * 3];
/// var heatmaps = new float[1 * 46 * 54 * 57];
/// using var input = GraphTensor.FromArray(pixels, 1, 368, 432, 3);
/// using var output = GraphTensor.FromArray(heatmaps, 1, 46, 54, 57);
/// using var run = session.Bind(new Dictionary&lt;string, GraphTensor&gt; { ["image"] = input }, ["Openpose/concat_stage7"], [output]);
/// foreach (var frame in frames) { Fill(pixels, frame); run.Run(); Use(heatmaps); }
/// </code>
/// </example>
public sealed class GraphBinding : IDisposable
{
    private readonly GraphSession _owner;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions;
    private readonly OrtIoBinding _binding;
    // The bound tensors' OrtValues are referenced natively by the binding: kept reachable here so that a caller who
    // drops them (without disposing) does not unpin arrays the next run writes into.
    private readonly GraphTensor[] _inputs;
    private readonly GraphTensor[] _outputs;
    private readonly string[] _inputNames;
    private bool _disposed;

    internal GraphBinding(GraphSession owner, InferenceSession session, RunOptions runOptions,
        string[] inputNames, GraphTensor[] inputs, IReadOnlyList<string> outputNames, IReadOnlyList<GraphTensor> outputs)
    {
        _owner = owner;
        _session = session;
        _runOptions = runOptions;
        _inputNames = inputNames;
        _inputs = inputs;
        _outputs = [.. outputs];
        _binding = session.CreateIoBinding();
        try
        {
            for (var i = 0; i < inputNames.Length; i++)
                _binding.BindInput(inputNames[i], inputs[i].Value);
            for (var i = 0; i < outputNames.Count; i++)
                _binding.BindOutput(outputNames[i], outputs[i].Value);
        }
        catch
        {
            _binding.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Binds another tensor to input <paramref name="name"/> (<c>node</c> or <c>node:0</c>): other memory, of the element
    /// type and shape bound first, which the run was set up for. For a loop whose input moves (a new frame buffer) without
    /// changing size.
    /// </summary>
    public void BindInput(string name, GraphTensor tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tensor);
        var node = GraphSession.NormalizeName(name);
        var i = Array.IndexOf(_inputNames, node);
        if (i < 0)
            throw new ArgumentException($"{_owner.SourcePath ?? "graph"}: '{name}' is not an input of this binding ({string.Join(", ", _inputNames)}).", nameof(name));
        var bound = _inputs[i];
        if (tensor.ElementType != bound.ElementType || !tensor.Shape.AsSpan().SequenceEqual(bound.Shape))
            throw new ArgumentException(
                $"{_owner.SourcePath ?? "graph"}: input '{node}' was bound as {bound.ElementType.ToString().ToLowerInvariant()}{Graph.TensorValue.ShapeText(bound.Shape)}; " +
                $"a {tensor.ElementType.ToString().ToLowerInvariant()}{Graph.TensorValue.ShapeText(tensor.Shape)} tensor needs a binding of its own (GraphSession.Bind).", nameof(tensor));
        _binding.BindInput(node, tensor.Value);
        _inputs[i] = tensor;
    }

    /// <summary>Runs the graph on the bound inputs' current contents and writes the bound outputs.</summary>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _owner.ThrowIfDisposed();
        try
        {
            _session.RunWithBinding(_runOptions, _binding);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException(
                $"{_owner.SourcePath ?? "graph"}: running the graph failed (are the output tensors shaped as this run's outputs?): {ex.Message}", ex);
        }
    }

    /// <summary>Frees the binding; the bound tensors stay the caller's to dispose.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _binding.Dispose();
        GC.KeepAlive(_inputs);
        GC.KeepAlive(_outputs);
    }
}
