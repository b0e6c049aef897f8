using Learngene.Diffusion;
using Learngene.Experiments;
using Learngene.Models;
using Learngene.Training;
using Learngene.Training.Objectives;

namespace Learngene.Methods.Kind;

/// <summary>A novel-class transfer task: some classes of a data set the pre-training never saw.</summary>
public sealed record TransferTask(string Data, int[] Classes)
{
    public string Id => $"{Data}-{string.Join("-", Classes)}";
}

/// <summary>The KIND experiment's budget (<c>learngene bench kind --preset</c>): the DiT, the ranks, the
/// pre-training classes and the transfer tasks, the recipes (every pre-trained model gets the same one, every
/// transfer method the same one), the judges and how many samples are drawn.</summary>
public sealed record KindPreset : INamed
{
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public DitConfig Model { get; init; } = new();
    /// <summary>KIND's learngene components per matrix and tailor components per class block.</summary>
    public int LearngeneRank { get; init; } = 48;
    public int TailorRank { get; init; } = 8;
    /// <summary>The pre-training data ("a+b" combines data sets) and its classes.</summary>
    public string PretrainData { get; init; } = "mnist+fashion-mnist";
    public int[] PretrainClasses { get; init; } = [0, 1, 2, 3, 4, 10, 11, 12, 13, 14];
    public TransferTask[] Tasks { get; init; } = [new("mnist", [5, 6, 7, 8, 9]), new("fashion-mnist", [5, 6, 7, 8, 9])];
    public TrainOptions PretrainRecipe { get; init; } = new();
    public TrainOptions TransferRecipe { get; init; } = new();
    public int? PretrainLimit { get; init; }
    public int? TransferLimit { get; init; }
    public int? TestLimit { get; init; }
    public DiffusionObjective.Settings Diffusion { get; init; } = new();
    public VitConfig Judge { get; init; } = new() { Width = 64, Depth = 6, Heads = 4, PatchSize = 7, ImageSize = 0 };
    public TrainOptions JudgeRecipe { get; init; } = new() { Epochs = 3, BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.3, Augment = false };
    public int? JudgeTrainLimit { get; init; }
    /// <summary>Samples per class each transfer method draws in all, split over its seeds (each seed's share from its own noise).</summary>
    public int FinalPerClass { get; init; } = 100;
    /// <summary>Samples per class of the two pre-trained models' scores (null: <see cref="FinalPerClass"/>).</summary>
    public int? PretrainPerClass { get; init; }
    /// <summary>Samples per pre-training class drawn from each recombined model (knowledge diversion).</summary>
    public int DiversionPerClass { get; init; } = 50;
    /// <summary>Blocks the layer-inheriting baseline takes from the pre-trained DiT.</summary>
    public int InheritBlocks { get; init; } = 3;
    /// <summary>How KIND's fresh tailors start: "random" (orthonormal directions at a fresh layer's singular
    /// value: every component trains from the first step) or "zero" (zero singular values: the model starts as
    /// its learngenes alone). Null in run folders made before the choice existed, which used "zero".</summary>
    public string? TailorInit { get; init; }
    public bool ZeroTailors() => ZeroTailors(TailorInit ?? "zero");

    /// <summary>Whether a tailor initialization's name means zero singular values (unknown names refused).</summary>
    public static bool ZeroTailors(string name) => name switch
    {
        "zero" => true,
        "random" => false,
        var other => throw new LearngeneException($"unknown tailor initialization '{other}' (expected random or zero)", setting: "tailor-init"),
    };

    /// <summary>Decompose the attention's q, k and v each on its own (the authors' DivControl states KIND's
    /// decomposition so); false — and in folders made before the choice existed — one decomposition of the stacked qkv.</summary>
    public bool SeparateQkv { get; init; }
    /// <summary>Give the null class a tailor block of its own in KIND's transfer (<see cref="ClassGate"/>);
    /// the method <c>kind-null</c> always does, so that both are measured side by side.</summary>
    public bool NullTailor { get; init; }
    /// <summary>Transfer seeds of every method (the same for all: FD-clf pools a method's samples over its seeds, and
    /// a pool of several models' samples would not compare fairly with one model's).</summary>
    public int TransferSeeds { get; init; } = 1;
    public int SeedsOf(string method) => Math.Max(1, TransferSeeds);

    /// <summary>The transfer methods, in report order.</summary>
    public string[] Methods { get; init; } = [.. KindExperiment.DefaultMethods];

    static readonly TrainOptions Cpu = new() { BatchSize = 128, LearningRate = 1e-3, MinLearningRate = 1e-5, WeightDecay = 0, WarmupEpochs = 0.2, ClipGrad = 1, Augment = false, LabelSmoothing = 0 };
    static readonly DitConfig CpuDit = new() { Width = 128, Depth = 6, Heads = 4, PatchSize = 4, ImageSize = 0 };

    public static readonly Registry<KindPreset> Registry = new("preset",
    [
        new()
        {
            Name = "smoke", TailorInit = "random", SeparateQkv = true, Description = "seconds: a width-32 depth-2 DiT, 2 pre-training and 1 transfer class per task, a few hundred images",
            Model = CpuDit with { Width = 32, Depth = 2, Heads = 2 }, LearngeneRank = 8, TailorRank = 2,
            PretrainClasses = [0, 1, 10, 11], Tasks = [new("mnist", [5, 6]), new("fashion-mnist", [5, 6])],
            PretrainRecipe = Cpu with { Epochs = 1, BatchSize = 64, WarmupEpochs = 0.1 }, TransferRecipe = Cpu with { Epochs = 1, BatchSize = 64, WarmupEpochs = 0.1 },
            PretrainLimit = 600, TransferLimit = 300, TestLimit = 200,
            Diffusion = new() { EmaDecay = 0.99, EvalPerClass = 2, GridPerClass = 2, Sampling = new SamplingRecipe(Steps: 5) },
            Judge = new() { Width = 32, Depth = 2, Heads = 2, PatchSize = 7, ImageSize = 0 },
            JudgeRecipe = new() { Epochs = 1, BatchSize = 64, LearningRate = 2e-3, WarmupEpochs = 0.2, Augment = false }, JudgeTrainLimit = 600,
            FinalPerClass = 4, DiversionPerClass = 4, InheritBlocks = 1, TransferSeeds = 2,
        },
        new()
        {
            Name = "small", TailorInit = "random", SeparateQkv = true, Description = "about 100 minutes on 2 cores: a width-128 depth-6 DiT pre-trained 2 epochs on the 60 596 images of digits 0–4 and garments 0–4 (KIND, its ungated ablation and the dense DiT alike), each method transferred 1 epoch to digits 5–9 and garments 5–9 (their share of 12 000 training images: about 5 900 images, 46–48 steps) with 3 seeds, 210 samples per class over the seeds; Heur-LG only when asked (--methods)",
            Model = CpuDit,
            PretrainRecipe = Cpu with { Epochs = 2 }, TransferRecipe = Cpu with { Epochs = 1, WarmupEpochs = 0.1 },
            TestLimit = 1000, TransferLimit = 12_000, TransferSeeds = 3,
            // Heur-LG (far behind in every earlier run, and no PEFT method) is left to --methods to fit the time.
            Methods = [.. KindExperiment.DefaultMethods.Where(m => m != "heur-lg")],
            Diffusion = new() { EmaDecay = 0.998, EvalPerClass = 10, GridPerClass = 8, Sampling = new SamplingRecipe(Steps: 25, Guidance: 4) },
            FinalPerClass = 210, PretrainPerClass = 50, DiversionPerClass = 50,
        },
        new()
        {
            Name = "paper", TailorInit = "random", SeparateQkv = true, Description = "for GPUs: DiT-S/2 (width 384, depth 12), DiT's recipe, 100 pre-training and 20 transfer epochs",
            Model = new() { Width = 384, Depth = 12, Heads = 6, PatchSize = 2, ImageSize = 0 }, LearngeneRank = 192, TailorRank = 32,
            PretrainRecipe = Cpu with { Epochs = 100, BatchSize = 256, LearningRate = 1e-4, MinLearningRate = 1e-4, WarmupEpochs = 0, ClipGrad = 0 },
            TransferRecipe = Cpu with { Epochs = 20, BatchSize = 256, LearningRate = 1e-4, MinLearningRate = 1e-4, WarmupEpochs = 0, ClipGrad = 0 },
            Diffusion = new() { EmaDecay = 0.9999, EmaWarmup = false, EvalPerClass = 50, GridPerClass = 8, Sampling = new SamplingRecipe(Steps: 250, Guidance: 4) },
            JudgeRecipe = new() { Epochs = 10, BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.5, Augment = false },
            FinalPerClass = 999, DiversionPerClass = 200, TransferSeeds = 3,
        },
    ]);
}
