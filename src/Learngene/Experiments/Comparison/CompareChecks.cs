using System.Globalization;
using Learngene.Methods;
using Learngene.Reporting;
using Learngene.Statistics;
using static Learngene.Experiments.Comparison.CompareReport;

namespace Learngene.Experiments.Comparison;

/// <summary>The floors of the TLEG and SWS comparison, each decided by a paired-bootstrap interval over the test
/// images and the seeds (a method and scratch share both). Informational lines (one method alone against the
/// one-epoch floor, asked of "SWS or TLEG") are checks too, named so that a reader can tell them apart.</summary>
public static class CompareChecks
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The reference of the one-epoch floor: scratch trained FloorEpochs with its own schedule
    /// (the long run when it is that long); none when the preset sets no such floor.</summary>
    public static (string Init, int Epochs)? FloorReference(CompareResults r) =>
        r.Preset.FloorEpochs <= 0 ? null
        : r.Cells.Any(c => c.Method == Contenders.FloorRun) ? (Contenders.FloorRun, r.Preset.FloorEpochs)
        : r.Preset.LongEpochs == r.Preset.FloorEpochs && r.Cells.Any(c => c.Method == Contenders.LongRun) ? (Contenders.LongRun, r.Preset.LongEpochs) : null;

    /// <summary>Per seed, per test image: a − b after the given epochs (0: the last); null when either side
    /// lacks a seed's run or its per-image outcomes.</summary>
    public static List<double[]>? Gap(CompareResults r, string task, string a, int depth, int epochA, string b, int epochB = 0)
    {
        var (oa, ob) = (Outcomes(r, task, a, depth, epochA), Outcomes(r, task, b, depth, epochB));
        return oa is null || ob is null ? null : oa.Select((x, s) => Bootstrap.Scores(x, ob[s])).ToList();
    }

    /// <summary>The interval of a − b at one depth ("–" intervals when outcomes are missing).</summary>
    public static Interval GapInterval(CompareResults r, string task, string a, int depth, int epochA, string b, int epochB = 0) =>
        Gap(r, task, a, depth, epochA, b, epochB) is { } g ? Bootstrap.Mean(g) : new Interval(double.NaN, double.NaN, double.NaN);

    public static List<Check> Evaluate(CompareResults r)
    {
        var p = r.Preset;
        var checks = new List<Check>();
        const string scratch = Contenders.Reference;
        bool hasScratch = r.Methods.Contains(scratch);
        var learngeneMethods = r.Methods.Where(LearngeneMethods.Registry.Contains).ToArray();
        var deep = p.Depths.Where(d => d >= 2).ToArray();
        var reference = FloorReference(r);
        var span = p.Depths.Where(d => d >= 4).ToArray();
        foreach (var m in learngeneMethods)
        {
            string name = m.ToUpperInvariant();
            if (hasScratch && deep.Length > 0)
            {
                var gaps = deep.Select(d => (d, I: GapInterval(r, "source", m, d, 0, scratch))).ToArray();
                var verdict = Verdicts.All(gaps.Select(g => Verdicts.Decide(g.I, 0)));
                checks.Add(new($"{m}-beats-{scratch}-source", verdict,
                    $"{name} − {scratch} on {p.Source} after E = {p.Epochs} epochs, test accuracy in points: " +
                    string.Join("; ", gaps.Select(g => $"d={g.d} {g.I.Points()}")) + $" — {Word(verdict)} (met: every depth ≥ 2 ahead)."));
                if (p.Transfer != "")
                {
                    var interval = MeanGap(r, "transfer", m, 0, scratch, 0, p.Depths);
                    var v = Verdicts.Decide(interval, 0);
                    checks.Add(new($"{m}-beats-{scratch}-transfer", v,
                        $"{name} − {scratch} on {p.Transfer} (transfer) after E = {p.Epochs} epochs, mean over depths: {interval.Points()} points — {Word(v)}."));
                }
            }
            // The papers' transfer claim: ahead of the other initialization methods (TLEG: +6.87 points on
            // iNat-2019, +7.66 on CIFAR-100), read against every non-learngene method measured on the transfer task.
            var rivals = r.Methods.Where(o => o != scratch && !LearngeneMethods.Registry.Contains(o)).ToArray();
            if (p.Transfer != "" && rivals.Length > 0)
            {
                var gaps = rivals.Select(o => (o, I: MeanGap(r, "transfer", m, 0, o, 0, p.Depths))).ToArray();
                var verdict = Verdicts.All(gaps.Select(g => Verdicts.Decide(g.I, 0)));
                checks.Add(new($"{m}-beats-initializers-transfer (paper)", verdict,
                    $"{name} − each other initialization on {p.Transfer} (transfer) after E = {p.Epochs} epochs, mean over depths, in points: " +
                    string.Join("; ", gaps.Select(g => $"{g.o} {g.I.Points()} {Verdicts.Decide(g.I, 0).Word()}")) + $" — {Word(verdict)} (met when {name} is ahead of every one)."));
            }
            if (reference is var (refInit, refEpochs) && span.Length > 0)
            {
                var gaps = span.Select(d => (d, I: GapInterval(r, "source", m, d, 1, refInit))).ToArray();
                var verdict = Verdicts.All(gaps.Select(g => Verdicts.Decide(g.I, 0)));
                checks.Add(new($"{m}-one-epoch (information)", verdict,
                    $"{name} after 1 epoch − {scratch} after {refEpochs} epochs on {p.Source}, depths ≥ 4: " +
                    string.Join("; ", gaps.Select(g => $"d={g.d} {g.I.Points()}")) + $" — {Word(verdict)}."));
            }
            if (r.StoredParameters.TryGetValue(Contenders.FamilyReference, out long family) && r.StoredParameters.GetValueOrDefault(m) is long stored and > 0)
            {
                double ratio = (double)family / stored;
                checks.Add(new($"{m}-storage", ratio >= 10,
                    $"{name} stores {stored:N0} parameters for depths 1..{p.AuxiliaryDepth}, {Contenders.FamilyReference} {family:N0}: {ratio.ToString("F1", Inv)}× fewer — {(ratio >= 10 ? "met" : "MISSED")} (floor 10×; exact counts)."));
            }
        }
        // The training-cost floor asks for any of the learngene methods ("SWS or TLEG"): a depth
        // counts when one of them reaches the reference.
        var any = learngeneMethods.Order(StringComparer.Ordinal).ToArray();
        if (any.Length >= 2 && reference is var (init, epochs) && span.Length > 0)
        {
            var perDepth = span.Select(d => (d, Verdict: Verdicts.Any(any.Select(m => Verdicts.Decide(GapInterval(r, "source", m, d, 1, init), 0))))).ToArray();
            var verdict = Verdicts.All(perDepth.Select(x => x.Verdict));
            checks.Add(new($"{string.Join("-or-", any)}-one-epoch", verdict,
                $"{string.Join(" or ", any.Select(m => m.ToUpperInvariant()))} after 1 epoch vs {scratch} after {epochs} epochs, depths ≥ 4: " +
                string.Join("; ", perDepth.Select(x => $"d={x.d} {Word(x.Verdict)}")) + $" — {Word(verdict)} (met at a depth when one method's interval is above 0)."));
        }
        if (p.Name == "small" && r.Methods.Length == Contenders.Names.Length && r.WallSeconds > 0)
        {
            double minutes = r.WallSeconds / 60;
            checks.Add(new("small-time", minutes <= 90,
                $"The small comparison (all methods, {r.Seeds.Length} seed{(r.Seeds.Length == 1 ? "" : "s")}) took {minutes.ToString("F1", Inv)} min of wall-clock time ({(r.ComputeSeconds / 60).ToString("F1", Inv)} min inside its cells) — {(minutes <= 90 ? "met" : "MISSED")} (floor 90 min)."));
        }
        return checks;
    }

    /// <summary>The mean over depths of a − b, as one interval (each resample averages the depths' gaps).</summary>
    public static Interval MeanGap(CompareResults r, string task, string a, int epochA, string b, int epochB, IReadOnlyList<int> depths)
    {
        var gaps = depths.Select(d => Gap(r, task, a, d, epochA, b, epochB)).ToList();
        if (gaps.Count == 0 || gaps.Any(g => g is null)) return new Interval(double.NaN, double.NaN, double.NaN);
        var mean = gaps[0]!.Select((_, s) => gaps[0]![s].Select((_, i) => gaps.Average(g => g![s][i])).ToArray()).ToList();
        return Bootstrap.Mean(mean);
    }

    static string Word(Verdict v) => v == Verdict.Inconclusive ? "inconclusive (not resolved at this scale)" : v.Word();
}
