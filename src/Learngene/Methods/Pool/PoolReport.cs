using System.Text;
using Learngene.Experiments;
using Learngene.Models.Stitching;
using Learngene.Reporting;
using Learngene.Statistics;

namespace Learngene.Methods.Pool;

/// <summary>report.md and plots of <c>bench pool</c>: accuracy against parameters and against MACs for every
/// stitched family with its Pareto front (the papers' main figure), storage and pre-training costs, the
/// floors, and every configuration.</summary>
public static class PoolReport
{
    public static PoolResults Load(string runDir) => ExperimentFolder.LoadResults<PoolResults>(runDir);

    /// <summary>Whether a run folder's results are a pool experiment's (they list stitched families).</summary>
    public static bool Holds(string runDir) => ExperimentFolder.ResultsHave(runDir, "families");

    static string Pct(double a) => double.IsFinite(a) ? (a * 100).ToString("F2") : "–";

    public static string Write(string runDir, PoolResults r)
    {
        var p = r.Preset;
        var md = new StringBuilder();
        md.AppendLine($"# Learngene Pool vs SN-Net — preset `{p.Name}`");
        md.AppendLine();
        md.AppendLine($"Data `{p.Data}`. Teacher: {Describe(r.Teacher)} — {Pct(r.Teacher.FinalAccuracy)}% test accuracy. " +
                      $"Every instance and anchor: {p.PerModelEpochs} epochs on {Limit(p.PerModelTrainLimit)} images, the same recipe (no label smoothing); instances distilled with " +
                      $"0.1·CE + 0.9·(soft KD + feature MSE through learned maps), anchors with 0.1·CE + 0.9·soft KD; SN-Net's widest anchor is {(p.SnNetWidestAnchor == "teacher" ? "the teacher itself, as in the paper's comparison (trained with its own budget and recipe, label smoothing included; its training is not counted in SN-Net's costs, as it is not in the pool's)" : "an anchor trained like the others")}. " +
                      $"Every family fine-tuned {p.FinetuneEpochs} epochs with {p.FinetuneSeeds} seed{(p.FinetuneSeeds == 1 ? "" : "s")} (lr {p.FinetuneLearningRate:G3}, one configuration drawn per step; its loss and schedule in the table) " +
                      $"and every configuration tested on the same {r.TestImages:N0} test images" +
                      (r.ValidationImages > 0 ? $"; fronts and picks are chosen on {r.ValidationImages:N0} training images no model trained on, and reported on test" : "; no validation split: fronts are chosen on test") + ". " +
                      $"Accuracies are means over seeds; verdicts read {Bootstrap.Method()}. " +
                      $"Parameters count every tensor of the exported model (class token and positions included; SN-Net's own count omits them); MACs per image are one forward pass. " +
                      $"Training time of all cells {r.ComputeSeconds / 60:F1} min; wall-clock time of the run {r.WallSeconds / 60:F1} min. Finished {r.Finished:u}.");
        md.AppendLine();
        md.AppendLine("| pre-trained model | role | parameters | test accuracy (%) |");
        md.AppendLine("|---|---|---|---|");
        foreach (var c in r.Pretrained.Values) md.AppendLine($"| {c.Name} (depth {c.Depth}) | {c.Method} | {c.Parameters:N0} | {Pct(c.FinalAccuracy)} |");
        md.AppendLine();

        string Plot(string file, string axis, Func<MeasuredConfig, double> x)
        {
            var series = new List<Plots.Series>();
            foreach (var f in r.Families)
            {
                series.Add(new($"{f.Name}", f.Configurations.Select(x).ToArray(), f.Configurations.Select(c => c.Accuracy * 100).ToArray(), Connected: false, Group: f.Name));
                var front = BudgetPick.ParetoFront(f.Configurations.Select(c => c with { Parameters = (long)x(c) })).ToArray();
                series.Add(new($"{f.Name} front", front.Select(c => (double)c.Parameters).ToArray(), front.Select(c => c.Accuracy * 100).ToArray(), Group: f.Name));
            }
            Plots.Lines(Path.Combine(runDir, file), $"Test accuracy against {axis}", axis, "test accuracy (%)", series);
            return file;
        }
        md.AppendLine("## Accuracy against size");
        md.AppendLine();
        md.AppendLine($"![accuracy vs parameters]({Plot("accuracy-vs-params.png", "parameters", c => c.Parameters)})");
        md.AppendLine();
        md.AppendLine($"![accuracy vs MACs]({Plot("accuracy-vs-macs.png", "MACs per image", c => c.MacsPerImage)})");
        md.AppendLine();

        md.AppendLine("## Families: size range, storage, pre-training, accuracy");
        md.AppendLine();
        md.AppendLine($"| family | stitch init | pairs | fine-tuning | configurations | parameters (min–max) | stored parameters | pre-training images | pre-training FLOPs | mean accuracy before fine-tuning ({(r.ValidationImages > 0 ? "validation, " : "")}%) | mean accuracy (%) | best{(r.ValidationImages > 0 ? ", chosen on validation: test" : " (chosen on test)")} accuracy (%) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var f in r.Families)
        {
            double before = f.InitialAccuracy.Where(kv => kv.Key.StartsWith("accuracy/")).Select(kv => kv.Value).DefaultIfEmpty(double.NaN).Average();
            md.AppendLine($"| {f.Name} | {f.StitchInit} | {f.Pairs} | {f.Finetuning} | {f.Configurations.Length} | {f.Configurations.Min(c => c.Parameters):N0}–{f.Configurations.Max(c => c.Parameters):N0} | " +
                          $"{f.StoredParameters:N0} | {f.PretrainImages:N0} | {f.PretrainFlops:G3} | {Pct(before)} | {Pct(f.Configurations.Average(c => c.Accuracy))} | {Pct(f.Configurations.MaxBy(c => c.ChoiceScore)!.Accuracy)} |");
        }
        md.AppendLine();
        md.AppendLine($"Pareto fronts (configurations no smaller one scores as well as, on {(r.ValidationImages > 0 ? "validation" : "test")}; test accuracy given):");
        md.AppendLine();
        foreach (var f in r.Families)
            md.AppendLine($"- {f.Name}: " + string.Join(", ", BudgetPick.ParetoFront(f.Configurations).Select(c => $"{c.Id} ({c.Parameters:N0}, {Pct(c.Accuracy)}%)")));
        md.AppendLine();

        WriteResiduals(md, r);
        md.AppendLine("## Claims");
        md.AppendLine();
        foreach (var c in PoolChecks.Evaluate(r)) md.AppendLine($"- **{c.Verdict.Word()}** — {c.Name}: {c.Text}.");
        md.AppendLine();

        foreach (var f in r.Families)
        {
            md.AppendLine($"## {f.Name}: every configuration");
            md.AppendLine();
            md.AppendLine("| id | parameters | MACs per image | accuracy before fine-tuning (%) | accuracy (%) |");
            md.AppendLine("|---|---|---|---|---|");
            foreach (var c in f.Configurations.OrderBy(c => c.Parameters))
                md.AppendLine($"| {c.Id} | {c.Parameters:N0} | {c.MacsPerImage:N0} | {Pct(f.InitialAccuracy.GetValueOrDefault($"accuracy/{c.Id}", double.NaN))} | {Pct(c.Accuracy)} |");
            md.AppendLine();
        }
        md.AppendLine("Pairs: `neighbours` stitches each model into the next wider (SN-Net's rule), `ends` only the narrowest into the widest (Learngene Pool's code). " +
                      "Configuration ids: `mI` is model I alone (models ordered by width); `mF-bJ-mE-bK` runs model F's blocks 0..J, the stitch, then model E's blocks K to the end.");
        string path = Path.Combine(runDir, "report.md");
        IO.AtomicFile.WriteAllText(path, md.ToString());
        return path;
    }

    /// <summary>Per stitch point, each initialization's relative residual on the calibration images: how far the
    /// stitch starts from mapping the front's tokens onto the end's (0: exact, 1: no better than the mean token).</summary>
    static void WriteResiduals(StringBuilder md, PoolResults r)
    {
        var families = r.Families.Where(f => f.Family == "pool" && f.Pairs == "neighbours" && f.Residuals.Count > 0).ToList();
        if (families.Count == 0) return;
        md.AppendLine($"## Stitch initializations: relative residual ‖W·x + b − y‖² / ‖y − ȳ‖² on the {r.Preset.CalibrationImages} calibration images, and accuracy right after initialization (on the {(r.ValidationImages > 0 ? "validation" : "test")} images)");
        md.AppendLine();
        md.AppendLine("| stitch point | " + string.Join(" | ", families.Select(f => f.StitchInit)) + " | " + string.Join(" | ", families.Select(f => $"{f.StitchInit} accuracy (%)")) + " |");
        md.AppendLine("|---|" + string.Concat(families.Select(_ => "---|---|")));
        foreach (var id in families[0].Residuals.Keys)
            md.AppendLine($"| {id} | " + string.Join(" | ", families.Select(f => f.Residuals.TryGetValue(id, out double v) ? v.ToString("G3") : "–")) + " | " +
                          string.Join(" | ", families.Select(f => Pct(f.InitialAccuracy.GetValueOrDefault($"accuracy/{id}", double.NaN)))) + " |");
        md.AppendLine("| mean | " + string.Join(" | ", families.Select(f => f.Residuals.Values.Average().ToString("G3"))) + " | " +
                      string.Join(" | ", families.Select(f => Pct(f.InitialAccuracy.Where(kv => kv.Key.StartsWith("accuracy/") && kv.Key.Contains('-')).Select(kv => kv.Value).DefaultIfEmpty(double.NaN).Average()))) + " |");
        md.AppendLine();
    }

    static string Limit(int? n) => n is int v ? v.ToString("N0") : "all";

    static string Describe(CellResult c) => c.Method == "given" ? "given" : $"ViT depth {c.Depth}, {c.Parameters:N0} parameters";
}
