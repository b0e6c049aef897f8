using Learngene.Experiments.Dit;
using Learngene.Statistics;

namespace Learngene.Reporting;

/// <summary>The DiT's floors, on MNIST (other data sets are reported beside it, not judged). Shares of samples
/// are read from their Wilson intervals; FD-clf has no interval yet (the features behind it are not kept per
/// sample), so its claim stays inconclusive rather than decided from one number.</summary>
public static class DitChecks
{
    public const string Floored = "mnist";
    public const double MeanFloor = 0.80, ClassFloor = 0.50, FdFallFloor = 5, MinutesFloor = 60;

    public static List<Check> Evaluate(DitResults r)
    {
        var checks = new List<Check>();
        if (r.Data.FirstOrDefault(d => d.Data == Floored) is { } m)
        {
            checks.Add(SampleAccuracy(m.Final, Floored, MeanFloor, ClassFloor));
            var curve = m.Curve.Where(c => double.IsFinite(c.FdClf)).ToList();
            string fall = curve.Count >= 2
                ? $"FD-clf on {Floored} from {curve[0].FdClf:G4} after epoch {curve[0].Epoch} to {curve[^1].FdClf:G4} after epoch {curve[^1].Epoch}: {curve[0].FdClf / curve[^1].FdClf:F1}× (floor {FdFallFloor}×)"
                : "fewer than two per-epoch evaluations";
            checks.Add(new("FD-clf falls", Verdict.Inconclusive, $"{fall}; no interval (per-sample features are not kept), so not decided"));
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
