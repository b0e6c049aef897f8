using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests;

public class TrainingTests
{
    static readonly VitConfig Tiny = new() { Width = 16, Depth = 2, Heads = 2, PatchSize = 7, Classes = 4 };
    static readonly TrainOptions Quick = new() { Epochs = 2, BatchSize = 32, LearningRate = 3e-3, WarmupEpochs = 0.2 };

    static DataSplits Synthetic() => new(TestData.Synthetic(512, seed: 1), TestData.Synthetic(128, seed: 2));

    static (Classifier Model, List<EpochMetrics> History) Train(TrainOptions options, string? runDir = null, string? resume = null, int seed = 0)
    {
        torch.manual_seed(seed);
        var model = Classifier.Create(Tiny);
        var data = Synthetic();
        var history = new Trainer(options) { RunDir = runDir }.FitClassifier(model, data, Normalization.Of(data.Train), resume);
        return (model, history);
    }

    [Fact]
    public void A_fixed_test_seed_scores_every_training_seed_on_the_same_test_images()
    {
        var spec = new Runs.RunSpec { Data = "mnist", TrainLimit = 200, TestLimit = 100, TestSeed = 0, Options = new TrainOptions { Seed = 1 } };
        var a = Runs.TrainRun.LoadData(spec, TestData.Cache.Value);
        var b = Runs.TrainRun.LoadData(spec with { Options = new TrainOptions { Seed = 2 } }, TestData.Cache.Value);
        Assert.True(a.Test.Images.SameAs(b.Test.Images) && a.Test.Labels.SameAs(b.Test.Labels));
        Assert.False(a.Train.Images.SameAs(b.Train.Images)); // the training subset still follows the seed
        var c = Runs.TrainRun.LoadData(spec with { TestSeed = null, Options = new TrainOptions { Seed = 2 } }, TestData.Cache.Value);
        Assert.False(a.Test.Images.SameAs(c.Test.Images)); // without it the test subset follows the training seed
    }

    [Fact]
    public void AdamW_matches_torch_optim_AdamW()
    {
        torch.manual_seed(3);
        // No bias: ours does not decay biases (DeiT's rule) while torch's decays every parameter.
        var a = nn.Linear(5, 3, hasBias: false);
        var b = nn.Linear(5, 3, hasBias: false);
        b.load_state_dict(a.state_dict());
        var ours = new AdamW(a, weightDecay: 0.1);
        var theirs = torch.optim.AdamW(b.parameters(), 0.01, weight_decay: 0.1);
        var x = torch.randn(8, 5);
        for (int step = 0; step < 5; step++)
        {
            ours.ZeroGrad();
            a.forward(x).pow(2).sum().backward();
            ours.Update(0.01);
            theirs.zero_grad();
            b.forward(x).pow(2).sum().backward();
            theirs.step();
        }
        Assert.True(a.weight!.allclose(b.weight!, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Cosine_schedule_warms_up_then_decays_to_the_minimum()
    {
        var s = new CosineSchedule(1.0, 0.1, WarmupSteps: 10, TotalSteps: 110);
        Assert.Equal(0.1, s.At(0), 6);
        Assert.Equal(1.0, s.At(9), 6);
        Assert.Equal(1.0, s.At(10), 6);
        Assert.Equal(0.55, s.At(60), 6);
        Assert.Equal(0.1, s.At(110), 6);
    }

    [Fact]
    public void Label_smoothing_and_distillation_losses_follow_their_definitions()
    {
        var logits = torch.tensor(new float[] { 2, 0, -1, 0.5f, 0.5f, 0.5f }).reshape(2, 3);
        var labels = torch.tensor(new long[] { 0, 2 });
        var expected = nn.functional.cross_entropy(logits, labels, label_smoothing: 0.1).item<float>();
        Assert.Equal(expected, Losses.CrossEntropy(logits, labels, 0.1).item<float>(), 5);
        Assert.Equal(0f, Losses.SoftDistillation(logits, logits, 2.0).item<float>(), 6);
        // T² KL summed over batch and classes, divided by their product.
        var t = torch.tensor(new float[] { 0, 1, 2, 0, 0, 3 }).reshape(2, 3);
        var pt = nn.functional.softmax(t / 2, 1);
        var kl = (pt * (pt.log() - nn.functional.log_softmax(logits / 2, 1))).sum().item<float>();
        Assert.Equal(kl * 4 / 6, Losses.SoftDistillation(logits, t, 2.0).item<float>(), 5);
    }

    [Fact]
    public void Training_learns_a_learnable_task()
    {
        var (_, history) = Train(Quick with { Epochs = 8 });
        Assert.True(history[^1].TestAccuracy > 0.9, $"accuracy {history[^1].TestAccuracy}");
        Assert.True(history[^1].TrainLoss < history[0].TrainLoss);
    }

    [Fact]
    public void The_same_seed_gives_identical_losses_and_weights()
    {
        var (m1, h1) = Train(Quick, seed: 5);
        var (m2, h2) = Train(Quick, seed: 5);
        Assert.Equal(h1.Select(h => h.TrainLoss), h2.Select(h => h.TrainLoss));
        Assert.True(m1.state_dict()["head.weight"].SameAs(m2.state_dict()["head.weight"]));
    }

    [Fact]
    public void Resuming_continues_exactly_where_an_uninterrupted_run_would_be()
    {
        var (straight, h) = Train(Quick);
        // A run interrupted after epoch 1 (its checkpoint is on disk), then resumed in a fresh model.
        string interrupted = TestData.TempDir();
        torch.manual_seed(0);
        var model = Classifier.Create(Tiny);
        var data = Synthetic();
        var norm = Normalization.Of(data.Train);
        new Trainer(Quick) { RunDir = interrupted, Observer = new StopAfter(1) }.FitUntilStopped(model, data, norm);
        torch.manual_seed(99); // a different seed for the fresh weights must not matter
        var resumed = Classifier.Create(Tiny);
        var h2 = new Trainer(Quick) { RunDir = interrupted }.FitClassifier(resumed, data, norm, Path.Combine(interrupted, Trainer.CheckpointName));
        Assert.Equal(h.Select(x => x.TrainLoss), h2.Select(x => x.TrainLoss));
        Assert.True(straight.state_dict()["blocks.1.mlp.fc2.weight"].SameAs(resumed.state_dict()["blocks.1.mlp.fc2.weight"]));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(interrupted, Trainer.MetricsName)).Length);
    }

    [Fact]
    public void Resuming_from_another_architecture_is_refused()
    {
        string dir = TestData.TempDir();
        Train(Quick with { Epochs = 1 }, dir);
        var other = Classifier.Create(Tiny with { Depth = 3 });
        var data = Synthetic();
        var e = Assert.Throws<LearngeneException>(() => new Trainer(Quick).FitClassifier(other, data, Normalization.Of(data.Train), Path.Combine(dir, Trainer.CheckpointName)));
        Assert.Contains("another architecture", e.Message);
    }

    [Fact]
    public void Distillation_without_a_teacher_is_refused()
    {
        var e = Assert.Throws<LearngeneException>(() => Train(Quick with { Distill = "soft" }));
        Assert.Contains("teacher", e.Message);
    }

    [Fact]
    public void Soft_distillation_alone_teaches_the_student_the_teachers_answers()
    {
        torch.manual_seed(0);
        var data = Synthetic();
        var norm = Normalization.Of(data.Train);
        var teacher = Classifier.Create(ModelPresets.Registry.Find("resnet-smoke").Config with { Classes = 4 });
        var th = new Trainer(Quick with { Epochs = 6 }).FitClassifier(teacher, data, norm);
        Assert.True(th[^1].TestAccuracy > 0.9, $"teacher accuracy {th[^1].TestAccuracy}");
        var student = Classifier.Create(Tiny);
        // alpha = 1: no label is seen, only the teacher's soft outputs.
        var h = new Trainer(Quick with { Epochs = 8, Distill = "soft", DistillAlpha = 1, Temperature = 2 }).FitClassifier(student, data, norm, teacher: teacher);
        Assert.True(h[^1].TestAccuracy > 0.8, $"student accuracy {h[^1].TestAccuracy}");
    }

    [Fact]
    public void A_failed_atomic_write_leaves_the_old_file_intact()
    {
        string path = Path.Combine(TestData.TempDir(), "f.txt");
        File.WriteAllText(path, "good");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
        Assert.Equal("good", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void Model_file_round_trips_weights_config_and_normalization()
    {
        torch.manual_seed(0);
        var model = Classifier.Create(Tiny);
        string path = Path.Combine(TestData.TempDir(), "m.safetensors");
        var norm = new Normalization([0.3f], [0.2f]);
        ModelFile.Save(path, model, norm, ["a", "b", "c", "d"]);
        var loaded = ModelFile.Load(path);
        Assert.Equal(Tiny.ToJson(), loaded.Model.Config.ToJson());
        Assert.Equal(norm.Mean, loaded.Normalization.Mean);
        var x = torch.randn(2, 1, 28, 28);
        model.eval(); loaded.Model.eval();
        Assert.True(model.forward(x).allclose(loaded.Model.forward(x)));
    }

    sealed class StopAfter(int epochs) : ITrainingObserver
    {
        public void EpochDone(EpochMetrics m) { if (m.Epoch >= epochs) throw new OperationCanceledException(); }
    }
}

static class TrainerTestExtensions
{
    /// <summary>Runs Fit until the observer interrupts it, as a killed process would be.</summary>
    public static void FitUntilStopped(this Trainer trainer, Classifier model, DataSplits data, Normalization norm)
    {
        try { trainer.FitClassifier(model, data, norm); } catch (OperationCanceledException) { }
    }

    /// <summary>Fit with the classification objective (distilling from <paramref name="teacher"/> when given).</summary>
    public static List<EpochMetrics> FitClassifier(this Trainer trainer, Classifier model, DataSplits data, Normalization norm, string? resume = null, Classifier? teacher = null)
    {
        using var objective = new Learngene.Training.Objectives.Classification(trainer.Options, norm, teacher);
        return trainer.Fit(model, objective, data, norm, resume);
    }
}
