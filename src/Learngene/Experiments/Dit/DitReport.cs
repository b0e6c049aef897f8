using System.Text;
using Learngene.Experiments;
using Learngene.Reporting;
using Learngene.Statistics;
using static Learngene.Reporting.Cells;

namespace Learngene.Experiments.Dit;

/// <summary>report.md and plots of <c>bench dit</c>: per data set the judge, the DiT's final FD-clf and accuracy
/// on samples with the reference rows, the sample grid, FD-clf and accuracy against training images, and the floors.</summary>
public static class DitReport
{
    public static DitResults Load(string runDir) => ExperimentFolder.LoadResults<DitResults>(runDir);

    /// <summary>Whether a run folder's results are a DiT experiment's.</summary>
    public static bool Holds(string runDir) => ExperimentFolder.ResultsHave(runDir, "data") && !ExperimentFolder.ResultsHave(runDir, "families");


    public static string Write(string runDir, DitResults r)
    {
        var p = r.Preset;
        var m = p.Model;
        var md = new StringBuilder();
        md.AppendLine($"# Class-conditional DiT — preset `{p.Name}`");
        md.AppendLine();
        md.AppendLine($"DiT depth {m.Depth}, width {m.Width}, {m.Heads} heads, patch {m.PatchSize} (label dropout {m.ClassDropout:P0}), {p.Diffusion.Prediction} prediction, " +
                      $"linear β over {p.Diffusion.Steps} steps; AdamW lr {p.Recipe.LearningRate:G3} (warmup {p.Recipe.WarmupEpochs:G3} epochs, cosine to {p.Recipe.MinLearningRate:G3}), " +
                      $"batch {p.Recipe.BatchSize}, {p.Recipe.Epochs} epochs on {(p.TrainLimit is int n ? $"{n:N0}" : "all")} training images; samples from the EMA of the weights ({(p.Diffusion.EmaWarmup ? $"decay min({p.Diffusion.EmaDecay:G4}, (1 + n)/(10 + n)) after step n" : $"decay {p.Diffusion.EmaDecay:G4}")}). " +
                      $"The judge is a ViT (depth {p.Judge.Depth}, width {p.Judge.Width}, patch {p.Judge.PatchSize}) trained on the real training images; **FD-clf** is the Fréchet distance " +
                      $"between its penultimate features on samples and on the real test images (the FID formula on another network: not comparable with FID). " +
                      $"Per-epoch evaluations draw {p.Diffusion.EvalPerClass} samples per class against {(p.TestLimit is int t ? $"{t:N0}" : "all")} test images; the final one {p.FinalPerClass} per class against every test image. " +
                      $"Wall-clock time of the run {r.WallSeconds / 60:F1} min. Finished {r.Finished:u}.");
        md.AppendLine();
        md.AppendLine("| data | judge test acc. (%) | FD-clf | real train vs test | noise vs test | FD-clf ÷ real | patch seams (real) | test loss | acc. on samples (%) | lowest class (%) | train img/s | train min | sampling s |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var d in r.Data)
        {
            var f = d.Final;
            md.AppendLine($"| {d.Data} | {Pct(d.Judge.FinalAccuracy)} | {(f.FdClfInterval is { } interval ? interval.Plain("G3") : G(f.FdClf))} | {G(f.FdTrainVsTest)} | {G(f.FdNoiseVsTest)} | {f.FdRatio?.Plain("F1") ?? "–"} | " +
                          $"{f.SeamInterval?.Plain() ?? (f.SeamRatio is { } seam ? seam.ToString("F2") : "–")} ({(f.RealSeamRatio is { } real ? real.ToString("F2") : "–")}) | {(f.TestLoss is { } loss ? $"{loss:F4} ± {f.TestLossSe:F4}" : "–")} | {Pct(f.MeanAccuracy)} | " +
                          $"{Pct(f.MinAccuracy)} ({f.ClassAccuracy.MinBy(kv => kv.Value).Key}) | {d.ImagesPerSecond:F0} | {d.TrainMinutes:F1} | {f.SamplingSeconds:F0} |");
        }
        md.AppendLine();
        md.AppendLine($"Final samples: {p.FinalPerClass} per class, {p.Diffusion.Sampling.Describe()}. \"Real train vs test\" is FD-clf of as many real training images as samples — the floor a perfect generator reaches at this sample count; \"noise\" is uniform noise. " +
                      "Intervals are 95% bootstrap intervals over the samples (the test images are the fixed reference). **Patch seams**: the mean neighbour-pixel difference across the DiT's patch boundaries over the one inside patches " +
                      "(1 when the grid is invisible; real test images in brackets). **Test loss**: the denoising loss on " + (p.TestLimit is int limit ? $"{limit:N0} test images (a seeded subset)" : "every test image") + " at one fixed step and noise each, ± its standard error.");
        if (r.Data.FirstOrDefault(d => d.Final.OnePassSeamRatio is { Count: > 0 }) is { } withSeams)
        {
            md.AppendLine();
            md.AppendLine("The network's own seams, without the sampler: patch-seam ratio of its one-pass clean estimates of noised test images, by step t — " +
                          string.Join("; ", r.Data.Where(d => d.Final.OnePassSeamRatio is { Count: > 0 }).Select(d => $"{d.Data}: " + string.Join(", ", d.Final.OnePassSeamRatio!.Select(kv => $"t={kv.Key} {kv.Value:F2}")))) + ".");
        }
        md.AppendLine();
        md.AppendLine("## Floors");
        md.AppendLine();
        foreach (var c in DitChecks.Evaluate(r)) md.AppendLine($"- **{c.Verdict.Word()}** — {c.Name}: {c.Text}");
        md.AppendLine();
        md.AppendLine("## Training");
        md.AppendLine();
        var fd = r.Data.Select(d => new Plots.Series(d.Data, d.Curve.Select(c => (double)c.TrainImages).ToArray(), d.Curve.Select(c => c.FdClf).ToArray())).ToList();
        Plots.Lines(Path.Combine(runDir, "fd-clf.png"), "FD-clf against training images (per-epoch evaluation)", "training images", "FD-clf", fd);
        var acc = r.Data.Select(d => new Plots.Series(d.Data, d.Curve.Select(c => (double)c.TrainImages).ToArray(), d.Curve.Select(c => c.SampleAccuracy * 100).ToArray())).ToList();
        Plots.Lines(Path.Combine(runDir, "sample-accuracy.png"), "Accuracy on samples against training images (per-epoch evaluation)", "training images", "accuracy on samples (%)", acc);
        md.AppendLine("![FD-clf](fd-clf.png)");
        md.AppendLine();
        md.AppendLine("![accuracy on samples](sample-accuracy.png)");
        md.AppendLine();
        md.AppendLine("| data | epoch | training images | minutes | test loss | EMA test loss | FD-clf | acc. on samples (%) | lowest class (%) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var d in r.Data)
            foreach (var c in d.Curve)
                md.AppendLine($"| {d.Data} | {c.Epoch} | {c.TrainImages:N0} | {c.Minutes:F1} | {G(c.Loss)} | {G(c.EmaLoss)} | {G(c.FdClf)} | {Pct(c.SampleAccuracy)} | {Pct(c.SampleAccuracyMin)} |");
        md.AppendLine();
        md.AppendLine("## Samples");
        md.AppendLine();
        foreach (var d in r.Data)
        {
            md.AppendLine($"### {d.Data}");
            md.AppendLine();
            md.AppendLine($"One row per class ({string.Join(", ", d.ClassNames)}); every sample is in `{d.SamplesFolder}/CLASS/N.png`.");
            md.AppendLine();
            md.AppendLine($"![{d.Data} samples]({d.Grid})");
            md.AppendLine();
            md.AppendLine("| class | " + string.Join(" | ", d.Final.ClassAccuracy.Keys) + " |");
            md.AppendLine("|---|" + string.Concat(d.Final.ClassAccuracy.Keys.Select(_ => "---|")));
            md.AppendLine("| acc. on samples (%) | " + string.Join(" | ", d.Final.ClassAccuracy.Values.Select(Pct)) + " |");
            md.AppendLine();
        }
        string path = Path.Combine(runDir, "report.md");
        IO.AtomicFile.WriteAllText(path, md.ToString());
        return path;
    }
}
