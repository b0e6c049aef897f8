using Learngene.Experiments;
using Learngene.Experiments.Comparison;
using Learngene.Reporting;
using Learngene.Statistics;
using Learngene.Training;

namespace Learngene.Tests.Experiments;

/// <summary>The report's verdicts on hand-built results whose answers are known: every cell keeps per-image
/// outcomes on the same 2 000 test images, nested (a more accurate run gets right every image a less accurate
/// one does) unless a case makes them independent.</summary>
public class CompareChecksTests
{
    const int Images = 2000;

    static readonly ComparePreset Preset = new()
    {
        Name = "hand", Source = "src", Transfer = "dst", Depths = [1, 4, 8], Epochs = 2, LongEpochs = 10, FloorEpochs = 5, AuxiliaryDepth = 12,
    };

    /// <summary>Image i is right when its rank is below accuracy × N: ranks 0..N−1 in order (nested runs), or a
    /// seeded shuffle of them (a run whose errors fall independently of the others').</summary>
    static string Outcomes(double accuracy, int? shuffle)
    {
        var rank = Enumerable.Range(0, Images).ToArray();
        if (shuffle is int seed) new Random(seed).Shuffle(rank);
        return Learngene.Statistics.TestOutcomes.Encode(rank.Select(k => k < Math.Round(accuracy * Images)).ToArray());
    }

    static CellResult Cell(string task, string init, int depth, params double[] accuracies) => Shuffled(null, task, init, depth, accuracies);

    static CellResult Shuffled(int? shuffle, string task, string init, int depth, params double[] accuracies) => new()
    {
        Name = CompareExperiment.CellName(task, init, depth, 0), Task = task, Method = init, Depth = depth,
        History = accuracies.Select((a, i) => new EpochMetrics { Epoch = i + 1, Test = new() { ["accuracy"] = a }, Outcomes = new() { ["accuracy"] = Outcomes(a, shuffle) } }).ToList(),
    };

    /// <summary>TLEG and SWS ahead of scratch everywhere, both reaching scratch's 5-epoch accuracy after one
    /// epoch, storing 20× less than pretrain-finetune — unless a case below breaks one of these.</summary>
    static CompareResults Results(Func<CellResult, CellResult>? change = null, long tlegStored = 100)
    {
        var cells = new List<CellResult>();
        foreach (int d in Preset.Depths)
        {
            cells.Add(Cell("source", "scratch", d, 0.50, 0.60));
            cells.Add(Cell("source", "scratch-floor", d, 0.5, 0.6, 0.65, 0.68, 0.70));
            cells.Add(Cell("source", "scratch-long", d, 0.4, 0.5, 0.6, 0.65, 0.68, 0.7, 0.72, 0.74, 0.75, 0.76));
            cells.Add(Cell("source", "tleg", d, 0.71, 0.75));
            cells.Add(Cell("source", "sws", d, 0.72, 0.76));
            cells.Add(Cell("transfer", "scratch", d, 0.40, 0.50));
            cells.Add(Cell("transfer", "tleg", d, 0.50, 0.55));
            cells.Add(Cell("transfer", "sws", d, 0.50, 0.56));
            cells.Add(Cell("transfer", "pretrain-finetune", d, 0.45, 0.52));
        }
        return new CompareResults
        {
            Preset = Preset, Methods = ["tleg", "sws", "scratch", "pretrain-finetune"], Seeds = [0], SourceClasses = 10,
            Cells = cells.Select(change ?? (c => c)).ToList(),
            StoredParameters = new() { ["tleg"] = tlegStored, ["sws"] = 100, ["pretrain-finetune"] = 2000, ["scratch"] = 0 },
        };
    }

    static Check Find(CompareResults r, string name) => CompareChecks.Evaluate(r).Single(c => c.Name == name);

    [Fact]
    public void Results_whose_intervals_clear_every_floor_are_reported_as_met()
    {
        var checks = CompareChecks.Evaluate(Results());
        Assert.All(checks, c => Assert.True(c.Met, c.Text));
        var tleg = Find(Results(), "tleg-beats-scratch-source").Text;
        Assert.Contains("d=4 +15.00 [", tleg); // the estimate and its interval, per depth
        Assert.Contains("— met", tleg);
        Assert.Contains("20.0× fewer — met", Find(Results(), "sws-storage").Text);
        Assert.Contains("vs scratch after 5 epochs", Find(Results(), "sws-or-tleg-one-epoch").Text); // the dedicated 5-epoch run, not the long curve
    }

    [Fact]
    public void A_learngene_behind_another_initialization_on_the_transfer_task_misses_the_papers_claim()
    {
        var r = Results(c => c is { Task: "transfer", Method: "pretrain-finetune" } ? Cell("transfer", "pretrain-finetune", c.Depth, 0.5, 0.555) : c);
        var tleg = Find(r, "tleg-beats-initializers-transfer (paper)");
        Assert.Equal(Verdict.Missed, tleg.Verdict);
        Assert.Matches(@"pretrain-finetune -0\.50 \[[^]]*\] MISSED", tleg.Text);
        Assert.True(Find(r, "sws-beats-initializers-transfer (paper)").Met); // SWS's 56% stays ahead of 55.5%
        Assert.True(Find(r, "tleg-beats-scratch-transfer").Met); // the floor against scratch is another claim
    }

    [Fact]
    public void A_learngene_whose_interval_lies_below_scratch_at_one_depth_misses_the_source_floor()
    {
        var r = Results(c => c is { Task: "source", Method: "tleg", Depth: 4 } ? Cell("source", "tleg", 4, 0.71, 0.59) : c);
        var check = Find(r, "tleg-beats-scratch-source");
        Assert.Equal(Verdict.Missed, check.Verdict);
        Assert.Contains("d=4 -1.00 [", check.Text);
        Assert.True(Find(r, "sws-beats-scratch-source").Met);
    }

    [Fact]
    public void A_gain_within_the_noise_of_independent_errors_is_inconclusive_not_met()
    {
        // Half a point ahead, but with errors on other images than scratch's: 2 000 images cannot resolve it.
        var r = Results(c => c is { Task: "source", Method: "tleg", Depth: 4 } ? Shuffled(7, "source", "tleg", 4, 0.71, 0.605) : c);
        var check = Find(r, "tleg-beats-scratch-source");
        Assert.Equal(Verdict.Inconclusive, check.Verdict);
        Assert.Contains("not resolved at this scale", check.Text);
        // The same half point with nested errors is resolved: pairing is what makes the interval narrow.
        var nested = Results(c => c is { Task: "source", Method: "tleg", Depth: 4 } ? Cell("source", "tleg", 4, 0.71, 0.605) : c);
        Assert.Equal(Verdict.Met, Find(nested, "tleg-beats-scratch-source").Verdict);
    }

    [Fact]
    public void A_transfer_loss_on_average_misses_the_transfer_floor()
    {
        var r = Results(c => c is { Task: "transfer", Method: "sws" } ? Cell("transfer", "sws", c.Depth, 0.3, 0.45) : c);
        var check = Find(r, "sws-beats-scratch-transfer");
        Assert.Equal(Verdict.Missed, check.Verdict);
        Assert.Contains("mean over depths: -5.00 [", check.Text);
    }

    [Fact]
    public void The_one_epoch_floor_is_missed_only_where_neither_methods_interval_reaches_scratchs_five_epochs()
    {
        // d=8: both below 0.70 after one epoch; d=4: TLEG below, SWS above.
        var r = Results(c => c switch
        {
            { Task: "source", Method: "tleg", Depth: 8 or 4 } => Cell("source", "tleg", c.Depth, 0.69, 0.75),
            { Task: "source", Method: "sws", Depth: 8 } => Cell("source", "sws", 8, 0.65, 0.76),
            _ => c,
        });
        var floor = Find(r, "sws-or-tleg-one-epoch");
        Assert.Equal(Verdict.Missed, floor.Verdict);
        Assert.Contains("d=4 met; d=8 MISSED", floor.Text);
        Assert.Equal(Verdict.Missed, Find(r, "tleg-one-epoch (information)").Verdict);
    }

    [Fact]
    public void Storing_less_than_ten_times_fewer_parameters_misses_the_storage_floor()
    {
        var check = Find(Results(tlegStored: 400), "tleg-storage");
        Assert.False(check.Met);
        Assert.Contains("5.0× fewer — MISSED (floor 10×", check.Text);
    }

    [Fact]
    public void Without_a_dedicated_run_the_long_run_is_the_reference_only_when_it_is_that_long()
    {
        var longOnly = Results(c => c.Method == "scratch-floor" ? c with { Method = "dropped" } : c);
        Assert.DoesNotContain(CompareChecks.Evaluate(longOnly), c => c.Name == "sws-or-tleg-one-epoch"); // 10 epochs is not the floor's 5
        var tenIsFloor = longOnly with { Preset = Preset with { FloorEpochs = 10 } };
        var check = Find(tenIsFloor, "sws-or-tleg-one-epoch");
        Assert.Contains("vs scratch after 10 epochs", check.Text);
        Assert.Equal(Verdict.Missed, check.Verdict); // 0.71 / 0.72 after one epoch < 0.76
    }

    [Fact]
    public void A_floor_with_no_depth_to_check_is_not_reported_as_met()
    {
        var shallow = Results() with { Preset = Preset with { Depths = [1] } };
        Assert.DoesNotContain(CompareChecks.Evaluate(shallow), c => c.Name is "tleg-beats-scratch-source" or "sws-or-tleg-one-epoch" or "tleg-one-epoch (information)");
        Assert.Contains(CompareChecks.Evaluate(shallow), c => c.Name == "tleg-storage");
    }

    [Fact]
    public void Results_without_per_image_outcomes_decide_nothing()
    {
        var old = Results(c => c with { History = c.History.Select(h => h with { Outcomes = null }).ToList() });
        Assert.All(CompareChecks.Evaluate(old).Where(c => !c.Name.EndsWith("storage")), c => Assert.Equal(Verdict.Inconclusive, c.Verdict));
    }

    [Fact]
    public void The_small_presets_time_floor_is_wall_clock_time()
    {
        var small = Results() with { Preset = Preset with { Name = "small" }, Methods = CompareExperiment.AllMethods, WallSeconds = 5500, ComputeSeconds = 5200 };
        var check = Find(small, "small-time");
        Assert.False(check.Met);
        Assert.Contains("took 91.7 min of wall-clock time (86.7 min inside its cells) — MISSED", check.Text);
    }

    [Fact]
    public void Scratch_needs_the_interpolated_epochs_of_its_long_curve_to_reach_an_accuracy()
    {
        double[] curve = [0.4, 0.5, 0.6, 0.65, 0.68, 0.7, 0.72, 0.74, 0.75, 0.76];
        Assert.Equal(3.0, TrainingCost.EpochsToReach(curve, 0.6, 0.1)!.Value, 9);
        Assert.Equal(6.5, TrainingCost.EpochsToReach(curve, 0.71, 0.1)!.Value, 9);
        Assert.Equal(0.5, TrainingCost.EpochsToReach(curve, 0.25, 0.1)!.Value, 9); // between chance and epoch 1
        Assert.Null(TrainingCost.EpochsToReach(curve, 0.8, 0.1));
        Assert.Equal("6.4 ep (3.2×)", TrainingCost.Describe(6.4, 2, 10));
        Assert.Equal("> 10 ep (> 10.0×)", TrainingCost.Describe(null, 1, 10));
    }
}
