namespace TfPose.Datasets.FashionMnist;

/// <summary>
/// One split of Fashion-MNIST: 28×28 grey images (0..255, white garment on black) and labels 0..9.
/// Load with <see cref="Load"/> from the folder holding the canonical IDX files (gzip or raw).
/// </summary>
public sealed class FashionMnistData
{
    public const int Rows = 28;
    public const int Cols = 28;
    public const int Pixels = Rows * Cols;

    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private FashionMnistData(byte[] images, byte[] labels, string split)
    {
        Images = images;
        Labels = labels;
        Split = split;
    }

    /// <summary>Count × 784 bytes, row-major.</summary>
    public byte[] Images { get; }

    public byte[] Labels { get; }

    public string Split { get; }

    public int Count => Labels.Length;

    public ReadOnlySpan<byte> Image(int index) => Images.AsSpan(index * Pixels, Pixels);

    /// <summary>Loads "train" (60,000) or "test"/"t10k" (10,000) from <paramref name="directory"/>.</summary>
    public static FashionMnistData Load(string directory, string split = "train")
    {
        var prefix = split switch
        {
            "train" => "train",
            "test" or "t10k" => "t10k",
            _ => throw new ArgumentException($"Unknown Fashion-MNIST split '{split}': use train or test."),
        };
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"Fashion-MNIST folder not found: {directory}");
        var imagesPath = Find(directory, $"{prefix}-images-idx3-ubyte");
        var labelsPath = Find(directory, $"{prefix}-labels-idx1-ubyte");
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);
        if (images.Dimensions.Length != 3 || images.Dimensions[1] != Rows || images.Dimensions[2] != Cols)
            throw new InvalidDataException($"{imagesPath}: expected N×28×28 images, found [{string.Join(", ", images.Dimensions)}].");
        if (labels.Dimensions.Length != 1)
            throw new InvalidDataException($"{labelsPath}: expected a 1-D label file, found [{string.Join(", ", labels.Dimensions)}].");
        if (labels.Dimensions[0] != images.Dimensions[0])
            throw new InvalidDataException($"{labelsPath}: {labels.Dimensions[0]} labels for {images.Dimensions[0]} images in {imagesPath}.");
        for (int i = 0; i < labels.Data.Length; i++)
            if (labels.Data[i] > 9)
                throw new InvalidDataException($"{labelsPath}: label {labels.Data[i]} at index {i} is outside 0..9.");
        return new FashionMnistData(images.Data, labels.Data, prefix == "train" ? "train" : "test");
    }

    private static string Find(string dir, string stem)
    {
        foreach (var name in new[] { stem + ".gz", stem, stem.Replace("-idx", ".idx") })
        {
            var p = Path.Combine(dir, name);
            if (File.Exists(p))
                return p;
        }
        throw new FileNotFoundException($"{stem}(.gz) not found in {dir}.", Path.Combine(dir, stem + ".gz"));
    }

    /// <summary>Images per class.</summary>
    public int[] ClassCounts()
    {
        var c = new int[10];
        foreach (var l in Labels) c[l]++;
        return c;
    }

    /// <summary>Mean pixel value over the split, 0..255.</summary>
    public double MeanPixel()
    {
        long s = 0;
        foreach (var b in Images) s += b;
        return (double)s / Images.Length;
    }

    /// <summary>The first <paramref name="count"/> indices of each class, for a class-per-row preview.</summary>
    public int[] FirstOfEachClass(int count)
    {
        var result = new List<int>[10];
        for (int c = 0; c < 10; c++) result[c] = [];
        for (int i = 0; i < Count && result.Any(r => r.Count < count); i++)
            if (result[Labels[i]].Count < count)
                result[Labels[i]].Add(i);
        return result.SelectMany(r => r).ToArray();
    }
}
