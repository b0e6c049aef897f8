using Learngene.Data;
using Learngene.Experiments;
using Learngene.Experiments.Dit;
using Learngene.IO;
using Learngene.Metrics;
using Learngene.Statistics;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Methods.Kind;

/// <summary>One method on one task over its transfer seeds: FD-clf of its samples from every seed taken as one
/// set (bootstrap over the samples), the test denoising loss as the mean over seeds (bootstrap over seeds, then
/// test images), and the judge's accuracy on samples (mean over seeds).</summary>
public sealed record MethodSummary
{
    public string Method { get; init; } = "";
    public int Seeds { get; init; }
    public long TrainableParameters { get; init; }
    public Interval FdClf { get; init; } = new(double.NaN, double.NaN, double.NaN);
    public Interval TestLoss { get; init; } = new(double.NaN, double.NaN, double.NaN);
    public double MeanAccuracy { get; init; }
    public double MinAccuracy { get; init; }
}

/// <summary>A KIND variant against another method on one task: the differences KIND − rival (below zero: KIND
/// better) of FD-clf (each method's pooled samples resampled on its own) and of the test loss (paired over the
/// seeds both ran and the test images, which meet one t and noise per image in every model).</summary>
public sealed record PairedComparison
{
    public string Method { get; init; } = "";
    public string Rival { get; init; } = "";
    public int Seeds { get; init; }
    public long MethodTrainable { get; init; }
    public long RivalTrainable { get; init; }
    public Interval FdClfDifference { get; init; } = new(double.NaN, double.NaN, double.NaN);
    public Interval LossDifference { get; init; } = new(double.NaN, double.NaN, double.NaN);
}

/// <summary>A task's summaries and comparisons with the runs (their evidence files) they were computed from.</summary>
public sealed record TaskComparisons(string[] Runs, List<MethodSummary> Summaries, List<PairedComparison> Comparisons, double RealReference);

public static class KindComparisons
{
    /// <summary>The KIND variants compared with every other method (and with each other).</summary>
    public static readonly string[] Variants = ["kind", "kind-null", "kind-nogate"];

    /// <summary>Summaries of every method and the comparisons of each KIND variant, read from the runs' evidence
    /// files (<paramref name="resolve"/> turns their run-folder paths into file paths) and the task's test images
    /// judged by <paramref name="judgePath"/>.</summary>
    public static (List<MethodSummary> Summaries, List<PairedComparison> Comparisons, double RealReference) Of(IReadOnlyList<TransferResult> runs, Func<string, string> resolve, string judgePath,
        ImageDataset train, ImageDataset test)
    {
        var judge = ModelFile.Load(judgePath);
        using var judgeModel = judge.Model;
        using var scope = torch.NewDisposeScope();
        var quality = new GenerationQuality(judge.Model, judge.Normalization);
        using var reference = new FrechetDistance.Reference(quality.Features(GenerationQuality.Pixels(test)));
        var byMethod = runs.GroupBy(r => r.Method).ToDictionary(g => g.Key, g => g.OrderBy(r => r.SeedIndex).ToList());
        var evidence = byMethod.ToDictionary(kv => kv.Key, kv => kv.Value.Select(r => JudgedSamples.LoadEvidence(resolve(r.Evidence))).ToList());
        // A method's samples over all its seeds, as one set.
        var pooled = evidence.ToDictionary(kv => kv.Key, kv => torch.cat(kv.Value.Select(r => r.Features).ToList(), 0));
        var summaries = byMethod.Select(kv =>
        {
            var e = evidence[kv.Key];
            return new MethodSummary
            {
                Method = kv.Key, Seeds = e.Count, TrainableParameters = kv.Value[0].TrainableParameters,
                FdClf = Bootstrap.EstimateMany(1, (int)pooled[kv.Key].shape[0], d => [FrechetDistance.Against(reference, pooled[kv.Key], d.Counts)], DitExperiment.FdResamples, centred: true)[0],
                TestLoss = Bootstrap.Mean(e.Select(x => x.TestLosses).ToList()),
                MeanAccuracy = kv.Value.Average(r => r.Final.MeanAccuracy), MinAccuracy = kv.Value.Average(r => r.Final.MinAccuracy),
            };
        }).ToList();
        var comparisons = new List<PairedComparison>();
        foreach (var method in Variants.Where(byMethod.ContainsKey))
            foreach (var rival in byMethod.Keys.Where(r => r != method && (!Variants.Contains(r) || Array.IndexOf(Variants, r) < Array.IndexOf(Variants, method))))
            {
                var (a, b) = (evidence[method], evidence[rival]);
                int seeds = Math.Min(a.Count, b.Count);
                comparisons.Add(new PairedComparison
                {
                    Method = method, Rival = rival, Seeds = seeds,
                    MethodTrainable = byMethod[method][0].TrainableParameters, RivalTrainable = byMethod[rival][0].TrainableParameters,
                    FdClfDifference = FdDifference(reference, pooled[method], pooled[rival]),
                    LossDifference = Bootstrap.Mean(Enumerable.Range(0, seeds).Select(s => Difference(a[s].TestLosses, b[s].TestLosses)).ToList()),
                });
            }
        // What a perfect generator scores at the pooled sample count: as many real training images.
        double real = quality.References(train, reference, (int)pooled.Values.First().shape[0], DitExperiment.LossSeed).TrainVsTest;
        foreach (var e in evidence.Values.SelectMany(x => x)) e.Features.Dispose();
        foreach (var t in pooled.Values) t.Dispose();
        return (summaries, comparisons, real);
    }

    /// <summary>FD-clf(a) − FD-clf(b), each set resampled on its own (their samples need not pair), one interval
    /// (centred: <see cref="Bootstrap.Percentile"/>).</summary>
    static Interval FdDifference(FrechetDistance.Reference reference, Tensor a, Tensor b)
    {
        var rng = new Random(4242);
        double estimate = FrechetDistance.Against(reference, a) - FrechetDistance.Against(reference, b);
        var values = new double[DitExperiment.FdResamples];
        for (int r = 0; r < values.Length; r++) values[r] = FrechetDistance.Against(reference, a, Resample(rng, (int)a.shape[0])) - FrechetDistance.Against(reference, b, Resample(rng, (int)b.shape[0]));
        Array.Sort(values);
        return Bootstrap.Percentile(estimate, values, centred: true);
    }

    static ushort[] Resample(Random rng, int n)
    {
        var counts = new ushort[n];
        for (int i = 0; i < n; i++) counts[rng.Next(n)]++;
        return counts;
    }

    static double[] Difference(double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new LearngeneException($"test losses over {a.Length} and {b.Length} images cannot be paired: were the runs tested on different images?");
        return a.Select((v, i) => v - b[i]).ToArray();
    }
}
