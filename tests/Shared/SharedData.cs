namespace TfPose.Tests;

/// <summary>
/// Locates the real data that lives beside the repository (../shared), or under TFPOSE_SHARED.
/// Tests read it in place; nothing from it is ever copied into the repository.
/// </summary>
internal static class SharedData
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string Model(string folder, string file) => Path("data", "models", folder, file);

    public static string Image(string name) => Path("data", "images", name);

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "TfPose.sln")))
                dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("TfPose.sln not found above " + AppContext.BaseDirectory);
        }
    }

    private static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("TFPOSE_SHARED");
        if (!string.IsNullOrEmpty(env))
            return env;
        var candidate = System.IO.Path.GetFullPath(System.IO.Path.Combine(RepoRoot, "..", "shared"));
        if (!Directory.Exists(candidate))
            throw new DirectoryNotFoundException($"Shared test data not found at {candidate}; set TFPOSE_SHARED.");
        return candidate;
    }
}
