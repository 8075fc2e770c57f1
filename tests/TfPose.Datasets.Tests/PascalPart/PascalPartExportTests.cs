using OpenCvSharp;
using TfPose.Datasets.CamVid;
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

    [Fact]
    public void Export_splits_every_fifth_image_to_val_and_loads_as_a_segmentation_set_of_mixed_sizes()
    {
        var result = new PascalPartExporter(
            SharedData.Path("data", "pascal-part", "Annotations_Part"),
            SharedData.Path("data", "pascal-part", "JPEGImages"),
            _out).Export("person6");

        var all = File.ReadAllLines(result.ListPath);
        var train = File.ReadAllLines(Path.Combine(_out, "train.txt"));
        var val = File.ReadAllLines(Path.Combine(_out, "val.txt"));
        Assert.Equal((18, 4), (result.TrainImages, result.ValImages));
        Assert.Equal(new[] { all[4], all[9], all[14], all[19] }, val);
        Assert.Equal(all.Where((_, i) => i % 5 != 4), train);
        Assert.StartsWith("2008_000652", Path.GetFileName(val[0].Split(' ')[1]));

        var description = DatasetDescription.Load(_out);
        Assert.Equal(Path.Combine(_out, "dataset.json"), result.DatasetPath);
        Assert.Equal(["background", "head", "torso", "upper_arms", "lower_arms", "upper_legs", "lower_legs"], description.ClassNames);
        Assert.Equal(255, description.IgnoreLabel);

        // The trainer's loader reads the export as it is: relative paths, JPEG images, three sizes in val.
        var data = CamVidData.Load(_out, "val");
        Assert.Equal(4, data.Count);
        Assert.False(data.UniformSize);
        Assert.Equal((213, 320), data.SizeOf(0));
        Assert.Equal((375, 500), data.SizeOf(1));
        Assert.Equal((333, 500), data.SizeOf(3));
        Assert.Throws<InvalidOperationException>(() => data.Height);
        Assert.Equal(7, data.ClassPixelCounts().Length);
        Assert.Equal(213 * 320 + 2 * 375 * 500 + 333 * 500, data.ClassPixelCounts().Sum());
        using var jpeg = Cv2.ImRead(data.Pairs[3].ImagePath, ImreadModes.Color);
        var bgr = jpeg.At<Vec3b>(100, 200);
        var at = (100 * 500 + 200) * 3;
        Assert.Equal((bgr.Item2, bgr.Item1, bgr.Item0), (data.Image(3)[at], data.Image(3)[at + 1], data.Image(3)[at + 2]));
        Assert.Equal(ReadLabels(data.Pairs[3].LabelPath, PascalPartAnnotation.Load(PascalPartAnnotationTests.Annotation("2010_005243"))), data.Label(3).ToArray());
        Assert.Equal(18, CamVidData.Load(_out, "train").Count);
    }

    [Fact]
    public void Dataset_description_errors_name_the_file_and_labels_outside_it_are_rejected()
    {
        Directory.CreateDirectory(_out);
        var path = Path.Combine(_out, "dataset.json");
        File.WriteAllText(path, """{"classes": ["a", "b", "c"], "ignore_label": 2}""");
        var ex = Assert.Throws<InvalidDataException>(() => DatasetDescription.Load(_out));
        Assert.Contains(path, ex.Message);
        Assert.Contains("ignore_label", ex.Message);
        File.WriteAllText(path, "{\"classes\": [");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => DatasetDescription.Load(_out)).Message);

        File.WriteAllText(path, """{"name": "tiny", "classes": ["a", "b", "c"], "ignore_label": 9}""");
        using var label = new OpenCvSharp.Mat(2, 2, MatType.CV_8UC1, Scalar.All(0));
        label.Set(1, 0, (byte)3);
        var png = Path.Combine(_out, "l.png");
        Cv2.ImWrite(png, label);
        var bad = Assert.Throws<InvalidDataException>(() => CamVidData.ReadLabel(png, DatasetDescription.Load(_out)));
        Assert.Contains("l.png: pixel (0, 1) has label 3; tiny labels are 0–2 and ignore 9", bad.Message);
        label.Set(1, 0, (byte)9);
        Cv2.ImWrite(png, label);
        Assert.Equal(9, CamVidData.ReadLabel(png, DatasetDescription.Load(_out)).Labels[2]);
        // Without a description the root is CamVid.
        File.Delete(path);
        Assert.Same(DatasetDescription.CamVid, DatasetDescription.Load(_out));
        Assert.Equal((11, 11), (DatasetDescription.CamVid.Classes, DatasetDescription.CamVid.IgnoreLabel));
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
