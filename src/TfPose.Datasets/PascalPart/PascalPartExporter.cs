using System.Text;
using TfPose.Datasets.CamVid;
using TfPose.Imaging;
using TfPose.IO;

namespace TfPose.Datasets.PascalPart;

/// <summary>What an export wrote: how many images, where the list and scheme files are, and the train/val split.</summary>
public sealed record PascalPartExportResult(int Images, string ListPath, string SchemePath, PartLabelScheme Scheme,
    int TrainImages, int ValImages, string DatasetPath);

/// <summary>
/// Turns a folder of PASCAL-Part annotations plus their JPEGs into segmentation training data:
/// <c>parts/</c>, <c>classes/</c> and <c>instances/</c> uint8 label PNGs, <c>preview/</c> colour
/// pictures, list files pairing image and label paths (CamVid style, one "image label" pair per line,
/// paths relative to the output folder) and <c>scheme.json</c> naming the part labels. The part labels are also
/// split for <c>tfpose segment train</c>: <c>train.txt</c> and <c>val.txt</c> (every <see cref="ValEvery"/>th image in
/// name order is validation) and <c>dataset.json</c> (background plus the scheme's labels as classes; the ignore label
/// <see cref="IgnoreLabel"/> never occurs in the labels and marks only crop padding).
/// </summary>
public sealed class PascalPartExporter
{
    private readonly string _annotationsDir;
    private readonly string _imagesDir;
    private readonly string _outDir;

    /// <summary>Images 5, 10, 15, … in name order go to val.txt, the rest to train.txt: reproducible, and spread over the set.</summary>
    public const int ValEvery = 5;

    /// <summary>A scheme has at most 254 labels, so with background the classes are 0–254 and 255 is free.</summary>
    public const byte IgnoreLabel = 255;

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
        var train = new StringBuilder();
        var val = new StringBuilder();
        int valCount = 0;
        for (int index = 0; index < files.Count; index++)
        {
            var file = files[index];
            var annotation = PascalPartAnnotation.Load(file);
            var imagePath = Path.Combine(_imagesDir, annotation.ImageName + ".jpg");
            using var image = ImageFile.Read(imagePath);
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
            var partsLine = $"{imageRef} parts/{name}.png\n";
            parts.Append(partsLine);
            if (index % ValEvery == ValEvery - 1)
            {
                val.Append(partsLine);
                valCount++;
            }
            else
                train.Append(partsLine);
            classes.Append(imageRef).Append(' ').Append($"classes/{name}.png").Append('\n');
            instances.Append(imageRef).Append(' ').Append($"instances/{name}.png").Append('\n');
            onImage?.Invoke(name);
        }

        var listPath = Path.Combine(_outDir, "list.txt");
        AtomicFile.WriteAllText(listPath, parts.ToString());
        AtomicFile.WriteAllText(Path.Combine(_outDir, "classes.txt"), classes.ToString());
        AtomicFile.WriteAllText(Path.Combine(_outDir, "instances.txt"), instances.ToString());
        var schemePath = Path.Combine(_outDir, "scheme.json");
        AtomicFile.WriteAllText(schemePath, scheme.ToJson() + "\n");
        // An empty list is an error for the loader, so a set too small for a val image writes none rather than a bad one.
        AtomicFile.WriteAllText(Path.Combine(_outDir, "train.txt"), train.ToString());
        var valPath = Path.Combine(_outDir, "val.txt");
        if (valCount > 0)
            AtomicFile.WriteAllText(valPath, val.ToString());
        else if (File.Exists(valPath))
            File.Delete(valPath);
        var datasetPath = Path.Combine(_outDir, DatasetDescription.FileName);
        AtomicFile.WriteAllText(datasetPath, Description(scheme).ToJson() + "\n");
        return new PascalPartExportResult(files.Count, listPath, schemePath, scheme, files.Count - valCount, valCount, datasetPath);
    }

    /// <summary>The part labels as a segmentation data set: class 0 is background, class i the scheme's label i.</summary>
    public static DatasetDescription Description(PartLabelScheme scheme) =>
        new($"pascal-part {scheme.Name}", ["background", .. scheme.Labels.Select(l => l.Name)], IgnoreLabel);

    private static void WriteLabels(string path, PascalPartLabelMaps maps, byte[] labels)
    {
        using var mat = ImageIo.FromBytes(maps.Height, maps.Width, 1, labels);
        ImageIo.WritePng(path, mat);
    }

    /// <summary>List paths use '/' and are relative to the output folder, so the folder can move with its images.</summary>
    private string Relative(string path) => Path.GetRelativePath(_outDir, path).Replace('\\', '/');
}
