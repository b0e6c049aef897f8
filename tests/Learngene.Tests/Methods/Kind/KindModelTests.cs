using Learngene.Baselines.Tuning;
using Learngene.Methods;
using Learngene.Methods.Kind;
using Learngene.Models;
using Learngene.Models.Linears;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Methods.Kind;

/// <summary>KIND's SVD-form DiT, its recombination, and the tuning baselines' starting points (docs/methods/kind.md).</summary>
public class KindModelTests
{
    static readonly DitConfig Tiny = new() { Width = 32, Depth = 2, Heads = 2, PatchSize = 7, ImageSize = 28, Channels = 1, Classes = 3 };

    /// <summary>A model with every tensor random (a fresh DiT's zeroed modulations would make every block the identity).</summary>
    static DiffusionTransformer Randomized(DitConfig config, int seed)
    {
        var model = new DiffusionTransformer(config);
        var g = new Generator((ulong)seed);
        using var _ = torch.no_grad();
        foreach (var p in model.parameters()) p.copy_(torch.randn(p.shape, generator: g) * 0.2);
        model.eval();
        return model;
    }

    static (Tensor X, Tensor T) Inputs(int n, int seed)
    {
        var g = new Generator((ulong)seed);
        return (torch.randn([n, 1, 28, 28], generator: g), torch.randint(0, 1000, [n], generator: g, dtype: int64));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void In_a_kind_dit_a_classs_samples_send_gradient_only_to_the_learngenes_and_that_classs_tailors(bool separateQkv)
    {
        using var scope = torch.NewDisposeScope();
        using var model = Randomized(Tiny with { Linears = SvdForm.OnePerClass(4, 2, 3) with { Separate = separateQkv } }, 1);
        model.train();
        var (x, t) = Inputs(5, 2);
        model.Forward(x, t, torch.full(5, 1L), torch.zeros(5, dtype: ScalarType.Bool)).square().sum().backward();
        var layers = model.Blocks.SelectMany(b => b.Linears).Cast<SvdLinear>().ToList();
        Assert.Equal(separateQkv ? 12 : 8, layers.Count); // q, k, v apart: three layers where the stacked qkv is one
        foreach (var layer in layers)
        {
            Assert.All(layer.Learngenes, p => Assert.True(p.grad!.abs().max().item<float>() > 0));
            var s = layer.Tailors.ElementAt(1).grad!; // tailor singular values: block 1 is [2, 4)
            Assert.True(s[2].abs().item<float>() > 0 && s[3].abs().item<float>() > 0);
            foreach (int j in new[] { 0, 1, 4, 5 })
            {
                Assert.Equal(0f, s[j].item<float>());
                Assert.Equal(0f, layer.Tailors.ElementAt(0).grad![.., j].abs().max().item<float>());
                Assert.Equal(0f, layer.Tailors.ElementAt(2).grad![.., j].abs().max().item<float>());
            }
        }
    }

    [Fact]
    public void Recombining_the_learngenes_with_a_classs_tailor_reproduces_the_pretrained_model_on_that_class()
    {
        using var scope = torch.NewDisposeScope();
        var network = Randomized(Tiny with { Linears = SvdForm.OnePerClass(4, 2, 3) }, 3);
        using var gene = new KindGene.Loaded(network, new LearngeneInfo { Method = KindGene.Method, ClassNames = ["a", "b", "c"] }, new KindGene.Settings("velocity", 1000), "gene");
        using var one = KindGene.Recombine(gene, [2]);
        one.eval();
        var (x, t) = Inputs(4, 4);
        var full = network.forward(x, t, torch.full(4, 2L));
        Assert.True(one.forward(x, t, torch.zeros(4, dtype: int64)).allclose(full, atol: 1e-5));
        Assert.Equal(4 + 2, ((SvdForm)one.Architecture.Linears!).LearngeneRank + ((SvdForm)one.Architecture.Linears!).TailorRank * 1);
        Assert.True(one.parameters().Sum(p => p.numel()) < network.parameters().Sum(p => p.numel()));
        Assert.True(one.MacsPerImage() < network.MacsPerImage());

        // The learngenes alone under class 2's label: the pre-trained model with that class's tailor switched off.
        using var alone = KindGene.Recombine(gene, []);
        alone.eval();
        using (torch.no_grad())
            foreach (var layer in network.Blocks.SelectMany(b => b.Linears).Cast<SvdLinear>()) layer.Tailors.ElementAt(1).zero_();
        Assert.True(alone.forward(x, t, torch.full(4, 2L)).allclose(network.forward(x, t, torch.full(4, 2L)), atol: 1e-5));
    }

    [Fact]
    public void Lora_with_a_zero_update_pissa_at_its_start_and_svdiff_with_zero_shift_equal_the_base_model()
    {
        using var scope = torch.NewDisposeScope();
        using var dense = Randomized(Tiny, 5);
        var (x, t) = Inputs(4, 6);
        var labels = torch.tensor(new long[] { 0, 1, 2, 3 }); // 3: the null class
        var expected = dense.forward(x, t, labels);
        foreach (var (name, model, tolerance) in new[]
        {
            ("lora", TuningBaselines.Lora(dense, 3, 4), 0.0),
            ("pissa", TuningBaselines.Pissa(dense, 3, 4), 1e-4),
            ("svdiff", TuningBaselines.Svdiff(dense, 3), 1e-4),
            ("full", TuningBaselines.Full(dense, 3), 0.0),
        })
        {
            using (model)
            {
                // Carried to "new" classes the table rows are fresh: give it the base's rows to compare.
                using (torch.no_grad()) model.LabelEmbedder.Table.weight!.copy_(dense.LabelEmbedder.Table.weight!);
                model.eval();
                var y = model.forward(x, t, labels);
                double diff = (y - expected).abs().max().item<float>();
                Assert.True(diff <= tolerance, $"{name}: max difference {diff}");
                // Only the adapter and the class table train.
                var trains = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
                if (name == "full") Assert.Equal(model.named_parameters().Count(), trains.Count);
                else Assert.All(trains, n => Assert.True(n.Contains(name == "svdiff" ? "delta" : "lora_") || n.StartsWith("y_embedder."), n));
            }
        }
        // A non-zero LoRA update changes the output.
        using var lora = TuningBaselines.Lora(dense, 3, 4);
        using (torch.no_grad()) foreach (var l in lora.Blocks.SelectMany(b => b.Linears).Cast<LoraLinear>()) l.B.fill_(0.1);
        lora.LabelEmbedder.Table.weight!.requires_grad = false;
        using (torch.no_grad()) lora.LabelEmbedder.Table.weight!.copy_(dense.LabelEmbedder.Table.weight!);
        lora.eval();
        Assert.True((lora.forward(x, t, labels) - expected).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void What_a_tuned_model_trains_is_saved_with_it_not_in_its_architecture()
    {
        using var dense = Randomized(Tiny, 1);
        using var lora = TuningBaselines.Lora(dense, 3, 4);
        string path = Path.Combine(TestData.TempDir(), "lora.safetensors");
        Learngene.IO.ModelFile.Save(path, lora, new Learngene.Data.Normalization([0.5f], [0.25f]), ["a", "b", "c"]);
        Assert.DoesNotContain("train_only", Learngene.IO.ModelFile.ReadConfig(path).ToJson());
        using var loaded = Learngene.IO.ModelFile.LoadDiffusion(path).Model;
        Assert.Equal(lora.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name), loaded.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name));
        Assert.Contains(loaded.named_parameters(), p => !p.parameter.requires_grad);
        // The same architecture built anew trains everything: freezing is the tuning method's choice.
        using var fresh = new DiffusionTransformer(loaded.Architecture);
        Assert.All(fresh.parameters(), p => Assert.True(p.requires_grad));
        // A file written when the choice was in the config (train_only there) still loads with it.
        var (tensors, meta) = Learngene.IO.SafeTensors.Load(path);
        var config = System.Text.Json.Nodes.JsonNode.Parse(meta["config"])!.AsObject();
        config["train_only"] = new System.Text.Json.Nodes.JsonArray([.. lora.TrainOnly!.Select(e => (System.Text.Json.Nodes.JsonNode)e)]);
        meta["config"] = config.ToJsonString();
        meta.Remove(Learngene.Training.TrainedTensors.MetadataKey);
        string legacy = Path.Combine(TestData.TempDir(), "legacy.safetensors");
        Learngene.IO.SafeTensors.Save(legacy, tensors, meta);
        using var old = Learngene.IO.ModelFile.LoadDiffusion(legacy).Model;
        Assert.Equal(lora.TrainOnly, old.TrainOnly);
    }

    [Fact]
    public void A_lora_layer_merged_for_sampling_gives_the_map_it_trains_unmerged()
    {
        using var scope = torch.NewDisposeScope();
        var layer = new LoraLinear(6, 5, rank: 2, scale: 0.5, principal: false);
        using (torch.no_grad()) layer.B.normal_();
        var x = torch.randn(3, 4, 6);
        var trained = layer.forward(x, null);
        Tensor sampled;
        using (torch.no_grad()) sampled = layer.forward(x, null);
        Assert.True(trained.requires_grad);
        Assert.True((trained - sampled).abs().max().item<float>() < 1e-5);
        Assert.True((trained - nn.functional.linear(x, layer.Weight(), layer.Bias)).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Kinds_transfer_model_keeps_the_learngenes_and_with_zero_tailors_starts_as_the_learngenes_alone()
    {
        using var scope = torch.NewDisposeScope();
        var network = Randomized(Tiny with { Linears = SvdForm.OnePerClass(4, 2, 3) }, 7);
        using var gene = new KindGene.Loaded(network, new LearngeneInfo { Method = KindGene.Method, ClassNames = ["a", "b", "c"] }, new KindGene.Settings("velocity", 1000), "gene");
        using var transfer = KindGene.Transfer(gene, 2, zeroTailors: true);
        var form = (SvdForm)transfer.Architecture.Linears!;
        Assert.Equal([0, 1], form.TailorOf);
        foreach (var (src, dst) in network.Blocks.SelectMany(b => b.Linears).Cast<SvdLinear>().Zip(transfer.Blocks.SelectMany(b => b.Linears).Cast<SvdLinear>()))
        {
            foreach (var (a, b) in src.Learngenes.Zip(dst.Learngenes)) { Assert.True(a.SameAs(b)); Assert.False(b.requires_grad); }
            Assert.All(dst.Tailors, p => Assert.True(p.requires_grad));
            Assert.Equal(0f, dst.Tailors.ElementAt(1).abs().max().item<float>());
        }
        // With silent tailors a new class is drawn by the learngenes alone (the null class's row here, for a fixed label embedding).
        transfer.eval();
        var (x, t) = Inputs(3, 8);
        var nul = torch.full(3, 2L);
        using var alone = KindGene.Recombine(gene, []);
        alone.eval();
        Assert.True(transfer.forward(x, t, nul).allclose(alone.forward(x, t, torch.full(3, 3L)), atol: 1e-5));
    }

    [Fact]
    public void A_null_tailor_block_acts_on_the_unconditional_branch_only()
    {
        using var scope = torch.NewDisposeScope();
        var network = Randomized(Tiny with { Linears = SvdForm.OnePerClass(4, 2, 3) }, 7);
        using var gene = new KindGene.Loaded(network, new LearngeneInfo { Method = KindGene.Method, ClassNames = ["a", "b", "c"] }, new KindGene.Settings("velocity", 1000), "gene");
        using var transfer = KindGene.Transfer(gene, 2, seed: 3, nullTailor: true);
        var form = (SvdForm)transfer.Architecture.Linears!;
        Assert.Equal((2, 3), (form.NullTailor, form.TailorBlocks)); // the null class's block after the classes'
        transfer.eval();
        var (x, t) = Inputs(3, 8);
        var classes = torch.tensor(new long[] { 0, 1, 0 });
        var nul = torch.full(3, 2L);
        var (withClasses, withNull) = (transfer.forward(x, t, classes), transfer.forward(x, t, nul));
        // Silence the null block: the classes' outputs stay, the unconditional one changes.
        using (torch.no_grad())
            foreach (var l in transfer.Blocks.SelectMany(b => b.Linears).Cast<SvdLinear>())
                l.Tailors.ElementAt(1).narrow(0, 2L * form.TailorRank, form.TailorRank).zero_();
        Assert.True(transfer.forward(x, t, classes).allclose(withClasses, atol: 1e-6));
        Assert.False(transfer.forward(x, t, nul).allclose(withNull, atol: 1e-4));
    }

    [Fact]
    public void The_ungated_ablation_keeps_each_shared_matrixs_top_singular_components_as_its_learngenes()
    {
        using var scope = torch.NewDisposeScope();
        var kindForm = SvdForm.OnePerClass(4, 2, 3) with { Separate = true };
        // Pre-trained with every component shared: 4 + 3×2 learngene components, no class gate.
        using var shared = Randomized(Tiny with { Linears = kindForm with { LearngeneRank = 10, TailorOf = [-1, -1, -1] } }, 8);
        using var transfer = KindGene.TransferUngated(shared, kindForm, 2, seed: 1);
        Assert.Equal([0, 1], ((SvdForm)transfer.Architecture.Linears!).TailorOf);
        foreach (var (src, dst) in shared.Blocks.SelectMany(b => b.Linears).Zip(transfer.Blocks.SelectMany(b => b.Linears).Cast<SvdLinear>()))
        {
            var (u, s, vh) = torch.linalg.svd(src.Weight().to(float64), fullMatrices: false);
            var top = (u.narrow(1, 0, 4) * s.narrow(0, 0, 4)).matmul(vh.narrow(0, 0, 4)).to(float32);
            var learngenes = dst.Learngenes.ToArray(); // u [out, 4], s [4], v [in, 4]
            Assert.True((learngenes[0] * learngenes[1]).matmul(learngenes[2].t()).allclose(top, atol: 1e-4));
            Assert.All(learngenes, p => Assert.False(p.requires_grad));
            Assert.True(dst.Tailors.ElementAt(1).abs().min().item<float>() > 0); // fresh random tailors, as KIND's transfer
        }
    }
}
