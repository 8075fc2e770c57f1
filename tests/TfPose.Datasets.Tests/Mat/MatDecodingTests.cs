using System.Text;
using TfPose.Datasets.Mat;
using static TfPose.Datasets.Tests.Mat.MatBytes;

namespace TfPose.Datasets.Tests.Mat;

public class MatDecodingTests
{
    private static MatFile Parse(byte[] bytes) => MatFile.Parse(bytes, "test.mat");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Double_matrix_is_exposed_row_major_with_its_dimensions(bool bigEndian)
    {
        var m = new MatBytes(bigEndian);
        // MATLAB's [1 2 3; 4 5 6] is stored column by column.
        var file = m.File(m.Numeric(MxDouble, [2, 3], "a", MiDouble, [1, 4, 2, 5, 3, 6]));

        var mat = Parse(file);

        Assert.Equal(bigEndian, mat.IsBigEndian);
        var a = Assert.IsType<MatNumericArray<double>>(mat["a"]);
        Assert.Equal([2, 3], a.Dimensions);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], a.Real);
        Assert.Equal(6.0, a[1, 2]);
        Assert.Equal("double", a.ClassName);
        Assert.False(a.IsComplex);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_numeric_class_decodes_to_its_clr_type(bool bigEndian)
    {
        var m = new MatBytes(bigEndian);
        var file = m.File(
            m.Numeric(MxInt8, [1, 3], "i8", MiInt8, [-128, 0, 127]),
            m.Numeric(MxUInt8, [1, 2], "u8", MiUInt8, [0, 255]),
            m.Numeric(MxInt16, [1, 2], "i16", MiInt16, [-32768, 1234]),
            m.Numeric(MxUInt16, [1, 2], "u16", MiUInt16, [65535, 7]),
            m.Numeric(MxInt32, [1, 2], "i32", MiInt32, [int.MinValue, 42]),
            m.Numeric(MxUInt32, [1, 2], "u32", MiUInt32, [uint.MaxValue, 9]),
            m.Numeric(MxInt64, [1, 2], "i64", MiInt64, [-(1L << 40), 3]),
            m.Matrix(MxUInt64, [1, 1], "u64", 0, m.Element(MiUInt64, m.Bytes(8, ulong.MaxValue))),
            m.Numeric(MxSingle, [1, 2], "f32", MiSingle, [1.5, -0.25]));

        var mat = Parse(file);

        Assert.Equal(new sbyte[] { -128, 0, 127 }, mat["i8"].As<MatNumericArray<sbyte>>().Real);
        Assert.Equal(new byte[] { 0, 255 }, mat["u8"].As<MatNumericArray<byte>>().Real);
        Assert.Equal(new short[] { -32768, 1234 }, mat["i16"].As<MatNumericArray<short>>().Real);
        Assert.Equal(new ushort[] { 65535, 7 }, mat["u16"].As<MatNumericArray<ushort>>().Real);
        Assert.Equal([int.MinValue, 42], mat["i32"].As<MatNumericArray<int>>().Real);
        Assert.Equal([uint.MaxValue, 9u], mat["u32"].As<MatNumericArray<uint>>().Real);
        Assert.Equal([-(1L << 40), 3L], mat["i64"].As<MatNumericArray<long>>().Real);
        Assert.Equal([ulong.MaxValue], mat["u64"].As<MatNumericArray<ulong>>().Real);
        Assert.Equal([1.5f, -0.25f], mat["f32"].As<MatNumericArray<float>>().Real);
        Assert.Equal(MatClass.Int16, mat["i16"].Class);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Values_stored_in_a_smaller_type_and_small_elements_are_widened(bool bigEndian)
    {
        var m = new MatBytes(bigEndian);
        // MATLAB saves a double array of small integers as miUINT8 / miINT16 and tiny payloads as small elements.
        var file = m.File(
            m.Numeric(MxDouble, [2, 2], "d", MiUInt8, [1, 3, 2, 200]),
            m.Numeric(MxDouble, [1, 2], "neg", MiInt16, [-5, 300]),
            m.Matrix(MxDouble, [1, 1], "small", 0, m.SmallElement(MiUInt8, [15])),
            m.Matrix(MxInt32, [1, 1], "small32", 0, m.SmallElement(MiInt32, m.Values(MiInt32, -7))));

        var mat = Parse(file);

        Assert.Equal([1.0, 2, 3, 200], mat["d"].As<MatNumericArray<double>>().Real);
        Assert.Equal([-5.0, 300], mat["neg"].As<MatNumericArray<double>>().Real);
        Assert.Equal([15.0], mat["small"].As<MatNumericArray<double>>().Real);
        Assert.Equal([-7], mat["small32"].As<MatNumericArray<int>>().Real);
    }

    [Fact]
    public void Logical_and_complex_flags_are_honoured()
    {
        var m = new MatBytes(false);
        var file = m.File(
            m.Numeric(MxUInt8, [1, 3], "mask", MiUInt8, [1, 0, 1], Logical),
            m.Matrix(MxDouble, [1, 2], "z", Complex, m.Element(MiDouble, m.Values(MiDouble, 1, 2)), m.Element(MiDouble, m.Values(MiDouble, -1, 0.5))));

        var mat = Parse(file);

        var mask = mat["mask"].As<MatNumericArray<byte>>();
        Assert.True(mask.IsLogical);
        Assert.Equal("logical", mask.ClassName);
        var z = mat["z"].As<MatNumericArray<double>>();
        Assert.Equal([1.0, 2], z.Real);
        Assert.Equal([-1.0, 0.5], z.Imaginary!);
    }

    [Fact]
    public void Three_dimensional_arrays_map_every_subscript_correctly()
    {
        var m = new MatBytes(false);
        int d0 = 2, d1 = 3, d2 = 4;
        // Value at (i,j,k) is its column-major index, so the expected row-major layout follows from the formula.
        var colMajor = Enumerable.Range(0, d0 * d1 * d2).Select(x => (double)x).ToArray();
        var mat = Parse(m.File(m.Numeric(MxDouble, [d0, d1, d2], "t", MiDouble, colMajor)));

        var t = mat["t"].As<MatNumericArray<double>>();
        Assert.Equal([d0, d1, d2], t.Dimensions);
        for (var i = 0; i < d0; i++)
            for (var j = 0; j < d1; j++)
                for (var k = 0; k < d2; k++)
                    Assert.Equal(i + d0 * j + d0 * d1 * k, t.Real[t.LinearIndex([i, j, k])]);
        Assert.Equal(6.0, t.Real[1]); // (0,0,1) is column-major index 6
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Char_arrays_decode_utf8_and_utf16_and_two_dimensional_text(bool bigEndian)
    {
        var m = new MatBytes(bigEndian);
        var file = m.File(
            m.CharUtf8([1, 6], "u8", "héllo€"),
            m.CharUtf16([1, 5], "u16", "Ωmega"),
            m.CharUtf8([2, 3], "rows", "adbecf"),
            m.Matrix(MxChar, [1, 2], "latin", 0, m.Element(MiUInt16, m.Values(MiUInt16, 'o', 'k'))),
            m.Matrix(MxChar, [0, 0], "empty", 0, m.Element(MiUtf8, [])));

        var mat = Parse(file);

        Assert.Equal("héllo€", mat["u8"].As<MatCharArray>().Text);
        Assert.Equal("Ωmega", mat["u16"].As<MatCharArray>().Text);
        Assert.Equal(["abc", "def"], mat["rows"].As<MatCharArray>().Rows);
        Assert.Equal("ok", mat["latin"].As<MatCharArray>().Text);
        Assert.True(mat["empty"].IsEmpty);
        Assert.Equal("", mat["empty"].As<MatCharArray>().Text);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Nested_structs_and_cells_are_reachable_by_field_name_and_index(bool bigEndian)
    {
        var m = new MatBytes(bigEndian);
        var inner = m.Struct([1, 1], "", ["x"], m.Numeric(MxDouble, [1, 1], "", MiDouble, [42]));
        var cell = m.Cell([2, 2], "",
            m.CharUtf8([1, 2], "", "c0"), // (0,0)
            m.CharUtf8([1, 2], "", "c1"), // (1,0)
            inner,                         // (0,1)
            m.Matrix(MxDouble, [0, 0], "", 0, m.Element(MiDouble, []))); // (1,1)
        // 2x1 struct array, elements column-major, each element's fields in order.
        var s = m.Struct([2, 1], "s", ["name", "data", "empty"],
            m.CharUtf8([1, 5], "", "first"), cell, m.Element(MiMatrix, []),
            m.CharUtf8([1, 6], "", "second"), m.Numeric(MxDouble, [1, 2], "", MiDouble, [7, 8]), m.Element(MiMatrix, []));

        var mat = Parse(m.File(s));

        var st = mat["s"].As<MatStructArray>();
        Assert.Equal(["name", "data", "empty"], st.FieldNames);
        Assert.Equal("first", st.Get(0, "name").As<MatCharArray>().Text);
        Assert.Equal("second", st[1, "name"].As<MatCharArray>().Text);
        Assert.True(st[0, "empty"].IsEmpty);
        Assert.Equal([0, 0], st[0, "empty"].Dimensions);
        var c = st[0, "data"].As<MatCellArray>();
        Assert.Equal("c0", c[0, 0].As<MatCharArray>().Text);
        Assert.Equal("c1", c[1, 0].As<MatCharArray>().Text);
        Assert.Equal(42.0, c[0, 1].As<MatStructArray>()["x"].As<MatNumericArray<double>>().Real[0]);
        Assert.True(c[1, 1].IsEmpty);
        Assert.Equal([7.0, 8], st[1, "data"].As<MatNumericArray<double>>().Real);
        Assert.Throws<KeyNotFoundException>(() => st.Get(0, "nope"));
        Assert.Throws<InvalidOperationException>(() => st["name"]);
    }

    [Fact]
    public void Struct_array_elements_are_reordered_row_major()
    {
        var m = new MatBytes(false);
        // 2x2 struct, column-major elements (0,0),(1,0),(0,1),(1,1) hold 00, 10, 01, 11.
        var s = m.Struct([2, 2], "s", ["v"],
            m.CharUtf8([1, 2], "", "00"), m.CharUtf8([1, 2], "", "10"),
            m.CharUtf8([1, 2], "", "01"), m.CharUtf8([1, 2], "", "11"));

        var st = Parse(m.File(s))["s"].As<MatStructArray>();

        Assert.Equal(["00", "01", "10", "11"], Enumerable.Range(0, 4).Select(i => st[i, "v"].As<MatCharArray>().Text));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compressed_elements_decode_like_plain_ones(bool bigEndian)
    {
        var m = new MatBytes(bigEndian);
        var file = m.File(
            m.Compressed(m.Numeric(MxDouble, [2, 2], "a", MiDouble, [1, 3, 2, 4])),
            m.Compressed(m.Struct([1, 1], "s", ["t"], m.CharUtf8([1, 3], "", "abc"))),
            m.Numeric(MxInt32, [1, 1], "plain", MiInt32, [5]));

        var mat = Parse(file);

        Assert.Equal(["a", "s", "plain"], mat.Variables.Select(v => v.Name));
        Assert.Equal([1.0, 2, 3, 4], mat["a"].As<MatNumericArray<double>>().Real);
        Assert.Equal("abc", mat["s"].As<MatStructArray>()["t"].As<MatCharArray>().Text);
        Assert.Equal([5], mat["plain"].As<MatNumericArray<int>>().Real);
    }

    [Fact]
    public void Compressed_data_from_a_real_deflater_decodes_too()
    {
        var m = new MatBytes(false);
        var element = m.Numeric(MxUInt8, [100, 100], "big", MiUInt8, Enumerable.Range(0, 10000).Select(i => (double)(i % 7)).ToArray());
        using var ms = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(ms, System.IO.Compression.CompressionLevel.Optimal))
            z.Write(element);
        var file = m.File(m.CompressedRaw(ms.ToArray()));

        var big = Parse(file)["big"].As<MatNumericArray<byte>>();

        // Column-major value at (r,c) is (r + 100c) % 7.
        Assert.Equal((3 + 100 * 5) % 7, big[3, 5]);
        Assert.Equal((99 + 100 * 1) % 7, big[99, 1]);
    }

    [Fact]
    public void Tree_dump_shows_names_dimensions_classes_and_short_values()
    {
        var m = new MatBytes(false);
        var file = m.File(m.Struct([1, 1], "anno", ["imname", "n"], m.CharUtf8([1, 3], "", "img"), m.Numeric(MxDouble, [1, 1], "", MiUInt8, [15])));
        var text = new StringWriter();

        new MatTreeWriter(text).Write(Parse(file));

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal("anno  1x1 struct", lines[0]);
        Assert.Equal("├─ imname  1x3 char  'img'", lines[1]);
        Assert.Equal("└─ n  1x1 double  15", lines[2]);
    }
}
