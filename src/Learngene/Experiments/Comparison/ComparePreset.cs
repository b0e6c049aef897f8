using System.Text.Json.Serialization;
using Learngene.Training;

namespace Learngene.Experiments.Comparison;

/// <summary>The budget of a comparison (<c>learngene bench compare --preset</c>): data, the model family,
/// what the teacher, the learngenes and the ancestry model get, and the descendants' depths and epochs.</summary>
public sealed record ComparePreset : INamed
{
    public string Name { get; init; } = "";
    public string Description { get; init; } = "";
    public string Source { get; init; } = "fashion-mnist";
    /// <summary>Transfer data set; empty for none.</summary>
    public string Transfer { get; init; } = "mnist";
    /// <summary>Model preset giving the family's width, heads, patch and MLP ratio.</summary>
    public string Family { get; init; } = "vit-cpu";
    /// <summary>Depth of TLEG's auxiliary model and of the ancestry ViT (weight selection, Heur-LG, Auto-LG);
    /// also the largest member of the family whose storage is counted.</summary>
    public int AuxiliaryDepth { get; init; } = 12;
    /// <summary>Each learngene method's own settings (JSON) where the preset sets them, e.g. SWS's stage sizes
    /// (the paper: [3, 3, 4, 3, 3], 16 layers); a method not named here learns with its defaults.</summary>
    public Dictionary<string, string> MethodSettings { get; init; } = new() { ["sws"] = Stages(3, 3, 4, 3, 3) };

    /// <summary>SWS's settings for the given stage sizes.</summary>
    static string Stages(params int[] sizes) => $"{{\"stages\":[{string.Join(",", sizes)}]}}";

    /// <summary>Presets written before methods owned their settings stored SWS's stages in their own field.</summary>
    [JsonPropertyName("sws_stages"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int[]? LegacySwsStages { get => null; init { if (value is not null) MethodSettings = new() { ["sws"] = Stages(value) }; } }

    public string? SettingsFor(string method) => MethodSettings.GetValueOrDefault(method);
    public string TeacherModel { get; init; } = "resnet-cpu";
    public int TeacherEpochs { get; init; } = 2;
    public int? TeacherTrainLimit { get; init; }
    /// <summary>Epochs and images for every pre-trained artefact alike: each learngene, the ancestry ViT and
    /// each of pretrain-finetune's models.</summary>
    public int AuxiliaryEpochs { get; init; } = 3;
    public int? AuxiliaryTrainLimit { get; init; }
    /// <summary>E: every method's descendants train for E epochs.</summary>
    public int Epochs { get; init; } = 2;
    /// <summary>Scratch's reference budget on the source task: its learning curve is what the training-cost
    /// factor (epochs scratch needs to reach a method's accuracy) is read from. 0: none.</summary>
    public int LongEpochs { get; init; } = 5;
    /// <summary>Scratch trained this many epochs with its own schedule: the floor "one epoch of a learngene
    /// descendant reaches scratch after five epochs" compares with it (epoch 5 of the longer run, still at
    /// a high learning rate, would be an easier target). Equal to LongEpochs: the long run serves; 0: no such floor.</summary>
    public int FloorEpochs { get; init; } = 5;
    public int[] Depths { get; init; } = [];
    public int? TrainLimit { get; init; }
    public int? TestLimit { get; init; }
    /// <summary>Layers Heur-LG and Auto-LG inherit.</summary>
    public int InheritLayers { get; init; } = 3;
    /// <summary>Weight selection's rules (default: the authors' first-N layers, uniform elements).</summary>
    public Baselines.Initializers.WeightSelectionRules WeightSelection { get; init; } = new();

    /// <summary>The initializers' settings this comparison gives them (<see cref="Baselines.Initializers.IInitializer.With"/>).</summary>
    public GivenSettings InitializerSettings() => new(new Dictionary<string, string>
    {
        ["inherit"] = InheritLayers.ToString(), ["ws-layers"] = WeightSelection.Layers, ["ws-elements"] = WeightSelection.Elements,
    });
    public TrainOptions Recipe { get; init; } = new();
    public int Seed { get; init; }
    /// <summary>The comparison rules a run folder's cells were made under (stored in its preset.json, so a
    /// folder made under older rules — other initialization, baselines or test subsets, same budget — is
    /// refused instead of silently reused). 0 in files written before the rules were versioned.</summary>
    public int Rules { get; init; }
    /// <summary>2: timm's initialization, the authors' weight selection, pretrain-finetune distilled per
    /// depth, test subsets fixed by the preset's seed, descendants in the family's input shape. 3: every
    /// cell keeps its per-image test outcomes (what the verdicts' intervals resample).</summary>
    public const int CurrentRules = 3;

    /// <summary>The CPU presets' recipe. Augmentation is off: with at most ten epochs it slowed every
    /// method down (vit-cpu at depth 4, 2 epochs on 10 000 MNIST images: 31.3% with crops, 56.3% without).</summary>
    static readonly TrainOptions CpuRecipe = new() { BatchSize = 128, LearningRate = 1e-3, WarmupEpochs = 0.3, Augment = false };

    public static readonly Registry<ComparePreset> Registry = new("preset",
    [
        new()
        {
            Name = "smoke", Description = "seconds: width 32, auxiliary depth 4 (SWS: 5 one-layer stages), descendants 1..4 on 600 images",
            Family = "vit-smoke", AuxiliaryDepth = 4, MethodSettings = new() { ["sws"] = Stages(1, 1, 1, 1, 1) }, TeacherModel = "resnet-smoke", TeacherEpochs = 1, TeacherTrainLimit = 600,
            AuxiliaryEpochs = 1, AuxiliaryTrainLimit = 600, Epochs = 2, LongEpochs = 3, FloorEpochs = 2, Depths = [1, 2, 3, 4],
            TrainLimit = 600, TestLimit = 200, Recipe = new TrainOptions { BatchSize = 64, LearningRate = 2e-3, WarmupEpochs = 0.2, Augment = false },
        },
        new()
        {
            // The quickstart prints only what its budget resolves: no transfer task (40 steps per epoch on 5 000
            // MNIST images leave every method near 45%) and no one-epoch floor (inconclusive at this budget).
            Name = "quickstart", Description = "about 5 minutes on 2 cores: the vit-cpu family on fashion-mnist, descendants at depths 2, 4, 8, 12 on 5000 images, tested on all 10 000 test images",
            Transfer = "", Family = "vit-cpu", TeacherModel = "resnet-cpu", TeacherEpochs = 2, TeacherTrainLimit = 15000,
            AuxiliaryEpochs = 3, AuxiliaryTrainLimit = 10000, Epochs = 2, LongEpochs = 5, FloorEpochs = 0, Depths = [2, 4, 8, 12],
            TrainLimit = 5000, Recipe = CpuRecipe,
        },
        new()
        {
            // Depths 1, 2, 4, 12 (not 1..12 in six steps): three seeds of every method must fit 90 minutes on 2 cores.
            Name = "small", Description = "all methods with three seeds in about 75 minutes on 2 cores: the vit-cpu family (width 64), every pre-trained model on 30 000 images, descendants at depths 1, 2, 4, 12 on 10 000 images, E = 3, scratch's reference 10 epochs, every cell tested on all 10 000 test images",
            Family = "vit-cpu", TeacherModel = "resnet-cpu", TeacherEpochs = 3, TeacherTrainLimit = 30000,
            AuxiliaryEpochs = 5, AuxiliaryTrainLimit = 30000, Epochs = 3, LongEpochs = 10, Depths = [1, 2, 4, 12],
            TrainLimit = 10000, Recipe = CpuRecipe,
        },
        new()
        {
            Name = "paper", Description = "for GPUs: DeiT-S family at 224x224 (give the source and transfer data), depths 1..12, the authors' epochs; DeiT's schedule without its RandAugment, mixup/cutmix, random erasing, stochastic depth and EMA",
            Family = "deit-s", TeacherModel = "deit-b", TeacherEpochs = 300, AuxiliaryEpochs = 150, Epochs = 35, LongEpochs = 175, FloorEpochs = 0,
            Depths = Enumerable.Range(1, 12).ToArray(),
            Recipe = new TrainOptions { BatchSize = 512, LearningRate = 5e-4, WarmupEpochs = 5 },
        },
    ]);
}
