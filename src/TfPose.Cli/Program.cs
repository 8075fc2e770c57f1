using System.CommandLine;
using Spectre.Console;
using TfPose.Cli;
using TfPose.Cli.Commands;

var root = new RootCommand("TfPose: run frozen TensorFlow graphs, estimate poses, train Keras-style models.");

// One line per command group; each group lives in its own file under Commands/.
root.Add(GraphCommands.Create());
root.Add(GanCommands.Create());
root.Add(SegmentCommands.Create());
root.Add(PoseCommands.Create());
root.Add(ModelsCommands.Create());

var data = new Command("data", "Inspect and convert datasets (Fashion-MNIST, CamVid, PASCAL-Part, MAT files).");
root.Add(data);
data.Add(FashionMnistCommands.Create());
data.Add(MatCommands.Create());
data.Add(PascalPartCommands.Create());

var bench = new Command("bench", "Benchmarks: median/p90 latency and throughput on this machine.");
root.Add(bench);
bench.Add(GanCommands.Bench());
bench.Add(GraphBenchCommand.Create());
bench.Add(PoseBenchCommand.Create());
bench.Add(SegmentBenchCommand.Create());

// Redirected to a file or pipe, Spectre assumes 80 columns and wraps result lines mid-number; a log keeps them whole.
if (Console.IsOutputRedirected)
    AnsiConsole.Profile.Width = 200;

return await CliRunner.InvokeAsync(root, args);
