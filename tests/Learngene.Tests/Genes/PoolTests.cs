using Learngene.Data;
using Learngene.Genes;
using Learngene.Genes.Pool;
using Learngene.IO;
using Learngene.Models;
using Learngene.Models.Stitching;
using TorchSharp;

namespace Learngene.Tests.Genes;

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

    [Fact]
    public void A_learned_stitch_into_the_teacher_width_is_the_transposed_mean_of_the_fronts_maps()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        using var pool = new StitchPool(Pool()); // widths 8, 16, 32; the teacher's is 32
        var maps = pool.Pool.Models.Select((m, i) => (IReadOnlyList<torch.Tensor>)Enumerable.Range(0, i == 0 ? 3 : 1).Select(_ => torch.randn(m.Width, 32)).ToList()).ToList();
        LearnedStitchInit.Apply(pool, maps, teacherWidth: 32);
        int layers = pool.Pool.Depth - 1;
        var expected = torch.stack(maps[1]).mean([0]).t(); // pair 1 is 16 → 32
        for (int w = 0; w < layers; w++)
        {
            Assert.True(pool.Stitches[layers + w].weight!.allclose(expected));
            Assert.Equal(0, pool.Stitches[layers + w].bias!.abs().sum().item<float>());
        }
        // 8 → 16 is narrower than the teacher: the front's way back, then the end's map (our extension).
        var composed = torch.stack(maps[1]).mean([0]).matmul(torch.stack(maps[0]).mean([0]).t());
        Assert.Equal([16L, 8L], pool.Stitches[0].weight!.shape);
        Assert.True(pool.Stitches[0].weight!.allclose(composed, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Under_a_teacher_wider_than_every_instance_each_stitch_composes_both_maps_and_maps_of_another_teacher_are_refused()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        using var pool = new StitchPool(Pool()); // widths 8, 16, 32 under a width-48 teacher
        var maps = pool.Pool.Models.Select(m => (IReadOnlyList<torch.Tensor>)[torch.randn(m.Width, 48)]).ToList();
        LearnedStitchInit.Apply(pool, maps, teacherWidth: 48);
        int last = pool.Stitches.Count - 1; // pair 16 → 32
        Assert.True(pool.Stitches[last].weight!.allclose(maps[2][0].matmul(maps[1][0].t()), rtol: 1e-5, atol: 1e-5));
        var wrong = pool.Pool.Models.Select(m => (IReadOnlyList<torch.Tensor>)[torch.randn(m.Width, 40)]).ToList();
        Assert.Contains("another teacher", Assert.Throws<LearngeneException>(() => LearnedStitchInit.Apply(pool, wrong, teacherWidth: 48)).Message);
    }

    [Fact]
    public void The_maps_are_read_back_from_a_distillation_checkpoint()
    {
        using var scope = torch.NewDisposeScope();
        string path = Path.Combine(TestData.TempDir(), "checkpoint.safetensors");
        var tensors = new Dictionary<string, torch.Tensor>
        {
            ["model/x"] = torch.zeros(2), ["objective/blocks.0.weight"] = torch.ones(4, 8), ["objective/blocks.1.weight"] = torch.ones(4, 8) * 3,
            ["objective/attention.0.weight"] = torch.ones(4, 8), ["optim/m/objective/blocks.0.weight"] = torch.ones(4, 8),
        };
        SafeTensors.Save(path, tensors, new Dictionary<string, string>());
        var maps = LearnedStitchInit.ReadMaps(path);
        Assert.Equal(2, maps.Count);
        Assert.Equal(2f, torch.stack(maps).mean().item<float>());
        SafeTensors.Save(path, new Dictionary<string, torch.Tensor> { ["model/x"] = torch.zeros(2) }, new Dictionary<string, string>());
        Assert.Contains("no distillation maps", Assert.Throws<LearngeneException>(() => LearnedStitchInit.ReadMaps(path)).Message);
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
    public void The_front_areas_are_mean_heights_over_the_common_range_on_a_log_axis_and_the_intervals_below_are_named()
    {
        // a: 0.5 from 10 to 100, then 0.9; b: 0.7 from 10 on. Common range 10..1000 (a reaches 1000, b 1000).
        MeasuredConfig[] a = [C("a0", 10, 0.5), C("a1", 100, 0.9), C("a2", 1000, 0.8)];
        MeasuredConfig[] b = [C("b0", 1, 0.1), C("b1", 10, 0.7), C("b2", 1000, 0.7)];
        var (ha, hb, from, to) = Learngene.Reporting.PoolChecks.FrontAreas(a, b);
        Assert.Equal((10L, 1000L), (from, to));
        Assert.Equal((0.5 + 0.9) / 2, ha, 9); // two equal decades
        Assert.Equal(0.7, hb, 9);
        Assert.Equal([(10L, 100L)], Learngene.Reporting.PoolChecks.Below(a, b, from, to));
        Assert.True(double.IsNaN(Learngene.Reporting.PoolChecks.FrontAreas([C("x", 5, 1)], [C("y", 50, 1)]).A));
    }
}

/// <summary><c>learngene pool list|export</c> as a user runs them.</summary>
public class PoolCliTests
{
    [Fact]
    public void Pool_list_prints_every_configuration_and_export_writes_a_model_eval_reads()
    {
        using var scope = torch.NewDisposeScope();
        string dir = TestData.TempDir();
        string path = PoolTests.SavedPool(dir, out var pool);
        int count = pool.Configurations.Count;
        pool.Dispose();
        var (code, output, err) = CliTests.Run("pool", "list", path, "--json");
        Assert.True(code == 0, err);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal(count, json.RootElement.GetProperty("configurations").GetArrayLength());
        (code, output, err) = CliTests.Run("pool", "list", path, "--budget-params", "100000");
        Assert.True(code == 0, err);
        Assert.Contains("← pick", output);
        Assert.Contains("m0-b0-m1-b1", output);
        string exported = Path.Combine(dir, "m1.safetensors");
        (code, output, err) = CliTests.Run("pool", "export", path, "--config", "m1-b1-m2-b1", "--out", exported);
        Assert.True(code == 0, err);
        (code, output, err) = CliTests.Run("inspect", exported);
        Assert.True(code == 0, err);
        Assert.Contains("stitched", output);
        (code, _, err) = CliTests.Run("pool", "export", path, "--config", "nope", "--out", exported);
        Assert.Equal(2, code);
        Assert.Contains("no configuration 'nope'", err);
        (code, _, err) = CliTests.Run("pool", "export", path, "--budget-macs", "5", "--out", exported);
        Assert.Equal(2, code);
        Assert.Contains("no configuration fits", err);
        (code, _, err) = CliTests.Run("pool", "list", exported);
        Assert.Equal(2, code);
        Assert.Contains("not a learngene file", err);
        (code, _, err) = CliTests.Run("bench", "pool", "--preset", "smoke", "--families", "pool-learned,nope", "--out", Path.Combine(dir, "b"));
        Assert.Equal(2, code);
        Assert.Contains("unknown stitched family 'nope'", err);
        (code, _, err) = CliTests.Run("learn", "pool", "--preset", "smoke", "--widths", "8,x", "--out", Path.Combine(dir, "c"));
        Assert.Equal(2, code);
        Assert.Contains("widths '8,x'", err);
        (code, _, err) = CliTests.Run("learn", "pool", "--preset", "smoke", "--teacher", exported, "--out", Path.Combine(dir, "d"));
        Assert.Equal(2, code);
        Assert.Contains("ViT teacher", err);
    }
}
