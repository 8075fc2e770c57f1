using System.Collections.Concurrent;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;
using TfPose.Graph.Proto;
using TfPose.Graph.Translation;
using TfPose.Graph;
using TfPose.IO;

namespace TfPose.Runtime;

/// <summary>
/// Runs a frozen TensorFlow graph: load once, run many times, feeds and fetches by TensorFlow tensor
/// name. The graph is translated to ONNX in-process and executed by ONNX Runtime. <see cref="Run"/>
/// is thread-safe.
/// </summary>
public sealed class GraphSession : IDisposable
{
    private readonly TfGraph _graph;
    private readonly GraphSessionOptions _options;
    private readonly ConcurrentDictionary<string, Lazy<CompiledModel>> _compiled = new(StringComparer.Ordinal);
    private readonly TranslatedModel _default;
    // Parsing a name allocates; a session sees the same few feed and fetch names on every run, so each is parsed once.
    private readonly ConcurrentDictionary<string, string> _normalized = new(StringComparer.Ordinal);
    // One for every run: ONNX Runtime only reads it (const in its C API), and a new one per run is a native object and a
    // finalizable wrapper per call. Nothing here sets its terminate flag, which would stop every run sharing it.
    private readonly RunOptions _runOptions = new();
    private bool _disposed;

    public GraphSession(string graphPath, GraphSessionOptions? options = null)
        : this(TfGraph.Load(graphPath), options)
    {
    }

    public GraphSession(TfGraph graph, GraphSessionOptions? options = null)
    {
        _graph = graph;
        _options = options ?? new GraphSessionOptions();
        graph.EnsureFrozen();
        _default = GraphTranslator.Translate(graph);
        Inputs = _default.Inputs.Select(i => new GraphTensorInfo(i.Name, ToElementType(i.Type), i.Shape)).ToList();
        var shapes = ShapeInference.Infer(graph);
        Outputs = _default.Outputs.Select(o => new GraphTensorInfo(o, ToElementType(shapes.Type(TensorName.Parse(o))), shapes.Shape(o))).ToList();
        if (_options.SaveOnnxPath is not null)
            AtomicFile.WriteAllBytes(_options.SaveOnnxPath, _default.OnnxModel);
        if (!_default.UsesBatchStatistics)
            _compiled[Key(_default.Outputs, null)] = new Lazy<CompiledModel>(() => Compile(_default));
    }

    public IReadOnlyList<GraphTensorInfo> Inputs { get; }

    public IReadOnlyList<GraphTensorInfo> Outputs { get; }

    /// <summary>The file the graph came from, if any.</summary>
    public string? SourcePath => _graph.SourcePath;

    /// <summary>Runs the graph. Fetches default to the graph's outputs; names may be <c>node</c> or <c>node:0</c>.</summary>
    public GraphResults Run(IReadOnlyDictionary<string, GraphTensor> feeds, IReadOnlyList<string>? fetches = null)
    {
        var (compiled, fetchNames, names, fed) = Prepare(feeds, fetches);
        var values = new OrtValue[fed.Length];
        for (var i = 0; i < fed.Length; i++)
            values[i] = fed[i].Value;
        try
        {
            // The OrtValues become owned by the returned GraphTensors; the collection is not disposed.
            var outputs = compiled.Session.Run(_runOptions, names, values, compiled.Model.Outputs);
            var tensors = new List<GraphTensor>(outputs.Count);
            foreach (var value in outputs)
                tensors.Add(new GraphTensor(value));
            return new GraphResults(tensors, fetchNames);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException($"{Where}: running the graph failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Runs the graph into caller-owned output tensors (in fetch order), so ONNX Runtime writes straight
    /// into their memory and a loop over frames allocates no tensor memory. Each output's shape must be
    /// the one this run produces. A loop should <see cref="Bind"/> once instead, which also skips the checks.
    /// </summary>
    public void Run(IReadOnlyDictionary<string, GraphTensor> feeds, IReadOnlyList<string> fetches, IReadOnlyList<GraphTensor> outputs)
    {
        using var binding = Bind(feeds, fetches, outputs);
        binding.Run();
    }

    /// <summary>
    /// Sets up a run to repeat: feeds and fetches bound to these tensors (in fetch order), validated once here, so each
    /// <see cref="GraphBinding.Run"/> only runs the graph. For loops over frames that must not allocate; the tensors
    /// must outlive the binding and each output's shape must be the one this run produces.
    /// </summary>
    public GraphBinding Bind(IReadOnlyDictionary<string, GraphTensor> feeds, IReadOnlyList<string> fetches, IReadOnlyList<GraphTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(fetches);
        ArgumentNullException.ThrowIfNull(outputs);
        if (outputs.Count != fetches.Count)
            throw new ArgumentException($"{Where}: {fetches.Count} fetches but {outputs.Count} output tensors.");
        var (compiled, _, names, inputs) = Prepare(feeds, fetches);
        try
        {
            return new GraphBinding(this, compiled.Session, _runOptions, names, inputs, compiled.Model.Outputs, outputs);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException($"{Where}: binding the run's tensors failed: {ex.Message}", ex);
        }
    }

    internal void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private (CompiledModel Compiled, List<string> Fetches, string[] Names, GraphTensor[] Tensors) Prepare(
        IReadOnlyDictionary<string, GraphTensor> feeds, IReadOnlyList<string>? fetches)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(feeds);
        var fetchNames = new List<string>((fetches ?? _default.Outputs).Count);
        foreach (var fetch in fetches ?? _default.Outputs)
        {
            var name = Normalize(fetch);
            if (_graph.FindNode(name) is null)
                throw new ArgumentException($"{Where}: cannot fetch '{fetch}': no such node. Outputs: {string.Join(", ", _default.Outputs)}.");
            fetchNames.Add(name);
        }
        GraphTensor? Feed(string inputName)
        {
            foreach (var (key, tensor) in feeds)
            {
                if (key == inputName || Normalize(key) == inputName)
                    return tensor;
            }
            return null;
        }
        foreach (var key in feeds.Keys)
        {
            var name = Normalize(key);
            if (_graph.FindNode(name)?.Op is not ("Placeholder" or "PlaceholderV2" or "PlaceholderWithDefault"))
                throw new ArgumentException($"{Where}: there is no input named '{name}'. Inputs: {string.Join(", ", Inputs.Select(Describe))}.");
        }
        // Validated before translating: a graph translated for the fed shapes would otherwise fail on a wrong one
        // with a shape-inference message instead of naming the input.
        foreach (var input in _default.Inputs)
        {
            if (Feed(input.Name) is { } fed)
                Validate(input, fed);
        }
        var compiled = GetCompiled(fetchNames, feeds);
        var inputs = compiled.Model.Inputs;
        // Arrays, as ONNX Runtime takes them: filled in place rather than through lists copied at the end.
        var names = new string[inputs.Count];
        var values = new GraphTensor[inputs.Count];
        var count = 0;
        foreach (var input in inputs)
        {
            var tensor = Feed(input.Name);
            if (tensor is null)
            {
                if (_graph.GetNode(input.Name).Op == "PlaceholderWithDefault")
                    continue;
                throw new ArgumentException($"{Where}: input '{input.Name}' was not fed. Inputs: {string.Join(", ", inputs.Select(i => Describe(new GraphTensorInfo(i.Name, ToElementType(i.Type), i.Shape))))}.");
            }
            Validate(input, tensor);
            names[count] = input.Name;
            values[count++] = tensor;
        }
        return count == names.Length ? (compiled, fetchNames, names, values) : (compiled, fetchNames, names[..count], values[..count]);
    }

    /// <summary>Convenience for single-input graphs.</summary>
    public GraphResults Run(GraphTensor input, IReadOnlyList<string>? fetches = null)
    {
        if (Inputs.Count != 1)
            throw new ArgumentException($"{Where}: the graph has {Inputs.Count} inputs; feed them by name.");
        return Run(new Dictionary<string, GraphTensor> { [Inputs[0].Name] = input }, fetches);
    }

    private string Where => _graph.SourcePath ?? "graph";

    // Bounded, so that a caller inventing names (or feeding wrong ones) cannot grow it without end.
    private string Normalize(string name) =>
        _normalized.TryGetValue(name, out var known) ? known
        : _normalized.Count < 256 ? _normalized.GetOrAdd(name, NormalizeName)
        : NormalizeName(name);

    internal static string NormalizeName(string name)
    {
        var t = TensorName.Parse(name);
        return t.Index == 0 ? t.Node : t.ToString();
    }

    private static string Describe(GraphTensorInfo info) =>
        $"{info.Name} {info.ElementType.ToString().ToLowerInvariant()}{(info.Shape is null ? "[?]" : TensorValue.ShapeText(info.Shape))}";

    private void Validate(GraphInput input, GraphTensor tensor)
    {
        var expectedType = ToElementType(input.Type);
        if (tensor.ElementType != expectedType)
            throw new ArgumentException($"{Where}: input '{input.Name}' takes {expectedType.ToString().ToLowerInvariant()}, but a {tensor.ElementType.ToString().ToLowerInvariant()} tensor was fed.");
        if (input.Shape is null)
            return;
        if (tensor.Shape.Length != input.Shape.Length)
            throw new ArgumentException($"{Where}: input '{input.Name}' has rank {input.Shape.Length} {TensorValue.ShapeText(input.Shape)}, but a rank-{tensor.Shape.Length} tensor {TensorValue.ShapeText(tensor.Shape)} was fed.");
        for (var i = 0; i < input.Shape.Length; i++)
        {
            if (input.Shape[i] >= 0 && input.Shape[i] != tensor.Shape[i])
                throw new ArgumentException($"{Where}: input '{input.Name}' expects shape {TensorValue.ShapeText(input.Shape)}, but {TensorValue.ShapeText(tensor.Shape)} was fed (dimension {i}).");
        }
    }

    /// <summary>
    /// The session for these fetches and feeds. A graph that normalises with batch statistics is translated per
    /// input shape: its normalisations depend on the batch, and with every size static ONNX Runtime folds the
    /// shape arithmetic and plans memory once (about 1 ms of 19 on openpose-mobilenet-v2-small). After
    /// <see cref="MaxSpecialisedShapes"/> distinct shapes only the batch is fixed, so a caller cycling through
    /// many image sizes does not pile up sessions.
    /// </summary>
    private CompiledModel GetCompiled(List<string> fetches, IReadOnlyDictionary<string, GraphTensor> feeds)
    {
        Dictionary<string, long[]>? shapes = null;
        if (_default.UsesBatchStatistics)
        {
            foreach (var (name, tensor) in feeds)
            {
                if (tensor.Shape.Length == 4)
                    (shapes ??= new Dictionary<string, long[]>(StringComparer.Ordinal))[Normalize(name)] = tensor.Shape;
            }
        }
        var key = Key(fetches, shapes);
        if (shapes is not null && !_compiled.ContainsKey(key) && Volatile.Read(ref _specialisedCount) >= MaxSpecialisedShapes)
        {
            var batch = shapes.Values.First()[0];
            shapes = _default.Inputs.Where(i => i.Shape is { Length: 4 })
                .ToDictionary(i => i.Name, i => new[] { batch }.Concat(i.Shape!.Skip(1)).ToArray(), StringComparer.Ordinal);
            key = Key(fetches, shapes);
        }
        var lazy = _compiled.GetOrAdd(key, _ => new Lazy<CompiledModel>(() =>
        {
            if (shapes is not null && shapes.Values.All(s => s.All(d => d >= 0)))
                Interlocked.Increment(ref _specialisedCount);
            var model = GraphTranslator.Translate(_graph, new TranslationOptions { Outputs = fetches, InputShapes = shapes });
            return Compile(model);
        }));
        return lazy.Value;
    }

    private const int MaxSpecialisedShapes = 8;
    private int _specialisedCount;

    private static string Key(IEnumerable<string> fetches, IReadOnlyDictionary<string, long[]>? shapes) =>
        string.Join("|", fetches) + (shapes is null ? "" : "#" + string.Join(";", shapes.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => s.Key + "=" + string.Join("x", s.Value))));

    private CompiledModel Compile(TranslatedModel model)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = _options.IntraOpThreads,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        ExecutionProviders.Append(sessionOptions, _options);
        if (!_options.SpinWait)
            sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (_options.ProfilePrefix is { } prefix)
        {
            sessionOptions.ProfileOutputPathPrefix = prefix;
            sessionOptions.EnableProfiling = true;
        }
        try
        {
            return new CompiledModel(new InferenceSession(model.OnnxModel, sessionOptions), model);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidOperationException($"{Where}: ONNX Runtime rejected the translated graph: {ex.Message}", ex);
        }
    }

    /// <summary>Stops profiling (<see cref="GraphSessionOptions.ProfilePrefix"/>) and returns the trace files written, one per compiled variant.</summary>
    public IReadOnlyList<string> EndProfiling() =>
        _compiled.Values.Where(l => l.IsValueCreated).Select(l => l.Value.Session.EndProfiling()).ToList();

    internal static TensorElementType ToElementType(DataType type) => DataTypes.BaseType(type) switch
    {
        DataType.DtFloat => TensorElementType.Float,
        DataType.DtDouble => TensorElementType.Double,
        DataType.DtInt32 => TensorElementType.Int32,
        DataType.DtInt64 => TensorElementType.Int64,
        DataType.DtUint8 => TensorElementType.UInt8,
        DataType.DtInt8 => TensorElementType.Int8,
        DataType.DtBool => TensorElementType.Bool,
        DataType.DtHalf => TensorElementType.Float16,
        DataType.DtInt16 => TensorElementType.Int16,
        DataType.DtUint16 => TensorElementType.UInt16,
        _ => TensorElementType.DataTypeMax,
    };

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _runOptions.Dispose();
        foreach (var lazy in _compiled.Values)
        {
            if (lazy.IsValueCreated)
                lazy.Value.Session.Dispose();
        }
    }

    private sealed record CompiledModel(InferenceSession Session, TranslatedModel Model);
}
