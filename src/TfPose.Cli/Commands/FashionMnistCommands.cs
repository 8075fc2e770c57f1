using System.CommandLine;
using Spectre.Console;
using TfPose.Datasets.FashionMnist;

namespace TfPose.Cli.Commands;

/// <summary><c>tfpose data fashion-mnist</c>: validate the IDX files, print a summary, write a preview grid.</summary>
internal static class FashionMnistCommands
{
    public static Command Create()
    {
        var dataOpt = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX files (gzip or raw).", DefaultValueFactory = _ => "../shared/data/fashion-mnist" };
        var outOpt = new Option<string>("--out") { Description = "Preview PNG: 10 examples of each class, one class per row.", DefaultValueFactory = _ => "fashion-mnist-preview.png" };
        var splitOpt = new Option<string>("--split") { Description = "Split for the preview: train or test.", DefaultValueFactory = _ => "train" };
        var cmd = new Command("fashion-mnist", "Validate and summarise Fashion-MNIST and write a preview grid PNG.") { dataOpt, outOpt, splitOpt };
        cmd.SetAction((parseResult, ct) =>
        {
            var dir = parseResult.GetValue(dataOpt)!;
            var table = new Table().AddColumns("split", "images", "mean pixel", "per class");
            FashionMnistData? previewSplit = null;
            foreach (var split in new[] { "train", "test" })
            {
                var d = FashionMnistData.Load(dir, split);
                table.AddRow(split, d.Count.ToString("N0"), d.MeanPixel().ToString("0.00"), string.Join(" ", d.ClassCounts()));
                if (split == parseResult.GetValue(splitOpt))
                    previewSplit = d;
            }
            AnsiConsole.Write(table);
            AnsiConsole.WriteLine("classes: " + string.Join(", ", FashionMnistData.ClassNames.Select((n, i) => $"{i}={n}")));
            var preview = previewSplit ?? throw new ArgumentException($"Unknown split '{parseResult.GetValue(splitOpt)}': use train or test.");
            var idx = preview.FirstOfEachClass(10);
            var bytes = idx.SelectMany(i => preview.Image(i).ToArray()).ToArray();
            var outPath = parseResult.GetValue(outOpt)!;
            ImageGrid.SavePng(outPath, bytes, idx.Length, FashionMnistData.Rows, 10);
            AnsiConsole.WriteLine($"preview: {Path.GetFullPath(outPath)} (rows = classes 0..9)");
            return Task.FromResult(0);
        });
        return cmd;
    }
}
