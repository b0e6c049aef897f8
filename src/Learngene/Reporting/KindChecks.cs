using Learngene.Experiments.Kind;
using Learngene.Statistics;

namespace Learngene.Reporting;

/// <summary>KIND's claims, each stated with its numbers. Diversion shares are read from Wilson intervals; the
/// FD-clf comparisons with PEFT have no interval yet (the features behind FD-clf are not kept per sample), so
/// they are reported and left undecided rather than decided from one draw.</summary>
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
                bool fewer = kind.TrainableParameters <= other.TrainableParameters;
                // More trainable parameters than LoRA voids the comparison outright; SVDiff trains fewer by construction.
                var verdict = !fewer && rival != "svdiff" ? Verdict.Missed : Verdict.Inconclusive;
                checks.Add(new($"KIND vs {rival} on {t.Task.Id}", verdict,
                    $"FD-clf {kind.Final.FdClf:G4} (KIND, {kind.TrainableParameters:N0} trainable) vs {other.Final.FdClf:G4} ({rival}, {other.TrainableParameters:N0} trainable)" +
                    (rival == "svdiff" && !fewer ? "; SVDiff trains fewer parameters by construction, so only the FD-clf is compared" : "") +
                    (verdict == Verdict.Missed ? "; KIND trains more parameters than LoRA" : "; one draw of samples, no interval: not decided")));
            }
        }
        if (r.Diversion.Count > 0)
        {
            var shares = r.Diversion.Select(d => (d.Class, Share: Binomial.Wilson(d.WithTailor, r.Preset.DiversionPerClass))).ToList();
            var verdict = Verdicts.All(shares.Select(s => Verdicts.Decide(s.Share, DiversionFloor)));
            var lowest = shares.MinBy(s => s.Share.Estimate);
            checks.Add(new("knowledge diversion", verdict,
                $"the learngenes plus class c's tailor draw c (the judge labels more than {DiversionFloor:P0} as c) for every pre-training class: lowest, class {lowest.Class}, " +
                $"{DitChecks.Share(lowest.Share)} of {r.Preset.DiversionPerClass} samples (95% Wilson); mean {r.Diversion.Average(d => d.WithTailor):P1} with the tailor " +
                $"vs {r.Diversion.Average(d => d.LearngenesOnly):P1} from the learngenes alone under the same label"));
        }
        if (r.Preset.Name == "small")
        {
            double minutes = r.WallSeconds / 60;
            checks.Add(new("small preset time", minutes <= MinutesFloor, $"{minutes:F1} min of wall-clock time in the run folder (floor {MinutesFloor} min)"));
        }
        return checks;
    }
}
