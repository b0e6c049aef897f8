using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Learngene.Models.Layers;

/// <summary>A bias-free 2-D convolution computed as unfold (im2col) + matrix product. libtorch 2.10's
/// CPU float32 kernel returns wrong input gradients (and sometimes NaN) for padded k×k convolutions
/// on this machine, while forward and weight gradients are right; this form back-propagates through
/// unfold/matmul, whose gradients are exact. The parameter is "weight" [out, in, k, k], as in Conv2d.</summary>
public sealed class UnfoldConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long kernel, stride, padding;

    public UnfoldConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0) : base(nameof(UnfoldConv2d))
    {
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        weight = nn.Parameter(torch.empty(outChannels, inChannels, kernel, kernel));
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], h = x.shape[2], w = x.shape[3];
        long oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1;
        var cols = nn.functional.unfold(x, kernel, dilation: 1, padding: padding, stride: stride); // [B, C·k·k, L]
        var y = torch.matmul(weight.reshape(weight.shape[0], -1), cols);                          // [B, O, L]
        return y.reshape(b, weight.shape[0], oh, ow);
    }
}
