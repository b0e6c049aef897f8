using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Learngene.Models.Layers;

/// <summary>A bias-free 2-D convolution whose input gradient is right on this machine's libtorch.
/// libtorch 2.10's float32 CPU kernel behind the input gradient of a k×k convolution returns wrong
/// values, and sometimes NaN, here (see the tests), while forward convolutions are right. This module's
/// backward pass is therefore written with forward convolutions only: the input gradient is the output
/// gradient (spread back to stride 1) convolved with the flipped, transposed kernel, and the weight
/// gradient is the padded input convolved with the output gradient, batch and channels swapped.
/// 1×1 kernels are a matrix product over channels. The parameter is "weight" [out, in, k, k], as in Conv2d.</summary>
public sealed class SafeConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long kernel, stride, padding;

    public SafeConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0) : base(nameof(SafeConv2d))
    {
        if (padding < 0 || padding > kernel - 1) throw new ArgumentException($"padding must be in [0, {kernel - 1}]");
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        weight = nn.Parameter(torch.empty(outChannels, inChannels, kernel, kernel));
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor x)
    {
        if (kernel == 1)
        {
            if (stride > 1) x = x.slice(2, 0, x.shape[2], stride).slice(3, 0, x.shape[3], stride);
            return torch.einsum("oc,bchw->bohw", weight.flatten(1), x);
        }
        return ConvWithForwardOnlyBackward.apply(x, weight, stride, padding);
    }

    sealed class ConvWithForwardOnlyBackward : SingleTensorFunction<ConvWithForwardOnlyBackward>
    {
        public override string Name => nameof(ConvWithForwardOnlyBackward);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var (x, w, s, p) = ((Tensor)vars[0], (Tensor)vars[1], (long)vars[2], (long)vars[3]);
            ctx.save_for_backward([x, w]);
            ctx.save_data("stride", s);
            ctx.save_data("padding", p);
            return nn.functional.conv2d(x, w, strides: [s, s], padding: [p, p]);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad)
        {
            var saved = ctx.get_saved_variables();
            var (x, w) = (saved[0], saved[1]);
            long s = (long)ctx.get_data("stride"), p = (long)ctx.get_data("padding"), k = w.shape[2];
            grad = grad.contiguous(); // an expanded gradient (from a sum) makes the convolutions below crawl
            if (s > 1)
            {
                // The stride-s output is the stride-1 output sampled every s pixels: put the gradient back on that grid.
                long h1 = x.shape[2] + 2 * p - k + 1, w1 = x.shape[3] + 2 * p - k + 1;
                var full = torch.zeros([grad.shape[0], grad.shape[1], h1, w1], dtype: grad.dtype, device: grad.device);
                full.slice(2, 0, h1, s).slice(3, 0, w1, s).copy_(grad);
                grad = full;
            }
            var gradInput = nn.functional.conv2d(grad, w.flip(2, 3).transpose(0, 1), padding: [k - 1 - p, k - 1 - p]);
            var padded = p > 0 ? nn.functional.pad(x, [p, p, p, p]) : x;
            var gradWeight = nn.functional.conv2d(padded.transpose(0, 1), grad.transpose(0, 1)).transpose(0, 1);
            return [gradInput, gradWeight, null!, null!];
        }
    }
}
