using TfPose.Datasets.Mat;
using TfPose.Tests;
using static TfPose.Datasets.Tests.Mat.MatBytes;

namespace TfPose.Datasets.Tests.Mat;

public class MatBadInputTests
{
    private const string Name = "bad.mat";
    private static readonly MatBytes M = new(false);

    private static MatFileException Fails(byte[] bytes, MatReadOptions? options = null)
    {
        var ex = Assert.Throws<MatFileException>(() => MatFile.Parse(bytes, Name, options));
        Assert.Equal(Name, ex.FilePath);
        Assert.StartsWith(Name + ": ", ex.Message);
        Assert.Contains($"byte {ex.Offset}", ex.Message);
        return ex;
    }

    [Fact]
    public void Truncated_header_names_the_length()
    {
        var ex = Fails(M.Header()[..100]);
        Assert.Equal(100, ex.Offset);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Wrong_magic_is_reported_at_offset_zero()
    {
        var bytes = M.File(M.Numeric(MxDouble, [1, 1], "a", MiDouble, [1]));
        "OCTAVE"u8.CopyTo(bytes);
        var ex = Fails(bytes);
        Assert.Equal(0, ex.Offset);
        Assert.Contains("MATLAB", ex.Message);
    }

    [Fact]
    public void Version_7_3_and_raw_hdf5_are_rejected_as_unsupported()
    {
        var v73 = MatBytes.Concat(M.Header("MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00", 0x0200), new byte[512]);
        Assert.Contains("HDF5", Fails(v73).Message);
        var hdf5 = MatBytes.Concat([0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A], new byte[200]);
        Assert.Contains("not supported", Fails(hdf5).Message);
    }

    [Fact]
    public void Bad_byte_order_mark_points_at_byte_126()
    {
        var bytes = M.File();
        (bytes[126], bytes[127]) = ((byte)'X', (byte)'Y');
        Assert.Equal(126, Fails(bytes).Offset);
    }

    [Fact]
    public void Element_larger_than_the_file_is_reported_at_its_tag()
    {
        var bytes = M.File(M.Element(MiMatrix, new byte[16], declaredSize: 1_000_000));
        var ex = Fails(bytes);
        Assert.Equal(128, ex.Offset);
        Assert.Contains("1000000", ex.Message);
    }

    [Fact]
    public void Truncated_real_file_fails_cleanly()
    {
        var real = File.ReadAllBytes(SharedData.Path("data", "pascal-part", "Annotations_Part", "2008_000008.mat"));
        var ex = Fails(real[..(real.Length / 2)]);
        Assert.Equal(128, ex.Offset); // the one compressed element's tag declares more than is left
    }

    [Fact]
    public void Corrupt_zlib_stream_names_the_compressed_element()
    {
        var real = File.ReadAllBytes(SharedData.Path("data", "pascal-part", "Annotations_Part", "2008_001978.mat"));
        for (var i = 200; i < 260; i++)
            real[i] ^= 0x5A;
        var ex = Fails(real);
        Assert.Equal(128, ex.Offset);
        Assert.Contains("zlib", ex.Message);
    }

    [Fact]
    public void Zlib_stream_that_ends_early_is_reported()
    {
        var element = M.Numeric(MxDouble, [1, 100], "a", MiDouble, new double[100]);
        var zlib = Zlib(element)[..200];
        var ex = Fails(M.File(M.CompressedRaw(zlib)));
        Assert.Equal(128, ex.Offset);
    }

    [Fact]
    public void Overflowing_dimensions_are_rejected_before_allocating()
    {
        var bytes = M.File(M.Numeric(MxDouble, [65536, 65536, 65536], "a", MiDouble, [1]));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Fails(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        Assert.Contains("65536x65536x65536", ex.Message);
        Assert.Equal(128 + 8 + 16, ex.Offset); // the dimensions sub-element, after the matrix tag and the flags
    }

    [Fact]
    public void Dimensions_that_disagree_with_the_data_length_are_reported()
    {
        var ex = Fails(M.File(M.Numeric(MxDouble, [2, 3], "a", MiDouble, [1, 2, 3, 4, 5])));
        Assert.Contains("need 6 values", ex.Message);
        Assert.Contains("holds 5", ex.Message);
    }

    [Fact]
    public void Negative_dimension_is_reported()
    {
        Assert.Contains("negative", Fails(M.File(M.Numeric(MxDouble, [-1, 2], "a", MiDouble, []))).Message);
    }

    [Fact]
    public void Huge_cell_count_with_no_data_fails_without_allocating()
    {
        var bytes = M.File(M.Cell([10000, 10000], "c"));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Fails(bytes);
        Assert.Contains("100000000 cells", ex.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void Huge_struct_array_with_no_fields_loads_without_allocating_per_element()
    {
        // Regression: a 200-byte file declaring a 16383x16383 struct with no fields made the reader
        // allocate two 1 GB reorder tables (2 GB peak, 8 s) although the array holds no data.
        var bytes = M.File(M.Struct([16383, 16383], "s", []));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var s = MatFile.Parse(bytes, Name)["s"].As<MatStructArray>();
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        Assert.Equal(16383 * 16383, s.Count);
        Assert.Empty(s.FieldNames);
    }

    [Fact]
    public void Huge_declared_decompressed_size_fails_without_allocating()
    {
        // The inner tag claims 4 GB; only 16 bytes of it exist.
        var inner = MatBytes.Concat(M.U32(MiMatrix), M.U32(0xFFFFFFF0), new byte[16]);
        var bytes = M.File(M.CompressedRaw(Zlib(inner)));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Fails(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 2_000_000);
        Assert.Contains("limit", ex.Message);
        Assert.Equal(128, ex.Offset);
    }

    [Fact]
    public void Declared_size_within_the_limit_but_not_delivered_fails_without_allocating_it()
    {
        var inner = MatBytes.Concat(M.U32(MiMatrix), M.U32(500_000_000), new byte[16]);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Fails(M.File(M.CompressedRaw(Zlib(inner))));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 2_000_000);
        Assert.Contains("ends after 24 of the 500000008 bytes", ex.Message);
    }

    [Fact]
    public void Errors_inside_compressed_data_give_both_offsets()
    {
        var bad = M.Numeric(MxDouble, [2, 3], "a", MiDouble, [1, 2]);
        var ex = Fails(M.File(M.Compressed(bad)));
        Assert.Equal(128, ex.CompressedElementOffset);
        Assert.Equal(8 + 16 + 16 + 16, ex.Offset); // matrix tag, flags, dims (2 values), name: then the data element
        Assert.Contains("decompressed data of the compressed element at file byte 128", ex.Message);
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_rejected_and_shallower_nesting_is_fine()
    {
        static byte[] Nest(int depth) => depth == 0
            ? M.Numeric(MxDouble, [1, 1], "", MiDouble, [1])
            : M.Cell([1, 1], "", Nest(depth - 1));

        var deep = M.File(M.Cell([1, 1], "c", Nest(40)));
        Assert.Contains("nested more than 32", Fails(deep).Message);
        var ok = MatFile.Parse(M.File(M.Cell([1, 1], "c", Nest(20))), Name);
        Assert.IsType<MatCellArray>(ok["c"]);
        Assert.Contains("nested more than 5", Fails(M.File(M.Cell([1, 1], "c", Nest(10))), new MatReadOptions { MaxDepth = 5 }).Message);
    }

    [Fact]
    public void Sparse_arrays_are_reported_as_unsupported_by_name()
    {
        var sparse = M.Matrix(MxSparse, [3, 3], "sp", 0, M.Element(MiInt32, M.U32(0)));
        var ex = Fails(M.File(sparse));
        Assert.Contains("'sp' is a sparse array", ex.Message);
        Assert.Contains("not supported", ex.Message);
    }

    [Fact]
    public void Invalid_utf8_in_char_data_is_reported()
    {
        var bad = M.Matrix(MxChar, [1, 2], "s", 0, M.Element(MiUtf8, [0xC3, 0x28]));
        Assert.Contains("UTF-8", Fails(M.File(bad)).Message);
    }

    [Fact]
    public void Small_element_claiming_more_than_four_bytes_is_reported()
    {
        var bad = M.Matrix(MxDouble, [1, 1], "a", 0, M.U32((9u << 16) | MiUInt8), new byte[4]);
        Assert.Contains("at most 4", Fails(M.File(bad)).Message);
    }

    [Fact]
    public void Missing_file_is_a_plain_file_not_found()
    {
        Assert.Throws<FileNotFoundException>(() => MatFile.Read(Path.Combine(Path.GetTempPath(), "no-such-" + Guid.NewGuid() + ".mat")));
    }

    /// <summary>
    /// A 1x1 double inside a miCOMPRESSED element that inflates to 256 MiB of zeros (about 256 KB deflated): the audit's
    /// file of this kind (1 GiB) reached 3 GB before the dimension check. A numeric array's dimensions fix its data size,
    /// so the reader stops after the first inflated block.
    /// </summary>
    [Theory]
    [InlineData(true, "needs 8 bytes of miDOUBLE data but declares 268435456")]
    [InlineData(false, "its dimensions account for at most")]
    public void CompressedNumericArray_LargerThanItsDimensions_IsRefusedBeforeInflating(bool inData, string problem)
    {
        const long n = 256L << 20;
        var flags = M.Element(MiUInt32, MatBytes.Concat(M.U32(MxDouble), M.U32(0)));
        var dims = M.Element(MiInt32, MatBytes.Concat(M.U32(1), M.U32(1)));
        var name = M.Element(MiInt8, "x"u8.ToArray());
        // Either the data element declares the gigabytes, or it is a proper 8 bytes followed by them as "padding".
        var real = inData ? MatBytes.Concat(M.U32(MiDouble), M.U32((uint)n)) : M.Element(MiDouble, new byte[8]);
        var body = flags.Length + dims.Length + name.Length + real.Length + n;
        using var deflated = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(deflated, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(MatBytes.Concat(M.U32(MiMatrix), M.U32((uint)body), flags, dims, name, real));
            var zeros = new byte[1 << 20];
            for (var i = 0; i < n >> 20; i++) zlib.Write(zeros);
        }
        var bytes = M.File(M.CompressedRaw(deflated.ToArray()));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Fails(bytes);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16_000_000, $"{GC.GetAllocatedBytesForCurrentThread() - before} bytes allocated");
        Assert.Contains(problem, ex.Message);
        Assert.Equal(128, ex.Offset);
    }
}
