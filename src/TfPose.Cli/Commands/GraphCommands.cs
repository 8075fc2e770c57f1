using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using TfPose.Graph.Translation;
using TfPose.Imaging;
using TfPose.Graph;
using TfPose.IO;
using TfPose.Runtime;

namespace TfPose.Cli.Commands;

internal static class GraphCommands
{
    public static Command Create()
    {
        var graph = new Command("graph", "Inspect, convert, fold and run frozen TensorFlow graphs (GraphDef .pb), TensorFlow.js graph models (model.json) and TensorFlow Lite models (.tflite).");
        graph.Add(Inspect());
        graph.Add(Convert());
        graph.Add(Fold());
        graph.Add(Run());
        graph.Add(Ops());
        return graph;
    }

    private static Command Ops()
    {
        var cmd = new Command("ops", "List the TensorFlow ops TfPose translates.");
        cmd.SetAction(_ =>
        {
            Console.WriteLine($"{GraphTranslator.SupportedOps.Count} ops:");
            Console.WriteLine(string.Join(" ", GraphTranslator.SupportedOps));
            return 0;
        });
        return cmd;
    }

    internal static Option<string[]> InputShapeOption(string name = "--input-shape") => new(name)
    {
        Description = "Input shape as NAME=1x368x432x3 (repeatable; -1 or ? for any size).",
        AllowMultipleArgumentsPerToken = true,
    };

    /// <summary>Parses NAME=AxBxC (or a bare shape when the graph has one input).</summary>
    internal static Dictionary<string, long[]> ParseShapes(string[]? specs, TfGraph graph)
    {
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var spec in specs ?? [])
        {
            var eq = spec.IndexOf('=');
            string name;
            string dims;
            if (eq < 0)
            {
                if (graph.Inputs.Count != 1)
                    throw new ArgumentException($"'{spec}': the graph has {graph.Inputs.Count} inputs; write NAME=SHAPE.");
                name = graph.Inputs[0].Name;
                dims = spec;
            }
            else
            {
                name = spec[..eq];
                dims = spec[(eq + 1)..];
            }
            if (graph.FindNode(name) is null)
                throw new ArgumentException($"'{spec}': the graph has no input '{name}'. Inputs: {string.Join(", ", graph.Inputs.Select(i => i.Name))}.");
            result[TensorName.Parse(name).Node] = dims.Split('x', ',', 'X')
                .Select(d => d is "?" or "-1" ? -1L : long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
                    : throw new ArgumentException($"'{spec}': '{d}' is not a dimension.")).ToArray();
        }
        return result;
    }

    private static Command Inspect()
    {
        var model = new Argument<string>("model") { Description = "Frozen GraphDef (.pb, binary or text format), TensorFlow.js graph model (model.json) or TensorFlow Lite model (.tflite)." };
        var shapes = InputShapeOption();
        var cmd = new Command("inspect", "Inputs, outputs, op histogram, unsupported ops, frozen or not, parameters and FLOPs.") { model, shapes };
        cmd.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var g = TfGraph.Load(path);
            var report = GraphInspection.Inspect(g, ParseShapes(parse.GetValue(shapes), g));
            var tflite = g.Tflite;
            var quantized = tflite is not null && tflite.Inputs.Concat(tflite.Outputs).Any(t => t.Quantization is { Scale.Length: > 0 });
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(path)}[/]: {g.Nodes.Count} nodes, " + (tflite is null
                ? $"producer {g.Proto.Versions?.Producer}"
                : Markup.Escape($"TensorFlow Lite schema v{tflite.Version}, {tflite.SubgraphCount} subgraph(s)" +
                    (tflite.MinRuntimeVersion is { Length: > 0 } v ? $", min runtime {v}" : ""))));
            var io = new Table().AddColumns("kind", "name", "dtype", "shape");
            if (quantized)
                io.AddColumn("quantization");
            void Row(string kind, int index, string name, Graph.Proto.DataType type, long[]? shape)
            {
                string[] cells = [kind, Markup.Escape(name), DataTypes.Name(type), Markup.Escape(shape is null ? "?" : TensorValue.ShapeText(shape))];
                if (!quantized)
                    io.AddRow(cells);
                else
                    io.AddRow([.. cells, Markup.Escape(QuantizationOf(tflite!, kind, index) ?? "")]);
            }
            for (var i = 0; i < report.Inputs.Count; i++)
                Row("input", i, report.Inputs[i].Name, report.Inputs[i].Type, report.Inputs[i].Shape);
            for (var i = 0; i < report.Outputs.Count; i++)
                Row("output", i, report.Outputs[i].Name, report.Outputs[i].Type, report.Outputs[i].Shape);
            AnsiConsole.Write(io);
            var stats = report.Stats;
            var at = report.InputShapes.Count == 0 ? "" : " at " + string.Join(", ", report.InputShapes.Select(p => $"{p.Key}={string.Join("x", p.Value)}"));
            if (report.IsFrozen)
                AnsiConsole.MarkupLine($"Frozen: [green]yes[/]   Parameters: {stats.Parameters:N0}   FLOPs{Markup.Escape(at)}: " +
                    (stats.FlopsComplete ? $"{stats.Flops / 1e9:F3} G" : $"{stats.Flops / 1e9:F3} G so far (some shapes unknown: pass --input-shape)"));
            else
                AnsiConsole.MarkupLine($"[red]Not frozen[/]: {report.Variables.Count} variable nodes, e.g. {Markup.Escape(string.Join(", ", report.Variables.Take(5).Select(v => v.Name)))}. " +
                    "Freeze it with TensorFlow's convert_variables_to_constants (or freeze_graph) before running it.");
            if (tflite is not null)
                AnsiConsole.MarkupLine("TFLite operators: " + Markup.Escape(string.Join("  ", tflite.OperatorHistogram.Select(p => $"{p.Key}×{p.Value}"))));
            PrintHistogram(stats.OpHistogram);
            if (report.Unsupported.Count == 0)
            {
                AnsiConsole.MarkupLine("Unsupported ops: [green]none[/]");
            }
            else
            {
                AnsiConsole.MarkupLine($"Unsupported ops: [red]{report.Unsupported.Count} node(s), {report.Unsupported.Select(u => u.Op).Distinct().Count()} op(s)[/]");
                foreach (var group in report.Unsupported.GroupBy(u => u.Op).OrderByDescending(x => x.Count()))
                    AnsiConsole.MarkupLine($"  [red]{Markup.Escape(group.Key)}[/] ×{group.Count()}: {Markup.Escape(string.Join(", ", group.Take(5).Select(u => u.Reason is null ? u.Node : $"{u.Node} ({u.Reason})")))}{(group.Count() > 5 ? ", …" : "")}");
            }
            foreach (var (node, problem) in report.Problems)
                AnsiConsole.MarkupLine($"[yellow]Shape problem[/] at {Markup.Escape(node)}: {Markup.Escape(problem)}");
            // Reading the file is what inspect promises; what keeps the graph from running is reported above, not as a failure.
            return 0;
        });
        return cmd;
    }

    /// <summary>The TFLite quantization of the graph's i-th input or output, when the file gives one (inputs and outputs keep the file's order).</summary>
    private static string? QuantizationOf(Graph.Formats.TfliteModelInfo tflite, string kind, int index)
    {
        var tensors = kind == "input" ? tflite.Inputs : tflite.Outputs;
        return index < tensors.Count ? Graph.Formats.TfliteModelInfo.QuantizationText(tensors[index]) : null;
    }

    private static void PrintHistogram(IReadOnlyList<KeyValuePair<string, int>> histogram) =>
        AnsiConsole.MarkupLine("Ops: " + Markup.Escape(string.Join("  ", histogram.Select(p => $"{p.Key}×{p.Value}"))));

    private static Command Convert()
    {
        var model = new Argument<string>("model") { Description = "Frozen GraphDef (.pb), TensorFlow.js graph model (model.json) or TensorFlow Lite model (.tflite)." };
        var output = new Argument<string>("output") { Description = "File to write: .onnx, or .pb for a frozen GraphDef." };
        var shapes = InputShapeOption();
        var outputs = new Option<string[]>("--output-name") { Description = "Tensors to output (default: the graph's sinks).", AllowMultipleArgumentsPerToken = true };
        var unfuse = new Option<bool>("--unfuse") { Description = "For a .pb target: write fused ops (_FusedConv2D, ...) as the plain ops they fuse." };
        var cmd = new Command("convert", "Translate a graph to an ONNX model (.onnx; TensorFlow layout at inputs and outputs), or write it as a frozen GraphDef (.pb), e.g. a TensorFlow.js model.json.") { model, output, shapes, outputs, unfuse };
        cmd.SetAction(parse =>
        {
            var g = TfGraph.Load(parse.GetValue(model)!);
            var target = parse.GetValue(output)!;
            if (target.EndsWith(".pb", StringComparison.OrdinalIgnoreCase))
            {
                g.EnsureFrozen();
                if (parse.GetValue(unfuse))
                    g = g.Unfused();
                g.Save(target);
                Console.WriteLine($"Wrote {target}: frozen GraphDef, {g.Nodes.Count} nodes (inputs {string.Join(", ", g.Inputs.Select(i => i.Name))}; outputs {string.Join(", ", g.Outputs)}).");
                return 0;
            }
            if (!target.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"{target}: write .onnx (the ONNX model TfPose runs) or .pb (a frozen GraphDef).");
            var names = parse.GetValue(outputs);
            var translated = GraphTranslator.Translate(g, new TranslationOptions
            {
                InputShapes = ParseShapes(parse.GetValue(shapes), g),
                Outputs = names is { Length: > 0 } ? names : null,
            });
            AtomicFile.WriteAllBytes(parse.GetValue(output)!, translated.OnnxModel);
            Console.WriteLine($"Wrote {parse.GetValue(output)} (opset {GraphTranslator.OpsetVersion}; inputs {string.Join(", ", translated.Inputs.Select(i => i.Name))}; outputs {string.Join(", ", translated.Outputs)}).");
            return 0;
        });
        return cmd;
    }

    private static Command Fold()
    {
        var model = new Argument<string>("model") { Description = "Frozen GraphDef (.pb), TensorFlow.js graph model (model.json) or TensorFlow Lite model (.tflite)." };
        var output = new Argument<string>("output") { Description = "Folded GraphDef to write." };
        var shapes = InputShapeOption("--input");
        shapes.Required = true;
        var cmd = new Command("fold", "Replace run-time shape computations with constants for a fixed input size (lets OpenCV DNN load the graph).") { model, output, shapes };
        cmd.SetAction(parse =>
        {
            var g = TfGraph.Load(parse.GetValue(model)!);
            var folded = ShapeFolder.Fold(g, ParseShapes(parse.GetValue(shapes), g));
            folded.Save(parse.GetValue(output)!);
            Console.WriteLine($"Wrote {parse.GetValue(output)}: {folded.Nodes.Count} nodes (was {g.Nodes.Count}).");
            return 0;
        });
        return cmd;
    }

    private static Command Run()
    {
        var model = new Argument<string>("model") { Description = "Frozen GraphDef (.pb), TensorFlow.js graph model (model.json) or TensorFlow Lite model (.tflite)." };
        var inputs = new Option<string[]>("--input") { Description = "NAME=FILE.npy or NAME=IMAGE (repeatable).", AllowMultipleArgumentsPerToken = true, Required = true };
        var outputs = new Option<string[]>("--output") { Description = "Tensors to fetch (default: the graph's outputs).", AllowMultipleArgumentsPerToken = true };
        var outFile = new Option<string?>("--out") { Description = "Write the (first) fetched tensor to this .npy; with several fetches, NAME is appended." };
        var size = new Option<string?>("--size") { Description = "Resize image inputs to WxH (default: the image's size)." };
        var rgb = new Option<bool>("--rgb") { Description = "Feed images as RGB (default BGR, as OpenCV reads them)." };
        var scale = new Option<float>("--scale") { Description = "Multiply image pixels by this.", DefaultValueFactory = _ => 1f };
        var offset = new Option<float>("--offset") { Description = "Then add this.", DefaultValueFactory = _ => 0f };
        var threads = new Option<int>("--threads") { Description = "Intra-op threads (0 = ONNX Runtime default)." };
        var device = new Option<ExecutionDevice>("--device") { Description = "cpu, cuda or tensorrt.", DefaultValueFactory = _ => ExecutionDevice.Cpu };
        var cmd = new Command("run", "Run a frozen graph on .npy or image inputs and print or save the outputs.") { model, inputs, outputs, outFile, size, rgb, scale, offset, threads, device };
        cmd.SetAction(parse =>
        {
            using var session = new GraphSession(parse.GetValue(model)!, new GraphSessionOptions { IntraOpThreads = parse.GetValue(threads), Device = parse.GetValue(device) });
            var feeds = new Dictionary<string, GraphTensor>(StringComparer.Ordinal);
            var owned = new List<IDisposable>();
            try
            {
                foreach (var spec in parse.GetValue(inputs)!)
                {
                    var eq = spec.IndexOf('=');
                    var (name, file) = eq < 0 && session.Inputs.Count == 1 ? (session.Inputs[0].Name, spec) : (spec[..Math.Max(eq, 0)], spec[(eq + 1)..]);
                    if (string.IsNullOrEmpty(name))
                        throw new ArgumentException($"'{spec}': write NAME=FILE.");
                    if (file.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
                    {
                        var tensor = NpyFile.Read(file);
                        owned.Add(tensor);
                        feeds[name] = tensor;
                        continue;
                    }
                    using var image = ImageFile.Read(file);
                    var (w, h) = ParseSize(parse.GetValue(size)) ?? (image.Width, image.Height);
                    var prepared = ImageTensors.Prepare(image, new ImagePreprocessing(w, h, parse.GetValue(rgb), parse.GetValue(scale), parse.GetValue(offset)));
                    owned.Add(prepared);
                    var t = GraphTensor.FromMat(prepared);
                    owned.Add(t);
                    feeds[name] = t;
                }
                var fetch = parse.GetValue(outputs);
                var sw = System.Diagnostics.Stopwatch.StartNew();
                using var results = session.Run(feeds, fetch is { Length: > 0 } ? fetch : null);
                sw.Stop();
                for (var i = 0; i < results.Count; i++)
                {
                    var r = results[i];
                    var summary = r.ElementType == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float ? Summarize(r.AsSpan<float>()) : "";
                    Console.WriteLine($"{results.Names[i]}: {r.ElementType.ToString().ToLowerInvariant()} [{string.Join(",", r.Shape)}] {summary}");
                    var target = parse.GetValue(outFile);
                    if (target is not null)
                    {
                        var path = results.Count == 1 ? target : Path.ChangeExtension(target, null) + "." + results.Names[i].Replace('/', '_').Replace(':', '_') + ".npy";
                        NpyFile.Write(path, r);
                        Console.WriteLine($"  wrote {path}");
                    }
                }
                Console.WriteLine($"Run took {sw.Elapsed.TotalMilliseconds:F1} ms (first run includes ONNX Runtime's graph optimisation).");
            }
            finally
            {
                foreach (var d in owned)
                    d.Dispose();
            }
            return 0;
        });
        return cmd;
    }

    internal static (int W, int H)? ParseSize(string? text)
    {
        if (text is null)
            return null;
        var parts = text.Split('x', 'X');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var w) || !int.TryParse(parts[1], out var h) || w <= 0 || h <= 0)
            throw new ArgumentException($"--size '{text}': expected WIDTHxHEIGHT, e.g. 432x368.");
        return (w, h);
    }

    private static string Summarize(ReadOnlySpan<float> values)
    {
        if (values.Length == 0)
            return "(empty)";
        double sum = 0;
        var min = float.MaxValue;
        var max = float.MinValue;
        foreach (var v in values)
        {
            sum += v;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        return FormattableString.Invariant($"min {min:G5} max {max:G5} mean {sum / values.Length:G5}");
    }
}
