using OpenCvSharp;
using TfPose.Datasets.PascalPart;
using TfPose.Tests;

namespace TfPose.Datasets.Tests.PascalPart;

public sealed class PascalPartExportTests : IDisposable
{
    private readonly string _out = Path.Combine(Path.GetTempPath(), $"pascal-part-export-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_out))
            Directory.Delete(_out, recursive: true);
    }

    // Independent of the library's scheme tables: the person6 grouping written out again here.
    private static int Person6(string className, string part) => className != "person" ? 0 : part switch
    {
        "head" or "leye" or "reye" or "lear" or "rear" or "lebrow" or "rebrow" or "nose" or "mouth" or "hair" or "neck" => 1,
        "torso" => 2,
        "luarm" or "ruarm" => 3,
        "llarm" or "rlarm" or "lhand" or "rhand" => 4,
        "luleg" or "ruleg" => 5,
        "llleg" or "rlleg" or "lfoot" or "rfoot" => 6,
        _ => 0,
    };

    [Fact]
    public void Exported_label_pngs_round_trip_to_the_annotation_masks()
    {
        var result = new PascalPartExporter(
            SharedData.Path("data", "pascal-part", "Annotations_Part"),
            SharedData.Path("data", "pascal-part", "JPEGImages"),
            _out).Export("person6");

        Assert.Equal(22, result.Images);
        var lines = File.ReadAllLines(result.ListPath);
        Assert.Equal(22, lines.Length);
        foreach (var line in lines)
        {
            var pair = line.Split(' ');
            Assert.Equal(2, pair.Length);
            Assert.True(File.Exists(Path.Combine(_out, pair[0])), pair[0]);
            Assert.True(File.Exists(Path.Combine(_out, pair[1])), pair[1]);
        }
        Assert.Empty(Directory.GetFiles(_out, "*.tmp*", SearchOption.AllDirectories));

        foreach (var name in lines.Select(l => Path.GetFileNameWithoutExtension(l.Split(' ')[1])))
        {
            var anno = PascalPartAnnotation.Load(PascalPartAnnotationTests.Annotation(name));
            var parts = ReadLabels(Path.Combine(_out, "parts", name + ".png"), anno);
            var classes = ReadLabels(Path.Combine(_out, "classes", name + ".png"), anno);
            var instances = ReadLabels(Path.Combine(_out, "instances", name + ".png"), anno);

            // Later objects overwrite earlier ones where masks overlap, so check each pixel against the last owner.
            var expectedParts = new byte[parts.Length];
            var expectedClass = new byte[parts.Length];
            var expectedInstance = new byte[parts.Length];
            for (var i = 0; i < anno.Objects.Count; i++)
            {
                var o = anno.Objects[i];
                for (var p = 0; p < parts.Length; p++)
                    if (o.Mask.Data[p] != 0)
                        (expectedClass[p], expectedInstance[p]) = ((byte)o.ClassIndex, (byte)(i + 1));
                foreach (var part in o.Parts)
                    for (var p = 0; p < parts.Length; p++)
                        if (part.Mask.Data[p] != 0 && Person6(o.ClassName, part.Name) is var label and > 0)
                            expectedParts[p] = (byte)label;
            }
            Assert.Equal(expectedClass, classes);
            Assert.Equal(expectedInstance, instances);
            Assert.Equal(expectedParts, parts);
        }

        // Hand facts: the 2008_000008 person is class 15 and has head pixels; the chairs-and-table file has no part labels.
        var first = ReadLabels(Path.Combine(_out, "parts", "2008_000008.png"), PascalPartAnnotation.Load(PascalPartAnnotationTests.Annotation("2008_000008")));
        Assert.Contains((byte)1, first);
        var furniture = ReadLabels(Path.Combine(_out, "parts", "2010_001199.png"), PascalPartAnnotation.Load(PascalPartAnnotationTests.Annotation("2010_001199")));
        Assert.All(furniture, b => Assert.Equal(0, b));
        Assert.True(File.Exists(Path.Combine(_out, "preview", "2008_000008.png")));
        Assert.Equal("person6", PartLabelScheme.FromJson(result.SchemePath).Name);
    }

    private static byte[] ReadLabels(string path, PascalPartAnnotation anno)
    {
        using var png = Cv2.ImRead(path, ImreadModes.Unchanged);
        Assert.Equal(MatType.CV_8UC1, png.Type());
        Assert.Equal((anno.Height, anno.Width), (png.Rows, png.Cols));
        png.GetArray(out byte[] data);
        return data;
    }
}
