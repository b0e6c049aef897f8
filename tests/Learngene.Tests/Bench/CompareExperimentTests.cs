using Learngene.Bench;
using Learngene.Reporting;

namespace Learngene.Tests.Bench;

/// <summary>The comparison runner at the smoke budget, on the real Fashion-MNIST and MNIST.</summary>
public class CompareExperimentTests
{
    static readonly ComparePreset Smoke = ComparePreset.Find("smoke") with { Depths = [1, 3], TrainLimit = 300, TestLimit = 100, TeacherTrainLimit = 300, AuxiliaryTrainLimit = 300 };

    [Fact]
    public void Every_method_trains_at_every_depth_on_both_tasks_and_an_extended_run_computes_only_what_is_new()
    {
        string dir = TestData.TempDir();
        string[] first = ["tleg", "sws", "scratch", "pretrain-finetune"];
        var r1 = new CompareExperiment(Smoke, first, 1, dir, TestData.Catalog.Value, _ => { }).Run();
        // scratch-long per depth; source: tleg, sws, scratch; transfer: those and pretrain-finetune.
        Assert.Equal(2 + 2 * 3 + 2 * 4, r1.Cells.Count);
        Assert.All(r1.Cells, c => Assert.InRange(c.FinalAccuracy, 0.0, 1.0));
        Assert.All(r1.Cells.Where(c => c.Init != "scratch-long"), c => Assert.Equal(Smoke.Epochs, c.History.Count));
        Assert.Equal(Smoke.LongEpochs, r1.Cells.First(c => c.Init == "scratch-long").History.Count);
        Assert.Equal(["sws", "tleg"], r1.Learngenes.Keys.Order());
        Assert.True(r1.StoredParameters["pretrain-finetune"] > r1.StoredParameters["tleg"]);
        Assert.Equal(0, r1.StoredParameters["scratch"]);

        var stamps = Directory.GetFiles(Path.Combine(dir, "cells"), "cell.json", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var logged = new List<string>();
        var r2 = new CompareExperiment(Smoke, [.. first, "mimetic", "heur-lg"], 2, dir, TestData.Catalog.Value, logged.Add).Run();
        Assert.All(stamps, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(kv.Key))); // nothing recomputed
        Assert.Contains(logged, l => l == "[ancestry] running");
        Assert.DoesNotContain(logged, l => l.StartsWith("[source-tleg-d01-s0]") && l.EndsWith("running"));
        Assert.Contains(logged, l => l == "[source-tleg-d01-s1] running");
        Assert.Equal(2 * r1.Cells.Count + 2 * 2 * 2 * 2, r2.Cells.Count); // two seeds; two new methods × 2 depths × 2 tasks
        foreach (var c in r1.Cells) Assert.Equal(c.FinalAccuracy, r2.Cells.Single(x => x.Name == c.Name).FinalAccuracy);

        string report = CompareReport.Write(dir, CompareReport.Load(dir));
        string text = File.ReadAllText(report);
        Assert.Contains("| tleg |", text);
        Assert.Contains(" ± ", text); // two seeds: mean ± std
        Assert.Contains("TLEG vs scratch on fashion-mnist", text);
        Assert.Contains("SWS stores", text);
        Assert.True(new FileInfo(Path.Combine(dir, "plots", "accuracy-vs-depth-transfer.png")).Length > 1000);
        Assert.True(new FileInfo(Path.Combine(dir, "plots", "accuracy-vs-epoch-source.png")).Length > 1000);
    }

    [Fact]
    public void A_run_folder_of_another_budget_is_refused()
    {
        string dir = TestData.TempDir();
        File.WriteAllText(Path.Combine(dir, "preset.json"), "{\"name\":\"other\"}");
        var e = Assert.Throws<LearngeneException>(() => new CompareExperiment(Smoke, ["scratch"], 1, dir, TestData.Catalog.Value, _ => { }).Run());
        Assert.Contains("another --out", e.Message);
    }

    [Fact]
    public void A_reworded_preset_description_does_not_lock_a_run_folder()
    {
        string dir = TestData.TempDir();
        var tiny = Smoke with { Depths = [1], Transfer = "", LongEpochs = 0, Epochs = 1 };
        new CompareExperiment(tiny, ["scratch"], 1, dir, TestData.Catalog.Value, _ => { }).Run();
        var again = new CompareExperiment(tiny with { Description = "reworded" }, ["scratch"], 1, dir, TestData.Catalog.Value, _ => { }).Run();
        Assert.Single(again.Cells);
        Assert.Throws<LearngeneException>(() => new CompareExperiment(tiny with { Epochs = 2 }, ["scratch"], 1, dir, TestData.Catalog.Value, _ => { }).Run());
    }

    [Fact]
    public void Auto_LG_scores_survive_a_run_whose_cells_are_all_cached()
    {
        string dir = TestData.TempDir();
        var tiny = Smoke with { Depths = [2], Transfer = "", LongEpochs = 0, Epochs = 1 };
        var first = new CompareExperiment(tiny, ["auto-lg"], 1, dir, TestData.Catalog.Value, _ => { }).Run();
        var again = new CompareExperiment(tiny, ["auto-lg"], 1, dir, TestData.Catalog.Value, _ => { }).Run();
        Assert.Equal(Smoke.AuxiliaryDepth, first.AutoLgScores["source"].Length);
        Assert.Equal(first.AutoLgScores["source"], again.AutoLgScores["source"]);
    }

    [Theory]
    [InlineData("tleg,bogus", "unknown method 'bogus'")]
    [InlineData(",", "--methods is empty")]
    public void Unknown_methods_are_refused(string list, string message)
    {
        var e = Assert.Throws<LearngeneException>(() => CompareExperiment.ParseMethods(list));
        Assert.Contains(message, e.Message);
    }
}
