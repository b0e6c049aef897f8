using Learngene.Diffusion;
using Learngene.Statistics;

namespace Learngene.Experiments.Dit;

/// <summary>How good one set of samples is: FD-clf against the real test images and the judge's accuracy
/// on the samples of each requested class.</summary>
public sealed record SampleScores
{
    public double FdClf { get; init; }
    /// <summary>Class name → share of that class's samples the judge labels as it.</summary>
    public Dictionary<string, double> ClassAccuracy { get; init; } = [];
    public double MeanAccuracy => ClassAccuracy.Count == 0 ? double.NaN : ClassAccuracy.Values.Average();
    public double MinAccuracy => ClassAccuracy.Count == 0 ? double.NaN : ClassAccuracy.Values.Min();
    public int SamplesPerClass { get; init; }
    public SamplingRecipe Sampling { get; init; } = new();
    /// <summary>FD-clf of as many real training images, and of uniform noise, against the test images.</summary>
    public double FdTrainVsTest { get; init; }
    public double FdNoiseVsTest { get; init; }
    public double SamplingSeconds { get; init; }
    /// <summary>FD-clf's 95% interval from a bootstrap over the samples (the real test images are the fixed
    /// reference; centred, <see cref="Bootstrap.Percentile"/>), and FD-clf over the real-data reference
    /// (<see cref="FdTrainVsTest"/>, one fixed draw). Null in results made before they were kept.</summary>
    public Interval? FdClfInterval { get; init; }
    public Interval? FdRatio { get; init; }
    /// <summary>The patch grid's visibility (<see cref="Metrics.PatchSeams"/>) in the samples and in the real test
    /// images; and in the network's one-pass clean estimates of noised test images, by step t (the network's
    /// own seams, without the sampler).</summary>
    public double? SeamRatio { get; init; }
    public Interval? SeamInterval { get; init; }
    public double? RealSeamRatio { get; init; }
    public Dictionary<int, double>? OnePassSeamRatio { get; init; }
    /// <summary>The denoising loss on every test image of the classes (one fixed t and noise per image, the
    /// same for every model scored with the same seed), its standard error over the images, and their number.</summary>
    public double? TestLoss { get; init; }
    public double? TestLossSe { get; init; }
    public int? TestImages { get; init; }

    public string Describe() =>
        $"FD-clf {FdClf:G4} (real train vs test {FdTrainVsTest:G4}, noise {FdNoiseVsTest:G4}); accuracy on samples {MeanAccuracy:P1}, lowest class {MinAccuracy:P1} " +
        $"({SamplesPerClass} per class, {Sampling.Describe()}, {SamplingSeconds:F0} s)" +
        (FdClfInterval is { } fd ? $"; FD-clf 95% interval {fd.Plain("G4")}" : "") + (FdRatio is { } q ? $", {q.Plain("F1")}× the real reference" : "") +
        (SeamRatio is { } seam ? $"; patch seams {(SeamInterval is { } si ? si.Plain() : seam.ToString("F2"))} (real images {RealSeamRatio:F2}" + (OnePassSeamRatio is { Count: > 0 } one ? ", one-pass estimates " + string.Join(", ", one.Select(kv => $"t={kv.Key} {kv.Value:F2}")) : "") + ")" : "") +
        (TestLoss is { } loss ? $"; test denoising loss {loss:F4} ± {TestLossSe:F4} (s.e., {TestImages} images)" : "");
}

/// <summary>One point of the training curve: the per-epoch evaluation (fewer samples than the final one).</summary>
public sealed record CurvePoint(int Epoch, long TrainImages, double Minutes, double Loss, double EmaLoss, double FdClf, double SampleAccuracy, double SampleAccuracyMin);

/// <summary>A DiT trained on one data set and judged.</summary>
public sealed record DitDataResult
{
    public string Data { get; init; } = "";
    public string[] ClassNames { get; init; } = [];
    public CellResult Judge { get; init; } = new();
    public CellResult Dit { get; init; } = new();
    public List<CurvePoint> Curve { get; init; } = [];
    public SampleScores Final { get; init; } = new();
    /// <summary>Training images per second (the trainer's, mean over epochs) and training minutes.</summary>
    public double ImagesPerSecond { get; init; }
    public double TrainMinutes { get; init; }
    /// <summary>The grid of samples (one row per class) and the ImageFolder of every final sample, relative to the run folder.</summary>
    public string Grid { get; init; } = "";
    public string SamplesFolder { get; init; } = "";
}

public sealed record DitResults
{
    public DitPreset Preset { get; init; } = new();
    public List<DitDataResult> Data { get; init; } = [];
    public double WallSeconds { get; init; }
    public DateTime Finished { get; init; }
}
