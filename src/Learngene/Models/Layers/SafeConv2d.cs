using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace Learngene.Models.Layers;

/// <summary>A bias-free 2-D convolution whose gradients are right on the CPU. libtorch 2.10's oneDNN (3.7.1)
/// convolutions give wrong values and NaN here for two kinds of call, measured against float64 by
/// <c>learngene bench conv-stress</c> (README, platform notes): its backward-data kernel (the input gradient of
/// padded k×k kernels), and its forward kernel when the input channels are not a multiple of the vector block
/// (16 with AVX-512, 8 with AVX2) and the kernel is large — the shape of a weight gradient computed as a
/// convolution, with the batch as channels and the output gradient as a 28×28 kernel, on a last batch of 24 or
/// an evaluation-sized batch of 100. That second call was the suite's intermittent NaN test loss. So the
/// forward pass is libtorch's convolution (right at every measured shape), the input gradient a forward
/// convolution with the flipped, transposed kernel, and the weight gradient libtorch's own weight-gradient
/// kernel (oneDNN's backward-weights, right at every measured shape), asked for alone. 1×1 kernels are a
/// matrix product over channels. On a GPU the plain convolution
/// runs. The parameter is "weight" [out, in, k, k], as in Conv2d.</summary>
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

    public override Tensor forward(Tensor x) => Convolve(x, weight, stride, padding);

    /// <summary>conv2d(x, w) without bias, with the gradients described above (the plain kernel off the CPU).</summary>
    public static Tensor Convolve(Tensor x, Tensor w, long stride, long padding)
    {
        if (x.device.type != DeviceType.CPU) return nn.functional.conv2d(x, w, strides: [stride, stride], padding: [padding, padding]);
        if (w.shape[2] == 1 && padding == 0)
        {
            if (stride > 1) x = x.slice(2, 0, x.shape[2], stride).slice(3, 0, x.shape[3], stride);
            return torch.einsum("oc,bchw->bohw", w.flatten(1), x);
        }
        return ConvWithSafeBackward.apply(x, w, stride, padding);
    }

    sealed class ConvWithSafeBackward : SingleTensorFunction<ConvWithSafeBackward>
    {
        public override string Name => nameof(ConvWithSafeBackward);

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
            long batch = grad.shape[0], outChannels = grad.shape[1];
            // Weight gradient: libtorch's own weight-gradient kernel (right at every measured shape), asked for alone.
            Tensor gradWeight;
            using (torch.enable_grad())
            {
                var wAlone = w.detach().requires_grad_();
                var y = nn.functional.conv2d(x.detach(), wAlone, strides: [s, s], padding: [p, p]);
                gradWeight = torch.autograd.grad([y], [wAlone], [grad])[0];
            }
            // Input gradient: the stride-s output is the stride-1 output sampled every s pixels, so the gradient goes
            // back on that grid and is convolved with the flipped, transposed kernel.
            if (s > 1)
            {
                long h1 = x.shape[2] + 2 * p - k + 1, w1 = x.shape[3] + 2 * p - k + 1;
                var full = torch.zeros([batch, outChannels, h1, w1], dtype: grad.dtype, device: grad.device);
                full.slice(2, 0, h1, s).slice(3, 0, w1, s).copy_(grad);
                grad = full;
            }
            var gradInput = nn.functional.conv2d(grad, w.flip(2, 3).transpose(0, 1), padding: [k - 1 - p, k - 1 - p]);
            return [gradInput, gradWeight, null!, null!];
        }
    }
}
