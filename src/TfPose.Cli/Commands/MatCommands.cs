using System.CommandLine;
using TfPose.Datasets.Mat;

namespace TfPose.Cli.Commands;

internal static class MatCommands
{
    public static Command Create()
    {
        var mat = new Command("mat", "Read MATLAB MAT-files (level 5: v6 and v7, compressed or not).");
        mat.Add(Dump());
        return mat;
    }

    private static Command Dump()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The .mat file to print." };
        var max = new Option<int>("--max-elements")
        {
            Description = "Struct and cell elements listed per array before the rest are summarised.",
            DefaultValueFactory = _ => 50,
        };
        var dump = new Command("dump", "Print every variable as a tree: names, dimensions, classes, short values.");
        dump.Add(file);
        dump.Add(max);
        dump.SetAction(parseResult =>
        {
            var mat = MatFile.Read(parseResult.GetValue(file)!.FullName);
            new MatTreeWriter(Console.Out, parseResult.GetValue(max)).Write(mat);
            return 0;
        });
        return dump;
    }
}
