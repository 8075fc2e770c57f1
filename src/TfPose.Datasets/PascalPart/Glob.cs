namespace TfPose.Datasets.PascalPart;

/// <summary>Patterns with '*' as the only wildcard, enough for numbered parts like "wheel_*".</summary>
internal static class Glob
{
    public static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        var star = pattern.IndexOf('*');
        if (star < 0)
            return pattern.SequenceEqual(text);
        if (!text.StartsWith(pattern[..star]))
            return false;
        var rest = pattern[(star + 1)..];
        for (var start = star; start <= text.Length; start++)
            if (Matches(rest, text[start..]))
                return true;
        return false;
    }

    /// <summary>Part names never contain '*', so a raw name is its own pattern.</summary>
    public static string Escape(string name) => name.Contains('*')
        ? throw new ArgumentException($"part name '{name}' contains '*'")
        : name;
}
