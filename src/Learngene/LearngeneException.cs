namespace Learngene;

/// <summary>A problem with the user's input (a file, a name, a setting). Its message is one line that
/// names the problem; the CLI prints it and exits non-zero without a stack trace. The library never names
/// a command-line flag: <see cref="Setting"/> says which setting is wrong, and the CLI adds its flag.</summary>
public sealed class LearngeneException(string message, Exception? inner = null, string? setting = null) : Exception(message, inner)
{
    public LearngeneException(string message, string setting) : this(message, null, setting) { }

    /// <summary>The setting at fault, in the CLI's spelling without dashes ("data", "ancestry"), or null.</summary>
    public string? Setting { get; } = setting;
}
