using Learngene.Models.Stitching;
using Learngene.Reporting;
using Learngene.Statistics;

namespace Learngene.Methods.Pool;

/// <summary>The claims of the Learngene Pool paper and the project's floors, each decided by an interval (a paired bootstrap over
/// the fine-tuning seeds and the test images) or, for counts, exactly. Every front and pick is chosen on the
/// validation images when the run kept them, and measured on test.</summary>
public static class PoolChecks
{
    public const string Pool = "pool-learned", PoolPinv = "pool-learned-pinv", PoolLs = "pool-ls", PoolScratch = "pool-scratch", PoolAuthors = "pool-authors", SnNet = "sn-net";
    public const double MinutesFloor = 90;

    /// <summary>The stitch initializations compared after fine-tuning: (a, b) reads "a beats b".</summary>
    public static readonly (string A, string B)[] InitComparisons = [(Pool, PoolLs), (PoolPinv, Pool), (PoolPinv, PoolLs), (PoolLs, PoolScratch), (Pool, PoolScratch)];

    public static List<Check> Evaluate(PoolResults r)
    {
        var checks = new List<Check>();
        bool Has(string name) => r.Families.Any(f => f.Name == name && f.Configurations.Length > 0);
        if (Has(SnNet) && r.Families.FirstOrDefault(f => f.Family == "pool" && f.Configurations.Length > 0) is { } main)
        {
            var sn = r.Find(SnNet);
            var (pMin, pMax) = (main.Configurations.Min(c => c.Parameters), main.Configurations.Max(c => c.Parameters));
            var (sMin, sMax) = (sn.Configurations.Min(c => c.Parameters), sn.Configurations.Max(c => c.Parameters));
            checks.Add(new("smaller models", Verdicts.Exact(pMin < sMin),
                $"{main.Configurations.Count(c => c.Parameters < sMin)} of {main.Name}'s {main.Configurations.Length} configurations are smaller than SN-Net's smallest ({sMin:N0} parameters); the pool's smallest has {pMin:N0} (exact counts)"));
            checks.Add(new("size range", Verdicts.Exact((double)pMax / pMin > (double)sMax / sMin),
                $"{main.Name} spans {pMin:N0}–{pMax:N0} parameters ({(double)pMax / pMin:F1}×), SN-Net {sMin:N0}–{sMax:N0} ({(double)sMax / sMin:F1}×) (exact counts)"));
            checks.Add(new("storage", Verdicts.Exact(main.StoredParameters < sn.StoredParameters),
                $"stored parameters: {main.Name} {main.StoredParameters:N0}, SN-Net {sn.StoredParameters:N0} ({(double)sn.StoredParameters / main.StoredParameters:F1}× the pool's) (exact counts)"));
            foreach (var f in r.Families.Where(f => f.Family == "pool" && f.Configurations.Length > 0))
                checks.Add(FrontCheck(f, sn));
        }
        foreach (var (a, b) in InitComparisons.Where(c => Has(c.A) && Has(c.B)))
        {
            var (fa, fb) = (r.Find(a), r.Find(b));
            var interval = Bootstrap.Mean(Difference(StitchedScores(fa), StitchedScores(fb)));
            var verdict = Verdicts.Decide(interval, 0);
            checks.Add(new($"stitch init: {fa.StitchInit} beats {fb.StitchInit}", verdict,
                $"mean test accuracy of the stitched configurations after fine-tuning, {a} − {b}: {interval.Points()} points " +
                $"({Mean(fa.Configurations)} vs {Mean(fb.Configurations)}; right after initialization {Initial(fa)} vs {Initial(fb)})"));
        }
        if (r.Preset.Name == "small")
            checks.Add(new("time", Verdicts.Exact(r.WallSeconds / 60 <= MinutesFloor), $"the whole run took {r.WallSeconds / 60:F1} min of wall-clock time (floor: {MinutesFloor:F0})"));
        return checks;
    }

    /// <summary>"The pool's Pareto front is at least SN-Net's over the sizes both cover": the difference of the
    /// fronts' mean heights (log parameters) with its interval. The front is the budget pick at every size,
    /// chosen on validation and measured on test.</summary>
    static Check FrontCheck(FamilyResult pool, FamilyResult sn)
    {
        long from = Math.Max(pool.Configurations.Min(c => c.Parameters), sn.Configurations.Min(c => c.Parameters));
        long to = Math.Min(pool.Configurations.Max(c => c.Parameters), sn.Configurations.Max(c => c.Parameters));
        string name = $"Pareto front: {pool.Name} vs SN-Net";
        if (to <= from) return new(name, Verdict.Inconclusive, "the families' parameter ranges do not overlap: no common range to compare fronts on");
        if (pool.Finetunes.Count != sn.Finetunes.Count)
            return new(name, Verdict.Inconclusive, $"the families were fine-tuned with different numbers of seeds ({pool.Finetunes.Count} and {sn.Finetunes.Count}): no paired comparison");
        var interval = Bootstrap.Mean(Difference(FrontScores(pool, from, to), FrontScores(sn, from, to)));
        return new(name, Verdicts.Decide(interval, 0),
            $"mean test accuracy of the Pareto front over the common range {from:N0}–{to:N0} parameters (log scale), {pool.Name} − SN-Net: {interval.Points()} points " +
            $"({MeanHeight(pool, from, to) * 100:F2}% vs {MeanHeight(sn, from, to) * 100:F2}%; fronts chosen on {(pool.Configurations.All(c => c.ValidationAccuracy is not null) ? "the validation images" : "the test images (no validation split)")})");
    }

    /// <summary>Per seed, per test image: the front's mean height as a weighted sum of its picks' outcomes.</summary>
    public static List<double[]> FrontScores(FamilyResult f, long from, long to) => WeightedScores(f, FrontWeights(f.Configurations, from, to));

    /// <summary>Per seed, per test image: Σ weight × (the configuration got it right), over the weighted configurations.</summary>
    static List<double[]> WeightedScores(FamilyResult f, IReadOnlyDictionary<string, double> weights)
    {
        var outcomes = weights.Keys.ToDictionary(id => id, f.TestOutcomes);
        return Enumerable.Range(0, f.Finetunes.Count).Select(s =>
        {
            var score = new double[outcomes.Values.First()[s].Length];
            foreach (var (id, w) in weights)
                for (int i = 0; i < score.Length; i++) score[i] += outcomes[id][s][i] ? w : 0;
            return score;
        }).ToList();
    }

    /// <summary>The front's mean height over [from, to] on a log axis as measured (test accuracies of the picks).</summary>
    public static double MeanHeight(FamilyResult f, long from, long to)
    {
        var byId = f.Configurations.ToDictionary(c => c.Id);
        return FrontWeights(f.Configurations, from, to).Sum(kv => kv.Value * byId[kv.Key].Accuracy);
    }

    /// <summary>Each picked configuration's share of [from, to] on a log axis: at every size the pick is the
    /// best-scoring configuration no larger (<see cref="BudgetPick.ParetoFront"/>, on validation when measured).</summary>
    public static Dictionary<string, double> FrontWeights(IReadOnlyList<MeasuredConfig> configs, long from, long to)
    {
        var front = BudgetPick.ParetoFront(configs);
        var xs = front.Select(c => c.Parameters).Where(p => p > from && p < to).Append(from).Append(to).Distinct().Order().ToArray();
        var weights = new Dictionary<string, double>();
        for (int i = 0; i + 1 < xs.Length; i++)
        {
            var pick = front.LastOrDefault(c => c.Parameters <= xs[i]);
            if (pick is null) continue; // no configuration this small: height 0
            weights[pick.Id] = weights.GetValueOrDefault(pick.Id) + (Math.Log(xs[i + 1]) - Math.Log(xs[i])) / (Math.Log(to) - Math.Log(from));
        }
        return weights;
    }

    /// <summary>Per seed, per test image: the share of the family's stitched configurations that got it right.</summary>
    public static List<double[]> StitchedScores(FamilyResult f)
    {
        var stitched = f.Configurations.Where(c => c.Id.Contains('-')).Select(c => c.Id).ToList();
        return WeightedScores(f, stitched.ToDictionary(id => id, _ => 1.0 / stitched.Count));
    }

    static List<double[]> Difference(List<double[]> a, List<double[]> b)
    {
        if (a.Count != b.Count) throw new LearngeneException($"a paired comparison needs the same seeds on both sides (got {a.Count} and {b.Count})");
        return a.Select((x, s) => x.Select((v, i) => v - b[s][i]).ToArray()).ToList();
    }

    static string Mean(IEnumerable<MeasuredConfig> configs) =>
        $"{configs.Where(c => c.Id.Contains('-')).Select(c => c.Accuracy).DefaultIfEmpty(double.NaN).Average() * 100:F2}%";

    static string Initial(FamilyResult f) =>
        $"{f.InitialAccuracy.Where(kv => kv.Key.StartsWith("accuracy/") && kv.Key.Contains('-')).Select(kv => kv.Value).DefaultIfEmpty(double.NaN).Average() * 100:F2}%";
}
