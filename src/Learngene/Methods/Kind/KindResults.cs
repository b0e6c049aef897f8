using Learngene.Experiments;
using Learngene.Experiments.Dit;

namespace Learngene.Methods.Kind;

/// <summary>One method transferred to one task and judged.</summary>
public sealed record TransferResult
{
    public string Method { get; init; } = "";
    /// <summary>Which transfer seed (0: the recipe's seed, i: seed + i).</summary>
    public int SeedIndex { get; init; }
    /// <summary>What trains, in words (and the adapter's rank where it has one).</summary>
    public string Trains { get; init; } = "";
    public long TrainableParameters { get; init; }
    public long Parameters { get; init; }
    /// <summary>Multiply-accumulates of one denoising pass for one image, as the model runs here.</summary>
    public long MacsPerStep { get; init; }
    /// <summary>The same once deployed: adapters merged into their matrices, KIND recombined for one class.</summary>
    public long DeployedMacsPerStep { get; init; }
    public double ImagesPerSecond { get; init; }
    public double Minutes { get; init; }
    public SampleScores Final { get; init; } = new();
    public CellResult Cell { get; init; } = new();
    public string Grid { get; init; } = "";
    /// <summary>The samples' features and test losses (<see cref="JudgedSamples"/>), relative to the run folder.</summary>
    public string Evidence { get; init; } = "";
}

public sealed record TaskResult
{
    public TransferTask Task { get; init; } = new("", []);
    public string[] ClassNames { get; init; } = [];
    public CellResult Judge { get; init; } = new();
    public List<TransferResult> Methods { get; init; } = [];
    /// <summary>Every method over its seeds, and each KIND variant against the others, with intervals (empty in
    /// results made before they existed).</summary>
    public List<MethodSummary> Summaries { get; init; } = [];
    public List<PairedComparison> Comparisons { get; init; } = [];
    /// <summary>FD-clf of as many real training images as a method's pooled samples, against the test images.</summary>
    public double? RealReference { get; init; }
}

/// <summary>Knowledge diversion for one pre-training class: the share of samples the judge labels as the
/// class, drawn from the learngenes plus its tailor, and from the learngenes alone under its label; and,
/// under its label with another class's tailor, the shares labelled as the label's class and as the tailor's.</summary>
public sealed record DiversionRow(string Class, double WithTailor, double LearngenesOnly)
{
    public string SwappedTailor { get; init; } = "";
    public double SwappedAsLabel { get; init; } = double.NaN;
    public double SwappedAsTailor { get; init; } = double.NaN;
}

public sealed record KindResults
{
    public KindPreset Preset { get; init; } = new();
    public CellResult PretrainJudge { get; init; } = new();
    /// <summary>The two pre-trained models (KIND's SVD-form DiT, the ordinary DiT) and their final scores on the pre-training classes.</summary>
    public CellResult KindPretrain { get; init; } = new();
    public CellResult DitPretrain { get; init; } = new();
    /// <summary>The ablation's SVD-form DiT without the class gate (null when kind-nogate did not run).</summary>
    public CellResult? UngatedPretrain { get; init; }
    public SampleScores KindPretrainScores { get; init; } = new();
    public SampleScores DitPretrainScores { get; init; } = new();
    public string Learngene { get; init; } = "";
    public long LearngeneParameters { get; init; }
    /// <summary>Parameters of one tailor block over every layer (a class's, when each class has its own).</summary>
    public long TailorParametersPerBlock { get; init; }
    public List<DiversionRow> Diversion { get; init; } = [];
    public List<TaskResult> Tasks { get; init; } = [];
    public double WallSeconds { get; init; }
    public DateTime Finished { get; init; }
}
