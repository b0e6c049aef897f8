using Learngene.Data;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Stitching;
using TorchSharp;

namespace Learngene.Tests.Methods.Pool;

/// <summary><c>learngene pool list|export</c>, and <c>expand</c> and <c>inspect</c> on a pool file, as a user runs them.</summary>
public class PoolCliTests
{
    [Fact]
    public void Pool_list_prints_every_configuration_and_export_writes_a_model_eval_reads()
    {
        using var scope = torch.NewDisposeScope();
        string dir = TestData.TempDir();
        string path = PoolTests.SavedPool(dir, out var pool);
        int count = pool.Configurations.Count;
        pool.Dispose();
        var (code, output, err) = CliTests.Run("pool", "list", path, "--json");
        Assert.True(code == 0, err);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal(count, json.RootElement.GetProperty("configurations").GetArrayLength());
        (code, output, err) = CliTests.Run("pool", "list", path, "--budget-params", "100000");
        Assert.True(code == 0, err);
        Assert.Contains("← pick", output);
        Assert.Contains("m0-b0-m1-b1", output);
        string exported = Path.Combine(dir, "m1.safetensors");
        (code, output, err) = CliTests.Run("pool", "export", path, "--config", "m1-b1-m2-b1", "--out", exported);
        Assert.True(code == 0, err);
        (code, output, err) = CliTests.Run("inspect", exported);
        Assert.True(code == 0, err);
        Assert.Contains("stitched", output);
        // expand and inspect reach a pool file through the method contract, as they reach TLEG's.
        string expanded = Path.Combine(dir, "expanded");
        (code, output, err) = CliTests.Run("expand", path, "--config", "m1-b1-m2-b1", "--out", expanded);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(expanded, "m1-b1-m2-b1.safetensors")), output);
        (code, output, err) = CliTests.Run("expand", path, "--budget-params", "100000", "--out", expanded);
        Assert.True(code == 0, err);
        Assert.Contains("1 configuration exported", output);
        (code, _, err) = CliTests.Run("expand", path, "--depths", "2", "--out", expanded);
        Assert.Equal(2, code);
        Assert.Contains("--depths does not apply to a pool learngene", err);
        (code, output, err) = CliTests.Run("inspect", path);
        Assert.True(code == 0, err);
        Assert.Contains($"{count} configurations", output);
        (code, _, err) = CliTests.Run("pool", "export", path, "--config", "nope", "--out", exported);
        Assert.Equal(2, code);
        Assert.Contains("no configuration 'nope'", err);
        (code, _, err) = CliTests.Run("pool", "export", path, "--budget-macs", "5", "--out", exported);
        Assert.Equal(2, code);
        Assert.Contains("no configuration fits", err);
        (code, _, err) = CliTests.Run("pool", "list", exported);
        Assert.Equal(2, code);
        Assert.Contains("not a learngene file", err);
        (code, _, err) = CliTests.Run("bench", "pool", "--preset", "smoke", "--families", "pool-learned,nope", "--out", Path.Combine(dir, "b"));
        Assert.Equal(2, code);
        Assert.Contains("unknown stitched family 'nope'", err);
        (code, _, err) = CliTests.Run("learn", "pool", "--preset", "smoke", "--widths", "8,x", "--out", Path.Combine(dir, "c"));
        Assert.Equal(2, code);
        Assert.Contains("widths '8,x'", err);
        (code, _, err) = CliTests.Run("learn", "pool", "--preset", "smoke", "--teacher", exported, "--out", Path.Combine(dir, "d"));
        Assert.Equal(2, code);
        Assert.Contains("ViT teacher", err);
    }
}
