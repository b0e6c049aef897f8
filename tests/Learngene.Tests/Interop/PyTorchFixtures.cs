namespace Learngene.Tests.Interop;

/// <summary>Where the state dicts written by PyTorch (bench/pytorch/interop.py fixtures) are: the stored ones,
/// and the folder in LEARNGENE_PYTORCH_FIXTURES when set (CI writes fresh ones there with the installed PyTorch).</summary>
static class PyTorchFixtures
{
    public static IEnumerable<string> Folders
    {
        get
        {
            yield return Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch");
            if (Environment.GetEnvironmentVariable("LEARNGENE_PYTORCH_FIXTURES") is { Length: > 0 } fresh)
            {
                Assert.True(File.Exists(Path.Combine(fresh, "dit.safetensors")), $"LEARNGENE_PYTORCH_FIXTURES={fresh} holds no fixtures");
                yield return fresh;
            }
        }
    }
}
