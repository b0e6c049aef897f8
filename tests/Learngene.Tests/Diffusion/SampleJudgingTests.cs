using Learngene.Data;
using Learngene.Diffusion;
using Learngene.Metrics;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Tests.Diffusion;

/// <summary>What judging samples rests on: the patch-seam ratio, FD-clf on resampled features, per-image test
/// losses, guidance in a limited interval, and an inference pass that frees each block's intermediates.</summary>
public class SampleJudgingTests
{
    [Fact]
    public void Patch_seams_are_near_one_for_images_without_a_grid_and_far_above_for_patchwise_images()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(1);
        var plain = torch.rand([8, 1, 28, 28], generator: g);
        Assert.InRange(PatchSeams.Ratio(plain, 4), 0.9, 1.1);
        // Every 4×4 patch a constant plus faint noise: the grid is all there is to see.
        var blocks = torch.rand([8, 1, 7, 7], generator: g).repeat_interleave(4, 2).repeat_interleave(4, 3) + 0.01 * torch.rand([8, 1, 28, 28], generator: g);
        Assert.True(PatchSeams.Ratio(blocks, 4) > 5);
        // The per-image parts give the same ratio when pooled.
        var (across, inside) = PatchSeams.PerImage(blocks, 4);
        Assert.Equal(PatchSeams.Ratio(blocks, 4), across.Average() / inside.Average(), 10);
    }

    [Fact]
    public void Fd_against_a_reference_is_the_frechet_distance_and_counts_weigh_rows_as_repeats()
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(2);
        var real = torch.randn([300, 6], generator: g, dtype: float64);
        var fake = torch.randn([40, 6], generator: g, dtype: float64) * 1.3 + 0.2;
        using var reference = new FrechetDistance.Reference(real);
        Assert.Equal(FrechetDistance.Between(fake, real), FrechetDistance.Against(reference, fake), 8);
        var counts = Enumerable.Range(0, 40).Select(i => (ushort)(i % 3)).ToArray();
        var repeated = torch.cat(Enumerable.Range(0, 40).SelectMany(i => Enumerable.Repeat(fake[i].unsqueeze(0), counts[i])).ToList(), 0);
        Assert.Equal(FrechetDistance.Between(repeated, real), FrechetDistance.Against(reference, fake, counts), 8);
    }

    static DiffusionTransformer Network()
    {
        var model = new DiffusionTransformer(new DitConfig { Width = 32, Depth = 2, Heads = 2, PatchSize = 7, ImageSize = 14, Channels = 1, Classes = 3 });
        var g = new Generator(5);
        using var _ = torch.no_grad();
        foreach (var p in model.parameters()) p.copy_(torch.randn(p.shape, generator: g) * 0.2);
        return model;
    }

    [Fact]
    public void Per_image_test_losses_draw_one_step_and_noise_per_image_whatever_the_chunks()
    {
        using var scope = torch.NewDisposeScope();
        using var network = Network();
        var g = new Generator(3);
        int n = DenoisingLoss.Chunk + 50; // two chunks
        using var data = new ImageDataset("toy", torch.randint(0, 256, [n, 1, 14, 14], generator: g, dtype: ScalarType.Byte), torch.randint(0, 3, [n], generator: g, dtype: int64), ["a", "b", "c"], flipSafe: false);
        var schedule = new NoiseSchedule();
        var losses = DenoisingLoss.PerImage(network, data, schedule, Prediction.Velocity, seed: 9);
        // The same draws, one forward pass over every image.
        var draw = new Generator(9);
        var t = torch.randint(0, schedule.Steps, [n], generator: draw, dtype: int64);
        var noise = torch.randn([n, 1, 14, 14], generator: draw);
        var x0 = data.Images.to_type(ScalarType.Float32) / 127.5f - 1;
        Tensor expected;
        using (torch.no_grad())
            expected = (network.forward(schedule.AddNoise(x0, t, noise), t, data.Labels) - schedule.Target(Prediction.Velocity, x0, t, noise)).pow(2).flatten(1).mean([1]);
        Assert.True(torch.tensor(losses).allclose(expected, rtol: 1e-4, atol: 1e-6));
        Assert.Equal(losses, DenoisingLoss.PerImage(network, data, schedule, Prediction.Velocity, seed: 9));
    }

    [Fact]
    public void An_inference_pass_gives_the_training_pass_outputs()
    {
        using var scope = torch.NewDisposeScope();
        using var network = Network();
        network.eval();
        var g = new Generator(4);
        var (x, t, y) = (torch.randn([5, 1, 14, 14], generator: g), torch.randint(0, 1000, [5], generator: g, dtype: int64), torch.tensor(new long[] { 0, 1, 2, 3, 1 }));
        var withGraph = network.forward(x, t, y);
        Tensor without;
        using (torch.no_grad()) without = network.forward(x, t, y);
        Assert.True(withGraph.detach().allclose(without, atol: 1e-6));
    }

    static Tensor Toy(Tensor xt, Tensor t, Tensor labels) => 0.1 * xt + 0.01 * labels.to(float32).view(-1, 1, 1, 1) + 0.001 * t.to(float32).view(-1, 1, 1, 1) * (labels == 10).to(float32).view(-1, 1, 1, 1);

    [Fact]
    public void Guidance_from_a_step_above_every_visited_step_is_the_conditional_prediction_alone()
    {
        using var scope = torch.NewDisposeScope();
        var sampler = new Sampler(new NoiseSchedule(), Prediction.Velocity);
        var labels = torch.tensor(new long[] { 1, 2 });
        Tensor Draw(double guidance, int from) => sampler.Sample(Toy, labels, [2, 1, 4, 4], steps: 20, guidance: guidance, nullClass: 10, generator: new Generator(6), guidanceFrom: from);
        Assert.Equal(0f, (Draw(4, 1000) - Draw(1, 0)).abs().max().item<float>());
        Assert.False(Draw(4, 500).allclose(Draw(1, 0), atol: 1e-6)); // guided above step 500
        Assert.False(Draw(4, 500).allclose(Draw(4, 0), atol: 1e-6)); // and not below it
    }
}
