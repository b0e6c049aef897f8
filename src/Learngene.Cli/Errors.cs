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
        // 130: the shell's code for a stop by Ctrl-C (128 + SIGINT).
        int code = e is OperationCanceledException ? 130 : e is LearngeneException ? 2 : 1;
        var world = Learngene.Distributed.World.Joined ? Learngene.Distributed.World.Current : null;
        int rank = world?.Rank ?? Learngene.Distributed.World.LaunchedRank();
        // Under MPI every rank runs the same command on the same input, so rank 0 reports what they all hit;
        // another rank speaks (naming itself) only when rank 0 has not ended the job first: a failure of its own.
        if (rank == 0) Console.Error.WriteLine($"error: {message}");
        else if (e is not Learngene.Training.TrainingInterrupted)
        {
            // Rank 0 most likely hit the same error and ends the job within this pause; if it did not, the
            // failure is this rank's own.
            Thread.Sleep(2000);
            Console.Error.WriteLine($"error: rank {rank} of {Learngene.Distributed.World.LaunchedRanks()}: {message}");
        }
        if (Environment.GetEnvironmentVariable("LEARNGENE_DEBUG") == "1") Console.Error.WriteLine(e);
        if (world is { IsDistributed: true })
        {
            // A stop that every rank took together ends normally; any other failure must not leave the other
            // ranks waiting in a collective for this one: MPI_Abort ends the job (mpirun adds its own notice).
            if (e is Learngene.Training.TrainingInterrupted) Learngene.Distributed.World.Finish();
            else { Console.Error.Flush(); Learngene.Distributed.World.AbortAll(code); }
        }
        return code;
    }
}
