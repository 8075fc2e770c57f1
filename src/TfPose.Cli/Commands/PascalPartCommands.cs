using System.CommandLine;
using Spectre.Console;
using TfPose.Datasets;
using TfPose.Datasets.PascalPart;
using TfPose.Imaging;

namespace TfPose.Cli.Commands;

internal static class PascalPartCommands
{
    public static Command Create()
    {
        var group = new Command("pascal-part", "PASCAL-Part annotations: show, preview and export part segmentation labels.");
        group.Add(Show());
        group.Add(Export());
        return group;
    }

    private static Option<string> SchemeOption(string defaultValue) => new("--scheme")
    {
        Description = "Part labels: raw (every class/part pair), person6, person4, or a JSON mapping file.",
        DefaultValueFactory = _ => defaultValue,
    };

    private static Command Show()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "A PASCAL-Part annotation (.mat)." };
        var json = new Option<bool>("--json") { Description = "Print the structure as JSON instead of a table." };
        var preview = new Option<FileInfo?>("--preview") { Description = "Write a tiled preview PNG (image, classes, instances, parts)." };
        var images = new Option<DirectoryInfo?>("--images") { Description = "Folder with the JPEGs (default: ../JPEGImages beside the annotation folder)." };
        var scheme = SchemeOption("raw");
        var show = new Command("show", "Print objects, parts and mask sizes of one annotation; optionally a preview PNG.");
        show.Add(file);
        show.Add(json);
        show.Add(preview);
        show.Add(images);
        show.Add(scheme);
        show.SetAction(parseResult =>
        {
            var path = parseResult.GetValue(file)!.FullName;
            var annotation = PascalPartAnnotation.Load(path);
            if (parseResult.GetValue(json))
                Console.Out.WriteLine(PascalPartSummary.Of(annotation).ToJson());
            else
                PrintTable(annotation);

            if (parseResult.GetValue(preview) is { } previewFile)
            {
                var imagesDir = parseResult.GetValue(images)?.FullName
                    ?? Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(path))!, "JPEGImages");
                var imagePath = Path.Combine(imagesDir, annotation.ImageName + ".jpg");
                var partScheme = PartLabelScheme.Resolve(parseResult.GetValue(scheme)!, () => [annotation]);
                var maps = PascalPartLabelMaps.Render(annotation, partScheme);
                using var image = File.Exists(imagePath) ? ImageFile.Read(imagePath) : null;
                using var picture = PascalPartPreview.Render(annotation, maps, partScheme, image);
                ImageIo.WritePng(previewFile.FullName, picture);
                // Keep stdout pure JSON when --json is given; the note goes to stderr.
                var note = image is null ? $" (image {imagePath} not found: grey tile)" : "";
                Console.Error.WriteLine($"preview written to {previewFile.FullName}{note}");
            }
            return 0;
        });
        return show;
    }

    private static void PrintTable(PascalPartAnnotation annotation)
    {
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(annotation.ImageName)}[/]  {annotation.Height}x{annotation.Width}, {annotation.Objects.Count} objects");
        var table = new Table().AddColumns("#", "class", "class_ind", "mask", "pixels", "parts");
        for (var i = 0; i < annotation.Objects.Count; i++)
        {
            var o = annotation.Objects[i];
            var parts = o.Parts.Count == 0
                ? "(none)"
                : string.Join(", ", o.Parts.Select(p => $"{p.Name} {p.Mask.PixelCount}"));
            table.AddRow(
                (i + 1).ToString(), Markup.Escape(o.ClassName), o.ClassIndex.ToString(),
                $"{o.Mask.Height}x{o.Mask.Width}", o.Mask.PixelCount.ToString(), Markup.Escape(parts));
        }
        AnsiConsole.Write(table);
    }

    private static Command Export()
    {
        var annotations = new Option<DirectoryInfo>("--annotations") { Description = "Folder of PASCAL-Part .mat files.", Required = true };
        var images = new Option<DirectoryInfo>("--images") { Description = "Folder of the matching JPEGs.", Required = true };
        var output = new Option<DirectoryInfo>("--out") { Description = "Output folder.", Required = true };
        var scheme = SchemeOption("person6");
        var export = new Command("export",
            "Write label PNGs (parts, classes, instances), previews and CamVid-style list files; train.txt and val.txt "
            + $"(every {PascalPartExporter.ValEvery}th image in name order to val) with dataset.json (background + the scheme's labels, "
            + $"ignore label {PascalPartExporter.IgnoreLabel}) are ready for: tfpose segment train --data OUT.");
        export.Add(annotations);
        export.Add(images);
        export.Add(output);
        export.Add(scheme);
        export.SetAction(parseResult =>
        {
            var exporter = new PascalPartExporter(
                parseResult.GetValue(annotations)!.FullName, parseResult.GetValue(images)!.FullName, parseResult.GetValue(output)!.FullName);
            var total = exporter.AnnotationFiles().Count;
            PascalPartExportResult? result = null;
            AnsiConsole.Progress().Start(ctx =>
            {
                var task = ctx.AddTask("exporting", maxValue: Math.Max(total, 1));
                result = exporter.Export(parseResult.GetValue(scheme)!, _ => task.Increment(1));
            });
            AnsiConsole.MarkupLine($"{result!.Images} images, scheme [bold]{Markup.Escape(result.Scheme.Name)}[/] ({result.Scheme.Labels.Count} part labels)");
            AnsiConsole.MarkupLine($"list: {Markup.Escape(result.ListPath)}");
            AnsiConsole.MarkupLine($"labels: {Markup.Escape(result.SchemePath)}");
            AnsiConsole.MarkupLine($"segment train --data {Markup.Escape(parseResult.GetValue(output)!.FullName)}: {result.TrainImages} train, {result.ValImages} val images, "
                + $"{result.Scheme.Labels.Count + 1} classes ({Markup.Escape(result.DatasetPath)})");
            if (result.ValImages == 0)
                AnsiConsole.MarkupLine($"[yellow]fewer than {PascalPartExporter.ValEvery} images: no val.txt, so segment train cannot validate on this export[/]");
            return 0;
        });
        return export;
    }
}
