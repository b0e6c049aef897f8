using Learngene.Training;

namespace Learngene.Bench;

/// <summary>The budget of a TLEG experiment (<c>learngene bench tleg --preset</c>).</summary>
public sealed record TlegPreset
{
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public string Source { get; init; } = "fashion-mnist";
    public string Transfer { get; init; } = "mnist";
    /// <summary>Model preset giving the family's width, heads, patch and MLP ratio.</summary>
    public string Family { get; init; } = "vit-cpu";
    public int AuxiliaryDepth { get; init; } = 12;
    public string TeacherModel { get; init; } = "resnet-cpu";
    public int TeacherEpochs { get; init; } = 2;
    public int? TeacherTrainLimit { get; init; }
    public int AuxiliaryEpochs { get; init; } = 3;
    public int? AuxiliaryTrainLimit { get; init; }
    /// <summary>E: descendant fine-tuning epochs (and scratch's budget; scratch also runs ScratchMultiplier × E).</summary>
    public int Epochs { get; init; } = 2;
    public int ScratchMultiplier { get; init; } = 5;
    public int[] Depths { get; init; } = [];
    public int? TrainLimit { get; init; }
    public int? TestLimit { get; init; }
    public TrainOptions Recipe { get; init; } = new();
    public int Seed { get; init; }

    /// <summary>The CPU presets' recipe. Augmentation is off: with at most ten epochs it slowed every
    /// method down (vit-cpu at depth 4, 2 epochs on 10 000 MNIST images: 31.3% with crops, 56.3% without).</summary>
    static readonly TrainOptions CpuRecipe = new() { BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.3, Augment = false };

    public static readonly IReadOnlyList<TlegPreset> All =
    [
        new()
        {
            Name = "smoke", Description = "seconds: width 32, auxiliary depth 4, descendants 1..4 on 1000 images",
            Family = "vit-smoke", AuxiliaryDepth = 4, TeacherModel = "resnet-smoke", TeacherEpochs = 1, TeacherTrainLimit = 1000,
            AuxiliaryEpochs = 1, AuxiliaryTrainLimit = 1000, Epochs = 1, ScratchMultiplier = 2, Depths = [1, 2, 3, 4],
            TrainLimit = 1000, TestLimit = 300, Recipe = new TrainOptions { BatchSize = 64, LearningRate = 2e-3, WarmupEpochs = 0.2, Augment = false },
        },
        new()
        {
            Name = "quickstart", Description = "about 7 minutes on 2 cores: the vit-cpu family, auxiliary depth 12, descendants at depths 2, 4, 8, 12 on 5000 images",
            Family = "vit-cpu", AuxiliaryDepth = 12, TeacherModel = "resnet-cpu", TeacherEpochs = 2, TeacherTrainLimit = 15000,
            AuxiliaryEpochs = 3, AuxiliaryTrainLimit = 10000, Epochs = 2, ScratchMultiplier = 5, Depths = [2, 4, 8, 12],
            TrainLimit = 5000, TestLimit = 2000, Recipe = CpuRecipe,
        },
        new()
        {
            Name = "small", Description = "about 20 minutes on 2 cores: the vit-cpu family (width 64), auxiliary depth 12, descendants at 7 depths, 10 000 training images",
            Family = "vit-cpu", AuxiliaryDepth = 12, TeacherModel = "resnet-cpu", TeacherEpochs = 3, TeacherTrainLimit = 30000,
            AuxiliaryEpochs = 5, AuxiliaryTrainLimit = 30000, Epochs = 2, ScratchMultiplier = 5, Depths = [1, 2, 4, 6, 8, 10, 12],
            TrainLimit = 10000, TestLimit = 5000, Recipe = CpuRecipe,
        },
        new()
        {
            Name = "paper", Description = "for GPUs: DeiT-S family at 224x224 (give --source/--transfer data), auxiliary depth 12, depths 1..12, the authors' epochs",
            Family = "deit-s", AuxiliaryDepth = 12, TeacherModel = "deit-b", TeacherEpochs = 300, AuxiliaryEpochs = 150, Epochs = 35,
            ScratchMultiplier = 5, Depths = Enumerable.Range(1, 12).ToArray(),
            Recipe = new TrainOptions { BatchSize = 512, LearningRate = 5e-4, WarmupEpochs = 5 },
        },
    ];

    public static TlegPreset Find(string name) =>
        All.FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new LearngeneException($"unknown preset '{name}' (known: {string.Join(", ", All.Select(p => p.Name))})");
}
