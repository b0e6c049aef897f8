using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests;

public class TorchTests
{
    [Fact]
    public void Torch_loads_and_multiplies_matrices()
    {
        var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        var b = torch.tensor(new float[] { 5, 6, 7, 8 }).reshape(2, 2);
        Assert.Equal(new float[] { 19, 22, 43, 50 }, torch.matmul(a, b).data<float>().ToArray());
    }

    [Fact]
    public void Backward_gives_the_analytic_gradient()
    {
        var x = torch.tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        (x * x).sum().backward();
        Assert.Equal(new float[] { 2, 4, 6 }, x.grad!.data<float>().ToArray());
    }
}

public class NativeLibraryTests
{
    /// <summary>The build marks libLibTorchSharp.so's GLIBCXX_3.4.32 requirement weak where the system
    /// libstdc++ lacks that version (Debian 12), so that torch loads without manual steps.</summary>
    [Fact]
    public void The_build_weakens_the_missing_GLIBCXX_requirement()
    {
        string lib = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        string system = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";
        if (!OperatingSystem.IsLinux() || !File.Exists(lib) || !File.Exists(system)) return; // nothing to patch here
        bool systemHasIt = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(system)).Contains("GLIBCXX_3.4.32\0");
        var psi = new System.Diagnostics.ProcessStartInfo("readelf", ["-V", lib]) { RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string line = output.Split('\n').Single(l => l.Contains("Name: GLIBCXX_3.4.32"));
        if (systemHasIt) Assert.DoesNotContain("WEAK", line); // a no-op where the version exists
        else Assert.Contains("WEAK", line);
    }
}
