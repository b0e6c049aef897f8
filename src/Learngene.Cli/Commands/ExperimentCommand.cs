using System.CommandLine;
using Learngene.Experiments;

namespace Learngene.Cli;

/// <summary><c>bench NAME</c> for every registered experiment: its preset, its own settings as options, the run
/// folder, workers and threads, and <c>--dry-run</c>. The experiment checks the settings and decides the run.</summary>
static class ExperimentCommand
{
    /// <param name="name">The command's name (default: the experiment's; <c>bench tleg</c> is the comparison's).</param>
    /// <param name="fixedSettings">Settings the command always passes; their options are not offered.</param>
    public static Command For(IExperiment experiment, string? name = null, IReadOnlyDictionary<string, string>? fixedSettings = null,
        string? description = null)
    {
        name ??= experiment.Name;
        string budgets = string.Join("; ", experiment.Presets.Select(p => $"{p.Name} ({p.Description})"));
        var preset = new Option<string>("--preset") { Description = $"Budget: {budgets}", DefaultValueFactory = _ => "small" };
        var own = new SettingOptions(experiment.RunSettings.Where(s => fixedSettings?.ContainsKey(s.Name) != true));
        var output = new Option<string?>("--out") { Description = $"Run folder (default: runs/bench-{name}-PRESET); re-running resumes it" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var workers = Shared.WorkersOption();
        var dry = new DryRunOptions();
        var cmd = new Command(name, description ?? experiment.Description);
        foreach (var o in new Option[] { preset }.Concat(own.All).Concat([output, dataDir, threads, workers])) cmd.Options.Add(o);
        dry.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var run = experiment.Configure(r.GetValue(preset)!, own.Given(r, fixedSettings));
            if (dry.Handled(r, run.Plan)) return 0;
            Run(run, r.GetValue(output) ?? Path.Combine("runs", $"bench-{name}-{run.Preset}"), Shared.Cache(r, dataDir), r.GetValue(workers)!);
            return 0;
        });
        return cmd;
    }

    /// <summary>Runs a configured experiment in <paramref name="dir"/> and prints its outcome (rank 0 of
    /// <c>--workers mpi</c> alone reports).</summary>
    public static void Run(ExperimentRun run, string dir, Learngene.Data.DataCache data, string workers = "local")
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var note in run.Notes) Console.WriteLine(note);
        Console.WriteLine($"{run.Title}; run folder {dir}");
        var outcome = Shared.Experiment(workers, () => run.Execute(dir, data, ConsoleProgress.Log));
        if (outcome is null) return; // a worker rank: rank 0 reports
        Console.WriteLine();
        foreach (var line in outcome.Lines) Console.WriteLine(line);
        Console.WriteLine($"finished in {clock.Elapsed.TotalMinutes:F1} min; {Shared.PeakMemory()}; report: {outcome.Report}");
    }
}
