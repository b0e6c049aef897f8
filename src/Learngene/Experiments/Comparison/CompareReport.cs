using System.Globalization;
using System.Text;
using System.Text.Json;
using Learngene.Baselines.Initializers;
using Learngene.Experiments;
using Learngene.Methods;
using Learngene.Reporting;
using Learngene.Statistics;

namespace Learngene.Experiments.Comparison;

/// <summary>report.md and its plots from a comparison's results.json. Every figure is read from the
/// results (means over seeds, ± the standard deviation when there are several); the project's
/// floors are checked and stated as met or MISSED with their numbers.</summary>
public static class CompareReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static CompareResults Load(string runDir) => ExperimentFolder.LoadResults<CompareResults>(runDir);

    /// <summary>Whether the folder holds a comparison's results (told by its source task's class count).</summary>
    public static bool Holds(string runDir) => ExperimentFolder.ResultsHave(runDir, "source_classes");

    /// <summary>A named test metric (one value per seed) of a method at a depth after the given epoch (0: the last).</summary>
    public static double[] Values(CompareResults r, string task, string method, int depth, int epoch = 0, string metric = "accuracy") =>
        r.Cells.Where(c => c.Task == task && c.Method == method && c.Depth == depth && c.History.Count > 0 && (epoch == 0 || c.History.Count >= epoch))
            .Select(c => c.History[epoch == 0 ? ^1 : epoch - 1].TestMetric(metric)).ToArray();

    /// <summary>Per-image test outcomes (one run per seed, in the results' seed order) of a method at a depth after
    /// the given epoch (0: the last); null when a seed's run or its outcomes are missing.</summary>
    public static List<bool[]>? Outcomes(CompareResults r, string task, string method, int depth, int epoch = 0)
    {
        var runs = new List<bool[]>();
        foreach (int seed in r.Seeds)
        {
            var c = r.Cells.FirstOrDefault(c => c.Task == task && c.Method == method && c.Depth == depth && c.Seed == seed);
            if (c is null || c.History.Count == 0 || (epoch > 0 && c.History.Count < epoch)) return null;
            if (c.History[epoch == 0 ? ^1 : epoch - 1].Correct() is not { } correct) return null;
            runs.Add(correct);
        }
        return runs.Count == 0 ? null : runs;
    }

    /// <summary>Test accuracies (one per seed) of a method at a depth after the given epoch (0: the last).</summary>
    public static double[] Accuracies(CompareResults r, string task, string method, int depth, int epoch = 0) => Values(r, task, method, depth, epoch);

    /// <summary>The reference baseline's longer runs (rows of their own, on the source task only).</summary>
    static bool IsReferenceRun(string init) => init is Contenders.LongRun or Contenders.FloorRun;

    /// <summary>The methods with descendants on a task, in the run's order.</summary>
    static List<string> MethodsOn(CompareResults r, string task) => r.Methods.Where(m => r.Cells.Any(c => c.Task == task && c.Method == m)).ToList();

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
                      $"descendants at depths {string.Join(", ", p.Depths)} trained E = {p.Epochs} epochs by every method with the same recipe, data and input size " +
                      $"({Limit(p.TrainLimit)} training and {Limit(p.TestLimit)} test images per task; the test images are drawn once with seed {p.Seed} and shared by every method); " +
                      $"seeds {string.Join(", ", r.Seeds)}. Accuracies are means over seeds ± the half-width of their interval, and every difference and verdict reads an interval: {Bootstrap.Method()}. " +
                      $"\"After 1 epoch\" is the test accuracy at the end of the first epoch of the same E-epoch run (warmup and cosine schedule over E epochs), not a separate one-epoch run. " +
                      $"Weight selection: {p.WeightSelection.Describe()}. Training time of all cells {r.ComputeSeconds / 60:F1} min" +
                      $"{(r.WallSeconds > 0 ? $"; wall-clock time of the whole run {r.WallSeconds / 60:F1} min" : "")}. Finished {r.Finished:u}.");
        md.AppendLine();
        md.AppendLine($"Pre-trained on {p.Source}, every model but the teacher with the same budget (soft distillation from the teacher, {p.AuxiliaryEpochs} epochs on {Limit(p.AuxiliaryTrainLimit)} images):");
        md.AppendLine();
        md.AppendLine($"- Teacher `{p.TeacherModel}`: {Pct(r.Teacher.FinalAccuracy)}%.");
        foreach (var (m, c) in r.Learngenes)
            md.AppendLine($"- {m.ToUpperInvariant()} auxiliary model (depth {c.Depth}, {c.TrainImages:N0} images): {Pct(c.FinalAccuracy)}%.");
        if (r.Ancestry is { } a)
            md.AppendLine($"- Ancestry ViT of weight-selection / heur-lg / auto-lg (depth {a.Depth}, {a.TrainImages:N0} images): {Pct(a.FinalAccuracy)}%.");
        if (r.Pretrained.Count > 0)
            md.AppendLine($"- Pretrain-finetune's models, one per depth ({r.Pretrained.Values.First().TrainImages:N0} images each): " +
                          string.Join(", ", r.Pretrained.OrderBy(kv => kv.Key).Select(kv => $"d={kv.Key} {Pct(kv.Value.FinalAccuracy)}%")) + ".");
        md.AppendLine();

        var rows = r.Methods.ToList();
        foreach (var (task, data) in tasks)
        {
            var taskRows = MethodsOn(r, task);
            if (task == "source") taskRows.AddRange(new[] { Contenders.FloorRun, Contenders.LongRun }.Where(m => r.Cells.Any(c => c.Method == m)));
            foreach (int epoch in new[] { 1, 0 }) // 0: after E epochs
            {
                string when = epoch == 1 ? "after 1 epoch" : $"after E = {p.Epochs} epochs";
                md.AppendLine($"## {data} ({task}): test accuracy (%) {when}");
                md.AppendLine();
                md.AppendLine("| method | " + string.Join(" | ", p.Depths.Select(d => $"d={d}")) + " | mean |");
                md.AppendLine("|---|" + string.Concat(p.Depths.Select(_ => "---|")) + "---|");
                foreach (var m in taskRows)
                {
                    if (IsReferenceRun(m) && epoch == 1) continue;
                    var cells = p.Depths.Select(d => Accuracies(r, task, m, d, epoch)).ToArray();
                    if (cells.All(c => c.Length == 0)) continue;
                    var means = cells.Where(c => c.Length > 0).Select(Mean).ToArray();
                    md.AppendLine($"| {Label(m, p)} | " + string.Join(" | ", p.Depths.Select((d, i) => Cell(cells[i], Outcomes(r, task, m, d, epoch)))) + $" | {Pct(means.Average())} |");
                }
                md.AppendLine();
            }
            md.AppendLine($"Each descendant on {data} (the same architecture for every method at a depth): " +
                          string.Join("; ", p.Depths.Select(d => $"d={d}: {ModelCost(r, task, d)}")) + ".");
            md.AppendLine();
        }

        WriteTrainingCost(md, r);
        WriteCosts(md, r);
        foreach (var (method, byTask) in r.InitializerScores)
        {
            string meaning = Initializers.Registry.TryFind(method)?.ScoresMeaning ?? "scores";
            foreach (var (task, scores) in byTask)
                md.AppendLine($"{method} on {task}, {meaning} (blocks 0..{scores.Length - 1}): {string.Join(", ", scores.Select(s => s.ToString("F3", Inv)))}.");
            md.AppendLine();
        }
        md.AppendLine("## Checks");
        md.AppendLine();
        foreach (var check in CompareChecks.Evaluate(r)) md.AppendLine("- " + check.Text);
        md.AppendLine();

        string plots = Path.Combine(runDir, "plots");
        foreach (var (task, data) in tasks)
        {
            var methods = MethodsOn(r, task);
            Plots.Lines(Path.Combine(plots, $"accuracy-vs-depth-{task}.png"), $"{data}: accuracy after {p.Epochs} epochs vs depth", "depth", "test accuracy (%)",
                methods.Select(m =>
                {
                    var ds = p.Depths.Where(d => Accuracies(r, task, m, d).Length > 0).ToArray();
                    var intervals = ds.Select(d => Outcomes(r, task, m, d) is { } o ? Bootstrap.Accuracy(o, PlotResamples) : null).ToArray();
                    return new Plots.Series(m, ds.Select(d => (double)d).ToArray(), ds.Select(d => Mean(Accuracies(r, task, m, d)) * 100).ToArray(),
                        Low: intervals.Select(i => (i?.Low ?? double.NaN) * 100).ToArray(), High: intervals.Select(i => (i?.High ?? double.NaN) * 100).ToArray());
                }));
            int deepest = p.Depths.Max();
            Plots.Lines(Path.Combine(plots, $"accuracy-vs-epoch-{task}.png"), $"{data}, depth {deepest}: accuracy vs epoch", "epoch", "test accuracy (%)",
                methods.Concat(task == "source" ? [Contenders.LongRun] : []).Select(m =>
                {
                    var es = Enumerable.Range(1, m == Contenders.LongRun ? p.LongEpochs : p.Epochs).Where(e => Accuracies(r, task, m, deepest, e).Length > 0).ToArray();
                    var intervals = es.Select(e => Outcomes(r, task, m, deepest, e) is { } o ? Bootstrap.Accuracy(o, PlotResamples) : null).ToArray();
                    return new Plots.Series(m, es.Select(e => (double)e).ToArray(), es.Select(e => Mean(Accuracies(r, task, m, deepest, e)) * 100).ToArray(),
                        Low: intervals.Select(i => (i?.Low ?? double.NaN) * 100).ToArray(), High: intervals.Select(i => (i?.High ?? double.NaN) * 100).ToArray());
                }));
            md.AppendLine($"![{task}: accuracy vs depth](plots/accuracy-vs-depth-{task}.png)");
            md.AppendLine($"![{task}: accuracy vs epoch](plots/accuracy-vs-epoch-{task}.png)");
        }

        string reportPath = Path.Combine(runDir, "report.md");
        IO.AtomicFile.WriteAllText(reportPath, md.ToString());
        return reportPath;

        // The interval when per-image outcomes were kept; results from before them show the spread over seeds.
        string Cell(double[] v, List<bool[]>? outcomes) => v.Length == 0 ? "–" : outcomes is not null ? Bootstrap.Accuracy(outcomes).PercentPlusMinus()
            : v.Length == 1 ? Pct(v[0]) : $"{Pct(Mean(v))} ± {Pct(Std(v))} (sd)";
    }

    /// <summary>Error bars need fewer resamples than verdicts (the same percentile method).</summary>
    const int PlotResamples = 500;

    /// <summary>"N parameters, M MACs/image" of a depth's descendants (every method's, when they differ).</summary>
    static string ModelCost(CompareResults r, string task, int depth)
    {
        var costs = r.Cells.Where(c => c.Task == task && c.Depth == depth && !IsReferenceRun(c.Method))
            .Select(c => (c.Parameters, c.MacsPerImage)).Distinct().ToArray();
        return string.Join(" / ", costs.Select(c => $"{c.Parameters:N0} parameters, {c.MacsPerImage / 1e6:F2} M MACs ({2 * c.MacsPerImage / 1e6:F2} M FLOPs) per image"));
    }

    /// <summary>Epochs scratch needs on its long curve (source task) to reach each method's accuracy.</summary>
    static void WriteTrainingCost(StringBuilder md, CompareResults r)
    {
        var p = r.Preset;
        if (!r.Cells.Any(c => c.Method == Contenders.LongRun)) return;
        double chance = r.SourceClasses > 0 ? 1.0 / r.SourceClasses : 0;
        md.AppendLine($"## Training-cost factor on {p.Source}");
        md.AppendLine();
        md.AppendLine($"Epochs {Contenders.Reference} needs to reach each method's accuracy, read off {Contenders.Reference}'s {p.LongEpochs}-epoch learning curve (mean over seeds, linear between epochs, " +
                      $"chance level before the first; \"> {p.LongEpochs}\" when it never gets there), and that over the method's epochs (the papers claim about 2× for TLEG, 6.6× for SWS). " +
                      $"The curve's schedule spans {p.LongEpochs} epochs, so its early epochs run at a higher learning rate than a shorter run's would.");
        md.AppendLine();
        var methods = MethodsOn(r, "source");
        var stages = new[] { 1, p.Epochs }.Distinct().ToArray();
        // Per depth, one bootstrap: every method's factor after each stage, all on the same resamples as the curve.
        var factors = p.Depths.ToDictionary(d => d, d => CostFactors(r, d, methods, stages, chance));
        foreach (var (epochs, stage) in stages.Select((e, i) => (e, i)))
        {
            md.AppendLine($"| after {epochs} epoch{(epochs == 1 ? "" : "s")} | " + string.Join(" | ", p.Depths.Select(d => $"d={d}")) + " |");
            md.AppendLine("|---|" + string.Concat(p.Depths.Select(_ => "---|")));
            foreach (var (m, k) in methods.Select((m, k) => (m, k)))
                md.AppendLine($"| {m} | " + string.Join(" | ", p.Depths.Select(d => factors[d] is { } f ? DescribeFactor(f[k * stages.Length + stage], p.LongEpochs, epochs) : "–")) + " |");
            md.AppendLine();
        }
        md.AppendLine($"Factors are × [95% interval] from the same paired bootstrap as the accuracies (the scratch curve and the method resampled together); \"> {p.LongEpochs}\" marks scratch never reaching the accuracy within its curve.");
        md.AppendLine();
    }

    /// <summary>Each method's training-cost factor at one depth after each stage, with intervals; null when
    /// per-image outcomes are missing.</summary>
    static Interval[]? CostFactors(CompareResults r, int depth, List<string> methods, int[] stages, double chance)
    {
        var p = r.Preset;
        var curve = Enumerable.Range(1, p.LongEpochs).Select(e => Outcomes(r, "source", Contenders.LongRun, depth, e)).ToArray();
        var targets = methods.SelectMany(m => stages.Select(e => Outcomes(r, "source", m, depth, e))).ToArray();
        if (curve.Any(c => c is null) || targets.Any(t => t is null)) return null;
        return Bootstrap.EstimateMany(r.Seeds.Length, curve[0]![0].Length, draw =>
        {
            var accuracies = curve.Select(c => draw.MeanAccuracy(c!)).ToArray();
            return targets.Select((t, k) => TrainingCost.EpochsToReach(accuracies, draw.MeanAccuracy(t!), chance) is double e
                ? e / stages[k % stages.Length] : double.PositiveInfinity).ToArray();
        }, resamples: 1000);
    }

    static string DescribeFactor(Interval f, int longEpochs, int epochs)
    {
        string X(double v) => double.IsPositiveInfinity(v) ? $"> {((double)longEpochs / epochs).ToString("F1", Inv)}" : v.ToString("F1", Inv);
        return $"{X(f.Estimate)}× [{X(f.Low)}, {X(f.High)}]";
    }

    /// <summary>What each method stores and spends before any descendant trains.</summary>
    static void WriteCosts(StringBuilder md, CompareResults r)
    {
        var p = r.Preset;
        md.AppendLine("## Costs");
        md.AppendLine();
        const string reference = Contenders.FamilyReference;
        r.StoredParameters.TryGetValue(reference, out long family);
        double familyFlops = r.PretrainFlops.GetValueOrDefault(reference);
        md.AppendLine($"| method | mean accuracy, {p.Source} (1 / {p.Epochs} epochs) |" + (p.Transfer == "" ? "" : $" mean accuracy, {p.Transfer} (1 / {p.Epochs} epochs) |") +
                      $" parameters stored for depths 1..{p.AuxiliaryDepth} | fewer than {reference} | pre-training images | pre-training TFLOPs | less than {reference} |");
        md.AppendLine("|---|---|" + (p.Transfer == "" ? "" : "---|") + "---|---|---|---|---|");
        foreach (var m in r.Methods)
        {
            string Means(string task) => m == reference && !r.Cells.Any(c => c.Task == task && c.Method == m) ? "(its pre-trained models)" :
                $"{Pct(Mean(p.Depths.Select(d => Mean(Accuracies(r, task, m, d, 1))).Where(v => !double.IsNaN(v)).ToArray()))} / " +
                $"{Pct(Mean(p.Depths.Select(d => Mean(Accuracies(r, task, m, d))).Where(v => !double.IsNaN(v)).ToArray()))}";
            long stored = r.StoredParameters.GetValueOrDefault(m);
            string ratio = stored == 0 ? "nothing stored" : m == reference ? "1×" : $"{((double)family / stored).ToString("F1", Inv)}×";
            double flops = r.PretrainFlops.GetValueOrDefault(m);
            string flopRatio = flops == 0 ? "none" : familyFlops == 0 ? "–" : m == reference ? "1×" : $"{(familyFlops / flops).ToString("F1", Inv)}×";
            md.AppendLine($"| {m} | {Means("source")} |" + (p.Transfer == "" ? "" : $" {Means("transfer")} |") +
                          $" {stored:N0} | {ratio} | {r.PretrainImages.GetValueOrDefault(m):N0} | {(flops / 1e12).ToString("F1", Inv)} | {flopRatio} |");
        }
        md.AppendLine();
        md.AppendLine($"What each method stores and pre-trains for the family of depths 1..{p.AuxiliaryDepth} (N = {p.AuxiliaryDepth}, k = {p.InheritLayers}): " +
                      string.Join("; ", r.Methods.Append(reference).Distinct().Select(m => $"{m}: {StoresOf(m)}")) + ". " +
                      (r.Pretrained.Count > 0 ? $"This run pre-trains the {r.Pretrained.Count} same-size models it measures{(r.Pretrained.ContainsKey(p.AuxiliaryDepth) ? $"; at depth {p.AuxiliaryDepth} that model is the ancestry ViT, the same architecture and training" : "")}. " : "") +
                      $"FLOPs count 2 per multiply-add, the trained model's forward and backward (3× its forward) and the teacher's forward on every image; " +
                      $"the teacher's own training ({r.Teacher.TrainImages:N0} images), shared by every method that distils, is not included.");
        md.AppendLine();
    }
    static string StoresOf(string method) =>
        LearngeneMethods.Registry.TryFind(method)?.Stores ?? Initializers.Registry.TryFind(method)?.Stores ?? "(a method this version does not know)";

    static string Label(string method, ComparePreset p) => method switch
    {
        Contenders.LongRun => $"{Contenders.Reference}, {p.LongEpochs} epochs (the training-cost curve)",
        Contenders.FloorRun => $"{Contenders.Reference}, {p.FloorEpochs} epochs (the one-epoch floor's reference)",
        _ => method,
    };
    static string Limit(int? n) => n is int v ? v.ToString("N0", Inv) : "all";
    static string Pct(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("F2", Inv);
    static double Std(double[] v) => v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - v.Average()) * (x - v.Average())) / (v.Length - 1));
}
