using Learngene.Data;
using Learngene.IO;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Stitching;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Stitching;

/// <summary>The stitched ViT (Learngene Pool and SN-Net's variable-sized models) and its least-squares
/// stitch initialization.</summary>
public class StitchTests
{
    static readonly VitConfig Narrow = new() { Width = 16, Heads = 2, Depth = 4, PatchSize = 7, Classes = 5 };
    static readonly VitConfig Wide = Narrow with { Width = 32, Heads = 4 };

    [Fact]
    public void Least_squares_maps_X_to_Y_exactly_when_an_affine_map_does()
    {
        torch.manual_seed(3);
        var x = torch.randn(300, 8, dtype: float64);
        var w = torch.randn(5, 8, dtype: float64);
        var b = torch.randn(5, dtype: float64);
        var y = x.matmul(w.t()) + b;
        var (fw, fb) = LeastSquares.Fit(x, y);
        Assert.True(fw.allclose(w, rtol: 1e-8, atol: 1e-8));
        Assert.True(fb.allclose(b, rtol: 1e-8, atol: 1e-8));
    }

    [Fact]
    public void A_stitched_model_runs_the_front_blocks_the_stitch_then_the_end_blocks()
    {
        torch.manual_seed(1);
        using var front = new VisionTransformer(Narrow);
        using var end = new VisionTransformer(Wide);
        var config = new StitchedVitConfig { Front = Narrow, End = Wide, FrontBlocks = 2, EndStart = 1, Classes = 5 };
        using var stitched = (StitchedVisionTransformer)Classifier.Create(config);
        Assert.Equal(5, config.Depth);
        // Copy: the front's embedding and blocks 0, 1; the end's blocks 1..3, norm and head.
        var s = stitched.state_dict();
        var f = front.state_dict();
        var e = end.state_dict();
        using (torch.no_grad())
        {
            foreach (var n in new[] { "patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token", "pos_embed" }) s[n].copy_(f[n]);
            foreach (var n in Models.Layers.Block.TensorNames)
            {
                for (int i = 0; i < 2; i++) s[$"blocks.{i}.{n}"].copy_(f[$"blocks.{i}.{n}"]);
                for (int i = 1; i < 4; i++) s[$"blocks.{i + 1}.{n}"].copy_(e[$"blocks.{i}.{n}"]);
            }
            foreach (var n in new[] { "norm.weight", "norm.bias", "head.weight", "head.bias" }) s[n].copy_(e[n]);
        }
        var images = torch.randn(3, 1, 28, 28);
        stitched.eval(); front.eval(); end.eval();
        var (_, frontBlocks, _) = front.ForwardFeatures(images);
        var x = s["stitch.weight"].matmul(frontBlocks[1].unsqueeze(-1)).squeeze(-1) + s["stitch.bias"];
        for (int i = 1; i < 4; i++) x = end.Blocks[i].forward(x);
        var expected = end.Head(x);
        Assert.True(stitched.forward(images).allclose(expected, rtol: 1e-4, atol: 1e-5));

        // MACs: the front blocks at the front's width, the stitch, the end blocks at the end's width.
        long tokens = 17;
        long blocks = 2 * Models.Layers.Block.Macs(tokens, 16, 4) + 3 * Models.Layers.Block.Macs(tokens, 32, 4);
        Assert.Equal(16L * 49 * 16 + blocks + tokens * 16 * 32 + 32L * 5, stitched.MacsPerImage());
    }

    [Fact]
    public void A_stitched_model_file_loads_back_through_its_family()
    {
        torch.manual_seed(2);
        var config = new StitchedVitConfig { Front = Narrow, End = Wide, FrontBlocks = 3, EndStart = 3, Classes = 5 };
        using var model = Classifier.Create(config);
        string path = Path.Combine(TestData.TempDir(), "stitched.safetensors");
        ModelFile.Save(path, model, new Normalization([0.5f], [0.25f]), ["a", "b", "c", "d", "e"]);
        var loaded = ModelFile.Load(path);
        using var back = loaded.Model;
        Assert.Equal("stitched-vit", back.Config.Family);
        Assert.Equal(config, back.Config);
        var images = torch.randn(2, 1, 28, 28);
        model.eval(); back.eval();
        Assert.True(model.forward(images).allclose(back.forward(images)));
    }

    [Fact]
    public void A_stitch_between_models_of_different_inputs_is_refused()
    {
        var e = Assert.Throws<LearngeneException>(() => new StitchedVitConfig { Front = Narrow, End = Wide with { PatchSize = 14 }, Classes = 5 }.Validate());
        Assert.Contains("same image size and patch size", e.Message);
    }
}

/// <summary>The sliding-window enumeration of stitch points (our reading of SN-Net and Learngene Pool).</summary>
public class StitchLayoutTests
{
    [Theory]
    [InlineData(6, 16)]
    [InlineData(9, 25)]
    [InlineData(12, 34)]
    public void Two_models_of_depth_d_have_3d_minus_2_stitch_points_sharing_d_minus_1_layers(int depth, int points)
    {
        var p = Learngene.Models.Stitching.StitchLayout.Points(depth);
        Assert.Equal(points, p.Count);
        Assert.Equal(3 * depth - 2, p.Count);
        Assert.All(p, x => Assert.InRange(x.FrontLast - x.EndFirst, -1, 1));
        Assert.Equal(p.Count, p.Select(x => (x.FrontLast, x.EndFirst)).Distinct().Count());
        Assert.Equal(depth - 1, p.Select(x => x.Window).Distinct().Count());
        // The stitched depths are d, d+1 and d+2.
        Assert.Equal([depth, depth + 1, depth + 2], p.Select(x => x.FrontLast + 1 + depth - x.EndFirst).Distinct().Order());
    }

    [Fact]
    public void A_family_lists_every_model_alone_then_every_stitch_point_of_every_pair()
    {
        var configs = Learngene.Models.Stitching.StitchLayout.Enumerate(3, 6, [(0, 1), (1, 2)]);
        Assert.Equal(3 + 2 * 16, configs.Count);
        Assert.Equal(configs.Count, configs.Select(c => c.Id).Distinct().Count());
        Assert.Equal(3, configs.Count(c => c.IsInstance));
        Assert.Equal(2 * 5, configs.Where(c => !c.IsInstance).Select(c => c.StitchLayer).Distinct().Count());
    }
}

/// <summary>A stitch pool: every configuration runs, exports as an ordinary model, and its stitch layers
/// start from least squares.</summary>
public class StitchPoolTests
{
    static StitchPoolConfig Config() => StitchPoolConfig.Neighbours(
        [new VitConfig { Width = 32, Heads = 2, Depth = 3, PatchSize = 7, Classes = 4 }, new VitConfig { Width = 16, Heads = 2, Depth = 3, PatchSize = 7, Classes = 4 }]);

    [Fact]
    public void An_exported_configuration_gives_the_pools_logits_for_it()
    {
        torch.manual_seed(4);
        using var pool = new StitchPool(Config());
        Assert.Equal(16, pool.Models[0].Architecture.Width); // ordered narrow to wide
        Assert.Equal(2 + 7, pool.Configurations.Count);
        var images = torch.randn(2, 1, 28, 28);
        pool.eval();
        foreach (var c in pool.Configurations)
        {
            using var model = pool.Export(c);
            model.eval();
            Assert.True(model.forward(images).allclose(pool.Forward(images, c), rtol: 1e-5, atol: 1e-6), c.Id);
            Assert.Equal(c.Depth, c.IsInstance ? ((VitConfig)model.Config).Depth : ((StitchedVitConfig)model.Config).Depth);
        }
    }

    [Fact]
    public void A_pool_of_timm_models_with_the_norm_after_pooling_exports_configurations_with_their_logits()
    {
        torch.manual_seed(6);
        // As imported timm ViTs with average pooling are: the final norm is fc_norm, on the pooled vector.
        var models = Config().Models.Select(m => m with { Pooling = "avg", FcNorm = true }).ToArray();
        using var pool = new StitchPool(StitchPoolConfig.Neighbours(models));
        using (torch.no_grad())
            foreach (var (_, p) in pool.named_parameters().Where(p => p.name.Contains("fc_norm"))) p.add_(torch.randn_like(p) * 0.3);
        var images = torch.randn(2, 1, 28, 28);
        pool.eval();
        foreach (var c in pool.Configurations.Where(c => !c.IsInstance))
        {
            using var model = pool.Export(c);
            model.eval();
            Assert.Contains(model.state_dict().Keys, k => k.StartsWith("fc_norm."));
            Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("norm."));
            Assert.True(model.forward(images).allclose(pool.Forward(images, c), rtol: 1e-5, atol: 1e-6), c.Id);
        }
    }

    [Fact]
    public void Least_squares_stitches_match_the_end_models_features_better_than_random_ones()
    {
        torch.manual_seed(5);
        using var pool = new StitchPool(Config());
        var images = torch.randn(20, 1, 28, 28);
        var c = pool.Configurations.First(x => !x.IsInstance && x.FrontLast == 0 && x.EndFirst == 1);
        double Mismatch()
        {
            using var _ = torch.no_grad();
            var x = pool.Models[c.Front].Embed(images);
            x = pool.Models[c.Front].Blocks[0].forward(x);
            using var exported = (StitchedVisionTransformer)pool.Export(c);
            var stitched = nn.functional.linear(x, exported.state_dict()["stitch.weight"], exported.state_dict()["stitch.bias"]);
            var target = pool.Models[c.End].Blocks[0].forward(pool.Models[c.End].Embed(images));
            return nn.functional.mse_loss(stitched, target).item<float>();
        }
        double before = Mismatch();
        pool.FitStitches(images);
        double after = Mismatch();
        Assert.True(after < before, $"mismatch {before} → {after}");
        // The layer is the mean of the least-squares solutions of the points that share it.
        using (torch.no_grad())
        {
            var fits = pool.Configurations.Where(x => x.StitchLayer == c.StitchLayer).Select(x =>
            {
                var front = pool.Models[x.Front].Embed(images);
                for (int i = 0; i <= x.FrontLast; i++) front = pool.Models[x.Front].Blocks[i].forward(front);
                var end = pool.Models[x.End].Embed(images);
                for (int i = 0; i < x.EndFirst; i++) end = pool.Models[x.End].Blocks[i].forward(end);
                return LeastSquares.Fit(front, end).Weight;
            }).ToArray();
            Assert.Equal(4, fits.Length); // window 0 serves (0,0), (0,1), (1,0), (1,1)
            using var exported = pool.Export(c);
            Assert.True(exported.state_dict()["stitch.weight"].allclose(torch.stack(fits).mean([0]), rtol: 1e-4, atol: 1e-5));
        }
    }
}

/// <summary>Choosing a configuration of a measured family by budget.</summary>
public class BudgetPickTests
{
    static readonly MeasuredConfig[] Family =
    [
        new("m0", 1000, 50_000, 0.70), new("m0-b1-m1-b2", 1500, 70_000, 0.78), new("m1", 2000, 90_000, 0.80), new("m1-b0-m2-b0", 2600, 95_000, 0.79),
    ];

    [Fact]
    public void A_budget_pick_returns_the_most_accurate_configuration_that_fits()
    {
        Assert.Equal("m0-b1-m1-b2", BudgetPick.Best(Family, maxParameters: 1999).Id);
        Assert.Equal("m1", BudgetPick.Best(Family, maxParameters: 5000).Id);
        Assert.Equal("m0", BudgetPick.Best(Family, maxMacs: 60_000).Id);
        Assert.Equal("m0-b1-m1-b2", BudgetPick.Best(Family, maxParameters: 5000, maxMacs: 80_000).Id);
    }

    [Fact]
    public void A_budget_nothing_fits_is_a_clear_error_naming_the_smallest()
    {
        var e = Assert.Throws<LearngeneException>(() => BudgetPick.Best(Family, maxParameters: 999));
        Assert.Contains("no configuration fits 999 parameters", e.Message);
        Assert.Contains("the smallest is m0", e.Message);
        Assert.Equal("budget-params", e.Setting);
    }

    [Fact]
    public void The_pareto_front_keeps_only_configurations_no_smaller_one_beats()
    {
        Assert.Equal(["m0", "m0-b1-m1-b2", "m1"], BudgetPick.ParetoFront(Family).Select(c => c.Id));
    }
}
