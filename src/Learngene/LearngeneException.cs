namespace Learngene;

/// <summary>A problem with the user's input (a file, a name, an option). Its message is one line that
/// names the problem; the CLI prints it and exits non-zero without a stack trace.</summary>
public sealed class LearngeneException(string message, Exception? inner = null) : Exception(message, inner);
