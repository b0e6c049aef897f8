using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Diffusion;

/// <summary>What the network predicts: the noise (ε, DDPM's) or the velocity v = √ᾱ·ε − √(1−ᾱ)·x₀
/// (Salimans and Ho's; the default here, it trained far faster on MNIST).</summary>
public enum Prediction { Noise, Velocity }

/// <summary>The forward process of DDPM with the linear β schedule DiT uses (β from 1e-4 to 0.02 over 1000
/// steps, scaled for other step counts as in <c>diffusion/gaussian_diffusion.py</c>), kept in float64:
/// ᾱ_t, the noising x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε, the training targets and their inverses. It knows nothing of
/// the network.</summary>
public sealed class NoiseSchedule
{
    public int Steps { get; }
    /// <summary>ᾱ_t for t = 0..Steps−1 (float64 on the CPU).</summary>
    public double[] AlphasCumprod { get; }
    public double[] Betas { get; }

    public NoiseSchedule(int steps = 1000)
    {
        if (steps < 1) throw new LearngeneException($"a diffusion needs at least one step (got {steps})");
        Steps = steps;
        double scale = 1000.0 / steps;
        double start = scale * 1e-4, end = scale * 0.02;
        Betas = Enumerable.Range(0, steps).Select(i => steps == 1 ? start : start + (end - start) * i / (steps - 1)).ToArray();
        AlphasCumprod = new double[steps];
        double product = 1;
        for (int t = 0; t < steps; t++) AlphasCumprod[t] = product *= 1 - Betas[t];
        sqrtAlphaBar = AlphasCumprod.Select(Math.Sqrt).ToArray();
        sqrtOneMinus = AlphasCumprod.Select(a => Math.Sqrt(1 - a)).ToArray();
    }

    readonly double[] sqrtAlphaBar, sqrtOneMinus;

    /// <summary>(√ᾱ_t, √(1−ᾱ_t)) at each sample's step, shaped [N, 1, 1, 1] to scale images: computed in
    /// float64 (1 − ᾱ near t = 0 loses most of its digits in float32), then cast to the images' dtype.</summary>
    public (Tensor SqrtAlphaBar, Tensor SqrtOneMinus) Coefficients(Tensor t, Tensor like)
    {
        var steps = t.cpu().to(int64).data<long>().ToArray();
        Tensor Column(double[] table) => torch.tensor(steps.Select(s => table[s]).ToArray(), dtype: float64).to(like.dtype).to(like.device).view(-1, 1, 1, 1);
        return (Column(sqrtAlphaBar), Column(sqrtOneMinus));
    }

    /// <summary>x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε.</summary>
    public Tensor AddNoise(Tensor x0, Tensor t, Tensor noise)
    {
        var (sa, s1a) = Coefficients(t, x0);
        return sa * x0 + s1a * noise;
    }

    /// <summary>The network's training target.</summary>
    public Tensor Target(Prediction target, Tensor x0, Tensor t, Tensor noise)
    {
        if (target == Prediction.Noise) return noise;
        var (sa, s1a) = Coefficients(t, x0);
        return sa * noise - s1a * x0;
    }

    /// <summary>x₀ and ε implied by a prediction at x_t (the inverse of <see cref="Target"/>).</summary>
    public (Tensor X0, Tensor Noise) Decompose(Prediction target, Tensor prediction, Tensor xt, Tensor t)
    {
        var (sa, s1a) = Coefficients(t, xt);
        if (target == Prediction.Noise) return ((xt - s1a * prediction) / sa, prediction);
        // v = √ᾱ ε − √(1−ᾱ) x₀ and x_t = √ᾱ x₀ + √(1−ᾱ) ε give x₀ = √ᾱ x_t − √(1−ᾱ) v, ε = √(1−ᾱ) x_t + √ᾱ v.
        return (sa * xt - s1a * prediction, s1a * xt + sa * prediction);
    }
}
