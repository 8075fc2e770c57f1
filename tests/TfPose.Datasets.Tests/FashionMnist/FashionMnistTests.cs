using System.IO.Compression;
using System.Security.Cryptography;
using TfPose.Datasets.FashionMnist;
using TfPose.Tests;

namespace TfPose.Datasets.Tests.FashionMnist;

public class FashionMnistTests
{
    private static string Dir => SharedData.Path("data", "fashion-mnist");

    [Fact]
    public void LoadsBothSplitsWithBalancedClasses()
    {
        var train = FashionMnistData.Load(Dir, "train");
        var test = FashionMnistData.Load(Dir, "test");
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        Assert.All(train.ClassCounts(), c => Assert.Equal(6000, c));
        Assert.All(test.ClassCounts(), c => Assert.Equal(1000, c));
        Assert.Equal(60000 * 784, train.Images.Length);
        // The first training image is an ankle boot (label 9) in the canonical file.
        Assert.Equal(9, train.Labels[0]);
    }

    [Fact]
    public void DecompressedImagesMatchThePublishedMd5()
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(Dir, "t10k-images-idx3-ubyte.gz")), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        Assert.Equal("8181f5470baa50b63fa0f6fddb340f0a", Convert.ToHexStringLower(MD5.HashData(ms.ToArray())));
        // And the reader returns exactly the bytes after the 16-byte header.
        var idx = IdxFile.Parse(ms.ToArray());
        Assert.Equal([10000, 28, 28], idx.Dimensions);
        Assert.Equal(ms.ToArray().AsSpan(16).ToArray(), idx.Data);
    }

    [Fact]
    public void RejectsBadMagicWrongTypeAndTruncation()
    {
        byte[] good = [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9];
        Assert.Equal([7, 8, 9], IdxFile.Parse(good).Data);
        var badMagic = (byte[])good.Clone(); badMagic[0] = 1;
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => IdxFile.Parse(badMagic)).Message);
        var badType = (byte[])good.Clone(); badType[2] = 0x0D;
        Assert.Contains("type", Assert.Throws<InvalidDataException>(() => IdxFile.Parse(badType)).Message);
        Assert.Contains("need 3 data bytes", Assert.Throws<InvalidDataException>(() => IdxFile.Parse(good[..^1])).Message);
    }

    [Fact]
    public void MissingFileNamesThePath()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var e = Assert.Throws<FileNotFoundException>(() => FashionMnistData.Load(dir));
        Assert.Contains("train-images-idx3-ubyte", e.Message);
    }

    [Fact]
    public void WritesAPreviewGrid()
    {
        var test = FashionMnistData.Load(Dir, "test");
        var idx = test.FirstOfEachClass(10);
        Assert.Equal(100, idx.Length);
        Assert.Equal(Enumerable.Range(0, 10).SelectMany(c => Enumerable.Repeat((byte)c, 10)), idx.Select(i => test.Labels[i]));
        var bytes = idx.SelectMany(i => test.Image(i).ToArray()).ToArray();
        var path = Path.Combine(Path.GetTempPath(), $"fm-grid-{Guid.NewGuid():N}.png");
        ImageGrid.SavePng(path, bytes, 100, 28, 10, scale: 2, gap: 2);
        using var png = OpenCvSharp.Cv2.ImRead(path, OpenCvSharp.ImreadModes.Grayscale);
        Assert.Equal(10 * 58 + 2, png.Width);
        Assert.Equal(10 * 58 + 2, png.Height);
        File.Delete(path);
    }
}
