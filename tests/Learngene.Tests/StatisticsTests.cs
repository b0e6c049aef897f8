using CsCheck;
using Learngene.Data;
using Learngene.Experiments.Dit;
using Learngene.Models;
using Learngene.Statistics;
using Learngene.Training;
using TorchSharp;

namespace Learngene.Tests;

/// <summary>How a verdict is decided: intervals from a paired bootstrap, read against a floor.</summary>
public class StatisticsTests
{
    [Fact]
    public void An_interval_wholly_above_the_floor_is_met_wholly_below_missed_and_across_it_inconclusive()
    {
        Assert.Equal(Verdict.Met, Verdicts.Decide(new Interval(0.02, 0.01, 0.03), 0));
        Assert.Equal(Verdict.Missed, Verdicts.Decide(new Interval(-0.02, -0.03, -0.01), 0));
        Assert.Equal(Verdict.Inconclusive, Verdicts.Decide(new Interval(0.02, -0.01, 0.05), 0));
        Assert.Equal(Verdict.Inconclusive, Verdicts.Decide(new Interval(0.5, 0.0, 1.0), 0)); // touching the floor does not clear it
        // A floor other than zero, and "lower is better" (a cost, a distance).
        Assert.Equal(Verdict.Missed, Verdicts.Decide(new Interval(1.5, 1.2, 1.8), 2.0));
        Assert.Equal(Verdict.Met, Verdicts.Decide(new Interval(1.5, 1.2, 1.8), 2.0, higherIsBetter: false));
        Assert.Equal(Verdict.Inconclusive, Verdicts.Decide(new Interval(1.5, double.NaN, double.NaN), 0));
        // An infinite bound (scratch never reaching a method within its curve) still decides.
        Assert.Equal(Verdict.Met, Verdicts.Decide(new Interval(double.PositiveInfinity, 3, double.PositiveInfinity), 2));
    }

    [Fact]
    public void A_claim_over_parts_is_met_only_when_every_part_is_and_missed_when_any_part_is()
    {
        Assert.Equal(Verdict.Met, Verdicts.All([Verdict.Met, Verdict.Met]));
        Assert.Equal(Verdict.Inconclusive, Verdicts.All([Verdict.Met, Verdict.Inconclusive]));
        Assert.Equal(Verdict.Missed, Verdicts.All([Verdict.Met, Verdict.Inconclusive, Verdict.Missed]));
        Assert.Equal(Verdict.Inconclusive, Verdicts.All([]));
        Assert.Equal(Verdict.Met, Verdicts.Any([Verdict.Missed, Verdict.Met]));
        Assert.Equal(Verdict.Inconclusive, Verdicts.Any([Verdict.Missed, Verdict.Inconclusive]));
        Assert.Equal(Verdict.Missed, Verdicts.Any([Verdict.Missed, Verdict.Missed]));
    }

    static bool[] Bernoulli(int n, double p, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.NextDouble() < p).ToArray();
    }

    [Fact]
    public void The_interval_of_an_accuracy_has_the_binomial_width_and_covers_the_truth_about_95_times_in_100()
    {
        // 2 000 images at 80%: the interval's half-width is about 1.96·sqrt(0.8·0.2/2000) = 1.75 points.
        var one = Bootstrap.Accuracy([Bernoulli(2000, 0.8, 1)]);
        Assert.InRange((one.High - one.Low) / 2, 0.014, 0.021);
        Assert.True(one.Low < one.Estimate && one.Estimate < one.High);
        int covered = Enumerable.Range(0, 100).Count(s => Bootstrap.Accuracy([Bernoulli(1000, 0.7, 100 + s)], resamples: 400) is var i && i.Low <= 0.7 && 0.7 <= i.High);
        Assert.InRange(covered, 85, 100); // 95 expected; 85 is more than four standard deviations below
        // The same data give the same interval: the resamples follow a fixed seed.
        Assert.Equal(one, Bootstrap.Accuracy([Bernoulli(2000, 0.8, 1)]));
    }

    [Fact]
    public void Pairing_narrows_the_interval_of_a_difference_and_resampling_seeds_widens_it_when_seeds_disagree()
    {
        var a = Bernoulli(2000, 0.8, 2);
        // b errs where a does and on 2% more: paired, the difference is known to a fraction of a point.
        var rng = new Random(3);
        var b = a.Select(x => x && rng.NextDouble() > 0.025).ToArray();
        var paired = Bootstrap.Difference([a], [b]);
        var independent = Bootstrap.Difference([a], [Bernoulli(2000, 0.78, 4)]);
        Assert.True(paired.High - paired.Low < (independent.High - independent.Low) / 2, $"{paired} vs {independent}");
        Assert.Equal(Verdict.Met, Verdicts.Decide(paired, 0));
        // Three seeds that disagree by several points: the seed resampling shows in the width.
        var seeds = new[] { 0.70, 0.80, 0.90 }.Select((p, s) => Bernoulli(2000, p, 10 + s)).ToList();
        var agreeing = Enumerable.Range(0, 3).Select(s => Bernoulli(2000, 0.80, 20 + s)).ToList();
        var wide = Bootstrap.Accuracy(seeds);
        var narrow = Bootstrap.Accuracy(agreeing);
        Assert.True(wide.High - wide.Low > 3 * (narrow.High - narrow.Low), $"{wide} vs {narrow}");
    }

    [Fact]
    public void Runs_tested_on_different_images_cannot_be_paired()
    {
        var e = Assert.Throws<LearngeneException>(() => Bootstrap.Difference([new bool[10]], [new bool[12]]));
        Assert.Contains("different images", e.Message);
        Assert.Contains("same seeds", Assert.Throws<LearngeneException>(() => Bootstrap.Difference([new bool[10]], [new bool[10], new bool[10]])).Message);
    }

    [Fact]
    public void Per_image_outcomes_survive_their_encoding_and_a_damaged_one_is_refused()
    {
        Gen.Bool.Array[0, 3000].Sample(bits => Assert.Equal(bits, TestOutcomes.Decode(TestOutcomes.Encode(bits))));
        Assert.Contains("damaged", Assert.Throws<LearngeneException>(() => TestOutcomes.Decode("not base64!")).Message);
        string valid = TestOutcomes.Encode(new bool[20]);
        Assert.Contains("damaged", Assert.Throws<LearngeneException>(() => TestOutcomes.Decode(valid[..^4])).Message);
    }

    [Fact]
    public void Training_keeps_each_test_images_outcome_per_epoch_and_its_predicted_class_in_the_run_folder()
    {
        string dir = TestData.TempDir();
        torch.manual_seed(0);
        using var model = Classifier.Create(new VitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, Classes = 4 });
        var data = new DataSplits(TestData.Synthetic(256, seed: 1), TestData.Synthetic(64, seed: 2));
        var history = new Trainer(new TrainOptions { Epochs = 2, BatchSize = 32, LearningRate = 3e-3 }) { RunDir = dir }.FitClassifier(model, data, Normalization.Of(data.Train));
        foreach (var m in history)
        {
            var correct = m.Correct()!;
            Assert.Equal(64, correct.Length);
            Assert.Equal(m.TestAccuracy, correct.Average(b => b ? 1.0 : 0.0), 9);
            var (labels, predicted) = PredictionsFile.Read(dir, m.Epoch);
            Assert.Equal(data.Test.Labels.data<long>().Select(l => (int)l), labels);
            Assert.Equal(correct, predicted.Select((p, i) => p == labels[i]));
        }
    }
    [Fact]
    public void A_share_of_draws_has_a_wilson_interval_that_covers_the_true_share_about_95_times_in_100()
    {
        // Known values (Brown, Cai and DasGupta 2001, and by hand): 8 of 10 → [0.490, 0.943]; 0 of 20 → [0, 0.161].
        var eight = Binomial.Wilson(0.8, 10);
        Assert.Equal((0.490, 0.943), (Math.Round(eight.Low, 3), Math.Round(eight.High, 3)));
        var none = Binomial.Wilson(0, 20);
        Assert.Equal((0.0, 0.161), (Math.Round(none.Low, 6), Math.Round(none.High, 3)));
        Assert.True(double.IsNaN(Binomial.Wilson(0.5, 0).Low));
        // Coverage over many draws of a known share.
        var rng = new Random(3);
        int covered = 0, trials = 4000, n = 50;
        for (int t = 0; t < trials; t++)
        {
            int hits = Enumerable.Range(0, n).Count(_ => rng.NextDouble() < 0.9);
            var i = Binomial.Wilson(hits / (double)n, n);
            if (i.Low <= 0.9 && 0.9 <= i.High) covered++;
        }
        Assert.InRange(covered / (double)trials, 0.92, 0.98);
    }

    [Fact]
    public void Accuracy_on_samples_is_met_missed_or_inconclusive_from_its_intervals()
    {
        static Learngene.Experiments.Dit.SampleScores Scores(int perClass, params double[] shares) => new()
        {
            SamplesPerClass = perClass, ClassAccuracy = shares.Select((a, k) => (k, a)).ToDictionary(x => $"c{x.k}", x => x.a),
        };
        // 200 a class at 96-99% clears 80% on average and 50% for every class; at 40% a class misses 50%; 4 a class decide nothing.
        Assert.Equal(Verdict.Met, Learngene.Experiments.Dit.DitChecks.SampleAccuracy(Scores(200, 0.99, 0.97, 0.96), "x", 0.8, 0.5).Verdict);
        Assert.Equal(Verdict.Missed, Learngene.Experiments.Dit.DitChecks.SampleAccuracy(Scores(200, 0.99, 0.97, 0.40), "x", 0.8, 0.5).Verdict);
        Assert.Equal(Verdict.Inconclusive, Learngene.Experiments.Dit.DitChecks.SampleAccuracy(Scores(4, 1.0, 0.75, 0.75), "x", 0.8, 0.5).Verdict);
    }

    [Fact]
    public void A_centred_percentile_interval_keeps_the_resamples_spread_around_the_estimate()
    {
        // Resampled Fréchet distances sit above the estimate (repeats raise them): centring puts their median on it.
        var sorted = Enumerable.Range(0, 1001).Select(i => 5.0 + i / 1000.0).ToArray(); // 5.0 … 6.0, median 5.5
        var plain = Bootstrap.Percentile(4.0, sorted);
        var centred = Bootstrap.Percentile(4.0, sorted, centred: true);
        Assert.True(plain.Low > plain.Estimate); // the estimate outside its own plain interval
        Assert.Equal(plain.High - plain.Low, centred.High - centred.Low, 12);
        Assert.Equal(4.0 - 0.475, centred.Low, 9);
        Assert.Equal(4.0 + 0.475, centred.High, 9);
    }
}
