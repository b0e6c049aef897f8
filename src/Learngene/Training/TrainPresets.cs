namespace Learngene.Training;

/// <summary>Model-and-budget presets for <c>learngene train --preset</c>; every field can be overridden
/// by an option. smoke: seconds (tests); small: minutes on a 2-core CPU; paper: DeiT-S's schedule at 224×224, for GPUs —
/// its schedule only: DeiT's RandAugment, mixup/cutmix, random erasing, stochastic depth and EMA are not
/// implemented (crops, flips and label smoothing are), so expect less than DeiT's accuracy.</summary>
public static class TrainPresets
{
    public sealed record Preset(string Name, string Description, string Model, TrainOptions Options, int? TrainLimit, int? TestLimit, int? ImageSize = null) : INamed;

    public static readonly Registry<Preset> Registry = new("preset",
    [
        new("smoke", "vit-smoke, 1 epoch on 2000 training images: seconds", "vit-smoke",
            new TrainOptions { Epochs = 1, BatchSize = 64, LearningRate = 2e-3, WarmupEpochs = 0.2 }, TrainLimit: 2000, TestLimit: 500),
        new("small", "vit-cpu (depth 12, width 64), 5 epochs on the full data: minutes on a 2-core CPU", "vit-cpu",
            new TrainOptions { Epochs = 5, BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.5 }, TrainLimit: null, TestLimit: null),
        new("paper", "DeiT-S's schedule (300 epochs, batch 1024, lr 5e-4 x batch/512, warmup 5, wd 0.05) at 224x224 with crops, flips and label smoothing; without DeiT's RandAugment, mixup/cutmix, random erasing, stochastic depth and EMA: for GPUs", "deit-s",
            new TrainOptions { Epochs = 300, BatchSize = 1024, LearningRate = 1e-3, WarmupEpochs = 5, MinLearningRate = 1e-5 }, TrainLimit: null, TestLimit: null, ImageSize: 224),
    ]);
}
