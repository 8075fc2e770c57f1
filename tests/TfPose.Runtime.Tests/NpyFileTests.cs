using System.Text;

namespace TfPose.Runtime.Tests;

/// <summary>
/// Hostile .npy headers, built byte by byte from NumPy's format description (magic, version, header length, a Python
/// dict literal): each gives one message naming the file and what is wrong, never .NET's "Arithmetic operation
/// resulted in an overflow."
/// </summary>
public sealed class NpyFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tfpose-npy-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Npy(string dict, int dataBytes, byte major = 1, uint? declaredHeader = null)
    {
        var header = Encoding.Latin1.GetBytes(dict + "\n");
        using var s = new MemoryStream();
        s.Write([0x93, .. "NUMPY"u8, major, 0]);
        if (major == 1) s.Write(BitConverter.GetBytes((ushort)(declaredHeader ?? (uint)header.Length)));
        else s.Write(BitConverter.GetBytes(declaredHeader ?? (uint)header.Length));
        s.Write(header);
        s.Write(new byte[dataBytes]);
        var path = Path.Combine(_dir, "t.npy");
        File.WriteAllBytes(path, s.ToArray());
        return path;
    }

    [Fact]
    public void AWellFormedFile_Reads()
    {
        using var t = NpyFile.Read(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24));
        Assert.Equal([2L, 3L], t.Shape);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 9223372036854775807), }", "more values than the 8 data bytes in the file hold")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "more values than the 8 data bytes in the file hold")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 1), }", "'99999999999999999999999' where a dimension")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 1), }", "'-2' where a dimension")]
    public void AShapeThatOverflowsOrIsNotANumber_NamesTheFileAndTheShape(string dict, string problem)
    {
        var path = Npy(dict, 8);
        var ex = Assert.Throws<InvalidDataException>(() => NpyFile.Read(path));
        Assert.StartsWith(path + ": ", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void AVersion2HeaderLengthPastTheFile_IsReported()
    {
        var path = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, major: 2, declaredHeader: 0xFFFFFFF0);
        var ex = Assert.Throws<InvalidDataException>(() => NpyFile.Read(path));
        Assert.StartsWith(path + ": the .npy header declares 4294967280 bytes", ex.Message);
    }
}
