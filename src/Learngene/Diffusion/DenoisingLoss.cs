using Learngene.Data;
using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Diffusion;

/// <summary>A network's denoising loss on each image of a data set: one step t and one noise per image, drawn
/// for the whole set at once from a seed, so the losses do not depend on how the set is chunked and two models
/// scored with one seed meet the same (t, ε) on every image — their per-image losses pair. Labels are never
/// dropped. The forward runs in chunks, each in its own dispose scope: a scope keeps every intermediate of a
/// forward pass until it closes, about 3 MB per image for a width-128 depth-6 DiT.</summary>
public static class DenoisingLoss
{
    public const int Chunk = 100;

    public static float[] PerImage(DiffusionTransformer network, ImageDataset data, NoiseSchedule schedule, Prediction target, int seed, Device? device = null)
    {
        int n = data.Count;
        var losses = new float[n];
        if (n == 0) return losses;
        network.eval();
        device ??= network.parameters().First().device;
        using var generator = new Generator((ulong)seed);
        using var steps = torch.randint(0, schedule.Steps, [n], generator: generator, dtype: int64);
        using var noise = torch.randn([n, .. data.Images.shape[1..]], generator: generator);
        using var _ = torch.no_grad();
        for (int start = 0; start < n; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            int m = Math.Min(Chunk, n - start);
            var x0 = (data.Images.narrow(0, start, m).to_type(ScalarType.Float32) / 127.5f - 1).to(device);
            var t = steps.narrow(0, start, m).to(device);
            var eps = noise.narrow(0, start, m).to(device);
            var output = network.Forward(schedule.AddNoise(x0, t, eps), t, data.Labels.narrow(0, start, m).to(device), torch.zeros([m], dtype: ScalarType.Bool, device: device));
            var perImage = (output.narrow(1, 0, x0.shape[1]) - schedule.Target(target, x0, t, eps)).pow(2).flatten(1).mean([1]);
            perImage.cpu().data<float>().CopyTo(losses, start);
        }
        return losses;
    }

    /// <summary>The network's one-pass clean estimates x̂₀ of the first <paramref name="count"/> images noised to
    /// step <paramref name="t"/> (seeded noise), in [0, 1]: what a single prediction draws, without a sampler.</summary>
    public static Tensor OnePassEstimates(DiffusionTransformer network, ImageDataset data, NoiseSchedule schedule, Prediction target, int t, int count, int seed)
    {
        int n = Math.Min(count, data.Count);
        network.eval();
        var device = network.parameters().First().device;
        using var generator = new Generator((ulong)seed);
        using var noise = torch.randn([n, .. data.Images.shape[1..]], generator: generator);
        using var _ = torch.no_grad();
        var chunks = new List<Tensor>();
        for (int start = 0; start < n; start += Chunk)
        {
            using var scope = torch.NewDisposeScope();
            int m = Math.Min(Chunk, n - start);
            var x0 = (data.Images.narrow(0, start, m).to_type(ScalarType.Float32) / 127.5f - 1).to(device);
            var steps = torch.full([m], t, dtype: int64, device: device);
            var xt = schedule.AddNoise(x0, steps, noise.narrow(0, start, m).to(device));
            var output = network.Forward(xt, steps, data.Labels.narrow(0, start, m).to(device), torch.zeros([m], dtype: ScalarType.Bool, device: device));
            var (estimate, _) = schedule.Decompose(target, output.narrow(1, 0, x0.shape[1]), xt, steps);
            chunks.Add(((estimate.clamp(-1, 1) + 1) / 2).cpu().MoveToOuterDisposeScope());
        }
        var all = torch.cat(chunks, 0);
        foreach (var c in chunks) c.Dispose();
        return all;
    }
}
