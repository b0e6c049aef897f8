using Learngene.Reporting;

namespace Learngene.Experiments.Comparison;

/// <summary>The training-cost factor (docs/methods/costs.md) ("epochs to reach a given accuracy, versus scratch"):
/// how many epochs scratch needs, on its long learning curve, to reach an accuracy a method reached
/// after k epochs; the factor is that number over k (the papers: about 2× for TLEG, 6.6× for SWS).</summary>
public static class TrainingCost
{
    /// <summary>Epochs scratch needs to reach <paramref name="target"/>, read off <paramref name="curve"/>
    /// (test accuracy after epochs 1..L) by linear interpolation between epochs, the curve starting at
    /// chance level before training; the first crossing counts. Null when the curve never gets there
    /// ("> L").</summary>
    public static double? EpochsToReach(IReadOnlyList<double> curve, double target, double chance)
    {
        if (double.IsNaN(target)) return null;
        if (target <= chance) return 0;
        double prevEpoch = 0, prevAcc = chance;
        for (int e = 1; e <= curve.Count; e++)
        {
            double acc = curve[e - 1];
            if (acc >= target)
                return acc == prevAcc ? e : prevEpoch + (target - prevAcc) / (acc - prevAcc) * (e - prevEpoch);
            (prevEpoch, prevAcc) = (e, acc);
        }
        return null;
    }

    /// <summary>"4.2 ep (4.2×)" or "> 10 ep (> 10×)".</summary>
    public static string Describe(double? epochs, int methodEpochs, int longEpochs)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return epochs is double e
            ? $"{e.ToString("F1", inv)} ep ({(e / methodEpochs).ToString("F1", inv)}×)"
            : $"> {longEpochs} ep (> {((double)longEpochs / methodEpochs).ToString("F1", inv)}×)";
    }
}
