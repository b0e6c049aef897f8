using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Metrics;

/// <summary>The Fréchet distance between two sets of features seen as Gaussians (Heusel et al.'s FID formula):
/// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½), in float64. It takes features from any extractor: the project's
/// classifier gives FD-clf; Inception-v3 pool features, where a user supplies the weights, give FID.</summary>
public static class FrechetDistance
{
    /// <summary>Mean [D] and covariance [D, D] (unbiased) of features [N, D].</summary>
    public static (Tensor Mean, Tensor Covariance) Statistics(Tensor features)
    {
        if (features.dim() != 2 || features.shape[0] < 2) throw new LearngeneException("Fréchet statistics need at least two feature vectors");
        using var scope = torch.NewDisposeScope();
        var f = features.to(float64);
        var mean = f.mean([0]);
        var centred = f - mean;
        var covariance = centred.t().matmul(centred) / (f.shape[0] - 1);
        return (mean.MoveToOuterDisposeScope(), covariance.MoveToOuterDisposeScope());
    }

    public static double Between(Tensor featuresA, Tensor featuresB)
    {
        var (m1, c1) = Statistics(featuresA);
        var (m2, c2) = Statistics(featuresB);
        using (m1) using (c1) using (m2) using (c2) return Between(m1, c1, m2, c2);
    }

    /// <summary>Tr((Σ₁Σ₂)^½) = Tr((√Σ₁ Σ₂ √Σ₁)^½): both matrices symmetric, so symmetric eigendecompositions
    /// suffice (negative eigenvalues from rounding are clipped to 0).</summary>
    public static double Between(Tensor mean1, Tensor cov1, Tensor mean2, Tensor cov2)
    {
        using var scope = torch.NewDisposeScope();
        var root1 = SquareRoot(cov1);
        var inner = root1.matmul(cov2).matmul(root1);
        var (values, _) = torch.linalg.eigh((inner + inner.t()) / 2);
        double traceRoot = values.clamp_min(0).sqrt().sum().item<double>();
        double meanTerm = (mean1 - mean2).pow(2).sum().item<double>();
        return meanTerm + cov1.trace().item<double>() + cov2.trace().item<double>() - 2 * traceRoot;
    }

    static Tensor SquareRoot(Tensor symmetric)
    {
        var (values, vectors) = torch.linalg.eigh((symmetric + symmetric.t()) / 2);
        return vectors.matmul(torch.diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
    }
}
