using Learngene.Bench;
using Learngene.Reporting;

namespace Learngene.Tests.Bench;

/// <summary>The experiment runner at the smoke budget, on the real Fashion-MNIST and MNIST.</summary>
public class TlegExperimentTests
{
    static readonly TlegPreset Smoke = TlegPreset.Find("smoke") with { Depths = [1, 3], TrainLimit = 400, TestLimit = 200, TeacherTrainLimit = 400, AuxiliaryTrainLimit = 400 };

    [Fact]
    public void The_experiment_writes_every_cell_results_and_a_report_and_resumes_without_recomputing()
    {
        string dir = TestData.TempDir();
        var first = new TlegExperiment(Smoke, dir, TestData.Catalog.Value, _ => { }).Run();
        // Per depth: source tleg, scratch, scratch-long; transfer tleg, scratch, pretrain-finetune.
        Assert.Equal(12, first.Cells.Count);
        Assert.All(first.Cells, c => Assert.InRange(c.FinalAccuracy, 0.0, 1.0));
        Assert.Equal(Smoke.Epochs * Smoke.ScratchMultiplier, first.Cells.Single(c => c.Init == "scratch-long" && c.Depth == 3).History.Count);
        Assert.True(first.FamilyParameters > first.LearngeneParameters);

        var stamps = Directory.GetFiles(Path.Combine(dir, "cells"), "cell.json", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var logged = new List<string>();
        var second = new TlegExperiment(Smoke, dir, TestData.Catalog.Value, logged.Add).Run();
        Assert.All(stamps, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(kv.Key)));  // nothing recomputed
        Assert.DoesNotContain(logged, l => l.EndsWith("running"));
        Assert.Equal(first.Cells.Select(c => c.FinalAccuracy), second.Cells.Select(c => c.FinalAccuracy));

        string report = TlegReport.Write(dir, TlegReport.Load(dir));
        string text = File.ReadAllText(report);
        Assert.Contains("| TLEG, 1 epochs |", text);
        Assert.Contains("Parameters stored for the family", text);
        Assert.True(new FileInfo(Path.Combine(dir, "plots", "accuracy-vs-depth-source.png")).Length > 1000);
    }

    [Fact]
    public void A_run_folder_of_another_experiment_is_refused()
    {
        string dir = TestData.TempDir();
        File.WriteAllText(Path.Combine(dir, "preset.json"), "{\"name\":\"other\"}");
        var e = Assert.Throws<LearngeneException>(() => new TlegExperiment(Smoke, dir, TestData.Catalog.Value, _ => { }).Run());
        Assert.Contains("another --out", e.Message);
    }
}
