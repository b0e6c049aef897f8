using Learngene.Experiments.Kind;

namespace Learngene.Reporting;

/// <summary>The floors of the KIND issue, each stated with its numbers.</summary>
public static class KindChecks
{
    public const double DiversionFloor = 0.5, MinutesFloor = 90;

    public static List<Check> Evaluate(KindResults r)
    {
        var checks = new List<Check>();
        foreach (var t in r.Tasks)
        {
            var kind = t.Methods.FirstOrDefault(m => m.Method == "kind");
            if (kind is null) continue;
            foreach (var rival in new[] { "lora", "svdiff" })
            {
                if (t.Methods.FirstOrDefault(m => m.Method == rival) is not { } other) continue;
                bool lower = kind.Final.FdClf < other.Final.FdClf, fewer = kind.TrainableParameters <= other.TrainableParameters;
                checks.Add(new($"KIND vs {rival} on {t.Task.Id}", lower && (fewer || rival == "svdiff"),
                    $"FD-clf {kind.Final.FdClf:G4} (KIND, {kind.TrainableParameters:N0} trainable) vs {other.Final.FdClf:G4} ({rival}, {other.TrainableParameters:N0} trainable)" +
                    (rival == "svdiff" && !fewer ? "; SVDiff trains fewer parameters by construction, so only the FD-clf is judged" : "")));
            }
        }
        if (r.Diversion.Count > 0)
        {
            int drawn = r.Diversion.Count(d => d.WithTailor > DiversionFloor);
            checks.Add(new("knowledge diversion", drawn == r.Diversion.Count,
                $"the learngenes plus class c's tailor draw c (judge labels more than {DiversionFloor:P0} as c) for {drawn} of {r.Diversion.Count} pre-training classes; " +
                $"mean {r.Diversion.Average(d => d.WithTailor):P1} with the tailor vs {r.Diversion.Average(d => d.LearngenesOnly):P1} from the learngenes alone under the same label"));
        }
        if (r.Preset.Name == "small")
        {
            double minutes = r.WallSeconds / 60;
            checks.Add(new("small preset time", minutes <= MinutesFloor, $"{minutes:F1} min of wall-clock time in the run folder (floor {MinutesFloor} min)"));
        }
        return checks;
    }
}
