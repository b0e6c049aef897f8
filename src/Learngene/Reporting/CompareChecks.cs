using System.Globalization;
using Learngene.Experiments.Comparison;
using Learngene.Genes;
using static Learngene.Reporting.CompareReport;

namespace Learngene.Reporting;

/// <summary>One floor of an issue, checked on a comparison's results.</summary>
public sealed record Check(string Name, bool Met, string Text);

/// <summary>The floors of the TLEG and SWS issues, each stated with its numbers. Informational lines
/// (one method alone against the one-epoch floor, which the issue asks of "SWS or TLEG") are checks too,
/// named so that a reader can tell them apart.</summary>
public static class CompareChecks
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The reference of the one-epoch floor: scratch trained FloorEpochs with its own schedule
    /// (the long run when it is that long); none when the preset sets no such floor.</summary>
    public static (string Init, int Epochs)? FloorReference(CompareResults r) =>
        r.Preset.FloorEpochs <= 0 ? null
        : r.Cells.Any(c => c.Init == Contenders.FloorRun) ? (Contenders.FloorRun, r.Preset.FloorEpochs)
        : r.Preset.LongEpochs == r.Preset.FloorEpochs && r.Cells.Any(c => c.Init == Contenders.LongRun) ? (Contenders.LongRun, r.Preset.LongEpochs) : null;

    public static List<Check> Evaluate(CompareResults r)
    {
        var p = r.Preset;
        var checks = new List<Check>();
        const string scratch = Contenders.Reference;
        bool hasScratch = r.Methods.Contains(scratch);
        var learngeneMethods = r.Methods.Where(Methods.Registry.Contains).ToArray();
        var deep = p.Depths.Where(d => d >= 2).ToArray();
        var reference = FloorReference(r);
        var span = p.Depths.Where(d => d >= 4).ToArray();
        foreach (var m in learngeneMethods)
        {
            string name = m.ToUpperInvariant();
            if (hasScratch && deep.Length > 0)
            {
                var gaps = deep.Select(d => (d, Gap: Mean(Accuracies(r, "source", m, d)) - Mean(Accuracies(r, "source", scratch, d)))).ToArray();
                var behind = gaps.Where(g => !(g.Gap >= 0)).Select(g => $"d={g.d} ({Pts(g.Gap)})").ToArray();
                checks.Add(new($"{m}-beats-{scratch}-source", behind.Length == 0,
                    $"{name} vs {scratch} on {p.Source} after E = {p.Epochs} epochs, depths ≥ 2: ahead or equal at {gaps.Length - behind.Length} of {gaps.Length} depths, " +
                    $"mean gain {Pts(gaps.Select(g => g.Gap).DefaultIfEmpty(double.NaN).Average())} points — {(behind.Length == 0 ? "met" : "MISSED at " + string.Join(", ", behind))}."));
                if (p.Transfer != "")
                {
                    double gain = p.Depths.Select(d => Mean(Accuracies(r, "transfer", m, d)) - Mean(Accuracies(r, "transfer", scratch, d))).Average();
                    checks.Add(new($"{m}-beats-{scratch}-transfer", gain > 0,
                        $"{name} vs {scratch} on {p.Transfer} (transfer) after E = {p.Epochs} epochs: mean gain {Pts(gain)} points — {(gain > 0 ? "met" : "MISSED")}."));
                }
            }
            if (reference is var (refInit, refEpochs) && span.Length > 0)
            {
                var gaps = span.Select(d => (d, Gap: Mean(Accuracies(r, "source", m, d, 1)) - Mean(Accuracies(r, "source", refInit, d)))).ToArray();
                var behind = gaps.Where(g => !(g.Gap >= 0)).Select(g => $"d={g.d} ({Pts(g.Gap)})").ToArray();
                checks.Add(new($"{m}-one-epoch (information)", behind.Length == 0,
                    $"{name} after 1 epoch vs {scratch} after {refEpochs} epochs on {p.Source}, depths ≥ 4: reached at {gaps.Length - behind.Length} of {gaps.Length} depths, " +
                    $"mean difference {Pts(gaps.Select(g => g.Gap).DefaultIfEmpty(double.NaN).Average())} points — {(behind.Length == 0 ? "reached" : "not reached at " + string.Join(", ", behind))}."));
            }
            if (r.StoredParameters.TryGetValue(Contenders.FamilyReference, out long family) && r.StoredParameters.GetValueOrDefault(m) is long stored and > 0)
            {
                double ratio = (double)family / stored;
                checks.Add(new($"{m}-storage", ratio >= 10,
                    $"{name} stores {stored:N0} parameters for depths 1..{p.AuxiliaryDepth}, {Contenders.FamilyReference} {family:N0}: {ratio.ToString("F1", Inv)}× fewer — {(ratio >= 10 ? "met" : "MISSED")} (floor 10×)."));
            }
        }
        // The training-cost floor asks for any of the learngene methods (the issue: "SWS or TLEG"): a depth
        // counts when one of them reaches the reference.
        var any = learngeneMethods.Order(StringComparer.Ordinal).ToArray();
        if (any.Length >= 2 && reference is var (init, epochs) && span.Length > 0)
        {
            var missed = span.Where(d => any.All(m => !(Mean(Accuracies(r, "source", m, d, 1)) >= Mean(Accuracies(r, "source", init, d))))).ToArray();
            checks.Add(new($"{string.Join("-or-", any)}-one-epoch", missed.Length == 0,
                $"{string.Join(" or ", any.Select(m => m.ToUpperInvariant()))} after 1 epoch vs {scratch} after {epochs} epochs, depths ≥ 4: reached at {span.Length - missed.Length} of {span.Length} depths — " +
                $"{(missed.Length == 0 ? "met" : "MISSED at " + string.Join(", ", missed.Select(d => $"d={d}")))}."));
        }
        if (p.Name == "small" && r.Seeds.Length == 1 && r.Methods.Length == Contenders.Names.Length && r.WallSeconds > 0)
        {
            double minutes = r.WallSeconds / 60;
            checks.Add(new("small-time", minutes <= 60,
                $"The small comparison (all methods, one seed) took {minutes.ToString("F1", Inv)} min of wall-clock time ({(r.ComputeSeconds / 60).ToString("F1", Inv)} min inside its cells) — {(minutes <= 60 ? "met" : "MISSED")} (floor 60 min)."));
        }
        return checks;
    }

    static string Pts(double v) => double.IsNaN(v) ? "–" : (v * 100).ToString("+0.00;-0.00", Inv);
}
