using Learngene.Methods;
using Learngene.Methods.Sws;
using Learngene.Models;
using Learngene.Models.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Methods.Sws;

/// <summary>SWS, as docs/methods/sws.md specifies it.</summary>
public class SwsTests
{
    static readonly VitConfig Arch = new() { Width = 16, Heads = 2, Depth = 16, PatchSize = 7, Classes = 5 };
    static readonly IAuxiliaryMethod Sws = new SwsMethod();

    /// <summary>An auxiliary model with random values in every tensor, saved as a learngene.</summary>
    static (SwsAuxiliary Aux, LearngeneFile.Loaded Gene) RandomGene(int[]? stages = null)
    {
        torch.manual_seed(0);
        stages ??= SwsLayout.PaperStages;
        var aux = (SwsAuxiliary)Sws.CreateAuxiliary(Arch with { Depth = stages.Sum() }, $"{{\"stages\":[{string.Join(",", stages)}]}}");
        using (torch.no_grad())
            foreach (var p in aux.parameters()) p.copy_(torch.randn(p.shape) * 0.1);
        string path = Path.Combine(TestData.TempDir(), "gene.safetensors");
        LearngeneFile.Save(path, Sws.Extract(aux), new LearngeneInfo
        {
            Method = "sws", Architecture = aux.Architecture, SourceData = "test", ClassNames = ["a", "b", "c", "d", "e"], MethodSettings = Sws.SettingsOf(aux),
        });
        return (aux, LearngeneFile.Load(path, "sws"));
    }

    [Fact]
    public void The_paper_auxiliary_model_has_16_layers_in_five_stages_of_3_3_4_3_3_with_one_block_each()
    {
        var aux = (SwsAuxiliary)Sws.CreateAuxiliary(Arch);
        Assert.Equal([3, 3, 4, 3, 3], aux.StageSizes);
        Assert.Equal(5, aux.Stages.Count);
        long blockParams = aux.Stages[0].parameters().Sum(p => p.numel());
        using var plain = new VisionTransformer(Arch with { Depth = 5, Pooling = "avg" });
        Assert.Equal(plain.ParameterCount(), aux.ParameterCount()); // five blocks stored, not sixteen
        Assert.Equal([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4], SwsLayout.AuxiliarySources(aux.StageSizes));
        Assert.True(blockParams > 0);
    }

    [Fact]
    public void Every_layer_of_a_stage_runs_the_same_block_so_a_stage_block_change_moves_the_output()
    {
        var (aux, _) = RandomGene();
        var x = torch.randn(2, 1, 28, 28);
        using var _ = torch.no_grad();
        var before = aux.forward(x).clone();
        aux.Stages[2].parameters().First().add_(0.5);
        Assert.False(aux.forward(x).SameAs(before));
    }

    [Theory]
    [InlineData(16, new[] { 3, 3, 4, 3, 3 })]
    [InlineData(12, new[] { 3, 2, 3, 2, 2 })]
    [InlineData(5, new[] { 1, 1, 1, 1, 1 })]
    [InlineData(6, new[] { 1, 1, 2, 1, 1 })]
    [InlineData(4, new[] { 1, 1, 0, 1, 1 })]
    [InlineData(3, new[] { 1, 0, 1, 0, 1 })]
    [InlineData(2, new[] { 1, 0, 0, 0, 1 })]
    [InlineData(1, new[] { 0, 0, 0, 0, 1 })]
    public void The_default_rule_gives_every_stage_one_layer_and_shares_the_rest_in_proportion_to_3_3_4_3_3(int depth, int[] expected)
    {
        Assert.Equal(expected, SwsLayout.LayersPerStage(depth, SwsLayout.PaperStages));
    }

    [Fact]
    public void The_default_rule_covers_every_depth_in_stage_order()
    {
        for (int depth = 1; depth <= 40; depth++)
        {
            var sources = SwsLayout.DefaultSources(depth, SwsLayout.PaperStages);
            Assert.Equal(depth, sources.Length);
            Assert.True(sources.Zip(sources.Skip(1)).All(p => p.First <= p.Second), $"depth {depth}: stages out of order");
            if (depth >= 5) Assert.Equal(5, sources.Distinct().Count());
        }
    }

    [Fact]
    public void Expanding_an_SWS_learngene_to_its_own_layout_reproduces_the_auxiliary_models_outputs()
    {
        var (aux, gene) = RandomGene();
        using var descendant = Sws.Build(gene, DescendantSpec.OfDepth(16), 5);
        var x = torch.randn(3, 1, 28, 28);
        using var _ = torch.no_grad();
        aux.eval();
        descendant.eval();
        Assert.True(descendant.forward(x).SameAs(aux.forward(x)));
    }

    [Fact]
    public void An_explicit_mapping_copies_the_named_stage_block_into_each_layer()
    {
        var (_, gene) = RandomGene();
        int[] authors12 = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4, 4];
        var d = Sws.Build(gene, new DescendantSpec("d", authors12.Length, authors12), 5).state_dict();
        Assert.Equal(12, d.Keys.Count(k => k.EndsWith(".attn.qkv.weight")));
        for (int i = 0; i < 12; i++)
            foreach (var name in Block.TensorNames)
                Assert.True(d[$"blocks.{i}.{name}"].SameAs(gene.Tensors[$"stages.{authors12[i]}.{name}"]), $"layer {i} {name}");
        foreach (var shared in new[] { "patch_embed.proj.weight", "pos_embed", "norm.weight", "head.weight" })
            Assert.True(d[shared].SameAs(gene.Tensors[shared]), shared);
    }

    [Fact]
    public void A_new_label_space_gets_a_fresh_head()
    {
        var (_, gene) = RandomGene();
        var d = Sws.Build(gene, DescendantSpec.OfDepth(6), 5, sameLabelSpace: false).state_dict();
        Assert.False(d["head.weight"].SameAs(gene.Tensors["head.weight"]));
        Assert.Equal(3, Sws.Build(gene, DescendantSpec.OfDepth(6), 3).state_dict()["head.weight"].shape[0]);
    }

    [Theory]
    [InlineData(new[] { 0, 2, 1 }, "in order")]
    [InlineData(new[] { 0, 1, 5 }, "stages 0..4")]
    public void A_bad_mapping_is_refused_with_a_clear_error(int[] mapping, string message)
    {
        var (_, gene) = RandomGene();
        var e = Assert.Throws<LearngeneException>(() => Sws.Build(gene, new DescendantSpec("d", mapping.Length, mapping), 5));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void The_stage_layout_is_stored_in_the_learngene_and_a_custom_one_is_kept()
    {
        var (aux, gene) = RandomGene([2, 2]);
        Assert.Equal([2, 2], SwsMethod.StagesOf(gene));
        Assert.Equal(4, aux.Architecture.Depth);
        Assert.Equal([0, 0, 0, 1, 1], SwsLayout.DefaultSources(5, [2, 2])); // ties go to the earlier stage
        Assert.Throws<LearngeneException>(() => Sws.CreateAuxiliary(Arch with { Depth = 12 }, "{\"stages\":[3,3,4,3,3]}"));
    }
}
