namespace TfPose.Cli;

/// <summary>
/// Lists the files under a folder, recursively, the way a user means "everything in there": file links are followed,
/// directory links are followed only to a folder not walked yet. <c>Directory.EnumerateFiles(..., AllDirectories)</c>
/// follows every directory link, so one <c>self -&gt; .</c> lists each file again at every level until paths grow too
/// long (an image ran 41 times), and two such links make the walk exponential: it never ends and its memory grows.
/// </summary>
internal static class FolderWalk
{
    // Links resolved in a row before a target counts as a loop (Linux's ELOOP limit).
    private const int MaxLinkHops = 40;

    private static readonly StringComparer PathComparer =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>
    /// Files under <paramref name="root"/> that <paramref name="include"/> accepts (it sees the path as listed), as paths
    /// under <paramref name="root"/> (through the links they were found by), sorted ordinally. Each folder is walked once,
    /// by its real path, whichever way it is reached first. A folder that cannot be read, or a link loop, is passed to
    /// <paramref name="skipped"/> and left out; without it, the error is thrown. Stops with an
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static List<string> Files(string root, Func<string, bool> include, CancellationToken cancellationToken = default,
        Action<string, Exception>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(include);
        var rootPath = Path.GetFullPath(root);
        var visited = new HashSet<string>(PathComparer);
        var found = new List<string>();
        // Depth-first with an explicit stack: a deep tree must not become deep recursion.
        var pending = new Stack<(string Listed, string Real)>();
        pending.Push((rootPath, RealPath(rootPath)));
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (listed, real) = pending.Pop();
            if (!visited.Add(real))
                continue;
            FileSystemInfo[] entries;
            try
            {
                entries = new DirectoryInfo(real).GetFileSystemInfos();
            }
            catch (Exception e) when (skipped is not null && e is IOException or UnauthorizedAccessException)
            {
                skipped(listed, e);
                continue;
            }
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var path = Path.Combine(listed, entry.Name);
                if (entry.LinkTarget is null)
                {
                    if (entry is DirectoryInfo)
                        pending.Push((path, Path.Combine(real, entry.Name)));
                    else if (include(path))
                        found.Add(path);
                    continue;
                }
                string target;
                try
                {
                    var hops = 0;
                    target = Resolve(real, entry.LinkTarget, ref hops);
                }
                catch (IOException e) when (skipped is not null)
                {
                    skipped(path, e);
                    continue;
                }
                if (Directory.Exists(target))
                {
                    // Cheap early skip; the check after the pop is what guarantees each folder is walked once.
                    if (!visited.Contains(target))
                        pending.Push((path, target));
                }
                else if (include(path))
                {
                    // A file link, or a broken one: the caller reports what it cannot read like any bad file.
                    found.Add(path);
                }
            }
        }
        // Cancelled on the last entry: a partial list must not pass for the whole folder.
        cancellationToken.ThrowIfCancellationRequested();
        found.Sort(StringComparer.Ordinal);
        return found;
    }

    /// <summary>The path with every link in it resolved and no <c>.</c> or <c>..</c> left, as POSIX realpath gives.</summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full)!;
        var hops = 0;
        return Resolve(root, full[root.Length..], ref hops);
    }

    /// <summary>
    /// Walks <paramref name="relative"/> (or an absolute path) from the real folder <paramref name="real"/> one name at a
    /// time. Because the folder reached so far is always real, <c>..</c> means its parent, which a purely textual
    /// normalisation (<see cref="Path.GetFullPath(string)"/>) gets wrong after a link: <c>link/..</c> is the parent of
    /// the link's target, not the folder holding the link. <paramref name="hops"/> counts every link followed, nested ones
    /// too, so a loop ends in an error however it is spelt.
    /// </summary>
    private static string Resolve(string real, string relative, ref int hops)
    {
        if (Path.IsPathRooted(relative))
        {
            var full = Path.GetFullPath(relative);
            real = Path.GetPathRoot(full)!;
            relative = full[real.Length..];
        }
        foreach (var name in relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries))
        {
            if (name == ".")
                continue;
            if (name == "..")
            {
                real = Path.GetDirectoryName(real) ?? real;
                continue;
            }
            var next = Path.Combine(real, name);
            // LinkTarget reads the link itself whatever it points at (a file, a folder or nothing); null for a plain entry.
            if (new FileInfo(next).LinkTarget is not { } target)
            {
                real = next;
                continue;
            }
            if (++hops > MaxLinkHops)
                throw new IOException($"{next}: too many levels of symbolic links (a link loop).");
            real = Resolve(real, target, ref hops);
        }
        return real;
    }
}
