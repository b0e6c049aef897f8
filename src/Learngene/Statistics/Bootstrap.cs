namespace Learngene.Statistics;

/// <summary>A statistic with its confidence interval: the estimate on the data as measured and the bounds of
/// the central <see cref="Bootstrap.Level"/> of its bootstrap distribution (percentile method). An estimate or
/// bound may be infinite (a training-cost factor scratch never reaches).</summary>
public sealed record Interval(double Estimate, double Low, double High)
{
    /// <summary>"+1.23 [+0.41, +2.05]" in points (×100), for differences of accuracies.</summary>
    public string Points(string format = "+0.00;-0.00") =>
        $"{Fmt(Estimate * 100, format)} [{Fmt(Low * 100, format)}, {Fmt(High * 100, format)}]";

    /// <summary>"81.23 ± 0.77" in percent: the estimate and the interval's half-width (the larger side).</summary>
    public string PercentPlusMinus() => !double.IsFinite(Estimate) ? "–"
        : $"{Fmt(Estimate * 100, "F2")} ± {Fmt(Math.Max(High - Estimate, Estimate - Low) * 100, "F2")}";

    /// <summary>The plain numbers: "4.2 [3.1, 6.0]".</summary>
    public string Plain(string format = "F2") => $"{Fmt(Estimate, format)} [{Fmt(Low, format)}, {Fmt(High, format)}]";

    static string Fmt(double v, string format) =>
        double.IsNaN(v) ? "–" : double.IsPositiveInfinity(v) ? "∞" : double.IsNegativeInfinity(v) ? "−∞" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>One bootstrap draw: which seeds (indices into each arm's seed list, with repetition) and how many
/// times each test image is drawn. The same draw serves every arm of a comparison, which is what pairs it:
/// the methods are compared on the same resampled images and seeds.</summary>
public sealed class Draw(int[] seeds, ushort[] imageCounts)
{
    public IReadOnlyList<int> Seeds { get; } = seeds;
    public int Images => imageCounts.Length;
    /// <summary>How many times each image (or sample) is drawn.</summary>
    public IReadOnlyList<ushort> Counts => imageCounts;

    /// <summary>The mean of a per-image score (1/0 for right/wrong; a weighted sum of several such) on the drawn images.</summary>
    public double Mean(double[] perImage)
    {
        Check(perImage.Length);
        double sum = 0;
        long total = 0;
        for (int i = 0; i < imageCounts.Length; i++)
        {
            sum += imageCounts[i] * perImage[i];
            total += imageCounts[i];
        }
        return total == 0 ? double.NaN : sum / total;
    }

    /// <summary>Accuracy of one run's per-image outcomes on the drawn images.</summary>
    public double Accuracy(bool[] correct)
    {
        Check(correct.Length);
        long hits = 0, total = 0;
        for (int i = 0; i < imageCounts.Length; i++)
        {
            total += imageCounts[i];
            if (correct[i]) hits += imageCounts[i];
        }
        return total == 0 ? double.NaN : (double)hits / total;
    }

    /// <summary>The mean over the drawn seeds of an arm whose per-image scores are indexed like the seeds.</summary>
    public double MeanOverSeeds(IReadOnlyList<double[]> bySeed) => Seeds.Average(s => Mean(bySeed[s]));

    /// <summary>Mean accuracy over the drawn seeds of an arm whose runs are indexed like the seeds.</summary>
    public double MeanAccuracy(IReadOnlyList<bool[]> bySeed) => Seeds.Average(s => Accuracy(bySeed[s]));

    void Check(int n)
    {
        if (n != imageCounts.Length)
            throw new LearngeneException($"per-image outcomes over {n} images cannot be paired with {imageCounts.Length} test images: were the runs tested on different images?");
    }
}

/// <summary>The paired bootstrap the experiments' verdicts read: resample seeds (when there are several),
/// then test images, recompute the statistics on each resample, and take percentile intervals. Every arm
/// of one comparison shares each resample. Deterministic: the resamples follow a fixed seed, so a report
/// re-rendered from the same results reads the same intervals.</summary>
public static class Bootstrap
{
    public const int Resamples = 2000;
    public const double Level = 0.95;

    /// <summary>How the intervals are made, for reports.</summary>
    public static string Method(int resamples = Resamples) =>
        $"95% percentile intervals from a paired bootstrap ({resamples:N0} resamples: the seeds, then the test images; every method on the same resample)";

    /// <summary>Several statistics on the data as measured and their intervals, all from the same
    /// <paramref name="resamples"/> draws of <paramref name="seeds"/> seeds and <paramref name="images"/> test images.</summary>
    public static Interval[] EstimateMany(int seeds, int images, Func<Draw, double[]> statistics, int resamples = Resamples, int rngSeed = 12345, bool centred = false)
    {
        if (seeds < 1 || images < 1) throw new LearngeneException($"a bootstrap needs at least one seed and one test image (got {seeds} and {images})");
        double[] estimates = statistics(new Draw(Enumerable.Range(0, seeds).ToArray(), Enumerable.Repeat((ushort)1, images).ToArray()));
        var draws = Draws(seeds, images, resamples, rngSeed);
        var values = new double[estimates.Length][];
        for (int k = 0; k < estimates.Length; k++) values[k] = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            var v = statistics(draws[r]);
            for (int k = 0; k < v.Length; k++) values[k][r] = v[k];
        }
        return estimates.Select((e, k) =>
        {
            var sorted = values[k].Where(v => !double.IsNaN(v)).Order().ToArray();
            return sorted.Length == 0 ? new Interval(e, double.NaN, double.NaN) : Percentile(e, sorted, centred);
        }).ToArray();
    }

    /// <summary>The percentile interval of sorted resampled values around <paramref name="estimate"/>; with
    /// <paramref name="centred"/>, shifted so that the resamples' median falls on the estimate. A statistic
    /// biased in the sample size, such as a Fréchet distance, needs that: a resample repeats about a third of its
    /// items, which raises every resampled distance, so the plain interval lies above the estimate.</summary>
    public static Interval Percentile(double estimate, double[] sorted, bool centred = false)
    {
        double tail = (1 - Level) / 2, shift = centred ? estimate - Quantile(sorted, 0.5) : 0;
        return new Interval(estimate, Quantile(sorted, tail) + shift, Quantile(sorted, 1 - tail) + shift);
    }

    /// <summary>The resamples of one shape, made once: every interval of a report reads the same draws
    /// (drawing 10 000 images 2 000 times for each of hundreds of table cells would dominate a report's time).</summary>
    static Draw[] Draws(int seeds, int images, int resamples, int rngSeed)
    {
        lock (cache)
        {
            var key = (seeds, images, resamples, rngSeed);
            if (cache.TryGetValue(key, out var made)) return made;
            if (cache.Count > 8) cache.Clear(); // a few shapes per experiment; bounded memory
            var rng = new Random(rngSeed);
            var draws = new Draw[resamples];
            for (int r = 0; r < resamples; r++)
            {
                var seedPick = new int[seeds];
                for (int s = 0; s < seeds; s++) seedPick[s] = seeds == 1 ? 0 : rng.Next(seeds);
                var counts = new ushort[images];
                for (int i = 0; i < images; i++) counts[rng.Next(images)]++; // at most 65 535 of one image: far beyond any real draw
                draws[r] = new Draw(seedPick, counts);
            }
            return cache[key] = draws;
        }
    }

    static readonly Dictionary<(int, int, int, int), Draw[]> cache = [];

    /// <summary>One statistic and its interval (see <see cref="EstimateMany"/>).</summary>
    public static Interval Estimate(int seeds, int images, Func<Draw, double> statistic, int resamples = Resamples) =>
        EstimateMany(seeds, images, d => [statistic(d)], resamples)[0];

    /// <summary>The mean of per-image scores (one array per seed), with its interval: an accuracy (scores 1/0),
    /// a difference of accuracies (scores 1, 0, −1), any weighted sum of them.</summary>
    public static Interval Mean(IReadOnlyList<double[]> bySeed, int resamples = Resamples) =>
        bySeed.Count == 0 ? new Interval(double.NaN, double.NaN, double.NaN) : Estimate(bySeed.Count, bySeed[0].Length, d => d.MeanOverSeeds(bySeed), resamples);

    /// <summary>The difference of two arms' mean accuracies (a − b), runs indexed by seed in both.</summary>
    public static Interval Difference(IReadOnlyList<bool[]> a, IReadOnlyList<bool[]> b, int resamples = Resamples)
    {
        if (a.Count != b.Count) throw new LearngeneException($"a paired comparison needs the same seeds on both sides (got {a.Count} and {b.Count} runs)");
        return Mean(a.Select((run, s) => Scores(run, b[s])).ToList(), resamples);
    }

    /// <summary>One arm's mean accuracy with its interval.</summary>
    public static Interval Accuracy(IReadOnlyList<bool[]> runs, int resamples = Resamples) => Mean(runs.Select(r => Scores(r)).ToList(), resamples);

    /// <summary>Per-image scores: 1/0 for one run; 1, 0, −1 for the difference of two runs on the same images.</summary>
    public static double[] Scores(bool[] a, bool[]? minus = null)
    {
        if (minus is not null && minus.Length != a.Length)
            throw new LearngeneException($"per-image outcomes over {a.Length} and {minus.Length} images cannot be paired: were the runs tested on different images?");
        var s = new double[a.Length];
        for (int i = 0; i < a.Length; i++) s[i] = (a[i] ? 1 : 0) - (minus is not null && minus[i] ? 1 : 0);
        return s;
    }

    /// <summary>The q-quantile of sorted values, linear between order statistics; infinities kept.</summary>
    public static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = (int)Math.Ceiling(pos);
        if (lo == hi || sorted[lo] == sorted[hi]) return sorted[lo];
        if (double.IsInfinity(sorted[lo]) || double.IsInfinity(sorted[hi])) return sorted[hi];
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
