using System.CommandLine;
using TfPose.Cli.Commands;

namespace TfPose.Cli;

/// <summary>The tfpose command tree (a method, so tests parse and run exactly what users do).</summary>
internal static class CliCommands
{
    public static RootCommand Create()
    {
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
        return root;
    }
}
