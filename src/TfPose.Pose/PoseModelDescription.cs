using System.Text.Json;
using TfPose.Graph;

namespace TfPose.Pose;

/// <summary>
/// Works out a <see cref="PoseModel"/> for a frozen graph: detected from the graph's inputs and outputs
/// for the known families, then overridden field by field by <c>NAME.pose.json</c> next to the graph
/// (<c>model.pb</c> → <c>model.pose.json</c>), so another graph of a known kind can be described without code.
/// </summary>
/// <remarks>
/// Override file (every field optional; with no detectable kind, <c>kind</c>, <c>outputs</c> and
/// <c>keypoints</c> are needed):
/// <code>
/// { "kind": "heatmap" | "posenet" | "openpose", "name": "my-model", "input": "image", "outputs": ["out"],
///   "width": 192, "height": 192, "stride": 4, "sizeRule": "fixed" | "multiple" | "multiple+1",
///   "channelOrder": "rgb" | "bgr", "mean": 0, "scale": 1, "heatmapLogits": false,
///   "keypoints": "coco17" | "ai-challenger14" | "openpose-coco18"
///              | { "name": "...", "names": ["..."], "skeleton": [[0, 1]], "coco17": [-1, ...] } }
/// </code>
/// </remarks>
public static class PoseModelDescription
{
    /// <summary>The override file for a graph: same folder, extension replaced by <c>.pose.json</c>.</summary>
    public static string OverridePath(string graphPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(graphPath)) ?? ".", Path.GetFileNameWithoutExtension(graphPath) + ".pose.json");

    /// <summary>Detects the model of a graph file and applies its override file when present.</summary>
    public static PoseModel Load(string graphPath) => Load(TfGraph.Load(graphPath), graphPath);

    /// <summary>Detects the model of a loaded graph and applies the override file next to <paramref name="graphPath"/> when present.</summary>
    public static PoseModel Load(TfGraph graph, string graphPath)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var json = OverridePath(graphPath);
        var detected = TryDetect(graph, graphPath, out var why);
        if (!File.Exists(json))
            return detected ?? throw new InvalidDataException($"{why} Describe it in {json} (see PoseModelDescription).");
        var model = ApplyOverride(detected, json, why);
        model.Validate(json);
        CheckAgainstGraph(model, graph, json);
        return model;
    }

    // An override may describe outputs the graph does not have, or a keypoint count its maps disagree with:
    // say so now, naming the file, rather than at the first image.
    private static void CheckAgainstGraph(PoseModel model, TfGraph graph, string json)
    {
        if (graph.FindNode(model.InputName) is null)
            throw new InvalidDataException($"{json}: the graph has no input '{model.InputName}'.");
        foreach (var o in model.OutputNames)
            if (graph.FindNode(o) is null)
                throw new InvalidDataException($"{json}: the graph has no output '{o}' (outputs: {string.Join(", ", graph.Outputs)}).");
        GraphShapes shapes;
        try { shapes = ShapeInference.Infer(graph); }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException) { return; }
        var channels = model.OutputNames.Select(o => shapes.Shape(o) is { Length: 4 } s ? s[3] : -1).ToList();
        if (channels.Any(c => c < 0)) return;
        var total = channels.Sum();
        if (model.Kind == PoseModelKind.Heatmap && total != model.Keypoints.Count)
            throw new InvalidDataException($"{json}: a heatmap model has one map per keypoint ({model.Keypoints.Count} for '{model.Keypoints.Name}'), but '{model.OutputNames[0]}' has {total} channels.");
        if (total < model.OutputChannels)
            throw new InvalidDataException($"{json}: the outputs hold {total} channels, fewer than the {model.OutputChannels} a {model.Kind} model needs.");
    }

    /// <summary>Detects the model of a known graph family, or throws naming what the graph has.</summary>
    public static PoseModel Detect(TfGraph graph, string where) =>
        TryDetect(graph, where, out var why) ?? throw new InvalidDataException(why);

    private static PoseModel? TryDetect(TfGraph graph, string where, out string why)
    {
        why = "";
        var inputs = graph.Inputs.Where(i => i.Shape is null || i.Shape.Length == 4).ToList();
        var outputs = graph.Outputs;
        string Listing() => $"inputs: {string.Join(", ", graph.Inputs.Select(i => i.Name + Shape(i.Shape)))}; outputs: {string.Join(", ", outputs)}";
        if (inputs.Count != 1)
        {
            why = $"{where}: not a known pose graph: expected one NHWC image input ({Listing()}).";
            return null;
        }
        var input = inputs[0];
        GraphShapes shapes;
        try { shapes = ShapeInference.Infer(graph); }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            why = $"{where}: cannot infer the output shapes ({e.Message}).";
            return null;
        }
        long Channels(string o) => shapes.Shape(o) is { Length: 4 } s ? s[3] : -1;
        // A model is named after its folder (a model.json's, or the folder given as the model); a .tflite after its file
        // (MediaPipe's pose_landmark_full.tflite), unless that is the generic model.tflite.
        var full = Path.GetFullPath(where).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        var stem = Path.GetFileNameWithoutExtension(full);
        string name = Graph.Formats.TfliteGraphModel.IsModelPath(full) && !string.Equals(stem, "model", StringComparison.OrdinalIgnoreCase) ? stem
            : (Directory.Exists(full) ? Path.GetFileName(full) : Path.GetFileName(Path.GetDirectoryName(full))) is { Length: > 0 } d ? d : Path.GetFileNameWithoutExtension(where);

        // MoveNet: an int32 image in, [1,1,17,3] (SinglePose) or [1,N,56] (MultiPose) out.
        if (MoveNet.MoveNetPipeline.Detect(graph) is { } moveNet)
            return (moveNet.MultiPose ? PoseModel.MoveNetMultiPose(input.Name, outputs[0]) : PoseModel.MoveNet(input.Name, outputs[0], moveNet.InputSize)) with { Name = name };

        // BlazePose landmarks: a 256² crop in, 39 × 5 landmark values and 39 heatmaps among the outputs.
        if (input.Type == Graph.Proto.DataType.DtFloat && input.Shape is [_, 256, 256, 3] &&
            outputs.Any(o => shapes.Shape(o) is [_, 195]) && outputs.Any(o => shapes.Shape(o) is [_, _, _, 39]))
            return PoseModel.BlazePose(input.Name, outputs) with { Name = name };
        long[] inShape = input.Shape ?? [-1, -1, -1, 3];

        // OpenPose: 19 heatmaps + 38 PAFs in one output.
        var openPose = outputs.FirstOrDefault(o => o == "Openpose/concat_stage7") ?? outputs.FirstOrDefault(o => Channels(o) == 57);
        if (openPose is not null)
            return PoseModel.OpenPose with { Name = name, InputName = input.Name, OutputNames = [openPose] };

        // PoseNet: four outputs named as tfjs-models' graphs name them, with K, 2K, 2E, 2E channels.
        string? Find(string prefix, long channels) =>
            outputs.FirstOrDefault(o => o.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && Channels(o) == channels);
        var heat = Find("heatmap", 17);
        var off = Find("offset", 34);
        var fwd = Find("displacement_fwd", 32);
        var bwd = Find("displacement_bwd", 32);
        if (heat is not null && off is not null && fwd is not null && bwd is not null)
        {
            // The shared PoseNet graph ends in a Sigmoid; graphs cut at the logits (as tfjs runs them) do not.
            var logits = graph.FindNode(heat)?.Op != "Sigmoid";
            var m = PoseModel.PoseNet(heat, off, fwd, bwd, heatmapLogits: logits) with { Name = name, InputName = input.Name };
            if (inShape[1] > 0 && inShape[2] > 0)
                m = m with { DefaultWidth = (int)inShape[2], DefaultHeight = (int)inShape[1] };
            return m;
        }

        // Single-person heatmaps: one 4-D output whose size divides a fixed input size.
        var maps = outputs.Where(o => shapes.Shape(o) is { Length: 4 }).ToList();
        if (maps.Count == 1 && shapes.Shape(maps[0]) is [_, var h, var w, var k] && inShape[1] > 0 && inShape[2] > 0 && h > 0 && w > 0
            && inShape[1] % h == 0 && inShape[2] % w == 0 && inShape[1] / h == inShape[2] / w)
        {
            KeypointSet? set = k switch
            {
                14 => KeypointSet.AiChallenger14,
                17 => KeypointSet.Coco17,
                18 => KeypointSet.OpenPose18,
                _ => null,
            };
            if (set is null)
            {
                why = $"{where}: looks like a single-person heatmap model ({maps[0]} has {k} maps) but {k} matches no known keypoint set (14 AI Challenger, 17 COCO, 18 OpenPose).";
                return null;
            }
            return PoseModel.Heatmap(maps[0], (int)(inShape[1] / h), set, (int)inShape[2], (int)inShape[1]) with { Name = name, InputName = input.Name };
        }

        why = $"{where}: not a known pose graph: no OpenPose output (57 channels), no PoseNet heatmap/offset/displacement_fwd/displacement_bwd outputs, " +
              $"no MoveNet int32 input with a [1,1,17,3] or [1,N,56] output, no BlazePose landmark outputs, and no single heatmap output on a fixed-size input ({Listing()}).";
        return null;
    }

    private static string Shape(long[]? s) => s is null ? "[?]" : "[" + string.Join(",", s.Select(v => v < 0 ? "?" : v.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    /// <summary>Applies an override file on top of a detected model (or builds one from the file alone).</summary>
    public static PoseModel ApplyOverride(PoseModel? detected, string jsonPath, string? detectionProblem = null)
    {
        JsonDocument doc;
        var bytes = File.ReadAllBytes(jsonPath);
        // JsonDocument accepts invalid UTF-8 inside strings and fails later, in GetString, with a message naming neither
        // the file nor the byte ("Cannot transcode invalid UTF-8 JSON text to UTF-16 string").
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            var valid = System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out var read, out _, replaceInvalidSequences: false);
            throw new InvalidDataException($"{jsonPath}: not valid UTF-8 (byte {read} is 0x{bytes[read]:X2}, {valid}); save the file as UTF-8.");
        }
        try { doc = JsonDocument.Parse(bytes, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new InvalidDataException($"{jsonPath}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{jsonPath}: expected a JSON object.");
            var known = new HashSet<string>(StringComparer.Ordinal)
                { "kind", "name", "input", "outputs", "width", "height", "stride", "sizeRule", "channelOrder", "mean", "scale", "heatmapLogits", "keypoints" };
            foreach (var p in root.EnumerateObject())
                if (!known.Contains(p.Name))
                    throw new InvalidDataException($"{jsonPath}: unknown field '{p.Name}' (known: {string.Join(", ", known)}).");

            PoseModel model;
            if (root.TryGetProperty("kind", out var kindEl))
            {
                var kind = Enum(kindEl, jsonPath, "kind", ("openpose", PoseModelKind.OpenPose), ("heatmap", PoseModelKind.Heatmap), ("posenet", PoseModelKind.PoseNet),
                    ("movenet", PoseModelKind.MoveNet), ("movenet-multipose", PoseModelKind.MoveNetMultiPose), ("blazepose", PoseModelKind.BlazePose));
                model = detected is not null && detected.Kind == kind ? detected : kind switch
                {
                    PoseModelKind.OpenPose => PoseModel.OpenPose,
                    PoseModelKind.PoseNet => PoseModel.PoseNet(),
                    PoseModelKind.MoveNet => PoseModel.MoveNet("input", "Identity", 192),
                    PoseModelKind.MoveNetMultiPose => PoseModel.MoveNetMultiPose("input", "Identity"),
                    PoseModelKind.BlazePose => PoseModel.BlazePose("input_1", ["Identity", "Identity_1", "Identity_2", "Identity_3", "Identity_4"]),
                    _ => PoseModel.Heatmap("heatmaps", 1, KeypointSet.Coco17),
                };
            }
            else
            {
                model = detected ?? throw new InvalidDataException(
                    $"{jsonPath}: gives no \"kind\", and the graph's kind could not be detected: {detectionProblem}");
            }

            if (root.TryGetProperty("name", out var v)) model = model with { Name = Str(v, jsonPath, "name") };
            if (root.TryGetProperty("input", out v)) model = model with { InputName = Str(v, jsonPath, "input") };
            if (root.TryGetProperty("outputs", out v))
            {
                if (v.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{jsonPath}: \"outputs\" must be an array of tensor names.");
                model = model with { OutputNames = v.EnumerateArray().Select(e => Str(e, jsonPath, "outputs")).ToArray() };
            }
            if (root.TryGetProperty("width", out v)) model = model with { DefaultWidth = Int(v, jsonPath, "width") };
            if (root.TryGetProperty("height", out v)) model = model with { DefaultHeight = Int(v, jsonPath, "height") };
            if (root.TryGetProperty("stride", out v)) model = model with { Stride = Int(v, jsonPath, "stride") };
            if (root.TryGetProperty("sizeRule", out v))
                model = model with { SizeRule = Enum(v, jsonPath, "sizeRule", ("multiple", InputSizeRule.MultipleOfStride), ("multiple+1", InputSizeRule.StrideMultiplePlusOne), ("fixed", InputSizeRule.Fixed)) };
            if (root.TryGetProperty("channelOrder", out v))
                model = model with { ChannelOrder = Enum(v, jsonPath, "channelOrder", ("rgb", ChannelOrder.Rgb), ("bgr", ChannelOrder.Bgr)) };
            if (root.TryGetProperty("mean", out v)) model = model with { Mean = Num(v, jsonPath, "mean") };
            if (root.TryGetProperty("scale", out v)) model = model with { Scale = Num(v, jsonPath, "scale") };
            if (root.TryGetProperty("heatmapLogits", out v))
                model = model with { HeatmapLogits = v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw new InvalidDataException($"{jsonPath}: \"heatmapLogits\" must be true or false.") } };
            if (root.TryGetProperty("keypoints", out v)) model = model with { Keypoints = Keypoints(v, jsonPath) };
            if (model.Kind == PoseModelKind.Heatmap) model = model with { OutputChannels = model.Keypoints.Count };
            return model;
        }
    }

    private static KeypointSet Keypoints(JsonElement v, string path)
    {
        if (v.ValueKind == JsonValueKind.String)
            return KeypointSet.FindBuiltIn(v.GetString()!) ?? throw new InvalidDataException(
                $"{path}: unknown keypoint set '{v.GetString()}' (built in: {string.Join(", ", KeypointSet.BuiltIn.Select(s => s.Name))}; or give an object with names and skeleton).");
        if (v.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: \"keypoints\" must be a built-in set name or an object {{\"name\", \"names\", \"skeleton\", \"coco17\"}}.");
        var name = v.TryGetProperty("name", out var n) ? Str(n, path, "keypoints.name") : "custom";
        if (!v.TryGetProperty("names", out var names) || names.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: \"keypoints\" needs \"names\", an array of keypoint names in channel order.");
        var bones = new List<Bone>();
        if (v.TryGetProperty("skeleton", out var sk))
        {
            if (sk.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: \"keypoints.skeleton\" must be an array of [from, to] index pairs.");
            foreach (var b in sk.EnumerateArray())
            {
                if (b.ValueKind != JsonValueKind.Array || b.GetArrayLength() != 2)
                    throw new InvalidDataException($"{path}: every \"keypoints.skeleton\" entry must be a [from, to] pair of keypoint indices.");
                bones.Add(new Bone(Int(b[0], path, "keypoints.skeleton"), Int(b[1], path, "keypoints.skeleton")));
            }
        }
        int[]? coco = null;
        if (v.TryGetProperty("coco17", out var c))
        {
            if (c.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: \"keypoints.coco17\" must be 17 keypoint indices (−1 where missing).");
            coco = c.EnumerateArray().Select(e => Int(e, path, "keypoints.coco17")).ToArray();
        }
        try
        {
            return new KeypointSet(name, names.EnumerateArray().Select(e => Str(e, path, "keypoints.names")).ToArray(), bones, coco);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static string Str(JsonElement v, string path, string field) =>
        v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : throw new InvalidDataException($"{path}: \"{field}\" must be a non-empty string.");

    private static int Int(JsonElement v, string path, string field) =>
        v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw new InvalidDataException($"{path}: \"{field}\" must be an integer.");

    private static float Num(JsonElement v, string path, string field) =>
        v.ValueKind == JsonValueKind.Number ? v.GetSingle() : throw new InvalidDataException($"{path}: \"{field}\" must be a number.");

    private static T Enum<T>(JsonElement v, string path, string field, params (string Name, T Value)[] values)
    {
        var s = v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        foreach (var (n, val) in values)
            if (string.Equals(n, s, StringComparison.OrdinalIgnoreCase)) return val;
        throw new InvalidDataException($"{path}: \"{field}\" must be one of {string.Join(", ", values.Select(x => x.Name))}, got {v.GetRawText()}.");
    }
}
