using OpenCvSharp;
using TfPose.Imaging;

namespace TfPose.Datasets.CamVid;

/// <summary>One line of a CamVid list: an RGB image and its label PNG, resolved under the data root.</summary>
public sealed record CamVidPair(string ImagePath, string LabelPath);

/// <summary>
/// A split of a data set in the CamVid layout held in memory as bytes (per image, RGB H×W×3 and labels H×W): the
/// whole CamVid train split is ~250 MB this way, against ~1 GB as floats, so crops are normalised on the fly.
/// Images may differ in size (PASCAL-Part has eleven); what the labels mean comes from <see cref="Description"/>.
/// </summary>
public sealed class CamVidData
{
    private readonly (int Height, int Width)[] _sizes;
    private readonly byte[][] _images;
    private readonly byte[][] _labels;
    private readonly bool _uniform;

    private CamVidData(string root, string split, DatasetDescription description, (int, int)[] sizes, byte[][] images, byte[][] labels, IReadOnlyList<CamVidPair> pairs)
    {
        Root = root;
        Split = split;
        Description = description;
        _sizes = sizes;
        _images = images;
        _labels = labels;
        _uniform = sizes.All(s => s == sizes[0]);
        Pairs = pairs;
    }

    /// <summary>The folder the split was loaded from (its lists and dataset.json).</summary>
    public string Root { get; }

    public string Split { get; }

    /// <summary>Class names and ignore label: the root's dataset.json, or CamVid's 11 classes with void 11.</summary>
    public DatasetDescription Description { get; }

    public int Count => Pairs.Count;

    /// <summary>Whether every image of the split has the same size (then <see cref="Height"/> and <see cref="Width"/> hold it).</summary>
    public bool UniformSize => _uniform;

    /// <summary>The height all images share; a split of mixed sizes has none (use <see cref="SizeOf"/>).</summary>
    public int Height => UniformSize ? _sizes[0].Height : throw MixedSizes();

    /// <summary>The width all images share; a split of mixed sizes has none (use <see cref="SizeOf"/>).</summary>
    public int Width => UniformSize ? _sizes[0].Width : throw MixedSizes();

    private InvalidOperationException MixedSizes() =>
        new($"the {Split} split has images of {_sizes.Distinct().Count()} sizes; ask each image's size with SizeOf");

    /// <summary>Height and width of image <paramref name="i"/> (and of its labels).</summary>
    public (int Height, int Width) SizeOf(int i) => _sizes[i];

    public IReadOnlyList<CamVidPair> Pairs { get; }

    /// <summary>RGB bytes of image <paramref name="i"/>, row-major, channels last.</summary>
    public ReadOnlySpan<byte> Image(int i) => _images[i];

    /// <summary>Class indices and the ignore label of image <paramref name="i"/>, row-major.</summary>
    public ReadOnlySpan<byte> Label(int i) => _labels[i];

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

    /// <summary>Loads a split (the first <paramref name="limit"/> pairs when given); labels are checked against the root's description.</summary>
    public static CamVidData Load(string root, string split, int? limit = null)
    {
        var description = DatasetDescription.Load(root);
        var pairs = ReadList(root, split);
        if (limit is { } n)
        {
            if (n <= 0)
                throw new ArgumentOutOfRangeException(nameof(limit), "limit must be positive");
            pairs = pairs.Take(n).ToList();
        }
        var images = new byte[pairs.Count][];
        var labels = new byte[pairs.Count][];
        var sizes = new (int, int)[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            var (img, ih, iw) = ReadRgb(pairs[i].ImagePath);
            var (lh, lw, lab) = ReadLabel(pairs[i].LabelPath, description);
            if (lh != ih || lw != iw)
                throw new InvalidDataException($"{pairs[i].LabelPath}: label is {lw}x{lh} but its image {pairs[i].ImagePath} is {iw}x{ih}");
            (images[i], labels[i], sizes[i]) = (img, lab, (ih, iw));
        }
        return new CamVidData(root, split, description, sizes, images, labels, pairs);
    }

    /// <summary>Reads an image file as RGB bytes (OpenCV decodes BGR).</summary>
    public static (byte[] Rgb, int Height, int Width) ReadRgb(string path)
    {
        using var bgr = ImageFile.Read(path);
        using var rgb = new OpenCvSharp.Mat();
        Cv2.CvtColor(bgr, rgb, ColorConversionCodes.BGR2RGB);
        return (ImageIo.ToBytes(rgb), rgb.Rows, rgb.Cols);
    }

    /// <summary>Reads a label PNG; every value must be a class of <paramref name="description"/> (CamVid's 0–10 when not given) or its ignore label.</summary>
    public static (int Height, int Width, byte[] Labels) ReadLabel(string path, DatasetDescription? description = null)
    {
        var d = description ?? DatasetDescription.CamVid;
        if (!File.Exists(path))
            throw new FileNotFoundException($"label not found: {path}", path);
        var (h, w, px) = ImageIo.ReadGray(path);
        var bad = Array.FindIndex(px, v => v >= d.Classes && v != d.IgnoreLabel);
        if (bad >= 0)
            throw new InvalidDataException($"{path}: pixel ({bad % w}, {bad / w}) has label {px[bad]}; {d.Name} labels are 0–{d.Classes - 1} and ignore {d.IgnoreLabel}");
        return (h, w, px);
    }

    /// <summary>Per-channel mean and standard deviation of the images, on the 0–1 scale.</summary>
    public (float[] Mean, float[] Std) ChannelStatistics()
    {
        var sum = new double[3];
        var sq = new double[3];
        long n = 0;
        foreach (var img in _images)
        {
            for (int i = 0; i < img.Length; i += 3)
                for (int c = 0; c < 3; c++)
                {
                    double v = img[i + c] / 255.0;
                    sum[c] += v;
                    sq[c] += v * v;
                }
            n += img.Length / 3;
        }
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

    /// <summary>Pixels of each class (the ignore label excluded).</summary>
    public long[] ClassPixelCounts()
    {
        var counts = new long[Description.Classes];
        foreach (var label in _labels)
            foreach (var v in label)
                if (v < counts.Length)
                    counts[v]++;
        return counts;
    }

    /// <summary>
    /// Median frequency balancing (Eigen and Fergus, as SegNet uses for CamVid): freq(c) = pixels of c / total
    /// pixels of the images where c appears; weight(c) = median(freq) / freq(c). A class that never appears gets 0.
    /// </summary>
    public float[] MedianFrequencyWeights()
    {
        var classPixels = new long[Description.Classes];
        var imagePixels = new long[Description.Classes];
        var present = new long[Description.Classes];
        for (int i = 0; i < Count; i++)
        {
            Array.Clear(present);
            var label = Label(i);
            foreach (var v in label)
                if (v < present.Length)
                    present[v]++;
            for (int c = 0; c < present.Length; c++)
            {
                if (present[c] == 0)
                    continue;
                classPixels[c] += present[c];
                imagePixels[c] += label.Length;
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
