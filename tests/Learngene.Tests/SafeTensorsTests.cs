using Learngene.IO;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Learngene.Tests;

public class SafeTensorsTests
{
    [Fact]
    public void Round_trip_keeps_tensors_and_metadata()
    {
        string path = Path.Combine(TestData.TempDir(), "a.safetensors");
        var tensors = new Dictionary<string, Tensor> { ["w"] = torch.randn(3, 4), ["i"] = torch.arange(5), ["b"] = torch.tensor(new byte[] { 1, 2 }) };
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "x", ["note"] = "ünïcode" });
        var (back, meta) = SafeTensors.Load(path);
        foreach (var (k, v) in tensors) Assert.True(v.SameAs(back[k]), k);
        Assert.Equal("ünïcode", meta["note"]);
        Assert.Equal("x", SafeTensors.ReadMetadata(path)["format"]);
    }

    [Fact]
    public void Files_interoperate_with_TorchSharp_PyBridge()
    {
        string dir = TestData.TempDir();
        var linear = nn.Linear(4, 3);
        // Ours → PyBridge
        SafeTensors.Save(Path.Combine(dir, "ours.safetensors"), linear.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value));
        var other = nn.Linear(4, 3);
        other.load_safetensors(Path.Combine(dir, "ours.safetensors"));
        Assert.True(linear.weight!.SameAs(other.weight!));
        // PyBridge → ours
        var third = nn.Linear(4, 3);
        third.save_safetensors(Path.Combine(dir, "theirs.safetensors"));
        var (back, _) = SafeTensors.Load(Path.Combine(dir, "theirs.safetensors"));
        Assert.True(third.bias!.SameAs(back["bias"]));
    }

    [Fact]
    public void Truncated_file_gives_a_clear_error()
    {
        string path = Path.Combine(TestData.TempDir(), "t.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = torch.randn(100) });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
        Assert.Contains("truncated", e.Message);
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
    }

    [Fact]
    public void Garbage_is_not_taken_for_safetensors()
    {
        string path = Path.Combine(TestData.TempDir(), "g.safetensors");
        File.WriteAllText(path, "this is not a model file at all, just some text");
        Assert.Throws<LearngeneException>(() => SafeTensors.Load(path));
    }
}
