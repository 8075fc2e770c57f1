using OpenCvSharp;
using TfPose.Datasets.CamVid;
using TfPose.Datasets.PascalPart;
using TfPose.Tests;

namespace TfPose.Segmentation.Tests;

/// <summary>Data sets that are not CamVid: their own class count and ignore label, images of several sizes.</summary>
public sealed class MixedSizeDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("segment-mixed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const byte Ignore = 200;

    // Class by colour, so a small network can learn it within a few dozen steps; ignored pixels get a colour of their own.
    private static readonly Vec3b[] Bgr = [new(200, 200, 200), new(30, 30, 210), new(210, 40, 30)];

    /// <summary>
    /// A 3-class set (ignore label 200) of blocky images: train 40x56 and 24x48 (lower than the 32 crop), val 36x44
    /// and 24x48. Returns the number of labelled (not ignored) val pixels.
    /// </summary>
    private long WriteSynthetic()
    {
        var rng = new Random(5);
        long valLabelled = 0;
        foreach (var (split, sizes) in new[] { ("train", new[] { (40, 56), (24, 48) }), ("val", new[] { (36, 44), (24, 48) }) })
        {
            Directory.CreateDirectory(Path.Combine(_dir, split));
            var lines = new List<string>();
            for (int n = 0; n < sizes.Length; n++)
            {
                var (h, w) = sizes[n];
                using var img = new Mat(h, w, MatType.CV_8UC3);
                using var lab = new Mat(h, w, MatType.CV_8UC1);
                for (int by = 0; by < h; by += 8)
                    for (int bx = 0; bx < w; bx += 8)
                    {
                        int c = rng.Next(10) == 0 ? Ignore : rng.Next(3);
                        for (int y = by; y < Math.Min(by + 8, h); y++)
                            for (int x = bx; x < Math.Min(bx + 8, w); x++)
                            {
                                img.Set(y, x, c == Ignore ? new Vec3b(0, 255, 0) : Bgr[c]);
                                lab.Set(y, x, (byte)c);
                                if (split == "val" && c != Ignore)
                                    valLabelled++;
                            }
                    }
                Cv2.ImWrite(Path.Combine(_dir, split, $"i{n}.png"), img);
                Cv2.ImWrite(Path.Combine(_dir, split, $"l{n}.png"), lab);
                lines.Add($"{split}/i{n}.png {split}/l{n}.png");
            }
            File.WriteAllLines(Path.Combine(_dir, split + ".txt"), lines);
        }
        File.WriteAllText(Path.Combine(_dir, DatasetDescription.FileName), new DatasetDescription("blocks", ["grey", "red", "blue"], Ignore).ToJson());
        return valLabelled;
    }

    [Fact]
    public void Crops_of_an_image_lower_than_the_crop_are_padded_with_the_ignore_label()
    {
        WriteSynthetic();
        var data = CamVidData.Load(_dir, "train");
        Assert.Equal((24, 48), data.SizeOf(1));
        var norm = new ChannelNormalization([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]);
        var x = new float[32 * 32 * 3];
        var y = new byte[32 * 32];
        CamVidBatches.RandomBatch(data, [1], new Random(3), 32, 32, flips: false, norm, x, y);
        // The whole height is taken, so the crop's rows 0–23 are a 32-wide window of the image, labels and normalised colours.
        var label = data.Label(1).ToArray();
        var image = data.Image(1).ToArray();
        Assert.Contains(Enumerable.Range(0, 48 - 32 + 1), l => Enumerable.Range(0, 24).All(r => Enumerable.Range(0, 32).All(c =>
            label[r * 48 + l + c] == y[r * 32 + c]
            && Math.Abs((image[(r * 48 + l + c) * 3 + 2] / 255f - 0.5f) / 0.25f - x[(r * 32 + c) * 3 + 2]) < 1e-5)));
        Assert.All(y.Skip(24 * 32), v => Assert.Equal(Ignore, v));
        Assert.All(x.Skip(24 * 32 * 3), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Trainer_learns_a_three_class_set_of_two_image_sizes_and_evaluates_it_at_full_size()
    {
        var valLabelled = WriteSynthetic();
        var run = Path.Combine(_dir, "run");
        var o = new SegmentationTrainOptions
        {
            DataDir = _dir, OutDir = run, Epochs = 30, BatchSize = 2, CropHeight = 32, CropWidth = 32, LearningRate = 3e-3,
            Model = TiramisuConfig.Parse("2,2", growthRate: 8) with { DropoutRate = 0, BatchNormMomentum = 0.8 },
        };
        var h = SegmentationTrainer.Train(o);

        Assert.Equal(30, h.Count);
        var late = h.TakeLast(5).Average(r => r.Loss);
        Assert.True(late < 0.5 * h[0].Loss, $"loss {h[0].Loss:0.000} at epoch 1, {late:0.000} over the last 5");
        Assert.Equal(3, SegmentationSettings.Load(Path.Combine(run, SegmentationNetwork.ConfigFile)).Model.Classes);

        using var net = SegmentationNetwork.Load(run);
        var val = CamVidData.Load(_dir, "val");
        Assert.False(val.UniformSize);
        var cm = net.Evaluate(val);
        Assert.Equal(3, cm.Classes);
        Assert.Equal(3, cm.IoU.Length);
        Assert.Equal(valLabelled, cm.Total);
        Assert.Equal(h.Max(r => r.ValMeanIoU), cm.MeanIoU, 9);
        Assert.True(cm.GlobalAccuracy > 0.9, $"val global accuracy {cm.GlobalAccuracy:0.000}");

        // A checkpoint of 3 classes cannot score CamVid's 11.
        var camvid = CamVidData.Load(SharedData.Path("data", "camvid"), "val", 1);
        var ex = Assert.Throws<ArgumentException>(() => net.Evaluate(camvid));
        Assert.Contains("11 classes but the network predicts 3", ex.Message);
    }

    [Fact]
    public void A_pascal_part_export_trains_and_evaluates_with_its_seven_classes()
    {
        // The first five annotation files in name order: four train images (500x442, 500x375, 480x272, 500x375) and the fifth, 320x213, for val.
        var annotations = Directory.CreateDirectory(Path.Combine(_dir, "annotations")).FullName;
        foreach (var f in Directory.GetFiles(SharedData.Path("data", "pascal-part", "Annotations_Part"), "*.mat").Order(StringComparer.Ordinal).Take(5))
            File.Copy(f, Path.Combine(annotations, Path.GetFileName(f)));
        var export = Path.Combine(_dir, "export");
        var result = new PascalPartExporter(annotations, SharedData.Path("data", "pascal-part", "JPEGImages"), export).Export("person6");
        Assert.Equal((4, 1), (result.TrainImages, result.ValImages));

        var run = Path.Combine(_dir, "run");
        var h = SegmentationTrainer.Train(new SegmentationTrainOptions
        {
            DataDir = export, OutDir = run, Model = TiramisuConfig.Parse("1,1", growthRate: 4), Epochs = 2, BatchSize = 2,
            CropHeight = 64, CropWidth = 64,
        });
        Assert.Equal(2, h.Count);
        Assert.All(h, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0, $"loss {r.Loss}"));

        using var net = SegmentationNetwork.Load(run);
        Assert.Equal(7, net.Settings.Model.Classes);
        var val = CamVidData.Load(export, "val");
        var cm = net.Evaluate(val);
        Assert.Equal(7, cm.Classes);
        // Every pixel of an export is a class (background or a part): all 320x213 count.
        Assert.Equal(320 * 213, cm.Total);
        Assert.Equal(h.Max(r => r.ValMeanIoU), cm.MeanIoU, 9);
    }
}
