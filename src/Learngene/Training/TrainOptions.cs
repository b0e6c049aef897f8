namespace Learngene.Training;

/// <summary>The training recipe. Defaults follow DeiT's optimizer and schedule (AdamW, warmup + cosine, weight
/// decay 0.05, label smoothing 0.1) scaled for small CPU runs; DeiT's RandAugment, mixup/cutmix, random
/// erasing, stochastic depth and EMA are not implemented.</summary>
public sealed record TrainOptions
{
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public double MinLearningRate { get; init; } = 1e-5;
    public double WeightDecay { get; init; } = 0.05;
    public double WarmupEpochs { get; init; } = 0.5;
    public double LabelSmoothing { get; init; } = 0.1;
    /// <summary>Maximum global gradient norm; 0 turns clipping off.</summary>
    public double ClipGrad { get; init; } = 1.0;
    public bool Augment { get; init; } = true;
    public int Seed { get; init; } = 0;
    /// <summary>"none", "soft" (KL on tempered softmax) or "hard" (teacher's arg-max).</summary>
    public string Distill { get; init; } = "none";
    /// <summary>Weight of the distillation term; the cross-entropy gets 1 − alpha.</summary>
    public double DistillAlpha { get; init; } = 0.5;
    public double Temperature { get; init; } = 1.0;
    public int EvalBatchSize { get; init; } = 500;

    public TrainOptions Validate()
    {
        void Require(bool ok, string message) { if (!ok) throw new LearngeneException(message); }
        Require(Epochs >= 1, $"epochs must be at least 1 (got {Epochs})");
        Require(BatchSize >= 1, $"batch size must be at least 1 (got {BatchSize})");
        Require(LearningRate > 0, $"learning rate must be positive (got {LearningRate})");
        Require(WarmupEpochs >= 0, "warmup epochs must not be negative");
        Require(LabelSmoothing is >= 0 and < 1, "label smoothing must be in [0, 1)");
        Require(Distill is "none" or "soft" or "hard", $"unknown distillation '{Distill}' (expected none, soft or hard)");
        Require(DistillAlpha is >= 0 and <= 1, "distillation alpha must be in [0, 1]");
        Require(Temperature > 0, "temperature must be positive");
        return this;
    }
}
