using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests;

public class ModelTests
{
    [Theory]
    [InlineData("cls")]
    [InlineData("avg")]
    public void Vit_maps_images_to_logits(string pooling)
    {
        var m = Classifier.Create(new ModelConfig { Width = 32, Depth = 2, Heads = 4, PatchSize = 7, Pooling = pooling, Classes = 5 });
        Assert.Equal([3L, 5], m.forward(torch.randn(3, 1, 28, 28)).shape);
    }

    [Fact]
    public void Vit_parameter_names_follow_timm()
    {
        var m = Classifier.Create(new ModelConfig { Width = 32, Depth = 2, Heads = 2 });
        var names = m.state_dict().Keys.ToHashSet();
        foreach (var n in new[] { "cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.1.attn.qkv.weight", "blocks.0.mlp.fc2.bias", "norm.weight", "head.weight" })
            Assert.Contains(n, names);
    }

    [Fact]
    public void Deit_tiny_has_the_published_size()
    {
        var m = Classifier.Create(ModelPresets.Find("deit-ti").Config);
        Assert.InRange(m.ParameterCount(), 5_700_000, 5_730_000);     // DeiT-Ti: 5.7 M parameters
        Assert.InRange(m.MacsPerImage() / 1e9, 1.2, 1.3);            // and 1.3 G "FLOPs" (MACs)
    }

    [Fact]
    public void Parameter_count_matches_the_formula()
    {
        var c = new ModelConfig { Width = 16, Depth = 3, Heads = 2, PatchSize = 7, MlpRatio = 2, Classes = 10, Pooling = "avg" };
        long d = 16, h = 32, perBlock = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * h + h) + (h * d + d);
        long expected = (49 * d + d) + 16 * d + 3 * perBlock + 2 * d + (d * 10 + 10);
        Assert.Equal(expected, Classifier.Create(c).ParameterCount());
    }

    [Fact]
    public void Weights_start_as_truncated_normal_with_std_0_02()
    {
        var w = Classifier.Create(ModelPresets.Find("vit-cpu").Config).state_dict()["blocks.0.mlp.fc1.weight"];
        Assert.InRange(w.std().item<float>(), 0.015, 0.02);
        Assert.True(w.abs().max().item<float>() <= 0.04f + 1e-6);
    }

    [Fact]
    public void Resnet_teacher_maps_images_to_logits()
    {
        var m = Classifier.Create(ModelPresets.Find("resnet-smoke").Config with { Classes = 7, Channels = 3, ImageSize = 32 });
        Assert.Equal([2L, 7], m.forward(torch.randn(2, 3, 32, 32)).shape);
        Assert.True(m.MacsPerImage() > 0);
    }

    [Theory]
    [InlineData(5, 96, 3, 12, "patch size 5 does not divide the image size 28")]
    [InlineData(7, 96, 5, 12, "heads (5) must divide the width (96)")]
    [InlineData(7, 0, 3, 12, "width must be at least 1")]
    [InlineData(7, 96, 3, 0, "depth must be at least 1")]
    public void Invalid_architectures_are_named(int patch, int width, int heads, int depth, string message)
    {
        var e = Assert.Throws<LearngeneException>(() => Classifier.Create(new ModelConfig { PatchSize = patch, Width = width, Heads = heads, Depth = depth }));
        Assert.Contains(message, e.Message);
    }
}

public class ConvolutionTests
{
    /// <summary>libtorch 2.10's float32 CPU conv returns wrong input gradients for padded 3×3 kernels on
    /// this machine; the ResNet's convolutions must agree with a float64 reference.</summary>
    [Theory]
    [InlineData(8, 1, 1)]
    [InlineData(1, 1, 1)]
    [InlineData(8, 2, 1)]
    [InlineData(3, 2, 0)]
    [InlineData(8, 2, -1)]
    public void Safe_convolution_matches_a_float64_reference_in_value_and_both_gradients(int inChannels, int stride, int padding)
    {
        torch.manual_seed(0);
        int kernel = padding < 0 ? 1 : 3;
        padding = Math.Max(0, padding);
        var conv = new Learngene.Models.Layers.SafeConv2d(inChannels, 8, kernel, stride, padding);
        using (torch.no_grad()) conv.Weight.normal_(0, 0.1);
        var x = torch.randn(4, inChannels, 12, 12).requires_grad_(true);
        var y = conv.forward(x);
        var g = torch.randn(y.shape);
        var ours = torch.autograd.grad([y], [x, conv.Weight], [g]);
        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var w64 = conv.Weight.detach().to_type(ScalarType.Float64).requires_grad_(true);
        var y64 = nn.functional.conv2d(x64, w64, strides: [stride, stride], padding: [padding, padding]);
        var reference = torch.autograd.grad([y64], [x64, w64], [g.to_type(ScalarType.Float64)]);
        Assert.True(y.to_type(ScalarType.Float64).allclose(y64, 1e-4, 1e-5));
        Assert.True(ours[0].to_type(ScalarType.Float64).allclose(reference[0], 1e-4, 1e-5), "input gradient");
        Assert.True(ours[1].to_type(ScalarType.Float64).allclose(reference[1], 1e-4, 1e-5), "weight gradient");
    }
}
