using Learngene.Baselines.Tuning;
using Learngene.Data;
using Learngene.Interop;
using Learngene.IO;
using Learngene.Methods.Kind;
using Learngene.Models;
using Learngene.Models.Linears;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Interop;

/// <summary>A Learngene DiT is facebookresearch/DiT's model: a state dict in DiT's names, adapters merged.</summary>
public class DitNamingTests
{
    static readonly DitConfig Small = new() { ImageSize = 16, Channels = 1, Classes = 3, PatchSize = 4, Width = 32, Depth = 2, Heads = 2 };

    [Fact]
    public void A_DiT_state_dict_written_by_PyTorch_imports_and_reproduces_its_output()
    {
        foreach (var dir in PyTorchFixtures.Folders) Check(dir);
    }

    static void Check(string dir)
    {
        var imported = DitNaming.Import(Path.Combine(dir, "dit.safetensors"), null);
        using var model = imported.Model;
        Assert.True(model.Architecture.LearnSigma);
        Assert.Equal("noise", imported.Prediction); // DiT's target when the file does not say
        var (io, _) = SafeTensors.Load(Path.Combine(dir, "dit.io.safetensors"));
        model.eval();
        using var _ = torch.no_grad();
        double diff = (model.forward(io["input"], io["t"], io["y"]) - io["output"]).abs().max().item<float>();
        Assert.True(diff <= 1e-4, $"max abs difference {diff}");
    }

    [Fact]
    public void A_LoRA_tuned_DiT_exports_as_plain_matrices_with_the_same_output()
    {
        var config = Small with { Linears = new LoraForm { Rank = 4 } };
        using var tuned = new DiffusionTransformer(config);
        using (torch.no_grad())
            foreach (var (name, p) in tuned.named_parameters())
                if (!name.Contains("pos_embed")) p.copy_(torch.randn_like(p) * 0.1); // adapters and modulations non-zero
        string path = Path.Combine(TestData.TempDir(), "dit.safetensors");
        DitNaming.Export(path, tuned, new Normalization([0.5f], [0.5f]), ["a", "b", "c"], new Dictionary<string, string> { ["prediction"] = "velocity" });
        var (tensors, meta) = SafeTensors.Load(path);
        Assert.DoesNotContain(tensors.Keys, k => k.Contains("lora"));
        foreach (var t in tensors.Values) t.Dispose();
        var back = DitNaming.Import(path, null);
        using var plain = back.Model;
        Assert.Null(plain.Architecture.Linears);
        Assert.Equal("velocity", back.Prediction);
        using var x = torch.randn(2, 1, 16, 16);
        using var t2 = torch.tensor(new float[] { 10, 500 });
        using var y = torch.tensor(new long[] { 0, 3 });
        tuned.eval(); plain.eval();
        using var _ = torch.no_grad();
        double diff = (tuned.forward(x, t2, y) - plain.forward(x, t2, y)).abs().max().item<float>();
        Assert.True(diff <= 1e-5, $"max abs difference {diff}");
    }

    [Fact]
    public void A_KIND_model_is_refused_with_a_reason()
    {
        using var kind = new DiffusionTransformer(Small with { Linears = SvdForm.OnePerClass(8, 2, 3) });
        var e = Assert.Throws<LearngeneException>(() => DitNaming.PlainState(kind));
        Assert.Contains("class gate", e.Message);
    }
}
