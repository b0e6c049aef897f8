using System.Globalization;
using System.Text;
using System.Text.Json;
using Learngene.Bench;
using Learngene.Models;

namespace Learngene.Reporting;

/// <summary>report.md and its plots from a TLEG experiment's results.json. Every figure in it is read
/// from the results; the floors of the TLEG issue are checked and stated as met or missed.</summary>
public static class TlegReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static TlegResults Load(string runDir)
    {
        string path = Path.Combine(runDir, TlegExperiment.ResultsName);
        if (!File.Exists(path)) throw new LearngeneException($"{runDir} has no {TlegExperiment.ResultsName} (run 'learngene bench tleg --out {runDir}' first)");
        try { return JsonSerializer.Deserialize<TlegResults>(File.ReadAllText(path), ModelConfig.Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{path} does not parse"); }
    }

    /// <summary>Writes report.md and plots/*.png into the run folder; returns the report's path.</summary>
    public static string Write(string runDir, TlegResults r)
    {
        var p = r.Preset;
        int longE = p.Epochs * p.ScratchMultiplier;
        var depths = p.Depths;
        double Acc(string task, string init, int d) => r.Cells.FirstOrDefault(c => c.Task == task && c.Init == init && c.Depth == d)?.FinalAccuracy ?? double.NaN;
        string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("F2", Inv);

        var md = new StringBuilder();
        md.AppendLine($"# TLEG experiment — preset `{p.Name}`");
        md.AppendLine();
        md.AppendLine($"Source data `{p.Source}`, transfer data `{p.Transfer}`; family `{p.Family}` (average pooling), auxiliary depth {p.AuxiliaryDepth}; " +
                      $"descendants fine-tuned E = {p.Epochs} epochs; scratch also for {p.ScratchMultiplier}×E = {longE} epochs; " +
                      $"training images per epoch: {Limit(p.TrainLimit)}, test images: {Limit(p.TestLimit)}; seed {p.Seed}. Finished {r.Finished:u}.");
        md.AppendLine();
        md.AppendLine($"- Teacher (`{p.TeacherModel}`): test accuracy {Pct(r.Teacher.FinalAccuracy)}% on {p.Source}.");
        md.AppendLine($"- Auxiliary model (the learngene, trained by soft distillation, KD weight 1): test accuracy {Pct(r.Auxiliary.FinalAccuracy)}% after {r.Auxiliary.History.Count} epochs.");
        md.AppendLine();

        void Table(string task, string title, (string Init, string Label)[] rows)
        {
            md.AppendLine($"## {title}");
            md.AppendLine();
            md.AppendLine("| initialization | " + string.Join(" | ", depths.Select(d => $"d={d}")) + " | mean |");
            md.AppendLine("|---|" + string.Concat(depths.Select(_ => "---|")) + "---|");
            foreach (var (init, label) in rows)
            {
                var accs = depths.Select(d => Acc(task, init, d)).ToArray();
                if (accs.All(double.IsNaN)) continue;
                md.AppendLine($"| {label} | " + string.Join(" | ", accs.Select(Pct)) + $" | {Pct(accs.Where(a => !double.IsNaN(a)).DefaultIfEmpty(double.NaN).Average())} |");
            }
            md.AppendLine();
        }
        Table("source", $"Test accuracy (%) on the source data ({p.Source})",
            [("tleg", $"TLEG, {p.Epochs} epochs"), ("scratch", $"scratch, {p.Epochs} epochs"), ("scratch-long", $"scratch, {longE} epochs (= pre-training of pretrain-finetune)")]);
        Table("transfer", $"Test accuracy (%) on the transfer data ({p.Transfer})",
            [("tleg", $"TLEG, {p.Epochs} epochs"), ("scratch", $"scratch, {p.Epochs} epochs"), ("pretrain-finetune", $"pretrain-finetune: {longE} source epochs, then {p.Epochs}")]);

        // Floors of the issue, stated with their numbers.
        md.AppendLine("## Checks");
        md.AppendLine();
        var deep = depths.Where(d => d >= 2).ToArray();
        var gaps = deep.Select(d => Acc("source", "tleg", d) - Acc("source", "scratch", d)).ToArray();
        bool everyDepth = gaps.All(g => g >= 0);
        md.AppendLine($"- Source, TLEG vs scratch at E = {p.Epochs} epochs, depths ≥ 2: TLEG is at least as accurate at {gaps.Count(g => g >= 0)} of {gaps.Length} depths " +
                      $"({(everyDepth ? "met" : "MISSED")}); mean gain {Pts(gaps.Average())} points ({(gaps.Average() >= 0.01 ? "met" : "MISSED")}: the floor is 1 point).");
        var longGaps = deep.Select(d => Acc("source", "tleg", d) - Acc("source", "scratch-long", d)).ToArray();
        md.AppendLine($"- Source, TLEG at E epochs vs scratch at {longE} epochs: mean difference {Pts(longGaps.Average())} points; TLEG ahead at {longGaps.Count(g => g >= 0)} of {longGaps.Length} depths.");
        var tGaps = depths.Select(d => Acc("transfer", "tleg", d) - Acc("transfer", "scratch", d)).ToArray();
        md.AppendLine($"- Transfer, TLEG vs scratch at E epochs: mean gain {Pts(tGaps.Average())} points ({(tGaps.Average() > 0 ? "met" : "MISSED")}).");
        double ratio = (double)r.FamilyParameters / r.LearngeneParameters;
        md.AppendLine($"- Parameters stored for the family of depths 1..{p.AuxiliaryDepth}: learngene {r.LearngeneParameters:N0} vs one model per depth {r.FamilyParameters:N0}, " +
                      $"{ratio.ToString("F1", Inv)}× fewer ({(ratio >= 10 ? "met" : "MISSED")}: the floor is 10×).");
        md.AppendLine();

        md.AppendLine("## Costs");
        md.AppendLine();
        md.AppendLine("| | images | training FLOPs (3 × forward, 2 per MAC) |");
        md.AppendLine("|---|---|---|");
        long auxImages = r.Auxiliary.TrainImages;
        md.AppendLine($"| learngene (auxiliary model, depth {p.AuxiliaryDepth}) | {auxImages:N0} | {Flops(auxImages, r.AuxiliaryMacsPerImage)} |");
        var pre = r.Cells.Where(c => c.Task == "source" && c.Init == "scratch-long").ToList();
        md.AppendLine($"| pretrain-finetune: {pre.Count} depths × {longE} epochs | {pre.Sum(c => c.TrainImages):N0} | {Flops(pre.Sum(c => (double)c.TrainImages * c.MacsPerImage))} |");
        if (r.Teacher.TrainImages > 0)
            md.AppendLine($"| teacher (used by the learngene only) | {r.Teacher.TrainImages:N0} | {Flops(r.Teacher.TrainImages, r.Teacher.MacsPerImage)} |");
        md.AppendLine();
        md.AppendLine($"Descendant training needed to reach scratch's {longE}-epoch accuracy on the source data (epochs of TLEG fine-tuning; – if not reached within E = {p.Epochs}):");
        md.AppendLine();
        md.AppendLine("| depth | scratch after " + longE + " epochs | TLEG epochs to reach it | scratch epochs to reach it |");
        md.AppendLine("|---|---|---|---|");
        foreach (int d in depths)
        {
            var target = Acc("source", "scratch-long", d);
            var tl = r.Cells.FirstOrDefault(c => c.Task == "source" && c.Init == "tleg" && c.Depth == d);
            var sl = r.Cells.FirstOrDefault(c => c.Task == "source" && c.Init == "scratch-long" && c.Depth == d);
            md.AppendLine($"| {d} | {Pct(target)} | {EpochsToReach(tl, target)} | {EpochsToReach(sl, target)} |");
        }
        md.AppendLine();
        md.AppendLine("Wall-clock seconds of every cell are in results.json.");
        md.AppendLine();

        string plots = Path.Combine(runDir, "plots");
        Plots.Lines(Path.Combine(plots, "accuracy-vs-depth-source.png"), $"{p.Source}: accuracy vs depth", "depth", "test accuracy (%)",
            new[] { "tleg", "scratch", "scratch-long" }.Select(i => Series(r, "source", i, depths)));
        Plots.Lines(Path.Combine(plots, "accuracy-vs-depth-transfer.png"), $"{p.Transfer}: accuracy vs depth", "depth", "test accuracy (%)",
            new[] { "tleg", "scratch", "pretrain-finetune" }.Select(i => Series(r, "transfer", i, depths)));
        int deepest = depths.Max();
        Plots.Lines(Path.Combine(plots, "learning-curves-source.png"), $"{p.Source}, depth {deepest}: accuracy vs epoch", "epoch", "test accuracy (%)",
            r.Cells.Where(c => c.Task == "source" && c.Depth == deepest).Select(c => new Plots.Series(c.Init,
                c.History.Select(h => (double)h.Epoch).ToArray(), c.History.Select(h => h.TestAccuracy * 100).ToArray())));
        md.AppendLine("![accuracy vs depth, source](plots/accuracy-vs-depth-source.png)");
        md.AppendLine("![accuracy vs depth, transfer](plots/accuracy-vs-depth-transfer.png)");
        md.AppendLine("![learning curves](plots/learning-curves-source.png)");

        string reportPath = Path.Combine(runDir, "report.md");
        IO.AtomicFile.WriteAllText(reportPath, md.ToString());
        return reportPath;

        static string Limit(int? n) => n is int v ? v.ToString("N0", Inv) : "all";
        static string Pts(double v) => (v * 100).ToString("+0.00;-0.00", Inv);
        static string Flops(double images, double macs = 1) => (images * macs * 6).ToString("0.00e+00", Inv);
    }

    static Plots.Series Series(TlegResults r, string task, string init, int[] depths)
    {
        var cells = depths.Select(d => r.Cells.FirstOrDefault(c => c.Task == task && c.Init == init && c.Depth == d)).Where(c => c is not null).ToArray();
        return new Plots.Series(init, cells.Select(c => (double)c!.Depth).ToArray(), cells.Select(c => c!.FinalAccuracy * 100).ToArray());
    }

    static string EpochsToReach(CellResult? cell, double target)
    {
        if (cell is null || double.IsNaN(target)) return "–";
        var hit = cell.History.FirstOrDefault(h => h.TestAccuracy >= target);
        return hit is null ? "–" : hit.Epoch.ToString(Inv);
    }
}
