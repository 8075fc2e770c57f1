using System.CommandLine;
using System.CommandLine.Parsing;

namespace TfPose.Cli;

/// <summary>
/// Finds words that look like options but reached a command's positional argument: System.CommandLine gives an unknown
/// <c>--sise</c> to <c>INPUT...</c>, and the run then fails on a missing file "--sise" (or, worse, treats "432x368" as
/// an input). Each is reported with the closest real option. A file whose name starts with '-' still works after
/// <c>--</c> or written as <c>./-name</c>.
/// </summary>
internal static class OptionSpelling
{
    /// <summary>One line per misspelt option, or none.</summary>
    public static List<string> Problems(ParseResult parse)
    {
        var problems = new List<string>();
        var afterDoubleDash = new HashSet<Token>(ReferenceEqualityComparer.Instance);
        var seenDoubleDash = false;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == TokenType.DoubleDash) seenDoubleDash = true;
            else if (seenDoubleDash) afterDoubleDash.Add(token);
        }
        var options = VisibleOptions(parse.CommandResult);
        var suspects = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is CommandResult c; r = c.Parent)
            foreach (var child in c.Children)
            {
                // A positional argument takes any word; an option taking several values (--input A B) takes a following
                // "--word" as one of them, so there only a double dash is suspect (an option value may start with '-': -1).
                var positional = child is ArgumentResult;
                if (child is not (ArgumentResult or OptionResult)) continue;
                suspects.AddRange(child.Tokens.Where(t => t.Type == TokenType.Argument && !afterDoubleDash.Contains(t) && (positional || t.Value.StartsWith("--", StringComparison.Ordinal)))
                    .Select(t => t.Value));
            }
        suspects.AddRange(parse.UnmatchedTokens);
        foreach (var value in suspects)
        {
            if (!LooksLikeOption(value)) continue;
            var word = value.Split('=', ':')[0];
            var best = options.Select(o => (Name: o, Distance: Distance(word, o))).OrderBy(t => t.Distance).FirstOrDefault();
            var hint = best.Name is not null && best.Distance <= Math.Max(2, word.Length / 3) ? $"; did you mean '{best.Name}'?" : "";
            var line = $"unknown option '{word}' for '{CommandPath(parse.CommandResult)}'{hint} " +
                       $"(see {CommandPath(parse.CommandResult)} --help; a file whose name starts with '-' goes after -- or as ./{value})";
            if (!problems.Contains(line)) problems.Add(line);
        }
        return problems;
    }

    private static bool LooksLikeOption(string value) =>
        value.Length > 1 && value[0] == '-' && value != "--" && !char.IsDigit(value[1]) && value[1] != '.';

    private static List<string> VisibleOptions(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? r = command; r is CommandResult c; r = c.Parent)
            foreach (var o in c.Command.Options)
                if (!o.Hidden && (ReferenceEquals(c, command) || o.Recursive))
                {
                    names.Add(o.Name);
                    names.AddRange(o.Aliases);
                }
        return names;
    }

    private static string CommandPath(CommandResult command)
    {
        var names = new List<string>();
        for (SymbolResult? r = command; r is CommandResult c; r = c.Parent)
            names.Insert(0, c.Command.Name);
        return string.Join(' ', names);
    }

    /// <summary>Levenshtein distance, ignoring case.</summary>
    internal static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
