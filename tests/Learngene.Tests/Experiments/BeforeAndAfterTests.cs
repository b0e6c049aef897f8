using System.Text.Json;
using Learngene.Experiments.Comparison;

namespace Learngene.Tests.Experiments;

/// <summary>The one-training-core refactor changed how the code is shaped, not what it computes: a smoke
/// comparison of every method gives the accuracies, costs and Auto-LG scores the code before it gave
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

        var scoresBefore = fixture.GetProperty("auto_lg_scores").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetDouble()).ToArray());
        if (SameCpuKind(fixture))
        {
            // Bitwise: every epoch's test accuracy of every cell, and Auto-LG's scores.
            foreach (var (name, accuracies) in before) Assert.True(accuracies.SequenceEqual(after[name]), $"{name}: before {string.Join(",", accuracies)}, after {string.Join(",", after[name])}");
            foreach (var (task, scores) in scoresBefore) Assert.Equal(scores, r.InitializerScores["auto-lg"][task]);
        }
        else
        {
            // Another vector unit takes other float paths through libtorch's kernels, so a few hundred
            // smoke-sized steps may differ in the last digits and then in a few test images.
            double meanGap = before.SelectMany(kv => kv.Value.Zip(after[kv.Key], (a, b) => Math.Abs(a - b))).Average();
            Assert.True(meanGap < 0.03, $"mean accuracy difference {meanGap:F4} on a CPU unlike the fixture's");
        }
    }

    /// <summary>The fixture was made on an AVX-512 CPU; bitwise equality is expected on one of that kind.</summary>
    static bool SameCpuKind(JsonElement fixture)
    {
        bool avx512 = File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("flags") && l.Contains(" avx512f"));
        return avx512 == fixture.GetProperty("cpu").GetString()!.Contains("avx512f");
    }
}
