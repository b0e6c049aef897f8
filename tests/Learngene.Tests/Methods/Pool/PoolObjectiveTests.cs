using Learngene.Data;
using Learngene.IO;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Stitching;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Stitching;

/// <summary>Learngene Pool's instance distillation: the teacher→student maps are trained and saved.</summary>
public class FeatureDistillationTests
{
    static readonly VitConfig Teacher = new() { Width = 32, Heads = 2, Depth = 4, PatchSize = 7, Classes = 10 };
    static readonly VitConfig Student = Teacher with { Width = 16, Depth = 2 };

    [Fact]
    public void The_teacher_to_student_maps_receive_gradients()
    {
        torch.manual_seed(0);
        using var teacher = new VisionTransformer(Teacher);
        using var student = new VisionTransformer(Student);
        var norm = new Normalization([0.5f], [0.25f]);
        using var objective = new Learngene.Methods.Pool.FeatureDistillation(new([0, 1], [1, 3]), student, teacher, norm);
        var step = objective.Step(student, torch.randn(4, 1, 28, 28), torch.tensor(new long[] { 0, 1, 2, 3 }));
        step.Loss.backward();
        var maps = objective.Own!.named_parameters().ToList();
        Assert.Equal(8, maps.Count); // M_p and A_p, weight and bias, at two positions
        Assert.All(maps, p => Assert.True(p.parameter.grad is { } g && g.abs().sum().item<float>() > 0, p.name));
        Assert.True(student.parameters().All(p => p.grad is not null));
        Assert.True(teacher.parameters().All(p => p.grad is null)); // frozen
        Assert.Contains("features", step.Sums.Keys);
    }

    [Fact]
    public void A_distillation_run_saves_the_maps_in_its_checkpoint()
    {
        torch.manual_seed(0);
        string dir = TestData.TempDir();
        using (var teacher = new VisionTransformer(Teacher))
            ModelFile.Save(Path.Combine(dir, "teacher.safetensors"), teacher, new Normalization([0.13f], [0.3f]), Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray());
        var spec = new Learngene.Runs.RunSpec
        {
            Data = "mnist", Model = Student with { ImageSize = 0 }, Teacher = Path.Combine(dir, "teacher.safetensors"), Objective = "feature-distillation",
            Options = new Learngene.Training.TrainOptions { Epochs = 1, BatchSize = 50, Augment = false }, TrainLimit = 200, TestLimit = 100,
        };
        var run = Learngene.Runs.TrainRun.Start(spec, Path.Combine(dir, "run"), TestData.Cache.Value);
        Assert.True(run.Final.TrainMetric("features") > 0);
        var (tensors, _) = SafeTensors.Load(Path.Combine(run.RunDir, Learngene.Training.Trainer.CheckpointName));
        var names = tensors.Keys.ToList();
        foreach (var t in tensors.Values) t.Dispose();
        Assert.Contains("objective/blocks.0.weight", names);
        Assert.Contains("objective/attention.0.bias", names);
        Assert.Contains("optim/m/objective/blocks.0.weight", names);
    }
}

/// <summary>Fine-tuning a stitch pool: one drawn configuration per step, resumable exactly.</summary>
public class StitchFineTuningTests
{
    [Fact]
    public void Draws_are_uniform_and_depend_only_on_seed_and_step()
    {
        var counts = new int[7];
        for (long step = 0; step < 7000; step++) counts[Learngene.Methods.Pool.StitchFineTuning.Draw(3, step, 7)]++;
        Assert.All(counts, n => Assert.InRange(n, 850, 1150));
        Assert.Equal(Learngene.Methods.Pool.StitchFineTuning.Draw(3, 41, 7), Learngene.Methods.Pool.StitchFineTuning.Draw(3, 41, 7));
    }

    [Fact]
    public void A_pool_fine_tuned_through_TrainRun_resumes_to_the_uninterrupted_runs_numbers()
    {
        torch.manual_seed(0);
        string dir = TestData.TempDir();
        var vit = new VitConfig { Width = 16, Heads = 2, Depth = 2, PatchSize = 7, Classes = 3, ImageSize = 0 }; // the run sets the data's shape in every model of the pool
        using (var teacher = new VisionTransformer(vit with { Width = 32, ImageSize = 28, Classes = 10 }))
            ModelFile.Save(Path.Combine(dir, "teacher.safetensors"), teacher, new Normalization([0.13f], [0.3f]), Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray());
        var spec = new Learngene.Runs.RunSpec
        {
            Data = "mnist", Model = StitchPoolConfig.Neighbours([vit, vit with { Width = 24 }]), Teacher = Path.Combine(dir, "teacher.safetensors"),
            Objective = "stitch-finetune", Options = new Learngene.Training.TrainOptions { Epochs = 2, BatchSize = 50, Augment = false }, TrainLimit = 200, TestLimit = 60,
        };
        var straight = Learngene.Runs.TrainRun.Start(spec, Path.Combine(dir, "a"), TestData.Cache.Value);
        Assert.Equal(2 + 4, straight.Final.Test.Keys.Count(k => k.StartsWith("accuracy/")));
        try { Learngene.Runs.TrainRun.Start(spec, Path.Combine(dir, "b"), TestData.Cache.Value, new StopAfterOne()); } catch (OperationCanceledException) { }
        var resumed = Learngene.Runs.TrainRun.Resume(Path.Combine(dir, "b"), TestData.Cache.Value);
        Assert.Equal(straight.History.Select(h => h.Train), resumed.History.Select(h => h.Train));
        Assert.Equal(straight.Final.Test, resumed.Final.Test);
        var loaded = ModelFile.Load(straight.ModelPath);
        using var pool = Assert.IsType<StitchPool>(loaded.Model);
    }

    sealed class StopAfterOne : Learngene.Training.ITrainingObserver
    {
        public void EpochDone(Learngene.Training.EpochMetrics m) => throw new OperationCanceledException();
    }
}
