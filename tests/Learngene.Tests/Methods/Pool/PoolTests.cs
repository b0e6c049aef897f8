using Learngene.Data;
using Learngene.IO;
using Learngene.Methods;
using Learngene.Methods.Pool;
using Learngene.Models;
using Learngene.Models.Stitching;
using TorchSharp;

namespace Learngene.Tests.Methods.Pool;

/// <summary>Learngene Pool's own parts: its instances, its learned stitch initialization and its file.</summary>
public class PoolTests
{
    static readonly VitConfig Teacher = new() { Width = 96, Heads = 4, Depth = 12, PatchSize = 7, ImageSize = 28, Channels = 1, Classes = 10 };

    [Fact]
    public void The_default_instances_are_the_authors_width_ratios_of_the_teacher_at_half_its_depth()
    {
        var instances = PoolInstances.Architectures(Teacher);
        Assert.Equal([24, 48, 96], instances.Select(i => i.Width));
        Assert.All(instances, i => Assert.Equal(6, i.Depth));
        Assert.All(instances, i => Assert.Equal(24, i.Width / i.Heads)); // the teacher's head width
        Assert.All(instances, i => Assert.Equal((Teacher.PatchSize, Teacher.Pooling, Teacher.Classes), (i.PatchSize, i.Pooling, i.Classes)));
        Assert.Equal([32, 64], PoolInstances.Architectures(Teacher, [64, 32], 4).Select(i => i.Width));
        Assert.Throws<LearngeneException>(() => PoolInstances.Architectures(Teacher, [32, 32]));
    }

    [Fact]
    public void The_narrowest_instance_matches_three_blocks_and_the_others_their_last()
    {
        var tiny = PoolInstances.Matching(0, 6, 12);
        Assert.Equal([1, 3, 5], tiny.StudentBlocks);
        Assert.Equal([3, 7, 11], tiny.TeacherBlocks); // DeiT-B's blocks in the authors' criterion
        var base_ = PoolInstances.Matching(2, 6, 12);
        Assert.Equal([5], base_.StudentBlocks);
        Assert.Equal([11], base_.TeacherBlocks);
        Assert.Equal(0.1, tiny.Alpha);
    }

    static StitchPoolConfig Pool() => StitchPoolConfig.Neighbours(PoolInstances.Architectures(Teacher with { Width = 32, Heads = 2, Depth = 4 }));

    /// <summary>Random maps for every model of a pool under a teacher of the given width (3 positions for the narrowest).</summary>
    static List<DistillationMaps> RandomMaps(StitchPool pool, int teacherWidth) => pool.Pool.Models.Select((m, i) =>
    {
        int positions = i == 0 ? 3 : 1;
        return new DistillationMaps(Enumerable.Range(0, positions).Select(_ => torch.randn(m.Width, teacherWidth)).ToList(), Enumerable.Range(0, positions).Select(_ => torch.randn(m.Width)).ToList());
    }).ToList();

    [Fact]
    public void The_authors_learned_stitch_into_the_teacher_width_is_the_transposed_mean_of_the_fronts_maps_with_no_bias()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var pool = new StitchPool(Pool()); // widths 8, 16, 32; the teacher's is 32
        var maps = RandomMaps(pool, 32);
        LearnedStitchInit.Apply(pool, maps, teacherWidth: 32);
        int layers = pool.Pool.Depth - 1;
        var expected = maps[1].MeanWeight().t(); // pair 1 is 16 → 32
        for (int w = 0; w < layers; w++)
        {
            Assert.True(pool.Stitches[layers + w].weight!.allclose(expected));
            Assert.Equal(0, pool.Stitches[layers + w].bias!.abs().sum().item<float>());
        }
        // 8 → 16 is narrower than the teacher: the front's way back, then the end's map (our extension).
        var composed = maps[1].MeanWeight().matmul(maps[0].MeanWeight().t());
        Assert.Equal([16L, 8L], pool.Stitches[0].weight!.shape);
        Assert.True(pool.Stitches[0].weight!.allclose(composed, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void A_pinv_stitch_maps_the_fronts_image_of_a_teacher_token_onto_the_ends_image_of_it_for_every_end()
    {
        // If h_f = M_f·h_t + b_f and h_e = M_e·h_t + b_e exactly, the stitch must send h_f to h_e: through the
        // teacher-width end too, where the authors' rule assumes the end lives in the teacher's coordinates.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(4);
        using var pool = new StitchPool(Pool()); // widths 8, 16, 32 under a width-32 teacher
        var maps = RandomMaps(pool, 32);
        LearnedStitchInit.Apply(pool, maps, teacherWidth: 32, LearnedStitchInit.Pinv);
        int layers = pool.Pool.Depth - 1;
        foreach (var (pair, front, end) in new[] { (0, 0, 1), (1, 1, 2) })
        {
            // Teacher tokens the front can see (its map's row space): from those the pseudo-inverse recovers them exactly.
            var mf = maps[front].MeanWeight();
            var t = torch.randn(50, 32).matmul(torch.linalg.pinv(mf).matmul(mf));
            var hf = t.matmul(mf.t()) + maps[front].MeanBias();
            var he = t.matmul(maps[end].MeanWeight().t()) + maps[end].MeanBias();
            var stitched = pool.Stitches[pair * layers].forward(hf);
            Assert.True(stitched.allclose(he, rtol: 1e-3, atol: 1e-2), $"pair {pair}: max error {(stitched - he).abs().max().item<float>()}");
            if (pair == 1)
            {
                // The authors' rule on the same maps and tokens misses the teacher-width end by far.
                LearnedStitchInit.Apply(pool, maps, teacherWidth: 32, LearnedStitchInit.Authors);
                float error = (pool.Stitches[layers].forward(hf) - he).abs().max().item<float>();
                Assert.True(error > 1, $"authors' rule error {error}");
            }
        }
    }

    [Fact]
    public void Under_a_teacher_wider_than_every_instance_each_stitch_composes_both_maps_and_maps_of_another_teacher_are_refused()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var pool = new StitchPool(Pool()); // widths 8, 16, 32 under a width-48 teacher
        var maps = RandomMaps(pool, 48);
        LearnedStitchInit.Apply(pool, maps, teacherWidth: 48);
        int last = pool.Stitches.Count - 1; // pair 16 → 32
        Assert.True(pool.Stitches[last].weight!.allclose(maps[2].MeanWeight().matmul(maps[1].MeanWeight().t()), rtol: 1e-5, atol: 1e-5));
        var wrong = RandomMaps(pool, 40);
        Assert.Contains("another teacher", Assert.Throws<LearngeneException>(() => LearnedStitchInit.Apply(pool, wrong, teacherWidth: 48)).Message);
        Assert.Contains("unknown learned stitch rule", Assert.Throws<LearngeneException>(() => LearnedStitchInit.Apply(pool, maps, 48, "transpose")).Message);
    }

    [Fact]
    public void A_stitch_that_maps_exactly_has_zero_residual_and_one_that_outputs_the_mean_has_one()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        using var pool = new StitchPool(Pool());
        var images = torch.randn(20, 1, 28, 28);
        pool.FitStitches(images);
        var fitted = pool.Residuals(images);
        Assert.Equal(pool.Configurations.Count(c => !c.IsInstance), fitted.Count);
        Assert.All(fitted.Values, v => Assert.True(v >= 0));
        using (torch.no_grad()) foreach (var s in pool.Stitches) s.weight!.zero_();
        // Zero weights: every point outputs its bias, a constant no better than the mean token (residual ≥ 1),
        // and worse on average than the least-squares fit.
        var constant = pool.Residuals(images);
        Assert.All(constant.Values, v => Assert.True(v >= 1 - 1e-9, $"{v}"));
        Assert.True(fitted.Values.Average() < constant.Values.Average());
    }

    [Fact]
    public void The_maps_and_their_biases_are_read_back_from_a_distillation_checkpoint()
    {
        using var scope = torch.NewDisposeScope();
        string path = Path.Combine(TestData.TempDir(), "checkpoint.safetensors");
        var tensors = new Dictionary<string, torch.Tensor>
        {
            ["model/x"] = torch.zeros(2), ["objective/blocks.0.weight"] = torch.ones(4, 8), ["objective/blocks.1.weight"] = torch.ones(4, 8) * 3,
            ["objective/blocks.0.bias"] = torch.ones(4), ["objective/blocks.1.bias"] = torch.ones(4) * 2,
            ["objective/attention.0.weight"] = torch.ones(4, 8), ["optim/m/objective/blocks.0.weight"] = torch.ones(4, 8),
        };
        SafeTensors.Save(path, tensors, new Dictionary<string, string>());
        using var maps = DistillationMaps.Read(path);
        Assert.Equal(2, maps.Weights.Count);
        Assert.Equal(2f, maps.MeanWeight().mean().item<float>());
        Assert.Equal(1.5f, maps.MeanBias().mean().item<float>());
        SafeTensors.Save(path, new Dictionary<string, torch.Tensor> { ["model/x"] = torch.zeros(2) }, new Dictionary<string, string>());
        Assert.Contains("no distillation maps", Assert.Throws<LearngeneException>(() => DistillationMaps.Read(path)).Message);
    }

    internal static string SavedPool(string dir, out StitchPool pool)
    {
        torch.manual_seed(2);
        pool = new StitchPool(Pool());
        var measured = PoolFile.Measure(pool, pool.Configurations.Select((c, i) => ($"accuracy/{c.Id}", i / 100.0)).ToDictionary(x => x.Item1, x => x.Item2));
        string path = Path.Combine(dir, "pool.safetensors");
        PoolFile.Save(path, pool, new PoolRecord { Pool = pool.Pool, StitchInit = "learned", TestData = "mnist", TestImages = 100, Configurations = measured },
            new LearngeneInfo { Method = "pool", SourceData = "mnist", ClassNames = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray(), Normalization = new Normalization([0.1f], [0.3f]) });
        return path;
    }

    [Fact]
    public void A_pool_file_holds_the_family_and_its_measured_configurations_and_loads_back_the_same_network()
    {
        using var scope = torch.NewDisposeScope(); // inputs and outputs freed here, not by the finalizer thread
        string dir = TestData.TempDir();
        string path = SavedPool(dir, out var pool);
        using (pool)
        {
            var read = PoolFile.Read(path);
            Assert.Equal("pool", read.Info.Method);
            Assert.Equal(pool.Configurations.Count, read.Record.Configurations.Length);
            Assert.True(read.Record.Pool.SameArchitecture(pool.Pool));
            var (loaded, _) = PoolFile.Load(path);
            using (loaded)
            {
                var images = torch.randn(3, 1, 28, 28);
                pool.eval();
                loaded.eval();
                foreach (var c in pool.Configurations) Assert.True(loaded.Forward(images, c).allclose(pool.Forward(images, c)), c.Id);
            }
            // One configuration exported as an ordinary model file gives the pool's logits for it.
            var config = pool.Configurations.First(c => !c.IsInstance && c.FrontLast != c.EndFirst);
            string exported = Path.Combine(dir, "one.safetensors");
            PoolFile.Export(path, config.Id, exported);
            var model = ModelFile.Load(exported);
            using (model.Model)
            {
                model.Model.eval();
                var images = torch.randn(3, 1, 28, 28);
                Assert.True(model.Model.forward(images).allclose(pool.Forward(images, config), rtol: 1e-5, atol: 1e-6));
                Assert.Equal(config.Id, model.Metadata["pool_config"]);
                Assert.Equal([0.1f], model.Normalization.Mean);
            }
        }
    }

    [Fact]
    public void A_configuration_is_picked_by_id_or_budget_and_a_wrong_request_is_a_clear_error()
    {
        using var scope = torch.NewDisposeScope();
        string path = SavedPool(TestData.TempDir(), out var pool);
        pool.Dispose();
        var file = PoolFile.Read(path);
        Assert.Equal("m1", PoolFile.Pick(file, "m1", null, null).Id);
        // The most accurate configuration is the last one listed (accuracies rise with the index), a large one;
        // a budget just below its size picks the most accurate of the rest.
        var all = file.Record.Configurations;
        var top = all.MaxBy(c => c.Accuracy)!;
        var best = PoolFile.Pick(file, null, top.Parameters - 1, null);
        Assert.Equal(all.Where(c => c.Parameters < top.Parameters).MaxBy(c => c.Accuracy)!.Id, best.Id);
        Assert.True(best.Parameters < top.Parameters);
        Assert.Equal(top.Id, PoolFile.Pick(file, null, top.Parameters, null).Id);
        Assert.Contains("no configuration 'm9'", Assert.Throws<LearngeneException>(() => PoolFile.Pick(file, "m9", null, null)).Message);
        Assert.Contains("not both", Assert.Throws<LearngeneException>(() => PoolFile.Pick(file, "m1", 10, null)).Message);
        Assert.Contains("--config ID", Assert.Throws<LearngeneException>(() => PoolFile.Pick(file, null, null, null)).Message);
        Assert.Contains("no configuration fits", Assert.Throws<LearngeneException>(() => PoolFile.Pick(file, null, 10, null)).Message);
    }
}

/// <summary>The Pareto fronts the report compares.</summary>
public class PoolChecksTests
{
    static MeasuredConfig C(string id, long parameters, double accuracy) => new(id, parameters, 0, accuracy);

    [Fact]
    public void A_front_weighs_each_pick_by_its_share_of_the_common_range_on_a_log_axis()
    {
        // a: 0.5 from 10 to 100, then 0.9 (a2 is no better than a1: not on the front); b: 0.7 from 10 on.
        MeasuredConfig[] a = [C("a0", 10, 0.5), C("a1", 100, 0.9), C("a2", 1000, 0.8)];
        MeasuredConfig[] b = [C("b0", 1, 0.1), C("b1", 10, 0.7), C("b2", 1000, 0.7)];
        var wa = Learngene.Methods.Pool.PoolChecks.FrontWeights(a, 10, 1000);
        Assert.Equal(2, wa.Count);
        Assert.Equal(0.5, wa["a0"], 9); // two equal decades
        Assert.Equal(0.5, wa["a1"], 9);
        Assert.Equal(1.0, Learngene.Methods.Pool.PoolChecks.FrontWeights(b, 10, 1000)["b1"], 9);
    }

    [Fact]
    public void Fronts_and_picks_are_chosen_on_validation_when_it_was_measured()
    {
        // On test a1 looks best; on validation a0 is, so the pick under any budget and the front follow validation.
        MeasuredConfig[] a = [new("a0", 10, 0, 0.80, ValidationAccuracy: 0.85), new("a1", 20, 0, 0.90, ValidationAccuracy: 0.84)];
        Assert.Equal("a0", BudgetPick.Best(a, maxParameters: 100).Id);
        Assert.Equal(["a0"], BudgetPick.ParetoFront(a).Select(c => c.Id));
        Assert.Equal(1.0, Learngene.Methods.Pool.PoolChecks.FrontWeights(a, 10, 20)["a0"], 9);
    }
}
