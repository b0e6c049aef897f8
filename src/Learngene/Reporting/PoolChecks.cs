using Learngene.Experiments.Pool;
using Learngene.Models.Stitching;

namespace Learngene.Reporting;

/// <summary>The floors of the Learngene Pool issue, each stated with its numbers. "The pool" is the paper's
/// method, the pool with the learned stitch initialization (<c>pool-learned</c>).</summary>
public static class PoolChecks
{
    public const string Pool = "pool-learned", PoolLs = "pool-ls", SnNet = "sn-net";
    public const double MinutesFloor = 60;

    public static List<Check> Evaluate(PoolResults r)
    {
        var checks = new List<Check>();
        if (r.Families.All(f => f.Name != Pool) || r.Families.All(f => f.Name != SnNet)) return checks;
        var (pool, sn) = (r.Find(Pool), r.Find(SnNet));
        var (pMin, pMax) = (pool.Configurations.Min(c => c.Parameters), pool.Configurations.Max(c => c.Parameters));
        var (sMin, sMax) = (sn.Configurations.Min(c => c.Parameters), sn.Configurations.Max(c => c.Parameters));
        checks.Add(new("smaller models", pMin < sMin,
            $"{pool.Configurations.Count(c => c.Parameters < sMin)} of the pool's {pool.Configurations.Length} configurations are smaller than SN-Net's smallest ({sMin:N0} parameters); the pool's smallest has {pMin:N0}"));
        checks.Add(new("size range", (double)pMax / pMin > (double)sMax / sMin,
            $"the pool spans {pMin:N0}–{pMax:N0} parameters ({(double)pMax / pMin:F1}×), SN-Net {sMin:N0}–{sMax:N0} ({(double)sMax / sMin:F1}×)"));
        var (pa, sa, from, to) = FrontAreas(pool.Configurations, sn.Configurations);
        var below = Below(pool.Configurations, sn.Configurations, from, to);
        checks.Add(new("Pareto front", double.IsFinite(pa) && pa >= sa,
            double.IsFinite(pa) ? $"mean accuracy of the Pareto front over the common range {from:N0}–{to:N0} parameters (log scale): pool {pa * 100:F2}%, SN-Net {sa * 100:F2}%; " +
                                  (below.Count == 0 ? "the pool's front is nowhere below SN-Net's" : $"the pool's front is below SN-Net's at {string.Join(", ", below.Select(b => $"{b.From:N0}–{b.To:N0}"))} parameters")
                                : "the families' parameter ranges do not overlap: no common range to compare fronts on"));
        if (r.Families.Any(f => f.Name == PoolLs))
        {
            var (la, lsn, lFrom, lTo) = FrontAreas(r.Find(PoolLs).Configurations, sn.Configurations);
            checks.Add(new("Pareto front of the pool with least squares (informational)", double.IsFinite(la) && la >= lsn,
                double.IsFinite(la) ? $"over {lFrom:N0}–{lTo:N0} parameters: pool-ls {la * 100:F2}%, SN-Net {lsn * 100:F2}%" : "no common range"));
        }
        checks.Add(new("storage", pool.StoredParameters < sn.StoredParameters,
            $"stored parameters: pool {pool.StoredParameters:N0}, SN-Net {sn.StoredParameters:N0} ({(double)sn.StoredParameters / pool.StoredParameters:F1}× the pool's)"));
        if (r.Families.Any(f => f.Name == PoolLs))
        {
            var ls = r.Find(PoolLs);
            double learned = Stitched(pool.Configurations.ToDictionary(c => c.Id, c => c.Accuracy)), least = Stitched(ls.Configurations.ToDictionary(c => c.Id, c => c.Accuracy));
            double learnedInit = Stitched(pool.InitialAccuracy), leastInit = Stitched(ls.InitialAccuracy);
            checks.Add(new("stitch initialization measured", true,
                $"{(learned >= least ? "learned" : "least squares")} wins here: mean accuracy of the pool's stitched configurations after fine-tuning {learned * 100:F2}% learned vs {least * 100:F2}% least squares " +
                $"(right after initialization: {learnedInit * 100:F2}% vs {leastInit * 100:F2}%)"));
        }
        if (r.Preset.Name == "small")
            checks.Add(new("time", r.WallSeconds / 60 <= MinutesFloor, $"the whole run took {r.WallSeconds / 60:F1} min of wall-clock time (floor: {MinutesFloor:F0})"));
        return checks;
    }

    /// <summary>The mean accuracy of the stitched configurations alone (ids with a stitch; keys may carry the
    /// <c>accuracy/</c> prefix of test metrics): the instances alone do not depend on the stitch initialization.</summary>
    static double Stitched(Dictionary<string, double> accuracy) =>
        accuracy.Where(kv => kv.Key.Contains('-')).Select(kv => kv.Value).DefaultIfEmpty(double.NaN).Average();

    /// <summary>The parameter intervals of the common range where a's front is below b's.</summary>
    public static List<(long From, long To)> Below(IReadOnlyList<MeasuredConfig> a, IReadOnlyList<MeasuredConfig> b, long from, long to)
    {
        var (fa, fb) = (BudgetPick.ParetoFront(a), BudgetPick.ParetoFront(b));
        var xs = fa.Concat(fb).Select(c => c.Parameters).Where(p => p > from && p < to).Append(from).Append(to).Distinct().Order().ToArray();
        var below = new List<(long From, long To)>();
        for (int i = 0; i + 1 < xs.Length; i++)
            if (Height(fa, xs[i]) < Height(fb, xs[i]))
            {
                if (below.Count > 0 && below[^1].To == xs[i]) below[^1] = (below[^1].From, xs[i + 1]);
                else below.Add((xs[i], xs[i + 1]));
            }
        return below;
    }

    /// <summary>The mean height of each family's Pareto front (best accuracy at or below a size, a step
    /// function) over the parameter range both cover, on a log axis; NaN when the ranges do not overlap.</summary>
    public static (double A, double B, long From, long To) FrontAreas(IReadOnlyList<MeasuredConfig> a, IReadOnlyList<MeasuredConfig> b)
    {
        long from = Math.Max(a.Min(c => c.Parameters), b.Min(c => c.Parameters));
        long to = Math.Min(a.Max(c => c.Parameters), b.Max(c => c.Parameters));
        if (to <= from) return (double.NaN, double.NaN, from, to);
        return (MeanHeight(BudgetPick.ParetoFront(a), from, to), MeanHeight(BudgetPick.ParetoFront(b), from, to), from, to);
    }

    static double MeanHeight(IReadOnlyList<MeasuredConfig> front, long from, long to)
    {
        // Breakpoints inside the range; the front's height on [x_i, x_{i+1}) is the best config with parameters ≤ x_i.
        var xs = front.Select(c => c.Parameters).Where(p => p > from && p < to).Append(from).Append(to).Distinct().Order().ToArray();
        double area = 0;
        for (int i = 0; i + 1 < xs.Length; i++)
            area += Height(front, xs[i]) * (Math.Log(xs[i + 1]) - Math.Log(xs[i]));
        return area / (Math.Log(to) - Math.Log(from));
    }

    static double Height(IReadOnlyList<MeasuredConfig> front, long x) => front.Where(c => c.Parameters <= x).Select(c => c.Accuracy).DefaultIfEmpty(0).Max();
}
