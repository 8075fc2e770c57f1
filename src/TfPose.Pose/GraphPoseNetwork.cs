using OpenCvSharp;
using TfPose.Graph;
using TfPose.Runtime;

namespace TfPose.Pose;

/// <summary>Runs a frozen TensorFlow pose graph through TfPose's graph runtime.</summary>
public sealed class GraphPoseNetwork : IPoseNetwork
{
    private readonly GraphSession _session;
    private readonly PoseModel _model;
    private readonly string _path;
    private readonly string[] _fetches;
    private readonly Lock _lock = new();
    private readonly List<BoundRun> _idle = [];
    private bool _disposed;

    public GraphPoseNetwork(string graphPath, PoseModel model, GraphSessionOptions? options = null)
        : this(TfGraph.Load(graphPath), graphPath, model, options)
    {
    }

    /// <summary>Uses an already loaded graph (e.g. the one <see cref="PoseModelDescription"/> inspected).</summary>
    public GraphPoseNetwork(TfGraph graph, string graphPath, PoseModel model, GraphSessionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(model);
        _path = graphPath;
        _model = model;
        _fetches = model.OutputNames.ToArray();
        _session = new GraphSession(graph, options);
        try
        {
            if (!_session.Inputs.Any(i => SameTensor(i.Name, model.InputName)))
                throw new InvalidDataException(
                    $"{graphPath}: no input '{model.InputName}' (inputs: {string.Join(", ", _session.Inputs.Select(i => i.Name))}); " +
                    $"a pose graph takes an NHWC float32 image [N,H,W,3].");
            foreach (var name in _fetches)
                if (graph.FindNode(name) is null)
                    throw new InvalidDataException(
                        $"{graphPath}: does not look like {Article(model)} graph: no output '{name}' " +
                        $"(outputs: {string.Join(", ", _session.Outputs.Select(o => o.Name))}); expected {Expected(model)}.");
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    private static string Article(PoseModel m) => m.Kind switch
    {
        PoseModelKind.OpenPose => "an OpenPose",
        PoseModelKind.PoseNet => "a PoseNet",
        _ => "a single-person heatmap",
    };

    internal static string Expected(PoseModel m) => m.Kind switch
    {
        PoseModelKind.OpenPose => $"[1,H/{m.Stride},W/{m.Stride},{m.OutputChannels}] holding 19 heatmaps and 38 part affinity fields",
        PoseModelKind.PoseNet => $"four [1,H',W',C] outputs with C = {m.Keypoints.Count}, {2 * m.Keypoints.Count}, 32, 32 (heatmap, offsets, forward and backward displacements)",
        _ => $"[1,H/{m.Stride},W/{m.Stride},{m.Keypoints.Count}] holding one heatmap per {m.Keypoints.Name} keypoint",
    };

    private static bool SameTensor(string a, string b) =>
        string.Equals(Strip(a), Strip(b), StringComparison.Ordinal);

    private static string Strip(string name) => name.EndsWith(":0", StringComparison.Ordinal) ? name[..^2] : name;

    /// <summary>
    /// Runs the graph on <paramref name="input"/>. The first run at an input size finds the outputs' shapes and checks
    /// them; later runs at that size repeat a bound run, which allocates nothing when the input is the Mat it was bound to
    /// (the estimator's workers prepare every image into the same Mat) and only a small handle when it is another.
    /// </summary>
    public void Run(Mat input, PoseOutput output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        var key = new InputKey(input.Rows, input.Cols, input.Type());
        var bound = input.IsContinuous() ? TakeIdle(key, input.Data) : null;
        try
        {
            if (bound is null)
            {
                bound = FirstRun(input, key);
            }
            else
            {
                if (bound.InputData != input.Data)
                    bound.BindInput(_model.InputName, input);
                bound.Binding.Run();
            }
            bound.WriteTo(output);
        }
        finally
        {
            if (bound is not null)
                ReturnIdle(bound);
        }
    }

    /// <summary>
    /// An idle bound run for inputs of this size, preferably the one bound to this very memory, taken so that no other
    /// call uses it meanwhile (a binding runs one call at a time).
    /// </summary>
    private BoundRun? TakeIdle(InputKey key, nint data)
    {
        lock (_lock)
        {
            var match = -1;
            for (var i = _idle.Count - 1; i >= 0; i--)
            {
                if (_idle[i].Key != key)
                    continue;
                if (match < 0 || _idle[i].InputData == data)
                    match = i;
                if (_idle[i].InputData == data)
                    break;
            }
            if (match < 0)
                return null;
            var run = _idle[match];
            _idle.RemoveAt(match);
            return run;
        }
    }

    // Most recently used last; past the limit the least recently used goes, so that a caller cycling through input sizes
    // does not pile up output buffers.
    private void ReturnIdle(BoundRun run)
    {
        BoundRun? evicted = null;
        lock (_lock)
        {
            if (_disposed)
            {
                evicted = run;
            }
            else
            {
                _idle.Add(run);
                if (_idle.Count > MaxIdle)
                {
                    evicted = _idle[0];
                    _idle.RemoveAt(0);
                }
            }
        }
        evicted?.Dispose();
    }

    /// <summary>Bound runs kept idle: enough for every worker of a busy estimator at a few scales each.</summary>
    private const int MaxIdle = 32;

    /// <summary>Runs once through the session, checks the outputs' shapes and binds a run that repeats this one.</summary>
    private BoundRun FirstRun(Mat input, InputKey key)
    {
        var tensor = GraphTensor.FromMat(input);
        var outputs = new GraphTensor[_fetches.Length];
        try
        {
            var feeds = new Dictionary<string, GraphTensor> { [_model.InputName] = tensor };
            var buffers = new float[_fetches.Length][];
            using (var results = _session.Run(feeds, _fetches))
            {
                var first = results[0].Shape;
                var channels = 0L;
                for (var i = 0; i < _fetches.Length; i++)
                {
                    var s = results[i].Shape;
                    if (s.Length != 4 || s[0] != 1 || s[1] != first[1] || s[2] != first[2])
                        throw new InvalidDataException(
                            $"{_path}: output '{_fetches[i]}' has shape [{string.Join(",", s)}]; expected {Expected(_model)}.");
                    channels += s[3];
                    buffers[i] = results[i].ToArray<float>();
                    outputs[i] = GraphTensor.FromArray(buffers[i], s);
                }
                if (channels < _model.OutputChannels)
                    throw new InvalidDataException(
                        $"{_path}: the outputs hold {channels} channels, but the model needs {_model.OutputChannels}: expected {Expected(_model)}.");
            }
            return new BoundRun(key, input.Data, tensor, outputs, buffers, _session.Bind(feeds, _fetches, outputs));
        }
        catch
        {
            tensor.Dispose();
            foreach (var o in outputs) o?.Dispose();
            throw;
        }
    }

    private readonly record struct InputKey(int Rows, int Cols, MatType Type);

    /// <summary>A run bound to an input Mat's memory and to output arrays of its own.</summary>
    private sealed class BoundRun(InputKey key, nint inputData, GraphTensor input, GraphTensor[] outputs, float[][] buffers, GraphBinding binding) : IDisposable
    {
        private GraphTensor _input = input;

        public InputKey Key { get; } = key;

        /// <summary>The memory of the Mat the input is bound to.</summary>
        public nint InputData { get; private set; } = inputData;

        public GraphBinding Binding { get; } = binding;

        /// <summary>Moves the input to another Mat of the same size and type.</summary>
        public void BindInput(string name, Mat mat)
        {
            var tensor = GraphTensor.FromMat(mat);
            try
            {
                Binding.BindInput(name, tensor);
            }
            catch
            {
                tensor.Dispose();
                throw;
            }
            _input.Dispose();
            _input = tensor;
            InputData = mat.Data;
        }

        /// <summary>The outputs as one NHWC map, channels in fetch order.</summary>
        public void WriteTo(PoseOutput output)
        {
            var shape = outputs[0].Shape;
            int h = (int)shape[1], w = (int)shape[2], c = 0;
            foreach (var b in buffers) c += b.Length / (h * w);
            var dst = output.Reset(h, w, c);
            if (buffers.Length == 1)
            {
                buffers[0].CopyTo(dst);
                return;
            }
            var at = 0;
            foreach (var src in buffers)
            {
                var ci = src.Length / (h * w);
                for (var p = 0; p < h * w; p++)
                    src.AsSpan(p * ci, ci).CopyTo(dst.Slice(p * c + at, ci));
                at += ci;
            }
        }

        public void Dispose()
        {
            Binding.Dispose();
            _input.Dispose();
            foreach (var o in outputs) o.Dispose();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var run in _idle) run.Dispose();
            _idle.Clear();
        }
        _session.Dispose();
    }
}
