using System.CommandLine;
using Learngene.Experiments;
using Learngene.Experiments.Comparison;
using Learngene.Reporting;

namespace Learngene.Cli;

/// <summary><c>learngene bench compare</c> (and its TLEG-only shortcut <c>bench tleg</c>): the comparison
/// runner and its report.</summary>
static class CompareBench
{
    public static Command Create() => Build("compare",
        "Learngene methods and initialization baselines side by side: one teacher, one learngene per method, every method's descendants at the same depths, epochs, seeds and data, on the source and a transfer data set; writes results.json, report.md and plots. Completed cells are cached: re-running resumes, and adding methods or seeds computes only what is new.",
        string.Join(",", Contenders.Names));

    public static Command CreateTleg() => Build("tleg",
        "TLEG against scratch and pretrain-finetune (the same runner as 'bench compare --methods tleg,scratch,pretrain-finetune').",
        "tleg,scratch,pretrain-finetune", fixedMethods: true);

    static Command Build(string name, string description, string defaultMethods, bool fixedMethods = false)
    {
        var methods = new Option<string>("--methods") { Description = $"Comma-separated: {string.Join(", ", Contenders.Names)}", DefaultValueFactory = _ => defaultMethods };
        var preset = new Option<string>("--preset") { Description = $"Budget: {string.Join("; ", ComparePreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var source = new Option<string?>("--source") { Description = "Source data set (default: fashion-mnist); any --data value" };
        var transfer = new Option<string?>("--transfer") { Description = "Transfer data set (default: the preset's — mnist, none at quickstart); 'none' for the source task only" };
        var depths = new Option<string?>("--depths") { Description = "Descendant depths, e.g. 1..12 or 2,4,6 (default: the preset's)" };
        var epochs = new Option<int?>("--epochs") { Description = "E: descendant training epochs (default: the preset's)" };
        var seeds = new Option<int>("--seeds") { Description = "Repeat every descendant with this many seeds (0, 1, …); accuracies are means over seeds and every interval resamples the seeds, then the test images", DefaultValueFactory = _ => 1 };
        var teacher = new Option<string?>("--teacher") { Description = "A trained teacher model file (default: train and cache one)" };
        var wsLayers = Shared.WsLayers();
        var wsElements = Shared.WsElements();
        var seed = new Option<int?>("--seed") { Description = "First seed (default: 0)" };
        var output = new Option<string?>("--out") { Description = $"Run folder (default: runs/bench-{name}-PRESET); re-running resumes it" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command(name, description);
        if (!fixedMethods) cmd.Options.Add(methods);
        var workers = Shared.WorkersOption();
        var dry = new DryRunOptions();
        foreach (var o in new Option[] { preset, source, transfer, depths, epochs, seeds, teacher, seed, wsLayers, wsElements, output, dataDir, threads, workers }) cmd.Options.Add(o);
        dry.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var p = ComparePreset.Registry.Find(r.GetValue(preset)!);
            string? t = r.GetValue(transfer);
            p = p with
            {
                Source = r.GetValue(source) ?? p.Source,
                Transfer = t is null ? p.Transfer : t.Equals("none", StringComparison.OrdinalIgnoreCase) ? "" : t,
                Depths = r.GetValue(depths) is string d ? DepthList.Parse(d).ToArray() : p.Depths,
                Epochs = r.GetValue(epochs) ?? p.Epochs,
                Seed = r.GetValue(seed) ?? p.Seed,
                WeightSelection = Shared.WsRules(r, wsLayers, wsElements),
            };
            if (p.Epochs < 1) throw new LearngeneException($"--epochs must be at least 1 (got {p.Epochs})");
            if (r.GetValue(seeds) < 1) throw new LearngeneException($"--seeds must be at least 1 (got {r.GetValue(seeds)})");
            var list = Contenders.Parse(fixedMethods ? defaultMethods : r.GetValue(methods)!);
            bool methodsGiven = r.GetResult(methods) is { Implicit: false };
            if (p.Transfer == "" && !methodsGiven && list.Where(m => !Contenders.Find(m).MeasuredOn("source")).ToArray() is { Length: > 0 } transferOnly)
            {
                // The default list meets a comparison without a transfer task: leave out what only that task measures.
                Console.WriteLine($"no transfer task: {string.Join(", ", transferOnly)} left out (it is measured on the transfer task)");
                list = list.Except(transferOnly).ToArray();
            }
            if (dry.Handled(r, () => ComparePlan.Of(p, list, r.GetValue(seeds), r.GetValue(teacher)))) return 0;
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"bench-{name}-{p.Name}");
            Run(p, list, r.GetValue(seeds), dir, Shared.Cache(r, dataDir), r.GetValue(teacher), r.GetValue(workers)!);
            return 0;
        });
        return cmd;
    }

    public static void Run(ComparePreset preset, string[] methods, int seeds, string dir, Data.DataCache data, string? teacher, string workers = "local")
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Console.WriteLine($"comparison, preset {preset.Name}: {string.Join(", ", methods)}; {preset.Source}{(preset.Transfer == "" ? "" : " → " + preset.Transfer)}, " +
                          $"depths {string.Join(",", preset.Depths)}, E = {preset.Epochs}, {seeds} seed(s); run folder {dir}");
        var results = Shared.Experiment(workers, () => new CompareExperiment(preset, methods, seeds, dir, data, ConsoleProgress.Log).Run(teacher));
        if (results is null) return; // a worker rank: rank 0 reports
        string report = CompareReport.Write(dir, results);
        Console.WriteLine();
        Console.WriteLine(ReportCommand.Summary(report));
        Console.WriteLine($"finished in {clock.Elapsed.TotalMinutes:F1} min; {Shared.PeakMemory()}; report: {report}");
    }
}
