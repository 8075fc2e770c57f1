using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;
using TfPose.Graph;

namespace TfPose.Native;

/// <summary>The codes of tfpose.h's tfpose_code.</summary>
internal enum StatusCode
{
    Ok = 0,
    InvalidArgument = 1,
    NotFound = 2,
    InvalidHandle = 3,
    BufferTooSmall = 4,
    InvalidModel = 5,
    RuntimeError = 6,
    Internal = 7,
}

/// <summary>Raised when a caller's buffer is too small; the needed size was already reported.</summary>
internal sealed class BufferTooSmallException(string message) : Exception(message);

/// <summary>
/// tfpose_status objects: one native block { magic, code, UTF-8 message, NUL } that C reads without
/// calling back into .NET for anything but free. Plain native memory (not a handle) so that even a
/// status for "out of handles" can be made.
/// </summary>
internal static unsafe class Status
{
    private const uint Magic = 0x54465053; // "TFPS"
    private const uint FreedMagic = 0xDEADF5E5;
    private const int HeaderSize = 8;

    public static nint Create(StatusCode code, string message)
    {
        var bytes = Encoding.UTF8.GetByteCount(message);
        var block = (byte*)NativeMemory.Alloc((nuint)(HeaderSize + bytes + 1));
        *(uint*)block = Magic;
        *(int*)(block + 4) = (int)code;
        Encoding.UTF8.GetBytes(message, new Span<byte>(block + HeaderSize, bytes));
        block[HeaderSize + bytes] = 0;
        return (nint)block;
    }

    /// <summary>The status for an exception caught at the boundary.</summary>
    public static nint FromException(Exception ex)
    {
        try
        {
            if (NativeLibraries.DescribeLoadFailure(ex) is { } loadFailure)
                return Create(StatusCode.RuntimeError, loadFailure);
            var code = Classify(ex);
            var message = code == StatusCode.Internal ? $"{ex.GetType().Name}: {ex.Message}" : ex.Message;
            return Create(code, message);
        }
        catch
        {
            // Even a failure to describe the failure must not cross the boundary.
            return Create(StatusCode.Internal, "an error occurred and its message could not be produced");
        }
    }

    private static StatusCode Classify(Exception ex) => ex switch
    {
        InvalidHandleException => StatusCode.InvalidHandle,
        BufferTooSmallException => StatusCode.BufferTooSmall,
        FileNotFoundException or DirectoryNotFoundException => StatusCode.NotFound,
        GraphFormatException or InvalidProtocolBufferException or InvalidDataException or NotSupportedException => StatusCode.InvalidModel,
        ArgumentException or KeyNotFoundException => StatusCode.InvalidArgument,
        OnnxRuntimeException or OpenCVException or InvalidOperationException or OutOfMemoryException or IOException or UnauthorizedAccessException => StatusCode.RuntimeError,
        _ => StatusCode.Internal,
    };

    public static bool IsStatus(nint status) => status != 0 && *(uint*)status == Magic;

    public static StatusCode Code(nint status) =>
        status == 0 ? StatusCode.Ok : IsStatus(status) ? (StatusCode)(*(int*)(status + 4)) : StatusCode.Internal;

    public static byte* Message(nint status)
    {
        if (status == 0)
            return Empty();
        if (!IsStatus(status))
            return NotAStatus();
        return (byte*)status + HeaderSize;
    }

    public static void Free(nint status)
    {
        // Ignore what is not a live status (e.g. a double free that finds the poisoned magic).
        if (!IsStatus(status))
            return;
        *(uint*)status = FreedMagic;
        NativeMemory.Free((void*)status);
    }

    // Literals live in the image's read-only data for the life of the process (no allocation, no state).
    private static byte* Empty() => Literal("\0"u8);

    private static byte* NotAStatus() => Literal("(not a tfpose_status: already freed or not created by this library)\0"u8);

    public static byte* Literal(ReadOnlySpan<byte> nulTerminated) =>
        (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref MemoryMarshal.GetReference(nulTerminated));
}
