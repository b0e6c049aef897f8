using System.CommandLine;
using Learngene.Bench;
using Learngene.Reporting;

namespace Learngene.Cli;

/// <summary><c>learngene bench tleg</c>: the TLEG experiment and its report.</summary>
static class TlegBench
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Budget: {string.Join("; ", TlegPreset.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var source = new Option<string?>("--source") { Description = "Source data set (default: fashion-mnist)" };
        var transfer = new Option<string?>("--transfer") { Description = "Transfer data set (default: mnist); any --data value" };
        var depths = new Option<string?>("--depths") { Description = "Descendant depths, e.g. 1..12 or 2,4,6 (default: the preset's)" };
        var epochs = new Option<int?>("--epochs") { Description = "E: descendant fine-tuning epochs (default: the preset's)" };
        var teacher = new Option<string?>("--teacher") { Description = "A trained teacher model file (default: train and cache one)" };
        var seed = new Option<int?>("--seed") { Description = "Seed (default: 0)" };
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/bench-tleg-PRESET); re-running resumes it" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command("tleg", "TLEG end to end: teacher → learngene → descendants at each depth, against scratch and pretrain-finetune, on the source and a transfer data set; writes results.json, report.md and plots.");
        foreach (var o in new Option[] { preset, source, transfer, depths, epochs, teacher, seed, output, dataDir, threads }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var p = TlegPreset.Find(r.GetValue(preset)!);
            p = p with
            {
                Source = r.GetValue(source) ?? p.Source,
                Transfer = r.GetValue(transfer) ?? p.Transfer,
                Depths = r.GetValue(depths) is string d ? DepthList.Parse(d).ToArray() : p.Depths,
                Epochs = r.GetValue(epochs) ?? p.Epochs,
                Seed = r.GetValue(seed) ?? p.Seed,
            };
            if (p.Epochs < 1) throw new LearngeneException($"--epochs must be at least 1 (got {p.Epochs})");
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"bench-tleg-{p.Name}");
            Run(p, dir, Shared.Catalog(r, dataDir), r.GetValue(teacher));
            return 0;
        });
        return cmd;
    }

    public static void Run(TlegPreset preset, string dir, Data.DataCatalog catalog, string? teacher)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Console.WriteLine($"TLEG experiment, preset {preset.Name}: {preset.Source} → {preset.Transfer}, depths {string.Join(",", preset.Depths)}, E = {preset.Epochs}; run folder {dir}");
        var results = new TlegExperiment(preset, dir, catalog, ConsoleProgress.Log).Run(teacher);
        string report = TlegReport.Write(dir, results);
        Console.WriteLine();
        Console.WriteLine(ReportCommand.Summary(report));
        Console.WriteLine($"finished in {clock.Elapsed.TotalMinutes:F1} min; report: {report}");
    }
}
