using Learngene;

namespace Learngene.Cli;

/// <summary>One line on stderr and a non-zero exit code; the stack trace only with LEARNGENE_DEBUG=1.</summary>
static class Errors
{
    public static int Report(Exception e)
    {
        while (e is AggregateException { InnerException: not null } or System.Reflection.TargetInvocationException { InnerException: not null })
            e = e.InnerException!;
        string message = e switch
        {
            LearngeneException le => le.Message,
            // .NET says "Reason : 'path'"; the path first reads better.
            IOException or UnauthorizedAccessException => System.Text.RegularExpressions.Regex.Match(e.Message, @"^(.*?)\s*:\s*'([^']*)'\s*$") is { Success: true } m
                ? $"{m.Groups[2].Value}: {m.Groups[1].Value}" : e.Message,
            Learngene.Training.TrainingInterrupted => e.Message,
            OperationCanceledException => "interrupted",
            _ => $"internal error ({e.GetType().Name}): {e.Message.Split('\n')[0]}",
        };
        // The library names the setting at fault; here it becomes the flag that sets it.
        if (e is LearngeneException { Setting: string setting } && !message.Contains("--" + setting)) message += $" (--{setting})";
        Console.Error.WriteLine($"error: {message}");
        if (Environment.GetEnvironmentVariable("LEARNGENE_DEBUG") == "1") Console.Error.WriteLine(e);
        // 130: the shell's code for a stop by Ctrl-C (128 + SIGINT).
        return e is OperationCanceledException ? 130 : e is LearngeneException ? 2 : 1;
    }
}
