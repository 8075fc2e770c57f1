using System.CommandLine;

namespace TfPose.Cli.Commands;

internal static class GraphCommands
{
    public static Command Create()
    {
        var graph = new Command("graph", "Inspect, convert, fold and run frozen TensorFlow graphs (GraphDef .pb).");
        return graph;
    }
}
