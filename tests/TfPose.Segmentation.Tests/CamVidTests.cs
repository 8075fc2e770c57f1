using OpenCvSharp;
using TfPose.Datasets.CamVid;
using TfPose.Tests;

namespace TfPose.Segmentation.Tests;

public sealed class CamVidTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("camvid-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Root => SharedData.Path("data", "camvid");

    [Fact]
    public void Lists_have_the_SegNet_split_sizes_and_resolve_under_the_root()
    {
        Assert.Equal(367, CamVidData.ReadList(Root, "train").Count);
        Assert.Equal(101, CamVidData.ReadList(Root, "val").Count);
        var test = CamVidData.ReadList(Root, "test");
        Assert.Equal(233, test.Count);
        Assert.Equal(Path.Combine(Root, "test", "0001TP_008550.png"), test[0].ImagePath);
        Assert.Equal(Path.Combine(Root, "testannot", "0001TP_008550.png"), test[0].LabelPath);
        Assert.All(test, p => Assert.True(File.Exists(p.ImagePath) && File.Exists(p.LabelPath), p.ImagePath));
    }

    [Fact]
    public void Loads_real_images_as_rgb_360x480_with_labels_0_to_11()
    {
        var d = CamVidData.Load(Root, "val", limit: 2);
        Assert.Equal((2, 360, 480), (d.Count, d.Height, d.Width));
        // Independent read: OpenCV gives BGR; the loader must hold RGB.
        using var bgr = Cv2.ImRead(d.Pairs[1].ImagePath, ImreadModes.Color);
        var v = bgr.At<Vec3b>(200, 300);
        var i = (200 * 480 + 300) * 3;
        Assert.Equal((v.Item2, v.Item1, v.Item0), (d.Image(1)[i], d.Image(1)[i + 1], d.Image(1)[i + 2]));
        using var lab = Cv2.ImRead(d.Pairs[1].LabelPath, ImreadModes.Unchanged);
        Assert.Equal(lab.At<byte>(200, 300), d.Label(1)[200 * 480 + 300]);
        var labels = d.Label(0).ToArray().Concat(d.Label(1).ToArray()).ToArray();
        Assert.All(labels, l => Assert.InRange(l, (byte)0, (byte)11));
        // The SegNet annotations do contain void pixels and several classes.
        Assert.Contains((byte)11, labels);
        Assert.True(d.ClassPixelCounts().Count(c => c > 0) >= 6);
    }

    /// <summary>A 2-image set of 3×4 images with known pixels, written the way CamVid is laid out.</summary>
    private string WriteTiny(byte[][] labels, int h = 3, int w = 4)
    {
        Directory.CreateDirectory(Path.Combine(_dir, "train"));
        Directory.CreateDirectory(Path.Combine(_dir, "trainannot"));
        var lines = new List<string>();
        for (int n = 0; n < labels.Length; n++)
        {
            using var img = new Mat(h, w, MatType.CV_8UC3);
            using var lab = new Mat(h, w, MatType.CV_8UC1);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    // RGB = (10x + n, 20y, 100): written as BGR.
                    img.Set(y, x, new Vec3b(100, (byte)(20 * y), (byte)(10 * x + n)));
                    lab.Set(y, x, labels[n][y * w + x]);
                }
            Cv2.ImWrite(Path.Combine(_dir, "train", $"i{n}.png"), img);
            Cv2.ImWrite(Path.Combine(_dir, "trainannot", $"i{n}.png"), lab);
            lines.Add($"/SegNet/CamVid/train/i{n}.png /SegNet/CamVid/trainannot/i{n}.png");
        }
        File.WriteAllLines(Path.Combine(_dir, "train.txt"), lines);
        return _dir;
    }

    [Fact]
    public void Crop_with_flip_moves_pixels_and_labels_together_and_normalises_per_channel()
    {
        byte[] l0 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
        var d = CamVidData.Load(WriteTiny([l0, l0]), "train");
        var norm = new ChannelNormalization([0.5f, 0.25f, 0f], [0.5f, 0.25f, 2f]);
        var img = new float[2 * 3 * 3];
        var lab = new byte[2 * 3];
        // Rows 1–2, columns 1–3 of image 1, mirrored.
        CamVidBatches.Extract(d, 1, new CropWindow(1, 1, 2, 3, Flip: true), norm, img, lab);
        // Output column 0 is source column 3, column 2 is source column 1.
        Assert.Equal(new byte[] { 7, 6, 5, 11, 10, 9 }, lab);
        // Pixel (0,0) of the crop = source (y=1, x=3), RGB = (31, 20, 100).
        Assert.Equal((31 / 255f - 0.5f) / 0.5f, img[0], 5);
        Assert.Equal((20 / 255f - 0.25f) / 0.25f, img[1], 5);
        Assert.Equal((100 / 255f - 0f) / 2f, img[2], 5);
        // Pixel (1,2) of the crop = source (y=2, x=1), RGB = (11, 40, 100).
        var p = (1 * 3 + 2) * 3;
        Assert.Equal((11 / 255f - 0.5f) / 0.5f, img[p], 5);
        Assert.Equal((40 / 255f - 0.25f) / 0.25f, img[p + 1], 5);
    }

    [Fact]
    public void Random_crops_stay_inside_and_flip_about_half_the_time()
    {
        var rng = new Random(1);
        var wins = Enumerable.Range(0, 2000).Select(_ => CamVidBatches.RandomCrop(rng, 360, 480, 224, 224)).ToList();
        Assert.All(wins, w => Assert.True(w.Top >= 0 && w.Left >= 0 && w.Top + 224 <= 360 && w.Left + 224 <= 480));
        Assert.Equal(0, wins.Min(w => w.Top));
        Assert.Equal(136, wins.Max(w => w.Top));
        Assert.Equal(256, wins.Max(w => w.Left));
        Assert.InRange(wins.Count(w => w.Flip), 900, 1100);
        Assert.DoesNotContain(Enumerable.Range(0, 50).Select(_ => CamVidBatches.RandomCrop(rng, 360, 480, 224, 224, flips: false)), w => w.Flip);
        Assert.Throws<ArgumentException>(() => CamVidBatches.RandomCrop(rng, 100, 100, 224, 224));
    }

    [Fact]
    public void Channel_statistics_match_the_written_pixels()
    {
        byte[] l = new byte[12];
        var d = CamVidData.Load(WriteTiny([l, l]), "train");
        var (mean, std) = d.ChannelStatistics();
        // R = 10x + n over x 0..3, n 0..1: mean 15.5; G = 20y over y 0..2: mean 20, var 800/3; B = 100.
        double rVar = Enumerable.Range(0, 4).SelectMany(x => new[] { 10.0 * x, 10.0 * x + 1 }).Select(v => (v - 15.5) * (v - 15.5)).Average();
        Assert.Equal(15.5 / 255, mean[0], 5);
        Assert.Equal(20.0 / 255, mean[1], 5);
        Assert.Equal(100.0 / 255, mean[2], 5);
        Assert.Equal(Math.Sqrt(rVar) / 255, std[0], 4);
        Assert.Equal(Math.Sqrt(800.0 / 3) / 255, std[1], 4);
    }

    [Fact]
    public void Median_frequency_weights_by_hand()
    {
        // Image 0: 6 px class 0, 6 px class 1. Image 1: 3 px class 0, 3 px class 2, 6 px void.
        byte[] a = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        byte[] b = [0, 0, 0, 2, 2, 2, 11, 11, 11, 11, 11, 11];
        var d = CamVidData.Load(WriteTiny([a, b]), "train");
        // freq0 = 9/24, freq1 = 6/12, freq2 = 3/12 (only images where the class appears count);
        // median of {0.375, 0.5, 0.25} = 0.375 → weights 1, 0.75, 1.5; unseen classes 0.
        var w = d.MedianFrequencyWeights();
        Assert.Equal(11, w.Length);
        Assert.Equal(1f, w[0], 5);
        Assert.Equal(0.75f, w[1], 5);
        Assert.Equal(1.5f, w[2], 5);
        Assert.All(w.Skip(3), x => Assert.Equal(0f, x));
        Assert.Equal(new long[] { 9, 6, 3, 0, 0, 0, 0, 0, 0, 0, 0 }, d.ClassPixelCounts());
    }

    [Fact]
    public void Bad_label_value_and_missing_list_are_clear_errors()
    {
        byte[] bad = [0, 0, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0];
        var root = WriteTiny([bad]);
        var ex = Assert.Throws<InvalidDataException>(() => CamVidData.Load(root, "train"));
        Assert.Contains("i0.png", ex.Message);
        Assert.Contains("label 12", ex.Message);
        var missing = Assert.Throws<FileNotFoundException>(() => CamVidData.ReadList(root, "val"));
        Assert.Contains("val.txt", missing.Message);
    }
}
