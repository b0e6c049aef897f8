using System.Text;
using Learngene.Experiments;
using Learngene.Reporting;
using Learngene.Statistics;
using static Learngene.Reporting.Cells;

namespace Learngene.Methods.Kind;

/// <summary>report.md and the plot of <c>bench kind</c>: the pre-trained models, knowledge diversion per
/// pre-training class, per novel-class task every method's FD-clf, accuracy on samples, trainable
/// parameters, MACs, speed and time, the sample grids side by side, FD-clf against trainable parameters,
/// and the floors.</summary>
public static class KindReport
{
    public static KindResults Load(string runDir) => ExperimentFolder.LoadResults<KindResults>(runDir);

    /// <summary>The images and optimizer steps of each task's first transfer, as trained (the limit draws from every class, the task keeps its own).</summary>
    static string TransferImages(KindResults r) => string.Join("; ", r.Tasks.Select(t => t.Methods.FirstOrDefault()?.Cell.History.FirstOrDefault() is { } h
        ? $"{t.Task.Id}: {h.ImagesSeen:N0} images, {(h.ImagesSeen + r.Preset.TransferRecipe.BatchSize - 1) / r.Preset.TransferRecipe.BatchSize} steps per epoch" : $"{t.Task.Id}: not run"));

    /// <summary>Whether a run folder's results are a KIND experiment's.</summary>
    public static bool Holds(string runDir) => ExperimentFolder.ResultsHave(runDir, "diversion");

    public static string Write(string runDir, KindResults r)
    {
        var p = r.Preset;
        var m = p.Model;
        var md = new StringBuilder();
        md.AppendLine($"# KIND: learngenes and tailors transferred to new classes — preset `{p.Name}`");
        md.AppendLine();
        md.AppendLine($"DiT depth {m.Depth}, width {m.Width}, {m.Heads} heads, patch {m.PatchSize}, {p.Diffusion.Prediction} prediction, {p.Diffusion.Steps} diffusion steps. " +
                      $"Pre-training on {p.PretrainData} classes [{string.Join(", ", p.PretrainClasses)}]: KIND's SVD-form DiT (qkv, proj, fc1, fc2 as U diag(s) Vᵀ: {p.LearngeneRank} learngene components " +
                      $"and a block of {p.TailorRank} tailor components per class, gated per sample) and an ordinary DiT, both {p.PretrainRecipe.Epochs} epochs " +
                      $"(AdamW lr {p.PretrainRecipe.LearningRate:G3}, batch {p.PretrainRecipe.BatchSize}, {(p.PretrainLimit is int n ? $"{n:N0}" : "all")} images). " +
                      $"Each transfer: {p.TransferRecipe.Epochs} epoch(s) on the task's classes among {(p.TransferLimit is int l ? $"{l:N0} training images drawn from all of the data's classes" : "the data's training images")} ({TransferImages(r)}), lr {p.TransferRecipe.LearningRate:G3}, batch {p.TransferRecipe.BatchSize}, " +
                      $"the same seeds, sampler and judge for every method ({p.TransferSeeds} transfer seed(s) each). **FD-clf** is the Fréchet distance between a judge ViT's penultimate features on samples and on the real test images " +
                      $"(not comparable with FID); \"acc.\" is the judge's accuracy on samples of each requested class. Samples: {p.FinalPerClass} per class per transfer method over its seeds ({p.PretrainPerClass ?? p.FinalPerClass} per class for the pre-trained models), {p.Diffusion.Sampling.Describe()}. " +
                      $"Wall-clock time {r.WallSeconds / 60:F1} min. Finished {r.Finished:u}.");
        md.AppendLine();
        md.AppendLine("Methods: **kind** — the learngenes (frozen) plus fresh tailors for the new classes (one block each; " + (p.ZeroTailors() ? "zero singular values at the start" : "random orthonormal directions at a fresh layer's singular value") + "); " +
                      (p.NullTailor ? "the null class (guidance's unconditional branch) gets a tailor block of its own; " : "the null class (guidance's unconditional branch) uses the learngenes alone, as in pre-training (nothing public says how KIND handles it); ") +
                      (p.Methods.Contains("kind-null") ? "**kind-null** — the same with a tailor block for the null class, so that the unconditional branch adapts too (this project's option); " : "") +
                      (p.Methods.Contains("kind-nogate") ? "**kind-nogate** — the ablation without diversion: the same SVD-form DiT pre-trained with the same budget but every component shared (no class gate), its top singular components per matrix kept as the learngenes and transferred as KIND's are; " : "") +
                      $"KIND's q, k and v are {(p.SeparateQkv ? "three matrices, each decomposed on its own (as the authors' DivControl states KIND's decomposition)" : "one stacked matrix with one decomposition")}; " +
                      (p.Methods.Contains("kind-null") ? "**lora**, **pissa** — on the ordinary DiT, rank chosen as the smallest that trains at least as many parameters as kind-null (so as many as either KIND variant); " : "**lora**, **pissa** — on the ordinary DiT, rank chosen as the smallest that trains at least as many parameters as KIND; ") +
                      "**svdiff** — spectral shifts of the ordinary DiT's matrices; " +
                      "**full** — every tensor of the ordinary DiT; **heur-lg** — its last " + p.InheritBlocks + " blocks and final layer inherited, the rest fresh, everything trains" +
                      (p.Methods.Contains("kind-tune") ? "; **kind-tune** — KIND with its learngenes trained too; **lora-wide**, **pissa-wide** — at the rank matching kind-tune's trainable parameters" : "") + ". " +
                      "Every method also trains the class table: fresh rows for the new classes, and the null class's row, which starts from the pre-trained one and trains too. " +
                      "MACs are one network pass for one image (a guided sampling step makes two); \"as run\" is the model as trained and sampled here (KIND's rank-space product over every component, adapters unmerged), " +
                      "\"deployed\" with adapters merged into their matrices and KIND recombined for one class (its learngenes and one tailor block).");
        md.AppendLine();
        md.AppendLine("## Pre-training");
        md.AppendLine();
        md.AppendLine("| model | parameters | MACs per step | train img/s | train min | FD-clf | acc. on samples (%) | lowest class (%) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var (name, cell, s) in new[] { ("KIND (SVD form)", r.KindPretrain, r.KindPretrainScores), ("ordinary DiT", r.DitPretrain, r.DitPretrainScores) })
            md.AppendLine($"| {name} | {cell.Parameters:N0} | {cell.MacsPerImage / 1e6:F1} M | {Speed(cell):F0} | {cell.Seconds / 60:F1} | {G(s.FdClf)} | {Pct(s.MeanAccuracy)} | {Pct(s.MinAccuracy)} |");
        if (r.UngatedPretrain is { } u)
            md.AppendLine($"| SVD form without class gate (ablation) | {u.Parameters:N0} | {u.MacsPerImage / 1e6:F1} M | {Speed(u):F0} | {u.Seconds / 60:F1} | – | – | – |");
        md.AppendLine();
        md.AppendLine($"Judge of the pre-training classes: test accuracy {Pct(r.PretrainJudge.FinalAccuracy)}%. The learngene stores {r.LearngeneParameters:N0} parameters (learngenes and shared parts); " +
                      $"one tailor block (a class's tailors) {r.TailorParametersPerBlock:N0}.");
        md.AppendLine();
        md.AppendLine("## Knowledge diversion");
        md.AppendLine();
        md.AppendLine("Each pre-training class drawn from a model recombined from the learngenes plus that class's tailor (`learngene expand GENE --tailors c`), and from the learngenes alone " +
                      "under the same class label; the share of samples the judge labels as the class.");
        md.AppendLine();
        md.AppendLine("The last columns put another class's tailor under the class's label: the judge then says which of the two the samples show.");
        md.AppendLine();
        md.AppendLine("| class | learngenes + its tailor (%) | learngenes alone (%) | another tailor | … seen as the label's class (%) | … seen as the tailor's class (%) |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var d in r.Diversion) md.AppendLine($"| {d.Class} | {Pct(d.WithTailor)} | {Pct(d.LearngenesOnly)} | {d.SwappedTailor} | {Pct(d.SwappedAsLabel)} | {Pct(d.SwappedAsTailor)} |");
        md.AppendLine();
        foreach (var t in r.Tasks)
        {
            md.AppendLine($"## Transfer to {t.Task.Data} classes {string.Join(", ", t.ClassNames)}");
            md.AppendLine();
            md.AppendLine($"Judge test accuracy {Pct(t.Judge.FinalAccuracy)}%. Reference: real training images vs test FD-clf {G(t.RealReference ?? t.Methods.FirstOrDefault()?.Final.FdTrainVsTest ?? double.NaN)}" +
                          (t.RealReference is null ? "" : $" at the pooled sample count ({G(t.Methods.FirstOrDefault()?.Final.FdTrainVsTest ?? double.NaN)} at one run's)") +
                          $", uniform noise {G(t.Methods.FirstOrDefault()?.Final.FdNoiseVsTest ?? double.NaN)}.");
            md.AppendLine();
            if (t.Summaries.Count > 0)
            {
                md.AppendLine($"Each method over its seeds: FD-clf of all its samples ({p.FinalPerClass} per class in all, split over the seeds) with a 95% bootstrap interval over the samples; " +
                              $"the test denoising loss ({(p.TestLimit is int limit ? $"{limit:N0} test images of the task's classes, a seeded subset," : "every test image of the task's classes")} at one fixed step and noise each, the same for every model) as the mean over seeds with a 95% bootstrap interval over seeds and images.");
                md.AppendLine();
                Table(md, ["method", "seeds", "trainable params", "FD-clf", "test loss", "acc. on samples (%)", "lowest class (%)"],
                    t.Summaries.Select(x => new[] { x.Method, $"{x.Seeds}", $"{x.TrainableParameters:N0}", x.FdClf.Plain("G3"), x.TestLoss.Plain("F4"), Pct(x.MeanAccuracy), Pct(x.MinAccuracy) }));
                md.AppendLine("Each KIND variant against each other method (differences variant − method: below 0, the variant is better; FD-clf sets resampled on their own, losses paired over seeds and test images):");
                md.AppendLine();
                Table(md, ["KIND variant", "against", "seeds", "FD-clf difference", "reads", "test-loss difference", "reads"],
                    t.Comparisons.Select(c => new[] { c.Method, c.Rival, $"{c.Seeds}", c.FdClfDifference.Plain("G3"), Reads(c, c.FdClfDifference), c.LossDifference.Plain("G3"), Reads(c, c.LossDifference) }));
            }
            md.AppendLine("Every run:");
            md.AppendLine();
            md.AppendLine("| method | seed | trains | trainable params | MACs per pass (as run / deployed) | FD-clf | test loss | patch seams | acc. on samples (%) | lowest class (%) | train img/s | train min |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
            foreach (var x in t.Methods)
                md.AppendLine($"| {x.Method} | {x.SeedIndex} | {x.Trains} | {x.TrainableParameters:N0} | {x.MacsPerStep / 1e6:F1} M / {x.DeployedMacsPerStep / 1e6:F1} M | {G(x.Final.FdClf)} | " +
                              $"{(x.Final.TestLoss is { } loss ? $"{loss:F4} ± {x.Final.TestLossSe:F4}" : "–")} | {(x.Final.SeamRatio is { } seam ? seam.ToString("F2") : "–")} | {Pct(x.Final.MeanAccuracy)} | {Pct(x.Final.MinAccuracy)} | {x.ImagesPerSecond:F0} | {x.Minutes:F1} |");
            md.AppendLine();
            var first = t.Methods.Where(x => x.SeedIndex == 0).ToList();
            md.AppendLine("| " + string.Join(" | ", first.Select(x => x.Method)) + " |");
            md.AppendLine("|" + string.Concat(first.Select(_ => "---|")));
            md.AppendLine("| " + string.Join(" | ", first.Select(x => $"![{x.Method}]({x.Grid})")) + " |");
            md.AppendLine();
        }
        // Each method's FD-clf over its seeds where there are summaries (one run's otherwise).
        var series = r.Tasks.SelectMany(t => t.Summaries.Count > 0
            ? t.Summaries.Select(x => new Plots.Series($"{x.Method} ({t.Task.Data})", [Math.Log10(Math.Max(1, x.TrainableParameters))], [x.FdClf.Estimate], Connected: false, Group: x.Method))
            : t.Methods.Select(x => new Plots.Series($"{x.Method} ({t.Task.Data})", [Math.Log10(Math.Max(1, x.TrainableParameters))], [x.Final.FdClf], Connected: false, Group: x.Method))).ToList();
        Plots.Lines(Path.Combine(runDir, "fd-vs-trainable.png"), "FD-clf against trainable parameters (each transfer task)", "trainable parameters (log10)", "FD-clf", series);
        md.AppendLine("![FD-clf against trainable parameters](fd-vs-trainable.png)");
        md.AppendLine();
        md.AppendLine("## Floors");
        md.AppendLine();
        foreach (var c in KindChecks.Evaluate(r)) md.AppendLine($"- **{c.Verdict.Word()}** — {c.Name}: {c.Text}");
        string path = Path.Combine(runDir, "report.md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    /// <summary>A markdown table and the blank line after it.</summary>
    static void Table(StringBuilder md, string[] columns, IEnumerable<string[]> rows)
    {
        md.AppendLine("| " + string.Join(" | ", columns) + " |");
        md.AppendLine("|" + string.Concat(columns.Select(_ => "---|")));
        foreach (var row in rows) md.AppendLine("| " + string.Join(" | ", row) + " |");
        md.AppendLine();
    }

    /// <summary>What a difference's interval says: which of the two is better, or not resolved at this scale.</summary>
    static string Reads(PairedComparison c, Interval i) => Verdicts.Decide(i, 0, higherIsBetter: false) switch
    {
        Verdict.Met => $"{c.Method} better",
        Verdict.Missed => $"{c.Rival} better",
        _ => "not resolved",
    };

    static double Speed(CellResult c) => c.History.Sum(h => h.ImagesPerSecond * h.Seconds) / Math.Max(1e-9, c.History.Sum(h => h.Seconds));
}
