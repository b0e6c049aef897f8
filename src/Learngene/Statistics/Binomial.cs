namespace Learngene.Statistics;

/// <summary>Intervals for a share of independent draws (samples a judge labels as their class): Wilson's score
/// interval, which stays inside [0, 1] and keeps its coverage near 0 and 1 where the normal one does not
/// (Wilson 1927; Brown, Cai and DasGupta 2001 recommend it for small counts).</summary>
public static class Binomial
{
    /// <summary>The 95% normal quantile.</summary>
    const double Z = 1.959963984540054;

    /// <summary>The share <paramref name="share"/> of <paramref name="draws"/> draws with its 95% Wilson interval.</summary>
    public static Interval Wilson(double share, int draws)
    {
        if (draws < 1 || !double.IsFinite(share)) return new Interval(share, double.NaN, double.NaN);
        double p = Math.Clamp(share, 0, 1), z2 = Z * Z, n = draws;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = Z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return new Interval(share, Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}
