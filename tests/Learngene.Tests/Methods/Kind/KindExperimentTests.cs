using Learngene.Baselines.Tuning;
using Learngene.Data;
using Learngene.Methods.Kind;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Reporting;
using Learngene.Runs;

namespace Learngene.Tests.Methods.Kind;

/// <summary>The KIND experiment at the smoke budget on the real MNIST and Fashion-MNIST: fair budgets, matched
/// ranks, every method judged, the report.</summary>
public class KindExperimentTests
{
    static readonly KindPreset Smoke = KindPreset.Registry.Find("smoke");

    static readonly Lazy<(string Dir, KindResults Results)> Run = new(() =>
    {
        string dir = TestData.TempDir();
        return (dir, new KindExperiment(Smoke, dir, TestData.Cache.Value, _ => { }).Run());
    });

    [Fact]
    public void Both_pretrained_models_get_one_recipe_and_budget_and_every_transfer_method_another()
    {
        var (dir, r) = Run.Value;
        var kind = RunSpec.Load(Path.Combine(dir, "cells", "pretrain-kind"));
        var dit = RunSpec.Load(Path.Combine(dir, "cells", "pretrain-dit"));
        Assert.Equal((kind.Data, kind.Options, kind.TrainLimit, kind.TestLimit, kind.ObjectiveSettings), (dit.Data, dit.Options, dit.TrainLimit, dit.TestLimit, dit.ObjectiveSettings));
        Assert.Equal(Smoke.PretrainClasses, kind.Classes);
        Assert.IsType<SvdForm>(((DitConfig)kind.Model).Linears);
        Assert.Null(((DitConfig)dit.Model).Linears);
        Assert.Equal(r.KindPretrain.TrainImages, r.DitPretrain.TrainImages);
        foreach (var t in r.Tasks)
        {
            Assert.Equal(KindExperiment.DefaultMethods, t.Methods.Select(m => m.Method).Distinct());
            var specs = t.Methods.Select(m => RunSpec.Load(Path.Combine(dir, "cells", $"transfer-{t.Task.Id}-{m.Method}" + (m.SeedIndex == 0 ? "" : $"-seed{m.SeedIndex}")))).ToList();
            // One recipe, data and budget for every method; only the seed differs between a method's runs.
            Assert.All(specs, s => Assert.Equal((specs[0].Data, string.Join(",", specs[0].Classes!), specs[0].Options with { Seed = 0 }, specs[0].TrainLimit, specs[0].TestLimit, specs[0].ObjectiveSettings),
                (s.Data, string.Join(",", s.Classes!), s.Options with { Seed = 0 }, s.TrainLimit, s.TestLimit, s.ObjectiveSettings)));
            Assert.All(t.Methods.Zip(specs), x => Assert.Equal(Smoke.TransferRecipe.Seed + x.First.SeedIndex, x.Second.Options.Seed));
            Assert.All(t.Methods, m => Assert.Equal(Smoke.SeedsOf(m.Method), t.Methods.Count(o => o.Method == m.Method)));
            // The same images for every method of one seed (a seed draws its own subset of the transfer limit).
            Assert.All(t.Methods, m => Assert.Equal(t.Methods.First(o => o.SeedIndex == m.SeedIndex).Cell.TrainImages, m.Cell.TrainImages));
            Assert.All(t.Methods, m => Assert.True(double.IsFinite(m.Final.FdClf) && m.Final.ClassAccuracy.Count == t.Task.Classes.Length, m.Method));
            // Every method draws FinalPerClass samples per class in all, over its seeds.
            Assert.All(t.Methods, m => Assert.True(m.Final.SamplesPerClass * Smoke.SeedsOf(m.Method) >= Smoke.FinalPerClass, m.Method));
            // LoRA and PiSSA train at least as many parameters as either KIND variant (and at one rank less, fewer than the larger).
            var byName = t.Methods.Where(m => m.SeedIndex == 0).ToDictionary(m => m.Method);
            long kindMost = Math.Max(byName["kind"].TrainableParameters, byName["kind-null"].TrainableParameters);
            Assert.True(byName["kind-null"].TrainableParameters > byName["kind"].TrainableParameters, "the null class's tailor block trains too");
            Assert.True(byName["lora"].TrainableParameters >= kindMost);
            Assert.Equal(byName["lora"].TrainableParameters, byName["pissa"].TrainableParameters);
            var loraSpec = specs[t.Methods.FindIndex(m => m.Method == "lora")];
            int rank = ((LoraForm)((DitConfig)loraSpec.Model).Linears!).Rank;
            long perRank = byName["lora"].TrainableParameters - byName["svdiff"].TrainableParameters + SvdiffShifts(Smoke.Model);
            Assert.True(byName["lora"].TrainableParameters - perRank / rank < kindMost, "the smallest matching rank");
            Assert.True(byName["svdiff"].TrainableParameters < byName["kind"].TrainableParameters);
            Assert.True(byName["full"].TrainableParameters > byName["lora"].TrainableParameters);
            // Every method summarised, each KIND variant compared with every other method (paired over the seeds both ran).
            Assert.Equal(KindExperiment.DefaultMethods, t.Summaries.Select(x => x.Method));
            Assert.Contains(t.Comparisons, c => c.Method == "kind-null" && c.Rival == "kind" && c.Seeds == Smoke.TransferSeeds);
            Assert.Contains(t.Comparisons, c => c.Method == "kind" && c.Rival == "svdiff" && c.Seeds == Smoke.TransferSeeds);
            Assert.DoesNotContain(t.Comparisons, c => c.Method == "kind" && c.Rival == "kind-null");
            int variants = KindComparisons.Variants.Length, others = KindExperiment.DefaultMethods.Length - variants;
            Assert.Equal(variants * others + variants * (variants - 1) / 2, t.Comparisons.Count);
            Assert.All(t.Comparisons, c => Assert.True(c.LossDifference.Low <= c.LossDifference.Estimate && c.LossDifference.Estimate <= c.LossDifference.High, $"{c.Method} vs {c.Rival}"));
            Assert.All(t.Methods, m => Assert.True(File.Exists(Path.Combine(dir, m.Evidence)) && m.Final.TestImages == Smoke.TestLimit, m.Evidence));
        }
        Assert.Equal(Smoke.PretrainClasses.Length, r.Diversion.Count);
        Assert.All(r.Diversion, d => Assert.True(d.WithTailor is >= 0 and <= 1 && d.LearngenesOnly is >= 0 and <= 1));
    }

    /// <summary>SVDiff's trainable shifts outside the class table: min(in, out) per block linear.</summary>
    static long SvdiffShifts(DitConfig c) => c.Depth * 4L * c.Width;

    [Fact]
    public void The_report_has_the_tables_grids_plot_and_floors_and_a_rerun_is_all_cached()
    {
        var (dir, r) = Run.Value;
        string report = File.ReadAllText(KindReport.Write(dir, r));
        Assert.Contains("## Knowledge diversion", report);
        Assert.Contains("| kind | 0 | tailors, class table |", report);
        Assert.Contains("| kind-null | kind |", report);
        Assert.Contains("## Floors", report);
        Assert.True(File.Exists(Path.Combine(dir, "fd-vs-trainable.png")));
        foreach (var t in r.Tasks) Assert.All(t.Methods, m => Assert.True(File.Exists(Path.Combine(dir, m.Grid)), m.Grid));
        var logged = new List<string>();
        var again = new KindExperiment(Smoke, dir, TestData.Cache.Value, logged.Add).Run();
        Assert.All(logged.Where(l => l.StartsWith('[')), l => Assert.Contains("cached", l));
        Assert.Equal(r.Tasks.Select(t => t.Methods.Select(m => m.Final.FdClf).ToList()).ToList(), again.Tasks.Select(t => t.Methods.Select(m => m.Final.FdClf).ToList()).ToList());
    }

    [Fact]
    public void A_seed_added_to_a_folder_trains_only_its_own_cells_and_the_comparisons_follow()
    {
        var (dir, _) = Run.Value;
        string copy = TestData.TempDir();
        foreach (var file in Directory.GetFiles(dir, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(copy, Path.GetRelativePath(dir, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        var logged = new List<string>();
        var more = new KindExperiment(Smoke with { TransferSeeds = Smoke.TransferSeeds + 1, Methods = ["kind", "lora"] }, copy, TestData.Cache.Value, logged.Add).Run();
        int added = Smoke.TransferSeeds;
        // Only the new seed trains; the earlier seeds' cells are read (their samples redrawn only if a seed's share changed).
        Assert.All(logged.Where(l => l.EndsWith("] running")), l => Assert.Contains($"-seed{added}]", l));
        foreach (var t in more.Tasks)
        {
            Assert.Equal(2 * (added + 1), t.Methods.Count);
            var c = Assert.Single(t.Comparisons);
            Assert.Equal(("kind", "lora", added + 1), (c.Method, c.Rival, c.Seeds));
        }
    }

    [Fact]
    public void Kind_with_its_learngenes_tuned_too_keeps_the_learngenes_provenance()
    {
        string dir = TestData.TempDir();
        var preset = Smoke with { Methods = ["kind-tune"], Tasks = [Smoke.Tasks[0]] };
        new KindExperiment(preset, dir, TestData.Cache.Value, _ => { }).Run();
        string init = Path.Combine(dir, "cells", $"init-{Smoke.Tasks[0].Id}-kind-tune", "init.safetensors");
        var meta = Learngene.IO.SafeTensors.ReadMetadata(init);
        Assert.EndsWith(Path.Combine("pretrain-kind", TrainRun.GeneName), meta["learngene"]);
    }

    [Fact]
    public void Combined_data_sets_keep_each_sets_classes_one_after_the_other()
    {
        var both = TestData.Cache.Value.Raw("mnist+fashion-mnist");
        var mnist = TestData.Cache.Value.Raw("mnist");
        var fashion = TestData.Cache.Value.Raw("fashion-mnist");
        Assert.Equal(20, both.Train.Classes);
        Assert.Equal(mnist.Train.Count + fashion.Train.Count, both.Train.Count);
        Assert.Equal(mnist.Train.ClassNames.Concat(fashion.Train.ClassNames), both.Train.ClassNames);
        var counts = both.Test.ClassCounts();
        Assert.Equal(mnist.Test.ClassCounts().Concat(fashion.Test.ClassCounts()), counts);
    }
}
