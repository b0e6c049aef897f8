using Learngene.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Diffusion;

/// <summary>How samples are drawn: DDIM over <see cref="Steps"/> steps with η (0: deterministic), or DDPM
/// over every training step; classifier-free guidance scale (1: the conditional model alone).</summary>
public sealed record SamplingRecipe(int Steps = 50, double Guidance = 4, string Sampler = "ddim", double Eta = 0)
{
    /// <summary>Clamp each step's predicted clean image to [−1, 1] (<see cref="Diffusion.Sampler"/>); null: off
    /// (DiT's choice for latents; and what runs made before this setting existed used).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public bool? ClipDenoised { get; init; }

    /// <summary>Guide only at steps t ≥ this (of the training steps, 0..999 for DiT's 1000); null or 0: every step.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? GuidanceFrom { get; init; }

    public bool Ddpm => Sampler.ToLowerInvariant() switch
    {
        "ddim" => false,
        "ddpm" => true,
        _ => throw new LearngeneException($"unknown sampler '{Sampler}' (expected ddim or ddpm)", setting: "sampler"),
    };

    public SamplingRecipe Validate()
    {
        _ = Ddpm;
        if (Steps < 1) throw new LearngeneException($"sampling steps must be at least 1 (got {Steps})", setting: "steps");
        if (!(Guidance >= 0) || double.IsInfinity(Guidance)) throw new LearngeneException($"guidance must be a finite number ≥ 0 (got {Guidance})", setting: "guidance");
        if (Eta is < 0 or > 1 || double.IsNaN(Eta)) throw new LearngeneException($"eta must be in [0, 1] (got {Eta})", setting: "eta");
        if (GuidanceFrom < 0) throw new LearngeneException($"the step guidance starts from must not be negative (got {GuidanceFrom})", setting: "guidance-from");
        return this;
    }

    public string Describe() => (Ddpm ? $"DDPM (every step), guidance {Guidance:G3}" : $"DDIM {Steps} steps (eta {Eta:G2}), guidance {Guidance:G3}") + (GuidanceFrom > 0 ? $" from step {GuidanceFrom} up" : "") + (ClipDenoised == true ? ", x₀ clipped" : "");
}

/// <summary>Samples of requested classes from a diffusion transformer, drawn in batches, as images in
/// [0, 1] on the CPU ([N, C, H, W], class-major: every sample of the first class, then the next…) with their labels.
/// Deterministic for a seed and batch size. Batches stay small (64, doubled by guidance): at 200 a
/// width-128 DiT's MLP activations passed glibc's 32 MB mmap ceiling, every step mapped and unmapped them,
/// and sampling ran 4× slower (157 s against 40 s for 200 samples, measured back to back).</summary>
public static class ClassSamples
{
    public static (Tensor Images, Tensor Labels) Draw(DiffusionTransformer model, NoiseSchedule schedule, Prediction target,
        IReadOnlyList<long> classes, int perClass, SamplingRecipe recipe, int seed, int batchSize = 64)
    {
        recipe.Validate();
        var c = model.Architecture;
        foreach (var k in classes)
            if (k < 0 || k >= c.Classes) throw new LearngeneException($"class {k} is not one of the model's {c.Classes} classes (0..{c.Classes - 1})", setting: "classes");
        if (recipe.Guidance != 1 && c.ClassDropout == 0)
            throw new LearngeneException("guidance needs a model trained with label dropout (it has no null class): use --guidance 1", setting: "guidance");
        if (perClass < 1) throw new LearngeneException($"samples per class must be at least 1 (got {perClass})", setting: "per-class");
        var wanted = classes.SelectMany(k => Enumerable.Repeat(k, perClass)).ToArray();
        var sampler = new Sampler(schedule, target);
        model.eval();
        var device = model.parameters().First().device;
        using var generator = new Generator((ulong)seed);
        var chunks = new List<Tensor>();
        for (int start = 0; start < wanted.Length; start += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var labels = torch.tensor(wanted[start..Math.Min(wanted.Length, start + batchSize)]).to(device);
            // A model with a learned variance (DiT's learn_sigma, e.g. imported) samples with its mean channels.
            var x = sampler.Sample((xt, t, y) => model.forward(xt, t, y).narrow(1, 0, c.Channels), labels, [labels.shape[0], c.Channels, c.ImageSize, c.ImageSize],
                recipe.Steps, recipe.Guidance, c.NullClass, recipe.Ddpm, recipe.Eta, generator, recipe.ClipDenoised == true, recipe.GuidanceFrom ?? 0);
            chunks.Add(((x.clamp(-1, 1) + 1) / 2).cpu().MoveToOuterDisposeScope());
            Native.CollectEverySecond();
        }
        var images = torch.cat(chunks, 0);
        foreach (var chunk in chunks) chunk.Dispose();
        return (images, torch.tensor(wanted));
    }
}
