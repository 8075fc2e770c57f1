using System.Globalization;
using System.Text.RegularExpressions;
using System.Text;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;
using TfPose.Graph;
using TfPose.IO;

namespace TfPose.Runtime;

/// <summary>Reads and writes NumPy <c>.npy</c> files (format 1.0–3.0, little-endian, C order) as graph tensors.</summary>
public static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static GraphTensor Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a .npy file (bad magic).");
        var major = bytes[6];
        int headerLength, offset;
        if (major == 1)
        {
            headerLength = BitConverter.ToUInt16(bytes, 8);
            offset = 10;
        }
        else
        {
            if (bytes.Length < 12)
                throw new InvalidDataException($"{path}: truncated .npy header.");
            var declared = BitConverter.ToUInt32(bytes, 8);
            if (declared > bytes.Length - 12)
                throw new InvalidDataException($"{path}: the .npy header declares {declared} bytes, but the file holds {bytes.Length - 12} after its preamble (truncated or corrupt).");
            headerLength = (int)declared;
            offset = 12;
        }
        if (offset + headerLength > bytes.Length)
            throw new InvalidDataException($"{path}: the .npy header declares {headerLength} bytes, but the file holds {bytes.Length - offset} after its preamble (truncated or corrupt).");
        var header = Encoding.Latin1.GetString(bytes, offset, headerLength);
        var descr = DescrRegex().Match(header);
        var order = FortranRegex().Match(header);
        var shapeMatch = ShapeRegex().Match(header);
        if (!descr.Success || !shapeMatch.Success)
            throw new InvalidDataException($"{path}: cannot read the .npy header '{header.Trim()}'.");
        if (order.Success && order.Groups[1].Value == "True")
            throw new InvalidDataException($"{path}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray.");
        var shapeText = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new long[shapeText.Length];
        for (var i = 0; i < shape.Length; i++)
            if (!long.TryParse(shapeText[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new InvalidDataException($"{path}: the .npy shape ({shapeMatch.Groups[1].Value}) has '{shapeText[i]}' where a dimension (a whole number of 0 or more) belongs.");
        var (type, size) = descr.Groups[1].Value switch
        {
            "<f4" => (TensorElementType.Float, 4),
            "<f8" => (TensorElementType.Double, 8),
            "<i4" => (TensorElementType.Int32, 4),
            "<i8" => (TensorElementType.Int64, 8),
            "|u1" => (TensorElementType.UInt8, 1),
            "|i1" => (TensorElementType.Int8, 1),
            "<i2" => (TensorElementType.Int16, 2),
            "|b1" => (TensorElementType.Bool, 1),
            var d => throw new InvalidDataException($"{path}: dtype '{d}' is not supported (float32/64, int8/16/32/64, uint8, bool little-endian)."),
        };
        var dataOffset = offset + headerLength;
        // Checked against the file before multiplying on: a declared shape may overflow 64 bits.
        long count = Array.IndexOf(shape, 0L) >= 0 ? 0 : 1;
        var fits = (bytes.Length - dataOffset) / size;
        foreach (var d in shape)
        {
            if (count == 0) break;
            if (count > fits / d)
                throw new InvalidDataException($"{path}: the .npy header declares shape {TensorValue.ShapeText(shape)}, more values than the {bytes.Length - dataOffset} data bytes in the file hold.");
            count *= d;
        }
        if (bytes.Length - dataOffset != count * size)
            throw new InvalidDataException($"{path}: header says {TensorValue.ShapeText(shape)} ({count * size} bytes) but the file holds {bytes.Length - dataOffset} data bytes.");
        var data = bytes.AsSpan(dataOffset).ToArray();
        return type switch
        {
            TensorElementType.Float => GraphTensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
            TensorElementType.Double => GraphTensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
            TensorElementType.Int32 => GraphTensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(data).ToArray(), shape),
            TensorElementType.Int64 => GraphTensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
            TensorElementType.Bool => GraphTensor.FromArray(data.Select(b => b != 0).ToArray(), shape),
            // Quantized TensorFlow Lite models take and give int8 / int16 tensors.
            TensorElementType.Int8 => GraphTensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(data).ToArray(), shape),
            TensorElementType.Int16 => GraphTensor.FromArray(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(data).ToArray(), shape),
            _ => GraphTensor.FromArray(data, shape),
        };
    }

    public static void Write(string path, GraphTensor tensor)
    {
        var descr = tensor.ElementType switch
        {
            TensorElementType.Float => "<f4",
            TensorElementType.Double => "<f8",
            TensorElementType.Int32 => "<i4",
            TensorElementType.Int64 => "<i8",
            TensorElementType.UInt8 => "|u1",
            TensorElementType.Int8 => "|i1",
            TensorElementType.Int16 => "<i2",
            TensorElementType.Bool => "|b1",
            _ => throw new NotSupportedException($"{tensor.ElementType} tensors cannot be written as .npy."),
        };
        var shape = tensor.Shape.Length == 1 ? $"({tensor.Shape[0]},)" : $"({string.Join(", ", tensor.Shape)})";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        var data = tensor.AsSpan<byte>().ToArray();
        AtomicFile.Write(path, s =>
        {
            s.Write(Magic);
            s.WriteByte(1);
            s.WriteByte(0);
            s.Write(BitConverter.GetBytes((ushort)header.Length));
            s.Write(Encoding.Latin1.GetBytes(header));
            s.Write(data);
        });
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']+)'")]
    private static partial Regex DescrRegex();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranRegex();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapeRegex();
}
