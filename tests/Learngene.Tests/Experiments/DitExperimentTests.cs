using System.Text.Json;
using Learngene.Experiments.Dit;
using Learngene.Methods.Pool;
using Learngene.Reporting;
using Learngene.Runs;

namespace Learngene.Tests.Experiments;

/// <summary>The DiT experiment at the smoke budget on the real MNIST and Fashion-MNIST.</summary>
public class DitExperimentTests
{
    static readonly DitPreset Smoke = DitPreset.Registry.Find("smoke") with { Recipe = DitPreset.Registry.Find("smoke").Recipe with { Epochs = 2 } };

    static readonly Lazy<(string Dir, DitResults Results)> Run = new(() =>
    {
        string dir = TestData.TempDir();
        return (dir, new DitExperiment(Smoke, dir, TestData.Cache.Value, _ => { }).Run());
    });

    [Fact]
    public void Every_data_set_gets_a_judge_a_dit_judged_each_epoch_and_a_final_evaluation_with_reference_rows()
    {
        var (dir, r) = Run.Value;
        Assert.Equal(["mnist", "fashion-mnist"], r.Data.Select(d => d.Data));
        foreach (var d in r.Data)
        {
            Assert.Equal(2, d.Curve.Count);
            Assert.All(d.Curve, c => Assert.True(double.IsFinite(c.FdClf) && c.SampleAccuracy is >= 0 and <= 1));
            Assert.Equal(10, d.Final.ClassAccuracy.Count);
            // Real images are far nearer the test images than noise; an undertrained DiT lies between or near noise.
            Assert.True(d.Final.FdTrainVsTest * 5 < d.Final.FdNoiseVsTest, $"{d.Final.FdTrainVsTest} vs {d.Final.FdNoiseVsTest}");
            Assert.True(d.Final.FdClf > d.Final.FdTrainVsTest);
            // FD-clf, its ratio to the real reference and the seams come with bootstrap intervals around their estimates.
            var (fd, ratio, seams) = (d.Final.FdClfInterval!, d.Final.FdRatio!, d.Final.SeamInterval!);
            Assert.True(fd.Low <= fd.Estimate && fd.Estimate <= fd.High && fd.Estimate == d.Final.FdClf);
            Assert.Equal(d.Final.FdClf / d.Final.FdTrainVsTest, ratio.Estimate, 6);
            Assert.True(seams.Low <= seams.Estimate && seams.Estimate <= seams.High && d.Final.RealSeamRatio > 0);
            Assert.Equal(3, d.Final.OnePassSeamRatio!.Count);
            // The test loss of the final model on the preset's test images, kept per image beside the samples' features.
            Assert.Equal(Smoke.TestLimit, d.Final.TestImages);
            var (features, losses) = JudgedSamples.LoadEvidence(Path.Combine(dir, "cells", $"final-{d.Data}", DitExperiment.EvidenceName));
            using (features) Assert.Equal(10 * Smoke.FinalPerClass, features.shape[0]);
            Assert.Equal(d.Final.TestLoss!.Value, losses.Average(), 5);
            Assert.True(File.Exists(Path.Combine(dir, d.Grid)));
            Assert.Equal(10 * Smoke.FinalPerClass, Directory.GetFiles(Path.Combine(dir, d.SamplesFolder), "*.png", SearchOption.AllDirectories).Length);
            // The DiT is judged each epoch by its data set's judge, with the preset's recipe and budget.
            var spec = RunSpec.Load(Path.Combine(dir, "cells", $"dit-{d.Data}"));
            Assert.Equal((Smoke.Recipe, Smoke.TrainLimit, Smoke.TestLimit), (spec.Options, spec.TrainLimit, spec.TestLimit));
            var settings = JsonSerializer.Deserialize<Learngene.Training.Objectives.DiffusionObjective.Settings>(spec.ObjectiveSettings!, Learngene.Models.ModelConfig.Json)!;
            Assert.EndsWith(Path.Combine("cells", $"judge-{d.Data}", "model.safetensors"), settings.Judge);
        }
        var report = File.ReadAllText(DitReport.Write(dir, r));
        Assert.Contains("FD-clf", report);
        Assert.Contains("samples-mnist.png", report);
        Assert.True(DitReport.Holds(dir) && !PoolReport.Holds(dir));
        Assert.Equal(["accuracy on samples", "FD-clf near real data", "patch seams", "time"], DitChecks.Evaluate(r).Select(c => c.Name));
        Assert.Contains("patch seams", report);
    }

    [Fact]
    public void A_rerun_reads_every_cell_and_the_final_evaluations_from_the_folder()
    {
        var (dir, first) = Run.Value;
        // Read, not recomputed: no trained cell and no drawn sample is written again (a count, not a timing).
        var stamps = Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => f.Contains($"{Path.DirectorySeparatorChar}cells{Path.DirectorySeparatorChar}") || f.EndsWith(".png"))
            .ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var again = new DitExperiment(Smoke, dir, TestData.Cache.Value, _ => { }).Run();
        Assert.All(stamps, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(kv.Key)));
        Assert.Equal(first.Data.Select(d => d.Final.FdClf), again.Data.Select(d => d.Final.FdClf));
        // Another budget in the same folder is refused, not mixed in.
        var other = Smoke with { FinalPerClass = Smoke.FinalPerClass + 1 };
        Assert.Throws<LearngeneException>(() => new DitExperiment(other, dir, TestData.Cache.Value, _ => { }).Run());
    }
}
