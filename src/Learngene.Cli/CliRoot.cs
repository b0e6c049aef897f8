using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.RegularExpressions;

namespace Learngene.Cli;

/// <summary>The command tree, and its parse errors said in words: System.CommandLine names a value's .NET
/// type ("System.Nullable`1[System.Double]"); a user wants to hear "a number".</summary>
public static class CliRoot
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Learngene: build variable-sized vision transformers from condensed knowledge (learngenes).");
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(LearnCommand.Create());
        root.Subcommands.Add(ExpandCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(PoolCommand.Create());
        root.Subcommands.Add(DiffusionCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        return root;
    }

    /// <summary>Options whose whole number must be at least 1 (counts and sizes); other whole numbers may be 0 or negative.</summary>
    static readonly HashSet<string> AtLeastOne =
    [
        "--epochs", "--batch-size", "--batch", "--depth", "--width", "--heads", "--patch-size", "--image-size", "--steps", "--repeats",
        "--seeds", "--classes", "--samples", "--tailors", "--rank", "--eval-batch-size", "--learngene-rank", "--tailor-rank",
        "--eval-per-class", "--per-class", "--ranks",
    ];

    /// <summary>The first parse error as one line, or null when the command line parsed.</summary>
    public static string? ErrorLine(ParseResult parse)
    {
        if (parse.Errors.Count == 0) return null;
        // A value outside an option's list ("Argument 'x' not recognized. Must be one of: …" over several lines).
        foreach (var e in parse.Errors)
            if (Regex.Match(e.Message, @"^Argument '(?<value>.*)' not recognized\. Must be one of:(?<list>[\s\S]*)$") is { Success: true } among)
            {
                var choices = Regex.Matches(among.Groups["list"].Value, "'([^']*)'").Select(c => c.Groups[1].Value);
                string who = OptionOf(e) ?? "the value";
                return $"{who} expects one of {string.Join(", ", choices)} (got '{among.Groups["value"].Value}')";
            }
        // A value that does not parse, then an unknown word, say more than a missing option or command does.
        string message = (parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Cannot parse"))
                          ?? parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized")) ?? parse.Errors[0]).Message;
        var m = Regex.Match(message, @"^Cannot parse argument '(?<value>.*)' for (option|command|argument) '(?<name>[^']*)' as expected type '(?<type>[^']*)'\.?$");
        if (m.Success)
        {
            string name = m.Groups["name"].Value;
            return $"{name} expects {Words(m.Groups["type"].Value, name, parse)} (got '{m.Groups["value"].Value}')";
        }
        // A verb with subcommands given none: name them.
        if (message.StartsWith("Required command was not provided") && parse.CommandResult.Command.Subcommands.Count > 0)
            return $"'{parse.CommandResult.Command.Name}' needs one of: {string.Join(", ", parse.CommandResult.Command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))} (see --help)";
        return message.TrimEnd('.') + " (see --help)";
    }

    static string? OptionOf(ParseError error)
    {
        for (var r = error.SymbolResult; r is not null; r = r.Parent)
            if (r is OptionResult o) return o.Option.Name;
        return null;
    }

    /// <summary>A .NET type name as what a user types.</summary>
    static string Words(string type, string name, ParseResult parse)
    {
        var inner = Regex.Match(type, @"^System\.Nullable`1\[(?<t>.*)\]$");
        if (inner.Success) type = inner.Groups["t"].Value;
        return type switch
        {
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            "System.Int32" or "System.Int64" or "System.Int16" => AtLeastOne.Contains(name) ? "a whole number ≥ 1" : "a whole number",
            "System.UInt32" or "System.UInt64" => "a whole number ≥ 0",
            "System.Boolean" => "true or false",
            _ => EnumWords(type, parse) ?? "a value of another form (see --help)",
        };
    }

    static string? EnumWords(string type, ParseResult parse)
    {
        var t = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(type)).FirstOrDefault(x => x is not null);
        return t is { IsEnum: true } ? "one of " + string.Join(", ", Enum.GetNames(t).Select(n => n.ToLowerInvariant())) : null;
    }
}
