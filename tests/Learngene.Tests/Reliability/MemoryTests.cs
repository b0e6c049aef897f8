using System.Text.Json;

namespace Learngene.Tests.Reliability;

/// <summary>Resident memory stays flat after the first epochs: every step's tensors are freed on the training
/// thread (dispose scopes), so a long run does not grow. Measured in the CLI's own process (metrics.jsonl's
/// resident_mb per epoch), apart from the tests' shared process.</summary>
[Collection("processes")]
public class MemoryTests
{
    static double[] Resident(string runDir) =>
        File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("resident_mb").GetDouble()).ToArray();

    [Theory]
    [InlineData("train", "fashion-mnist")]
    [InlineData("diffusion", "mnist")]
    public void Resident_memory_is_flat_over_many_epochs(string kind, string data)
    {
        string dir = TestData.TempDir();
        string[] args = kind == "train" ? ["train"] : ["diffusion", "train"];
        var (code, _, err) = CliTests.Run([.. args, "--preset", "smoke", "--data", data, "--epochs", "14", "--out", Path.Combine(dir, "run")], dir);
        Assert.True(code == 0, err);
        var rss = Resident(Path.Combine(dir, "run"));
        Assert.Equal(14, rss.Length);
        // After the allocator settles (epoch 4), no more than 24 MiB of growth over ten more epochs
        // (measured here: under 6 MiB); a per-step leak of one batch would add hundreds.
        var settled = rss[3..];
        Assert.True(settled.Max() - settled[0] < 24, $"resident MiB per epoch: {string.Join(", ", rss.Select(r => r.ToString("F0")))}");
    }

    [Fact]
    public void A_comparison_reports_its_peak_memory_and_stays_within_bounds()
    {
        // The smoke comparison (a teacher, two learngenes, descendants): measured 649 MiB at its peak here;
        // quickstart, the same runner at a larger budget, peaks at 1.81 GiB (README). 1 GiB catches a leak.
        string dir = TestData.TempDir();
        var (code, output, err) = CliTests.Run(["bench", "compare", "--preset", "smoke", "--depths", "2", "--out", Path.Combine(dir, "run")], dir);
        Assert.True(code == 0, err);
        var match = System.Text.RegularExpressions.Regex.Match(output, @"peak resident memory (\d+) MiB");
        Assert.True(match.Success, output);
        Assert.InRange(int.Parse(match.Groups[1].Value), 100, 1024);
    }
}
