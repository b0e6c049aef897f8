using Learngene.Experiments.Dit;

namespace Learngene.Reporting;

/// <summary>The floors of the DiT issue, each stated with its numbers (on MNIST; other data sets are reported
/// beside it, not judged).</summary>
public static class DitChecks
{
    public const string Floored = "mnist";
    public const double MeanFloor = 0.80, ClassFloor = 0.50, FdFallFloor = 5, MinutesFloor = 60;

    public static List<Check> Evaluate(DitResults r)
    {
        var checks = new List<Check>();
        if (r.Data.FirstOrDefault(d => d.Data == Floored) is { } m)
        {
            var f = m.Final;
            checks.Add(new("accuracy on samples", f.MeanAccuracy >= MeanFloor && f.MinAccuracy >= ClassFloor,
                $"on {Floored} the judge labels {f.MeanAccuracy:P1} of the samples as their requested class on average (floor {MeanFloor:P0}), its lowest class " +
                $"{f.ClassAccuracy.MinBy(kv => kv.Value).Key} at {f.MinAccuracy:P1} (floor {ClassFloor:P0}); {f.SamplesPerClass} per class, {f.Sampling.Describe()}"));
            var curve = m.Curve.Where(c => double.IsFinite(c.FdClf)).ToList();
            if (curve.Count >= 2)
            {
                double fall = curve[0].FdClf / curve[^1].FdClf;
                checks.Add(new("FD-clf falls", fall >= FdFallFloor,
                    $"FD-clf on {Floored} from {curve[0].FdClf:G4} after epoch {curve[0].Epoch} to {curve[^1].FdClf:G4} after epoch {curve[^1].Epoch}: {fall:F1}× (floor {FdFallFloor}×)"));
            }
            else checks.Add(new("FD-clf falls", false, "fewer than two per-epoch evaluations: nothing to compare"));
        }
        double minutes = r.WallSeconds / 60;
        checks.Add(new("time", minutes <= MinutesFloor, $"{minutes:F1} min wall-clock for the whole run (floor {MinutesFloor} min; meaningful for the small preset)"));
        return checks;
    }
}
