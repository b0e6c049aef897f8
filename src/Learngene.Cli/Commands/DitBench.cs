using System.CommandLine;
using Learngene.Experiments.Dit;
using Learngene.Reporting;

namespace Learngene.Cli;

/// <summary><c>learngene bench dit</c>: DiTs trained and judged on MNIST and Fashion-MNIST, and their report.</summary>
static class DitBench
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Budget: {string.Join("; ", DitPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var data = new Option<string?>("--data") { Description = "Comma-separated data sets (default: mnist,fashion-mnist)" };
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/bench-dit-PRESET); re-running resumes it" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command("dit", "A class-conditional DiT per data set: a judge classifier, DiT training with FD-clf and accuracy on samples each epoch, a final evaluation " +
                                     "(guidance and DDIM steps of the preset), grids and ImageFolders of samples; writes results.json, report.md and plots.");
        var workers = Shared.WorkersOption();
        var dry = new DryRunOptions();
        foreach (var o in new Option[] { preset, data, output, dataDir, threads, workers }) cmd.Options.Add(o);
        dry.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var p = DitPreset.Registry.Find(r.GetValue(preset)!);
            if (r.GetValue(data) is string names) p = p with { Data = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
            if (dry.Handled(r, () => DitPlan.Of(p))) return 0;
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"bench-dit-{p.Name}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Console.WriteLine($"DiT, preset {p.Name}, data {string.Join(", ", p.Data)}; run folder {dir}");
            var results = Shared.Experiment(r.GetValue(workers)!, () => new DitExperiment(p, dir, Shared.Cache(r, dataDir), ConsoleProgress.Log).Run());
            if (results is null) return 0; // a worker rank: rank 0 reports
            string report = DitReport.Write(dir, results);
            Shared.PrintOutcome(DitChecks.Evaluate(results), clock, report);
            return 0;
        });
        return cmd;
    }
}
