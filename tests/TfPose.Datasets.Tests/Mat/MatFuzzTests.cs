using System.Diagnostics;
using System.IO.Compression;
using TfPose.Datasets.Mat;
using TfPose.Tests;
using Xunit.Abstractions;

namespace TfPose.Datasets.Tests.Mat;

/// <summary>
/// Seeded mutation fuzzing over the 22 PASCAL-Part files: every mutated input must either parse or
/// fail with <see cref="MatFileException"/>, never another exception, a hang or a huge allocation.
/// Half the cases mutate the files as shipped (hitting the header and zlib layers); the other half
/// mutate copies whose compressed elements were inflated, so mutations reach tags, flags, dimensions,
/// field names and nesting.
/// </summary>
public class MatFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20260125;
    private const int Cases = 1200;
    private static readonly MatReadOptions Options = new() { MaxDecompressedBytes = 64 << 20 };

    [Fact]
    public void Mutated_sample_files_parse_or_fail_with_MatFileException()
    {
        var files = Directory.GetFiles(SharedData.Path("data", "pascal-part", "Annotations_Part"), "*.mat").Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(22, files.Length);
        var shipped = files.Select(File.ReadAllBytes).ToArray();
        var inflated = shipped.Select(Inflate).ToArray();
        var rng = new Random(Seed);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        int parsed = 0, rejected = 0;
        for (var c = 0; c < Cases; c++)
        {
            var f = rng.Next(files.Length);
            var useInflated = c % 2 == 1;
            var input = MatMutator.Mutate(useInflated ? inflated[f] : shipped[f], rng);
            try
            {
                MatFile.Parse(input, "fuzz.mat", Options);
                parsed++;
            }
            catch (MatFileException)
            {
                rejected++;
            }
            catch (Exception ex)
            {
                failures.Add($"case {c} ({Path.GetFileName(files[f])}, {(useInflated ? "inflated" : "shipped")}): {ex.GetType().Name}: {ex.Message}");
            }
        }
        output.WriteLine($"{Cases} cases in {clock.ElapsedMilliseconds} ms: {parsed} parsed, {rejected} rejected, {failures.Count} failures");
        Assert.True(rejected > Cases / 4, "mutations should break most inputs; the mutator is not doing its job");
        Assert.Empty(failures);
    }

    /// <summary>Rewrites each top-level miCOMPRESSED element as the plain element it holds.</summary>
    private static byte[] Inflate(byte[] file)
    {
        var result = new MemoryStream();
        result.Write(file, 0, 128);
        var pos = 128;
        while (pos + 8 <= file.Length)
        {
            var type = BitConverter.ToUInt32(file, pos);
            var size = (int)BitConverter.ToUInt32(file, pos + 4);
            Assert.Equal(15u, type);
            using (var z = new ZLibStream(new MemoryStream(file, pos + 8, size), CompressionMode.Decompress))
                z.CopyTo(result);
            pos += 8 + size;
        }
        return result.ToArray();
    }
}

/// <summary>Byte-level mutations biased towards the places where MAT-files keep their structure.</summary>
internal static class MatMutator
{
    private static readonly uint[] Interesting = [0, 1, 2, 7, 8, 14, 15, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFF8];

    public static byte[] Mutate(byte[] source, Random rng)
    {
        var data = source.ToArray();
        var ops = 1 + rng.Next(4);
        for (var i = 0; i < ops && data.Length > 0; i++)
        {
            // Structure lives at the start of each element; bias offsets to the first few kilobytes.
            var offset = rng.Next(2) == 0 ? rng.Next(Math.Min(data.Length, 4096)) : rng.Next(data.Length);
            switch (rng.Next(6))
            {
                case 0:
                    data[offset] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1:
                    data[offset] = (byte)rng.Next(256);
                    break;
                case 2:
                    var aligned = offset & ~3;
                    if (aligned + 4 <= data.Length)
                        BitConverter.GetBytes(Interesting[rng.Next(Interesting.Length)]).CopyTo(data, aligned);
                    break;
                case 3:
                    data = data[..offset];
                    break;
                case 4:
                    var cut = Math.Min(data.Length - offset, 1 + rng.Next(16));
                    data = [.. data.AsSpan(0, offset), .. data.AsSpan(offset + cut)];
                    break;
                default:
                    var len = Math.Min(data.Length - offset, 1 + rng.Next(64));
                    data = [.. data.AsSpan(0, offset + len), .. data.AsSpan(offset, len), .. data.AsSpan(offset + len)];
                    break;
            }
        }
        return data;
    }
}
