using System.CommandLine;
using TfPose.Benchmarks.Graph;
using TfPose.Graph;

namespace TfPose.Cli.Commands;

/// <summary><c>tfpose bench graph</c>: median/p90 latency of a graph on TfPose, with OpenCV DNN on the folded graph beside it.</summary>
internal static class GraphBenchCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "Frozen GraphDef (.pb), TensorFlow.js graph model (model.json) or TensorFlow Lite model (.tflite)." };
        var shape = GraphCommands.InputShapeOption();
        var runs = new Option<int>("--runs") { Description = "Timed runs per engine after warm-up, spread over the rounds.", DefaultValueFactory = _ => 50 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed runs first.", DefaultValueFactory = _ => 5 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds alternating the engines (this machine's speed drifts; alternating keeps the comparison fair).", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Threads for both engines (0 = all cores)." };
        var noOpenCv = new Option<bool>("--no-opencv") { Description = "Skip the OpenCV DNN comparison." };
        var against = new Option<string?>("--against") { Description = "A second form of the same graph (e.g. the plain GraphDef `graph convert --unfuse` writes) to time on TfPose in the same rounds." };
        var profile = new Option<string?>("--profile") { Description = "Write ONNX Runtime's per-node timings of the TfPose runs (Chrome trace JSON) with this file prefix, and print the slowest op types." };
        var cmd = new Command("graph", "Latency of a graph on TfPose (ONNX Runtime) and OpenCV DNN, same input, same process.") { model, shape, runs, warmup, rounds, threads, noOpenCv, against, profile };
        cmd.SetAction((parse, ct) =>
        {
            var path = parse.GetValue(model)!;
            var graph = TfGraph.Load(path);
            var (name, dims, inputType) = GraphLatencyBench.ResolveInput(graph, GraphCommands.ParseShapes(parse.GetValue(shape), graph));
            var stats = GraphStats.Compute(graph, ShapeInference.Infer(graph, new Dictionary<string, long[]> { [name] = dims }));
            Console.WriteLine(FormattableString.Invariant($"{path}: input {name} {DataTypes.Name(inputType)}{TensorValue.ShapeText(dims)}, {stats.Flops / 1e9:F3} GFLOPs{(stats.FlopsComplete ? "" : " (counted ops only)")}"));
            var result = GraphLatencyBench.Run(graph, name, dims, inputType, new GraphBenchOptions
            {
                Runs = parse.GetValue(runs), Warmup = parse.GetValue(warmup), Rounds = parse.GetValue(rounds), Threads = parse.GetValue(threads),
                OpenCv = !parse.GetValue(noOpenCv), Against = parse.GetValue(against), ProfilePrefix = parse.GetValue(profile),
            }, ct);
            foreach (var note in result.Notes)
                Console.WriteLine(note);
            foreach (var e in result.Engines)
                Console.WriteLine(FormattableString.Invariant($"{e.Engine,-24} median {e.Latency.Median,7:F2} ms   p90 {e.Latency.P90,7:F2} ms   {e.ItemsPerSecond,7:F1} items/s"));
            foreach (var (trace, ops) in result.Profiles)
            {
                Console.WriteLine($"profile {trace}:");
                foreach (var op in ops.Take(12))
                    Console.WriteLine(FormattableString.Invariant($"  {op.OpType,-24} {100 * op.Share,5:F1}%  {op.KernelRuns,6} kernel runs"));
            }
            if (result.Engines.Count > 1)
                Console.WriteLine(FormattableString.Invariant($"{(result.AgainstGiven ? "Ratio" : "Speed-up")}: {result.Engines[1].Latency.Median / result.Engines[0].Latency.Median:F2}x (median of the second over the first; {result.Rounds} alternating rounds of {result.Runs} runs per engine)"));
            return Task.FromResult(0);
        });
        return cmd;
    }
}
