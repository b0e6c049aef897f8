using Learngene.Data;
using Learngene.Methods;
using Learngene.Methods.Tleg;
using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Methods.Tleg;

/// <summary>TLEG, as docs/methods/tleg.md specifies it.</summary>
public class TlegTests
{
    static readonly VitConfig Arch = new() { Width = 16, Heads = 2, Depth = 12, PatchSize = 7, Classes = 5 };
    static readonly IAuxiliaryMethod Tleg = new TlegMethod();

    /// <summary>An auxiliary model with random (non-initial) values in every tensor, saved as a learngene.</summary>
    static (TlegAuxiliary Aux, LearngeneFile.Loaded Gene) RandomGene(int seed = 0)
    {
        torch.manual_seed(seed);
        var aux = new TlegAuxiliary(Arch);
        using (torch.no_grad())
            foreach (var p in aux.parameters()) p.copy_(torch.randn(p.shape) * 0.1);
        string path = Path.Combine(TestData.TempDir(), "gene.safetensors");
        LearngeneFile.Save(path, Tleg.Extract(aux), new LearngeneInfo { Method = "tleg", Architecture = aux.Architecture, SourceData = "test", ClassNames = ["a", "b", "c", "d", "e"] });
        return (aux, LearngeneFile.Load(path, "tleg"));
    }

    [Fact]
    public void The_coefficient_of_block_i_of_L_is_i_over_L()
    {
        Assert.Equal(0.0, TlegAuxiliary.Coefficient(0, 12));
        Assert.Equal(6.0 / 12, TlegAuxiliary.Coefficient(6, 12));
        Assert.Equal(11.0 / 12, TlegAuxiliary.Coefficient(11, 12)); // the last block never gets 1
        Assert.Equal(2.0 / 3, TlegAuxiliary.Coefficient(2, 3));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(12)]
    public void Expanding_to_depth_L_gives_block_i_the_base_plus_i_over_L_times_the_slope(int depth)
    {
        var (_, gene) = RandomGene();
        var d = Tleg.Build(gene, DescendantSpec.OfDepth(depth), 5).state_dict();
        Assert.Equal(depth, d.Keys.Count(k => k.EndsWith(".attn.qkv.weight")));
        for (int i = 0; i < depth; i++)
            foreach (var name in Block.TensorNames)
            {
                var expected = gene.Tensors["base." + name] + ((double)i / depth) * gene.Tensors["slope." + name];
                Assert.True(d[$"blocks.{i}.{name}"].SameAs(expected), $"block {i} {name}");
            }
        foreach (var shared in new[] { "patch_embed.proj.weight", "pos_embed", "norm.weight", "head.weight" })
            Assert.True(d[shared].SameAs(gene.Tensors[shared]), shared);
    }

    [Fact]
    public void Expanding_a_TLEG_learngene_to_the_auxiliary_depth_reproduces_the_auxiliary_models_outputs()
    {
        var (aux, gene) = RandomGene();
        var descendant = Tleg.Build(gene, DescendantSpec.OfDepth(Arch.Depth), 5);
        aux.eval(); descendant.eval();
        var x = torch.randn(4, 1, 28, 28);
        using var _ = torch.no_grad();
        Assert.True(aux.forward(x).SameAs(descendant.forward(x)));
    }

    [Fact]
    public void A_new_label_space_gets_a_fresh_head_and_keeps_everything_else()
    {
        var (_, gene) = RandomGene();
        var d = Tleg.Build(gene, DescendantSpec.OfDepth(6), 3).state_dict();
        Assert.Equal([3L, 16], d["head.weight"].shape);
        Assert.True(d["pos_embed"].SameAs(gene.Tensors["pos_embed"]));
    }

    [Fact]
    public void Gradients_reach_both_the_base_and_the_slope()
    {
        torch.manual_seed(1);
        var aux = new TlegAuxiliary(Arch);
        nn.functional.cross_entropy(aux.forward(torch.randn(4, 1, 28, 28)), torch.tensor(new long[] { 0, 1, 2, 3 })).backward();
        var grads = aux.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        foreach (var name in Block.TensorNames)
        {
            Assert.True(grads["base." + name]!.abs().sum().item<float>() > 0, "base." + name);
            Assert.True(grads["slope." + name]!.abs().sum().item<float>() > 0, "slope." + name);
        }
    }

    [Fact]
    public void The_auxiliary_model_starts_with_unit_base_norms_zero_slope_norms_and_small_weights()
    {
        torch.manual_seed(2);
        var p = new TlegAuxiliary(Arch).state_dict();
        Assert.True(p["base.norm1.weight"].SameAs(torch.ones(16)));
        Assert.True(p["slope.norm1.weight"].SameAs(torch.zeros(16)));
        Assert.True(p["slope.norm2.bias"].SameAs(torch.zeros(16)));
        Assert.True(p["slope.mlp.fc1.bias"].SameAs(torch.zeros(64)));
        Assert.InRange(p["slope.attn.qkv.weight"].std().item<float>(), 0.018, 0.022); // timm: N(0, 0.02²), cut only at ±2
        Assert.InRange(p["base.mlp.fc2.weight"].std().item<float>(), 0.018, 0.022);
        Assert.DoesNotContain(p.Keys, k => k == "cls_token"); // average pooling, no class token
    }

    [Fact]
    public void A_learngene_file_round_trips_tensors_and_metadata()
    {
        var (aux, gene) = RandomGene(seed: 4);
        foreach (var (k, v) in aux.state_dict()) Assert.True(gene.Tensors[k].SameAs(v), k);
        Assert.Equal("tleg", gene.Info.Method);
        Assert.Equal(Arch with { Pooling = "avg" }, gene.Info.Architecture);
        Assert.Equal("e", gene.Info.ClassNames[4]);
        Assert.Equal(2 * Block.TensorNames.Length, gene.Tensors.Keys.Count(k => k.StartsWith("base.") || k.StartsWith("slope.")));
    }

    [Fact]
    public void A_truncated_learngene_file_is_refused_clearly()
    {
        var (_, gene) = RandomGene();
        var bytes = File.ReadAllBytes(gene.Path);
        File.WriteAllBytes(gene.Path, bytes[..(bytes.Length / 2)]);
        Assert.Contains("truncated", Assert.Throws<LearngeneException>(() => LearngeneFile.Load(gene.Path)).Message);
    }

    [Fact]
    public void A_learngene_of_another_method_or_a_model_file_is_refused_clearly()
    {
        var (aux, gene) = RandomGene();
        string other = Path.Combine(TestData.TempDir(), "sws.safetensors");
        LearngeneFile.Save(other, Tleg.Extract(aux), new LearngeneInfo { Method = "sws", Architecture = aux.Architecture });
        Assert.Contains("'sws' learngene, not a 'tleg'", Assert.Throws<LearngeneException>(() => LearngeneFile.Load(other, "tleg")).Message);
        string model = Path.Combine(TestData.TempDir(), "model.safetensors");
        Learngene.IO.ModelFile.Save(model, Classifier.Create(Arch), new Normalization([0f], [1f]), ["a", "b", "c", "d", "e"]);
        Assert.Contains("not a learngene file", Assert.Throws<LearngeneException>(() => LearngeneFile.Load(model)).Message);
    }

    [Fact]
    public void A_learngene_missing_a_tensor_is_refused_clearly()
    {
        var (aux, _) = RandomGene();
        var tensors = Tleg.Extract(aux);
        tensors.Remove("slope.mlp.fc1.weight");
        string path = Path.Combine(TestData.TempDir(), "partial.safetensors");
        LearngeneFile.Save(path, tensors, new LearngeneInfo { Method = "tleg", Architecture = aux.Architecture });
        var e = Assert.Throws<LearngeneException>(() => Tleg.Build(LearngeneFile.Load(path), DescendantSpec.OfDepth(4), 5));
        Assert.Contains("slope.mlp.fc1.weight", e.Message);
    }
}
