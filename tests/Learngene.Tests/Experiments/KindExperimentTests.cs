using Learngene.Data;
using Learngene.Experiments.Kind;
using Learngene.Models;
using Learngene.Models.Linears;
using Learngene.Reporting;
using Learngene.Runs;

namespace Learngene.Tests.Experiments;

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
            Assert.Equal(KindExperiment.DefaultMethods, t.Methods.Select(m => m.Method));
            var specs = t.Methods.Select(m => RunSpec.Load(Path.Combine(dir, "cells", $"transfer-{t.Task.Id}-{m.Method}"))).ToList();
            Assert.All(specs, s => Assert.Equal((specs[0].Data, string.Join(",", specs[0].Classes!), specs[0].Options, specs[0].TrainLimit, specs[0].TestLimit, specs[0].ObjectiveSettings),
                (s.Data, string.Join(",", s.Classes!), s.Options, s.TrainLimit, s.TestLimit, s.ObjectiveSettings)));
            Assert.All(t.Methods, m => Assert.Equal(t.Methods[0].Cell.TrainImages, m.Cell.TrainImages));
            Assert.All(t.Methods, m => Assert.True(double.IsFinite(m.Final.FdClf) && m.Final.ClassAccuracy.Count == t.Task.Classes.Length, m.Method));
            // LoRA and PiSSA train at least as many parameters as KIND (and at one rank less, fewer).
            var byName = t.Methods.ToDictionary(m => m.Method);
            Assert.True(byName["lora"].TrainableParameters >= byName["kind"].TrainableParameters);
            Assert.Equal(byName["lora"].TrainableParameters, byName["pissa"].TrainableParameters);
            int rank = ((LoraForm)((DitConfig)specs[1].Model).Linears!).Rank;
            long perRank = byName["lora"].TrainableParameters - byName["svdiff"].TrainableParameters + SvdiffShifts(Smoke.Model);
            Assert.True(byName["lora"].TrainableParameters - perRank / rank < byName["kind"].TrainableParameters, "the smallest matching rank");
            Assert.True(byName["svdiff"].TrainableParameters < byName["kind"].TrainableParameters);
            Assert.True(byName["full"].TrainableParameters > byName["lora"].TrainableParameters);
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
        Assert.Contains("| kind | tailors, class table |", report);
        Assert.Contains("## Floors", report);
        Assert.True(File.Exists(Path.Combine(dir, "fd-vs-trainable.png")));
        foreach (var t in r.Tasks) Assert.All(t.Methods, m => Assert.True(File.Exists(Path.Combine(dir, m.Grid)), m.Grid));
        var logged = new List<string>();
        var again = new KindExperiment(Smoke, dir, TestData.Cache.Value, logged.Add).Run();
        Assert.All(logged.Where(l => l.StartsWith('[')), l => Assert.Contains("cached", l));
        Assert.Equal(r.Tasks.Select(t => t.Methods.Select(m => m.Final.FdClf).ToList()).ToList(), again.Tasks.Select(t => t.Methods.Select(m => m.Final.FdClf).ToList()).ToList());
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
