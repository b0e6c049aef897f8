using System.Diagnostics;
using System.Net;
using System.Text;
using Learngene.Data;
using Learngene.IO;
using Learngene.Models;
using Learngene.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Reliability;

/// <summary>Training that goes wrong (a NaN loss or gradient, a model or batch too large, a run folder in use,
/// a full disk, a read-only folder): one line, and the last good checkpoint kept.</summary>
public partial class BadInputTests
{
    /// <summary>Classification whose step at one chosen epoch and step is changed by <paramref name="change"/>.</summary>
    sealed class ChangedAt(IObjective inner, int epoch, int step, Func<ObjectiveStep, nn.Module, ObjectiveStep> change) : IObjective
    {
        int epochs = 1, steps;
        public ObjectiveStep Step(nn.Module model, Tensor inputs, Tensor targets)
        {
            var s = inner.Step(model, inputs, targets);
            return ++steps == step && epochs == epoch ? change(s, model) : s;
        }
        public IReadOnlyDictionary<string, double> Evaluate(nn.Module model, ImageDataset data, Normalization norm, int batchSize, Device device)
        {
            epochs++; steps = 0;
            return inner.Evaluate(model, data, norm, batchSize, device);
        }
        public void Dispose() => inner.Dispose();
    }

    /// <summary>The loss turns NaN.</summary>
    static ObjectiveStep NanLoss(ObjectiveStep s, nn.Module _) =>
        new(s.Loss * double.NaN, s.Count, s.Sums.ToDictionary(kv => kv.Key, kv => kv.Key == "loss" ? double.NaN : kv.Value));

    /// <summary>The loss stays finite but the last parameter's gradient is NaN: the loss gains 0·Σ√(w − w), zero in
    /// value, whose derivative at zero is 0·∞.</summary>
    static ObjectiveStep NanGradient(ObjectiveStep s, nn.Module model)
    {
        var w = model.parameters().Last();
        return s with { Loss = s.Loss + 0.0 * (w - w.detach()).sqrt().sum() };
    }

    /// <summary>Trains a small ViT for 3 epochs of 8 steps on synthetic data with one step changed; returns the
    /// error that stopped it, the run folder and the model.</summary>
    static (LearngeneException Error, string Dir, Classifier Model) Diverging(int epoch, int step, Func<ObjectiveStep, nn.Module, ObjectiveStep> change, double clip = 1.0)
    {
        var data = new DataSplits(TestData.Synthetic(256, seed: 1), TestData.Synthetic(64, seed: 2));
        var options = new TrainOptions { Epochs = 3, BatchSize = 32, LearningRate = 1e-3, WarmupEpochs = 0.2, ClipGrad = clip };
        var norm = Normalization.Of(data.Train);
        var model = Classifier.Create(new VitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, Classes = 4 });
        string dir = TestData.TempDir();
        using var objective = new ChangedAt(new Learngene.Training.Objectives.Classification(options, norm), epoch, step, change);
        return (Assert.Throws<LearngeneException>(() => new Trainer(options) { RunDir = dir }.Fit(model, objective, data, norm)), dir, model);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.0)] // without clipping the norm is still checked
    public void A_NaN_gradient_with_a_finite_loss_stops_the_run_before_the_update_and_keeps_the_last_good_checkpoint(double clip)
    {
        // The epoch's last step (256 / 32 = 8): where a NaN gradient would reach every weight unseen.
        var (e, dir, model) = Diverging(epoch: 2, step: 8, NanGradient, clip);
        using var _ = model;
        Assert.Contains("step 8 of epoch 2", e.Message);
        Assert.True(e.Message.Contains("gradient norm is NaN"), e.Message);
        Assert.True(e.Message.Contains(model.named_parameters().Last().name), e.Message);
        Assert.Contains("checkpoint of epoch 1 is kept", e.Message);
        Assert.Equal(1, Checkpoint.ReadState(Path.Combine(dir, Trainer.CheckpointName)).EpochsDone);
        // The update never ran: every weight in memory is still finite.
        Assert.Empty(Learngene.Training.NonFinite.State(model));
    }

    [Fact]
    public void A_diverged_models_report_names_its_non_finite_parameters_and_buffers()
    {
        using var model = Classifier.Create(ModelPresets.Registry.Find("resnet-smoke").Config with { Classes = 4 });
        Assert.Empty(Learngene.Training.NonFinite.State(model));
        var state = model.state_dict();
        var runningVar = state.Keys.First(k => k.EndsWith("running_var"));
        using (torch.no_grad()) state[runningVar][0] = torch.tensor(float.NaN);
        Assert.Equal([runningVar], Learngene.Training.NonFinite.State(model));
    }

    [Fact]
    public void A_model_too_large_for_the_machine_is_refused_before_any_allocation_with_what_it_needs_and_what_there_is()
    {
        OneLine(CliTests.Run("train", "--preset", "smoke", "--depth", "100000", "--width", "100000"), "this machine has");
        // The same check for a config read from a file: a whole, hashed file claiming a huge architecture.
        string dir = TestData.TempDir(), path = Path.Combine(dir, "model.safetensors");
        using (var model = Classifier.Create(new VitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, Classes = 10 }))
            ModelFile.Save(path, model, model, new Normalization([0.5f], [0.25f]), Enumerable.Range(0, 10).Select(k => k.ToString()).ToArray());
        var (tensors, meta) = SafeTensors.Load(path);
        meta["config"] = (new VitConfig { Width = 100_000, Depth = 100_000, Heads = 2, PatchSize = 7, Classes = 10 }).ToJson();
        SafeTensors.Save(path, tensors, meta);
        var run = CliTests.Run("eval", path, "--data", "fashion-mnist", "--test-limit", "10");
        OneLine(run, "this machine has");
        Assert.Contains(path, run.Err);
    }

    [Fact]
    public void Training_whose_batch_cannot_fit_is_refused_before_the_first_step()
    {
        var config = (VitConfig)ModelPresets.Registry.Find("vit-cpu").Config;
        var e = Assert.Throws<LearngeneException>(() => MemoryNeed.RequireTrainingFits(config, 10_000_000));
        Assert.Contains("batches of 10000000", e.Message);
        Assert.Contains("this machine has", e.Message);
        MemoryNeed.RequireTrainingFits(config, 128); // the small preset's batch fits anywhere this runs
    }

    [Fact]
    public void A_run_folder_in_use_by_another_process_is_refused_with_one_line_and_left_alone()
    {
        string dir = TestData.TempDir(), run = Path.Combine(dir, "run");
        string[] train = ["train", "--preset", "smoke", "--data", "fashion-mnist", "--epochs", "1", "--train-limit", "200", "--test-limit", "50"];
        var first = CliTests.Run([.. train, "--out", run], dir);
        Assert.True(first.Code == 0, first.Err);
        var model = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        File.Delete(Path.Combine(run, Trainer.CheckpointName)); // as if still in its first epoch: resume restarts it
        using (Learngene.Runs.RunLock.Acquire(run)) // what the first process, still running, would hold
        {
            OneLine(CliTests.Run(["train", "--resume", run], dir), "in use by another Learngene process");
            OneLine(CliTests.Run([.. train, "--out", run], dir), "already holds a run");
        }
        Assert.Equal(model, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
        // A resume that names another architecture is refused even before the first checkpoint.
        OneLine(CliTests.Run(["train", "--resume", run, "--depth", "7"], dir), "another architecture");
    }

    [Fact]
    public void A_NaN_loss_stops_the_run_naming_the_step_and_keeps_the_last_good_checkpoint()
    {
        var (e, dir, model) = Diverging(epoch: 2, step: 5, NanLoss);
        model.Dispose();
        Assert.Contains("step 5 of epoch 2", e.Message);
        Assert.Contains("checkpoint of epoch 1 is kept", e.Message);
        var state = Checkpoint.ReadState(Path.Combine(dir, Trainer.CheckpointName));
        Assert.Equal(1, state.EpochsDone);
        var (tensors, _) = SafeTensors.Load(Path.Combine(dir, Trainer.CheckpointName));
        Assert.All(tensors.Where(kv => kv.Value.is_floating_point()), kv => Assert.False(kv.Value.isnan().any().item<bool>(), kv.Key));
    }

    /// <summary>Runs the CLI inside a private mount namespace where <paramref name="mountOptions"/> mount a
    /// tmpfs on the output folder: a small disk that fills, or a read-only one (root ignores permission bits).
    /// After the CLI, the folder's files are listed on stdout after a line <c>--- files</c> (the tmpfs goes
    /// with the namespace, so this is the only look at what the run left on it).</summary>
    static (int Code, string Out, string Err) InMount(string folder, string mountOptions, params string[] args)
    {
        Directory.CreateDirectory(folder);
        string cli = Path.Combine(AppContext.BaseDirectory, "Learngene.Cli.dll");
        string script = $"mount -t tmpfs -o {mountOptions} tmpfs '{folder}' || exit 99; dotnet '{cli}' " + string.Join(' ', args.Select(a => $"'{a}'")) +
                        $"; code=$?; echo '--- files'; find '{folder}' -type f; exit $code";
        var psi = new ProcessStartInfo("unshare", ["-m", "--propagation", "private", "sh", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    [Fact]
    public void A_full_disk_during_a_checkpoint_write_is_one_line_and_leaves_no_half_file()
    {
        string folder = Path.Combine(TestData.TempDir(), "small-disk");
        // 160 KiB: room for run.json and the metrics, not for the first checkpoint.
        var run = InMount(folder, "size=160k", "train", "--preset", "smoke", "--data", "fashion-mnist", "--out", Path.Combine(folder, "run"));
        OneLine(run, "could not write");
        Assert.Contains("checkpoint.safetensors", run.Err);
        Assert.DoesNotContain(".tmp", run.Err);
        // What the full disk kept: the run's description, no checkpoint and no half-written temporary.
        var files = run.Out[(run.Out.IndexOf("--- files", StringComparison.Ordinal) + 9)..].Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(Path.GetFileName).ToList();
        Assert.Contains("run.json", files);
        Assert.DoesNotContain(Trainer.CheckpointName, files);
        Assert.DoesNotContain(files, f => f!.Contains(".tmp"));
    }

    [Fact]
    public void A_read_only_output_folder_is_one_line()
    {
        string folder = Path.Combine(TestData.TempDir(), "read-only");
        OneLine(InMount(folder, "ro", "train", "--preset", "smoke", "--data", "fashion-mnist", "--out", Path.Combine(folder, "run")), "Read-only file system");
    }
}
