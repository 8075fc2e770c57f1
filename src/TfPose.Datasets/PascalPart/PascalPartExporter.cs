using System.Text;

namespace TfPose.Datasets.PascalPart;

/// <summary>What an export wrote: how many images and where the list and scheme files are.</summary>
public sealed record PascalPartExportResult(int Images, string ListPath, string SchemePath, PartLabelScheme Scheme);

/// <summary>
/// Turns a folder of PASCAL-Part annotations plus their JPEGs into segmentation training data:
/// <c>parts/</c>, <c>classes/</c> and <c>instances/</c> uint8 label PNGs, <c>preview/</c> colour
/// pictures, list files pairing image and label paths (CamVid style, one "image label" pair per line,
/// paths relative to the output folder) and <c>scheme.json</c> naming the part labels.
/// </summary>
public sealed class PascalPartExporter
{
    private readonly string _annotationsDir;
    private readonly string _imagesDir;
    private readonly string _outDir;

    public PascalPartExporter(string annotationsDir, string imagesDir, string outDir)
    {
        if (!Directory.Exists(annotationsDir))
            throw new DirectoryNotFoundException($"annotations folder not found: {annotationsDir}");
        if (!Directory.Exists(imagesDir))
            throw new DirectoryNotFoundException($"images folder not found: {imagesDir}");
        _annotationsDir = Path.GetFullPath(annotationsDir);
        _imagesDir = Path.GetFullPath(imagesDir);
        _outDir = Path.GetFullPath(outDir);
    }

    /// <summary>Annotation files in a stable (ordinal) order, so exports are reproducible.</summary>
    public IReadOnlyList<string> AnnotationFiles() => Directory.GetFiles(_annotationsDir, "*.mat")
        .Order(StringComparer.Ordinal)
        .ToList();

    /// <param name="schemeNameOrPath">raw, person6, person4 or a JSON mapping file.</param>
    /// <param name="onImage">Called after each image is written, with its name.</param>
    public PascalPartExportResult Export(string schemeNameOrPath, Action<string>? onImage = null)
    {
        var files = AnnotationFiles();
        if (files.Count == 0)
            throw new FileNotFoundException($"no .mat files in {_annotationsDir}");
        var scheme = PartLabelScheme.Resolve(schemeNameOrPath, () => files.Select(PascalPartAnnotation.Load));
        return Export(scheme, onImage);
    }

    public PascalPartExportResult Export(PartLabelScheme scheme, Action<string>? onImage = null)
    {
        var files = AnnotationFiles();
        var parts = new StringBuilder();
        var classes = new StringBuilder();
        var instances = new StringBuilder();
        foreach (var file in files)
        {
            var annotation = PascalPartAnnotation.Load(file);
            var imagePath = Path.Combine(_imagesDir, annotation.ImageName + ".jpg");
            using var image = ImageIo.ReadColor(imagePath);
            if (image.Rows != annotation.Height || image.Cols != annotation.Width)
                throw new InvalidDataException($"{file}: masks are {annotation.Height}x{annotation.Width} but {imagePath} is {image.Rows}x{image.Cols}");

            var maps = PascalPartLabelMaps.Render(annotation, scheme);
            var name = annotation.ImageName;
            WriteLabels(Path.Combine(_outDir, "parts", name + ".png"), maps, maps.Parts);
            WriteLabels(Path.Combine(_outDir, "classes", name + ".png"), maps, maps.Classes);
            WriteLabels(Path.Combine(_outDir, "instances", name + ".png"), maps, maps.Instances);
            using (var preview = PascalPartPreview.Render(annotation, maps, scheme, image))
                ImageIo.WritePng(Path.Combine(_outDir, "preview", name + ".png"), preview);

            var imageRef = Relative(imagePath);
            parts.Append(imageRef).Append(' ').Append($"parts/{name}.png").Append('\n');
            classes.Append(imageRef).Append(' ').Append($"classes/{name}.png").Append('\n');
            instances.Append(imageRef).Append(' ').Append($"instances/{name}.png").Append('\n');
            onImage?.Invoke(name);
        }

        var listPath = Path.Combine(_outDir, "list.txt");
        AtomicFile.WriteText(listPath, parts.ToString());
        AtomicFile.WriteText(Path.Combine(_outDir, "classes.txt"), classes.ToString());
        AtomicFile.WriteText(Path.Combine(_outDir, "instances.txt"), instances.ToString());
        var schemePath = Path.Combine(_outDir, "scheme.json");
        AtomicFile.WriteText(schemePath, scheme.ToJson() + "\n");
        return new PascalPartExportResult(files.Count, listPath, schemePath, scheme);
    }

    private static void WriteLabels(string path, PascalPartLabelMaps maps, byte[] labels)
    {
        using var mat = ImageIo.FromBytes(maps.Height, maps.Width, 1, labels);
        ImageIo.WritePng(path, mat);
    }

    /// <summary>List paths use '/' and are relative to the output folder, so the folder can move with its images.</summary>
    private string Relative(string path) => Path.GetRelativePath(_outDir, path).Replace('\\', '/');
}
