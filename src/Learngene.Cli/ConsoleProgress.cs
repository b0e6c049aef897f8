using Learngene.Training;
using Spectre.Console;

namespace Learngene.Cli;

/// <summary>Draws training progress: a live bar with loss, images/s and ETA on a terminal; one line per
/// epoch when output is redirected (CI logs, files).</summary>
sealed class ConsoleProgress : ITrainingObserver
{
    ProgressContext? context;
    ProgressTask? task;

    public static T Run<T>(Func<ConsoleProgress, T> work)
    {
        var progress = new ConsoleProgress();
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected) return work(progress);
        return AnsiConsole.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx => { progress.context = ctx; return work(progress); });
    }

    public void EpochStarted(int epoch, int epochs, int steps)
    {
        task = context?.AddTask($"epoch {epoch}/{epochs}", maxValue: steps);
    }

    public void StepDone(int step, int steps, double loss, double imagesPerSecond)
    {
        if (task is null) return;
        task.Value = step;
        task.Description = $"epoch {task.Description.Split(' ')[1]} loss {loss:F3} {imagesPerSecond:F0} img/s";
    }

    public void EpochDone(EpochMetrics m)
    {
        task?.StopTask();
        static string Named(string prefix, Dictionary<string, double> metrics) => string.Concat(metrics.Where(kv => !kv.Key.Contains('/')).Select(kv =>
            kv.Key.Contains("accuracy") ? $"  {prefix}{kv.Key.Replace('_', ' ')} {kv.Value * 100:F2}%" : $"  {prefix}{kv.Key.Replace('_', ' ')} {kv.Value:G4}"));
        Console.WriteLine($"epoch {m.Epoch}:{Named("train ", m.Train)}{Named("test ", m.Test)}  {m.ImagesPerSecond:F0} img/s  {m.Seconds:F0} s  rss {m.ResidentMb:F0} MB");
    }

    public static void Log(string message) => Console.WriteLine(message);
}
