using System.CommandLine;
using Learngene.Methods.Kind;
using Learngene.Reporting;

namespace Learngene.Cli;

/// <summary><c>learngene bench kind</c>: KIND against PEFT and a learngene baseline on novel classes, and its report.</summary>
static class KindBench
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"Budget: {string.Join("; ", KindPreset.Registry.All.Select(p => $"{p.Name} ({p.Description})"))}", DefaultValueFactory = _ => "small" };
        var methods = new Option<string?>("--methods") { Description = $"Comma-separated transfer methods (default: {string.Join(",", KindExperiment.DefaultMethods)}; also {string.Join(", ", KindExperiment.AllMethods.Except(KindExperiment.DefaultMethods))}); methods may be added to an existing run folder" };
        var seeds = new Option<int?>("--seeds") { Description = "Transfer seeds of every method (default: the preset's); seeds may be added to an existing run folder" };
        var output = new Option<string?>("--out") { Description = "Run folder (default: runs/bench-kind-PRESET); re-running resumes it" };
        var dataDir = Shared.DataDir();
        var threads = Shared.Threads();
        var cmd = new Command("kind", "KIND: pre-train an SVD-form DiT (learngenes and class tailors) and an ordinary DiT on digits 0–4 and garments 0–4, check knowledge diversion, " +
                                      "then transfer to digits 5–9 and garments 5–9 with KIND (also with a null tailor block, and the ungated ablation), LoRA, PiSSA, SVDiff, full fine-tuning and Heur-LG over the transfer seeds; writes results.json, report.md with intervals, grids and a plot.");
        var workers = Shared.WorkersOption();
        var dry = new DryRunOptions();
        foreach (var o in new Option[] { preset, methods, seeds, output, dataDir, threads, workers }) cmd.Options.Add(o);
        dry.AddTo(cmd);
        cmd.SetAction(r =>
        {
            Shared.SetThreads(r.GetValue(threads));
            var p = KindPreset.Registry.Find(r.GetValue(preset)!);
            if (r.GetValue(methods) is string names) p = p with { Methods = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
            if (r.GetValue(seeds) is int n) p = n >= 1 ? p with { TransferSeeds = n } : throw new LearngeneException($"--seeds must be at least 1 (got {n})", setting: "seeds");
            if (dry.Handled(r, () => KindPlan.Of(p))) return 0;
            string dir = r.GetValue(output) ?? Path.Combine("runs", $"bench-kind-{p.Name}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Console.WriteLine($"KIND, preset {p.Name}; run folder {dir}");
            var results = Shared.Experiment(r.GetValue(workers)!, () => new KindExperiment(p, dir, Shared.Cache(r, dataDir), ConsoleProgress.Log).Run());
            if (results is null) return 0; // a worker rank: rank 0 reports
            string report = KindReport.Write(dir, results);
            Shared.PrintOutcome(KindChecks.Evaluate(results), clock, report);
            return 0;
        });
        return cmd;
    }
}
