using Learngene.Data;
using Learngene.Interop;
using Learngene.IO;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Interop;

/// <summary>A Learngene ViT is a timm VisionTransformer: the same names, shapes and maths, both ways.</summary>
public class TimmTests
{
    static readonly VitConfig Small = new() { Width = 32, Depth = 2, Heads = 2, PatchSize = 7, Classes = 10, ImageSize = 28, Channels = 1 };
    static readonly Normalization Norm = new([0.3f], [0.2f]);

    /// <summary>The state dict timm's VisionTransformer has for these arguments, written from timm's
    /// constructor: the class token and positions, patch_embed.proj, blocks' norm1/attn/norm2/mlp, the final
    /// norm as `norm` or (fc_norm) `fc_norm`, and the head.</summary>
    static Dictionary<string, long[]> TimmNames(int dim, int depth, int hidden, int patch, int chans, int tokens, int classes, bool classToken, bool fcNorm)
    {
        var names = new Dictionary<string, long[]>
        {
            ["pos_embed"] = [1, tokens + (classToken ? 1 : 0), dim],
            ["patch_embed.proj.weight"] = [dim, chans, patch, patch], ["patch_embed.proj.bias"] = [dim],
            [(fcNorm ? "fc_norm" : "norm") + ".weight"] = [dim], [(fcNorm ? "fc_norm" : "norm") + ".bias"] = [dim],
            ["head.weight"] = [classes, dim], ["head.bias"] = [classes],
        };
        if (classToken) names["cls_token"] = [1, 1, dim];
        for (int i = 0; i < depth; i++)
        {
            string p = $"blocks.{i}.";
            names[p + "norm1.weight"] = [dim]; names[p + "norm1.bias"] = [dim];
            names[p + "attn.qkv.weight"] = [3 * dim, dim]; names[p + "attn.qkv.bias"] = [3 * dim];
            names[p + "attn.proj.weight"] = [dim, dim]; names[p + "attn.proj.bias"] = [dim];
            names[p + "norm2.weight"] = [dim]; names[p + "norm2.bias"] = [dim];
            names[p + "mlp.fc1.weight"] = [hidden, dim]; names[p + "mlp.fc1.bias"] = [hidden];
            names[p + "mlp.fc2.weight"] = [dim, hidden]; names[p + "mlp.fc2.bias"] = [dim];
        }
        return names;
    }

    [Theory]
    [InlineData("cls", false)]
    [InlineData("avg", false)]
    [InlineData("avg", true)]
    public void Exported_names_and_shapes_are_exactly_timms(string pooling, bool fcNorm)
    {
        var config = Small with { Pooling = pooling, FcNorm = fcNorm };
        using var model = new VisionTransformer(config);
        string path = Path.Combine(TestData.TempDir(), "timm.safetensors");
        TimmVit.Export(path, model, Norm, Enumerable.Range(0, 10).Select(k => $"c{k}").ToArray());
        var (tensors, meta) = SafeTensors.Load(path);
        var expected = TimmNames(32, 2, 128, 7, 1, 16, 10, pooling == "cls", fcNorm);
        Assert.Equal(expected.Keys.Order(), tensors.Keys.Order());
        foreach (var (name, shape) in expected) Assert.Equal(shape, tensors[name].shape);
        Assert.Contains("\"global_pool\":\"" + (pooling == "cls" ? "token" : "avg") + "\"", meta[TimmVit.ArgsKey]);
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void Export_then_import_gives_the_same_logits_bitwise()
    {
        using var model = new VisionTransformer(Small);
        string dir = TestData.TempDir();
        TimmVit.Export(Path.Combine(dir, "timm.safetensors"), model, Norm, Enumerable.Range(0, 10).Select(k => $"c{k}").ToArray());
        var back = TimmVit.Import(Path.Combine(dir, "timm.safetensors"), null);
        using var imported = back.Model;
        Assert.True(imported.Config.SameArchitecture(Small));
        Assert.Equal(Norm.Mean, back.Normalization.Mean);
        Assert.Equal("c3", back.ClassNames[3]);
        using var x = torch.rand(4, 1, 28, 28, generator: new Generator(1));
        model.eval(); imported.eval();
        using var _ = torch.no_grad();
        Assert.True(model.forward(x).equal(imported.forward(x)).all().item<bool>());
    }

    [Theory]
    [InlineData("timm-vit-token")]
    [InlineData("timm-vit-avg")]
    public void A_state_dict_written_by_PyTorch_imports_and_reproduces_its_logits(string name)
    {
        // Written by bench/pytorch/interop.py (PyTorch 1.13, timm's VisionTransformer written out there): the
        // stored fixtures, and in CI also files the installed PyTorch has just written.
        foreach (var dir in PyTorchFixtures.Folders) Check(dir, name);
    }

    static void Check(string dir, string name)
    {
        var loaded = TimmVit.Import(Path.Combine(dir, name + ".safetensors"), null);
        using var model = loaded.Model;
        var (io, _) = SafeTensors.Load(Path.Combine(dir, name + ".io.safetensors"));
        model.eval();
        using var _ = torch.no_grad();
        double diff = (model.forward(io["input"]) - io["output"]).abs().max().item<float>();
        Assert.True(diff <= 1e-4, $"max abs difference {diff}");
        if (name == "timm-vit-avg") Assert.True(((VitConfig)model.Config).FcNorm); // timm's default with average pooling
    }

    [Fact]
    public void Import_takes_the_heads_from_config_and_refuses_timm_features_it_lacks()
    {
        using var model = new VisionTransformer(Small);
        string dir = TestData.TempDir(), path = Path.Combine(dir, "plain.safetensors");
        SafeTensors.Save(path, ModelFile.StateDict(model)); // as a peer writes it: no metadata at all
        var e = Assert.Throws<LearngeneException>(() => TimmVit.Import(path, null));
        Assert.Contains("num_heads", e.Message);
        var loaded = TimmVit.Import(path, "{\"num_heads\": 2}");
        Assert.Equal(2, ((VitConfig)loaded.Model.Config).Heads);
        Assert.Equal([0.5f], loaded.Normalization.Mean); // one channel: timm's [-1, 1] default
        loaded.Model.Dispose();
        e = Assert.Throws<LearngeneException>(() => TimmVit.Import(path, "{\"num_heads\": 2, \"depth\": 12}"));
        Assert.Contains("depth", e.Message);

        var state = ModelFile.StateDict(model);
        state["blocks.0.ls1.gamma"] = torch.ones(32);
        SafeTensors.Save(path, state);
        e = Assert.Throws<LearngeneException>(() => TimmVit.Import(path, "{\"num_heads\": 2}"));
        Assert.Contains("blocks.0.ls1.gamma", e.Message);

        state.Remove("blocks.0.ls1.gamma");
        state["patch_embed.proj.weight"] = torch.zeros(32); // a shape of the wrong rank: one line, no crash
        SafeTensors.Save(path, state);
        e = Assert.Throws<LearngeneException>(() => TimmVit.Import(path, "{\"num_heads\": 2}"));
        Assert.Contains("patch_embed.proj.weight", e.Message);
    }

    [Fact]
    public void Cli_export_import_and_eval_agree()
    {
        using var model = new VisionTransformer(Small);
        string dir = TestData.TempDir(), file = Path.Combine(dir, "model.safetensors");
        ModelFile.Save(file, model, Norm, Enumerable.Range(0, 10).Select(k => $"c{k}").ToArray());
        var (code, output, err) = CliTests.Run("export", file, "--format", "timm", "--out", Path.Combine(dir, "timm.safetensors"));
        Assert.True(code == 0, err);
        Assert.Contains("VisionTransformer(**", output);
        (code, _, err) = CliTests.Run("import", Path.Combine(dir, "timm.safetensors"), "--format", "timm", "--out", Path.Combine(dir, "back.safetensors"));
        Assert.True(code == 0, err);
        var back = ModelFile.Load(Path.Combine(dir, "back.safetensors"));
        using var imported = back.Model;
        using var x = torch.rand(2, 1, 28, 28);
        model.eval(); imported.eval();
        using (torch.no_grad()) Assert.True(model.forward(x).equal(imported.forward(x)).all().item<bool>());
        (code, _, err) = CliTests.Run("import", Path.Combine(dir, "timm.safetensors"), "--format", "timm", "--config", "{\"num_heads\": 5}", "--out", Path.Combine(dir, "bad.safetensors"));
        Assert.NotEqual(0, code);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
