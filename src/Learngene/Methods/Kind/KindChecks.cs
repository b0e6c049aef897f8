using Learngene.Experiments.Dit;
using Learngene.Reporting;
using Learngene.Statistics;

namespace Learngene.Methods.Kind;

/// <summary>KIND's claims, each read from an interval: KIND against each PEFT method on every task from bootstrap
/// intervals of the FD-clf difference (each method's samples resampled on its own) and of the test-loss
/// difference (paired over seeds and test images), with "no more trainable parameters than LoRA" as the
/// condition; the null tailor block against none; the ungated ablation against KIND; diversion shares from
/// Wilson intervals.</summary>
public static class KindChecks
{
    public const double DiversionFloor = 0.5, MinutesFloor = 90;
    /// <summary>The parameter-efficient methods the paper compares KIND with.</summary>
    public static readonly string[] Peft = ["lora", "pissa", "svdiff"];

    public static List<Check> Evaluate(KindResults r)
    {
        var checks = new List<Check>();
        foreach (var t in r.Tasks)
        {
            foreach (var c in t.Comparisons.Where(c => c.Method == "kind" && Peft.Contains(c.Rival)))
            {
                // More trainable parameters than LoRA or PiSSA voids the comparison; SVDiff trains fewer by construction.
                bool fair = c.Rival == "svdiff" || c.MethodTrainable <= c.RivalTrainable;
                string who = $"KIND {c.MethodTrainable:N0} trainable, {c.Rival} {c.RivalTrainable:N0}; {c.Seeds} seed(s)";
                checks.Add(new($"KIND beats {c.Rival} on {t.Task.Id} (FD-clf)", fair ? Verdicts.Decide(c.FdClfDifference, 0, higherIsBetter: false) : Verdict.Missed,
                    $"FD-clf difference KIND − {c.Rival} {c.FdClfDifference.Plain("G3")} (below 0: KIND better; {who})" + (fair ? "" : "; KIND trains more parameters")));
                checks.Add(new($"KIND beats {c.Rival} on {t.Task.Id} (test loss)", fair ? Verdicts.Decide(c.LossDifference, 0, higherIsBetter: false) : Verdict.Missed,
                    $"test denoising loss difference KIND − {c.Rival} {c.LossDifference.Plain("G3")} ({who})" + (fair ? "" : "; KIND trains more parameters")));
            }
            if (t.Comparisons.FirstOrDefault(c => c.Method == "kind-null" && c.Rival == "kind") is { } n)
                checks.Add(new($"a null tailor block helps on {t.Task.Id}", Verdicts.All([Verdicts.Decide(n.FdClfDifference, 0, higherIsBetter: false), Verdicts.Decide(n.LossDifference, 0, higherIsBetter: false)]),
                    $"kind-null − kind: FD-clf {n.FdClfDifference.Plain("G3")}, test loss {n.LossDifference.Plain("G3")} ({n.Seeds} seed(s); met when both are below 0)"));
            if (t.Comparisons.FirstOrDefault(c => c.Method == "kind-nogate" && c.Rival == "kind") is { } g)
                checks.Add(new($"diversion helps transfer on {t.Task.Id}", Verdicts.All([Verdicts.Decide(g.FdClfDifference, 0), Verdicts.Decide(g.LossDifference, 0)]),
                    $"kind-nogate − kind (the same SVD form pre-trained without the class gate): FD-clf {g.FdClfDifference.Plain("G3")}, test loss {g.LossDifference.Plain("G3")} ({g.Seeds} seed(s); met when both are above 0, i.e. KIND better)"));
            if (t.Comparisons.Count == 0 && t.Methods.FirstOrDefault(m => m.Method == "kind") is { } kind)
                checks.Add(new($"KIND vs PEFT on {t.Task.Id}", Verdict.Inconclusive,
                    $"FD-clf {kind.Final.FdClf:G4} (KIND) vs " + string.Join(", ", t.Methods.Where(m => Peft.Contains(m.Method)).Select(m => $"{m.Final.FdClf:G4} ({m.Method})")) +
                    ": results made before per-sample features were kept, one draw and no interval: not decided"));
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
