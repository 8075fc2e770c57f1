namespace TfPose.Graph;

/// <summary>
/// A graph file that cannot be used as given: corrupt, not a GraphDef, not frozen, or using ops
/// TfPose cannot run. The message names the file and every problem found, so one run tells the
/// user everything to fix.
/// </summary>
public class GraphFormatException : Exception
{
    public GraphFormatException(string? path, string problem, Exception? inner = null)
        : base(path is null ? problem : $"{path}: {problem}", inner)
    {
        FilePath = path;
        Problem = problem;
    }

    public string? FilePath { get; }

    public string Problem { get; }
}
