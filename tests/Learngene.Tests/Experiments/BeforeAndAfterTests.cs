using System.Text.Json;
using Learngene.Experiments.Comparison;

namespace Learngene.Tests.Experiments;

/// <summary>The one-training-core refactor changed how the code is shaped, not what it computes: a smoke
/// comparison of every method gives the costs (exactly: they are counts) and, within a float tolerance that holds
/// on any CPU, the accuracies the code before it gave
/// (Fixtures/smoke-compare-before-core.json, made by <c>learngene bench compare --preset smoke</c> at
/// commit 13497b5; three transfer cells re-made after a deliberate fix, see the fixture's made_by).</summary>
public class BeforeAndAfterTests
{
    static readonly string[] MethodsBefore = ["tleg", "sws", "scratch", "pretrain-finetune", "weight-selection", "heur-lg", "auto-lg", "mimetic"];

    [Fact]
    public void A_smoke_comparison_of_every_method_gives_the_numbers_of_the_code_before_the_refactor()
    {
        var fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "smoke-compare-before-core.json"))).RootElement;
        var r = new CompareExperiment(ComparePreset.Registry.Find("smoke"), MethodsBefore, 1, TestData.TempDir(), TestData.Cache.Value, _ => { }).Run();

        var after = new Dictionary<string, double[]>();
        foreach (var c in new[] { r.Teacher }.Concat(r.Learngenes.Values).Concat(r.Ancestry is null ? [] : [r.Ancestry]).Concat(r.Pretrained.Values).Concat(r.Cells))
            after[c.Name] = c.History.Select(h => h.TestAccuracy).ToArray();
        var before = fixture.GetProperty("test_accuracies").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray());
        Assert.Equal(before.Keys.Order(), after.Keys.Order());

        // Costs are counts: the same on any machine.
        foreach (var (field, values) in new[] { ("stored_parameters", r.StoredParameters.ToDictionary(kv => kv.Key, kv => (double)kv.Value)),
                                               ("pretrain_images", r.PretrainImages.ToDictionary(kv => kv.Key, kv => (double)kv.Value)), ("pretrain_flops", r.PretrainFlops) })
            foreach (var p in fixture.GetProperty(field).EnumerateObject())
                Assert.Equal(p.Value.GetDouble(), values[p.Name]);

        // Accuracies are float results: another CPU (even another AVX-512 one) takes other paths through libtorch's
        // kernels, so a few hundred smoke-sized steps differ in the last digits and then in a few test images. A
        // regression moves them further: a cell trained from the wrong initialization differs by tens of points.
        var gaps = before.ToDictionary(kv => kv.Key, kv => kv.Value.Zip(after[kv.Key], (a, b) => Math.Abs(a - b)).Average());
        Assert.True(gaps.Values.Average() < 0.03, $"mean accuracy difference {gaps.Values.Average():F4} over every cell");
        foreach (var (name, gap) in gaps) Assert.True(gap < 0.12, $"{name}: before {string.Join(",", before[name])}, after {string.Join(",", after[name])}");
    }
}
