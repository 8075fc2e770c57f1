using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using OpenCvSharp;
using TfPose.Pose;
using TfPose.Runtime;

namespace TfPose.Native;

/// <summary>
/// The functions of native/include/tfpose.h. Each one checks its arguments, calls the same public
/// library API the CLI uses, and turns every exception into a tfpose_status: nothing throws across the
/// boundary. No pose or graph logic lives here.
/// </summary>
internal static unsafe partial class Exports
{
    public const int AbiVersion = 1;

    // The ABI layer's state: the objects C holds handles to (see HandleTable).
    private static readonly HandleTable Handles = new();

    // ------------------------------------------------------------------------------------------
    // Status and version

    [UnmanagedCallersOnly(EntryPoint = "tfpose_status_code", CallConvs = [typeof(CallConvCdecl)])]
    public static int StatusCodeOf(nint status) => (int)Status.Code(status);

    [UnmanagedCallersOnly(EntryPoint = "tfpose_status_message", CallConvs = [typeof(CallConvCdecl)])]
    public static byte* StatusMessage(nint status) => Status.Message(status);

    [UnmanagedCallersOnly(EntryPoint = "tfpose_status_free", CallConvs = [typeof(CallConvCdecl)])]
    public static void StatusFree(nint status) => Status.Free(status);

    [UnmanagedCallersOnly(EntryPoint = "tfpose_version", CallConvs = [typeof(CallConvCdecl)])]
    public static nint Version(int* major, int* minor, int* patch, int* abi)
    {
        try
        {
            var version = typeof(Exports).Assembly.GetName().Version ?? new Version(0, 0, 0);
            if (major != null) *major = version.Major;
            if (minor != null) *minor = version.Minor;
            if (patch != null) *patch = Math.Max(0, version.Build);
            if (abi != null) *abi = AbiVersion;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_live_handles", CallConvs = [typeof(CallConvCdecl)])]
    public static nint LiveHandles(nuint* count)
    {
        try
        {
            Out(count, nameof(count));
            *count = (nuint)Handles.Live;
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "tfpose_dtype_size", CallConvs = [typeof(CallConvCdecl)])]
    public static nint DTypeSize(int dtype, nuint* size)
    {
        try
        {
            Out(size, nameof(size));
            *size = (nuint)PinnedTensorInfo.ElementSize(dtype);
            return 0;
        }
        catch (Exception ex)
        {
            return Status.FromException(ex);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    private static void Out<T>(T* pointer, string name) where T : unmanaged
    {
        if (pointer == null)
            throw new ArgumentNullException(name, $"{name} (the output pointer) is NULL.");
    }

    private static void Out(nint* pointer, string name)
    {
        if (pointer == null)
            throw new ArgumentNullException(name, $"{name} (the output pointer) is NULL.");
        *pointer = 0; // a failed call leaves the caller with NULL, never with garbage
    }

    private static string Utf8(byte* text, string name)
    {
        if (text == null)
            throw new ArgumentNullException(name, $"{name} is NULL.");
        return Marshal.PtrToStringUTF8((nint)text)!;
    }

    /// <summary>Reads a caller's options struct of possibly older (smaller) or newer (larger) size.</summary>
    private static T ReadOptions<T>(T* options, string name) where T : unmanaged
    {
        var value = default(T);
        if (options == null)
            return value;
        var size = *(uint*)options;
        if (size < sizeof(uint))
            throw new ArgumentException($"{name}->struct_size is {size}; set it to sizeof the struct (or use the *_INIT macro).", name);
        // Fields a newer caller added beyond what this library knows are ignored.
        Buffer.MemoryCopy(options, &value, sizeof(T), Math.Min(size, (uint)sizeof(T)));
        return value;
    }

    private static void CheckIndex(nuint index, int count, string what)
    {
        if (index >= (nuint)count)
            throw new ArgumentOutOfRangeException(nameof(index), $"{what} index {index} is out of range (there are {count}).");
    }
}
