using System.CommandLine;
using Learngene.Methods.Pool;
using Learngene.Reporting;

namespace Learngene.Cli;

/// <summary><c>learngene bench pool</c>: Learngene Pool against SN-Net and its report.</summary>
static class PoolBench
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Budget: {string.Join("; ", PoolPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var families = new Option<string?>("--families") { Description = $"Comma-separated stitched families to run (default: all of {string.Join(", ", StitchedFamilies.FamilyNames)})" };
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/bench-pool-PRESET); re-running resumes it" };
        var options = new PoolOptions();
        var cmd = new Command("pool", "Learngene Pool against SN-Net: a ViT teacher, distilled half-depth instances and full-depth anchors of the same widths (same per-model budget), " +
                                      "six stitched families (the pool with the learned, learned-pinv, least-squares and scratch stitch inits, the pool as the authors' code builds it, SN-Net) fine-tuned alike with the preset's seeds, every configuration tested and decided by paired-bootstrap intervals; writes results.json, report.md, plots and the families' learngene files.");
        var workers = Shared.WorkersOption();
        var dry = new DryRunOptions();
        foreach (var o in new Option[] { preset, families, output, workers }) cmd.Options.Add(o);
        dry.AddTo(cmd);
        options.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var p = options.Apply(r, PoolPreset.Registry.Find(r.GetValue(preset)!));
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"bench-pool-{p.Name}");
            var only = r.GetValue(families) is string names ? StitchedFamilies.Find(names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)) : null;
            if (dry.Handled(r, () => PoolPlan.Of(p, only))) return 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Console.WriteLine($"Learngene Pool vs SN-Net, preset {p.Name}, data {p.Data}; run folder {dir}");
            var results = Shared.Experiment(r.GetValue(workers)!, () => new PoolExperiment(p, dir, options.Cache(r), ConsoleProgress.Log, only).Run());
            if (results is null) return 0; // a worker rank: rank 0 reports
            string report = PoolReport.Write(dir, results);
            Shared.PrintOutcome(PoolChecks.Evaluate(results), clock, report, $"; learngene files: {string.Join(", ", results.Families.Select(f => Path.Combine(dir, f.File)))}");
            return 0;
        });
        return cmd;
    }
}
