using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace TfPose.IO;

/// <summary>
/// Writes a file under a temporary name beside the target and renames it into place, so a crash
/// or a full disk never leaves a half-written file under the final name. A process killed in the
/// middle of a write leaves its temporary file (<c>.NAME.PID.GUID.tmp</c>, or <c>.NAME.PID.GUID.tmp.EXT</c> from
/// <see cref="WriteThroughPath"/>) behind; the first write into the same folder by a later process removes
/// such leftovers.
/// </summary>
public static partial class AtomicFile
{
    /// <summary>A temporary file older than this is a leftover even if its process id is in use again (ids are reused).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromHours(24);

    // Folders already swept by this process: one sweep per folder, not one listing per file written (a pose run writes
    // thousands of files into one folder).
    private static readonly ConcurrentDictionary<string, bool> Swept = new(StringComparer.Ordinal);

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        Write(path, "", temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            write(stream);
            stream.Flush(flushToDisk: true);
        });
    }

    /// <summary>
    /// Calls <paramref name="writeTemporaryFile"/> with a temporary path beside <paramref name="path"/> that keeps its
    /// extension (for writers that pick the format by it, such as <c>Cv2.ImWrite</c>), then renames it into place.
    /// </summary>
    public static void WriteThroughPath(string path, Action<string> writeTemporaryFile) =>
        Write(path, Path.GetExtension(path), writeTemporaryFile);

    private static void Write(string path, string extension, Action<string> writeTemporaryFile)
    {
        ArgumentNullException.ThrowIfNull(writeTemporaryFile);
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        if (Swept.TryAdd(dir, true))
            RemoveStaleTemporaries(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp{extension}");
        try
        {
            writeTemporaryFile(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Deletes the temporary files that <see cref="Write"/> left in <paramref name="directory"/> when its process was
    /// killed: those whose process is no longer running, or older than <see cref="StaleAfter"/>. A running process's
    /// files are left alone (it may be writing them now), this process's too. Returns how many were deleted; a file
    /// that cannot be deleted is left, as the write it precedes does not depend on it.
    /// </summary>
    public static int RemoveStaleTemporaries(string directory)
    {
        var removed = 0;
        IEnumerable<string> candidates;
        try
        {
            candidates = Directory.EnumerateFiles(directory, ".*.tmp*");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        try
        {
            foreach (var file in candidates)
            {
                // Only names this class makes: a user's own ".x.tmp" is not ours to delete.
                var match = TempName().Match(Path.GetFileName(file));
                if (!match.Success || !int.TryParse(match.Groups["pid"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    continue;
                var old = DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > StaleAfter;
                if (!old && (pid == Environment.ProcessId || IsRunning(pid)))
                    continue;
                if (TryDelete(file))
                    removed++;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The folder changed or became unreadable while being listed: the sweep is a courtesy, the write goes on.
        }
        return removed;
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // .NAME.PID.GUID.tmp or .NAME.PID.GUID.tmp.EXT, GUID as 32 hex digits ("N").
    [GeneratedRegex(@"^\..+\.(?<pid>[0-9]{1,10})\.[0-9a-f]{32}\.tmp(\.[^.]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex TempName();

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return false;
    }
}
