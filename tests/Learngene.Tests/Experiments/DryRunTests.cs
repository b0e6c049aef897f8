using Learngene.Experiments;
using Learngene.Experiments.Planning;
using Learngene.Models;

namespace Learngene.Tests;

/// <summary>A dry run checks a plan before paying for it: every training cell of a preset, the paper's GPU
/// presets too, is built at its full size and trained on stand-in images, on this CPU.</summary>
public class DryRunTests
{
    public static TheoryData<string> Experiments() => [.. ExperimentRegistry.Registry.Names];

    [Theory]
    [MemberData(nameof(Experiments))]
    public void Every_cell_of_a_paper_preset_is_built_at_full_size_and_trains(string name)
    {
        var experiment = ExperimentRegistry.Registry.Find(name);
        Assert.Contains("paper", experiment.Presets.Select(p => p.Name));
        var plan = experiment.Plan("paper");
        var rows = DryRun.Execute(plan);
        // Every planned cell is in exactly one row, and no two rows are the same computation.
        Assert.Equal(plan.Select(c => c.Name).Order(), rows.SelectMany(r => r.Cells).Order());
        Assert.All(rows, r =>
        {
            Assert.True(r.Error is null, $"{r.Cells[0]}: {r.Error}");
            Assert.True(double.IsFinite(r.StepSeconds) && r.StepSeconds > 0, $"{r.Cells[0]}: step time {r.StepSeconds}");
            Assert.InRange(r.TrainedParameters, 1, r.Parameters);
            Assert.True(r.DryBatch <= r.Batch);
        });
        // Full size: a cell built from its spec has about the parameters its planned architecture counts
        // (ModelConfig.Size leaves out norms and biases, and counts an SVD-form DiT's matrices as dense), not a stand-in's.
        foreach (var cell in plan.Where(c => c.Start is null && c.Spec.Method is null && c.Spec.Model is not DitConfig { Linears: not null }))
        {
            var row = rows.Single(r => r.Cells.Contains(cell.Name));
            var shape = DryRun.ShapeOf(cell.Spec);
            double counted = cell.Spec.Model.WithData(shape.ImageSize, shape.Channels, shape.Classes).Size().Parameters;
            Assert.InRange(row.Parameters, 0.95 * counted, 1.05 * counted);
        }
    }

    [Fact]
    public void A_dry_run_reads_no_data_and_writes_nothing()
    {
        string dir = Path.Combine(TestData.TempDir(), "run"), data = TestData.TempDir();
        var (code, output, err) = CliTests.Run("bench", "dit", "--preset", "smoke", "--dry-run", "--out", dir, "--data-dir", data);
        Assert.True(code == 0, err);
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(data));
        Assert.Contains("| judge-mnist (+1) |", output);
        Assert.Contains("| dit-mnist (+1) |", output);
    }

    [Fact]
    public void The_dry_batch_is_at_least_one()
    {
        var (code, _, err) = CliTests.Run("bench", "pool", "--preset", "smoke", "--dry-run", "--dry-batch", "0");
        Assert.Equal(2, code);
        Assert.Contains("dry run's batch must be at least 1", err);
        Assert.DoesNotContain("   at ", err);
    }
}
