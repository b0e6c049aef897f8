using Learngene.Experiments;
using Learngene.Experiments.Comparison;
using Learngene.IO;
using Learngene.Reporting;
using Learngene.Runs;

namespace Learngene.Tests.Experiments;

/// <summary>The comparison runner at the smoke budget, on the real Fashion-MNIST and MNIST.</summary>
public class CompareExperimentTests
{
    static readonly ComparePreset Smoke = ComparePreset.Registry.Find("smoke") with { Depths = [1, 3], TrainLimit = 300, TestLimit = 100, TeacherTrainLimit = 300, AuxiliaryTrainLimit = 300 };

    [Fact]
    public void Every_method_trains_at_every_depth_on_both_tasks_and_an_extended_run_computes_only_what_is_new()
    {
        string dir = TestData.TempDir();
        string[] first = ["tleg", "sws", "scratch", "pretrain-finetune"];
        var r1 = new CompareExperiment(Smoke, first, 1, dir, TestData.Cache.Value, _ => { }).Run();
        // scratch-long and scratch-floor per depth; source: tleg, sws, scratch; transfer: those and pretrain-finetune.
        Assert.Equal(2 * 2 + 2 * 3 + 2 * 4, r1.Cells.Count);
        Assert.All(r1.Cells, c => Assert.InRange(c.FinalAccuracy, 0.0, 1.0));
        Assert.All(r1.Cells.Where(c => !c.Method.StartsWith("scratch-")), c => Assert.Equal(Smoke.Epochs, c.History.Count));
        Assert.Equal(Smoke.LongEpochs, r1.Cells.First(c => c.Method == "scratch-long").History.Count);
        Assert.Equal(Smoke.FloorEpochs, r1.Cells.First(c => c.Method == "scratch-floor").History.Count);
        Assert.Equal(["sws", "tleg"], r1.Learngenes.Keys.Order());
        Assert.True(r1.StoredParameters["pretrain-finetune"] > r1.StoredParameters["tleg"]);
        Assert.Equal(0, r1.StoredParameters["scratch"]);

        var stamps = Directory.GetFiles(Path.Combine(dir, "cells"), "cell.json", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var logged = new List<string>();
        var second = System.Diagnostics.Stopwatch.StartNew();
        var r2 = new CompareExperiment(Smoke, [.. first, "mimetic", "heur-lg"], 2, dir, TestData.Cache.Value, logged.Add).Run();
        Assert.DoesNotContain(Path.GetFullPath(dir), File.ReadAllText(Path.Combine(dir, CompareExperiment.ResultsName))); // paths relative to the run folder
        // The wall-clock total adds the second invocation's time: it grows, and by no more than that call took.
        Assert.True(r2.WallSeconds > r1.WallSeconds && r2.WallSeconds <= r1.WallSeconds + second.Elapsed.TotalSeconds, $"{r1.WallSeconds} then {r2.WallSeconds} after {second.Elapsed.TotalSeconds} s");
        Assert.All(stamps, kv => Assert.Equal(kv.Value, File.GetLastWriteTimeUtc(kv.Key))); // nothing recomputed
        Assert.Contains(logged, l => l == "[ancestry] running");
        Assert.DoesNotContain(logged, l => l.StartsWith("[source-tleg-d01-s0]") && l.EndsWith("running"));
        Assert.Contains(logged, l => l == "[source-tleg-d01-s1] running");
        Assert.Equal(2 * r1.Cells.Count + 2 * 2 * 2 * 2, r2.Cells.Count); // two seeds; two new methods × 2 depths × 2 tasks × 2 seeds
        foreach (var c in r1.Cells) Assert.Equal(c.FinalAccuracy, r2.Cells.Single(x => x.Name == c.Name).FinalAccuracy);

        string report = CompareReport.Write(dir, CompareReport.Load(dir));
        string text = File.ReadAllText(report);
        Assert.Contains("| tleg |", text);
        Assert.Contains(" ± ", text); // mean ± the interval's half-width
        Assert.Contains("TLEG − scratch on fashion-mnist", text);
        Assert.Contains("paired bootstrap", text);
        Assert.Matches(@"\d+\.\d× \[|> [\d.]+× \[", text); // training-cost factors with their intervals
        // Every cell kept its per-image outcomes on the shared test images, every epoch.
        Assert.All(r2.Cells, c => Assert.All(c.History, h => Assert.Equal(CompareExperimentTests.Smoke.TestLimit, h.Correct()!.Length)));
        Assert.Contains("SWS stores", text);
        Assert.Contains("Training-cost factor", text);
        Assert.Contains("FLOPs) per image", text);
        Assert.True(new FileInfo(Path.Combine(dir, "plots", "accuracy-vs-depth-transfer.png")).Length > 1000);
        Assert.True(new FileInfo(Path.Combine(dir, "plots", "accuracy-vs-epoch-source.png")).Length > 1000);
    }

    [Fact]
    public void Every_method_of_a_comparison_trains_with_the_same_recipe_data_and_test_set_and_every_pretrained_artefact_with_the_same_budget()
    {
        string dir = TestData.TempDir();
        var preset = Smoke with { Depths = [2], Epochs = 1 };
        var r = new CompareExperiment(preset, CompareExperiment.AllMethods, 2, dir, TestData.Cache.Value, _ => { }).Run();
        var specs = Directory.GetDirectories(Path.Combine(dir, "cells")).ToDictionary(d => Path.GetFileName(d), d => RunSpec.Load(d));
        Assert.All(specs.Values, s => Assert.Equal(preset.Seed, s.TestSeed)); // one test subset for every run

        // Descendants: per task, depth and seed, one recipe, one data subset, one test set, one input shape.
        var descendants = r.Cells.Where(c => !c.Method.StartsWith("scratch-")).GroupBy(c => (c.Task, c.Depth, c.Seed)).ToArray();
        Assert.Equal(2 * 2, descendants.Length);
        foreach (var group in descendants)
        {
            var runs = group.Select(c => specs[c.Name]).ToArray();
            Assert.Equal(group.Key.Task == "source" ? CompareExperiment.AllMethods.Length - 1 : CompareExperiment.AllMethods.Length, runs.Length);
            Assert.All(runs, s => Assert.Equal(runs[0].Options, s.Options));
            Assert.All(runs, s => Assert.Equal((runs[0].Data, runs[0].TrainLimit, runs[0].TestLimit), (s.Data, s.TrainLimit, s.TestLimit)));
            Assert.Equal(preset.Epochs, runs[0].Options.Epochs);
            var shapes = runs.Select(s => ModelFile.ReadConfig(s.Init!)).Select(c => (Learngene.Models.VitConfig)c).Select(c => (c.ImageSize, c.Channels, c.Width, c.Depth)).Distinct().ToArray();
            Assert.Single(shapes);
        }
        // Scratch's reference runs: the descendants' recipe, data and test set, only longer.
        foreach (var c in r.Cells.Where(c => c.Method.StartsWith("scratch-")))
        {
            var s = specs[c.Name];
            var same = specs[CompareExperiment.CellName("source", "scratch", c.Depth, c.Seed)];
            Assert.Equal(same.Options with { Epochs = c.Method == "scratch-long" ? preset.LongEpochs : preset.FloorEpochs }, s.Options);
            Assert.Equal((same.Data, same.TrainLimit, same.TestLimit, same.TestSeed), (s.Data, s.TrainLimit, s.TestLimit, s.TestSeed));
        }

        // Pre-trained artefacts: two learngenes, the ancestry, pretrain-finetune's model: the same distillation and images each.
        var pretrained = specs.Where(kv => kv.Key.StartsWith("learngene-") || kv.Key == "ancestry" || kv.Key.StartsWith("pretrain-")).Select(kv => kv.Value).ToArray();
        Assert.Equal(2 + 1 + 1, pretrained.Length); // learngenes, ancestry, pretrain-d02 (at the ancestry's depth the ancestry serves)
        Assert.All(pretrained, s => Assert.Equal(CompareExperiment.PretrainRecipe(preset), s.Options));
        Assert.All(pretrained, s => Assert.Equal((preset.Source, preset.AuxiliaryTrainLimit), (s.Data, s.TrainLimit)));
        Assert.Single(pretrained.Select(s => s.Teacher).Distinct());
        Assert.Equal("soft", pretrained[0].Options.Distill);
        Assert.Equal(r.Learngenes["tleg"].TrainImages, r.Pretrained[2].TrainImages);
        Assert.Equal(r.Learngenes["tleg"].TrainImages, r.Ancestry!.TrainImages);
        Assert.Equal(preset.AuxiliaryDepth * r.Pretrained[2].TrainImages, r.PretrainImages["pretrain-finetune"]); // N models for the family
        Assert.True(r.PretrainFlops["pretrain-finetune"] > r.PretrainFlops["tleg"]);
    }

    [Fact]
    public void Every_method_sees_the_familys_input_size_on_a_transfer_folder_of_another_size_and_channel_count()
    {
        string folder = TestData.TempDir();
        TestData.WriteColourFolder(folder, size: 20, perClass: 20); // RGB 20×20; the family is Fashion-MNIST's grey 28×28, patch 7
        string dir = TestData.TempDir();
        var preset = Smoke with { Depths = [2], Epochs = 1, LongEpochs = 0, Transfer = $"imagefolder:{folder}" };
        var r = new CompareExperiment(preset, CompareExperiment.AllMethods, 1, dir, TestData.Cache.Value, _ => { }).Run();
        var transfer = r.Cells.Where(c => c.Task == "transfer").ToArray();
        Assert.Equal(CompareExperiment.AllMethods.Length, transfer.Length);
        foreach (var c in transfer)
        {
            var trained = ModelFile.ReadConfig(Path.Combine(dir, c.ModelPath));
            Assert.Equal((28, 3, 3), (trained.ImageSize, trained.Channels, trained.Classes));
            Assert.InRange(c.FinalAccuracy, 0.0, 1.0);
        }
        Assert.Single(transfer.Select(c => (c.Parameters, c.MacsPerImage)).Distinct());
    }

    [Fact]
    public void A_run_folder_of_another_budget_is_refused()
    {
        string dir = TestData.TempDir();
        File.WriteAllText(Path.Combine(dir, "preset.json"), "{\"name\":\"other\"}");
        var e = Assert.Throws<LearngeneException>(() => new CompareExperiment(Smoke, ["scratch"], 1, dir, TestData.Cache.Value, _ => { }).Run());
        Assert.Contains("choose another run folder", e.Message);
        Assert.Equal("out", e.Setting);
    }

    [Fact]
    public void A_reworded_preset_description_does_not_lock_a_run_folder()
    {
        string dir = TestData.TempDir();
        var tiny = Smoke with { Depths = [1], Transfer = "", LongEpochs = 0, Epochs = 1 };
        new CompareExperiment(tiny, ["scratch"], 1, dir, TestData.Cache.Value, _ => { }).Run();
        var again = new CompareExperiment(tiny with { Description = "reworded" }, ["scratch"], 1, dir, TestData.Cache.Value, _ => { }).Run();
        Assert.Single(again.Cells);
        Assert.Throws<LearngeneException>(() => new CompareExperiment(tiny with { Epochs = 2 }, ["scratch"], 1, dir, TestData.Cache.Value, _ => { }).Run());
    }

    [Fact]
    public void Auto_LG_scores_survive_a_run_whose_cells_are_all_cached()
    {
        string dir = TestData.TempDir();
        var tiny = Smoke with { Depths = [2], Transfer = "", LongEpochs = 0, Epochs = 1 };
        var first = new CompareExperiment(tiny, ["auto-lg"], 1, dir, TestData.Cache.Value, _ => { }).Run();
        var again = new CompareExperiment(tiny, ["auto-lg"], 1, dir, TestData.Cache.Value, _ => { }).Run();
        Assert.Equal(Smoke.AuxiliaryDepth, first.InitializerScores["auto-lg"]["source"].Length);
        Assert.Equal(first.InitializerScores["auto-lg"]["source"], again.InitializerScores["auto-lg"]["source"]);
    }

    [Fact]
    public void What_would_fail_mid_run_is_refused_before_any_training()
    {
        string dir = TestData.TempDir();
        var e = Assert.Throws<LearngeneException>(() => new CompareExperiment(Smoke with { Transfer = "" }, ["pretrain-finetune"], 1, dir, TestData.Cache.Value, _ => { }).Run());
        Assert.Contains("measured on the transfer task", e.Message);
        e = Assert.Throws<LearngeneException>(() => new CompareExperiment(Smoke with { Depths = [5] }, ["weight-selection"], 1, dir, TestData.Cache.Value, _ => { }).Run());
        Assert.Contains("no deeper than its ancestry", e.Message);
        e = Assert.Throws<LearngeneException>(() => new CompareExperiment(Smoke with { WeightSelection = new("middle") }, ["weight-selection"], 1, dir, TestData.Cache.Value, _ => { }).Run());
        Assert.Contains("layer rule 'middle'", e.Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "cells")));
    }

    [Theory]
    [InlineData("tleg,bogus", "unknown method 'bogus'")]
    [InlineData(",", "the list of methods is empty")]
    public void Unknown_methods_are_refused(string list, string message)
    {
        var e = Assert.Throws<LearngeneException>(() => Contenders.Parse(list));
        Assert.Contains(message, e.Message);
    }
}
