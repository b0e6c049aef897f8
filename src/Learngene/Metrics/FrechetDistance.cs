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

    /// <summary>The real side of FD-clf, prepared once for many comparisons: its mean, covariance, trace and
    /// the covariance's square root (so each comparison needs one eigendecomposition, not two).</summary>
    public sealed class Reference : IDisposable
    {
        public Tensor Mean { get; }
        public Tensor Covariance { get; }
        internal Tensor Root { get; }
        internal double Trace { get; }

        public Reference(Tensor features)
        {
            using var scope = torch.NewDisposeScope();
            var (mean, covariance) = Statistics(features);
            (Mean, Covariance, Root) = (mean.DetachFromDisposeScope(), covariance.DetachFromDisposeScope(), SquareRoot(covariance).DetachFromDisposeScope());
            Trace = Covariance.trace().item<double>();
        }

        public void Dispose() { Mean.Dispose(); Covariance.Dispose(); Root.Dispose(); }
    }

    /// <summary>FD between features [N, D] (float64), each row counted <paramref name="counts"/>[i] times (a
    /// bootstrap resample; null: once), and a reference: Tr((Σ_r Σ)^½) = Tr((√Σ_r Σ √Σ_r)^½).</summary>
    public static double Against(Reference real, Tensor features, IReadOnlyList<ushort>? counts = null)
    {
        using var scope = torch.NewDisposeScope();
        var f = features.to(float64);
        Tensor mean, covariance;
        if (counts is null) (mean, covariance) = Statistics(f);
        else
        {
            if (counts.Count != f.shape[0]) throw new LearngeneException($"{counts.Count} counts for {f.shape[0]} feature vectors");
            var w = torch.tensor(counts.Select(c => (double)c).ToArray(), dtype: float64);
            double total = w.sum().item<double>();
            if (total < 2) throw new LearngeneException("Fréchet statistics need at least two feature vectors");
            mean = (f * w.unsqueeze(1)).sum([0]) / total;
            var centred = f - mean;
            covariance = (centred * w.unsqueeze(1)).t().matmul(centred) / (total - 1);
        }
        var inner = real.Root.matmul(covariance).matmul(real.Root);
        var (values, _) = torch.linalg.eigh((inner + inner.t()) / 2);
        double traceRoot = values.clamp_min(0).sqrt().sum().item<double>();
        double meanTerm = (mean - real.Mean).pow(2).sum().item<double>();
        return meanTerm + covariance.trace().item<double>() + real.Trace - 2 * traceRoot;
    }

    static Tensor SquareRoot(Tensor symmetric)
    {
        var (values, vectors) = torch.linalg.eigh((symmetric + symmetric.t()) / 2);
        return vectors.matmul(torch.diag(values.clamp_min(0).sqrt())).matmul(vectors.t());
    }
}
