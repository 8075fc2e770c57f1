using OpenCvSharp;
using TfPose.Datasets.PascalPart;

namespace TfPose.Datasets.CamVid;

/// <summary>One line of a CamVid list: an RGB image and its label PNG, resolved under the data root.</summary>
public sealed record CamVidPair(string ImagePath, string LabelPath);

/// <summary>
/// A CamVid split held in memory as bytes (RGB images N×H×W×3 and labels N×H×W, 0–10 classes, 11 void):
/// the whole train split is ~250 MB this way, against ~1 GB as floats, so crops are normalised on the fly.
/// </summary>
public sealed class CamVidData
{
    private CamVidData(string split, int height, int width, byte[] images, byte[] labels, IReadOnlyList<CamVidPair> pairs)
    {
        Split = split;
        Height = height;
        Width = width;
        Images = images;
        Labels = labels;
        Pairs = pairs;
    }

    public string Split { get; }
    public int Height { get; }
    public int Width { get; }
    public int Count => Pairs.Count;

    /// <summary>RGB bytes, image after image, row-major, channels last.</summary>
    public byte[] Images { get; }

    /// <summary>Class indices 0–10 and void 11, image after image.</summary>
    public byte[] Labels { get; }

    public IReadOnlyList<CamVidPair> Pairs { get; }

    public int ImageSize => Height * Width * 3;
    public int LabelSize => Height * Width;

    public ReadOnlySpan<byte> Image(int i) => Images.AsSpan(i * ImageSize, ImageSize);
    public ReadOnlySpan<byte> Label(int i) => Labels.AsSpan(i * LabelSize, LabelSize);

    /// <summary>
    /// Reads <c>{root}/{split}.txt</c>. Each line names an image and a label with SegNet's
    /// <c>/SegNet/CamVid/</c> prefix; the prefix is dropped and the rest resolved under <paramref name="root"/>.
    /// </summary>
    public static IReadOnlyList<CamVidPair> ReadList(string root, string split)
    {
        if (split is not ("train" or "val" or "test"))
            throw new ArgumentException($"CamVid split must be train, val or test, not '{split}'.", nameof(split));
        var list = Path.Combine(root, split + ".txt");
        if (!File.Exists(list))
            throw new FileNotFoundException($"{list}: CamVid list not found (expected the SegNet layout with train.txt, val.txt, test.txt)", list);
        var pairs = new List<CamVidPair>();
        var lineNo = 0;
        foreach (var raw in File.ReadLines(list))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0)
                continue;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
                throw new InvalidDataException($"{list}:{lineNo}: expected 'image label', got '{line}'");
            pairs.Add(new CamVidPair(Resolve(root, parts[0]), Resolve(root, parts[1])));
        }
        if (pairs.Count == 0)
            throw new InvalidDataException($"{list}: the list is empty");
        return pairs;
    }

    private static string Resolve(string root, string listed)
    {
        const string prefix = "/SegNet/CamVid/";
        var rel = listed.StartsWith(prefix, StringComparison.Ordinal) ? listed[prefix.Length..] : listed.TrimStart('/');
        return Path.Combine(root, rel);
    }

    /// <summary>Loads a split (the first <paramref name="limit"/> pairs when given). All images must share one size.</summary>
    public static CamVidData Load(string root, string split, int? limit = null)
    {
        var pairs = ReadList(root, split);
        if (limit is { } n)
        {
            if (n <= 0)
                throw new ArgumentOutOfRangeException(nameof(limit), "limit must be positive");
            pairs = pairs.Take(n).ToList();
        }
        int h = 0, w = 0;
        byte[] images = [], labels = [];
        for (int i = 0; i < pairs.Count; i++)
        {
            var (img, ih, iw) = ReadRgb(pairs[i].ImagePath);
            var (lh, lw, lab) = ReadLabel(pairs[i].LabelPath);
            if (lh != ih || lw != iw)
                throw new InvalidDataException($"{pairs[i].LabelPath}: label is {lw}x{lh} but its image {pairs[i].ImagePath} is {iw}x{ih}");
            if (i == 0)
            {
                (h, w) = (ih, iw);
                images = new byte[pairs.Count * h * w * 3];
                labels = new byte[pairs.Count * h * w];
            }
            else if (ih != h || iw != w)
                throw new InvalidDataException($"{pairs[i].ImagePath}: image is {iw}x{ih}, the split's first image is {w}x{h}");
            img.CopyTo(images, i * h * w * 3);
            lab.CopyTo(labels, i * h * w);
        }
        return new CamVidData(split, h, w, images, labels, pairs);
    }

    /// <summary>Reads an image file as RGB bytes (OpenCV decodes BGR).</summary>
    public static (byte[] Rgb, int Height, int Width) ReadRgb(string path)
    {
        using var bgr = ImageIo.ReadColor(path);
        using var rgb = new OpenCvSharp.Mat();
        Cv2.CvtColor(bgr, rgb, ColorConversionCodes.BGR2RGB);
        return (ImageIo.ToBytes(rgb), rgb.Rows, rgb.Cols);
    }

    /// <summary>Reads a label PNG; every value must be a class 0–10 or void 11.</summary>
    public static (int Height, int Width, byte[] Labels) ReadLabel(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"label not found: {path}", path);
        var (h, w, px) = ImageIo.ReadGray(path);
        var bad = Array.FindIndex(px, v => v > CamVidClasses.Void);
        if (bad >= 0)
            throw new InvalidDataException($"{path}: pixel ({bad % w}, {bad / w}) has label {px[bad]}; CamVid labels are 0–10 and void 11");
        return (h, w, px);
    }

    /// <summary>Per-channel mean and standard deviation of the images, on the 0–1 scale.</summary>
    public (float[] Mean, float[] Std) ChannelStatistics()
    {
        var sum = new double[3];
        var sq = new double[3];
        var img = Images;
        for (int i = 0; i < img.Length; i += 3)
            for (int c = 0; c < 3; c++)
            {
                double v = img[i + c] / 255.0;
                sum[c] += v;
                sq[c] += v * v;
            }
        long n = img.Length / 3;
        var mean = new float[3];
        var std = new float[3];
        for (int c = 0; c < 3; c++)
        {
            var m = sum[c] / n;
            mean[c] = (float)m;
            std[c] = (float)Math.Sqrt(Math.Max(sq[c] / n - m * m, 1e-12));
        }
        return (mean, std);
    }

    /// <summary>Pixels of each class 0–10 (void excluded).</summary>
    public long[] ClassPixelCounts()
    {
        var counts = new long[CamVidClasses.Count];
        foreach (var v in Labels)
            if (v < CamVidClasses.Count)
                counts[v]++;
        return counts;
    }

    /// <summary>
    /// Median frequency balancing (Eigen and Fergus, as SegNet uses for CamVid): freq(c) = pixels of c / total
    /// pixels of the images where c appears; weight(c) = median(freq) / freq(c). A class that never appears gets 0.
    /// </summary>
    public float[] MedianFrequencyWeights()
    {
        var classPixels = new long[CamVidClasses.Count];
        var imagePixels = new long[CamVidClasses.Count];
        var present = new long[CamVidClasses.Count];
        for (int i = 0; i < Count; i++)
        {
            Array.Clear(present);
            foreach (var v in Label(i))
                if (v < CamVidClasses.Count)
                    present[v]++;
            for (int c = 0; c < present.Length; c++)
            {
                if (present[c] == 0)
                    continue;
                classPixels[c] += present[c];
                imagePixels[c] += LabelSize;
            }
        }
        return MedianFrequencyWeights(classPixels, imagePixels);
    }

    /// <summary>The balancing formula on counts, separate so it can be checked by hand.</summary>
    public static float[] MedianFrequencyWeights(long[] classPixels, long[] imagePixels)
    {
        var freq = classPixels.Zip(imagePixels, (p, t) => t == 0 ? double.NaN : (double)p / t).ToArray();
        var seen = freq.Where(f => !double.IsNaN(f)).Order().ToArray();
        if (seen.Length == 0)
            throw new InvalidOperationException("no labelled pixels: cannot compute class weights");
        var median = seen.Length % 2 == 1 ? seen[seen.Length / 2] : (seen[seen.Length / 2 - 1] + seen[seen.Length / 2]) / 2;
        return freq.Select(f => double.IsNaN(f) ? 0f : (float)(median / f)).ToArray();
    }
}
