using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TfPose.Native;

/// <summary>
/// Makes the native libraries libtfpose depends on (onnxruntime, OpenCvSharpExtern) load from the
/// directory of libtfpose itself. The default probing of a NativeAOT library looks next to the host
/// executable and on the system path, which is wrong for a C/C++ application that keeps libtfpose in
/// its own lib/ folder (or for tfpose.dll loaded from a plugin folder on Windows).
/// </summary>
internal static unsafe class NativeLibraries
{
#pragma warning disable CA2255 // A module initializer is exactly right here: the resolvers must be in place before any P/Invoke runs.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        try
        {
            var directory = OwnFolder.Value;
            if (directory is null)
                return; // not running as a native library (e.g. loaded by the JIT): keep the defaults
            DllImportResolver resolver = (name, _, _) => Resolve(directory, name);
            NativeLibrary.SetDllImportResolver(typeof(Microsoft.ML.OnnxRuntime.OrtEnv).Assembly, resolver);
            NativeLibrary.SetDllImportResolver(typeof(OpenCvSharp.Mat).Assembly, resolver);
        }
        catch (Exception)
        {
            // A failure here must not take the host down while loading; the first call that needs a
            // library then fails with the loader's own message, which names the missing file.
        }
    }

    /// <summary>libtfpose's own folder (where its runtimes must be), or null when not running as the native library.</summary>
    internal static readonly Lazy<string?> OwnFolder = new(OwnDirectory);

    /// <summary>The runtime files libtfpose loads from its folder, by the name P/Invoke asks for.</summary>
    internal static IReadOnlyList<string> RuntimeFiles { get; } = OperatingSystem.IsWindows()
        ? ["onnxruntime.dll", "OpenCvSharpExtern.dll"]
        : OperatingSystem.IsMacOS() ? ["libonnxruntime.dylib", "libOpenCvSharpExtern.dylib"] : ["libonnxruntime.so", "libOpenCvSharpExtern.so"];

    /// <summary>
    /// The message for a native library that failed to load (TypeInitializationException and DllNotFoundException
    /// reach the boundary as "error 7: TypeInitializationException" otherwise): which of libtfpose's runtime files are
    /// missing from its folder, else the loader's own words (a missing system library, e.g. GTK for OpenCV).
    /// </summary>
    internal static string? DescribeLoadFailure(Exception ex)
    {
        var notFound = FindInChain<DllNotFoundException>(ex);
        if (notFound is null && ex is not TypeInitializationException)
            return null;
        var folder = OwnFolder.Value;
        List<string> missing = folder is null ? [] : RuntimeFiles.Where(f => !File.Exists(Path.Combine(folder, f))).ToList();
        if (missing.Count > 0)
            return $"native library {string.Join(" and ", missing)} not found in {folder} (libtfpose loads it from its own folder: keep the SDK's "
                + (OperatingSystem.IsWindows() ? "bin" : "lib") + " files together)";
        if (notFound is null)
            return null; // a type initializer failed for another reason: classified as usual
        return $"a native library could not be loaded: {notFound.Message}"
            + (OperatingSystem.IsLinux() ? " (OpenCV's runtime needs the system libraries of libgtk-3-0, libatomic1 and libdrm2 on Debian/Ubuntu)" : "");
    }

    private static T? FindInChain<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found)
                return found;
        }
        return null;
    }

    private static nint Resolve(string directory, string name)
    {
        foreach (var file in Candidates(name))
        {
            var path = Path.Combine(directory, file);
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out var handle))
                return handle;
        }
        return 0; // fall back to the default search
    }

    private static IEnumerable<string> Candidates(string name)
    {
        yield return name;
        if (OperatingSystem.IsWindows())
        {
            yield return name + ".dll";
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return "lib" + name + ".dylib";
            yield return name + ".dylib";
        }
        else
        {
            yield return "lib" + name + ".so";
            yield return name + ".so";
        }
    }

    /// <summary>The folder of the module that contains this code (libtfpose.so / tfpose.dll), or null.</summary>
    private static string? OwnDirectory()
    {
        if (RuntimeFeature.IsDynamicCodeSupported)
            return null; // JIT: this assembly is a managed DLL, not the native library
        // Any address inside our own image identifies the module: use an export's entry point.
        var address = (void*)(delegate* unmanaged<void>)&Anchor;
        string? path = null;
        if (OperatingSystem.IsWindows())
        {
            const uint FromAddress = 0x4, UnchangedRefCount = 0x2;
            if (GetModuleHandleExW(FromAddress | UnchangedRefCount, address, out var module) != 0)
            {
                var buffer = new char[32768];
                fixed (char* p = buffer)
                {
                    var length = GetModuleFileNameW(module, p, (uint)buffer.Length);
                    if (length > 0)
                        path = new string(p, 0, (int)length);
                }
            }
        }
        else
        {
            DlInfo info;
            if (dladdr(address, &info) != 0 && info.FileName != null)
                path = Marshal.PtrToStringUTF8((nint)info.FileName);
        }
        return path is null ? null : Path.GetDirectoryName(Path.GetFullPath(path));
    }

    [UnmanagedCallersOnly]
    private static void Anchor()
    {
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public byte* FileName;
        public void* BaseAddress;
        public byte* SymbolName;
        public void* SymbolAddress;
    }

    // Bound at link time (<DirectPInvoke Include="libc" />): no library lookup is needed to find the library.
    [DllImport("libc")]
    private static extern int dladdr(void* address, DlInfo* info);

    [DllImport("kernel32", ExactSpelling = true)]
    private static extern int GetModuleHandleExW(uint flags, void* address, out nint module);

    [DllImport("kernel32", ExactSpelling = true)]
    private static extern uint GetModuleFileNameW(nint module, char* buffer, uint size);
}
