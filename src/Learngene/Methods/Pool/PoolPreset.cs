using Learngene.Experiments;
using Learngene.Models;
using Learngene.Training;

namespace Learngene.Methods.Pool;

/// <summary>The budget of the Learngene Pool experiment (<c>learngene bench pool --preset</c>): the data, the
/// ViT teacher and its training, the instances' widths and depth, what every pre-trained model gets (each
/// instance and each SN-Net anchor alike), and the pool fine-tuning every stitched family gets.</summary>
public sealed record PoolPreset : INamed
{
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public string Data { get; init; } = "fashion-mnist";
    /// <summary>The teacher's architecture (a ViT: the instances distil its blocks and attention branches).
    /// Its width is the widest instance's and its depth the anchors'.</summary>
    public VitConfig Teacher { get; init; } = new();
    /// <summary>A trained ViT teacher to use instead (<c>--teacher</c>); null: train one with the preset's budget.
    /// Part of the budget a run folder keeps: its cells were distilled from this teacher.</summary>
    public string? TeacherFile { get; init; }
    public int TeacherEpochs { get; init; } = 3;
    public int? TeacherTrainLimit { get; init; }
    /// <summary>Instance (and anchor) widths; empty: the authors' Ti/S/B ratios of the teacher's width.</summary>
    public int[] Widths { get; init; } = [];
    /// <summary>The instances' depth; null: half the teacher's (the authors' 6 under 12).</summary>
    public int? InstanceDepth { get; init; }
    /// <summary>Epochs and images every pre-trained model gets: each instance and each anchor.</summary>
    public int PerModelEpochs { get; init; } = 4;
    public int? PerModelTrainLimit { get; init; }
    /// <summary>Pool fine-tuning, the same for every stitched family (on the per-model training images).</summary>
    public int FinetuneEpochs { get; init; } = 2;
    public double FinetuneLearningRate { get; init; } = 2e-4;
    /// <summary>Training images the least-squares stitch initialization solves on (the authors: one batch of 100).</summary>
    public int CalibrationImages { get; init; } = 100;
    public int? TestLimit { get; init; }
    /// <summary>Training images held out (never trained on) on which every configuration is also measured:
    /// Pareto fronts and budget picks are chosen there and reported on test. 0: none (choices read test).</summary>
    public int ValidationImages { get; init; }
    /// <summary>Fine-tuning seeds per stitched family (seeds Seed, Seed + 1, …): the intervals resample them.</summary>
    public int FinetuneSeeds { get; init; } = 1;
    /// <summary>SN-Net's widest anchor: "teacher" — the teacher itself, as in the paper's comparison (SN-Net
    /// stitches pre-trained DeiTs and the pool distils from the same DeiT-B) — or "trained", an anchor of the
    /// teacher's architecture trained with the other anchors' budget.</summary>
    public string SnNetWidestAnchor { get; init; } = "teacher";
    public TrainOptions Recipe { get; init; } = new();
    public int Seed { get; init; }

    /// <summary>The recipe of every instance and anchor; instances add their feature terms through their
    /// objective, anchors mix CE and soft KD with the instances' weights (0.1·CE + 0.9·KD). No label smoothing
    /// for either: the instances' objective has none (the authors' <c>criterion2.py</c>).</summary>
    public TrainOptions PerModelRecipe => Recipe with { Epochs = PerModelEpochs, Seed = Seed, LabelSmoothing = 0 };

    /// <summary>Pool fine-tuning's recipe: the preset's, at a lower learning rate without warmup (the
    /// authors fine-tune pre-trained models at 5e-5; our models are trained for a few CPU epochs, so 2e-4).</summary>
    public TrainOptions FinetuneRecipe => Recipe with { Epochs = FinetuneEpochs, LearningRate = FinetuneLearningRate, WarmupEpochs = 0, Seed = Seed };

    /// <summary>The authors' fine-tuning schedule: the same learning rate, held constant (<c>main.py</c>).</summary>
    public TrainOptions ConstantFinetuneRecipe => FinetuneRecipe with { MinLearningRate = FinetuneLearningRate };

    static readonly TrainOptions CpuRecipe = new() { BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.3, Augment = false };
    static readonly VitConfig CpuTeacher = new() { Width = 96, Depth = 12, Heads = 4, PatchSize = 7, ImageSize = 0 };

    public static readonly Registry<PoolPreset> Registry = new("preset",
    [
        new()
        {
            Name = "smoke", Description = "seconds: teacher width 32 depth 4, instances 8/16/32 at depth 2, 600 images",
            Teacher = CpuTeacher with { Width = 32, Depth = 4, Heads = 2 }, TeacherEpochs = 1, TeacherTrainLimit = 600,
            PerModelEpochs = 1, PerModelTrainLimit = 600, FinetuneEpochs = 1, CalibrationImages = 50, TestLimit = 200, ValidationImages = 200,
            Recipe = new TrainOptions { BatchSize = 64, LearningRate = 2e-3, WarmupEpochs = 0.2, Augment = false },
        },
        new()
        {
            Name = "small", Description = "under 90 minutes on 2 cores: a width-96 depth-12 ViT teacher, instances 24/48/96 at depth 6 and SN-Net anchors 24/48 at depth 12 (the teacher is the widest), each on 4 epochs of 20 000 images; 4 fine-tuning epochs per family and seed (3 seeds); every configuration on all 10 000 test images and 2 000 held-out training images",
            Teacher = CpuTeacher, TeacherEpochs = 3, TeacherTrainLimit = 30000,
            PerModelEpochs = 4, PerModelTrainLimit = 20000, FinetuneEpochs = 4, ValidationImages = 2000, FinetuneSeeds = 3, Recipe = CpuRecipe,
        },
        new()
        {
            Name = "paper", Description = "for GPUs: a DeiT-B teacher at 224x224 (give --teacher and the data), instances Ti/S/B at depth 6, the authors' 4 distillation epochs; fine-tuning 50 epochs at 5e-5",
            Teacher = new VitConfig { Width = 768, Depth = 12, Heads = 12, PatchSize = 16, ImageSize = 224, Channels = 3, Classes = 1000 }, TeacherEpochs = 300,
            PerModelEpochs = 4, FinetuneEpochs = 50, FinetuneLearningRate = 5e-5,
            Recipe = new TrainOptions { BatchSize = 256, LearningRate = 5e-4, WarmupEpochs = 1 },
        },
    ]);
}
