using System.Globalization;
using System.Text;
using System.Text.Json;
using Learngene.Bench;
using Learngene.Models;

namespace Learngene.Reporting;

/// <summary>report.md and its plots from a comparison's results.json. Every figure is read from the
/// results (means over seeds, ± the standard deviation when there are several); the floors of the
/// issues are checked and stated as met or MISSED with their numbers.</summary>
public static class CompareReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    static readonly string[] LearngeneMethods = ["tleg", "sws"];

    public static CompareResults Load(string runDir)
    {
        string path = Path.Combine(runDir, CompareExperiment.ResultsName);
        if (!File.Exists(path)) throw new LearngeneException($"{runDir} has no {CompareExperiment.ResultsName} (run 'learngene bench compare --out {runDir}' first)");
        try { return JsonSerializer.Deserialize<CompareResults>(File.ReadAllText(path), ModelConfig.Json) ?? throw new JsonException(); }
        catch (JsonException) { throw new LearngeneException($"{path} does not parse (written by another version? re-run the bench command to rewrite it)"); }
    }

    /// <summary>Test accuracies (one per seed) of a method at a depth after the given epoch (0: the last).</summary>
    public static double[] Accuracies(CompareResults r, string task, string method, int depth, int epoch = 0) =>
        r.Cells.Where(c => c.Task == task && c.Init == method && c.Depth == depth && c.History.Count > 0 && (epoch == 0 || c.History.Count >= epoch))
            .Select(c => c.History[epoch == 0 ? ^1 : epoch - 1].TestAccuracy).ToArray();

    public static double Mean(double[] v) => v.Length == 0 ? double.NaN : v.Average();

    /// <summary>Writes report.md and plots/*.png into the run folder; returns the report's path.</summary>
    public static string Write(string runDir, CompareResults r)
    {
        var p = r.Preset;
        var md = new StringBuilder();
        var tasks = p.Transfer == "" ? new[] { ("source", p.Source) } : [("source", p.Source), ("transfer", p.Transfer)];
        md.AppendLine($"# Learngene comparison — preset `{p.Name}`");
        md.AppendLine();
        md.AppendLine($"Source data `{p.Source}`{(p.Transfer == "" ? "" : $", transfer data `{p.Transfer}`")}; family `{p.Family}` (average pooling); " +
                      $"descendants at depths {string.Join(", ", p.Depths)} trained E = {p.Epochs} epochs by every method with the same recipe and data " +
                      $"({Limit(p.TrainLimit)} training and {Limit(p.TestLimit)} test images per task); seeds {string.Join(", ", r.Seeds)}" +
                      $"{(r.Seeds.Length > 1 ? " (mean ± standard deviation)" : "")}. \"After 1 epoch\" is the test accuracy at the end of the first epoch of the same E-epoch run " +
                      $"(warmup and cosine schedule over E epochs), not a separate one-epoch run. Compute time of all cells {r.ComputeSeconds / 60:F1} min. Finished {r.Finished:u}.");
        md.AppendLine();
        md.AppendLine($"- Teacher `{p.TeacherModel}`: {Pct(r.Teacher.FinalAccuracy)}% on {p.Source}.");
        foreach (var (m, c) in r.Learngenes)
            md.AppendLine($"- {m.ToUpperInvariant()} auxiliary model (depth {c.Depth}, soft distillation, {c.History.Count} epochs, {c.TrainImages:N0} images): {Pct(c.FinalAccuracy)}%.");
        if (r.Ancestry is { } a)
            md.AppendLine($"- Ancestry ViT for weight-selection / heur-lg / auto-lg (depth {a.Depth}, the same distillation and budget): {Pct(a.FinalAccuracy)}%.");
        md.AppendLine();

        var rows = r.Methods.ToList();
        foreach (var (task, data) in tasks)
        {
            var taskRows = rows.Where(m => task == "transfer" || m != "pretrain-finetune").ToList();
            if (task == "source" && r.Cells.Any(c => c.Init == "scratch-long")) taskRows.Add("scratch-long");
            foreach (int epoch in new[] { 1, 0 }) // 0: after E epochs
            {
                string when = epoch == 1 ? "after 1 epoch" : $"after E = {p.Epochs} epochs";
                md.AppendLine($"## {data} ({task}): test accuracy (%) {when}");
                md.AppendLine();
                md.AppendLine("| method | " + string.Join(" | ", p.Depths.Select(d => $"d={d}")) + " | mean |");
                md.AppendLine("|---|" + string.Concat(p.Depths.Select(_ => "---|")) + "---|");
                foreach (var m in taskRows)
                {
                    bool isLong = m == "scratch-long";
                    if (isLong && epoch == 1) continue;
                    var cells = p.Depths.Select(d => Accuracies(r, task, m, d, epoch)).ToArray();
                    if (cells.All(c => c.Length == 0)) continue;
                    var means = cells.Where(c => c.Length > 0).Select(Mean).ToArray();
                    md.AppendLine($"| {Label(m, p)} | " + string.Join(" | ", cells.Select(Cell)) + $" | {Pct(means.Average())} |");
                }
                md.AppendLine();
            }
        }

        md.AppendLine("## Costs");
        md.AppendLine();
        r.StoredParameters.TryGetValue("pretrain-finetune", out long family);
        md.AppendLine($"| method | mean accuracy, {p.Source} (1 / {p.Epochs} epochs) |" + (p.Transfer == "" ? "" : $" mean accuracy, {p.Transfer} (1 / {p.Epochs} epochs) |") +
                      $" parameters stored for depths 1..{p.AuxiliaryDepth} | fewer than pretrain-finetune | pre-training images |");
        md.AppendLine("|---|---|" + (p.Transfer == "" ? "" : "---|") + "---|---|---|");
        foreach (var m in rows)
        {
            string Means(string task) => task == "source" && m == "pretrain-finetune" ? "(= scratch-long)" :
                $"{Pct(Mean(p.Depths.Select(d => Mean(Accuracies(r, task, m, d, 1))).Where(v => !double.IsNaN(v)).ToArray()))} / " +
                $"{Pct(Mean(p.Depths.Select(d => Mean(Accuracies(r, task, m, d))).Where(v => !double.IsNaN(v)).ToArray()))}";
            long stored = r.StoredParameters.GetValueOrDefault(m);
            string ratio = stored == 0 ? "nothing stored" : m == "pretrain-finetune" ? "1×" : $"{((double)family / stored).ToString("F1", Inv)}×";
            md.AppendLine($"| {m} | {Means("source")} |" + (p.Transfer == "" ? "" : $" {Means("transfer")} |") + $" {stored:N0} | {ratio} | {r.PretrainImages.GetValueOrDefault(m):N0} |");
        }
        md.AppendLine();
        md.AppendLine($"Stored parameters: the learngene file (learngene plus embeddings, final norm and head) for TLEG and SWS; one model per depth 1..{p.AuxiliaryDepth} for pretrain-finetune; " +
                      $"the whole ancestry ViT for weight selection; the {p.InheritLayers} inherited blocks with the final norm and head for Heur-LG and Auto-LG. " +
                      $"Pre-training images exclude the teacher ({r.Teacher.TrainImages:N0} images), which every learngene and the ancestry share; pretrain-finetune's count covers the depths run here.");
        if (r.AutoLgScores.Count > 0)
        {
            md.AppendLine();
            foreach (var (task, scores) in r.AutoLgScores)
                md.AppendLine($"Auto-LG on {task}: linear CKA of ancestry blocks 0..{scores.Length - 1} with the adapted copy: {string.Join(", ", scores.Select(s => s.ToString("F3", Inv)))}.");
        }
        md.AppendLine();
        md.AppendLine("## Checks");
        md.AppendLine();
        foreach (var line in Checks(r)) md.AppendLine("- " + line);
        md.AppendLine();

        string plots = Path.Combine(runDir, "plots");
        foreach (var (task, data) in tasks)
        {
            var methods = rows.Where(m => task == "transfer" || m != "pretrain-finetune").ToList();
            Plots.Lines(Path.Combine(plots, $"accuracy-vs-depth-{task}.png"), $"{data}: accuracy after {p.Epochs} epochs vs depth", "depth", "test accuracy (%)",
                methods.Select(m =>
                {
                    var ds = p.Depths.Where(d => Accuracies(r, task, m, d).Length > 0).ToArray();
                    return new Plots.Series(m, ds.Select(d => (double)d).ToArray(), ds.Select(d => Mean(Accuracies(r, task, m, d)) * 100).ToArray());
                }));
            int deepest = p.Depths.Max();
            Plots.Lines(Path.Combine(plots, $"accuracy-vs-epoch-{task}.png"), $"{data}, depth {deepest}: accuracy vs epoch", "epoch", "test accuracy (%)",
                methods.Concat(task == "source" ? ["scratch-long"] : []).Select(m =>
                {
                    var es = Enumerable.Range(1, m == "scratch-long" ? p.LongEpochs : p.Epochs).Where(e => Accuracies(r, task, m, deepest, e).Length > 0).ToArray();
                    return new Plots.Series(m, es.Select(e => (double)e).ToArray(), es.Select(e => Mean(Accuracies(r, task, m, deepest, e)) * 100).ToArray());
                }));
            md.AppendLine($"![{task}: accuracy vs depth](plots/accuracy-vs-depth-{task}.png)");
            md.AppendLine($"![{task}: accuracy vs epoch](plots/accuracy-vs-epoch-{task}.png)");
        }

        string reportPath = Path.Combine(runDir, "report.md");
        IO.AtomicFile.WriteAllText(reportPath, md.ToString());
        return reportPath;

        string Cell(double[] v) => v.Length == 0 ? "–" : v.Length == 1 ? Pct(v[0]) : $"{Pct(Mean(v))} ± {Pct(Std(v))}";
    }

    /// <summary>The floors of the SWS/TLEG issues, each stated with its numbers.</summary>
    public static List<string> Checks(CompareResults r)
    {
        var p = r.Preset;
        var lines = new List<string>();
        bool hasScratch = r.Methods.Contains("scratch");
        var deep = p.Depths.Where(d => d >= 2).ToArray();
        foreach (var m in LearngeneMethods.Where(r.Methods.Contains))
        {
            string name = m.ToUpperInvariant();
            if (hasScratch)
            {
                var gaps = deep.Select(d => (d, Mean(Accuracies(r, "source", m, d)) - Mean(Accuracies(r, "source", "scratch", d)))).ToArray();
                var behind = gaps.Where(g => !(g.Item2 >= 0)).Select(g => $"d={g.d} ({Pts(g.Item2)})").ToArray();
                lines.Add($"{name} vs scratch on {p.Source} after E = {p.Epochs} epochs, depths ≥ 2: ahead or equal at {gaps.Length - behind.Length} of {gaps.Length} depths, " +
                          $"mean gain {Pts(gaps.Select(g => g.Item2).Average())} points — {(behind.Length == 0 ? "met" : "MISSED at " + string.Join(", ", behind))}.");
                if (p.Transfer != "")
                {
                    double gain = p.Depths.Select(d => Mean(Accuracies(r, "transfer", m, d)) - Mean(Accuracies(r, "transfer", "scratch", d))).Average();
                    lines.Add($"{name} vs scratch on {p.Transfer} (transfer) after E = {p.Epochs} epochs: mean gain {Pts(gain)} points — {(gain > 0 ? "met" : "MISSED")}.");
                }
            }
            if (r.Cells.Any(c => c.Init == "scratch-long"))
            {
                var span = p.Depths.Where(d => d >= 4).ToArray();
                var gaps = span.Select(d => (d, Mean(Accuracies(r, "source", m, d, 1)) - Mean(Accuracies(r, "source", "scratch-long", d)))).ToArray();
                var behind = gaps.Where(g => !(g.Item2 >= 0)).Select(g => $"d={g.d} ({Pts(g.Item2)})").ToArray();
                lines.Add($"{name} after 1 epoch vs scratch after {p.LongEpochs} epochs on {p.Source}, depths ≥ 4: reached at {gaps.Length - behind.Length} of {gaps.Length} depths, " +
                          $"mean difference {Pts(gaps.Select(g => g.Item2).DefaultIfEmpty(double.NaN).Average())} points — {(behind.Length == 0 ? "met" : "not reached at " + string.Join(", ", behind))}.");
            }
            if (r.StoredParameters.TryGetValue("pretrain-finetune", out long family) && r.StoredParameters.GetValueOrDefault(m) is long stored and > 0)
            {
                double ratio = (double)family / stored;
                lines.Add($"{name} stores {stored:N0} parameters for depths 1..{p.AuxiliaryDepth}, pretrain-finetune {family:N0}: {ratio.ToString("F1", Inv)}× fewer — {(ratio >= 10 ? "met" : "MISSED")} (floor 10×).");
            }
        }
        // The training-cost floor asks for SWS or TLEG: a depth counts when either reaches scratch's long run.
        var both = LearngeneMethods.Where(r.Methods.Contains).ToArray();
        if (both.Length == 2 && r.Cells.Any(c => c.Init == "scratch-long"))
        {
            var span = p.Depths.Where(d => d >= 4).ToArray();
            var missed = span.Where(d => both.All(m => !(Mean(Accuracies(r, "source", m, d, 1)) >= Mean(Accuracies(r, "source", "scratch-long", d))))).ToArray();
            lines.Add($"SWS or TLEG after 1 epoch vs scratch after {p.LongEpochs} epochs, depths ≥ 4: reached at {span.Length - missed.Length} of {span.Length} depths — " +
                      $"{(missed.Length == 0 ? "met" : "not reached at " + string.Join(", ", missed.Select(d => $"d={d}")))}.");
        }
        return lines;
    }

    static string Label(string method, ComparePreset p) => method == "scratch-long" ? $"scratch, {p.LongEpochs} epochs (reference; pretrain-finetune's pre-training)" : method;
    static string Limit(int? n) => n is int v ? v.ToString("N0", Inv) : "all";
    static string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("F2", Inv);
    static string Pts(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("+0.00;-0.00", Inv);
    static double Std(double[] v) => v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1));
}
