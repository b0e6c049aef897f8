using TorchSharp;
using static TorchSharp.torch;

namespace Learngene.Models.Stitching;

/// <summary>The least-squares stitch initialization (SN-Net's; the pool's <c>ls</c> option): with X the front model's
/// features and Y the end model's at the matching block, the affine map that best sends X to Y solves
/// <c>[X, 1] A = Y</c>, A = pinv([X, 1]) Y, computed in float64.</summary>
public static class LeastSquares
{
    /// <summary>A Linear layer's weight [out, in] and bias [out] for features X [n, in] → Y [n, out]
    /// (tokens of every image flattened into rows).</summary>
    public static (Tensor Weight, Tensor Bias) Fit(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        var x64 = x.reshape(-1, x.shape[^1]).to(float64);
        var y64 = y.reshape(-1, y.shape[^1]).to(float64);
        var augmented = torch.cat([x64, torch.ones(x64.shape[0], 1, dtype: float64, device: x.device)], 1);
        var a = torch.linalg.pinv(augmented).matmul(y64); // [in + 1, out]
        long input = x64.shape[1];
        var weight = a.narrow(0, 0, input).t().to(x.dtype).contiguous();
        var bias = a[input].to(x.dtype).contiguous();
        return (weight.MoveToOuterDisposeScope(), bias.MoveToOuterDisposeScope());
    }
}
