using System.CommandLine;
using System.CommandLine.Help;

namespace TfPose.Cli;

/// <summary>
/// Help as System.CommandLine writes it, except the usage line: its default puts a parent command's arguments before a
/// subcommand (<c>tfpose pose &lt;INPUT&gt;... eval</c>), which is not how the subcommand is called. Its layout types
/// are internal, so the written text is corrected.
/// </summary>
internal static class HelpLayout
{
    /// <summary>Runs the help action of <paramref name="parse"/> and writes its text with the usage line corrected.</summary>
    public static int Write(ParseResult parse, TextWriter output)
    {
        using var text = new StringWriter();
        var code = parse.Invoke(new InvocationConfiguration { Output = text, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null });
        output.Write(FixUsage(text.ToString(), parse.CommandResult.Command));
        return code;
    }

    internal static string FixUsage(string help, Command command)
    {
        var lines = help.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var usage = lines.IndexOf("Usage:");
        if (usage >= 0 && usage + 1 < lines.Count)
            lines[usage + 1] = lines[usage + 1][..(lines[usage + 1].Length - lines[usage + 1].TrimStart().Length)] + UsageLine(command);
        // The arguments section also lists the parents' arguments; a subcommand does not take them.
        var parentLabels = command.Parents.OfType<Command>().SelectMany(p => p.Arguments).Select(a => $"<{a.HelpName ?? a.Name}>").ToHashSet();
        var section = lines.IndexOf("Arguments:");
        if (section >= 0 && parentLabels.Count > 0)
        {
            var end = section + 1;
            while (end < lines.Count && lines[end].Length > 0) end++;
            var kept = new List<string>();
            var dropping = false;
            foreach (var line in lines.Skip(section + 1).Take(end - section - 1))
            {
                var trimmed = line.TrimStart();
                var indent = line.Length - trimmed.Length;
                if (indent <= 2) dropping = parentLabels.Contains(trimmed.Split(' ')[0]);
                if (!dropping) kept.Add(line);
            }
            lines.RemoveRange(section, end - section + (kept.Count == 0 && end < lines.Count ? 1 : 0));
            if (kept.Count > 0) lines.InsertRange(section, ["Arguments:", .. kept]);
        }
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>The usage line of <paramref name="command"/>: its parents by name only, then its own arguments.</summary>
    public static string UsageLine(Command command)
    {
        var path = new List<string>();
        for (var c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
            path.Insert(0, c.Name);
        foreach (var argument in command.Arguments.Where(a => !a.Hidden))
            path.Add(ArgumentLabel(argument));
        if (command.Subcommands.Any(s => !s.Hidden)) path.Add("[command]");
        if (command.Options.Any(o => !o.Hidden) || command.Parents.Any()) path.Add("[options]");
        return string.Join(' ', path);
    }

    private static string ArgumentLabel(Argument argument)
    {
        var label = $"<{argument.HelpName ?? argument.Name}>";
        if (argument.Arity.MaximumNumberOfValues > 1) label += "...";
        return argument.Arity.MinimumNumberOfValues == 0 ? $"[{label}]" : label;
    }

    public static bool IsHelp(ParseResult parse) => parse.Action is HelpAction;
}
