using Learngene.Diffusion;
using Learngene.Models;
using Learngene.Training;
using Learngene.Training.Objectives;

namespace Learngene.Experiments.Dit;

/// <summary>A diffusion transformer's size and training budget (<c>learngene diffusion train --preset</c>)
/// and what <c>learngene bench dit</c> does with it: the data sets, the judge classifier each gets, and
/// how many samples the per-epoch and the final evaluations draw.</summary>
public sealed record DitPreset : INamed
{
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public DitConfig Model { get; init; } = new();
    public TrainOptions Recipe { get; init; } = new();
    public int? TrainLimit { get; init; }
    /// <summary>Test images the per-epoch losses and FD-clf use (the final evaluation uses every test image).</summary>
    public int? TestLimit { get; init; }
    public DiffusionObjective.Settings Diffusion { get; init; } = new();

    /// <summary>The data sets <c>bench dit</c> trains on, one DiT each.</summary>
    public string[] Data { get; init; } = ["mnist", "fashion-mnist"];
    /// <summary>The judge: a classifier trained on each data set's real training images (a cached cell).</summary>
    public VitConfig Judge { get; init; } = new() { Width = 64, Depth = 6, Heads = 4, PatchSize = 7, ImageSize = 0 };
    public TrainOptions JudgeRecipe { get; init; } = new() { Epochs = 3, BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.3, Augment = false };
    public int? JudgeTrainLimit { get; init; }
    /// <summary>Samples per class of the final evaluation (the per-epoch one draws <see cref="DiffusionObjective.Settings.EvalPerClass"/>).</summary>
    public int FinalPerClass { get; init; } = 100;

    /// <summary>The DiT recipe (facebookresearch/DiT: AdamW at 1e-4, no weight decay, constant rate, batch
    /// 256, EMA 0.9999 over 400K steps). A CPU run of a few thousand steps uses a higher peak rate with
    /// warmup and cosine decay and a shorter EMA; no augmentation (a flipped digit is another symbol).</summary>
    static readonly TrainOptions CpuRecipe = new() { BatchSize = 128, LearningRate = 1e-3, MinLearningRate = 1e-5, WeightDecay = 0, WarmupEpochs = 0.2, ClipGrad = 1, Augment = false, LabelSmoothing = 0 };
    static readonly DitConfig Cpu = new() { Width = 128, Depth = 6, Heads = 4, PatchSize = 4, ImageSize = 0 };

    public static readonly Registry<DitPreset> Registry = new("preset",
    [
        new()
        {
            Name = "smoke", Description = "seconds: a width-32 depth-2 DiT, 1 epoch of 1000 images, 10-step sampling",
            Model = Cpu with { Width = 32, Depth = 2, Heads = 2 },
            Recipe = CpuRecipe with { Epochs = 1, BatchSize = 64, WarmupEpochs = 0.1 }, TrainLimit = 1000, TestLimit = 200,
            Diffusion = new() { EmaDecay = 0.99, EvalPerClass = 2, GridPerClass = 2, Sampling = new SamplingRecipe(Steps: 10) },
            Judge = new() { Width = 32, Depth = 2, Heads = 2, PatchSize = 7, ImageSize = 0 },
            JudgeRecipe = new() { Epochs = 1, BatchSize = 64, LearningRate = 2e-3, WarmupEpochs = 0.2, Augment = false }, JudgeTrainLimit = 1000,
            FinalPerClass = 4,
        },
        new()
        {
            Name = "small", Description = "under an hour on 2 cores for both data sets: a width-128 depth-6 patch-4 DiT (v-prediction), 4 epochs of 60 000 images each",
            Model = Cpu,
            Recipe = CpuRecipe with { Epochs = 4 }, TestLimit = 2000,
            Diffusion = new() { EmaDecay = 0.998, EvalPerClass = 20, GridPerClass = 8, Sampling = new SamplingRecipe(Steps: 50, Guidance: 4) },
            FinalPerClass = 100,
        },
        new()
        {
            Name = "paper", Description = "for GPUs: DiT-S/2 (width 384, depth 12) with DiT's recipe (AdamW 1e-4 constant, batch 256, EMA 0.9999), 200 epochs",
            Model = new() { Width = 384, Depth = 12, Heads = 6, PatchSize = 2, ImageSize = 0 },
            Recipe = CpuRecipe with { Epochs = 200, BatchSize = 256, LearningRate = 1e-4, MinLearningRate = 1e-4, WarmupEpochs = 0, ClipGrad = 0 },
            Diffusion = new() { EmaDecay = 0.9999, EmaWarmup = false, EvalPerClass = 50, GridPerClass = 8, Sampling = new SamplingRecipe(Steps: 250, Guidance: 4) },
            JudgeRecipe = new() { Epochs = 10, BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.5, Augment = false },
            FinalPerClass = 1000,
        },
    ]);
}
