using System.CommandLine;

namespace TfPose.Cli.Commands;

internal static class PascalPartCommands
{
    public static Command Create() => new("pascal-part", "PASCAL-Part annotations: show, preview and export part segmentation labels.");
}
