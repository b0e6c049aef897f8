using System.Text.Json;
using Learngene.IO;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Stitching;
using Learngene.Reporting;
using Learngene.Runs;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Tests.Methods.Pool;

/// <summary>Learngene Pool against SN-Net at the smoke budget, on the real Fashion-MNIST.</summary>
public class PoolExperimentTests
{
    static readonly PoolPreset Smoke = PoolPreset.Registry.Find("smoke") with { TeacherTrainLimit = 300, PerModelTrainLimit = 300, TestLimit = 100 };

    static readonly Lazy<(string Dir, PoolResults Results)> Run = new(() =>
    {
        string dir = TestData.TempDir();
        return (dir, new PoolExperiment(Smoke, dir, TestData.Cache.Value, _ => { }).Run());
    });

    static RunSpec SpecOf(string dir, string cell) => RunSpec.Load(Path.Combine(dir, "cells", cell));

    [Fact]
    public void Instances_and_anchors_get_the_same_per_model_budget_and_every_family_the_same_fine_tuning()
    {
        var (dir, r) = Run.Value;
        // SN-Net's widest anchor is the teacher itself (the paper's comparison); the others are trained.
        Assert.Equal(["anchor-w16", "anchor-w8", "instance-w16", "instance-w32", "instance-w8"], r.Pretrained.Keys.Order());
        Assert.Contains("teacher", r.Find("sn-net").Members);
        var specs = r.Pretrained.Keys.Select(c => SpecOf(dir, c)).ToList();
        Assert.All(specs, s => Assert.Equal((Smoke.Data, Smoke.PerModelTrainLimit, Smoke.TestLimit, (int?)Smoke.Seed), (s.Data, s.TrainLimit, s.TestLimit, s.TestSeed)));
        // The same recipe, without label smoothing, but for what distils: instances through their objective, anchors through soft KD.
        Assert.Single(specs.Select(s => s.Options with { Distill = "none", DistillAlpha = 0.5 }).Distinct());
        Assert.All(specs, s => Assert.Equal(0, s.Options.LabelSmoothing));
        Assert.All(r.Pretrained.Values, c => Assert.Equal((long)Smoke.PerModelEpochs * Smoke.PerModelTrainLimit!.Value, c.TrainImages));
        Assert.All(r.Pretrained.Values.Where(c => c.Name.StartsWith("instance")), c => Assert.Equal(Smoke.Teacher.Depth / 2, c.Depth));
        Assert.All(r.Pretrained.Values.Where(c => c.Name.StartsWith("anchor")), c => Assert.Equal(Smoke.Teacher.Depth, c.Depth));
        Assert.All(specs.Where(s => s.Objective == "feature-distillation"), s => Assert.Equal("none", s.Options.Distill));
        Assert.Equal(2, specs.Count(s => s.Objective is null && s.Options is { Distill: "soft", DistillAlpha: 0.9 }));

        // Every family but the authors' fine-tunes alike; the authors' differs only by its loss (plain CE) and constant rate.
        var finetunes = r.Families.ToDictionary(f => f.Name, f => SpecOf(dir, $"finetune-{f.Name}-s{Smoke.Seed}"));
        Assert.Single(finetunes.Where(kv => kv.Key != "pool-authors").Select(kv => (kv.Value.Options, kv.Value.ObjectiveSettings, kv.Value.TrainLimit, kv.Value.TestLimit, kv.Value.TestSeed, kv.Value.Objective, kv.Value.Teacher)).Distinct());
        var authors = finetunes["pool-authors"];
        Assert.Equal(finetunes["pool-learned"].Options with { MinLearningRate = authors.Options.LearningRate }, authors.Options);
        Assert.Contains("\"cross_entropy_weight\":1", authors.ObjectiveSettings);
        Assert.Equal("stitch-finetune", authors.Objective);
        Assert.All(r.Families, f => Assert.Equal(r.Families[0].Finetunes[0].TrainImages, f.Finetunes[0].TrainImages));
        Assert.Equal(["instance-w8", "instance-w32"], r.Find("pool-authors").Members); // no middle instance
    }

    [Fact]
    public void Every_configuration_of_each_family_is_measured_per_image_on_test_and_validation_and_the_pool_is_smaller()
    {
        var (_, r) = Run.Value;
        Assert.Equal(StitchedFamilies.FamilyNames, r.Families.Select(f => f.Name));
        // Three widths stitched between neighbours: 3 alone + 2 pairs × (3d − 2) points; the authors': 2 alone + 1 pair.
        Assert.Equal(3 + 2 * (3 * 2 - 2), r.Find("pool-learned").Configurations.Length);
        Assert.Equal(2 + 1 * (3 * 2 - 2), r.Find("pool-authors").Configurations.Length);
        Assert.Equal(3 + 2 * (3 * 4 - 2), r.Find("sn-net").Configurations.Length);
        Assert.All(r.Families.SelectMany(f => f.Configurations), c => Assert.InRange(c.Accuracy, 0.0, 1.0));
        Assert.All(r.Families.SelectMany(f => f.Configurations), c => Assert.InRange(c.ValidationAccuracy!.Value, 0.0, 1.0));
        Assert.All(r.Families, f => Assert.Equal(f.Configurations.Length, f.InitialAccuracy.Count(kv => kv.Key.StartsWith("accuracy/"))));
        foreach (var f in r.Families)
            foreach (var c in f.Configurations)
            {
                var test = Assert.Single(f.TestOutcomes(c.Id));
                Assert.Equal(Smoke.TestLimit, test.Length);
                Assert.Equal(c.Accuracy, test.Average(b => b ? 1.0 : 0.0), 9); // the outcomes are the accuracy's images
            }
        Assert.Equal(Smoke.ValidationImages, r.ValidationImages);
        // The validation images are held out from every training of the run: none is a training image of the teacher or a member.
        var all = TestData.Cache.Value.Raw(Smoke.Data).Train;
        using (var held = all.Holdout(Math.Max(Smoke.TeacherTrainLimit!.Value, Smoke.PerModelTrainLimit!.Value), Smoke.ValidationImages, Smoke.Seed))
        using (var teacherImages = all.Subset(Smoke.TeacherTrainLimit!.Value, Smoke.Seed))
        {
            var seen = Enumerable.Range(0, teacherImages.Count).Select(i => Convert.ToBase64String(teacherImages.Images[i].data<byte>().ToArray())).ToHashSet();
            Assert.DoesNotContain(Enumerable.Range(0, held.Count), i => seen.Contains(Convert.ToBase64String(held.Images[i].data<byte>().ToArray())));
        }
        // Every stitch point of every pool family has its residual right after initialization.
        Assert.All(r.Families.Where(f => f.Family == "pool"), f => Assert.Equal(f.Configurations.Count(c => c.Id.Contains('-')), f.Residuals.Count));
        var (pool, sn) = (r.Find("pool-learned"), r.Find("sn-net"));
        Assert.True(pool.StoredParameters < sn.StoredParameters);
        Assert.True(pool.Configurations.Min(c => c.Parameters) < sn.Configurations.Min(c => c.Parameters));
        var checks = PoolChecks.Evaluate(r);
        Assert.Contains(checks, c => c.Name == "storage" && c.Met);
        Assert.Contains(checks, c => c.Name == "stitch init: learned-pinv beats learned" && c.Text.Contains('['));
        Assert.Contains(checks, c => c.Name == "Pareto front: pool-authors vs SN-Net" && c.Text.Contains("validation"));
    }

    [Fact]
    public void The_learned_initialization_starts_the_stitches_from_the_instances_maps_and_least_squares_from_the_calibration_images()
    {
        var (dir, _) = Run.Value;
        using var scope = torch.NewDisposeScope();
        var learned = ModelFile.Load(Path.Combine(dir, "pools", "pool-learned-init.safetensors"));
        var ls = ModelFile.Load(Path.Combine(dir, "pools", "pool-ls-init.safetensors"));
        using var learnedPool = (StitchPool)learned.Model;
        using var lsPool = (StitchPool)ls.Model;
        // The instances are the same trained models in both; only the stitches differ.
        foreach (var (n, t) in learnedPool.Models[2].state_dict()) Assert.True(t.eq(lsPool.Models[2].state_dict()[n]).all().item<bool>(), n);
        using var maps = DistillationMaps.Read(Path.Combine(dir, "cells", "instance-w16", Trainer.CheckpointName));
        var stitch = learnedPool.Stitches[learnedPool.Pool.Depth - 1]; // pair 16 → 32, the teacher's width
        Assert.True(stitch.weight!.allclose(maps.MeanWeight().t()));
        // Least squares: the fit on the first shuffled batch of calibration images of the per-model training data.
        var splits = TestData.Cache.Value.Splits(Smoke.Data, 28, Smoke.PerModelTrainLimit, Smoke.Seed, Smoke.TestLimit, Smoke.Seed);
        var (images, _) = new Learngene.Data.BatchLoader(splits.Train, ls.Normalization, Smoke.CalibrationImages, shuffle: true, augment: false, Smoke.Seed, epoch: 0).Batches().First();
        using var refit = (StitchPool)ModelFile.Load(Path.Combine(dir, "pools", "pool-ls-init.safetensors")).Model;
        using (torch.no_grad()) foreach (var layer in refit.Stitches) { layer.weight!.zero_(); layer.bias!.zero_(); }
        refit.FitStitches(images);
        for (int i = 0; i < refit.Stitches.Count; i++)
            Assert.True(refit.Stitches[i].weight!.allclose(lsPool.Stitches[i].weight!, rtol: 1e-4, atol: 1e-5), $"stitch {i}");
        TestData.Cache.Value.Release(splits);
    }

    [Fact]
    public void The_families_are_learngene_files_whose_exported_configurations_score_as_recorded()
    {
        using var scope = torch.NewDisposeScope();
        var (dir, r) = Run.Value;
        foreach (var f in r.Families)
        {
            var file = PoolFile.Read(Path.Combine(dir, f.File));
            Assert.Equal(f.Family, file.Info.Method);
            Assert.Equal(f.Configurations, file.Record.Configurations);
        }
        var pool = r.Find("pool-learned");
        var config = pool.Configurations.First(c => c.Id.Contains('-'));
        string exported = Path.Combine(TestData.TempDir(), "exported.safetensors");
        PoolFile.Export(Path.Combine(dir, pool.File), config.Id, exported);
        var model = ModelFile.Load(exported);
        using (model.Model)
        {
            var splits = TrainRun.LoadData(SpecOf(dir, "finetune-pool-learned-s0"), TestData.Cache.Value);
            var (_, accuracy) = Learngene.Training.Objectives.Classification.Evaluate(model.Model, splits.Test, model.Normalization);
            TestData.Cache.Value.Release(splits); // now, not by the finalizer thread
            Assert.Equal(config.Accuracy, accuracy, 6);
        }
    }

    [Fact]
    public void A_rerun_recomputes_nothing_and_a_folder_with_another_budget_is_refused()
    {
        var (dir, r) = Run.Value;
        var logged = new List<string>();
        var again = new PoolExperiment(Smoke, dir, TestData.Cache.Value, logged.Add).Run();
        Assert.DoesNotContain(logged, l => l.EndsWith("running"));
        Assert.Equal(r.Families.Select(f => f.Configurations), again.Families.Select(f => f.Configurations));
        Assert.Equal(r.Families.Select(f => f.InitialAccuracy.Count), again.Families.Select(f => f.InitialAccuracy.Count));
        Assert.Contains("other settings", Assert.Throws<LearngeneException>(() => new PoolExperiment(Smoke with { PerModelEpochs = 2 }, dir, TestData.Cache.Value, _ => { }).Run()).Message);
        // Its cells were distilled from the trained teacher: another teacher is another experiment.
        string otherTeacher = Path.Combine(dir, "cells", "anchor-w16", TrainRun.ModelName);
        Assert.Contains("other settings", Assert.Throws<LearngeneException>(() => new PoolExperiment(Smoke with { TeacherFile = otherTeacher }, dir, TestData.Cache.Value, _ => { }).Run()).Message);
        Assert.DoesNotContain(Path.GetFullPath(dir), File.ReadAllText(Path.Combine(dir, "results.json")));
        string report = PoolReport.Write(dir, r);
        Assert.Contains("## Claims", File.ReadAllText(report));
        Assert.Contains("relative residual", File.ReadAllText(report));
        Assert.True(File.Exists(Path.Combine(dir, "accuracy-vs-params.png")));
    }
}
