using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Metrics;

/// <summary>How visible a patch grid is in images: the mean absolute difference between neighbouring pixels
/// across a patch boundary over the mean difference between neighbours inside a patch (rows and columns
/// pooled). Natural images score near 1 (real MNIST digits about 1.2: their strokes are not aligned with any
/// grid); a patch-wise network whose per-token errors differ shows its grid as seams, a ratio well above 1.</summary>
public static class PatchSeams
{
    /// <summary>The ratio for images [N, C, H, W] (NaN when the patch leaves no boundary or no inside, or the
    /// images are flat).</summary>
    public static double Ratio(Tensor images, int patch)
    {
        var (across, inside) = PerImage(images, patch);
        return across.Length == 0 ? double.NaN : across.Average() / inside.Average();
    }

    /// <summary>Each image's mean neighbour difference across patch boundaries and inside patches: the ratio of
    /// their means over any resample of the images is the resample's <see cref="Ratio"/>.</summary>
    public static (double[] Across, double[] Inside) PerImage(Tensor images, int patch)
    {
        if (images.dim() != 4) throw new LearngeneException($"seams are measured on images [N, C, H, W] (got {images.dim()} dimensions)");
        if (patch < 2 || images.shape[0] == 0) return ([], []);
        using var scope = torch.NewDisposeScope();
        var x = images.to(float64);
        Tensor? across = null, inside = null;
        long nAcross = 0, nInside = 0;
        foreach (int dim in new[] { 2, 3 })
        {
            long size = x.shape[dim];
            if (size < 2) continue;
            // Difference j compares pixels j and j + 1: a boundary when j + 1 is a multiple of the patch.
            var diff = (x.narrow(dim, 1, size - 1) - x.narrow(dim, 0, size - 1)).abs().transpose(dim, 3); // [N, C, ·, size − 1]
            var boundary = torch.tensor(Enumerable.Range(0, (int)size - 1).Select(j => (j + 1) % patch == 0).ToArray());
            long perLine = diff.shape[1] * diff.shape[2];
            long b = boundary.sum().item<long>(), i = size - 1 - b;
            var a = diff.index_select(3, boundary.nonzero().squeeze(1)).sum([1, 2, 3]);
            var n = diff.index_select(3, boundary.logical_not().nonzero().squeeze(1)).sum([1, 2, 3]);
            across = across is null ? a : across + a;
            inside = inside is null ? n : inside + n;
            nAcross += b * perLine;
            nInside += i * perLine;
        }
        if (across is null || nAcross == 0 || nInside == 0) return ([], []);
        return ((across / nAcross).data<double>().ToArray(), (inside! / nInside).data<double>().ToArray());
    }
}
