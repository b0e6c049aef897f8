using System.Diagnostics;
using Learngene.Data;
using Learngene.Models;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Bench;

/// <summary>Images per second for training (through the project's trainer, and through a bare TorchSharp
/// step loop on the same model, so the trainer's overhead shows) and for inference, with the achieved
/// GFLOP/s (training counted as 3× the forward pass, 2 FLOPs per multiply-accumulate).</summary>
public static class ThroughputBench
{
    public sealed record Result(string Model, string Description, int Batch, long Parameters, long MacsPerImage,
        double BareTrainImagesPerSec, double TrainerImagesPerSec, double InferenceImagesPerSec)
    {
        public double TrainerOverBare => TrainerImagesPerSec / BareTrainImagesPerSec;
        public double BareTrainGflops => BareTrainImagesPerSec * MacsPerImage * 6 / 1e9;
        public double InferenceGflops => InferenceImagesPerSec * MacsPerImage * 2 / 1e9;
    }

    /// <summary>The batch a preset is measured with: 64 for the DeiT-Ti-like model (as the PyTorch peer
    /// script), 128 for the CPU presets (their training batch).</summary>
    public static int BatchFor(string presetName) => presetName == "deit-ti-32" ? 64 : 128;

    public static Result Measure(string presetName, ModelConfig config, int batch, int steps, Action<string>? log = null)
    {
        if (config is DitConfig dit) return MeasureDiffusion(presetName, dit, batch, steps, log);
        const int warmup = 2;
        log?.Invoke($"{presetName}: bare TorchSharp loop, {steps} steps of {batch}");
        torch.manual_seed(0);
        var model = Classifier.Create(config);
        var x = torch.randn(batch, config.Channels, config.ImageSize, config.ImageSize);
        var y = torch.randint(0, config.Classes, [batch]);

        // Bare loop: forward, loss, backward, torch.optim.AdamW, nothing else.
        var opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay: 0.05);
        model.train();
        double bare = Time(steps, warmup, () =>
        {
            using var scope = torch.NewDisposeScope();
            opt.zero_grad();
            nn.functional.cross_entropy(model.forward(x), y).backward();
            opt.step();
        }) * batch;

        // The trainer on an in-memory data set of steps × batch random images (augmentation on).
        log?.Invoke($"{presetName}: the Learngene trainer, same model and batch");
        torch.manual_seed(0);
        var model2 = Classifier.Create(config);
        int n = (steps + warmup) * batch;
        var images = torch.randint(0, 256, [n, config.Channels, config.ImageSize, config.ImageSize]).to_type(ScalarType.Byte);
        var labels = torch.randint(0, config.Classes, [n]);
        var names = Enumerable.Range(0, config.Classes).Select(i => i.ToString()).ToArray();
        using var train = new ImageDataset("random", images, labels, names, flipSafe: true);
        var observer = new StepTimer(warmup);
        var options = new TrainOptions { Epochs = 1, BatchSize = batch };
        var norm = new Normalization([0.5f], [0.25f]);
        using var objective = new Training.Objectives.Classification(options, norm);
        new Trainer(options) { Observer = observer, EvaluateEachEpoch = false }.Fit(model2, objective, new DataSplits(train, train), norm);
        double trainer = observer.ImagesPerSecond(batch);

        log?.Invoke($"{presetName}: inference (no grad)");
        model.eval();
        double infer;
        using (torch.no_grad())
            infer = Time(steps, warmup, () => { using var scope = torch.NewDisposeScope(); model.forward(x); }) * batch;
        return new Result(presetName, config.Describe(), batch, model.ParameterCount(), model.MacsPerImage(), bare, trainer, infer);
    }

    /// <summary>A diffusion transformer's training step (v-target MSE at uniform steps with label dropout,
    /// AdamW; through the trainer also the EMA update) and one denoising pass without gradients.</summary>
    static Result MeasureDiffusion(string presetName, DitConfig config, int batch, int steps, Action<string>? log)
    {
        const int warmup = 2;
        log?.Invoke($"{presetName}: bare TorchSharp loop, {steps} steps of {batch}");
        torch.manual_seed(0);
        var model = new DiffusionTransformer(config);
        var schedule = new Diffusion.NoiseSchedule();
        var x0 = torch.randn(batch, config.Channels, config.ImageSize, config.ImageSize);
        var y = torch.randint(0, config.Classes, [batch]);
        var opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay: 0);
        model.train();
        double bare = Time(steps, warmup, () =>
        {
            using var scope = torch.NewDisposeScope();
            var t = torch.randint(0, schedule.Steps, [batch]);
            var noise = torch.randn_like(x0);
            var drop = torch.rand(batch) < config.ClassDropout;
            opt.zero_grad();
            nn.functional.mse_loss(model.Forward(schedule.AddNoise(x0, t, noise), t, y, drop), schedule.Target(Diffusion.Prediction.Velocity, x0, t, noise)).backward();
            opt.step();
        }) * batch;

        log?.Invoke($"{presetName}: the Learngene trainer with the diffusion objective, same model and batch");
        torch.manual_seed(0);
        var model2 = new DiffusionTransformer(config);
        int n = (steps + warmup) * batch;
        var images = torch.randint(0, 256, [n, config.Channels, config.ImageSize, config.ImageSize]).to_type(ScalarType.Byte);
        var labels = torch.randint(0, config.Classes, [n]);
        using var train = new ImageDataset("random", images, labels, Enumerable.Range(0, config.Classes).Select(i => i.ToString()).ToArray(), flipSafe: false);
        var observer = new StepTimer(warmup);
        var options = new TrainOptions { Epochs = 1, BatchSize = batch, WeightDecay = 0, Augment = false };
        var norm = new Normalization([0.5f], [0.25f]);
        using var objective = new Training.Objectives.DiffusionObjective(model2, schedule, Diffusion.Prediction.Velocity, norm, emaDecay: 0.999);
        new Trainer(options) { Observer = observer, EvaluateEachEpoch = false }.Fit(model2, objective, new DataSplits(train, train), norm);
        double trainer = observer.ImagesPerSecond(batch);

        log?.Invoke($"{presetName}: one denoising pass (no grad)");
        model.eval();
        double infer;
        var tt = torch.full([batch], 500L);
        using (torch.no_grad())
            infer = Time(steps, warmup, () => { using var scope = torch.NewDisposeScope(); model.forward(x0, tt, y); }) * batch;
        return new Result(presetName, config.Describe(), batch, model.ParameterCount(), model.MacsPerImage(), bare, trainer, infer);
    }

    /// <summary>Steps per second after the warm-up steps.</summary>
    static double Time(int steps, int warmup, Action step)
    {
        for (int i = 0; i < warmup; i++) step();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) step();
        return steps / clock.Elapsed.TotalSeconds;
    }
}
