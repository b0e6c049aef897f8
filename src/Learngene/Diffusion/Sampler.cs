using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Diffusion;

/// <summary>A denoiser as the samplers see it: (x_t, t, labels) → the network's prediction.</summary>
public delegate Tensor Denoiser(Tensor xt, Tensor t, Tensor labels);

/// <summary>DDPM and DDIM sampling with classifier-free guidance. Guidance runs the conditional and the
/// unconditional (null-class) passes as one batch and mixes them: uncond + s·(cond − uncond), so s = 1 is
/// the conditional prediction. It knows nothing of the network beyond <see cref="Denoiser"/>.</summary>
public sealed class Sampler(NoiseSchedule schedule, Prediction target)
{
    /// <summary>The prediction with guidance scale <paramref name="scale"/>; <paramref name="nullClass"/> is the
    /// label the network learned for "no class" (label dropout).</summary>
    public static Tensor Guided(Denoiser model, Tensor xt, Tensor t, Tensor labels, double scale, long nullClass)
    {
        if (scale == 1) return model(xt, t, labels);
        var both = model(torch.cat([xt, xt]), torch.cat([t, t]), torch.cat([labels, torch.full_like(labels, nullClass)]));
        var (cond, uncond) = (both[..(int)xt.shape[0]], both[(int)xt.shape[0]..]);
        return uncond + scale * (cond - uncond);
    }

    /// <summary>The evenly spaced steps a sampler visits, from the last (noisiest) down to 0.</summary>
    public int[] Timesteps(int steps)
    {
        if (steps < 1 || steps > schedule.Steps) throw new LearngeneException($"sampling steps must be in 1..{schedule.Steps} (got {steps})", setting: "steps");
        return Enumerable.Range(0, steps).Select(i => (int)Math.Round((double)i * (schedule.Steps - 1) / Math.Max(1, steps - 1))).Distinct().Reverse().ToArray();
    }

    /// <summary>One DDIM step from step t to the earlier step <paramref name="previous"/> (−1: to x₀), with
    /// η: 0 deterministic, 1 DDPM's posterior variance when the steps are consecutive (Song et al., eq. 12 and 16).</summary>
    public Tensor DdimStep(Tensor prediction, Tensor xt, int t, int previous, double eta, Tensor? noise, bool clip = false)
    {
        var (x0, eps) = Estimate(prediction, xt, t, clip);
        double a = schedule.AlphasCumprod[t], aPrev = previous < 0 ? 1.0 : schedule.AlphasCumprod[previous];
        double sigma = eta * Math.Sqrt((1 - aPrev) / (1 - a)) * Math.Sqrt(1 - a / aPrev);
        var mean = Math.Sqrt(aPrev) * x0 + Math.Sqrt(Math.Max(0, 1 - aPrev - sigma * sigma)) * eps;
        return sigma > 0 && noise is not null ? mean + sigma * noise : mean;
    }

    /// <summary>x₀ and ε implied by a prediction; with <paramref name="clip"/>, x₀ is clamped to the data's
    /// [−1, 1] and ε recomputed from it (guided-diffusion's <c>clip_denoised</c>, its default for pixels; DiT
    /// samples latents, which have no such range, and does not clip).</summary>
    (Tensor X0, Tensor Noise) Estimate(Tensor prediction, Tensor xt, int t, bool clip)
    {
        var tt = torch.full([xt.shape[0]], t, dtype: int64);
        var (x0, eps) = schedule.Decompose(target, prediction, xt, tt);
        if (!clip) return (x0, eps);
        x0 = x0.clamp(-1, 1);
        double a = schedule.AlphasCumprod[t];
        return (x0, (xt - Math.Sqrt(a) * x0) / Math.Sqrt(1 - a));
    }

    /// <summary>One ancestral DDPM step from t to t−1: the posterior q(x_{t−1} | x_t, x₀) with x₀ from the
    /// prediction, its variance β̃_t = β_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t).</summary>
    public Tensor DdpmStep(Tensor prediction, Tensor xt, int t, Tensor? noise, bool clip = false)
    {
        var (x0, _) = Estimate(prediction, xt, t, clip);
        double a = schedule.AlphasCumprod[t], aPrev = t == 0 ? 1.0 : schedule.AlphasCumprod[t - 1], beta = schedule.Betas[t];
        var mean = (Math.Sqrt(aPrev) * beta / (1 - a)) * x0 + (Math.Sqrt(1 - beta) * (1 - aPrev) / (1 - a)) * xt;
        double variance = beta * (1 - aPrev) / (1 - a);
        return t > 0 && noise is not null ? mean + Math.Sqrt(variance) * noise : mean;
    }

    /// <summary>Samples images of the given labels from pure noise: DDIM over <paramref name="steps"/> steps
    /// with η, or DDPM over every step when <paramref name="ddpm"/>. One generator drives all noise. Guidance
    /// applies at steps t ≥ <paramref name="guidanceFrom"/> only (0: every step); below it the conditional
    /// prediction alone, one pass instead of two. (Kynkäänniemi et al., 2024, limit guidance to an interval of
    /// noise levels and find it harmful at the highest; this sets the interval's lower end only.)</summary>
    public Tensor Sample(Denoiser model, Tensor labels, long[] shape, int steps, double guidance, long nullClass, bool ddpm = false, double eta = 0, Generator? generator = null, bool clip = false,
        int guidanceFrom = 0)
    {
        using var _ = torch.no_grad();
        // Noise is drawn on the CPU (one generator, the same samples on any device) and moved to the labels' device.
        var device = labels.device;
        var x = torch.randn(shape, generator: generator).to(device);
        var ts = ddpm ? Enumerable.Range(0, schedule.Steps).Reverse().ToArray() : Timesteps(steps);
        for (int i = 0; i < ts.Length; i++)
        {
            using var scope = torch.NewDisposeScope();
            var t = torch.full([shape[0]], ts[i], dtype: int64, device: device);
            var prediction = Guided(model, x, t, labels, ts[i] >= guidanceFrom ? guidance : 1, nullClass);
            var noise = torch.randn(shape, generator: generator).to(device);
            var next = ddpm ? DdpmStep(prediction, x, ts[i], noise, clip) : DdimStep(prediction, x, ts[i], i + 1 < ts.Length ? ts[i + 1] : -1, eta, noise, clip);
            next.MoveToOuterDisposeScope();
            x.Dispose(); // freed here, not by the finalizer thread
            x = next;
        }
        return x;
    }
}
