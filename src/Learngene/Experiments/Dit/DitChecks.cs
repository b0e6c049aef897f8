using Learngene.Reporting;
using Learngene.Statistics;

namespace Learngene.Experiments.Dit;

/// <summary>The DiT's floors, on MNIST (other data sets are reported beside it, not judged), each read from an
/// interval: accuracy on samples from Wilson intervals; FD-clf over the real-data reference and the patch-seam
/// ratio from bootstrap intervals over the samples (null in results made before they were kept: inconclusive).</summary>
public static class DitChecks
{
    public const string Floored = "mnist";
    public const double MeanFloor = 0.95, ClassFloor = 0.85, FdRatioFloor = 5, SeamFloor = 1.3, MinutesFloor = 60;

    public static List<Check> Evaluate(DitResults r)
    {
        var checks = new List<Check>();
        if (r.Data.FirstOrDefault(d => d.Data == Floored) is { } m)
        {
            var f = m.Final;
            checks.Add(SampleAccuracy(f, Floored, MeanFloor, ClassFloor));
            checks.Add(f.FdRatio is { } ratio
                ? new("FD-clf near real data", Verdicts.Decide(ratio, FdRatioFloor, higherIsBetter: false),
                    $"FD-clf on {Floored} {f.FdClf:G4} is {ratio.Plain("F1")}× that of as many real training images ({f.FdTrainVsTest:G4}; floor: within {FdRatioFloor}×)")
                : new("FD-clf near real data", Verdict.Inconclusive, $"FD-clf {f.FdClf:G4}, real training images {f.FdTrainVsTest:G4}: no interval in these results (made before it was kept)"));
            checks.Add(f.SeamInterval is { } seams
                ? new("patch seams", Verdicts.Decide(seams, SeamFloor, higherIsBetter: false),
                    $"the samples' patch-seam ratio on {Floored} is {seams.Plain()} (real test images {f.RealSeamRatio:F2}; floor {SeamFloor})")
                : new("patch seams", Verdict.Inconclusive, "no seam ratio in these results (made before it was kept)"));
        }
        double minutes = r.WallSeconds / 60;
        checks.Add(new("time", minutes <= MinutesFloor, $"{minutes:F1} min wall-clock for the whole run (floor {MinutesFloor} min; meaningful for the small preset)"));
        return checks;
    }

    /// <summary>"The judge labels more than <paramref name="meanFloor"/> of the samples as their class, and more
    /// than <paramref name="classFloor"/> of every class's": the mean over all samples and each class from their
    /// Wilson intervals (each sample an independent draw).</summary>
    public static Check SampleAccuracy(SampleScores f, string data, double meanFloor, double classFloor)
    {
        var mean = Binomial.Wilson(f.MeanAccuracy, f.SamplesPerClass * f.ClassAccuracy.Count);
        var classes = f.ClassAccuracy.ToDictionary(kv => kv.Key, kv => Binomial.Wilson(kv.Value, f.SamplesPerClass));
        var verdict = Verdicts.All([Verdicts.Decide(mean, meanFloor), .. classes.Values.Select(c => Verdicts.Decide(c, classFloor))]);
        var lowest = classes.MinBy(kv => kv.Value.Estimate);
        return new("accuracy on samples", verdict,
            $"on {data} the judge labels {Share(mean)} of the samples as their requested class (floor {meanFloor:P0}), its lowest class " +
            $"{lowest.Key} {Share(lowest.Value)} (floor {classFloor:P0} for every class); {f.SamplesPerClass} per class, {f.Sampling.Describe()}; 95% Wilson intervals");
    }

    /// <summary>"93.5% [91.0, 95.4]".</summary>
    public static string Share(Interval i) => $"{i.Estimate:P1} [{i.Low * 100:F1}, {i.High * 100:F1}]";
}
