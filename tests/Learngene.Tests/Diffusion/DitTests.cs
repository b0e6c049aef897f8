using Learngene.Diffusion;
using Learngene.Metrics;
using Learngene.Models;
using Learngene.Models.Layers;
using Learngene.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Diffusion;

/// <summary>DiT as a network: DiT's names, its initialization, its shapes.</summary>
public class DitTests
{
    static readonly DitConfig Small = new() { Width = 32, Depth = 2, Heads = 2, PatchSize = 4, ImageSize = 28, Channels = 1, Classes = 10 };

    [Fact]
    public void Guidance_is_refused_for_a_model_without_a_null_class_and_a_learned_variance_samples_with_its_mean()
    {
        using var scope = torch.NewDisposeScope();
        var config = new DitConfig { Width = 16, Depth = 1, Heads = 2, PatchSize = 7, ImageSize = 28, Channels = 1, Classes = 3, ClassDropout = 0 };
        using var plain = new DiffusionTransformer(config);
        var recipe = new SamplingRecipe(Steps: 2, Guidance: 4);
        Assert.Throws<LearngeneException>(() => ClassSamples.Draw(plain, new NoiseSchedule(), Prediction.Velocity, [0, 1], 1, recipe, 0));
        var (images, _) = ClassSamples.Draw(plain, new NoiseSchedule(), Prediction.Velocity, [0, 1], 1, recipe with { Guidance = 1 }, 0);
        Assert.Equal([2L, 1, 28, 28], images.shape);
        using var sigma = new DiffusionTransformer(config with { ClassDropout = 0.1, LearnSigma = true });
        var (withSigma, _) = ClassSamples.Draw(sigma, new NoiseSchedule(), Prediction.Velocity, [2], 2, recipe, 0);
        Assert.Equal([2L, 1, 28, 28], withSigma.shape);
    }

    [Fact]
    public void The_blocks_gelu_is_the_tanh_approximation()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.linspace(-6, 6, 1001, dtype: float64);
        var formula = 0.5 * x * (1 + torch.tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x.pow(3))));
        Assert.True(Learngene.Models.Layers.DitBlock.GeluTanh(x).allclose(formula, rtol: 0, atol: 1e-12));
    }

    [Fact]
    public void A_fresh_adaln_zero_block_is_the_identity_and_a_fresh_dit_outputs_zeros_of_the_images_shape()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(0);
        using var block = new DitBlock(32, 2, 4);
        block.ZeroModulation();
        var x = torch.randn(3, 49, 32);
        Assert.True(block.forward(x, torch.randn(3, 32), null).allclose(x));
        using var dit = new DiffusionTransformer(Small);
        var output = dit.forward(torch.randn(3, 1, 28, 28), torch.tensor(new long[] { 0, 500, 999 }), torch.tensor(new long[] { 0, 1, 10 }));
        Assert.Equal([3L, 1, 28, 28], output.shape);
        Assert.Equal(0, output.abs().max().item<float>());
    }

    [Fact]
    public void The_tensor_names_are_facebookresearch_dits()
    {
        using var dit = new DiffusionTransformer(Small with { Depth = 1 });
        var names = dit.state_dict().Keys.Order(StringComparer.Ordinal).ToArray();
        string[] expected =
        [
            "blocks.0.adaLN_modulation.1.bias", "blocks.0.adaLN_modulation.1.weight", "blocks.0.attn.proj.bias", "blocks.0.attn.proj.weight",
            "blocks.0.attn.qkv.bias", "blocks.0.attn.qkv.weight", "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc2.bias", "blocks.0.mlp.fc2.weight",
            "final_layer.adaLN_modulation.1.bias", "final_layer.adaLN_modulation.1.weight", "final_layer.linear.bias", "final_layer.linear.weight",
            "pos_embed", "t_embedder.mlp.0.bias", "t_embedder.mlp.0.weight", "t_embedder.mlp.2.bias", "t_embedder.mlp.2.weight",
            "x_embedder.proj.bias", "x_embedder.proj.weight", "y_embedder.embedding_table.weight",
        ];
        Assert.Equal(expected, names);
        Assert.Equal([11L, 32], dit.state_dict()["y_embedder.embedding_table.weight"].shape); // ten classes and the null class
        Assert.DoesNotContain(dit.named_parameters(), p => p.name == "pos_embed"); // fixed, never trained
    }

    [Fact]
    public void A_dit_config_is_a_model_family_read_back_by_its_tag_and_not_taken_for_a_classifier()
    {
        var config = DitConfig.Paper("S", 2);
        var back = ModelConfig.FromJson(config.ToJson(), "test");
        Assert.Equal(config, back);
        using (var dit = (DiffusionTransformer)ModelFamilies.Registry.Find("dit").Build(Small))
            Assert.True(dit.MacsPerImage() > 0);
        Assert.Contains("not an image classifier", Assert.Throws<LearngeneException>(() => Classifier.Create(Small)).Message);
        Assert.Throws<LearngeneException>(() => (Small with { Width = 33, Heads = 3 }).Validate());
    }

    [Fact]
    public void The_positions_are_maes_sin_cos_table()
    {
        using var scope = torch.NewDisposeScope();
        var table = DiffusionTransformer.SinCos2d(8, 2); // 4 tokens; columns first, then rows
        // Token 1 is row 0, column 1: the first half encodes column 1, the second half row 0.
        Assert.Equal((float)Math.Sin(1), table[1, 0].item<float>(), 6);
        Assert.Equal((float)Math.Cos(1), table[1, 2].item<float>(), 6);
        Assert.Equal(0f, table[1, 4].item<float>(), 6);
        Assert.Equal(1f, table[1, 6].item<float>(), 6);
        Assert.Equal((float)Math.Sin(1), table[2, 4].item<float>(), 6); // token 2: row 1, column 0
    }
}
