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
        var m = Classifier.Create(new VitConfig { Width = 32, Depth = 2, Heads = 4, PatchSize = 7, Pooling = pooling, Classes = 5 });
        Assert.Equal([3L, 5], m.forward(torch.randn(3, 1, 28, 28)).shape);
    }

    [Fact]
    public void Vit_parameter_names_follow_timm()
    {
        var m = Classifier.Create(new VitConfig { Width = 32, Depth = 2, Heads = 2 });
        var names = m.state_dict().Keys.ToHashSet();
        foreach (var n in new[] { "cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.1.attn.qkv.weight", "blocks.0.mlp.fc2.bias", "norm.weight", "head.weight" })
            Assert.Contains(n, names);
    }

    [Fact]
    public void Deit_tiny_has_the_published_size()
    {
        var m = Classifier.Create(ModelPresets.Registry.Find("deit-ti").Vit);
        Assert.InRange(m.ParameterCount(), 5_700_000, 5_730_000);     // DeiT-Ti: 5.7 M parameters
        Assert.InRange(m.MacsPerImage() / 1e9, 1.2, 1.3);            // and 1.3 G "FLOPs" (MACs)
    }

    [Fact]
    public void Parameter_count_matches_the_formula()
    {
        var c = new VitConfig { Width = 16, Depth = 3, Heads = 2, PatchSize = 7, MlpRatio = 2, Classes = 10, Pooling = "avg" };
        long d = 16, h = 32, perBlock = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * h + h) + (h * d + d);
        long expected = (49 * d + d) + 16 * d + 3 * perBlock + 2 * d + (d * 10 + 10);
        Assert.Equal(expected, Classifier.Create(c).ParameterCount());
    }

    [Fact]
    public void Resnet_teacher_maps_images_to_logits()
    {
        var m = Classifier.Create(ModelPresets.Registry.Find("resnet-smoke").Config with { Classes = 7, Channels = 3, ImageSize = 32 });
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
        var e = Assert.Throws<LearngeneException>(() => Classifier.Create(new VitConfig { PatchSize = patch, Width = width, Heads = heads, Depth = depth }));
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

/// <summary>The ResNet teacher's convolutions at the shapes training and evaluation give them — a full batch, a last
/// batch of 24 (600 images in batches of 64), an evaluation chunk of 100 — agree with float64 in value and both
/// gradients, call after call. libtorch's oneDNN kernels do not at 24 and 100 (`bench conv-stress`): this
/// was the suite's intermittent NaN test loss.</summary>
public class ConvolutionStressTests
{
    [Fact]
    public void The_teachers_convolutions_at_training_and_evaluation_shapes_agree_with_float64_every_time()
    {
        var config = (ResNetConfig)ModelPresets.Registry.Find("resnet-smoke").Config;
        var tallies = Learngene.Bench.ConvStress.Run(Learngene.Bench.ConvStress.SitesOf(config, 28), [64, 24, 100], repeats: 2, libtorchBackward: false, seed: 7);
        var ours = tallies.Where(t => t.Call.StartsWith("SafeConv2d")).ToList();
        Assert.Equal(5 * 3 * 3, ours.Count); // five sites, three batch sizes, value and two gradients
        foreach (var t in ours)
            Assert.True(t.NonFinite == 0 && t.Wrong == 0, $"{t.Site} batch {t.Batch} {t.Call}: {t.NonFinite} non-finite, {t.Wrong} wrong of {t.Calls} (worst relative error {t.WorstRelativeError:E1})");
    }
}

/// <summary>Every kind of model keeps working after <c>Module.to(dtype)</c>, which replaces its parameters.</summary>
public class ModelMoveTests
{
    static Classifier Build(string kind)
    {
        var vit = new VitConfig { Width = 16, Depth = 3, Heads = 2, PatchSize = 7, Classes = 4, Pooling = "avg" };
        return kind switch
        {
            "vit" => Classifier.Create(vit),
            "resnet" => Classifier.Create(ModelPresets.Registry.Find("resnet-smoke").Config with { Classes = 4 }),
            "tleg" => new Learngene.Methods.Tleg.TlegAuxiliary(vit),
            "sws" => new Learngene.Methods.Sws.SwsAuxiliary(vit, [1, 2]),
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [InlineData("vit")]
    [InlineData("resnet")]
    [InlineData("tleg")]
    [InlineData("sws")]
    public void A_model_moved_to_float64_trains_the_tensors_it_now_holds(string kind)
    {
        torch.manual_seed(3);
        using var model = Build(kind);
        model.to(torch.float64);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float64, p.dtype));
        var x = torch.randn(8, 1, 28, 28, dtype: torch.float64);
        var y = torch.tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        model.eval();
        var before = model.forward(x).detach().clone();
        Assert.Equal(ScalarType.Float64, before.dtype);
        using var optimizer = new Learngene.Training.AdamW(model, 0.0);
        model.train();
        var loss = nn.functional.cross_entropy(model.forward(x), y);
        optimizer.ZeroGrad();
        loss.backward();
        Assert.All(optimizer.Parameters, p => Assert.NotNull(p.grad));
        optimizer.Update(1e-2);
        model.eval();
        var after = model.forward(x).detach();
        Assert.True(after.sub(before).abs().max().item<double>() > 1e-4, $"{kind}: the optimizer step did not change the output");
    }
}

/// <summary>Fresh weights as timm's ViT makes them (init_weights_vit_timm).</summary>
public class TimmInitTests
{
    [Fact]
    public void Linear_weights_are_normal_with_std_002_cut_only_at_plus_minus_2_and_biases_zero()
    {
        torch.manual_seed(1);
        using var m = new VisionTransformer(new VitConfig { Width = 192, Depth = 2, Heads = 3, PatchSize = 7, Classes = 10, Pooling = "cls" });
        var s = m.state_dict();
        var w = s["blocks.0.mlp.fc1.weight"];
        Assert.InRange(w.std().item<float>(), 0.0195, 0.0205); // a ±2σ cut would give 0.0176
        double beyond2Sigma = w.abs().gt(0.04).to_type(ScalarType.Float32).mean().item<float>();
        Assert.InRange(beyond2Sigma, 0.04, 0.051);              // N(0, σ²): 4.55% beyond 2σ
        Assert.Equal(0, s["blocks.0.attn.qkv.bias"].abs().max().item<float>());
        Assert.Equal(1, s["blocks.1.norm2.weight"].min().item<float>());
        Assert.InRange(s["pos_embed"].std().item<float>(), 0.018, 0.022);
        Assert.InRange(s["cls_token"].abs().max().item<float>(), 1e-9, 1e-5); // N(0, 1e-6²)
    }

    [Fact]
    public void The_patch_embedding_keeps_pytorchs_default_convolution_init()
    {
        torch.manual_seed(2);
        using var m = new VisionTransformer(new VitConfig { Width = 192, Depth = 1, Heads = 3, PatchSize = 7, Channels = 3, Classes = 10, Pooling = "avg" });
        var w = m.state_dict()["patch_embed.proj.weight"];
        double bound = 1 / Math.Sqrt(3 * 7 * 7); // kaiming_uniform(a=√5): U(−1/√fan_in, 1/√fan_in)
        Assert.True(w.abs().max().item<float>() <= bound + 1e-7);
        Assert.InRange(w.std().item<float>(), 0.95 * bound / Math.Sqrt(3), 1.05 * bound / Math.Sqrt(3));
        Assert.True(m.state_dict()["patch_embed.proj.bias"].abs().max().item<float>() > 0);
    }
}
